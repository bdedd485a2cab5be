"""The report page, its static files and the security headers (without a browser)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from streetsafe import create_app
from streetsafe.security import basemap_origin, content_security_policy
from streetsafe.web.mapview import DEFAULT_BOUNDS, MapView, stops_extent


class _Collector(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_code: list[str] = []
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_code = tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._in_code = False

    def handle_data(self, data: str) -> None:
        if self._in_code and data.strip():
            self.inline_code.append(data)


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def test_report_page_is_served_with_strict_headers_and_no_cookie(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "img-src 'self' data: https://tile.openstreetmap.org;" in csp


def test_report_page_has_no_inline_script_or_style_and_only_local_assets(client) -> None:
    page = _parse(client.get("/").get_data(as_text=True))
    assert page.inline_code == []
    for tag, attrs in page.tags:
        assert "style" not in attrs, f"inline style on <{tag}>"
        assert not any(name.startswith("on") for name in attrs), f"inline handler on <{tag}>"
        if tag == "script":
            assert attrs["src"].startswith("/static/")
        if tag == "link" and attrs.get("rel") == "stylesheet":
            assert attrs["href"].startswith("/static/")


def test_every_form_control_has_a_label(client) -> None:
    page = _parse(client.get("/").get_data(as_text=True))
    labelled = {attrs["for"] for tag, attrs in page.tags if tag == "label" and attrs.get("for")}
    for tag, attrs in page.tags:
        if tag in ("select", "textarea") or (tag == "input" and attrs.get("type") == "search"):
            assert attrs["id"] in labelled, f"<{tag} id={attrs.get('id')}> has no label"


def test_basemap_settings_reach_the_page_escaped(settings, connection) -> None:
    attribution = '<a href="https://example.org/">Tiles "R" Us</a> <script>alert(1)</script>'
    app = create_app(
        settings.with_overrides(
            basemap_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png",
            basemap_attribution=attribution,
        )
    )
    response = app.test_client().get("/")
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'data-basemap-url="https://{s}.tiles.example.org/{z}/{x}/{y}.png"' in html
    assert (
        "img-src 'self' data: https://*.tiles.example.org;"
        in (response.headers["Content-Security-Policy"])
    )


@pytest.mark.parametrize(
    "tile_url, origin",
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.com/{z}/{x}/{y}.png", "https://*.tile.example.com"),
        ("http://localhost:8080/tiles/{z}/{x}/{y}.png", "http://localhost:8080"),
        ("/tiles/{z}/{x}/{y}.png", None),
    ],
)
def test_basemap_origin_is_what_csp_must_allow(tile_url: str, origin: str | None) -> None:
    assert basemap_origin(tile_url) == origin


def test_csp_without_a_remote_basemap_allows_only_this_origin(settings) -> None:
    policy = content_security_policy(settings.with_overrides(basemap_url="/tiles/{z}/{x}/{y}.png"))
    assert "img-src 'self' data:;" in policy


def test_leaflet_is_served_from_the_xstatic_package(client) -> None:
    script = client.get("/static/leaflet/leaflet.js")
    assert script.status_code == 200
    assert b"Leaflet" in script.data[:400]
    assert client.get("/static/leaflet/leaflet.css").mimetype == "text/css"
    assert client.get("/static/leaflet/images/marker-icon.png").mimetype == "image/png"
    assert client.get("/static/leaflet/../__init__.py").status_code == 404


@pytest.mark.parametrize(
    "path", ["/static/js/report.js", "/static/js/map.js", "/static/css/site.css"]
)
def test_page_assets_are_served(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers


def test_map_opens_on_the_stops_or_on_great_britain(db_session) -> None:
    assert stops_extent(db_session) == MapView(*DEFAULT_BOUNDS)
    feed_id = db_session.scalar(
        sa.text("INSERT INTO feeds (name, kind) VALUES ('extent-test', 'gtfs') RETURNING id")
    )
    for source_id, lon, lat in (("a", -0.35, 53.74), ("b", -0.33, 53.75)):
        db_session.execute(
            sa.text(
                "INSERT INTO stops (feed_id, public_id, source_id, name, geom) VALUES"
                " (:feed, :pid, :sid, 'Stop', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
            ),
            {
                "feed": feed_id,
                "pid": f"extent-test:{source_id}",
                "sid": source_id,
                "lon": lon,
                "lat": lat,
            },
        )
    extent = stops_extent(db_session)
    bounds = (extent.west, extent.south, extent.east, extent.north)
    assert bounds == pytest.approx((-0.35, 53.74, -0.33, 53.75))
