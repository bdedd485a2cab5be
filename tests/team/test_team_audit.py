"""The audit trail records refusals, failed sign-ins, places, decisions and formats, in words."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from streetsafe.team.audit import describe, events

from .conftest import bearer


def _last(db_session) -> sa.Row:
    return db_session.execute(
        sa.text(
            "SELECT t.name AS team, a.action, a.detail FROM audit_events a "
            "LEFT JOIN teams t ON t.id = a.team_id ORDER BY a.id DESC LIMIT 1"
        )
    ).one()


def test_a_call_without_credentials_is_recorded_as_refused(client, world, db_session) -> None:
    assert client.get("/api/v1/team/insights").status_code == 401
    row = _last(db_session)
    assert (row.team, row.action) == (None, "refused")
    assert row.detail["status"] == 401 and row.detail["path"] == "/api/v1/team/insights"


def test_a_bad_bearer_token_is_recorded_as_a_failed_sign_in(client, world, db_session) -> None:
    client.get("/api/v1/team/me", headers=bearer("sst_000000000000_nope"))
    row = _last(db_session)
    assert (row.team, row.action, row.detail["via"]) == (None, "sign_in_failed", "bearer")
    assert "127.0.0.1" not in str(row.detail)


def test_a_wrong_token_in_the_form_is_recorded(client, world, db_session) -> None:
    html = client.get("/team/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    client.post("/team/login", data={"token": "nope", "csrf_token": token})
    row = _last(db_session)
    assert (row.action, row.detail["via"], row.detail["status"]) == ("sign_in_failed", "form", 401)


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/api/v1/team/insights?neighbourhood=HUL-B", 403),
        ("GET", "/api/v1/team/hotspots/stops?neighbourhood=HUL-B", 403),
        ("POST", "/api/v1/team/moderation/{report_b}", 404),
        ("GET", "/api/v1/team/actions/999999/impact", 404),
    ],
)
def test_another_areas_data_is_recorded_as_refused(
    client, world, db_session, method, path, status
) -> None:
    path = path.format(report_b=world.reports_b[0])
    response = client.open(
        path, method=method, json={"decision": "approve"}, headers=bearer(world.token_a)
    )
    assert response.status_code == status
    row = _last(db_session)
    assert (row.team, row.action, row.detail["status"]) == ("Team A", "refused", status)
    assert row.detail["reason"] == response.get_json()["message"]


def test_an_action_is_recorded_with_its_place_and_radius(client, world, db_session) -> None:
    body = {"title": "Lighting check", "started_on": "2026-01-05", "lon": -0.35, "lat": 53.745}
    created = client.post(
        "/api/v1/team/actions", json={**body, "radius_m": 350}, headers=bearer(world.token_a)
    )
    row = _last(db_session)
    assert row.action == "action_created"
    assert {k: row.detail[k] for k in ("lon", "lat", "radius_m", "title")} == {
        "lon": -0.35,
        "lat": 53.745,
        "radius_m": 350,
        "title": "Lighting check",
    }
    assert row.detail["action_id"] == created.get_json()["id"]
    assert describe(row.action, row.detail) == (
        f"recorded action {row.detail['action_id']} 'Lighting check' from 2026-01-05, "
        "within 350 m of lat 53.74500, lon -0.35000"
    )


@pytest.mark.parametrize("decision, words", [("approve", "approved"), ("reject", "rejected")])
def test_each_moderation_decision_is_recorded(client, world, db_session, decision, words) -> None:
    report = world.reports_a[0]
    client.post(
        f"/api/v1/team/moderation/{report}",
        json={"decision": decision},
        headers=bearer(world.token_a),
    )
    row = _last(db_session)
    assert row.action == "moderation_decision"
    assert (row.detail["decision"], row.detail["report_id"]) == (decision, str(report))
    assert describe(row.action, row.detail) == f"{words} the description of report {report}"


@pytest.mark.parametrize(
    "path, fmt, words",
    [
        ("/api/v1/team/hotspots/stops?format=csv", "csv", "downloaded hotspot stops as CSV"),
        (
            "/api/v1/team/hotspots/cells?format=gpkg&res=9",
            "gpkg",
            "downloaded hotspot cells as GeoPackage",
        ),
        (
            "/api/v1/team/reports?format=geojson",
            "geojson",
            "downloaded individual reports as GeoJSON",
        ),
        ("/api/v1/team/reports", "geojson", "viewed the latest individual reports"),
        ("/api/v1/team/hotspots/cells", "geojson", "viewed hotspot cells on the map"),
    ],
)
def test_each_download_records_its_format(client, world, db_session, path, fmt, words) -> None:
    assert client.get(path, headers=bearer(world.token_a)).status_code == 200
    row = _last(db_session)
    assert row.detail["format"] == fmt
    assert describe(row.action, row.detail).startswith(words)


def test_the_trail_reads_in_words(client, world, db_session) -> None:
    client.get("/api/v1/team/insights?days=14", headers=bearer(world.token_a))
    client.get("/api/v1/team/insights?neighbourhood=HUL-B", headers=bearer(world.token_a))
    trail = client.get("/api/v1/team/audit", headers=bearer(world.token_a)).get_json()["events"]
    summaries = [event["summary"] for event in trail]
    assert summaries[:2] == [
        "refused access to insights (403): neighbourhood 'HUL-B' is not one of this team's",
        "viewed insights (filters: days=14)",
    ]
    every = events(db_session, since=None)
    assert all(event["summary"] and "_" not in event["summary"].split()[0] for event in every)


def test_the_dashboard_shows_the_summary() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = (root / "streetsafe/team/static/dashboard.js").read_text()
    assert "event.summary" in script and "event.action}" not in script
