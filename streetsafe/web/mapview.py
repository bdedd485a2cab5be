"""Where the report page's map opens: the extent of the imported stops."""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

# Great Britain, for an empty database.
DEFAULT_BOUNDS = (-8.65, 49.86, 1.77, 60.86)
EXTENT_TTL_S = 300.0


@dataclass(frozen=True)
class MapView:
    """The map's opening bounds as (west, south, east, north) in WGS84 degrees."""

    west: float
    south: float
    east: float
    north: float

    def as_attribute(self) -> str:
        """The bounds as "west,south,east,north" for a data- attribute."""
        return ",".join(f"{value:.6f}" for value in (self.west, self.south, self.east, self.north))


def stops_extent(session: Session) -> MapView:
    """The bounding box of every imported stop, or Great Britain when there are none."""
    row = session.execute(
        sa.text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT ST_Extent(geom) AS e FROM stops) AS extent"
        )
    ).one()
    if row[0] is None:
        return MapView(*DEFAULT_BOUNDS)
    return MapView(*(float(value) for value in row))


class ExtentCache:
    """The stops' extent, recomputed at most every EXTENT_TTL_S seconds (imports are rare)."""

    def __init__(self, ttl_s: float = EXTENT_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._value: MapView | None = None
        self._computed_at = 0.0

    def get(self, session: Session) -> MapView:
        """The cached extent, refreshed from the database when stale."""
        now = time.monotonic()
        if self._value is None or now - self._computed_at > self.ttl_s:
            self._value = stops_extent(session)
            self._computed_at = now
        return self._value
