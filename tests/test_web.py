"""The report page, its static files and the security headers (without a browser)."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from streetsafe import create_app
from streetsafe.config import ConfigError, Settings
from streetsafe.security import basemap_origin, content_security_policy
from streetsafe.web.mapview import (
    CLUSTER_ZOOM,
    EMPTY_VIEW,
    MapView,
    densest_stops,
    opening_view,
)


class _Collector(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> and <style>.

    A <script type="application/json"> is data (the page's messages), not code: the CSP does
    not run it, so it is kept apart in `data_blocks`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_code: list[str] = []
        self.data_blocks: list[str] = []
        self._in_code = False
        self._in_data = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_data = tag == "script" and dict(attrs).get("type") == "application/json"
        self._in_code = tag in ("script", "style") and not self._in_data

    def handle_endtag(self, tag: str) -> None:
        self._in_code = self._in_data = False

    def handle_data(self, data: str) -> None:
        if self._in_code and data.strip():
            self.inline_code.append(data)
        if self._in_data:
            self.data_blocks.append(data)


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
        if tag == "script" and attrs.get("type") != "application/json":
            assert attrs["src"].startswith("/static/")
        if tag == "link" and attrs.get("rel") == "stylesheet":
            assert attrs["href"].startswith("/static/")
    assert [json.loads(block)["lang"] for block in page.data_blocks] == ["en"]


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


def _insert_stops(db_session, stops: list[tuple[str, float, float]]) -> None:
    feed_id = db_session.scalar(
        sa.text("INSERT INTO feeds (name, kind) VALUES ('view-test', 'gtfs') RETURNING id")
    )
    for source_id, lon, lat in stops:
        db_session.execute(
            sa.text(
                "INSERT INTO stops (feed_id, public_id, source_id, name, geom) VALUES"
                " (:feed, :pid, :sid, 'Stop', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
            ),
            {"feed": feed_id, "pid": f"view-test:{source_id}", "sid": source_id,
             "lon": lon, "lat": lat},
        )


def test_map_opens_on_great_britain_without_stops(db_session) -> None:
    assert densest_stops(db_session) == MapView(*EMPTY_VIEW)


def test_map_opens_on_the_densest_cluster_of_stops_not_their_mean(db_session) -> None:
    # Five stops in a city centre, four strung out 10-40 km west: the mean lies 13 km west.
    centre = [(f"c{i}", -0.340 + 0.002 * i, 53.745) for i in range(5)]
    west = [(f"w{i}", -0.5 - 0.15 * i, 53.74) for i in range(4)]
    _insert_stops(db_session, centre + west)
    view = densest_stops(db_session)
    assert (view.lon, view.lat) == pytest.approx((-0.336, 53.745), abs=1e-6)
    assert view.zoom == CLUSTER_ZOOM
    assert opening_view(db_session, None, 12) == MapView(view.lon, view.lat, 12)
    assert opening_view(db_session, (-1.4, 50.9), None) == MapView(-1.4, 50.9, CLUSTER_ZOOM)


def test_a_stop_known_to_two_feeds_counts_once_in_the_cluster(db_session) -> None:
    # Two stops each known to a second feed (4 rows) lose to three single stops.
    _insert_stops(db_session, [("a1", -1.0, 52.0), ("a2", -1.001, 52.0), ("b1", -2.0, 52.0),
                               ("b2", -2.001, 52.0), ("b3", -2.002, 52.0)])
    _insert_stops_as_members(db_session)
    view = densest_stops(db_session)
    assert view.lon == pytest.approx(-2.001, abs=1e-6)


def _insert_stops_as_members(db_session) -> None:
    db_session.execute(
        sa.text(
            "INSERT INTO stops (feed_id, public_id, source_id, name, place_public_id, geom) "
            "SELECT feed_id, public_id || '-twin', source_id || '-twin', name, public_id, geom "
            "FROM stops WHERE public_id IN ('view-test:a1', 'view-test:a2')"
        )
    )


def test_the_report_page_opens_on_the_configured_view(settings) -> None:
    app = create_app(settings.with_overrides(map_centre=(-1.4, 50.9), map_zoom=15))
    html = app.test_client().get("/").get_data(as_text=True)
    assert 'data-view="-1.400000,50.900000,15"' in html


@pytest.mark.parametrize(
    "env, field",
    [
        ({"STREETSAFE_MAP_CENTRE": "53.7,-0.3,1"}, "STREETSAFE_MAP_CENTRE"),
        ({"STREETSAFE_MAP_CENTRE": "x,y"}, "STREETSAFE_MAP_CENTRE"),
        ({"STREETSAFE_MAP_CENTRE": "-0.3,95"}, "STREETSAFE_MAP_CENTRE"),
        ({"STREETSAFE_MAP_ZOOM": "25"}, "STREETSAFE_MAP_ZOOM"),
        ({"STREETSAFE_MAP_ZOOM": "near"}, "STREETSAFE_MAP_ZOOM"),
    ],
)
def test_map_view_settings_are_validated(env, field) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert field in str(raised.value)


def test_map_view_settings_are_read() -> None:
    settings = Settings.from_env({"STREETSAFE_MAP_CENTRE": " -0.3367, 53.7446 ",
                                  "STREETSAFE_MAP_ZOOM": "13"})
    assert settings.map_centre == (-0.3367, 53.7446) and settings.map_zoom == 13
    assert Settings.from_env({}).map_centre is None and Settings.from_env({}).map_zoom is None
