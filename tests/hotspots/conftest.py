"""Fixtures for hotspot tests: a small transit network and reports written as intake does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from geoalchemy2.elements import WKTElement
from sqlalchemy.orm import Session

from streetsafe.config import Settings
from streetsafe.demo.seeding import SegmentRef, StopRef, new_report
from streetsafe.models import Feed, Neighbourhood, Route, RouteShape, RouteStop, Stop

RESOLUTIONS = (7, 8, 9, 10)
# Three stops along a straight east-west street in Hull, 400 m apart.
STOP_LONLATS = [(-0.3400, 53.7440), (-0.3340, 53.7440), (-0.3280, 53.7440)]


@dataclass
class Transit:
    """The fixture's stops, route, and the stretch between its first two stops."""

    stops: list[Stop]
    route: Route
    shape: RouteShape
    neighbourhood: Neighbourhood

    def stop_ref(self, i: int) -> StopRef:
        stop = self.stops[i]
        return StopRef(stop.id, stop.public_id, stop.name)

    def segment_ref(self, i: int) -> SegmentRef:
        a, b = self.stops[i], self.stops[i + 1]
        return SegmentRef(
            self.route.id, self.route.public_id, self.route.short_name, 0,
            a.public_id, a.name, b.public_id, b.name,
        )  # fmt: skip


def make_transit(session: Session) -> Transit:
    """Insert a feed with three stops on one bus route, and a neighbourhood around them."""
    feed = Feed(name="test-feed", kind="gtfs")
    session.add(feed)
    session.flush()
    stops = [
        Stop(feed_id=feed.id, public_id=f"test:S{i}", source_id=f"S{i}", name=f"Stop {i}",
             mode="bus", geom=WKTElement(f"POINT({lon} {lat})", srid=4326))
        for i, (lon, lat) in enumerate(STOP_LONLATS)
    ]  # fmt: skip
    route = Route(feed_id=feed.id, public_id="test:R1", source_id="R1", short_name="1",
                  mode="bus", route_type=3)  # fmt: skip
    session.add_all([*stops, route])
    session.flush()
    line = ", ".join(f"{lon} {lat}" for lon, lat in STOP_LONLATS)
    shape = RouteShape(route_id=route.id, direction=0, length_m=797.0,
                       geom=WKTElement(f"LINESTRING({line})", srid=4326))  # fmt: skip
    session.add(shape)
    session.flush()
    session.add_all(
        RouteStop(route_id=route.id, direction=0, seq=i + 1, stop_id=stop.id,
                  shape_id=shape.id, distance_m=i * 398.5)
        for i, stop in enumerate(stops)
    )  # fmt: skip
    hood = Neighbourhood(code="HU-TEST", name="Test ward",
                         geom=WKTElement("MULTIPOLYGON(((-0.36 53.73, -0.31 53.73, -0.31 53.76, "
                                         "-0.36 53.76, -0.36 53.73)))", srid=4326))  # fmt: skip
    session.add(hood)
    session.flush()
    return Transit(stops, route, shape, hood)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Test settings without perturbation: these tests check thresholds, rounding and merging
    to the exact number; tests/privacy checks the perturbed numbers."""
    from ..conftest import settings_for

    return settings_for(database_url, perturbation_max=0)


@pytest.fixture
def transit(db_session: Session) -> Transit:
    return make_transit(db_session)


AddReports = Callable[..., None]


@pytest.fixture
def add_reports(db_session: Session) -> AddReports:
    """Add `n` reports at a point (all other keywords go to new_report)."""

    def add(n: int, lon: float, lat: float, **kwargs: object) -> None:
        kwargs.setdefault("categories", ["badly_lit"])
        kwargs.setdefault("occurred_at", datetime(2025, 3, 7, 20, 30, tzinfo=UTC))
        db_session.add_all(
            new_report(lon=lon, lat=lat, resolutions=RESOLUTIONS, **kwargs) for _ in range(n)
        )
        db_session.flush()

    return add
