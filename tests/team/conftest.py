"""Two neighbourhoods, a team for each, and reports inside them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import h3
import pytest
import redis
import sqlalchemy as sa
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box

from streetsafe.models import Neighbourhood, Report, ReportCell, ReportDescription
from streetsafe.team.service import create_team
from tests.conftest import redis_url

# Two side-by-side squares in Hull, about 1.3 km wide.
AREA_A = box(-0.36, 53.74, -0.34, 53.75)
AREA_B = box(-0.34, 53.74, -0.32, 53.75)


@dataclass
class TeamWorld:
    token_a: str
    token_b: str
    area_a: int
    area_b: int
    reports_a: list[uuid.UUID]
    reports_b: list[uuid.UUID]


def add_report(session, point: Point, area: int, when: datetime, **fields) -> uuid.UUID:
    """Store a report row as intake would (only the columns team views read)."""
    report = Report(
        id=uuid.uuid4(),
        context=fields.pop("context", "street"),
        categories=fields.pop("categories", ["badly_lit"]),
        occurred_at=when,
        geom=from_shape(point, srid=4326),
        neighbourhood_id=area,
        **fields,
    )
    report.cells = [
        ReportCell(res=res, cell=h3.str_to_int(h3.latlng_to_cell(point.y, point.x, res)))
        for res in (7, 8, 9, 10)
    ]
    session.add(report)
    session.flush()
    return report.id


@pytest.fixture(autouse=True)
def fresh_signin_counters() -> None:
    """Each test starts with no failed sign-ins counted (they live in the test Redis)."""
    client = redis.Redis.from_url(redis_url())
    keys = list(client.scan_iter("streetsafe:signin:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def world(db_session) -> TeamWorld:
    a = Neighbourhood(code="HUL-A", name="Area A", geom=from_shape(MultiPolygon([AREA_A]), 4326))
    b = Neighbourhood(code="HUL-B", name="Area B", geom=from_shape(MultiPolygon([AREA_B]), 4326))
    db_session.add_all([a, b])
    db_session.flush()
    token_a = create_team(db_session, "Team A", ["HUL-A"])
    token_b = create_team(db_session, "Team B", ["HUL-B"])
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    reports_a = [
        add_report(db_session, Point(-0.35, 53.745), a.id, now - timedelta(days=i), context=ctx)
        for i, ctx in enumerate(["street", "at_stop", "on_vehicle", "street"])
    ]
    reports_b = [add_report(db_session, Point(-0.33, 53.745), b.id, now - timedelta(days=1))]
    db_session.add(
        ReportDescription(report_id=reports_a[0], body="Man at AB12 CDE, call 07700 900123")
    )
    db_session.add(ReportDescription(report_id=reports_b[0], body="Other team's text"))
    db_session.commit()
    return TeamWorld(token_a, token_b, a.id, b.id, reports_a, reports_b)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def count(db_session, table: str) -> int:
    return db_session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
