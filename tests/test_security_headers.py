"""Every response carries the security headers, errors and downloads included; HSTS over HTTPS."""

from __future__ import annotations

import pytest

PATHS = [
    ("GET", "/", 200),
    ("GET", "/healthz", 200),
    ("GET", "/readyz", 200),
    ("GET", "/api/v1/categories", 200),
    ("GET", "/api/v1/openapi.json", 200),
    ("GET", "/api/docs", 200),
    ("GET", "/api/v1/hotspots/cells?res=9&bbox=-0.4,53.7,-0.3,53.8", 200),
    ("GET", "/api/v1/hotspots/stops?format=csv", 200),
    ("GET", "/ogc", 200),
    ("GET", "/tiles/hotspots/14/8185/5449.mvt", 200),
    ("GET", "/static/leaflet/leaflet.js", 200),
    ("GET", "/team/login", 200),
    ("GET", "/team", 303),
    ("GET", "/api/v1/team/me", 401),
    ("GET", "/no/such/page", 404),
    ("GET", "/api/v1/hotspots/cells?res=99", 400),
    ("POST", "/api/v1/reports", 415),
]
EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@pytest.mark.parametrize("method, path, status", PATHS)
def test_every_response_carries_the_security_headers(client, method, path, status) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    for name, value in EXPECTED.items():
        assert response.headers[name] == value
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP: no HSTS


@pytest.mark.parametrize("method, path, status", PATHS[:6] + PATHS[-3:])
def test_https_responses_carry_hsts(client, method, path, status) -> None:
    response = client.open(path, method=method, base_url="https://streetsafe.example")
    assert response.status_code == status
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
