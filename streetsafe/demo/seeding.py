"""Synthetic reports for the demo (`streetsafe seed-demo`), clustered on the transit in the DB.

Reports are written through the ORM exactly as intake writes them (a `reports` row and one
`report_cells` row per configured resolution), so the rollup triggers see them the same way.
Every seeded report has `synthetic = true`, and none is dated after now. A few carry a
description awaiting moderation, so the dashboard's moderation queue has work to show.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import click
import h3
import sqlalchemy as sa
from geoalchemy2.elements import WKTElement
from sqlalchemy.orm import Session
from tqdm import tqdm

from ..config import Settings
from ..db import Database
from ..models import Report, ReportCell, ReportDescription
from ..reports.intake import to_hour


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
        occurred_at=to_hour(occurred_at),
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


def random_evening(
    rng: random.Random, days_back: int = 180, now: datetime | None = None
) -> datetime:
    """A time in the last `days_back` days, more often in the evening, never after `now`."""
    now = now or datetime.now(UTC)
    day = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=rng.randrange(days_back))
    hour = rng.choice([7, 8, 12, 16, 17, 18, 19, 20, 21, 22, 22, 23, 23, 0, 1])
    when = day.replace(hour=hour, minute=rng.randrange(60))
    return when - timedelta(days=1) if when > now else when  # today's evening may be ahead


# Descriptions for the moderation queue: invented, some with contact details to scrub.
DEMO_DESCRIPTIONS = (
    "Group shouting at people waiting at the stop, nobody around to help.",
    "Man followed me off the bus and along the road. Call me on 07700 900123.",
    "The underpass light has been out for weeks, it feels unsafe after dark.",
    "Someone made comments on the top deck; driver did not notice.",
    "Drinking near the shelter every evening; email me at demo@example.org.",
)


CATEGORY_WEIGHTS = {
    "badly_lit": 8, "isolated": 5, "no_cctv": 4, "verbal_harassment_single": 4,
    "intimidating_behaviour": 4, "followed": 3, "long_wait_after_dark": 4, "no_staff": 3,
    "overcrowding": 3, "drugs_alcohol": 2, "unwanted_sexual_behaviour": 2, "other": 1,
}  # fmt: skip
FALLBACK_CENTRE = (-0.3367, 53.7446)  # Hull city centre, when no transit is loaded
METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class Site:
    """Where a cluster of synthetic reports goes, and how they are snapped."""

    lon: float
    lat: float
    context: str
    mode: str | None = None
    stop: StopRef | None = None
    segment: SegmentRef | None = None


STOPS_SQL = """
SELECT id, public_id, name, mode, ST_X(geom), ST_Y(geom) FROM stops
 WHERE location_type = 0 ORDER BY public_id LIMIT 5000
"""
SEGMENTS_SQL = """
SELECT * FROM (
    SELECT ro.id, ro.public_id, ro.short_name, ro.mode, rs.direction, s.public_id, s.name,
           lead(s.public_id) OVER w AS next_id, lead(s.name) OVER w, ST_X(s.geom), ST_Y(s.geom),
           ST_X(lead(s.geom) OVER w), ST_Y(lead(s.geom) OVER w)
      FROM route_stops rs JOIN routes ro ON ro.id = rs.route_id JOIN stops s ON s.id = rs.stop_id
    WINDOW w AS (PARTITION BY rs.route_id, rs.direction ORDER BY rs.seq)
) AS pairs WHERE pairs.next_id IS NOT NULL ORDER BY 2, 5, 6 LIMIT 5000
"""


def demo_sites(session: Session, rng: random.Random, clusters: int = 6) -> list[Site]:
    """Hot stops, hot route segments and streets near them, from the transit in the database."""
    stops = session.execute(sa.text(STOPS_SQL)).all()
    if not stops:
        lon, lat = FALLBACK_CENTRE
        return [Site(lon + rng.uniform(-0.01, 0.01), lat + rng.uniform(-0.006, 0.006), "street")
                for _ in range(clusters)]  # fmt: skip
    sites = []
    for sid, public_id, name, mode, lon, lat in rng.sample(stops, min(clusters, len(stops))):
        ref = StopRef(sid, public_id, name)
        sites.append(Site(lon, lat, "at_stop", mode or "bus", stop=ref))
        sites.append(Site(lon + 0.0015, lat + 0.0008, "street"))
    pairs = session.execute(sa.text(SEGMENTS_SQL)).all()
    for row in rng.sample(pairs, min(clusters, len(pairs))):
        ref = SegmentRef(row[0], row[1], row[2], row[4], row[5], row[6], row[7], row[8])
        middle = ((row[9] + row[11]) / 2, (row[10] + row[12]) / 2)
        sites.append(Site(*middle, "on_vehicle", row[3], segment=ref))
    return sites


def _jitter(rng: random.Random, lon: float, lat: float, radius_m: float) -> tuple[float, float]:
    dx, dy = (rng.uniform(-radius_m, radius_m) / METRES_PER_DEGREE for _ in range(2))
    return lon + dx / max(math.cos(math.radians(lat)), 0.01), lat + dy


def _neighbourhood_at(session: Session, lon: float, lat: float) -> int | None:
    return session.scalar(
        sa.text("SELECT id FROM neighbourhoods WHERE ST_Covers(geom, "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) ORDER BY id LIMIT 1"),
        {"lon": lon, "lat": lat},
    )  # fmt: skip


def seed_reports(
    session: Session, resolutions: tuple[int, ...], count: int = 600, seed: int = 5
) -> int:
    """Add `count` synthetic reports clustered on demo sites; returns how many were added."""
    rng = random.Random(seed)
    sites = demo_sites(session, rng)
    hoods = {id(s): _neighbourhood_at(session, s.lon, s.lat) for s in sites}
    categories, weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
    for i in tqdm(range(count), desc="synthetic reports", unit="report", disable=count < 1000):
        # Nine in ten reports go to a cluster, the rest anywhere near one: every layer has
        # features above the threshold and some below it.
        site = sites[i % len(sites)]
        radius_m = 25.0 if rng.random() < 0.9 else 600.0
        lon, lat = _jitter(rng, site.lon, site.lat, radius_m)
        picked = sorted(set(rng.choices(categories, weights, k=rng.choice([1, 1, 2]))))
        report = new_report(
            lon=lon, lat=lat, categories=picked, occurred_at=random_evening(rng),
            resolutions=resolutions, context=site.context, mode=site.mode, stop=site.stop,
            segment=site.segment, neighbourhood_id=hoods[id(site)], synthetic=True,
        )  # fmt: skip
        session.add(report)
        if i < len(DEMO_DESCRIPTIONS):
            session.add(ReportDescription(report_id=report.id, body=DEMO_DESCRIPTIONS[i]))
        if i % 200 == 199:
            session.flush()
    session.flush()
    return count


def has_synthetic_reports(session: Session) -> bool:
    """True when synthetic reports were seeded already."""
    return bool(session.scalar(sa.text("SELECT EXISTS (SELECT 1 FROM reports WHERE synthetic)")))


def seed_demo_reports(settings: Settings, count: int = 600, force: bool = False) -> int:
    """Seed synthetic reports unless some exist (or `force`); returns how many were added."""
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            if has_synthetic_reports(session) and not force:
                click.echo("synthetic reports already seeded; skipping", err=True)
                return 0
            return seed_reports(session, settings.h3_resolutions, count)
    finally:
        database.dispose()
