"""Where the report page's map opens: a configured view, else the densest cluster of stops.

The mean or the extent of the stops is the wrong place: Hull's mean lies 6 km west of its
centre (the rail line to Hessle and the East Riding's stops pull it), so "At a stop" found
no stop within 800 m of where the map opened. The densest cluster is the grid square of
about 3 km holding the most stops (places, so one stop known to two feeds counts once), and
the map opens on the mean of that square's stops. `STREETSAFE_MAP_CENTRE` ("lon,lat") and
`STREETSAFE_MAP_ZOOM` override it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

# Great Britain, for an empty database (the hotspot layers' default box too).
DEFAULT_BOUNDS = (-8.65, 49.86, 1.77, 60.86)
EMPTY_VIEW = (-2.0, 54.0, 6)  # lon, lat, zoom: all of Great Britain
CLUSTER_ZOOM = 14  # streets and stops readable
GRID_DEG = 0.03  # about 3.3 km of latitude, 2 km of longitude in Britain
VIEW_TTL_S = 3600.0  # a national GROUP BY over every stop: 0.2-3 s; imports are rare

_DENSEST_SQL = sa.text("""
SELECT avg(ST_X(geom)) AS lon, avg(ST_Y(geom)) AS lat
FROM stops WHERE place_public_id IS NULL
GROUP BY floor(ST_X(geom) / :grid), floor(ST_Y(geom) / :grid)
ORDER BY count(*) DESC, 1, 2
LIMIT 1
""")


@dataclass(frozen=True)
class MapView:
    """The map's opening centre (WGS84 degrees) and zoom."""

    lon: float
    lat: float
    zoom: int

    def as_attribute(self) -> str:
        """The view as "lon,lat,zoom" for a data- attribute."""
        return f"{self.lon:.6f},{self.lat:.6f},{self.zoom}"


def densest_stops(session: Session) -> MapView:
    """The middle of the densest square of stops, or all of Great Britain when there are none."""
    row = session.execute(_DENSEST_SQL, {"grid": GRID_DEG}).one_or_none()
    if row is None:
        return MapView(*EMPTY_VIEW)
    return MapView(float(row.lon), float(row.lat), CLUSTER_ZOOM)


def opening_view(
    session: Session, centre: tuple[float, float] | None, zoom: int | None
) -> MapView:
    """The configured centre and zoom where given, the densest cluster of stops otherwise."""
    if centre is not None:
        return MapView(centre[0], centre[1], zoom if zoom is not None else CLUSTER_ZOOM)
    found = densest_stops(session)
    return MapView(found.lon, found.lat, zoom) if zoom is not None else found


class ViewCache:
    """The opening view, recomputed at most every VIEW_TTL_S seconds (imports are rare)."""

    def __init__(self, ttl_s: float = VIEW_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._value: MapView | None = None
        self._computed_at = 0.0

    def get(
        self, session: Session, centre: tuple[float, float] | None, zoom: int | None
    ) -> MapView:
        """The cached view, refreshed from the database when stale."""
        now = time.monotonic()
        if self._value is None or now - self._computed_at > self.ttl_s:
            self._value = opening_view(session, centre, zoom)
            self._computed_at = now
        return self._value
