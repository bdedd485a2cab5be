"""The basemap in a real browser: the self-hosted PMTiles archive draws with no request to any
other host (read from the app in Range requests), and a remote tile layer sends only the origin.
"""

from __future__ import annotations

import re
import uuid

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy.orm import Session

from streetsafe.demo.basemap import ATTRIBUTION
from streetsafe.demo.transit import demo_dir
from streetsafe.models import Neighbourhood
from streetsafe.team.service import create_team

DEMO_ARCHIVE = demo_dir() / "hull-basemap.pmtiles"
BACKGROUND = (0xF3, 0xF1, 0xEC)  # basemap.js COLOURS.land

# Pixels of the basemap's canvases that are neither transparent nor the land colour: drawn
# boundaries, routes and stops.
DRAWN_PIXELS_JS = """
([r, g, b]) => {
  let drawn = 0;
  for (const canvas of document.querySelectorAll('#map canvas.leaflet-tile')) {
    if (!canvas.width) continue;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] && (data[i] !== r || data[i + 1] !== g || data[i + 2] !== b)) drawn++;
    }
  }
  return drawn;
}
"""


def _record_archive_reads(page) -> list[dict]:
    reads: list[dict] = []

    def on_response(response) -> None:
        if response.url.split("?")[0].endswith("/basemap.pmtiles"):
            range_ = response.request.headers.get("range")
            reads.append({"range": range_, "status": response.status, "url": response.url})

    page.on("response", on_response)
    return reads


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    return errors


def _assert_basemap_drawn(page, traffic, reads, origin: str) -> None:
    page.wait_for_selector("#map canvas.leaflet-tile", state="attached")
    page.wait_for_function(f"() => ({DRAWN_PIXELS_JS})({list(BACKGROUND)}) > 500")
    assert reads, "the archive was never fetched"
    assert all(read["url"].startswith(f"{origin}/basemap.pmtiles") for read in reads)
    assert all(re.fullmatch(r"bytes=\d+-\d+", read["range"] or "") for read in reads), reads
    assert {read["status"] for read in reads} == {206}
    assert traffic.blocked == [], f"requests to other hosts: {traffic.blocked}"
    assert page.locator("#map img.leaflet-tile").count() == 0  # no raster tile at all


def test_the_self_hosted_basemap_draws_and_nothing_leaves(serve, desktop_page) -> None:
    page, traffic = desktop_page
    server = serve(basemap_pmtiles=str(DEMO_ARCHIVE))
    reads, errors = _record_archive_reads(page), _console_errors(page)
    page.goto(f"{server.url}/")
    _assert_basemap_drawn(page, traffic, reads, server.url)
    assert ATTRIBUTION in page.locator(".leaflet-control-attribution").inner_text()
    page.locator("#map").screenshot(path=str(page.shots.folder / "map.png"))
    page.get_by_role("button", name="Zoom in").click()  # zoom 15: stops and their names
    page.wait_for_timeout(500)
    page.shots.take(page, "self-hosted-basemap")
    # An OpenStreetMap extract in the Protomaps schema gets the bundled light style's rules.
    flavour = "() => protomapsL.leafletLayer({url: '/basemap.pmtiles', flavor: 'light'})"
    assert page.evaluate(f"() => ({flavour})().paintRules.length") > 20
    assert errors == []
    assert traffic.blocked == []


def test_the_team_dashboard_draws_the_same_basemap(serve, team_page, browser_engine) -> None:
    page, traffic = team_page
    suffix = uuid.uuid4().hex[:6]
    with Session(browser_engine) as session:
        area = Neighbourhood(
            code=f"HUL-B-{suffix}", name="Hull basemap test",
            geom=from_shape(MultiPolygon([box(-0.352, 53.738, -0.327, 53.750)]), 4326),
        )  # fmt: skip
        session.add(area)
        session.flush()
        token = create_team(session, f"Hull basemap team {suffix}", [area.code])
        session.commit()
    server = serve(basemap_pmtiles=str(DEMO_ARCHIVE))
    reads, errors = _record_archive_reads(page), _console_errors(page)
    page.goto(f"{server.url}/team")
    page.get_by_label("Team token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/team/?$"))
    _assert_basemap_drawn(page, traffic, reads, server.url)
    page.shots.take(page, "dashboard-basemap")
    assert errors == []


def test_remote_tiles_send_only_the_origin_as_referrer(serve, desktop_page) -> None:
    page, traffic = desktop_page
    server = serve()  # the OpenStreetMap tile URL; the test aborts every tile request
    referrers: list[str | None] = []

    def on_request(request) -> None:
        if "tile.openstreetmap.org" in request.url:
            referrers.append(request.headers.get("referer"))

    page.on("request", on_request)
    page.goto(f"{server.url}/?where=a-secret-street")
    page.wait_for_selector("#map img.leaflet-tile", state="attached")
    policies = page.eval_on_selector_all(
        "#map img.leaflet-tile", "tiles => tiles.map(t => t.referrerPolicy)"
    )
    assert policies and set(policies) == {"strict-origin-when-cross-origin"}
    assert referrers, "no tile was requested"
    assert set(referrers) == {f"{server.url}/"}  # the origin alone: no path, no query
    assert traffic.blocked and all("tile.openstreetmap.org" in url for url in traffic.blocked)
    assert page.locator("script[src*=protomaps]").count() == 0
