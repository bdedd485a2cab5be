"""Hotspot cell summaries: one row per (res, cell) for queries without filters.

Written by hand. `hotspot_cell_totals` keeps one row per cell, context, mode, category mask
and neighbourhood, so a busy res 7 cell has about a hundred rows and an unfiltered wide
bbox read folded ~50,000 rows in Python. The summary has one row per cell: the total, one
count column per category (reports having that category) and the cell's category-mask
histogram as two parallel arrays (`masks`, `mask_counts`), which disclosure control needs to
count the reports of merged categories exactly (each report once).

A statement-level AFTER INSERT trigger on `report_cells` (named to fire after
`hotspot_cells_after_insert`, triggers fire in name order) recomputes the summary rows of the
cells the statement touched from `hotspot_cell_totals`, in the insert's transaction.
`hotspot_rebuild_cell_summaries()` runs the same body over every cell.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
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

# {cells} is a relation with (res, cell) columns: the trigger's transition table or, for a
# rebuild, the whole report_cells table.
SUMMARY_BODY = f"""
    INSERT INTO hotspot_cell_summary AS t
           (res, cell, total, {", ".join(COUNT_COLUMNS)}, masks, mask_counts)
    SELECT m.res, m.cell, sum(m.n)::int,
           {COUNT_EXPRESSIONS},
           array_agg(m.category_mask ORDER BY m.category_mask),
           array_agg(m.n ORDER BY m.category_mask)
      FROM (SELECT x.res, x.cell, x.category_mask, sum(x.count)::int AS n
              FROM hotspot_cell_totals x
             WHERE (x.res, x.cell) IN (SELECT DISTINCT c.res, c.cell FROM {{cells}} c)
             GROUP BY 1, 2, 3) AS m
     GROUP BY m.res, m.cell
    ON CONFLICT (res, cell) DO UPDATE SET
        total = EXCLUDED.total,
        {", ".join(f"{c} = EXCLUDED.{c}" for c in COUNT_COLUMNS)},
        masks = EXCLUDED.masks, mask_counts = EXCLUDED.mask_counts;
"""


def upgrade() -> None:
    op.execute(
        f"""
        CREATE TABLE hotspot_cell_summary (
            res smallint NOT NULL, cell bigint NOT NULL, total integer NOT NULL,
            {", ".join(f"{c} integer NOT NULL DEFAULT 0" for c in COUNT_COLUMNS)},
            masks integer[] NOT NULL, mask_counts integer[] NOT NULL,
            CONSTRAINT pk_hotspot_cell_summary PRIMARY KEY (res, cell)
        );

        CREATE FUNCTION hotspot_cells_summary_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {SUMMARY_BODY.format(cells="new_rows")}    RETURN NULL;
        END $$;

        CREATE FUNCTION hotspot_rebuild_cell_summaries() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
        {SUMMARY_BODY.format(cells="hotspot_cell_sites")}END $$;

        CREATE TRIGGER hotspot_cells_summary_after_insert AFTER INSERT ON report_cells
            REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION hotspot_cells_summary_after_insert();

        SELECT hotspot_rebuild_cell_summaries();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER IF EXISTS hotspot_cells_summary_after_insert ON report_cells;
        DROP FUNCTION IF EXISTS hotspot_cells_summary_after_insert();
        DROP FUNCTION IF EXISTS hotspot_rebuild_cell_summaries();
        DROP TABLE IF EXISTS hotspot_cell_summary;
        """
    )
