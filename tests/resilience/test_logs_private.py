"""Logs are JSON and never carry a client address, user agent, forwarded address or cookie."""

from __future__ import annotations

import json
import socket

import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe.team.service import create_team

from .servers import CLIENT_ADDRESS, AppServer, new_key, request, street_report

USER_AGENT = "LeakCheckAgent/9.9 (StreetSafe log scan)"
FORWARDED_FOR = "203.0.113.77"
COOKIE = "tracking=LeakCheckCookieValue"
DESCRIPTION = "LeakCheckDescription words only the reporter knows"
SECRETS = (CLIENT_ADDRESS, USER_AGENT, "LeakCheckAgent", FORWARDED_FOR, "LeakCheckCookieValue",
           "LeakCheckDescription")  # fmt: skip


def _raw(port: int, data: bytes) -> bytes:
    """Send raw bytes from CLIENT_ADDRESS and return the raw reply (status line first)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10,
                                  source_address=(CLIENT_ADDRESS, 0)) as sock:  # fmt: skip
        sock.sendall(data)
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
        return reply


def _chunked(path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()  # fmt: skip
    return head + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


def _team_token(database_url: str) -> str:
    engine = sa.create_engine(database_url)
    with Session(engine) as session:
        session.execute(
            sa.text(
                "INSERT INTO neighbourhoods (code, name, geom) VALUES ('LOG-1', 'Log check', "
                "ST_Multi(ST_MakeEnvelope(-0.40, 53.70, -0.30, 53.80, 4326)))"
            )
        )
        token = create_team(session, "Log check team", ["LOG-1"])
        session.commit()
    engine.dispose()
    return token


def test_a_full_session_leaves_no_client_trace_in_the_logs(
    tmp_path, committed_database, clean_redis
) -> None:
    token = _team_token(committed_database)
    log_path = tmp_path / "server.log"
    server = AppServer(
        {
            "DATABASE_URL": committed_database,
            "REDIS_URL": clean_redis,
            "STREETSAFE_SECRET_KEY": "log-scan-secret-key-0123",
            "STREETSAFE_RATE_LIMITS": "3/minute",
        },
        log_path,
    )
    headers = {"User-Agent": USER_AGENT, "X-Forwarded-For": FORWARDED_FOR, "Cookie": COOKIE}
    try:
        port = server.port
        # Malformed requests: gunicorn names the client of these in its own error log.
        assert _raw(port, b"GARBAGE\x01 / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400")
        assert _raw(port, b"GET / HTTP/9.9\r\nHost: x\r\n\r\n")[:12] in (
            b"HTTP/1.1 400", b"HTTP/1.1 505")
        # A NUL in a chunked body, and JSON nested past the limit: 400s, never 500s.
        nul = json.dumps({**street_report(9), "description": DESCRIPTION + "\u0000"}).encode()
        assert _raw(port, _chunked("/api/v1/reports", nul)).startswith(b"HTTP/1.1 400")
        deep = b"[" * 5000 + b'"\\u0000' + DESCRIPTION.encode() + b'"' + b"]" * 5000
        for path in ("/api/v1/reports", "/team/login", "/api/v1/team/actions"):
            assert _raw(port, _chunked(path, deep)).startswith(b"HTTP/1.1 4"), path
        for n in range(5):  # three accepted, then 429s
            request(
                port,
                "POST",
                "/api/v1/reports",
                street_report(n),
                {**headers, "Idempotency-Key": new_key()},
            )
        request(port, "POST", "/api/v1/reports", {"context": "nowhere"}, headers)
        request(port, "GET", "/", None, headers)
        request(port, "GET", "/no/such/page", None, headers)
        request(port, "GET", "/api/v1/categories", None, headers)
        request(port, "GET", "/api/v1/hotspots/cells?res=9", None, headers)
        request(port, "GET", "/api/v1/team/me", None, headers)
        request(
            port, "GET", "/api/v1/team/me", None, {**headers, "Authorization": f"Bearer {token}"}
        )
        request(
            port, "GET", "/api/v1/team/me", None, {**headers, "Authorization": "Bearer sst_wrong"}
        )
    finally:
        server.stop()
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    # gunicorn did log the malformed requests, with the address withheld.
    assert any("Invalid request from ip=[address withheld]" in line for line in lines)
    for line in lines:
        json.loads(line)  # every line is a JSON object
        for secret in SECRETS:
            assert secret not in line, f"{secret!r} leaked into the log: {line}"
