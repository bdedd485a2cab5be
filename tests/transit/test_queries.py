"""Transit endpoints on a small hand-made network: nearby stops, route search, route detail."""

from __future__ import annotations

import pytest

from tests.transit_fixture import LAT, make_small_feed


@pytest.fixture
def small_feed(db_session):
    return make_small_feed(db_session)


def test_nearby_stops_are_ordered_by_geodesic_distance(client, small_feed):
    # 0.001 degrees of longitude east of Bravo at 50.9N is about 70.2 m.
    response = client.get(f"/api/v1/transit/stops/nearby?lat={LAT}&lon=-1.389&radius_m=1000")
    assert response.status_code == 200
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    names = [f["properties"]["name"] for f in body["features"]]
    assert names == ["Bravo", "Charlie", "Alpha"]
    first = body["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [-1.39, LAT]}
    assert first["properties"]["distance_m"] == pytest.approx(70.3, abs=0.3)
    assert first["properties"]["routes"] == ["7"]
    assert first["properties"]["mode"] == "bus"  # from the route serving it


def test_nearby_stops_respect_radius_limit_and_mode(client, small_feed):
    url = f"/api/v1/transit/stops/nearby?lat={LAT}&lon=-1.389"
    assert len(client.get(url + "&radius_m=100").get_json()["features"]) == 1
    assert len(client.get(url + "&radius_m=2000&limit=2").get_json()["features"]) == 2
    trams = client.get("/api/v1/transit/stops/nearby?lat=50.9&lon=-1.30&mode=tram&radius_m=2000")
    assert {f["id"] for f in trams.get_json()["features"]} == {"test:N", "test:S"}
    buses = client.get("/api/v1/transit/stops/nearby?lat=50.9&lon=-1.30&mode=bus&radius_m=2000")
    assert buses.get_json()["features"] == []


def test_a_vanishingly_small_radius_finds_nothing_instead_of_failing(client, small_feed):
    # Found by the fuzzer: a denormal radius made the index box's arithmetic underflow (500).
    response = client.get("/api/v1/transit/stops/nearby?lat=46.8&lon=-1.2e-38&radius_m=5e-324")
    assert response.status_code == 200 and response.get_json()["features"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("lat=91&lon=0", "lat"),
        ("lat=50&lon=-181", "lon"),
        ("lat=nan&lon=0", "lat"),
        ("lat=50&lon=inf", "lon"),
        ("lon=0", "lat"),
        ("lat=50&lon=0&radius_m=2001", "radius_m"),
        ("lat=50&lon=0&radius_m=0", "radius_m"),
        ("lat=50&lon=0&limit=51", "limit"),
        ("lat=50&lon=0&limit=x", "limit"),
        ("lat=50&lon=0&mode=rocket", "mode"),
        ("lat=50&lon=0&colour=red", "colour"),
    ],
)
def test_nearby_stops_reject_bad_queries_naming_the_field(client, query, field):
    response = client.get(f"/api/v1/transit/stops/nearby?{query}")
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_route_search_matches_prefix_of_short_or_long_name(client, small_feed):
    assert [r["id"] for r in client.get("/api/v1/transit/routes?q=7").get_json()] == ["test:R7"]
    assert [r["id"] for r in client.get("/api/v1/transit/routes?q=alph").get_json()] == [
        "test:R7"
    ]
    assert client.get("/api/v1/transit/routes?q=%25").get_json() == []  # % is literal
    tram = client.get("/api/v1/transit/routes?mode=tram").get_json()
    assert tram == [
        {"id": "test:T1", "short_name": "T1", "long_name": "Tramway", "mode": "tram",
         "feed": "test", "distance_m": None}
    ]


def test_route_search_orders_by_distance_when_near_is_given(client, small_feed):
    near_tram = client.get("/api/v1/transit/routes?near_lat=50.9&near_lon=-1.301").get_json()
    assert [r["id"] for r in near_tram] == ["test:T1", "test:R7"]
    assert near_tram[0]["distance_m"] == pytest.approx(70.3, abs=0.5)
    near_bus = client.get("/api/v1/transit/routes?near_lat=50.9&near_lon=-1.39").get_json()
    assert [r["id"] for r in near_bus] == ["test:R7", "test:T1"]


def test_route_search_needs_both_near_coordinates(client):
    response = client.get("/api/v1/transit/routes?near_lat=50.9")
    assert response.status_code == 400
    assert "near_lon" in response.get_json()["message"]


def test_route_detail_has_shapes_and_ordered_stops(client, small_feed):
    body = client.get("/api/v1/transit/routes/test:R7").get_json()
    assert body["route"]["short_name"] == "7"
    shapes = [f for f in body["features"] if f["properties"]["kind"] == "shape"]
    stops = [f for f in body["features"] if f["properties"]["kind"] == "stop"]
    assert [s["properties"]["direction"] for s in shapes] == [0, 1]
    assert shapes[0]["geometry"]["type"] == "LineString"
    assert shapes[0]["properties"]["length_m"] == pytest.approx(1406, rel=0.01)
    outbound = [s["properties"]["name"] for s in stops if s["properties"]["direction"] == 0]
    assert outbound == ["Alpha", "Bravo", "Charlie"]


def test_unknown_route_is_404_naming_route_id(client, small_feed):
    response = client.get("/api/v1/transit/routes/test:nope")
    assert response.status_code == 404
    assert response.get_json()["field"] == "route_id"


# Stops on both sides of the antimeridian, near the north pole and near Southampton: the
# geometry-index box prefilter (transit/near.py) must keep every stop the geodesic test keeps.
EDGE_STOPS = {
    "east": (179.9995, -16.5), "west": (-179.9995, -16.5), "pole-a": (0.0, 89.95),
    "pole-b": (180.0, 89.95), "pole-c": (-90.0, 89.999), "sot": (-1.404, 50.9),
    "sot-far": (-1.404, 50.93),
}


@pytest.fixture
def edge_stops(db_session):
    import sqlalchemy as sa

    feed_id = db_session.scalar(sa.text(
        "INSERT INTO feeds (name, kind) VALUES ('edge', 'gtfs') RETURNING id"))  # fmt: skip
    for name, (lon, lat) in EDGE_STOPS.items():
        db_session.execute(
            sa.text(
                "INSERT INTO stops (feed_id, public_id, source_id, name, geom) VALUES "
                "(:f, :p, :s, :n, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
            ),
            {"f": feed_id, "p": f"edge:{name}", "s": name, "n": name, "lon": lon, "lat": lat},
        )
    return feed_id


@pytest.mark.parametrize(
    "lon, lat, radius_m",
    [(180.0, -16.5, 200), (-179.9999, -16.5, 120), (179.99, -16.5, 2000), (45.0, 89.99, 2000),
     (-135.0, 89.98, 5000), (0.0, 90.0, 2000), (-1.404, 50.91, 2000), (-1.404, 50.91, 1200)],
)  # fmt: skip
def test_stops_near_the_antimeridian_and_poles_are_found_as_the_geodesic_test_finds_them(
    db_session, edge_stops, lon, lat, radius_m
):
    import sqlalchemy as sa

    from streetsafe.reports.snapping import nearest_stop
    from streetsafe.transit.queries import nearby_stops

    point = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography"
    expected = db_session.execute(
        sa.text(
            f"SELECT public_id, ST_Distance(geom::geography, {point}) AS d FROM stops "
            f"WHERE feed_id = :f AND ST_DWithin(geom::geography, {point}, :r) ORDER BY d, id"
        ),
        {"lon": lon, "lat": lat, "r": radius_m, "f": edge_stops},
    ).all()
    assert expected  # every case has at least one stop in range
    found = nearby_stops(db_session, lon, lat, radius_m, limit=50)
    assert [s.id for s in found] == [row.public_id for row in expected]
    nearest = nearest_stop(db_session, lon, lat, radius_m)
    assert nearest is not None and nearest.public_id == expected[0].public_id
    assert nearest.distance_m == pytest.approx(expected[0].d, abs=1e-6)
