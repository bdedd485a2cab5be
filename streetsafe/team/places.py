"""An action's place as a polygon in PostGIS: a circle, a drawn polygon, a stop or a segment.

Stops and segments become areas (the stop's circle, the segment's line widened by
`radius_m` either side), so every place counts reports the same way: those it covers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import Unprocessable
from ..i18n import lazy_gettext as _l
from .action_schema import CircleIn, PolygonIn, SegmentIn, StopIn
from .service import TeamScope


@dataclass(frozen=True)
class Place:
    """A resolved place: its polygon (EWKT), kind, what it was given as, and its radius."""

    ewkt: str
    kind: str
    ref: dict[str, Any] | None
    radius_m: float


_CIRCLE = sa.text(
    "SELECT ST_AsEWKT(ST_Buffer(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :r)"
    "::geometry)"
)
_POLYGON = sa.text(
    "SELECT ST_IsValid(g), ST_IsValidReason(g), ST_AsEWKT(g), ST_Area(g::geography) "
    "FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:geojson), 4326) AS g) AS p"
)
_STOP = sa.text(
    "SELECT ST_AsEWKT(ST_Buffer(geom::geography, :r)::geometry) FROM stops WHERE public_id = :id"
)
_SEGMENT = sa.text(
    """
    SELECT ST_AsEWKT(ST_Buffer(
             ST_LineSubstring(sh.geom, a.fraction, b.fraction)::geography, :r)::geometry)
    FROM routes ro
    JOIN route_stops a ON a.route_id = ro.id
    JOIN stops sa ON sa.id = a.stop_id AND sa.public_id = :from_stop_id
    JOIN route_stops b ON b.route_id = ro.id AND b.direction = a.direction
                      AND b.shape_id = a.shape_id AND b.seq > a.seq
    JOIN stops sb ON sb.id = b.stop_id AND sb.public_id = :to_stop_id
    JOIN route_shapes sh ON sh.id = a.shape_id
    WHERE ro.public_id = :route_id AND b.fraction >= a.fraction
    ORDER BY b.seq - a.seq LIMIT 1
    """
)


def resolve_place(session: Session, place: CircleIn | PolygonIn | StopIn | SegmentIn) -> Place:
    """The place's polygon from PostGIS; 422 naming the field when it cannot be made."""
    if isinstance(place, CircleIn):
        params = {"lon": place.lon, "lat": place.lat, "r": place.radius_m}
        return Place(session.scalar(_CIRCLE, params), "circle", None, place.radius_m)
    if isinstance(place, PolygonIn):
        return _polygon(session, place)
    if isinstance(place, StopIn):
        ewkt = session.scalar(_STOP, {"id": place.stop_id, "r": place.radius_m})
        if ewkt is None:
            raise Unprocessable(_l("no stop %(id)r", id=place.stop_id), "place.stop_id")
        return Place(ewkt, "stop", {"stop_id": place.stop_id}, place.radius_m)
    ref = {"route_id": place.route_id, "from_stop_id": place.from_stop_id,
           "to_stop_id": place.to_stop_id}  # fmt: skip
    ewkt = session.scalar(_SEGMENT, {**ref, "r": place.radius_m})
    if ewkt is None:
        if session.scalar(sa.text("SELECT 1 FROM routes WHERE public_id = :id"),
                          {"id": place.route_id}) is None:  # fmt: skip
            raise Unprocessable(_l("no route %(id)r", id=place.route_id), "place.route_id")
        raise Unprocessable(
            _l("this route does not run from from_stop_id to to_stop_id"), "place.to_stop_id"
        )
    return Place(ewkt, "segment", ref, place.radius_m)


def _polygon(session: Session, place: PolygonIn) -> Place:
    geojson = json.dumps(place.geometry.model_dump())
    valid, reason, ewkt, area_m2 = session.execute(_POLYGON, {"geojson": geojson}).one()
    if not valid:
        raise Unprocessable(
            _l("the polygon is not valid: %(reason)s", reason=reason), "place.geometry"
        )
    if area_m2 <= 0:
        raise Unprocessable(_l("the polygon has no area"), "place.geometry")
    # A polygon's buffer defaults to the radius of the circle of the same area.
    return Place(ewkt, "polygon", None, math.sqrt(area_m2 / math.pi))


def check_in_area(session: Session, scope: TeamScope, ewkt: str, field: str) -> None:
    """422 unless the place touches one of the team's neighbourhoods."""
    touches = session.scalar(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM neighbourhoods WHERE id = ANY(:ids) "
            "AND ST_Intersects(geom, ST_GeomFromEWKT(:place)))"
        ),
        {"ids": list(scope.neighbourhood_ids), "place": ewkt},
    )
    if not touches:
        raise Unprocessable(_l("the place is outside this team's neighbourhoods"), field)
