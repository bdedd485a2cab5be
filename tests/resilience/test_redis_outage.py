"""Intake survives losing Redis: Redis stopped and restarted under load, no 500s, every
acknowledged report stored once, readiness says so, one warning each way."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from .servers import AppServer, free_port, new_key, request, street_report

SECONDS, STOP_AT, START_AT = 12.0, 3.0, 7.0


class OwnRedis:
    """A redis-server of the test's own on a free port."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path):
    if not (shutil.which("redis-server") or Path("/usr/bin/redis-server").exists()):
        pytest.skip("redis-server is not installed")
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_intake_keeps_taking_reports_while_redis_is_away(
    tmp_path, committed_database, own_redis
) -> None:
    log_path = tmp_path / "server.log"
    server = AppServer(
        {"DATABASE_URL": committed_database,
         "REDIS_URL": f"redis://127.0.0.1:{own_redis.port}/0",
         "STREETSAFE_SECRET_KEY": "redis-outage-secret-0123",
         "STREETSAFE_RATE_LIMITS": "5000/minute"},
        log_path,
    )  # fmt: skip
    acknowledged: list[str] = []
    statuses: list[int] = []
    lock = threading.Lock()
    began = time.monotonic()

    def client(index: int) -> None:
        n = 0
        while time.monotonic() - began < SECONDS:
            n += 1
            key = new_key()
            for _ in range(3):  # a retry after a connection error sends the same key
                try:
                    reply = request(server.port, "POST", "/api/v1/reports",
                                    street_report(index * 1000 + n), {"Idempotency-Key": key})
                except OSError:
                    continue
                with lock:
                    statuses.append(reply.status)
                    if reply.status == 201:
                        acknowledged.append(reply.body["id"])
                break

    readiness = {}
    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(STOP_AT)
        own_redis.stop()
        time.sleep(2.5)
        readiness["away"] = request(server.port, "GET", "/readyz").body
        time.sleep(START_AT - STOP_AT - 2.5)
        own_redis.start()
        time.sleep(2.5)
        readiness["back"] = request(server.port, "GET", "/readyz").body
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    errors = [line for line in log_path.read_text().splitlines() if "unhandled" in line]
    assert 500 not in statuses and set(statuses) <= {201}, (sorted(set(statuses)), errors[:2])
    assert len(acknowledged) > 20 and len(set(acknowledged)) == len(acknowledged)
    engine = sa.create_engine(committed_database)
    with engine.connect() as connection:
        stored = connection.scalar(
            sa.text("SELECT count(*) FROM reports WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": acknowledged},
        )
    engine.dispose()
    assert stored == len(acknowledged)
    assert readiness["away"]["redis"] == "unavailable" and readiness["back"]["redis"] == "ok"
    text = log_path.read_text()
    assert text.count("Redis unreachable: report limits count per worker") in (1, 2)  # a worker
    assert "Redis is back" in text
