"""Synthetic reports for the demo (`streetsafe seed-demo`), clustered on the transit in the DB.

Reports are written through the ORM exactly as intake writes them (a `reports` row and one
`report_cells` row per configured resolution), so the rollup triggers see them the same way.
Every seeded report has `synthetic = true`.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import h3
from geoalchemy2.elements import WKTElement

from ..models import Report, ReportCell


@dataclass(frozen=True)
class StopRef:
    """The snapped-stop fields of a report."""

    id: int | None
    public_id: str
    name: str


@dataclass(frozen=True)
class SegmentRef:
    """The snapped route and stretch between two consecutive stops of a report."""

    route_id: int | None
    route_public_id: str
    route_short_name: str | None
    direction: int
    from_public_id: str
    from_name: str
    to_public_id: str
    to_name: str


def new_report(
    *,
    lon: float,
    lat: float,
    categories: list[str],
    occurred_at: datetime,
    resolutions: tuple[int, ...],
    context: str = "street",
    mode: str | None = None,
    stop: StopRef | None = None,
    segment: SegmentRef | None = None,
    neighbourhood_id: int | None = None,
    synthetic: bool = False,
) -> Report:
    """A Report with its cells, as intake stores it (not yet added to a session)."""
    report = Report(
        id=uuid.uuid4(),
        context=context,
        categories=categories,
        occurred_at=occurred_at,
        geom=WKTElement(f"POINT({lon} {lat})", srid=4326),
        mode=mode,
        neighbourhood_id=neighbourhood_id,
        synthetic=synthetic,
    )
    if stop:
        report.stop_id, report.stop_public_id, report.stop_name = stop.id, stop.public_id, stop.name
    if segment:
        report.route_id = segment.route_id
        report.route_public_id = segment.route_public_id
        report.route_short_name = segment.route_short_name
        report.route_direction = segment.direction
        report.segment_from_public_id = segment.from_public_id
        report.segment_from_name = segment.from_name
        report.segment_to_public_id = segment.to_public_id
        report.segment_to_name = segment.to_name
    report.cells = [
        ReportCell(res=res, cell=h3.str_to_int(h3.latlng_to_cell(lat, lon, res)))
        for res in resolutions
    ]
    return report


def random_evening(rng: random.Random, days_back: int = 180) -> datetime:
    """A time in the last `days_back` days, more often in the evening."""
    day = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        days=rng.randrange(days_back)
    )
    hour = rng.choice([7, 8, 12, 16, 17, 18, 19, 20, 21, 22, 22, 23, 23, 0, 1])
    return day.replace(hour=hour, minute=rng.randrange(60))
