"""POST /api/v1/reports: snapping for each context, cells, neighbourhood, receipt, privacy."""

from __future__ import annotations

import re

import h3
import pytest
import sqlalchemy as sa
from pyproj import Geod

from tests.transit_fixture import LAT

_GEOD = Geod(ellps="WGS84")


def geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """An independent geodesic distance (pyproj) to check PostGIS against."""
    return _GEOD.inv(lon1, lat1, lon2, lat2)[2]


def post(client, body, **kwargs):
    response = client.post("/api/v1/reports", json=body, **kwargs)
    assert response.status_code == 201, response.get_json()
    return response


def stored(connection, report_id):
    return connection.execute(
        sa.text("SELECT *, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM reports WHERE id = :id"),
        {"id": report_id},
    ).one()


def test_street_report_keeps_its_point_and_records_a_stop_within_50_m(
    client, small_feed, connection
):
    body = {"context": "street", "location": {"lat": LAT, "lon": -1.3905},
            "categories": ["badly_lit", "followed"]}
    receipt = post(client, body).get_json()
    assert receipt["snapped"]["point"] == {"lat": LAT, "lon": -1.3905}
    stop = receipt["snapped"]["stop"]
    assert (stop["id"], stop["name"]) == ("test:B", "Bravo")
    assert stop["distance_m"] == pytest.approx(geodesic_m(-1.3905, LAT, -1.39, LAT), abs=0.05)
    assert receipt["snapped"]["route"] is None
    row = stored(connection, receipt["id"])
    assert (row.lon, row.lat) == (-1.3905, LAT)
    assert row.stop_public_id == "test:B" and row.categories == ["badly_lit", "followed"]
    far = post(client, {**body, "location": {"lat": LAT, "lon": -1.3950}}).get_json()
    assert far["snapped"]["stop"] is None  # 351 m from any stop


def test_at_stop_snaps_to_the_nearest_stop_within_150_m(client, small_feed, connection):
    body = {"context": "at_stop", "location": {"lat": LAT + 0.001, "lon": -1.3801},
            "categories": ["no_staff"]}
    receipt = post(client, body).get_json()
    assert receipt["snapped"]["point"] == {"lat": LAT, "lon": -1.38}
    assert receipt["snapped"]["stop"]["id"] == "test:C"
    expected = geodesic_m(-1.3801, LAT + 0.001, -1.38, LAT)
    assert receipt["snapped"]["stop"]["distance_m"] == pytest.approx(expected, abs=0.05)
    assert stored(connection, receipt["id"]).mode == "bus"


def test_at_stop_with_a_stop_id_needs_no_location(client, small_feed, connection):
    body = {"context": "at_stop", "transit": {"stop_id": "test:N"}, "categories": ["isolated"]}
    receipt = post(client, body).get_json()
    assert receipt["snapped"]["point"] == {"lat": 50.91, "lon": -1.30}
    assert receipt["snapped"]["stop"] == {"id": "test:N", "name": "North Tram", "distance_m": None}
    assert stored(connection, receipt["id"]).mode == "tram"


def test_on_vehicle_with_a_route_snaps_onto_it_between_two_stops(client, small_feed, connection):
    body = {"context": "on_vehicle", "location": {"lat": LAT + 0.002, "lon": -1.3950},
            "categories": ["verbal_harassment_group"], "transit": {"route_id": "test:R7"}}
    receipt = post(client, body).get_json()
    route = receipt["snapped"]["route"]
    assert receipt["snapped"]["point"]["lat"] == pytest.approx(LAT)
    assert receipt["snapped"]["point"]["lon"] == pytest.approx(-1.395)
    assert route["id"] == "test:R7" and route["short_name"] == "7"
    assert route["between"] == ["Alpha", "Bravo"]
    assert route["along_m"] == pytest.approx(351.6, abs=1)
    assert route["distance_m"] == pytest.approx(222.4, abs=1)
    row = stored(connection, receipt["id"])
    assert (row.segment_from_public_id, row.segment_to_public_id) == ("test:A", "test:B")
    assert row.route_direction == 0 and row.mode == "bus"


def test_on_vehicle_without_a_route_takes_the_nearest_of_the_mode_within_100_m(
    client, small_feed
):
    body = {"context": "on_vehicle", "location": {"lat": 50.9012, "lon": -1.3009},
            "categories": ["overcrowding"], "transit": {"mode": "tram"}}
    route = post(client, body).get_json()["snapped"]["route"]
    assert route["id"] == "test:T1"
    assert route["between"] == ["North Tram", "South Tram"]
    assert route["distance_m"] == pytest.approx(63.2, abs=0.5)


def test_cells_are_stored_at_every_configured_resolution(client, small_feed, connection):
    body = {"context": "street", "location": {"lat": 50.9001, "lon": -1.3999},
            "categories": ["rundown"]}
    receipt = post(client, body).get_json()
    expected = {str(res): h3.latlng_to_cell(50.9001, -1.3999, res) for res in (7, 8, 9, 10)}
    assert receipt["cells"] == expected
    rows = connection.execute(
        sa.text("SELECT res, cell FROM report_cells WHERE report_id = :id ORDER BY res"),
        {"id": receipt["id"]},
    ).all()
    assert {str(res): h3.int_to_str(cell) for res, cell in rows} == expected


def test_neighbourhood_is_the_smallest_covering_polygon(client, small_feed, connection):
    feed = small_feed
    inner = post(client, {"context": "street", "location": {"lat": LAT, "lon": -1.40},
                          "categories": ["other"]}).get_json()
    outer = post(client, {"context": "street", "location": {"lat": LAT, "lon": -1.38},
                          "categories": ["other"]}).get_json()
    outside = post(client, {"context": "street", "location": {"lat": 10.0, "lon": 10.0},
                            "categories": ["other"]}).get_json()
    assert stored(connection, inner["id"]).neighbourhood_id == feed.neighbourhoods["alpha"].id
    assert stored(connection, outer["id"]).neighbourhood_id == feed.neighbourhoods["west"].id
    assert stored(connection, outside["id"]).neighbourhood_id is None


def test_receipt_location_serves_the_receipt_without_the_description(client, small_feed):
    secret = "the man in the green coat near the chemist"
    body = {"context": "street", "location": {"lat": LAT, "lon": -1.39},
            "categories": ["followed"], "description": secret,
            "occurred_at": "2026-11-27T22:30:00+00:00"}
    response = post(client, body)
    receipt = response.get_json()
    assert response.headers["Location"] == f"/api/v1/reports/{receipt['id']}"
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{5}",
                        receipt["receipt_code"])
    again = client.get(response.headers["Location"])
    assert again.status_code == 200
    assert again.get_json() == receipt
    for r in (response, again):
        assert secret not in r.get_data(as_text=True)
        assert "description" not in r.get_json()
        assert "Set-Cookie" not in r.headers
    assert client.get("/api/v1/reports/not-a-uuid").status_code == 404
    missing = client.get("/api/v1/reports/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and missing.get_json()["field"] == "report_id"


def test_description_is_stored_apart_as_pending(client, small_feed, connection):
    body = {"context": "street", "location": {"lat": LAT, "lon": -1.39},
            "categories": ["followed"], "description": "dark underpass"}
    report_id = post(client, body).get_json()["id"]
    row = connection.execute(
        sa.text("SELECT body, status FROM report_descriptions WHERE report_id = :id"),
        {"id": report_id},
    ).one()
    assert tuple(row) == ("dark underpass", "pending")
