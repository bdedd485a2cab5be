"""Logs are JSON and never carry a client address, user agent, forwarded address or cookie."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe.team.service import create_team

from .servers import CLIENT_ADDRESS, AppServer, new_key, request, street_report

USER_AGENT = "LeakCheckAgent/9.9 (StreetSafe log scan)"
FORWARDED_FOR = "203.0.113.77"
COOKIE = "tracking=LeakCheckCookieValue"
SECRETS = (CLIENT_ADDRESS, USER_AGENT, "LeakCheckAgent", FORWARDED_FOR, "LeakCheckCookieValue")


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
    for line in lines:
        json.loads(line)  # every line is a JSON object
        for secret in SECRETS:
            assert secret not in line, f"{secret!r} leaked into the log: {line}"
