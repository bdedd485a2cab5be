"""The team pages and API in Welsh: /cy/team, and verdicts, audit and errors by Accept-Language."""

from __future__ import annotations

import re

from streetsafe.team.service import create_team

from .conftest import bearer

WELSH = {"Accept-Language": "cy"}
ACTION = {
    "title": "Extra patrols", "kind": "patrol", "started_on": "2026-01-05",
    "place": {"type": "circle", "lon": -0.35, "lat": 53.745, "radius_m": 150},
}  # fmt: skip


def test_the_sign_in_page_is_welsh_under_cy(client) -> None:
    html = client.get("/cy/team/login").get_data(as_text=True)
    assert '<html lang="cy">' in html
    assert "<h1>Mewngofnodi</h1>" in html and "Tocyn y tîm" in html
    assert re.search(r'<a class="language" href="/team/login" lang="en"', html)
    assert 'action="/cy/team/login"' in html


def test_signing_in_under_cy_lands_on_the_welsh_dashboard(client, world) -> None:
    form = client.get("/cy/team/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/cy/team/login", data={"token": world.token_a, "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/cy/team/"
    page = client.get("/cy/team/").get_data(as_text=True)
    assert '<html lang="cy">' in page and "Mannau problemus" in page
    assert '"lang": "cy"' in page  # dashboard.js's messages


def test_a_wrong_token_is_refused_in_welsh(client, world) -> None:
    form = client.get("/cy/team/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/cy/team/login", data={"token": "nope", "csrf_token": token})
    assert response.status_code == 401
    assert "Nid yw&#39;r tocyn hwnnw&#39;n ddilys." in response.get_data(as_text=True)


def test_a_kept_verdict_is_said_in_the_language_of_each_request(client, world) -> None:
    created = client.post("/api/v1/team/actions", json=ACTION, headers=bearer(world.token_a))
    assert created.status_code == 201
    english = client.get("/api/v1/team/actions", headers=bearer(world.token_a)).get_json()
    welsh = client.get("/api/v1/team/actions", headers={**bearer(world.token_a), **WELSH})
    assert english["actions"][0]["verdict"].startswith("Too few reports")
    assert welsh.get_json()["actions"][0]["verdict"].startswith("Rhy ychydig o adroddiadau")
    assert welsh.headers["Content-Language"] == "cy"


def test_the_audit_trail_is_in_the_readers_language(client, world) -> None:
    client.get("/api/v1/team/me", headers=bearer(world.token_a))
    english = client.get("/api/v1/team/audit", headers=bearer(world.token_a)).get_json()
    welsh = client.get("/api/v1/team/audit", headers={**bearer(world.token_a), **WELSH})
    summaries = {event["summary"] for event in welsh.get_json()["events"]}
    assert "gwirio pwy sydd wedi mewngofnodi" in summaries
    assert "checked who is signed in" in {event["summary"] for event in english["events"]}


def test_team_api_errors_are_in_welsh_when_asked(client, world) -> None:
    response = client.get("/api/v1/team/me", headers=WELSH)
    assert response.status_code == 401
    assert response.get_json()["message"].startswith("mewngofnodwch yn /team/login")
    other = client.get("/api/v1/team/insights?neighbourhood=HUL-B",
                       headers={**bearer(world.token_a), **WELSH})  # fmt: skip
    assert other.status_code == 403
    assert other.get_json() == {
        "error": "forbidden",
        "message": "nid yw'r gymdogaeth 'HUL-B' yn un o gymdogaethau'r tîm hwn",
        "field": "neighbourhood",
    }


def test_the_programme_page_is_welsh_under_cy(client, db_session, world) -> None:
    token = create_team(db_session, "Programme board", [], programme=True)
    db_session.commit()
    form = client.get("/cy/team/login").get_data(as_text=True)
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    client.post("/cy/team/login", data={"token": token, "csrf_token": csrf_token})
    response = client.get("/cy/team/")
    assert response.status_code == 303 and response.headers["Location"] == "/cy/team/programme"
    page = client.get("/cy/team/programme").get_data(as_text=True)
    assert '<html lang="cy">' in page
    assert "Golwg y rhaglen" in page and "Adroddiadau fesul wythnos ac ardal" in page
