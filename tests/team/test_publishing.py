"""Publishing an action on receipts: public text scrubbed, approved before it shows, audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from .conftest import bearer, count
from .test_actions import FULL, last_audit, listed, post

PUBLIC = {**FULL, "public": True, "public_title": "Brighter lighting on Carr Lane",
          "public_text": "New lamps went in. Questions: call 07700 900123 or a@b.org"}  # fmt: skip


def decide(client, token: str, action_id: int, decision: str):
    return client.post(f"/api/v1/team/actions/{action_id}/publication",
                       json={"decision": decision}, headers=bearer(token))  # fmt: skip


def test_a_published_action_waits_scrubbed_in_the_queue_until_approved(
    client, world, db_session
) -> None:
    action_id = post(client, world.token_a, PUBLIC).get_json()["id"]
    created = last_audit(db_session)
    assert created.action == "action_created" and created.detail["public"] is True
    [action] = listed(client, world.token_a)
    assert action["public"] is True and action["public_status"] == "pending"
    assert "07700" not in action["public_text"] and "[phone]" in action["public_text"]
    assert "[email]" in action["public_text"]
    queue = client.get("/api/v1/team/moderation", headers=bearer(world.token_a)).get_json()
    assert [a["action_id"] for a in queue["actions"]] == [action_id]
    other = client.get("/api/v1/team/moderation", headers=bearer(world.token_b)).get_json()
    assert other["actions"] == []

    assert decide(client, world.token_b, action_id, "approve").status_code == 404
    approved = decide(client, world.token_a, action_id, "approve")
    assert approved.get_json() == {"action_id": action_id, "public_status": "approved"}
    decided = last_audit(db_session)
    assert decided.action == "action_publication" and decided.detail["decision"] == "approve"
    team_a = db_session.scalar(sa.text("SELECT id FROM teams WHERE name = 'Team A'"))
    assert db_session.scalar(
        sa.text("SELECT public_decided_by FROM team_actions WHERE id = :id"), {"id": action_id}
    ) == team_a
    queue = client.get("/api/v1/team/moderation", headers=bearer(world.token_a)).get_json()
    assert queue["actions"] == []


def test_a_new_public_text_or_a_new_publication_asks_for_approval_again(client, world) -> None:
    action_id = post(client, world.token_a, PUBLIC).get_json()["id"]
    decide(client, world.token_a, action_id, "approve")
    patch = {"public_text": "Lamps are on from dusk."}
    client.patch(f"/api/v1/team/actions/{action_id}", json=patch, headers=bearer(world.token_a))
    assert listed(client, world.token_a)[0]["public_status"] == "pending"
    decide(client, world.token_a, action_id, "approve")
    for public in (False, True):
        client.patch(f"/api/v1/team/actions/{action_id}", json={"public": public},
                     headers=bearer(world.token_a))  # fmt: skip
    assert listed(client, world.token_a)[0]["public_status"] == "pending"
    # A change that is not the public text keeps the approval.
    decide(client, world.token_a, action_id, "approve")
    client.patch(f"/api/v1/team/actions/{action_id}", json={"kind": "lighting"},
                 headers=bearer(world.token_a))  # fmt: skip
    assert listed(client, world.token_a)[0]["public_status"] == "approved"


@pytest.mark.parametrize("body, field", [
    ({**FULL, "public": True}, "public_title"),
    ({**FULL, "public": "yes", "public_title": "Lighting"}, "public"),
    ({**FULL, "public": True, "public_title": "ab"}, "public_title"),
    ({**FULL, "public": True, "public_title": "Lighting", "public_text": "x" * 1001},
     "public_text"),
])  # fmt: skip
def test_a_bad_publication_is_refused_naming_the_field(
    client, world, db_session, body, field
) -> None:
    before = count(db_session, "team_actions")
    response = post(client, world.token_a, body)
    assert response.status_code in (400, 422)
    assert response.get_json()["field"] == field
    assert count(db_session, "team_actions") == before


def test_publishing_by_patch_needs_a_title_and_a_decision_needs_a_public_action(
    client, world, db_session
) -> None:
    action_id = post(client, world.token_a, FULL).get_json()["id"]
    refused = client.patch(f"/api/v1/team/actions/{action_id}", json={"public": True},
                           headers=bearer(world.token_a))  # fmt: skip
    assert refused.status_code == 422 and refused.get_json()["field"] == "public_title"
    assert listed(client, world.token_a)[0]["public"] is False
    not_public = decide(client, world.token_a, action_id, "approve")
    assert not_public.status_code == 422 and not_public.get_json()["field"] == "action_id"
    bad = decide(client, world.token_a, action_id, "publish")
    assert bad.status_code == 400 and bad.get_json()["field"] == "decision"
    published = client.patch(f"/api/v1/team/actions/{action_id}",
                             json={"public": True, "public_title": "Evening patrols here"},
                             headers=bearer(world.token_a))  # fmt: skip
    assert published.status_code == 200
    updated = last_audit(db_session)
    assert updated.detail["changed"]["public"] is True
    from streetsafe.team.audit import describe

    assert "published it on receipts once approved" in describe(updated.action, updated.detail)
