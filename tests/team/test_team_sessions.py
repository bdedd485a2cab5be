"""Team sessions live on the server: sign-out, revocation and both timeouts end them."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from streetsafe.config import ConfigError, Settings
from streetsafe.team.service import revoke_team

ACTION = {"title": "Patrols", "started_on": "2026-01-01", "lon": -0.35, "lat": 53.745}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _signed_in(client, token: str) -> tuple[str, str]:
    """Sign in through the form; the session cookie's value and the dashboard's CSRF token."""
    form_token = _csrf(client.get("/team/login").get_data(as_text=True))
    response = client.post("/team/login", data={"token": token, "csrf_token": form_token})
    assert response.status_code == 303
    page_token = _csrf(client.get("/team").get_data(as_text=True))
    cookie = client.get_cookie("streetsafe_team", path="/api/v1/team") or client.get_cookie(
        "streetsafe_team", path="/"
    )
    return cookie.value, page_token


def _replay(app, cookie: str, page_token: str) -> tuple[int, int]:
    """The status of `me` and of posting an action from a fresh client sending `cookie`."""
    other = app.test_client(use_cookies=False)
    headers = {"Cookie": f"streetsafe_team={cookie}"}
    me = other.get("/api/v1/team/me", headers=headers).status_code
    posted = other.post(
        "/api/v1/team/actions", json=ACTION, headers={**headers, "X-CSRFToken": page_token}
    ).status_code
    return me, posted


def test_a_live_session_cookie_works_from_another_client(app, client, world) -> None:
    cookie, page_token = _signed_in(client, world.token_a)
    assert _replay(app, cookie, page_token) == (200, 201)


def test_a_cookie_replayed_after_sign_out_is_401(app, client, world) -> None:
    cookie, page_token = _signed_in(client, world.token_a)
    assert client.post("/team/logout", data={"csrf_token": page_token}).status_code == 303
    assert _replay(app, cookie, page_token) == (401, 401)


def test_revoking_a_team_ends_its_sessions(app, client, world, db_session) -> None:
    cookie, page_token = _signed_in(client, world.token_a)
    revoke_team(db_session, "Team A")
    db_session.commit()
    assert _replay(app, cookie, page_token) == (401, 401)
    live = db_session.scalar(sa.text("SELECT count(*) FROM team_sessions WHERE ended_at IS NULL"))
    assert live == 0


@pytest.mark.parametrize(
    "column, age, status",
    [
        ("last_seen_at", "29 minutes", 200),
        ("last_seen_at", "31 minutes", 401),
        ("created_at", "11 hours 59 minutes", 200),
        ("created_at", "12 hours 1 minute", 401),
    ],
)
def test_idle_and_absolute_timeouts_end_a_session(
    app, client, world, db_session, column, age, status
) -> None:
    cookie, page_token = _signed_in(client, world.token_a)
    db_session.execute(
        sa.text(f"UPDATE team_sessions SET {column} = now() - CAST(:age AS interval)"),
        {"age": age},
    )
    db_session.commit()
    me, _ = _replay(app, cookie, page_token)
    assert me == status


def test_use_keeps_an_idle_session_alive(app, client, world, db_session) -> None:
    cookie, page_token = _signed_in(client, world.token_a)
    db_session.execute(sa.text("UPDATE team_sessions SET last_seen_at = now() - interval '29 min'"))
    db_session.commit()
    assert _replay(app, cookie, page_token)[0] == 200
    idle = db_session.scalar(sa.text("SELECT now() - last_seen_at FROM team_sessions"))
    assert idle.total_seconds() < 60


def test_the_database_keeps_only_a_hash_of_the_session_id(client, world, db_session) -> None:
    cookie, _ = _signed_in(client, world.token_a)
    stored = db_session.scalars(sa.text("SELECT id_hash FROM team_sessions")).all()
    assert len(stored) == 1 and len(stored[0]) == 64
    assert stored[0] not in cookie


def test_the_timeouts_come_from_settings(app, client, world, db_session, settings) -> None:
    from streetsafe import create_app

    short = create_app(settings.with_overrides(team_session_idle_minutes=5))
    assert short.extensions["streetsafe.settings"].team_session_idle_minutes == 5
    env = {"STREETSAFE_TEAM_SESSION_IDLE_MINUTES": "5", "STREETSAFE_TEAM_SESSION_MAX_HOURS": "2"}
    parsed = Settings.from_env(env)
    assert (parsed.team_session_idle_minutes, parsed.team_session_max_hours) == (5, 2)
    assert Settings.from_env({}).team_session_idle_minutes == 30
    assert Settings.from_env({}).team_session_max_hours == 12
    for name, value in [
        ("STREETSAFE_TEAM_SESSION_IDLE_MINUTES", "0"),
        ("STREETSAFE_TEAM_SESSION_MAX_HOURS", "soon"),
    ]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})


def test_the_cookie_is_scoped_to_team_paths(client, world) -> None:
    form_token = _csrf(client.get("/team/login").get_data(as_text=True))
    response = client.post("/team/login", data={"token": world.token_a, "csrf_token": form_token})
    paths = {
        re.search(r"Path=([^;]+)", header).group(1)
        for header in response.headers.getlist("Set-Cookie")
        if header.startswith("streetsafe_team=") and "Expires=Thu, 01 Jan 1970" not in header
    }
    assert paths == {"/team", "/cy/team", "/api/v1/team"}  # /cy/team: the pages in Welsh
    assert client.get("/api/v1/team/me").status_code == 200
    assert client.get_cookie("streetsafe_team", path="/") is None


def test_the_cookie_never_travels_with_a_public_report(app, client, world) -> None:
    from flask import request

    seen: list[dict[str, str]] = []
    app.before_request(lambda: seen.append(dict(request.cookies)) and None)
    _signed_in(client, world.token_a)
    client.post("/api/v1/reports", json={})
    client.get("/api/v1/categories")
    assert seen[-2:] == [{}, {}]
    client.get("/api/v1/team/me")
    assert "streetsafe_team" in seen[-1]
