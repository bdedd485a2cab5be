"""Suspect stretches between two consecutive stops of a route: data faults, not hotspots.

Real feeds contain them (issue 15): on London's routes, 999 of 10,215 published segments ran
between two stops of the same name (the two sides of one road: a trip said to cross it), and
15 were more than 10 times their straight-line length (5.9 km along the shape for 301 m).
The GTFS importer warns about both, naming trip and stops; segment layers carry the same
two measures in their properties (`twin_stops`, `detour_ratio`, `suspect_geometry`), read
from `hotspot_segment_sites`, which a trigger of migration 0013 fills at insert time with
`transit_segment_checks()` (the same rule, in SQL).
"""

from __future__ import annotations

import sqlalchemy as sa

from .loader import ImportWarning

# A segment longer along its shape than this many times the straight line between its stops.
DETOUR_RATIO = 5.0
# ... by at least this much: two stops 20 m apart 150 m along a one-way loop are usual.
DETOUR_MIN_EXTRA_M = 200.0

TWIN_STOPS = "twin-stop segments"
DETOURS = f"segments over {DETOUR_RATIO:g}x their straight line"


def segment_flags(twin_stops: bool | None, detour_ratio: float | None) -> dict[str, object]:
    """The properties a segment feature carries about its own geometry."""
    return {
        "twin_stops": bool(twin_stops),
        "detour_ratio": None if detour_ratio is None else round(float(detour_ratio), 2),
        "suspect_geometry": bool(twin_stops)
        or (detour_ratio is not None and detour_ratio > DETOUR_RATIO),
    }


# Consecutive stops of the feed's route patterns with the same name (case and spaces aside),
# or further along the shape than DETOUR_RATIO times the straight line between them. The
# stops' feed is spelled out: without it the planner hashed every feed's stops (0.15 s
# beside GB NaPTAN).
SUSPECT_SEGMENTS = """
SELECT q.* FROM (
    SELECT r.public_id AS route, r.source_id AS route_source_id, a.direction,
           sa.public_id AS from_id, sa.name AS from_name, sb.public_id AS to_id,
           sb.name AS to_name,
           lower(btrim(sa.name)) = lower(btrim(sb.name)) AS twin,
           ST_Distance(sa.geom::geography, sb.geom::geography) AS straight_m,
           b.distance_m - a.distance_m AS along_m
    FROM route_stops a
    JOIN route_stops b ON b.route_id = a.route_id AND b.direction = a.direction
                      AND b.seq = a.seq + 1
    JOIN routes r ON r.id = a.route_id
    JOIN stops sa ON sa.id = a.stop_id JOIN stops sb ON sb.id = b.stop_id
    WHERE r.feed_id = :feed_id AND a.stop_id <> b.stop_id
      AND sa.feed_id = :feed_id AND sb.feed_id = :feed_id  -- a feed's routes call at its stops
) q
WHERE q.twin OR (q.along_m > :ratio * q.straight_m AND q.along_m - q.straight_m > :extra_m)
ORDER BY q.route, q.direction, q.from_id, q.to_id
"""

# Segment sites of the feed's routes take the re-imported geometry's measures.
REFRESH_SITE_FLAGS = """
UPDATE hotspot_segment_sites s SET (twin_stops, detour_ratio) = (
    SELECT c.twin_stops, c.detour_ratio
    FROM transit_segment_checks(s.route_public_id, s.direction, s.from_public_id,
                                s.to_public_id) c)
FROM routes r
WHERE r.feed_id = :feed_id AND r.public_id = s.route_public_id
"""


def suspect_segments(
    connection: sa.Connection, feed_id: int, trips: dict[tuple[str, int], str]
) -> list[ImportWarning]:
    """Warnings naming a trip (by route source id and direction) and the two stops."""
    params = {"feed_id": feed_id, "ratio": DETOUR_RATIO, "extra_m": DETOUR_MIN_EXTRA_M}
    found = []
    for row in connection.execute(sa.text(SUSPECT_SEGMENTS), params):
        trip = trips.get((row.route_source_id, row.direction), "?")
        where = (f"trip {trip} (route {row.route}, direction {row.direction}): "
                 f"{row.from_id} {row.from_name!r} -> {row.to_id} {row.to_name!r}")  # fmt: skip
        if row.twin:
            found.append(ImportWarning(
                row.route, f"{where}: two stops of one name, {row.straight_m:,.0f} m apart "
                "(the two sides of one road?)", TWIN_STOPS))  # fmt: skip
        if row.along_m > DETOUR_RATIO * row.straight_m and (
            row.along_m - row.straight_m > DETOUR_MIN_EXTRA_M
        ):
            found.append(ImportWarning(
                row.route, f"{where}: {row.along_m:,.0f} m along the shape for "
                f"{row.straight_m:,.0f} m in a straight line", DETOURS))  # fmt: skip
    return found


def refresh_site_flags(connection: sa.Connection, feed_id: int) -> None:
    """Re-measure the published segments of a re-imported feed's routes."""
    connection.execute(sa.text(REFRESH_SITE_FLAGS), {"feed_id": feed_id})
