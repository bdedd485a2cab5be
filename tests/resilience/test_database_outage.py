"""Load with a fault: 32 clients post reports for 60 s while PostgreSQL is stopped for 10 s.

The database is a cluster of this test's own (stopping the shared one would disturb other
tests). Clients retry with the same Idempotency-Key after any error, as the report page does.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from streetsafe import localdb, migrate

from .servers import AppServer, free_port, new_key, request, street_report

CLIENTS = 32
DURATION_S = 60.0
OUTAGE_AT_S = 20.0
OUTAGE_S = 10.0


@dataclass
class Ledger:
    """What the clients saw, shared between their threads."""

    statuses: Counter = field(default_factory=Counter)
    created: dict[str, str] = field(default_factory=dict)  # key -> report id
    created_at: list[float] = field(default_factory=list)
    missing_retry_after: int = 0
    slowest_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(port: int, index: int, stop_at: float, ledger: Ledger) -> None:
    n = 0
    while time.monotonic() < stop_at:
        key, body = new_key(), street_report(index * 1000 + n)
        n += 1
        while time.monotonic() < stop_at + 15:
            try:
                reply = request(port, "POST", "/api/v1/reports", body, {"Idempotency-Key": key})
            except OSError:
                time.sleep(0.5)
                continue
            with ledger.lock:
                ledger.statuses[reply.status] += 1
                ledger.slowest_s = max(ledger.slowest_s, reply.seconds)
                if reply.status == 503 and "Retry-After" not in reply.headers:
                    ledger.missing_retry_after += 1
                if reply.status == 201:
                    ledger.created[key] = reply.body["id"]
                    ledger.created_at.append(time.monotonic())
            if reply.status == 201 or reply.status < 500 and reply.status != 429:
                break
            time.sleep(0.5)


@pytest.fixture
def own_cluster():
    data = localdb.local_cluster().data.parent / "outage-test-postgres"
    cluster = localdb.Cluster(data, free_port())
    if cluster.running():  # left over from an interrupted run, maybe on another port
        cluster.stop()
    cluster.ensure("streetsafe")
    url = cluster.url("streetsafe")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        connection.execute(sa.text("CREATE EXTENSION postgis"))
    engine.dispose()
    migrate.upgrade(url)
    yield cluster, url
    cluster.stop()


@pytest.mark.slow
def test_service_survives_a_database_outage_without_losing_or_duplicating(
    tmp_path, own_cluster, clean_redis
) -> None:
    cluster, url = own_cluster
    server = AppServer(
        {
            "DATABASE_URL": url,
            "REDIS_URL": clean_redis,
            "STREETSAFE_SECRET_KEY": "outage-test-secret-key",
            "STREETSAFE_RATE_LIMITS": "",
        },
        tmp_path / "server.log",
    )
    ledger = Ledger()
    started = time.monotonic()
    stop_at = started + DURATION_S
    clients = [
        threading.Thread(target=_client, args=(server.port, i, stop_at, ledger))
        for i in range(CLIENTS)
    ]
    try:
        for client in clients:
            client.start()
        time.sleep(OUTAGE_AT_S)
        cluster.stop()
        time.sleep(OUTAGE_S)
        cluster.start()
        back_at = time.monotonic()
        for client in clients:
            client.join()
    finally:
        server.stop()

    assert ledger.statuses[500] == 0, ledger.statuses
    assert ledger.statuses[503] > 0, "the outage was not noticed"
    assert ledger.missing_retry_after == 0
    assert ledger.slowest_s < 10.0
    first_after = min(t for t in ledger.created_at if t >= back_at)
    assert first_after - back_at <= 5.0, f"recovered after {first_after - back_at:.1f} s"

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        stored = connection.scalars(sa.text("SELECT id::text FROM reports")).all()
        keys = connection.scalar(sa.text("SELECT count(*) FROM idempotency_keys"))
    engine.dispose()
    assert len(stored) == len(set(stored))
    assert set(ledger.created.values()) <= set(stored)
    # Every stored report belongs to exactly one claimed key: none was stored twice.
    assert len(stored) == keys
    assert len(ledger.created) == len(set(ledger.created.values()))
    server_log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in server_log
