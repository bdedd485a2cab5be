"""Stops lose their geography GiST index; the GTFS importer writes route shape pieces itself.

Written by hand. `ix_stops_geog` (GiST on `geom::geography`) cost more than half of the
index upkeep of a NaPTAN import: inserting 335,944 stops into an empty copy of `stops` took
7.0 s with its five indexes and 3.4 s without this one (PostgreSQL 15, PostGIS 3.3). The
nearest-stop and nearby-stop queries now filter with `ix_stops_geom` (a lon/lat box that
holds every point within the radius, see `streetsafe/transit/near.py`) and keep the exact
geodesic test and distance, so their answers are unchanged. Route shapes keep theirs.

The route_shapes insert trigger of migration 0007 cut the Southampton feed's 269 shapes into
61,257 pieces in 0.9 s of a 2.7 s import (ST_DumpPoints and a grouped ST_MakeLine). The
GTFS importer now cuts them in Python and COPYs them; for that one statement it sets
`streetsafe.shape_pieces` to 'written' (transaction-local) and the trigger skips it. Every
other writer of route_shapes (shapes built from stops, fixtures, the demo) is unchanged.

Replacing a feed deletes its old stops and routes; `reports.stop_id` and `reports.route_id`
reference them ON DELETE SET NULL, and had no index, so every deleted stop scanned all of
reports: with 20,000 reports, deleting 5,000 NaPTAN stops took 6.8 s (a GB re-import,
336k stops, about 7.5 minutes). Partial indexes on the two columns (reports tied to a stop
or route only) bring that to 0.1 s.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import context, op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


SKIP_WRITTEN_PIECES = """
    IF current_setting('streetsafe.shape_pieces', true) = 'written' THEN
        RETURN NULL;  -- the writer COPYs the same pieces itself
    END IF;
"""


def _pieces_trigger(guard: str) -> str:
    """Migration 0007's route_shapes insert trigger function, with `guard` first."""
    module = context.script.get_revision("0007").module
    return f"""
        CREATE OR REPLACE FUNCTION route_shapes_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {guard}{module.PIECES_OF.format(shapes="new_rows")}    RETURN NULL;
        END $$;
    """


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_stops_geog")
    op.execute(_pieces_trigger(SKIP_WRITTEN_PIECES))
    op.execute("CREATE INDEX ix_reports_stop_id ON reports (stop_id) WHERE stop_id IS NOT NULL")
    op.execute(
        "CREATE INDEX ix_reports_route_id ON reports (route_id) WHERE route_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_reports_route_id")
    op.execute("DROP INDEX IF EXISTS ix_reports_stop_id")
    op.execute(_pieces_trigger(""))
    op.execute("CREATE INDEX ix_stops_geog ON stops USING gist ((geom::geography))")
