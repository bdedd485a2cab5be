"""One physical stop known to several feeds is one place (issue 15).

British GTFS feeds use NaPTAN ATCO codes as stop_id, so with NaPTAN and an operator's feed
both loaded the same stop has two rows (`naptan:490012462Z`, `london:490012462Z`). Each feed
keeps its own row (its routes call at it, and re-importing or deleting a feed touches only
its rows), and `stops.place_public_id` says which row is the place: NULL when the row is
its own place, else the public id of the row that is.

The rule (geodata/README.md): a GTFS stop whose stop_id looks like an ATCO code takes as its
place the stop with that ATCO code in a NaPTAN feed (the first by feed name); failing that,
the stop with that id in the GTFS feed whose name sorts first, when two or more GTFS feeds
hold it. NaPTAN stops are always their own place. So the place's name and position are
NaPTAN's; its public id depends on which feeds are loaded, not on the order they were
loaded in, and survives re-imports of either feed. `resolve_places` runs at the end of every
import and delete, inside the same transaction.

Snapping, the nearby-stops search and the hotspot layers only ever see places; a place's
routes are those calling at any of its rows (`serving`).
"""

from __future__ import annotations

import sqlalchemy as sa

from .planner import planner_settings

# An ATCO code: a three-digit area code, then letters and digits (12 characters at most).
ATCO_CODE = "^[0-9]{3}[0-9A-Za-z]{1,9}$"

# The GTFS stops whose place is not what the rule says, and the place it says (NULL: their
# own). Each GTFS feed's stops are read by feed, and only they meet the pattern (OFFSET 0:
# merge-joined with feeds the whole feed_id index was read, and right after a NaPTAN COPY,
# without statistics, stops were scanned testing the pattern on every row: 0.35-0.7 s beside
# GB NaPTAN). Changes are written by id afterwards (joined in one UPDATE, the planner hashed
# all of stops to change none).
CHANGED_PLACES = """
WITH candidates AS (
    SELECT s.id, s.public_id, s.source_id, s.place_public_id, f.name AS feed
    FROM feeds f CROSS JOIN LATERAL (
        SELECT s.id, s.public_id, s.source_id, s.place_public_id
        FROM stops s WHERE s.feed_id = f.id OFFSET 0) s
    WHERE f.kind = 'gtfs' AND s.source_id ~ :atco
), wanted AS (
    SELECT c.id, c.public_id, c.place_public_id, coalesce(
        (SELECT n.public_id FROM feeds nf
           JOIN stops n ON n.public_id = nf.name || ':' || c.source_id
          WHERE nf.kind = 'naptan' ORDER BY nf.name LIMIT 1),
        first_value(c.public_id) OVER (PARTITION BY c.source_id ORDER BY c.feed)) AS place
    FROM candidates c
)
SELECT id, nullif(place, public_id) AS place FROM wanted
WHERE place_public_id IS DISTINCT FROM nullif(place, public_id)
"""

# By id, each row found through the primary key: with a hash join the planner hashed all of
# stops (338,000 rows beside GB NaPTAN: 0.11 s of a first load's 0.16 s statement) to
# update the 2,642 Southampton stops that take NaPTAN's places.
SET_PLACES = """
UPDATE stops s SET place_public_id = u.place
FROM unnest(CAST(:ids AS bigint[]), CAST(:places AS text[])) AS u(id, place)
WHERE s.id = u.id
"""

SHARED_COUNT = "SELECT count(*) FROM stops WHERE place_public_id IS NOT NULL"


def resolve_places(connection: sa.Connection) -> None:
    """Set every GTFS stop's place by the rule above (only rows whose place changes)."""
    changed = connection.execute(sa.text(CHANGED_PLACES), {"atco": ATCO_CODE}).all()
    if changed:
        ids, places = (list(column) for column in zip(*changed, strict=True))
        with planner_settings(connection, enable_hashjoin="off", enable_mergejoin="off"):
            connection.execute(sa.text(SET_PLACES), {"ids": ids, "places": places})


def place_of(alias: str) -> str:
    """SQL for the public id of the place of stop row `alias`."""
    return f"coalesce({alias}.place_public_id, {alias}.public_id)"


def serving(stop_id: str, place: str) -> str:
    """SQL: `stop_id` (a route_stops.stop_id) is a row of the place row `place`."""
    return (
        f"({stop_id} = {place}.id OR {stop_id} IN (SELECT x.id FROM stops x "
        f"WHERE x.place_public_id = {place}.public_id))"
    )
