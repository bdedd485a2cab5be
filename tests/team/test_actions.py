"""Actions that say what was done: kind, dates, dosage, a place of four kinds; edit, delete."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from .conftest import bearer, count

CIRCLE = {"type": "circle", "lon": -0.35, "lat": 53.745, "radius_m": 150}
SQUARE = {
    "type": "polygon",
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [-0.352, 53.744],
                [-0.348, 53.744],
                [-0.348, 53.746],
                [-0.352, 53.746],
                [-0.352, 53.744],
            ]
        ],
    },
}
FULL = {
    "title": "Evening patrols",
    "kind": "patrol",
    "started_on": "2026-03-02",
    "ended_on": "2026-04-30",
    "dosage": {"amount": 6, "unit": "patrol hours per week"},
    "place": CIRCLE,
}


def post(client, token: str, body: dict):
    return client.post("/api/v1/team/actions", json=body, headers=bearer(token))


def listed(client, token: str) -> list[dict]:
    return client.get("/api/v1/team/actions", headers=bearer(token)).get_json()["actions"]


def last_audit(db_session):
    return db_session.execute(
        sa.text("SELECT action, detail FROM audit_events ORDER BY id DESC LIMIT 1")
    ).one()


def test_an_action_keeps_its_kind_dates_dosage_and_place(client, world) -> None:
    created = post(client, world.token_a, FULL)
    assert created.status_code == 201
    [action] = listed(client, world.token_a)
    assert action["id"] == created.get_json()["id"]
    assert (action["kind"], action["started_on"], action["ended_on"]) == (
        "patrol",
        "2026-03-02",
        "2026-04-30",
    )
    assert action["dosage"] == {"amount": 6.0, "unit": "patrol hours per week"}
    assert action["place"] == {"kind": "circle", "radius_m": 150.0}
    assert '"Polygon"' in action["geometry"]


def test_the_older_body_still_records_a_circle_of_kind_other(client, world) -> None:
    body = {"title": "Patrols", "started_on": "2026-01-01", "lon": -0.35, "lat": 53.745}
    assert post(client, world.token_a, body).status_code == 201
    [action] = listed(client, world.token_a)
    assert (action["kind"], action["place"]["kind"], action["place"]["radius_m"]) == (
        "other",
        "circle",
        200.0,
    )


def test_a_polygon_place_is_stored_as_drawn_with_its_equivalent_radius(
    client, world, db_session
) -> None:
    created = post(client, world.token_a, {**FULL, "place": SQUARE})
    assert created.status_code == 201
    area_m2, radius_m = db_session.execute(
        sa.text("SELECT ST_Area(geom::geography), radius_m FROM team_actions WHERE id = :id"),
        {"id": created.get_json()["id"]},
    ).one()
    assert 50_000 < area_m2 < 70_000  # 0.004 deg lon x 0.002 deg lat at 53.7 N
    assert radius_m == pytest.approx((area_m2 / 3.141592653589793) ** 0.5)


def test_a_stop_place_is_a_circle_round_the_stop(client, world, demo_feed, db_session) -> None:
    body = {**FULL, "place": {"type": "stop", "stop_id": "demo:PI", "radius_m": 120}}
    created = post(client, world.token_a, body)
    assert created.status_code == 201, created.get_json()
    covers = db_session.scalar(
        sa.text(
            "SELECT ST_DWithin(a.geom::geography, s.geom::geography, 1) "
            "AND abs(sqrt(ST_Area(a.geom::geography) / pi()) - 120) < 2 "
            "FROM team_actions a, stops s WHERE a.id = :id AND s.public_id = 'demo:PI'"
        ),
        {"id": created.get_json()["id"]},
    )
    assert covers
    assert last_audit(db_session).detail["place"]["stop_id"] == "demo:PI"


def test_a_segment_place_follows_the_route_between_its_stops(
    client, world, demo_feed, db_session
) -> None:
    place = {"type": "segment", "route_id": "demo:SB1", "from_stop_id": "demo:PI",
             "to_stop_id": "demo:FF", "radius_m": 30}  # fmt: skip
    created = post(client, world.token_a, {**FULL, "place": place})
    assert created.status_code == 201, created.get_json()
    covered = db_session.execute(
        sa.text(
            "SELECT s.public_id, ST_Covers(a.geom, s.geom) FROM team_actions a, stops s "
            "WHERE a.id = :id AND s.public_id IN ('demo:PI', 'demo:FS', 'demo:FF', 'demo:SP')"
        ),
        {"id": created.get_json()["id"]},
    ).all()
    assert dict(covered) == {"demo:PI": True, "demo:FS": True, "demo:FF": True, "demo:SP": False}
    [action] = listed(client, world.token_a)
    assert action["place"]["from_stop_id"] == "demo:PI"


BAD = [
    ({**FULL, "kind": "magic"}, "kind"),
    ({**FULL, "ended_on": "2026-03-01"}, "ended_on"),
    ({**FULL, "ended_on": "soon"}, "ended_on"),
    ({**FULL, "dosage": {"amount": -1, "unit": "hours"}}, "dosage.amount"),
    ({**FULL, "dosage": {"amount": 2}}, "dosage.unit"),
    ({**FULL, "place": {"type": "square"}}, "place"),
    ({**FULL, "place": {**CIRCLE, "radius_m": 0}}, "place.circle.radius_m"),
    ({**FULL, "place": {**CIRCLE, "lat": 91}}, "place.circle.lat"),
    ({**FULL, "lon": -0.35, "lat": 53.745}, "place"),
    ({k: v for k, v in FULL.items() if k != "place"}, "place"),
    ({"started_on": "2026-03-02", "lon": -0.35}, "lat"),
    ({**FULL, "place": {**CIRCLE, "lon": 10.0, "lat": 50.0}}, "place"),
    ({**FULL, "place": {"type": "stop", "stop_id": "demo:NOPE"}}, "place.stop_id"),
    (
        {
            **FULL,
            "place": {
                "type": "segment",
                "route_id": "demo:NOPE",
                "from_stop_id": "demo:PI",
                "to_stop_id": "demo:FF",
            },
        },  # fmt: skip
        "place.route_id",
    ),
    (
        {
            **FULL,
            "place": {
                "type": "segment",
                "route_id": "demo:SB1",
                "from_stop_id": "demo:PI",
                "to_stop_id": "demo:AM",
            },
        },  # fmt: skip
        "place.to_stop_id",
    ),
    (
        {
            **FULL,
            "place": {
                "type": "polygon",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [-0.35, 53.74],
                            [-0.34, 53.75],
                            [-0.35, 53.75],
                            [-0.34, 53.74],
                            [-0.35, 53.74],
                        ]
                    ],
                },
            },
        },  # fmt: skip
        "place.geometry",
    ),
    (
        {
            **FULL,
            "place": {
                "type": "polygon",
                "geometry": {"type": "Polygon", "coordinates": [[[-0.35, 53.74]]]},
            },
        },
        "place.polygon.geometry.coordinates",
    ),
]


@pytest.mark.parametrize("body, field", BAD)
def test_a_bad_action_is_refused_naming_the_field_and_stores_nothing(
    client, world, demo_feed, db_session, body, field
) -> None:
    before = count(db_session, "team_actions")
    response = post(client, world.token_a, body)
    assert response.status_code in (400, 422), response.get_json()
    assert response.get_json()["field"] == field
    assert count(db_session, "team_actions") == before


def test_an_edit_changes_only_the_fields_given_and_is_audited(client, world, db_session) -> None:
    action_id = post(client, world.token_a, FULL).get_json()["id"]
    edited = client.patch(
        f"/api/v1/team/actions/{action_id}",
        json={"kind": "lighting", "ended_on": None, "place": SQUARE},
        headers=bearer(world.token_a),
    )
    assert edited.status_code == 200
    [action] = listed(client, world.token_a)
    assert (action["kind"], action["ended_on"], action["title"]) == (
        "lighting",
        None,
        "Evening patrols",
    )
    assert action["place"]["kind"] == "polygon"
    audit = db_session.execute(
        sa.text("SELECT detail FROM audit_events WHERE action = 'action_updated'")
    ).scalar_one()
    assert audit["was"]["kind"] == "patrol" and audit["changed"]["kind"] == "lighting"


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"ended_on": "2026-01-01"}, "ended_on"),
        ({"kind": None}, "kind"),
        ({}, "body"),
        ({"colour": "red"}, "colour"),
        ({"place": {**CIRCLE, "lon": 10.0, "lat": 50.0}}, "place"),
    ],
)
def test_a_bad_edit_is_refused_and_changes_nothing(client, world, db_session, patch, field) -> None:
    action_id = post(client, world.token_a, FULL).get_json()["id"]
    response = client.patch(
        f"/api/v1/team/actions/{action_id}", json=patch, headers=bearer(world.token_a)
    )
    assert response.status_code in (400, 422)
    assert response.get_json()["field"] == field
    [action] = listed(client, world.token_a)
    assert (action["kind"], action["ended_on"], action["place"]["kind"]) == (
        "patrol",
        "2026-04-30",
        "circle",
    )


def test_delete_removes_the_action_and_is_audited(client, world, db_session) -> None:
    action_id = post(client, world.token_a, FULL).get_json()["id"]
    deleted = client.delete(f"/api/v1/team/actions/{action_id}", headers=bearer(world.token_a))
    assert deleted.status_code == 204
    assert listed(client, world.token_a) == []
    audit = db_session.execute(
        sa.text("SELECT detail FROM audit_events WHERE action = 'action_deleted'")
    ).scalar_one()
    assert audit["action_id"] == action_id and audit["was"]["title"] == "Evening patrols"


@pytest.mark.parametrize(
    "method, suffix",
    [("PATCH", ""), ("DELETE", ""), ("GET", "/impact")],
)
def test_another_teams_action_is_404_and_untouched(
    client, world, db_session, method, suffix
) -> None:
    action_id = post(client, world.token_a, FULL).get_json()["id"]
    response = client.open(
        f"/api/v1/team/actions/{action_id}{suffix}",
        method=method,
        json={"kind": "cctv"},
        headers=bearer(world.token_b),
    )
    assert response.status_code == 404
    [action] = listed(client, world.token_a)
    assert action["kind"] == "patrol"
