"""The public hotspot endpoints: suppression, filters, GeoJSON validity, CSV and GeoPackage."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pytest
from shapely.geometry import LinearRing, shape

from streetsafe.models import ReportDescription

from .conftest import STOP_LONLATS

LAYERS = ("cells", "stops", "route-segments")
SECRET = "a secret description that must never be published"


@pytest.fixture
def reports(db_session, transit, add_reports) -> None:
    """Seven reports at stop 0 (one with a description), two at stop 2, six on segment 0."""
    lon, lat = STOP_LONLATS[0]
    add_reports(6, lon, lat, context="at_stop", mode="bus", stop=transit.stop_ref(0))
    add_reports(1, lon, lat, context="at_stop", mode="bus", stop=transit.stop_ref(0),
                categories=["followed"])  # fmt: skip
    lon2, lat2 = STOP_LONLATS[2]
    add_reports(2, lon2, lat2, context="at_stop", mode="bus", stop=transit.stop_ref(2))
    add_reports(6, lon + 0.003, lat, context="on_vehicle", mode="bus",
                segment=transit.segment_ref(0), categories=["overcrowding"])  # fmt: skip
    report_id = db_session.execute(__import__("sqlalchemy").text(
        "SELECT id FROM reports WHERE 'followed' = ANY(categories)")).scalar_one()  # fmt: skip
    db_session.add(ReportDescription(report_id=report_id, body=SECRET))
    db_session.flush()


def test_cells_hide_small_cells_round_and_merge_categories(client, reports) -> None:
    response = client.get("/api/v1/hotspots/cells?res=9&context=at_stop")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    # The two reports at stop 2 are withheld, and nothing says so.
    assert "numberSuppressed" not in body and "X-Suppressed-Features" not in response.headers
    [feature] = body["features"]
    props = feature["properties"]
    # 7 reports: 6 badly_lit and 1 followed. 7 rounds to 5; "followed" (1) is merged, and
    # since 1 is still under K, badly_lit joins it: nothing can be found by subtraction.
    assert props["count"] == 5
    assert props["categories"] == {"other_suppressed": 5}
    assert {"gi_z", "gi_p", "hotspot"} <= set(props)
    assert body["metadata"]["min_published_count"] == 5
    assert body["metadata"]["licence"] == "Open Government Licence v3.0"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("categories=followed", 0),
        ("categories=badly_lit,followed&context=at_stop", 1),
        ("hours=18-6", 2),  # 20:30 UTC is 20:30 GMT in March
        ("hours=6-18", 0),
        ("days=fri", 2),  # 7 March 2025 was a Friday
        ("days=sat,sun", 0),
        ("from=2025-04", 0),
        ("from=2025-03&to=2025-03", 2),
        ("days=weekday", 2),
        ("days=weekend", 0),
        ("bbox=-0.3420,53.7430,-0.3390,53.7450", 1),
        ("bbox=10,10,10.1,10.1", 0),
        ("neighbourhood=HU-TEST", 0),  # the fixture's reports carry no neighbourhood
        ("mode=rail", 0),
    ],
)
def test_cell_filters(client, reports, query: str, expected: int) -> None:
    response = client.get(f"/api/v1/hotspots/cells?res=10&{query}")
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["features"]) == expected


def test_unknown_neighbourhood_and_bad_format_name_the_field(client) -> None:
    response = client.get("/api/v1/hotspots/stops?neighbourhood=NOPE")
    assert response.status_code == 422
    assert response.get_json()["field"] == "neighbourhood"
    response = client.get("/api/v1/hotspots/cells?format=shp")
    assert (response.status_code, response.get_json()["field"]) == (400, "format")
    response = client.get("/api/v1/hotspots/cells?hours=20:15-20:45")
    assert (response.status_code, response.get_json()["field"]) == (400, "hours")


def _check_geometry(geometry: dict) -> None:
    """RFC 7946: lon/lat order, closed rings, counter-clockwise exterior."""
    geom = shape(geometry)
    lon, lat = geom.representative_point().coords[0]
    assert -0.35 < lon < -0.32 and 53.7 < lat < 53.8
    if geometry["type"] == "Polygon":
        exterior = geometry["coordinates"][0]
        assert exterior[0] == exterior[-1]
        assert LinearRing(exterior).is_ccw


def test_every_layer_is_valid_geojson(client, reports) -> None:
    for layer in LAYERS:
        body = client.get(f"/api/v1/hotspots/{layer}").get_json()
        assert body["type"] == "FeatureCollection" and body["features"], layer
        for feature in body["features"]:
            _check_geometry(feature["geometry"])
    [segment] = client.get("/api/v1/hotspots/route-segments").get_json()["features"]
    assert segment["geometry"]["type"] == "LineString"
    assert segment["properties"]["from_stop"] == "Stop 0"
    assert segment["properties"]["categories"] == {"overcrowding": 5}


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("fmt", ["csv", "gpkg"])
def test_downloads_read_back_with_pyogrio(client, reports, tmp_path: Path, layer, fmt) -> None:
    response = client.get(f"/api/v1/hotspots/{layer}?format={fmt}")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f'.{fmt}"' in disposition
    assert json.loads(response.headers["X-Filters"])["res"] == 9
    path = tmp_path / f"layer.{fmt}"
    path.write_bytes(response.data)
    frame = pyogrio.read_dataframe(path)
    geojson = client.get(f"/api/v1/hotspots/{layer}").get_json()["features"]
    expected = {f["id"]: f["properties"]["count"] for f in geojson}
    id_column = {"cells": "cell", "stops": "stop_id", "route-segments": "segment_id"}[layer]
    assert dict(zip(frame[id_column], frame["count"].astype(int), strict=True)) == expected
    assert frame.geometry.notna().all() and frame.geometry.is_valid.all()
    if fmt == "gpkg":
        meta = pyogrio.read_info(path)["dataset_metadata"]
        assert json.loads(meta["min_published_count"]) == 5
        assert "Open Government" in meta["licence"]


def test_no_output_contains_description_text(client, reports) -> None:
    for layer in LAYERS:
        for fmt in ("geojson", "csv", "gpkg"):
            data = client.get(f"/api/v1/hotspots/{layer}?format={fmt}").data
            assert SECRET.encode() not in data


@pytest.mark.parametrize("layer", ["stops", "route-segments"])
def test_an_area_with_too_many_stops_is_a_400_naming_the_bbox(
    client, transit, monkeypatch, layer
) -> None:
    from streetsafe.hotspots import service

    monkeypatch.setattr(service, "MAX_SITES_STOPS", len(STOP_LONLATS) - 1)  # three stops: 2
    refused = client.get(f"/api/v1/hotspots/{layer}")
    assert refused.status_code == 400
    body = refused.get_json()
    assert body["field"] == "bbox"
    assert f"at most {len(STOP_LONLATS) - 1} stops at a time and this area has more" in (
        body["message"]
    )
    monkeypatch.setattr(service, "MAX_SITES_STOPS", len(STOP_LONLATS))  # exactly at the bound
    assert client.get(f"/api/v1/hotspots/{layer}").status_code == 200
