"""The team API: authentication, scoping to the team's own area, moderation, actions, audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from streetsafe.team.service import revoke_team

from .conftest import bearer, count

ENDPOINTS = [
    ("GET", "/api/v1/team/me"),
    ("GET", "/api/v1/team/insights"),
    ("GET", "/api/v1/team/neighbourhoods"),
    ("GET", "/api/v1/team/actions"),
    ("GET", "/api/v1/team/moderation"),
    ("GET", "/api/v1/team/audit"),
    ("POST", "/api/v1/team/actions"),
]


@pytest.mark.parametrize("method, path", ENDPOINTS)
def test_no_token_is_401(client, world, method, path) -> None:
    response = client.open(path, method=method, json={})
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize("method, path", ENDPOINTS)
@pytest.mark.parametrize(
    "token", ["nonsense", "sst_000000000000_wrongsecret", "Bearer", "sst_abc_def"]
)
def test_wrong_token_is_401(client, world, method, path, token) -> None:
    response = client.open(path, method=method, json={}, headers=bearer(token))
    assert response.status_code == 401


def test_tampered_secret_of_a_real_lookup_is_401(client, world) -> None:
    tampered = world.token_a[:-4] + ("AAAA" if not world.token_a.endswith("AAAA") else "BBBB")
    assert client.get("/api/v1/team/me", headers=bearer(tampered)).status_code == 401


@pytest.mark.parametrize("method, path", ENDPOINTS)
def test_revoked_token_is_401(client, world, db_session, method, path) -> None:
    assert client.get("/api/v1/team/me", headers=bearer(world.token_a)).status_code == 200
    revoke_team(db_session, "Team A")
    db_session.commit()
    response = client.open(path, method=method, json={}, headers=bearer(world.token_a))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path",
    ["/api/v1/team/insights?neighbourhood=HUL-B", "/api/v1/team/insights?neighbourhood=NOPE"],
)
def test_another_teams_area_is_403(client, world, path) -> None:
    response = client.get(path, headers=bearer(world.token_a))
    assert response.status_code == 403
    assert response.get_json()["field"] == "neighbourhood"


def test_me_lists_only_the_teams_neighbourhoods(client, world) -> None:
    body = client.get("/api/v1/team/me", headers=bearer(world.token_a)).get_json()
    assert body == {"team": "Team A", "neighbourhoods": ["HUL-A"]}


def test_neighbourhoods_are_geojson_of_own_area(client, world) -> None:
    body = client.get("/api/v1/team/neighbourhoods", headers=bearer(world.token_b)).get_json()
    assert [f["properties"]["code"] for f in body["features"]] == ["HUL-B"]
    assert body["features"][0]["geometry"]["type"] == "MultiPolygon"


def test_insights_count_own_reports_only(client, world) -> None:
    body = client.get("/api/v1/team/insights", headers=bearer(world.token_a)).get_json()
    assert body["summary"]["count"] == 4
    assert body["summary"]["transport_share"] == 0.5
    assert len(body["trend"]) == 52
    assert sum(week["count"] for week in body["trend"]) == 4
    assert body["categories"] == {"badly_lit": 4}
    other = client.get("/api/v1/team/insights", headers=bearer(world.token_b)).get_json()
    assert other["summary"]["count"] == 1


def test_moderation_shows_scrubbed_text_of_own_area_and_approves(client, world, db_session) -> None:
    queue = client.get("/api/v1/team/moderation", headers=bearer(world.token_a)).get_json()["items"]
    assert len(queue) == 1
    text = queue[0]["text"]
    assert "AB12" not in text and "900123" not in text
    assert "[vehicle registration]" in text and "[phone]" in text
    report_id = queue[0]["report_id"]
    decided = client.post(
        f"/api/v1/team/moderation/{report_id}",
        json={"decision": "approve"},
        headers=bearer(world.token_a),
    )
    assert decided.status_code == 200 and decided.get_json()["status"] == "approved"
    approved = client.get(
        "/api/v1/team/moderation?status=approved", headers=bearer(world.token_a)
    ).get_json()["items"]
    assert [item["report_id"] for item in approved] == [report_id]
    assert (
        client.get("/api/v1/team/moderation", headers=bearer(world.token_a)).get_json()["items"]
        == []
    )


def test_moderating_another_teams_report_is_404_and_changes_nothing(
    client, world, db_session
) -> None:
    response = client.post(
        f"/api/v1/team/moderation/{world.reports_b[0]}",
        json={"decision": "approve"},
        headers=bearer(world.token_a),
    )
    assert response.status_code == 404
    status = db_session.scalar(
        sa.text("SELECT status FROM report_descriptions WHERE report_id = :id"),
        {"id": world.reports_b[0]},
    )
    assert status == "pending"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"decision": "maybe"}, "decision"),
        ({}, "decision"),
        ({"decision": "approve", "extra": 1}, "extra"),
    ],
)
def test_bad_moderation_decision_is_400_naming_the_field(client, world, body, field) -> None:
    response = client.post(
        f"/api/v1/team/moderation/{world.reports_a[0]}", json=body, headers=bearer(world.token_a)
    )
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_action_records_and_shows_before_and_after(client, world, db_session) -> None:
    start = date.today() - timedelta(days=2)
    created = client.post(
        "/api/v1/team/actions",
        json={
            "title": "Extra patrols",
            "started_on": start.isoformat(),
            "lon": -0.35,
            "lat": 53.745,
        },
        headers=bearer(world.token_a),
    )
    assert created.status_code == 201
    action_id = created.get_json()["id"]
    impact = client.get(
        f"/api/v1/team/actions/{action_id}/impact", headers=bearer(world.token_a)
    ).get_json()
    # Reports 0, 1 and 2 days ago fall after the start (week 0); 3 days ago falls before it.
    assert sum(impact["weeks_after"]) == 3
    assert sum(impact["weeks_before"]) == 1
    assert (
        client.get(
            f"/api/v1/team/actions/{action_id}/impact", headers=bearer(world.token_b)
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": "Patrols", "started_on": "2026-01-01", "lon": 10.0, "lat": 50.0}, "location"),
        (
            {"title": "Patrols", "started_on": "not a date", "lon": -0.35, "lat": 53.745},
            "started_on",
        ),
        ({"title": "Patrols", "started_on": "2026-01-01", "lon": 200, "lat": 53.745}, "lon"),
        ({"title": "P", "started_on": "2026-01-01", "lon": -0.35, "lat": 53.745}, "title"),
    ],
)
def test_bad_action_is_rejected_and_stores_nothing(client, world, db_session, body, field) -> None:
    before = count(db_session, "team_actions")
    response = client.post("/api/v1/team/actions", json=body, headers=bearer(world.token_a))
    assert response.status_code in (400, 422)
    assert response.get_json()["field"] == field
    assert count(db_session, "team_actions") == before


def test_every_call_is_audited_with_its_filters(client, world, db_session) -> None:
    client.get("/api/v1/team/insights?days=14", headers=bearer(world.token_a))
    rows = db_session.execute(
        sa.text(
            "SELECT t.name, a.action, a.detail FROM audit_events a "
            "JOIN teams t ON t.id = a.team_id "
            "ORDER BY a.id DESC LIMIT 1"
        )
    ).one()
    assert rows.name == "Team A" and rows.action == "insights"
    assert rows.detail["filters"] == {"days": ["14"]}
    trail = client.get("/api/v1/team/audit", headers=bearer(world.token_a)).get_json()["events"]
    assert trail[0]["action"] == "audit" or trail[0]["action"] == "insights"
    assert all(event["team"] == "Team A" for event in trail)


@pytest.mark.parametrize("decision, kept", [("approve", "[phone]"), ("reject", "")])
def test_after_a_decision_the_raw_text_is_gone(client, world, db_session, decision, kept) -> None:
    client.post(
        f"/api/v1/team/moderation/{world.reports_a[0]}",
        json={"decision": decision},
        headers=bearer(world.token_a),
    )
    body, scrubbed = db_session.execute(
        sa.text("SELECT body, scrubbed FROM report_descriptions WHERE report_id = :id"),
        {"id": world.reports_a[0]},
    ).one()
    assert "900123" not in body and "AB12" not in body
    assert (kept in body) if kept else body == "" and scrubbed == ""
