"""What is in the transit tables: counts per feed and mode."""

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


def feed_stats(connection: sa.Connection) -> list[str]:
    """Lines of text: each feed, then its stops and routes per mode, then neighbourhoods."""
    lines: list[str] = []
    current = None
    for row in connection.execute(sa.text(STATS)):
        if row.name != current:
            current = row.name
            lines.append(f"{row.name} ({row.kind}, imported {row.imported_at:%Y-%m-%d %H:%M})")
        if row.mode is not None:
            lines.append(f"  {row.mode:<8} {row.stops:>9,} stops {row.routes:>6,} routes")
    neighbourhoods = connection.scalar(sa.text("SELECT count(*) FROM neighbourhoods"))
    if neighbourhoods or lines:
        lines.append(f"neighbourhoods: {neighbourhoods:,}")
    return lines
