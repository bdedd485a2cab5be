"""Against a real threaded server and committed data: concurrent retries store one report;
the abuse limit refuses the 11th report in a minute."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import sqlalchemy as sa
from werkzeug.serving import make_server

from streetsafe import create_app
from streetsafe.config import Settings
from tests.conftest import migrated_database, redis_url, within_one_window

BODY = {"context": "street", "location": {"lat": 50.9, "lon": -1.39}, "categories": ["isolated"]}


@pytest.fixture(scope="module")
def committed_url() -> str:
    url = migrated_database("intake_concurrency")
    return url


def _serve(settings: Settings, port: int) -> Iterator[str]:
    server = make_server("127.0.0.1", port, create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join()


def _post(base: str, body: dict, headers: dict | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(
        f"{base}/api/v1/reports",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))
    engine.dispose()
    return count


def test_twenty_concurrent_retries_with_one_key_store_one_report(committed_url):
    settings = Settings(database_url=committed_url, redis_url=redis_url(),
                        secret_key="test-secret-key-0123456789", rate_limits="", testing=True)
    before = _count(committed_url, "reports")
    barrier = threading.Barrier(20)

    def send(base: str) -> tuple[int, dict, dict]:
        barrier.wait()
        return _post(base, BODY, {"Idempotency-Key": "concurrent-retry-key"})

    for base in _serve(settings, 18411):
        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(send, [base] * 20))
    assert {status for status, _, _ in results} == {201}
    assert len({body["id"] for _, body, _ in results}) == 1
    assert sum(1 for _, _, h in results if h.get("Idempotent-Replayed")) == 19
    assert _count(committed_url, "reports") == before + 1
    assert _count(committed_url, "report_cells") == (before + 1) * 4


def test_eleventh_report_in_a_minute_is_429_and_redis_never_sees_the_address(committed_url):
    client = redis.Redis.from_url(redis_url())
    client.flushdb()
    settings = Settings(database_url=committed_url, redis_url=redis_url(),
                        secret_key="test-secret-key-0123456789", rate_limits="10/minute",
                        testing=True)
    before = _count(committed_url, "reports")
    for base in _serve(settings, 18412):
        within_one_window(60, need_s=20)
        statuses = [_post(base, BODY)[0] for _ in range(10)]
        status, body, headers = _post(base, BODY)
        other = urllib.request.urlopen(f"{base}/api/v1/categories", timeout=10)
    assert statuses == [201] * 10
    assert status == 429
    assert body["error"] == "rate_limited" and set(body) == {"error", "message", "field"}
    assert 0 < int(headers["Retry-After"]) <= 60
    assert (headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"]) == ("10", "0")
    assert other.status == 200  # reading is not limited
    assert _count(committed_url, "reports") == before + 10
    keys = [key.decode() for key in client.keys("*")]
    assert keys and not any("127.0.0.1" in key for key in keys)
    values = [client.get(k) for k in keys if client.type(k) == b"string"]
    assert not any(v and b"127.0.0.1" in v for v in values)
    client.flushdb()
