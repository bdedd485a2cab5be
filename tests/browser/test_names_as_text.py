"""Stop and route names from feeds are text in every tooltip, never HTML (page and dashboard).

The API answers are replaced in the browser with names that are markup, so that the test
checks only what the scripts do with a name.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, box
from sqlalchemy.orm import Session

from streetsafe.models import Neighbourhood
from streetsafe.team.service import create_team

MARKUP = '<img src="/markup-ran" id="injected"><b>Bold</b> stop'
ROUTE_MARKUP = '<img src="/route-markup-ran" id="injected-route">'
LON, LAT = -0.3396, 53.7447  # the middle of the browser tests' Hull network


def _point(id_: str, name: str, lon: float, lat: float, **props) -> dict:
    return {
        "type": "Feature",
        "id": id_,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"id": id_, "name": name, **props},
    }


def _fulfil(route, body: dict) -> None:
    route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


def _no_markup(page, requested: list[str]) -> None:
    assert page.locator(".leaflet-tooltip img, .leaflet-tooltip b").count() == 0
    assert page.locator("#injected, #injected-route").count() == 0
    assert not [url for url in requested if "markup-ran" in url]


def test_the_report_page_shows_stop_names_as_text(serve, desktop_page) -> None:
    page, _traffic = desktop_page
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    stop = _point("evil:1", MARKUP, LON, LAT, mode="bus", distance_m=12.0, routes=["5"])
    page.route(
        re.compile(r".*/api/v1/transit/stops/nearby.*"),
        lambda route: _fulfil(route, {"type": "FeatureCollection", "features": [stop]}),
    )
    server = serve()
    page.goto(server.url + "/")
    page.locator("#category-groups input").first.wait_for()
    page.get_by_label("At a stop or station").check()
    page.locator('#stop-list input[value="evil:1"]').wait_for()
    assert MARKUP in page.locator("#stop-list").inner_text()
    page.locator('path[data-stop-id="evil:1"]').first.hover()
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert tooltip.inner_text() == MARKUP
    _no_markup(page, requested)


@pytest.fixture
def markup_team(browser_engine) -> str:
    suffix = uuid.uuid4().hex[:6]
    with Session(browser_engine) as session:
        area = Neighbourhood(
            code=f"MRK-{suffix}",
            name="Markup",
            geom=from_shape(MultiPolygon([box(-0.35, 53.74, -0.33, 53.75)]), 4326),
        )
        session.add(area)
        session.flush()
        token = create_team(session, f"Markup team {suffix}", [area.code])
        session.commit()
    return token


def test_the_dashboard_shows_stop_and_route_names_as_text(serve, team_page, markup_team) -> None:
    page, _traffic = team_page
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    stops = {"type": "FeatureCollection", "features": [_point("evil:1", MARKUP, LON, LAT, count=7)]}
    segment = {
        "type": "Feature",
        "id": "evil:seg",
        "geometry": {"type": "LineString", "coordinates": [[LON, LAT], [LON + 0.004, LAT]]},
        "properties": {
            "route": ROUTE_MARKUP,  # the names the route-segments layer sends
            "from_stop": MARKUP,
            "to_stop": "<i>next</i>",
            "count": 3,
        },
    }
    segments = {"type": "FeatureCollection", "features": [segment]}
    page.route(re.compile(r".*/api/v1/team/hotspots/stops.*"), lambda r: _fulfil(r, stops))
    page.route(
        re.compile(r".*/api/v1/team/hotspots/route-segments.*"), lambda r: _fulfil(r, segments)
    )
    server = serve()
    page.goto(f"{server.url}/team")
    page.get_by_label("Team token").fill(markup_team)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#status").filter(has_text=re.compile(r"\d+ hexagons?,")).wait_for()
    texts = page.evaluate(
        """() => {
          const texts = [];
          state.layers.eachLayer((group) => group.eachLayer && group.eachLayer((layer) => {
            if (layer.getTooltip && layer.getTooltip()) {
              layer.openTooltip();
              texts.push(layer.getTooltip().getElement().textContent);
            }
          }));
          return texts;
        }"""
    )
    assert f"{MARKUP}: 7" in texts
    assert f"route {ROUTE_MARKUP}: {MARKUP} → <i>next</i>: 3" in texts
    _no_markup(page, requested)
    assert page.locator(".leaflet-tooltip i").count() == 0
