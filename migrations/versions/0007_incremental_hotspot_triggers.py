"""Incremental hotspot triggers, and route shapes cut into short pieces for snapping.

Written by hand. Migration 0006's summary trigger recomputed every touched cell from
`hotspot_cell_totals` (about a hundred rows for a busy res 7 cell, folded with sixteen
FILTER aggregates), so an intake insert cost more the busier its cells were. The summary
is a sum, so the trigger now adds the statement's own reports to each touched row: the
total, one count column per category and the category-mask histogram, whose arrays stay
sorted by mask (a mask seen before gets its count raised, a new one is merged in its place),
exactly as `hotspot_rebuild_cell_summaries()` writes them. The rebuild is unchanged.

Two more per-insert costs measured with auto_explain (nested statements) on a benchmark
database: the segment-sites statement cut the route shape between two stops on every
on_vehicle insert (4-9 ms), even for a segment already known, and `hotspot_category_mask`
ran as a separate aggregate query a dozen times per insert. Both are fixed here; the transit
rebuild function gets the same segment-sites statement as its trigger.

`route_shape_pieces` (named GiST index, filled by a trigger on route_shapes and backfilled
here) lets nearest-route snapping read a few ~90 m pieces instead of dozens of whole shapes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from types import ModuleType

from alembic import context, op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Same order as CATEGORY_IDS in migration 0005: bit i is CATEGORY_IDS[i].
CATEGORY_IDS = (
    "no_cctv", "badly_lit", "isolated", "poor_layout", "restricted_visibility", "rundown",
    "drugs_alcohol", "verbal_harassment_single", "verbal_harassment_group", "followed",
    "unwanted_sexual_behaviour", "intimidating_behaviour", "no_staff", "long_wait_after_dark",
    "overcrowding", "other",
)  # fmt: skip
COUNT_COLUMNS = [f"n_{c}" for c in CATEGORY_IDS]
COUNT_EXPRESSIONS = ", ".join(
    f"coalesce(sum(m.n) FILTER (WHERE m.category_mask & {1 << i} <> 0), 0)::int"
    for i in range(len(CATEGORY_IDS))
)

# The statement's reports per (cell, mask), folded per cell, added to the stored row. The
# histogram merge unnests two short arrays (one entry per mask seen in the cell).
INCREMENTAL_SUMMARY = f"""
    INSERT INTO hotspot_cell_summary AS t
           (res, cell, total, {", ".join(COUNT_COLUMNS)}, masks, mask_counts)
    SELECT m.res, m.cell, sum(m.n)::int,
           {COUNT_EXPRESSIONS},
           array_agg(m.category_mask ORDER BY m.category_mask),
           array_agg(m.n ORDER BY m.category_mask)
      FROM (SELECT n.res, n.cell, hotspot_category_mask(r.categories) AS category_mask,
                   count(*)::int AS n
              FROM new_rows n JOIN reports r ON r.id = n.report_id
             GROUP BY 1, 2, 3) AS m
     GROUP BY m.res, m.cell
    ON CONFLICT (res, cell) DO UPDATE SET
        total = t.total + EXCLUDED.total,
        {", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in COUNT_COLUMNS)},
        (masks, mask_counts) = (
            SELECT array_agg(k.mask ORDER BY k.mask), array_agg(k.n ORDER BY k.mask)
              FROM (SELECT u.mask, sum(u.n)::int AS n
                      FROM (SELECT * FROM unnest(t.masks, t.mask_counts)
                            UNION ALL
                            SELECT * FROM unnest(EXCLUDED.masks, EXCLUDED.mask_counts))
                           AS u(mask, n)
                     GROUP BY u.mask) AS k);
"""


# A segment's geometry (a few ms: it cuts the route shape between two stops) only for a
# segment not seen before. In 0005 the planner pushed the `geometry IS NOT NULL` test below
# the NOT EXISTS, so every on_vehicle insert cut its shape; the LATERAL with OFFSET 0 keeps
# the call after the anti-join, and makes it once instead of twice.
SEGMENT_SITES = """
    INSERT INTO hotspot_segment_sites AS t
           (route_public_id, direction, from_public_id, to_public_id, route_short_name,
            from_name, to_name, mode, geom)
    SELECT k.*, g.geom
      FROM (SELECT DISTINCT ON (1, 2, 3, 4) r.route_public_id,
                   coalesce(r.route_direction, 0)::smallint AS direction,
                   r.segment_from_public_id AS from_public_id,
                   r.segment_to_public_id AS to_public_id, r.route_short_name,
                   r.segment_from_name, r.segment_to_name, r.mode
              FROM {reports} r
             WHERE r.route_public_id IS NOT NULL AND r.segment_from_public_id IS NOT NULL
               AND r.segment_to_public_id IS NOT NULL
               AND NOT EXISTS (
                   SELECT 1 FROM hotspot_segment_sites x
                    WHERE x.route_public_id = r.route_public_id
                      AND x.direction = coalesce(r.route_direction, 0)
                      AND x.from_public_id = r.segment_from_public_id
                      AND x.to_public_id = r.segment_to_public_id)
             ORDER BY 1, 2, 3, 4) AS k
     CROSS JOIN LATERAL (
           SELECT hotspot_segment_geom(k.route_public_id, k.direction, k.from_public_id,
                                       k.to_public_id) AS geom
           OFFSET 0) AS g
     WHERE g.geom IS NOT NULL
    ON CONFLICT DO NOTHING;
"""

# One expression instead of unnest + bit_or: PostgreSQL inlines it into the calling query
# (an aggregate body is run as a separate query per row, a dozen times per insert).
MASK_TERMS = " | ".join(
    f"(CASE WHEN '{c}' = ANY(categories) THEN {1 << i} ELSE 0 END)"
    for i, c in enumerate(CATEGORY_IDS)
)
CATEGORY_MASK = f"""
CREATE OR REPLACE FUNCTION hotspot_category_mask(categories text[]) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT {MASK_TERMS}
$$;
"""
PREVIOUS_CATEGORY_MASK = f"""
CREATE OR REPLACE FUNCTION hotspot_category_mask(categories text[]) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(bit_or(1 << (array_position(
        ARRAY[{", ".join(f"'{c}'" for c in CATEGORY_IDS)}]::text[], c) - 1)), 0)::integer
    FROM unnest(categories) AS c
$$;
"""


# Route shapes cut into pieces of SEGMENTS_PER_PIECE segments (about 90 m on the Southampton
# feed's shapes: 31 m per segment on average), at their own vertices, so a piece's union is
# the shape exactly and geodesic distances to the pieces are those to the shape. Nearest-route
# snapping reads a few short pieces from their GiST index instead of dozens of whole,
# TOASTed shapes. A trigger fills them for every writer of route_shapes (the GTFS importer
# inside its replace transaction, fixtures, the demo); deleting a shape cascades.
SEGMENTS_PER_PIECE = 3
PIECES_OF = f"""
    INSERT INTO route_shape_pieces (shape_id, seq, geom)
    SELECT sh.id, piece.seq, ST_MakeLine(d.geom ORDER BY d.path[1])
      FROM {{shapes}} sh
     CROSS JOIN LATERAL ST_DumpPoints(sh.geom) AS d
     CROSS JOIN LATERAL unnest(
           CASE WHEN d.path[1] > 1 AND (d.path[1] - 1) % {SEGMENTS_PER_PIECE} = 0
                THEN ARRAY[(d.path[1] - 1) / {SEGMENTS_PER_PIECE} - 1,
                           (d.path[1] - 1) / {SEGMENTS_PER_PIECE}]
                ELSE ARRAY[(d.path[1] - 1) / {SEGMENTS_PER_PIECE}] END) AS piece(seq)
     GROUP BY sh.id, piece.seq
    HAVING count(*) >= 2;
"""

ROUTE_SHAPE_PIECES = f"""
CREATE TABLE route_shape_pieces (
    shape_id bigint NOT NULL REFERENCES route_shapes (id) ON DELETE CASCADE,
    seq integer NOT NULL,
    geom geometry(LineString, 4326) NOT NULL,
    CONSTRAINT pk_route_shape_pieces PRIMARY KEY (shape_id, seq)
);
CREATE INDEX ix_route_shape_pieces_geom ON route_shape_pieces USING gist (geom);

CREATE FUNCTION route_shapes_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{PIECES_OF.format(shapes="new_rows")}    RETURN NULL;
END $$;

CREATE FUNCTION route_shapes_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM route_shape_pieces p USING new_rows n WHERE p.shape_id = n.id;
{PIECES_OF.format(shapes="new_rows")}    RETURN NULL;
END $$;

CREATE TRIGGER route_shapes_after_insert AFTER INSERT ON route_shapes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION route_shapes_after_insert();
CREATE TRIGGER route_shapes_after_update AFTER UPDATE ON route_shapes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION route_shapes_after_update();

{PIECES_OF.format(shapes="route_shapes")}
ANALYZE route_shape_pieces;
"""


def _migration(revision: str) -> ModuleType:
    """An earlier migration's module, as Alembic loaded it."""
    return context.script.get_revision(revision).module


def _transit_body(segment_sites: str | None) -> str:
    """Migration 0005's transit rollup body, its last statement (segment sites) replaced."""
    body = _migration("0005").TRANSIT_BODY
    start = body.index("    INSERT INTO hotspot_segment_sites")
    return body[:start] + (segment_sites or body[start:])


def _transit_functions(segment_sites: str | None) -> str:
    """The transit trigger and rebuild functions with this segment sites statement."""
    body = _transit_body(segment_sites)
    return f"""
        CREATE OR REPLACE FUNCTION hotspot_reports_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {body.format(reports="new_rows")}    RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION hotspot_rebuild_transit_rollups() RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
        {body.format(reports="reports")}END $$;
    """


def _summary_trigger(body: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION hotspot_cells_summary_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {body}    RETURN NULL;
        END $$;
    """


def upgrade() -> None:
    op.execute(_summary_trigger(INCREMENTAL_SUMMARY))
    op.execute(_transit_functions(SEGMENT_SITES))
    op.execute(CATEGORY_MASK)
    op.execute(ROUTE_SHAPE_PIECES)


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER IF EXISTS route_shapes_after_update ON route_shapes;
        DROP TRIGGER IF EXISTS route_shapes_after_insert ON route_shapes;
        DROP FUNCTION IF EXISTS route_shapes_after_update();
        DROP FUNCTION IF EXISTS route_shapes_after_insert();
        DROP TABLE IF EXISTS route_shape_pieces;
        """
    )
    previous = _migration("0006").SUMMARY_BODY.format(cells="new_rows")
    op.execute(_summary_trigger(previous))
    op.execute(_transit_functions(None))
    op.execute(PREVIOUS_CATEGORY_MASK)
