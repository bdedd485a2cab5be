"""Read-only transit queries for the report form: stops nearby and one route.

search.py finds stops and routes by name or code.

Distances are geodesic metres (PostGIS geography), right anywhere on Earth; radius filters
use `ST_DWithin` on `geom::geography`, after a lon/lat box served by `ix_stops_geom` for
stops (transit/near.py) and the `ix_route_shapes_geog` GiST index for route shapes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .near import within_box
from .places import place_of, serving
from .search import RouteSummary, row_to

_POINT = "ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)::geography"

# A stop's mode: its own (NaPTAN), else the mode of a route serving it (GTFS stops have none).
# Stops are places (transit/places.py): one row per physical stop, served by every feed's
# routes calling at it.
_STOP_MODE = f"""coalesce(s.mode, (SELECT min(r.mode) FROM route_stops rs
                JOIN routes r ON r.id = rs.route_id WHERE {serving("rs.stop_id", "s")}))"""

_NEARBY_SQL = sa.text(f"""
SELECT * FROM (
    SELECT s.public_id, s.name, {_STOP_MODE} AS mode,
           ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
           ST_Distance(s.geom::geography, {_POINT}) AS distance_m,
           ARRAY(SELECT DISTINCT r.short_name FROM route_stops rs JOIN routes r
                 ON r.id = rs.route_id
                 WHERE {serving("rs.stop_id", "s")} AND r.short_name IS NOT NULL) AS routes
    FROM stops s
    WHERE {within_box("s.geom", ":lon", ":lat", ":radius_m")} AND s.place_public_id IS NULL
      AND ST_DWithin(s.geom::geography, {_POINT}, :radius_m)
) near
WHERE CAST(:mode AS text) IS NULL OR near.mode = CAST(:mode AS text)
ORDER BY near.distance_m, near.public_id
LIMIT :limit
""")


@dataclass(frozen=True)
class NearbyStop:
    """A stop within the search radius, with the short names of the routes serving it."""

    id: str
    name: str
    mode: str | None
    lon: float
    lat: float
    distance_m: float
    routes: list[str]


def nearby_stops(
    session: Session, lon: float, lat: float, radius_m: float, limit: int, mode: str | None = None
) -> list[NearbyStop]:
    """Stops within `radius_m` of (lon, lat), nearest first, optionally of one mode."""
    rows = session.execute(
        _NEARBY_SQL,
        {"lon": lon, "lat": lat, "radius_m": radius_m, "limit": limit, "mode": mode},
    )
    return [row_to(NearbyStop, row) for row in rows]


@dataclass(frozen=True)
class RouteDetail:
    """A route with its shapes (one per direction or variant) and its ordered stops."""

    route: RouteSummary
    shapes: list[dict[str, Any]]
    stops: list[dict[str, Any]]


_ROUTE_SQL = sa.text("""
SELECT r.id, r.public_id, r.short_name, r.long_name, r.mode, f.name AS feed
FROM routes r JOIN feeds f ON f.id = r.feed_id WHERE r.public_id = :public_id
""")
_SHAPES_SQL = sa.text("""
SELECT sh.direction, sh.length_m, sh.from_stops, ST_AsGeoJSON(sh.geom, 6) AS geometry
FROM route_shapes sh WHERE sh.route_id = :route_id ORDER BY sh.direction, sh.id
""")
# The route's own stop rows, named as their places.
_STOPS_SQL = sa.text(f"""
SELECT rs.direction, rs.seq, rs.distance_m, s.public_id, s.name,
       ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat
FROM route_stops rs JOIN stops own ON own.id = rs.stop_id
JOIN stops s ON s.public_id = {place_of("own")}
WHERE rs.route_id = :route_id ORDER BY rs.direction, rs.seq
""")


def route_detail(session: Session, public_id: str) -> RouteDetail | None:
    """The route with this public id, its shapes and its stops in order; None if unknown."""
    row = session.execute(_ROUTE_SQL, {"public_id": public_id}).one_or_none()
    if row is None:
        return None
    summary = RouteSummary(row.public_id, row.short_name, row.long_name, row.mode, row.feed)
    shapes = [
        {
            "direction": shape.direction,
            "length_m": round(shape.length_m, 1),
            "from_stops": shape.from_stops,
            "geometry": json.loads(shape.geometry),
        }
        for shape in session.execute(_SHAPES_SQL, {"route_id": row.id})
    ]
    stops = [
        {
            "id": stop.public_id,
            "name": stop.name,
            "direction": stop.direction,
            "seq": stop.seq,
            "distance_m": None if stop.distance_m is None else round(stop.distance_m, 1),
            "lon": stop.lon,
            "lat": stop.lat,
        }
        for stop in session.execute(_STOPS_SQL, {"route_id": row.id})
    ]
    return RouteDetail(summary, shapes, stops)
