"""The dashboard's benefits panel in a real browser: record an action, read its effect."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import h3
import pytest
import sqlalchemy as sa
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, Polygon, box
from sqlalchemy.orm import Session

from streetsafe.models import Neighbourhood, Report, ReportCell
from streetsafe.team.service import create_team

from .helpers import assert_accessible
from .test_team_dashboard import _sign_in, _wait_loaded

# An area in Leeds, away from the other browser tests' places.
AREA = box(-1.56, 53.79, -1.54, 53.81)
CENTRE = Point(-1.55, 53.80)
CONTROL = Point(-1.544, 53.793)  # about 800 m south-east
WEEKS = 12


def _reports(session: Session, point: Point, area_id: int, started, weekly: list[int]) -> None:
    for i, n in enumerate(weekly):
        when = datetime.combine(started + timedelta(weeks=i - WEEKS, days=2), time(12), UTC)
        for _ in range(n):
            report = Report(id=uuid.uuid4(), context="street", categories=["badly_lit"],
                            occurred_at=when, geom=from_shape(point, 4326),
                            neighbourhood_id=area_id)  # fmt: skip
            report.cells = [
                ReportCell(res=r, cell=h3.str_to_int(h3.latlng_to_cell(point.y, point.x, r)))
                for r in (7, 8, 9, 10)
            ]
            session.add(report)


def team_whose_place_improved(
    engine, name: str, area: Polygon, centre: Point, control: Point
) -> tuple[str, str]:
    """A team (token, start date) whose action place fell from 12 to 4 reports a week while
    its control place held at 12, in one neighbourhood `area` of its own."""
    suffix = uuid.uuid4().hex[:6]
    with Session(engine) as session:
        neighbourhood = Neighbourhood(code=f"{name[:3].upper()}-{suffix}", name=name,
                                      geom=from_shape(MultiPolygon([area]), 4326))  # fmt: skip
        session.add(neighbourhood)
        session.flush()
        today = session.scalar(sa.text("SELECT hotspot_local_day(now())"))
        started = today - timedelta(weeks=WEEKS)
        _reports(session, centre, neighbourhood.id, started, [12] * WEEKS + [4] * WEEKS)
        _reports(session, control, neighbourhood.id, started, [12] * (2 * WEEKS))
        token = create_team(session, f"{name} team {suffix}", [neighbourhood.code])
        session.commit()
    return token, started.isoformat()


@pytest.fixture
def leeds_team(browser_engine) -> tuple[str, str]:
    return team_whose_place_improved(browser_engine, "Leeds", AREA, CENTRE, CONTROL)


def test_a_team_records_an_action_and_reads_its_benefit(
    team_page, serve, leeds_team, tmp_path
) -> None:
    page, _traffic = team_page
    token, started = leeds_team
    _sign_in(page, serve(), token)
    _wait_loaded(page)
    form = page.locator("#action-form")
    form.get_by_label("Kind").select_option("lighting")
    form.get_by_label("What").fill("New street lights")
    form.get_by_label("From").fill(started)
    form.get_by_label("Radius (m)").fill("150")
    page.evaluate(f"state.map.fire('click', {{latlng: L.latLng({CENTRE.y}, {CENTRE.x})}})")
    form.get_by_role("button", name="Record action").click()
    item = page.locator("#actions li").filter(has_text="New street lights")
    item.wait_for()
    assert "Lighting from" in item.inner_text() and "a circle of 150 m" in item.inner_text()
    item.get_by_role("button", name="Show effect").click()
    verdict = page.locator("#verdict")
    verdict.filter(has_text="Reports fell").wait_for()
    assert "more than in the comparison area" in verdict.inner_text()
    assert page.locator("#evaluation-chart").is_visible()
    page.shots.take(page, "evaluation")
    assert_accessible(page, "benefits")

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Evaluation (CSV)").click()
    saved = tmp_path / "evaluation.csv"
    csv_download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0] == "week,week_starts_on,period,response,buffer,control"
    assert lines[1].endswith(",before,12,0,12") and len(lines) == 1 + 2 * WEEKS
    with page.expect_download() as png_download:
        page.get_by_role("link", name="Chart (PNG)").click()
    image = tmp_path / "chart.png"
    png_download.value.save_as(image)
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    page.get_by_role("button", name="Apply").click()  # reloads the audit trail
    trail = page.locator("#audit")
    trail.filter(has_text="downloaded the evaluation of action").wait_for()
    assert "recorded action" in trail.inner_text()


def test_an_action_error_shows_beside_its_form(team_page, serve, leeds_team) -> None:
    page, _traffic = team_page
    token, _started = leeds_team
    _sign_in(page, serve(), token)
    _wait_loaded(page)
    form = page.locator("#action-form")
    form.get_by_label("From").fill("2026-01-10")
    form.get_by_label("Until (optional)").fill("2026-01-01")
    form.get_by_role("button", name="Record action").click()
    error = form.locator("#action-error")
    error.filter(has_text="ended_on").wait_for()
    assert page.locator("#actions li").first.inner_text() == "No actions recorded yet."
