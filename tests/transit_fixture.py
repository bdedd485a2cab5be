"""A small hand-made transit network, inserted through the ORM inside the test's transaction.

Route "7" (bus) runs east along latitude 50.9 from stop Alpha (-1.40) via Bravo (-1.39) to
Charlie (-1.38), and back (direction 1). Route "T1" (tram) runs north-south at -1.30. A
neighbourhood square covers the western half; a smaller one inside it covers Alpha.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe.models import Feed, Neighbourhood, Route, RouteShape, RouteStop, Stop

LAT = 50.9


@dataclass
class SmallFeed:
    feed: Feed
    stops: dict[str, Stop]
    routes: dict[str, Route]
    neighbourhoods: dict[str, Neighbourhood]


def _metres(session: Session, sql: str, **params: object) -> float:
    return float(session.scalar(sa.text(sql), params))


def _line(session: Session, route: Route, direction: int, coords: list[tuple[float, float]]):
    wkt = "LINESTRING(" + ", ".join(f"{lon} {lat}" for lon, lat in coords) + ")"
    length_m = _metres(session, "SELECT ST_Length(ST_GeomFromText(:w, 4326)::geography)", w=wkt)
    shape = RouteShape(
        route_id=route.id, direction=direction, length_m=length_m, geom=f"SRID=4326;{wkt}"
    )
    session.add(shape)
    session.flush()
    return shape, wkt


def _sequence(session: Session, route: Route, direction: int, shape, wkt, stops: list[Stop]):
    for seq, stop in enumerate(stops, start=1):
        along = _metres(
            session,
            "SELECT ST_LineLocatePoint(ST_GeomFromText(:w, 4326), s.geom) * :len "
            "FROM stops s WHERE s.id = :id",
            w=wkt,
            len=shape.length_m,
            id=stop.id,
        )
        session.add(
            RouteStop(
                route_id=route.id,
                direction=direction,
                seq=seq * 10,
                stop_id=stop.id,
                shape_id=shape.id,
                distance_m=along,
            )
        )


def _stop(feed: Feed, code: str, name: str, lon: float, lat: float, mode: str | None) -> Stop:
    return Stop(
        feed_id=feed.id,
        public_id=f"test:{code}",
        source_id=code,
        name=name,
        mode=mode,
        geom=f"SRID=4326;POINT({lon} {lat})",
    )


def make_small_feed(session: Session) -> SmallFeed:
    """Insert the network described in the module docstring; returns its rows."""
    feed = Feed(name="test", kind="gtfs")
    session.add(feed)
    session.flush()
    stops = {
        "A": _stop(feed, "A", "Alpha", -1.40, LAT, None),
        "B": _stop(feed, "B", "Bravo", -1.39, LAT, None),
        "C": _stop(feed, "C", "Charlie", -1.38, LAT, None),
        "N": _stop(feed, "N", "North Tram", -1.30, 50.91, "tram"),
        "S": _stop(feed, "S", "South Tram", -1.30, 50.89, "tram"),
    }
    session.add_all(stops.values())
    routes = {
        "7": Route(feed_id=feed.id, public_id="test:R7", source_id="R7", short_name="7",
                   long_name="Alpha - Charlie", mode="bus", route_type=3),
        "T1": Route(feed_id=feed.id, public_id="test:T1", source_id="T1", short_name="T1",
                    long_name="Tramway", mode="tram", route_type=0),
    }
    session.add_all(routes.values())
    session.flush()
    east = [(-1.40, LAT), (-1.39, LAT), (-1.38, LAT)]
    shape, wkt = _line(session, routes["7"], 0, east)
    _sequence(session, routes["7"], 0, shape, wkt, [stops["A"], stops["B"], stops["C"]])
    shape, wkt = _line(session, routes["7"], 1, east[::-1])
    _sequence(session, routes["7"], 1, shape, wkt, [stops["C"], stops["B"], stops["A"]])
    shape, wkt = _line(session, routes["T1"], 0, [(-1.30, 50.91), (-1.30, 50.89)])
    _sequence(session, routes["T1"], 0, shape, wkt, [stops["N"], stops["S"]])
    neighbourhoods = {
        "west": Neighbourhood(code="west", name="West", geom="SRID=4326;MULTIPOLYGON(((-1.5 50.8,"
                              " -1.35 50.8, -1.35 51.0, -1.5 51.0, -1.5 50.8)))"),
        "alpha": Neighbourhood(code="alpha", name="Alpha quarter", geom="SRID=4326;MULTIPOLYGON(("
                               "(-1.41 50.89, -1.395 50.89, -1.395 50.91, -1.41 50.91, "
                               "-1.41 50.89)))"),
    }
    session.add_all(neighbourhoods.values())
    session.flush()
    return SmallFeed(feed, stops, routes, neighbourhoods)
