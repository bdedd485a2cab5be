"""Two app instances on different ports, one database and one Redis: limits and
idempotency hold across them."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from tests.conftest import within_one_window

from .servers import AppServer, new_key, request, street_report


def _servers(tmp_path, database_url: str, redis_url: str, limits: str) -> list[AppServer]:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STREETSAFE_SECRET_KEY": "two-instances-secret-key",
        "STREETSAFE_RATE_LIMITS": limits,
    }
    return [AppServer(env, tmp_path / f"instance-{n}.log") for n in (1, 2)]


def _reports(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(sa.text("SELECT count(*) FROM reports"))
    engine.dispose()
    return count


def test_rate_limit_is_shared_by_both_instances(tmp_path, committed_database, clean_redis) -> None:
    servers = _servers(tmp_path, committed_database, clean_redis, "4/minute")
    try:
        within_one_window(60, need_s=20)
        statuses = [
            request(servers[n % 2].port, "POST", "/api/v1/reports", street_report(n)).status
            for n in range(6)
        ]
    finally:
        for server in servers:
            server.stop()
    assert statuses == [201, 201, 201, 201, 429, 429]
    assert _reports(committed_database) == 4


def test_same_idempotency_key_on_both_instances_stores_one_report(
    tmp_path, committed_database, clean_redis
) -> None:
    servers = _servers(tmp_path, committed_database, clean_redis, "")
    key = new_key()
    body = street_report(7)
    replies = []

    def send(port: int) -> None:
        replies.append(
            request(port, "POST", "/api/v1/reports", body, headers={"Idempotency-Key": key})
        )

    try:
        threads = [threading.Thread(target=send, args=(servers[n % 2].port,)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for server in servers:
            server.stop()
    assert {reply.status for reply in replies} == {201}
    assert len({reply.body["id"] for reply in replies}) == 1
    assert _reports(committed_database) == 1
