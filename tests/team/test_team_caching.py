"""Every team response, JSON, page, download or error, carries Cache-Control: no-store."""

from __future__ import annotations

import pytest

from .conftest import bearer

PATHS = [
    "/api/v1/team/me",
    "/api/v1/team/insights",
    "/api/v1/team/neighbourhoods",
    "/api/v1/team/actions",
    "/api/v1/team/moderation",
    "/api/v1/team/audit",
    "/api/v1/team/hotspots/stops?format=csv",
    "/api/v1/team/reports",
    "/api/v1/team/insights?neighbourhood=HUL-B",
    "/api/v1/team/no-such-thing",
]


@pytest.mark.parametrize("path", PATHS)
def test_team_api_responses_are_not_stored(client, world, path) -> None:
    for headers in (bearer(world.token_a), {}):
        response = client.get(path, headers=headers)
        assert response.headers.get("Cache-Control") == "no-store", (path, response.status_code)


@pytest.mark.parametrize("path", ["/team/login", "/team"])
def test_team_pages_are_not_stored(client, path) -> None:
    assert client.get(path).headers.get("Cache-Control") == "no-store"


def test_public_responses_keep_their_own_caching(client) -> None:
    assert client.get("/api/v1/categories").headers.get("Cache-Control") != "no-store"
