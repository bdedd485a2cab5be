"""Sign-in, session cookie, CSRF and sign-out; public pages set no cookie."""

from __future__ import annotations

import re

import sqlalchemy as sa


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_dashboard_redirects_to_login_when_signed_out(client) -> None:
    response = client.get("/team")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/team/login")


def test_sign_in_sets_a_strict_httponly_cookie_and_shows_the_dashboard(client, world) -> None:
    form = client.get("/team/login")
    token = _csrf(form.get_data(as_text=True))
    response = client.post("/team/login", data={"token": world.token_a, "csrf_token": token})
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = client.get("/team")
    assert page.status_code == 200
    assert "Team A" in page.get_data(as_text=True)
    assert client.get("/api/v1/team/me").get_json()["team"] == "Team A"


def test_cookie_is_secure_under_https(client, world) -> None:
    token = _csrf(client.get("/team/login", base_url="https://localhost").get_data(as_text=True))
    response = client.post(
        "/team/login",
        data={"token": world.token_a, "csrf_token": token},
        base_url="https://localhost",
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_token_is_refused_without_a_session(client, world) -> None:
    token = _csrf(client.get("/team/login").get_data(as_text=True))
    response = client.post("/team/login", data={"token": "sst_nope", "csrf_token": token})
    assert response.status_code == 401
    assert client.get("/api/v1/team/me").status_code == 401


def test_login_without_csrf_token_is_refused(client, world) -> None:
    response = client.post("/team/login", data={"token": world.token_a})
    assert response.status_code == 400
    assert client.get("/api/v1/team/me").status_code == 401


def test_cookie_session_needs_csrf_for_unsafe_calls(client, world, db_session) -> None:
    token = _csrf(client.get("/team/login").get_data(as_text=True))
    client.post("/team/login", data={"token": world.token_a, "csrf_token": token})
    body = {"title": "Patrols", "started_on": "2026-01-01", "lon": -0.35, "lat": 53.745}
    refused = client.post("/api/v1/team/actions", json=body)
    assert refused.status_code == 400
    page_token = _csrf(client.get("/team").get_data(as_text=True))
    accepted = client.post("/api/v1/team/actions", json=body, headers={"X-CSRFToken": page_token})
    assert accepted.status_code == 201


def test_sign_out_ends_the_session(client, world) -> None:
    token = _csrf(client.get("/team/login").get_data(as_text=True))
    client.post("/team/login", data={"token": world.token_a, "csrf_token": token})
    page_token = _csrf(client.get("/team").get_data(as_text=True))
    assert client.post("/team/logout", data={"csrf_token": page_token}).status_code == 303
    assert client.get("/api/v1/team/me").status_code == 401


def test_sign_in_is_audited(client, world, db_session) -> None:
    token = _csrf(client.get("/team/login").get_data(as_text=True))
    client.post("/team/login", data={"token": world.token_a, "csrf_token": token})
    assert (
        db_session.scalar(sa.text("SELECT count(*) FROM audit_events WHERE action = 'sign_in'"))
        == 1
    )


def test_public_endpoints_set_no_cookie(client) -> None:
    for path in ("/healthz", "/readyz"):
        assert "Set-Cookie" not in client.get(path).headers
