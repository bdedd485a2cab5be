"""The team dashboard in a real browser: sign in, own area only, filter, download, moderate."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import h3
import pytest
import sqlalchemy as sa
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box, shape
from sqlalchemy.orm import Session

from streetsafe.models import Neighbourhood, Report, ReportCell, ReportDescription
from streetsafe.team.service import create_team

from .helpers import assert_accessible

# Two areas in York, away from the Hull network the report-page tests use.
AREA_A = box(-1.10, 53.95, -1.08, 53.97)
AREA_B = box(-1.08, 53.95, -1.06, 53.97)
PLACE_STREET = Point(-1.095, 53.955)
PLACE_STOP = Point(-1.085, 53.965)
PLACE_B = Point(-1.07, 53.96)
DESCRIPTION = "He followed me, ring me on 07700 900123 if you need more"


def _report(session: Session, point: Point, area_id: int, context: str, days_ago: int) -> Report:
    report = Report(
        id=uuid.uuid4(),
        context=context,
        categories=["badly_lit", "followed"] if context == "street" else ["no_staff"],
        occurred_at=datetime.now(UTC) - timedelta(days=days_ago, hours=3),
        geom=from_shape(point, 4326),
        neighbourhood_id=area_id,
    )
    report.cells = [
        ReportCell(res=r, cell=h3.str_to_int(h3.latlng_to_cell(point.y, point.x, r)))
        for r in (7, 8, 9, 10)
    ]
    session.add(report)
    return report


@pytest.fixture
def york_teams(browser_engine) -> dict[str, str]:
    """Two teams with reports in their own areas; one pending description in area A."""
    suffix = uuid.uuid4().hex[:6]
    with Session(browser_engine) as session:
        a = Neighbourhood(
            code=f"YRK-A-{suffix}", name="York A", geom=from_shape(MultiPolygon([AREA_A]), 4326)
        )
        b = Neighbourhood(
            code=f"YRK-B-{suffix}", name="York B", geom=from_shape(MultiPolygon([AREA_B]), 4326)
        )
        session.add_all([a, b])
        session.flush()
        reports = [_report(session, PLACE_STREET, a.id, "street", n) for n in range(6)]
        reports += [_report(session, PLACE_STOP, a.id, "at_stop", n) for n in range(3)]
        reports += [_report(session, PLACE_B, b.id, "street", n) for n in range(4)]
        session.flush()
        session.add(ReportDescription(report_id=reports[0].id, body=DESCRIPTION))
        tokens = {
            "a": create_team(session, f"York A team {suffix}", [a.code]),
            "b": create_team(session, f"York B team {suffix}", [b.code]),
        }
        session.commit()
    return tokens


def _sign_in(page, server, token: str) -> None:
    page.goto(f"{server.url}/team")
    assert page.url.endswith("/team/login")
    page.get_by_label("Team token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/team/?$"))


def _wait_loaded(page) -> str:
    status = page.locator("#status")
    status.filter(has_text=re.compile(r"\d+ hexagons?,")).wait_for()
    return status.inner_text()


def test_team_signs_in_filters_downloads_and_moderates(
    team_page, serve, york_teams, browser_engine, tmp_path
) -> None:
    page, _traffic = team_page
    server = serve()
    _sign_in(page, server, york_teams["a"])
    assert _wait_loaded(page).startswith("2 hexagons")  # area A's two places, not area B's
    page.shots.take(page, "dashboard")
    assert_accessible(page, "dashboard")
    rows = page.locator("#insights dd").first.inner_text()
    assert rows.startswith("9 ")  # nine reports in area A this period

    page.get_by_label("Context").select_option("at_stop")
    page.get_by_role("button", name="Apply").click()
    page.locator("#status").filter(has_text="1 hexagon,").wait_for()
    page.shots.take(page, "filtered")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Hotspot cells (geojson)").click()
    saved = tmp_path / "cells.geojson"
    download_info.value.save_as(saved)
    collection = json.loads(saved.read_text())
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"]["count"] for f in collection["features"]] == [3]
    polygon = shape(collection["features"][0]["geometry"])
    ring = collection["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and polygon.is_valid and polygon.exterior.is_ccw
    assert polygon.contains(PLACE_STOP)  # lon/lat order

    queued = page.locator("#moderation li").first
    queued.locator("blockquote").filter(has_text="[phone]").wait_for()
    assert "900123" not in queued.inner_text()
    queued.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Apply").click()  # context filter back on street reports
    page.get_by_label("Context").select_option("")
    page.get_by_role("button", name="Apply").click()
    page.locator("#reports blockquote").filter(has_text="[phone]").wait_for()
    page.shots.take(page, "approved")
    with browser_engine.connect() as connection:
        status, body = connection.execute(
            sa.text(
                "SELECT d.status, d.body FROM report_descriptions d "
                "JOIN reports r ON r.id = d.report_id "
                "JOIN neighbourhoods n ON n.id = r.neighbourhood_id WHERE n.code LIKE 'YRK-A-%' "
                "ORDER BY d.moderated_at DESC NULLS LAST LIMIT 1"
            )
        ).one()
    assert status == "approved"
    assert "[phone]" in body and "900123" not in body  # only the scrubbed text is kept

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{server.url}/team/login")


def test_another_teams_area_is_refused_in_the_browser(team_page, serve, york_teams) -> None:
    page, _traffic = team_page
    server = serve()
    _sign_in(page, server, york_teams["b"])
    assert _wait_loaded(page).startswith("1 hexagon,")
    options = page.locator('select[name="neighbourhood"] option').all_inner_texts()
    assert not any("YRK-A" in option for option in options)
    status = page.evaluate(
        "async (code) => (await fetch(`/api/v1/team/hotspots/cells?neighbourhood=${code}`)).status",
        [o for o in page.locator('select[name="neighbourhood"] option').all_inner_texts() if o][
            0
        ].replace("YRK-B", "YRK-A"),
    )
    assert status == 403
