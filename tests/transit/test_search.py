"""Finding stops and routes without the map: by name words, locality, ATCO code or stop code."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.transit_fixture import make_small_feed


@pytest.fixture
def small_feed(db_session):
    return make_small_feed(db_session)


def _route_names(client, query: str) -> list[str]:
    return [r["long_name"] for r in client.get(f"/api/v1/transit/routes?{query}").get_json()]


@pytest.mark.parametrize(
    "q, expected",
    [
        ("Hessle", "Hull - Hessle local rail"),
        ("spring bank", "Paragon Interchange - Spring Bank - Princes Avenue"),
        ("Circular", "City Centre Circular"),
        ("circ", "City Centre Circular"),
        ("3", "City Centre Circular"),
    ],
)
def test_route_search_matches_the_start_of_any_word_of_the_name(client, demo_feed, q, expected):
    assert expected in _route_names(client, f"q={q}")


def test_route_search_does_not_match_inside_a_word(client, demo_feed):
    # "ssle" is inside "Hessle", not the start of a word.
    assert _route_names(client, "q=ssle") == []


def test_route_search_puts_the_exact_number_first(client, small_feed):
    ids = [r["id"] for r in client.get("/api/v1/transit/routes?q=7").get_json()]
    assert ids == ["test:R7"]
    ids = [r["id"] for r in client.get("/api/v1/transit/routes?q=charlie").get_json()]
    assert ids == ["test:R7"]  # the second word of "Alpha - Charlie"


def _stop_ids(client, query: str) -> list[str]:
    body = client.get(f"/api/v1/transit/stops?{query}").get_json()
    return [f["id"] for f in body["features"]]


def test_stop_search_finds_by_word_locality_and_codes(client, db_session, small_feed):
    db_session.execute(
        sa.text(
            "UPDATE stops SET locality = 'Portswood', code = 'soadgpa' "
            "WHERE public_id = 'test:B'"
        )
    )
    near = "&near_lat=50.9&near_lon=-1.35"
    assert _stop_ids(client, "q=brav") == ["test:B"]  # the start of its name, anywhere
    assert _stop_ids(client, "q=SOADGPA") == ["test:B"]  # the code on the stop, any case
    assert _stop_ids(client, "q=b") == ["test:B"]  # its source id, and its name
    assert _stop_ids(client, "q=portswood") == []  # a locality word: only near a point
    assert _stop_ids(client, "q=portswood" + near) == ["test:B"]
    assert sorted(_stop_ids(client, "q=tram" + near)) == ["test:N", "test:S"]
    assert _stop_ids(client, "q=tram&mode=bus" + near) == []
    assert _stop_ids(client, "q=ram" + near) == []  # inside a word


def test_words_inside_names_match_only_within_the_near_radius(client, small_feed):
    # Charlie is at -1.38, 50.9; 0.5 degrees of latitude north is about 55.6 km away.
    assert _stop_ids(client, "q=tram&near_lat=50.9&near_lon=-1.38") == ["test:N", "test:S"]
    assert _stop_ids(client, "q=tram&near_lat=51.4&near_lon=-1.38") == []


def test_stop_search_answers_with_the_stop_its_routes_and_distance(client, small_feed):
    body = client.get("/api/v1/transit/stops?q=tram&near_lat=50.91&near_lon=-1.30").get_json()
    first = body["features"][0]
    assert first["id"] == "test:N"  # nearer the point
    assert first["geometry"] == {"type": "Point", "coordinates": [-1.30, 50.91]}
    props = first["properties"]
    assert props["name"] == "North Tram" and props["mode"] == "tram"
    assert props["routes"] == ["T1"]
    assert props["distance_m"] == pytest.approx(0, abs=0.5)
    far = body["features"][1]["properties"]["distance_m"]
    assert far == pytest.approx(2224, abs=5)  # 0.02 degrees of latitude


def test_stop_search_finds_a_stop_by_its_atco_code_under_its_place(client, db_session):
    # A GTFS feed and NaPTAN both know 1800SB12345: one place, NaPTAN's name, found once.
    db_session.execute(
        sa.text("""
        INSERT INTO feeds (name, kind) VALUES ('naptan', 'naptan'), ('city', 'gtfs');
        INSERT INTO stops (feed_id, public_id, source_id, name, locality, code, mode, geom)
        SELECT f.id, f.name || '\\:1800SB12345', '1800SB12345',
               CASE f.kind WHEN 'naptan' THEN 'Piccadilly Gardens' ELSE 'Picc Gdns' END,
               CASE f.kind WHEN 'naptan' THEN 'Manchester' END,
               CASE f.kind WHEN 'naptan' THEN 'mcrdjaw' END, 'bus',
               ST_SetSRID(ST_MakePoint(-2.237, 53.481), 4326)
        FROM feeds f WHERE f.name IN ('naptan', 'city');
        UPDATE stops SET place_public_id = 'naptan:1800SB12345'
         WHERE public_id = 'city:1800SB12345';
        """)
    )
    for q in ("1800sb12345", "mcrdjaw", "piccadilly gardens", "picc", "gardens manchester"):
        near = "&near_lat=53.48&near_lon=-2.24" if q == "gardens manchester" else ""
        body = client.get(f"/api/v1/transit/stops?q={q}{near}").get_json()
        assert [f["id"] for f in body["features"]] == ["naptan:1800SB12345"], q
        props = body["features"][0]["properties"]
        assert props["name"] == "Piccadilly Gardens" and props["atco_code"] == "1800SB12345"
        assert props["code"] == "mcrdjaw"


@pytest.mark.parametrize(
    "query, field",
    [
        ("", "q"),
        ("q=", "q"),
        ("q=" + "a" * 65, "q"),
        ("q=x&limit=0", "limit"),
        ("q=x&limit=51", "limit"),
        ("q=x&mode=rocket", "mode"),
        ("q=x&near_lat=91&near_lon=0", "near_lat"),
        ("q=x&colour=red", "colour"),
    ],
)
def test_stop_search_rejects_bad_queries_naming_the_field(client, query, field):
    response = client.get(f"/api/v1/transit/stops?{query}")
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_stop_search_needs_both_near_coordinates(client):
    response = client.get("/api/v1/transit/stops?q=x&near_lat=50.9")
    assert response.status_code == 400
    assert "near_lon" in response.get_json()["message"]


def test_stop_search_treats_punctuation_and_sql_as_plain_text(client, small_feed):
    for q in ("%25", "'; DROP TABLE stops; --", "(", "\\m", ".*"):
        response = client.get("/api/v1/transit/stops", query_string={"q": q})
        assert response.status_code == 200, q
        assert response.get_json()["features"] == [], q


def _first_active_with_a_sign_code(path) -> dict[str, str]:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Status"].strip().lower() == "active" and row["NaptanCode"].strip():
                return row
    raise AssertionError(f"no active stop with a NaptanCode in {path}")


@pytest.mark.parametrize("path_kind", ["columns", "rows"])
def test_naptan_sign_codes_are_imported_and_found(
    client, connection, shared_geodata, tmp_path, path_kind
):
    from streetsafe.transit.naptan import import_naptan

    source = shared_geodata / "naptan" / "humberside" / "229Stops.csv"
    if path_kind == "rows":  # a quote inside a field sends the file down the row path
        spoilt = tmp_path / "229Stops.csv"
        spoilt.write_bytes(source.read_bytes().replace(b"Paragon", b'Para"gon', 1))
        source = spoilt
    import_naptan(connection, [source], feed="naptan")
    row = _first_active_with_a_sign_code(source)
    stored = connection.scalar(
        sa.text("SELECT code FROM stops WHERE public_id = :id"),
        {"id": "naptan:" + row["ATCOCode"].strip()},
    )
    assert stored == row["NaptanCode"].strip()
    body = client.get(f"/api/v1/transit/stops?q={row['NaptanCode'].strip().lower()}").get_json()
    assert body["features"][0]["id"] == "naptan:" + row["ATCOCode"].strip()
    assert body["features"][0]["properties"]["code"] == stored
