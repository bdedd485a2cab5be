"""Team hotspot layers and report downloads: exact counts, own area only, every format."""

from __future__ import annotations

import json

import pyogrio
import pytest

from .conftest import bearer


def test_team_sees_exact_counts_that_the_public_suppresses(client, world) -> None:
    team = client.get("/api/v1/team/hotspots/cells?res=9", headers=bearer(world.token_a))
    assert team.status_code == 200
    features = team.get_json()["features"]
    assert [f["properties"]["count"] for f in features] == [4]
    assert "gi_z" in features[0]["properties"]
    public = client.get("/api/v1/hotspots/cells?res=9").get_json()
    assert public["features"] == [] and "numberSuppressed" not in public


def test_team_layers_cover_only_their_own_neighbourhoods(client, world) -> None:
    b = client.get("/api/v1/team/hotspots/cells?res=9", headers=bearer(world.token_b)).get_json()
    assert [f["properties"]["count"] for f in b["features"]] == [1]
    refused = client.get(
        "/api/v1/team/hotspots/cells?neighbourhood=HUL-B", headers=bearer(world.token_a)
    )
    assert refused.status_code == 403 and refused.get_json()["field"] == "neighbourhood"


def test_filters_apply_to_team_layers(client, world) -> None:
    body = client.get(
        "/api/v1/team/hotspots/cells?res=9&context=at_stop,on_vehicle",
        headers=bearer(world.token_a),
    ).get_json()
    assert [f["properties"]["count"] for f in body["features"]] == [2]


def test_reports_download_shows_only_approved_description_text(client, world) -> None:
    def texts() -> list:
        body = client.get("/api/v1/team/reports", headers=bearer(world.token_a)).get_json()
        assert len(body["features"]) == 4
        return [f["properties"]["description"] for f in body["features"]]

    assert all(text is None for text in texts())
    client.post(
        f"/api/v1/team/moderation/{world.reports_a[0]}",
        json={"decision": "approve"},
        headers=bearer(world.token_a),
    )
    shown = [text for text in texts() if text]
    assert len(shown) == 1 and "[vehicle registration]" in shown[0] and "AB12" not in shown[0]


@pytest.mark.parametrize("path", ["/api/v1/team/reports", "/api/v1/team/hotspots/stops"])
@pytest.mark.parametrize("fmt", ["csv", "gpkg"])
def test_downloads_read_back_with_pyogrio(client, world, tmp_path, path, fmt) -> None:
    response = client.get(f"{path}?format={fmt}", headers=bearer(world.token_a))
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    saved = tmp_path / f"download.{fmt}"
    saved.write_bytes(response.data)
    options = {"GEOM_POSSIBLE_NAMES": "WKT", "KEEP_GEOM_COLUMNS": "NO"} if fmt == "csv" else {}
    frame = pyogrio.read_dataframe(saved, **options)
    assert frame.crs is None or frame.crs.to_epsg() == 4326
    if path.endswith("reports"):
        assert len(frame) == 4
        assert set(frame.geometry.geom_type) == {"Point"}


def test_reports_geojson_is_valid_points_in_lon_lat(client, world) -> None:
    body = client.get("/api/v1/team/reports", headers=bearer(world.token_a)).get_json()
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert feature["geometry"]["type"] == "Point"
        assert -0.36 < lon < -0.34 and 53.74 < lat < 53.75
    assert json.dumps(body)  # serialisable as is


@pytest.mark.parametrize(
    "query, field",
    [("format=shp", "format"), ("res=3", "res"), ("hours=7-7", "hours"), ("days=funday", "days")],
)
def test_bad_team_filters_are_400(client, world, query, field) -> None:
    response = client.get(f"/api/v1/team/hotspots/cells?{query}", headers=bearer(world.token_a))
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_downloads_are_audited(client, world, db_session) -> None:
    import sqlalchemy as sa

    client.get("/api/v1/team/reports?format=csv", headers=bearer(world.token_a))
    detail = db_session.scalar(
        sa.text("SELECT detail FROM audit_events WHERE action = 'reports' ORDER BY id DESC")
    )
    assert detail["filters"] == {"format": ["csv"]}
