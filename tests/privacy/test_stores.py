"""Someone holding Redis or a database dump: no request time, no address, no exact time."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import redis
import sqlalchemy as sa

from streetsafe import create_app
from streetsafe.db import get_database

from ..conftest import redis_url, settings_for, within_one_window

ADDRESS = "198.51.100.7"
BODY = {"context": "street", "location": {"lat": 53.744, "lon": -0.334},
        "categories": ["isolated"], "description": "a secret detail"}  # fmt: skip


def _app(database_url: str, connection: sa.Connection):
    from sqlalchemy.orm import sessionmaker

    app = create_app(settings_for(database_url, rate_limits="3/minute;20/day"))
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)  # fmt: skip
    get_database(app).session_factory = get_database(app).read_session_factory = factory
    return app


def test_redis_holds_counts_under_hashed_networks_and_no_time(database_url, connection) -> None:
    store = redis.Redis.from_url(redis_url())
    store.flushdb()
    client = _app(database_url, connection).test_client()
    within_one_window(60, need_s=20)  # the counts, and their TTLs, in one minute's window
    statuses = [
        client.post("/api/v1/reports", json=BODY, environ_base={"REMOTE_ADDR": ADDRESS},
                    headers={"Idempotency-Key": str(uuid.uuid4())}).status_code
        for _ in range(5)
    ]  # fmt: skip
    assert statuses == [201, 201, 201, 429, 429]
    # Another address in the same IPv6 /64 shares a budget; another IPv4 address does not.
    v6 = [client.post("/api/v1/reports", json=BODY,
                      environ_base={"REMOTE_ADDR": f"2001:db8:1:2::{n}"}).status_code
          for n in range(1, 5)]  # fmt: skip
    assert v6 == [201, 201, 201, 429]
    now = time.time()
    for key in store.scan_iter():
        name = key.decode()
        assert ADDRESS not in name and "2001" not in name
        assert store.type(key) == b"string", f"{name} is a {store.type(key)}: it may hold times"
        value = store.get(key).decode()
        ttl = store.ttl(key)
        assert ttl > 0
        if name.startswith("streetsafe:client-key:"):
            assert len(value) == 64 and ttl <= 86_400
            continue
        assert value.isdigit() and int(value) < 1000  # a count, never an epoch time
        window = 60 if ttl <= 60 else 86_400
        assert round(now + ttl) % window in (0, 1, window - 1), (name, ttl)


def test_a_dump_holds_no_time_finer_than_the_hour(client, connection) -> None:
    key = str(uuid.uuid4())
    response = client.post("/api/v1/reports", json=BODY, headers={"Idempotency-Key": key})
    assert response.status_code == 201
    receipt = response.get_json()
    occurred = datetime.fromisoformat(receipt["occurred_at"])
    assert (occurred.minute, occurred.second, occurred.microsecond) == (0, 0, 0)
    stored = connection.execute(sa.text(
        "SELECT r.occurred_at, r.received_on, r.record_key FROM reports r WHERE r.id = :id"),
        {"id": receipt["id"]}).one()  # fmt: skip
    assert stored.occurred_at == occurred and 0 <= stored.record_key <= 255
    for created, expires in connection.execute(
        sa.text("SELECT created_at, expires_at FROM idempotency_keys")
    ):
        for moment in (created, expires):
            assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)
        assert (expires - created).total_seconds() >= 48 * 3600
    # Any writer (here raw SQL with a precise time) is truncated by the database itself.
    precise = datetime(2026, 3, 1, 10, 47, 13, 123456, tzinfo=UTC)
    connection.execute(sa.text(
        "UPDATE reports SET occurred_at = :t WHERE id = :id"), {"t": precise, "id": receipt["id"]})
    again = connection.scalar(sa.text("SELECT occurred_at FROM reports WHERE id = :id"),
                              {"id": receipt["id"]})  # fmt: skip
    assert again == precise.replace(minute=0, second=0, microsecond=0)


def test_report_side_tables_have_no_other_timestamps(connection) -> None:
    """The only times beside a report are its hour and its receipt date."""
    rows = connection.execute(sa.text("""
        SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = 'public' AND data_type LIKE 'timestamp%'
           AND (table_name LIKE 'report%' OR table_name LIKE 'hotspot%'
                OR table_name = 'idempotency_keys')""")).all()  # fmt: skip
    assert sorted(map(tuple, rows)) == sorted([
        ("reports", "occurred_at"), ("idempotency_keys", "created_at"),
        ("idempotency_keys", "expires_at"), ("report_descriptions", "moderated_at"),
    ])  # fmt: skip
