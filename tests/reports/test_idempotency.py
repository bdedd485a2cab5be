"""Idempotency-Key: replay on retry, 422 on a different body, nothing claimed on rejection."""

from __future__ import annotations

import sqlalchemy as sa

from tests.transit_fixture import LAT

BODY = {"context": "street", "location": {"lat": LAT, "lon": -1.39}, "categories": ["isolated"]}


def test_retry_with_the_same_key_replays_the_first_response(client, small_feed, intake_rows):
    headers = {"Idempotency-Key": "4b1e0a2c-retry"}
    first = client.post("/api/v1/reports", json=BODY, headers=headers)
    counts = intake_rows()
    second = client.post("/api/v1/reports", json=dict(reversed(BODY.items())), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert intake_rows() == counts
    assert counts["reports"] == 1 and counts["idempotency_keys"] == 1


def test_same_key_with_a_different_body_is_422(client, small_feed, intake_rows):
    headers = {"Idempotency-Key": "key-mismatch"}
    client.post("/api/v1/reports", json=BODY, headers=headers)
    counts = intake_rows()
    other = {**BODY, "categories": ["badly_lit"]}
    response = client.post("/api/v1/reports", json=other, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["field"] == "Idempotency-Key"
    assert intake_rows() == counts


def test_a_rejected_request_does_not_claim_its_key(client, small_feed, intake_rows):
    headers = {"Idempotency-Key": "key-after-error"}
    bad = {**BODY, "context": "at_stop", "location": {"lat": 50.95, "lon": -1.39}}
    assert client.post("/api/v1/reports", json=bad, headers=headers).status_code == 422
    assert intake_rows()["idempotency_keys"] == 0
    assert client.post("/api/v1/reports", json=BODY, headers=headers).status_code == 201


def test_only_a_hash_of_the_key_is_stored_and_kept_at_least_24_hours(
    client, small_feed, connection
):
    client.post("/api/v1/reports", json=BODY, headers={"Idempotency-Key": "plain-key-text"})
    row = connection.execute(
        sa.text("SELECT key_hash, expires_at - now() AS ttl FROM idempotency_keys")
    ).one()
    assert "plain-key-text" not in row.key_hash and len(row.key_hash) == 64
    assert row.ttl.total_seconds() >= 24 * 3600


def test_an_expired_key_can_be_used_again(client, small_feed, connection, intake_rows):
    headers = {"Idempotency-Key": "old-key"}
    client.post("/api/v1/reports", json=BODY, headers=headers)
    connection.execute(sa.text("UPDATE idempotency_keys SET expires_at = now() - interval '1s'"))
    other = {**BODY, "categories": ["badly_lit"]}
    response = client.post("/api/v1/reports", json=other, headers=headers)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert intake_rows()["reports"] == 2
