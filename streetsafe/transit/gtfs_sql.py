"""The SQL that turns a GTFS feed's staged rows into route shapes, stop sequences and distances.

Every statement runs inside the import's savepoint, scoped by `:feed_id`.
"""

from __future__ import annotations

import sqlalchemy as sa

from .loader import ImportWarning

SHAPES_STAGING = (
    "id bigint, route_public_id text, direction smallint, source_id text, "
    "length_m double precision, geom geometry"
)
PATTERNS_STAGING = (
    "route_public_id text, direction smallint, seq integer, stop_public_id text, "
    "shape_source_id text, fraction double precision, distance_m double precision"
)

# Shapes keep the ids the importer took from the sequence, so that it can COPY their pieces
# itself (cut in Python, the same lines the trigger of migration 0007 would make, in a
# fraction of the time); the trigger skips a statement while this setting says so.
NEXT_SHAPE_IDS = (
    "SELECT nextval(pg_get_serial_sequence('route_shapes', 'id')) FROM generate_series(1, :n)"
)
SKIP_PIECES_TRIGGER = "SELECT set_config('streetsafe.shape_pieces', :value, true)"

# length_m is the importer's geodesic length of the line (gtfs_distances.Line: the sum of its
# segments' geodesic lengths, what ST_Length on geography gives to well under a millimetre);
# ST_Length here took 0.14 s of the Southampton import.
INSERT_SHAPES = """
INSERT INTO route_shapes (id, route_id, direction, source_id, from_stops, length_m, geom)
SELECT t.id, r.id, t.direction, t.source_id, false, t.length_m, t.geom
FROM tmp_gtfs_shapes t JOIN routes r ON r.public_id = t.route_public_id
ORDER BY t.id
"""

# The importer placed the stops of patterns with a shapes.txt line (gtfs_distances): a planar
# fraction of the line (to cut it between stops) and geodesic metres along it (to measure).
INSERT_ROUTE_STOPS = """
INSERT INTO route_stops (route_id, direction, seq, stop_id, shape_id, fraction, distance_m)
SELECT r.id, p.direction, p.seq, s.id, sh.id, p.fraction, p.distance_m
FROM tmp_gtfs_patterns p
JOIN routes r ON r.public_id = p.route_public_id
JOIN stops s ON s.public_id = p.stop_public_id
LEFT JOIN (
    SELECT rs.id, rs.source_id
    FROM route_shapes rs JOIN routes rr ON rr.id = rs.route_id
    WHERE rr.feed_id = :feed_id
) sh ON sh.source_id = p.shape_source_id
"""

# Route directions without a shapes.txt line get one built from their stop sequence.
INSERT_STOP_SHAPES = """
INSERT INTO route_shapes (route_id, direction, source_id, from_stops, length_m, geom)
SELECT route_id, direction, NULL, true, ST_Length(line::geography), line
FROM (
    SELECT rs.route_id, rs.direction,
           ST_RemoveRepeatedPoints(ST_MakeLine(s.geom ORDER BY rs.seq)) AS line
    FROM route_stops rs JOIN stops s ON s.id = rs.stop_id JOIN routes r ON r.id = rs.route_id
    WHERE r.feed_id = :feed_id AND rs.shape_id IS NULL
    GROUP BY rs.route_id, rs.direction
) built
WHERE ST_NPoints(line) >= 2
"""

LINK_STOP_SHAPES = """
UPDATE route_stops rs SET shape_id = sh.id
FROM route_shapes sh JOIN routes r ON r.id = sh.route_id
WHERE r.feed_id = :feed_id AND sh.from_stops AND rs.shape_id IS NULL
  AND sh.route_id = rs.route_id AND sh.direction = rs.direction
"""

# Places the stops of lines built from stop sequences (the importer placed the others with the
# same walk, gtfs_distances.walk). Each stop is placed on the part of the shape after the
# previous stop, so distances never go backwards. The search first looks a short way ahead
# (3x the straight-line gap + 500 m), so a stop on an out-and-back road is not matched to the
# return pass; if nothing within 200 m is found there it searches the rest of the line. The
# first stop is looked for in the first kilometre the same way (loops pass their first stop
# again at the end). The fraction is planar (ST_LineLocatePoint on 4326), the ST_LineSubstring
# fraction of the stop's projection; distance_m is geodesic metres along the line up to it.
DISTANCES = """
WITH RECURSIVE ordered AS (
    SELECT rs.route_id, rs.direction, rs.seq, rs.shape_id, s.geom AS point,
           row_number() OVER (PARTITION BY rs.route_id, rs.direction ORDER BY rs.seq) AS n
    FROM route_stops rs JOIN stops s ON s.id = rs.stop_id JOIN routes r ON r.id = rs.route_id
    WHERE r.feed_id = :feed_id AND rs.shape_id IS NOT NULL AND rs.distance_m IS NULL
), walk AS (
    SELECT o.route_id, o.direction, o.seq, o.n, o.shape_id, o.point,
           CASE WHEN ST_DWithin(ST_LineInterpolatePoint(sh.geom, start.frac)::geography,
                                o.point::geography, 200) THEN start.frac
                ELSE ST_LineLocatePoint(sh.geom, o.point) END AS frac
    FROM ordered o JOIN route_shapes sh ON sh.id = o.shape_id
    CROSS JOIN LATERAL (SELECT least(1.0, 1000 / greatest(sh.length_m, 1)) AS frac) head
    CROSS JOIN LATERAL (
        SELECT head.frac * ST_LineLocatePoint(ST_LineSubstring(sh.geom, 0, head.frac), o.point)
               AS frac
    ) start
    WHERE o.n = 1
    UNION ALL
    SELECT o.route_id, o.direction, o.seq, o.n, o.shape_id, o.point,
           CASE WHEN w.frac >= 0.999999 THEN w.frac
                WHEN ST_DWithin(ST_LineInterpolatePoint(sh.geom, near.frac)::geography,
                                o.point::geography, 200) THEN near.frac
                ELSE w.frac + (1 - w.frac)
                     * ST_LineLocatePoint(ST_LineSubstring(sh.geom, w.frac, 1), o.point) END
    FROM walk w
    JOIN ordered o ON o.route_id = w.route_id AND o.direction = w.direction AND o.n = w.n + 1
    JOIN route_shapes sh ON sh.id = o.shape_id
    CROSS JOIN LATERAL (
        SELECT least(1.0, w.frac + (3 * ST_Distance(w.point::geography, o.point::geography)
                                    + 500) / greatest(sh.length_m, 1)) AS frac
    ) ahead
    CROSS JOIN LATERAL (
        SELECT CASE WHEN w.frac >= 0.999999 OR ahead.frac <= w.frac THEN w.frac
                    ELSE w.frac + (ahead.frac - w.frac) * ST_LineLocatePoint(
                        ST_LineSubstring(sh.geom, w.frac, ahead.frac), o.point) END AS frac
    ) near
)
UPDATE route_stops rs
SET fraction = w.frac, distance_m = ST_Length(ST_LineSubstring(sh.geom, 0, w.frac)::geography)
FROM walk w JOIN route_shapes sh ON sh.id = w.shape_id
WHERE rs.route_id = w.route_id AND rs.direction = w.direction AND rs.seq = w.seq
"""

# A stop's mode is the most common mode of the routes calling at it; a station's, its children's.
STOP_MODES = """
UPDATE stops s SET mode = m.mode
FROM (
    SELECT rs.stop_id, mode() WITHIN GROUP (ORDER BY r.mode) AS mode
    FROM route_stops rs JOIN routes r ON r.id = rs.route_id
    WHERE r.feed_id = :feed_id GROUP BY rs.stop_id
) m
WHERE s.id = m.stop_id
"""

STATION_MODES = """
UPDATE stops p SET mode = m.mode
FROM (
    SELECT parent_public_id, mode() WITHIN GROUP (ORDER BY mode) AS mode
    FROM stops WHERE feed_id = :feed_id AND mode IS NOT NULL AND parent_public_id IS NOT NULL
    GROUP BY parent_public_id
) m
WHERE p.feed_id = :feed_id AND p.public_id = m.parent_public_id AND p.mode IS NULL
"""

# Fresh rows have no planner statistics; without them the distance walk picks nested loops.
ANALYZE = "ANALYZE stops, routes, route_shapes, route_stops"

BUILD = (
    INSERT_ROUTE_STOPS,
    INSERT_STOP_SHAPES,
    LINK_STOP_SHAPES,
    ANALYZE,
    DISTANCES,
    STOP_MODES,
    STATION_MODES,
)

COUNTS = """
SELECT
  (SELECT count(*) FROM stops WHERE feed_id = :feed_id AND location_type = 0) AS stops,
  (SELECT count(*) FROM stops WHERE feed_id = :feed_id AND location_type = 1) AS stations,
  (SELECT count(*) FROM routes WHERE feed_id = :feed_id) AS routes,
  (SELECT count(*) FROM route_shapes sh JOIN routes r ON r.id = sh.route_id
    WHERE r.feed_id = :feed_id AND NOT sh.from_stops) AS shapes,
  (SELECT count(*) FROM route_shapes sh JOIN routes r ON r.id = sh.route_id
    WHERE r.feed_id = :feed_id AND sh.from_stops) AS "shapes built from stops",
  (SELECT count(*) FROM route_stops rs JOIN routes r ON r.id = rs.route_id
    WHERE r.feed_id = :feed_id) AS "route stops"
"""

FAR_FROM_ROUTE_M = 1000.0

# Stops more than FAR_FROM_ROUTE_M from the shapes.txt line of a route that calls at them.
# The distance walk already placed each stop on its shape (at `fraction`): the stop's distance
# to that point is an upper bound of its distance to the line, so only the few stops whose
# bound exceeds the limit pay for the exact geodesic point-to-line test (it was 2.5 s of a
# 7 s import). The importer measured that bound as it placed the stops and names the route
# stops (route public id, direction, seq) whose bound is not clearly within the limit; only
# they are read, which spares reading each shape again for every stop (0.04 s on
# Southampton, where no stop is named). CASE fixes the order (the planner put the costly
# test first); a NULL fraction takes ELSE.
FAR_STOPS = """
SELECT s.public_id, r.public_id AS route, rs.direction,
       round(ST_Distance(s.geom::geography, sh.geom::geography)) AS distance_m
FROM unnest(CAST(:routes AS text[]), CAST(:directions AS smallint[]),
            CAST(:seqs AS integer[])) AS c(route, direction, seq)
JOIN routes r ON r.public_id = c.route
JOIN route_stops rs ON rs.route_id = r.id AND rs.direction = c.direction AND rs.seq = c.seq
JOIN stops s ON s.id = rs.stop_id JOIN route_shapes sh ON sh.id = rs.shape_id
WHERE r.feed_id = :feed_id AND NOT sh.from_stops
  AND CASE WHEN ST_DWithin(s.geom::geography, ST_LineInterpolatePoint(sh.geom,
                 least(1.0, rs.fraction))::geography, :far_m) THEN false
           ELSE NOT ST_DWithin(s.geom::geography, sh.geom::geography, :far_m) END
ORDER BY s.public_id, r.public_id, rs.direction, rs.seq
"""


def counts(connection: sa.Connection, feed_id: int) -> dict[str, int]:
    """What the feed holds now, by kind."""
    row = connection.execute(sa.text(COUNTS), {"feed_id": feed_id}).mappings().one()
    return {kind: int(count) for kind, count in row.items()}


def warnings(
    connection: sa.Connection,
    feed_id: int,
    candidates: tuple[list[str], list[int], list[int]],
) -> list[ImportWarning]:
    """Stops kilometres away from the route they are said to be on, among the candidates
    (route public ids, directions, seqs of route stops)."""
    if not candidates[0]:
        return []
    routes, directions, seqs = candidates
    params = {"feed_id": feed_id, "far_m": FAR_FROM_ROUTE_M, "routes": routes,
              "directions": directions, "seqs": seqs}  # fmt: skip
    rows = connection.execute(sa.text(FAR_STOPS), params)
    return [
        ImportWarning(
            row.public_id,
            f"{row.distance_m:,.0f} m from route {row.route} (direction {row.direction})",
            "stops far from their route",
        )
        for row in rows
    ]
