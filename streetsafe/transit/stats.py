"""What is in the transit tables: counts per feed and mode, shapes, and stops shared by feeds."""

from __future__ import annotations

import sqlalchemy as sa

STATS = """
SELECT f.name, f.kind, f.imported_at, m.mode, m.stops, m.routes
FROM feeds f
LEFT JOIN LATERAL (
    SELECT coalesce(s.mode, r.mode) AS mode, coalesce(s.n, 0) AS stops, coalesce(r.n, 0) AS routes
    FROM (SELECT coalesce(mode, 'unknown') AS mode, count(*) AS n FROM stops
          WHERE feed_id = f.id GROUP BY 1) s
    FULL JOIN (SELECT mode, count(*) AS n FROM routes WHERE feed_id = f.id GROUP BY 1) r
      ON r.mode = s.mode
) m ON true
ORDER BY f.name, m.mode
"""

# Per feed: its shapes (from shapes.txt, built from stops) and its stops whose place is
# another feed's row, by that feed (transit/places.py).
FEED_DETAILS = """
SELECT f.name,
       (SELECT count(*) FILTER (WHERE NOT sh.from_stops) FROM route_shapes sh
          JOIN routes r ON r.id = sh.route_id WHERE r.feed_id = f.id) AS shapes,
       (SELECT count(*) FILTER (WHERE sh.from_stops) FROM route_shapes sh
          JOIN routes r ON r.id = sh.route_id WHERE r.feed_id = f.id) AS built,
       (SELECT string_agg(format('%s with %s', n, owner), ', ' ORDER BY owner)
          FROM (SELECT split_part(s.place_public_id, ':', 1) AS owner, count(*) AS n
                  FROM stops s WHERE s.feed_id = f.id AND s.place_public_id IS NOT NULL
                 GROUP BY 1) q) AS shared
FROM feeds f
"""

TOTALS = """
SELECT (SELECT count(*) FROM stops) AS stops,
       (SELECT count(*) FROM stops WHERE place_public_id IS NULL) AS places,
       (SELECT count(*) FROM stops WHERE place_public_id IS NOT NULL) AS shared,
       (SELECT count(*) FROM routes) AS routes,
       (SELECT count(*) FROM route_shapes) AS shapes,
       (SELECT count(*) FROM neighbourhoods) AS neighbourhoods
"""


def feed_stats(connection: sa.Connection) -> list[str]:
    """Lines of text: each feed, its stops and routes per mode, its shapes and shared
    stops; then the totals and the neighbourhoods."""
    details = {row.name: row for row in connection.execute(sa.text(FEED_DETAILS))}
    lines: list[str] = []
    current = None
    for row in connection.execute(sa.text(STATS)):
        if row.name != current:
            if current is not None:
                lines.extend(_details(details[current]))
            current = row.name
            lines.append(f"{row.name} ({row.kind}, imported {row.imported_at:%Y-%m-%d %H:%M})")
        if row.mode is not None:
            lines.append(f"  {row.mode:<8} {row.stops:>9,} stops {row.routes:>6,} routes")
    if current is not None:
        lines.extend(_details(details[current]))
    totals = connection.execute(sa.text(TOTALS)).one()
    if lines:
        lines.append(
            f"total: {totals.stops:,} stops ({totals.places:,} places; {totals.shared:,} "
            f"stops shared with another feed), {totals.routes:,} routes, {totals.shapes:,} shapes"
        )
    if totals.neighbourhoods or lines:
        lines.append(f"neighbourhoods: {totals.neighbourhoods:,}")
    return lines


def _details(row: sa.Row) -> list[str]:
    lines = []
    if row.shapes or row.built:
        lines.append(f"  shapes: {row.shapes:,} from shapes.txt, {row.built:,} built from stops")
    if row.shared:
        lines.append(f"  stops shared: {row.shared} (one place; theirs is used)")
    return lines
