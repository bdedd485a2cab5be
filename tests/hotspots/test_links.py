"""Absolute OGC links come from STREETSAFE_PUBLIC_URL or a trusted Host, never any Host."""

from __future__ import annotations

import pytest

from streetsafe import create_app
from streetsafe.config import ConfigError, Settings

PATHS = [
    "/ogc",
    "/ogc/api",
    "/ogc/collections",
    "/ogc/collections/hotspot-stops",
    "/ogc/collections/hotspot-stops/items",
    "/ogc/collections/neighbourhoods/items",
]


def _hrefs(body: object) -> list[str]:
    """Every link target in a document: `href` members and OpenAPI server URLs."""
    if isinstance(body, list):
        return [href for item in body for href in _hrefs(item)]
    if not isinstance(body, dict):
        return []
    found = [v for k, v in body.items() if k in ("href", "url") and isinstance(v, str)]
    return found + [href for v in body.values() for href in _hrefs(v)]


@pytest.mark.parametrize("path", PATHS)
def test_a_foreign_host_header_never_reaches_a_link(client, path) -> None:
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "Host"
    assert "evil.example" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", PATHS)
def test_an_allowed_host_builds_the_links(client, path) -> None:
    response = client.get(path, headers={"Host": "127.0.0.1:8000"})
    assert response.status_code == 200
    hrefs = _hrefs(response.get_json())
    assert hrefs and all(h.startswith("http://127.0.0.1:8000/ogc") for h in hrefs), hrefs


@pytest.mark.parametrize("path", PATHS)
def test_the_public_url_wins_over_any_host(settings, path) -> None:
    app = create_app(settings.with_overrides(public_url="https://streetsafe.example.org"))
    response = app.test_client().get(path, headers={"Host": "evil.example"})
    assert response.status_code == 200
    hrefs = _hrefs(response.get_json())
    assert hrefs and all(h.startswith("https://streetsafe.example.org/ogc") for h in hrefs), hrefs
    assert "evil.example" not in response.get_data(as_text=True)


def test_public_url_and_allowed_hosts_settings() -> None:
    parsed = Settings.from_env(
        {
            "STREETSAFE_PUBLIC_URL": "https://streetsafe.example.org/",
            "STREETSAFE_ALLOWED_HOSTS": "StreetSafe.example.org, [::1]",
        }
    )
    assert parsed.public_url == "https://streetsafe.example.org"
    assert parsed.allowed_hosts == ("streetsafe.example.org", "::1")
    assert Settings.from_env({}).public_url is None
    assert Settings.from_env({}).allowed_hosts == ("localhost", "127.0.0.1", "::1")
    for name, value in [
        ("STREETSAFE_PUBLIC_URL", "ftp://example.org"),
        ("STREETSAFE_PUBLIC_URL", "https://example.org/?x=1"),
        ("STREETSAFE_ALLOWED_HOSTS", "a.example, ,b.example"),
        ("STREETSAFE_ALLOWED_HOSTS", "http://a.example"),
    ]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})
