"""Record keys for the cell-key method, and no reporter-side time finer than the hour.

Written by hand. Public counts are perturbed by the cell-key method (ONS Census 2021, ABS
TableBuilder; streetsafe/hotspots/perturbation.py): every report gets a random record key
0-255, and a feature's cell key is the sum of its reports' keys modulo 256. Key sums add up
like counts, so every rollup row carries `key_sum` next to `count`, and the per-cell summary
carries the total key sum, one per category (`k_<category>`, beside the `n_<category>` counts)
and one per category mask (`mask_key_sums`, parallel to `masks`). The triggers
and rebuild functions of migrations 0005-0009 are rewritten to keep them, and the rollups
are rebuilt from the raw reports.

Times: `reports.occurred_at` is truncated to the hour, and a row trigger truncates every
later insert or update, whatever wrote it (intake truncates too, for its receipt); idempotency
keys' `created_at` and `expires_at` are whole hours (a key lasts at least its TTL: it
expires at the end of the hour after created + TTL).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import re

from alembic import context, op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ROLLUPS = ("hotspot_cell_rollup", "hotspot_cell_totals", "hotspot_stop_rollup",
           "hotspot_segment_rollup")  # fmt: skip


def _module(rev: str):
    return context.script.get_revision(rev).module


def with_key_sums(body: str) -> str:
    """A rollup body whose upserts also add up the reports' record keys."""
    body, n_columns = re.subn(
        r"neighbourhood_id, count\)", "neighbourhood_id, count, key_sum)", body
    )
    body, n_values = re.subn(r", count\(\*\)", ", count(*), sum(r.record_key)", body)
    body, n_updates = re.subn(
        r"SET count = t\.count \+ EXCLUDED\.count",
        "SET count = t.count + EXCLUDED.count, key_sum = t.key_sum + EXCLUDED.key_sum",
        body,
    )
    if not n_columns == n_values == n_updates > 0:
        raise ValueError("rollup body not in the expected shape")
    return body


def _bodies() -> dict[str, str]:
    m0005, m0007, m0009 = _module("0005"), _module("0007"), _module("0009")
    transit = m0007._transit_body(m0007.SEGMENT_SITES)
    return {
        "cells_trigger": m0009.in_key_order(
            with_key_sums(m0005.CELL_BODY.format(cells="new_rows"))
        ),
        "cells_rebuild": with_key_sums(m0005.CELL_BODY.format(cells="report_cells")),
        "transit_trigger": m0009.in_key_order(with_key_sums(transit.format(reports="new_rows"))),
        "transit_rebuild": with_key_sums(transit.format(reports="reports")),
    }


def _key_columns() -> list[str]:
    """One key-sum column per category, beside migration 0006's count columns."""
    return [f"k_{c}" for c in _module("0007").CATEGORY_IDS]


def _key_expressions() -> str:
    return ", ".join(
        f"coalesce(sum(m.k) FILTER (WHERE m.category_mask & {1 << i} <> 0), 0)::bigint"
        for i in range(len(_key_columns()))
    )


def _summary(source: str, incremental: bool) -> str:
    """The cell summary upsert: counts and key sums per category, and the mask histogram."""
    m0007 = _module("0007")
    per_category = [*m0007.COUNT_COLUMNS, *_key_columns()]
    columns = ", ".join(per_category)
    if incremental:
        grouped = """SELECT n.res, n.cell, hotspot_category_mask(r.categories) AS category_mask,
                   count(*)::int AS n, sum(r.record_key)::bigint AS k
              FROM new_rows n JOIN reports r ON r.id = n.report_id
             GROUP BY 1, 2, 3"""
        update = f"""total = t.total + EXCLUDED.total, key_sum = t.key_sum + EXCLUDED.key_sum,
        {", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in per_category)},
        (masks, mask_counts, mask_key_sums) = (
            SELECT array_agg(u.mask ORDER BY u.mask), array_agg(u.n ORDER BY u.mask),
                   array_agg(u.k ORDER BY u.mask)
              FROM (SELECT x.mask, sum(x.n)::int AS n, sum(x.k)::bigint AS k
                      FROM (SELECT * FROM unnest(t.masks, t.mask_counts, t.mask_key_sums)
                            UNION ALL
                            SELECT * FROM unnest(EXCLUDED.masks, EXCLUDED.mask_counts,
                                                 EXCLUDED.mask_key_sums))
                           AS x(mask, n, k)
                     GROUP BY x.mask) AS u)"""
        order = "ORDER BY m.res, m.cell"
    else:
        grouped = f"""SELECT x.res, x.cell, x.category_mask, sum(x.count)::int AS n,
                   sum(x.key_sum)::bigint AS k
              FROM {source} x
             GROUP BY 1, 2, 3"""
        update = f"""total = EXCLUDED.total, key_sum = EXCLUDED.key_sum,
        {", ".join(f"{c} = EXCLUDED.{c}" for c in per_category)},
        masks = EXCLUDED.masks, mask_counts = EXCLUDED.mask_counts,
        mask_key_sums = EXCLUDED.mask_key_sums"""
        order = ""
    return f"""
    INSERT INTO hotspot_cell_summary AS t
           (res, cell, total, key_sum, {columns}, masks, mask_counts, mask_key_sums)
    SELECT m.res, m.cell, sum(m.n)::int, sum(m.k)::bigint,
           {m0007.COUNT_EXPRESSIONS},
           {_key_expressions()},
           array_agg(m.category_mask ORDER BY m.category_mask),
           array_agg(m.n ORDER BY m.category_mask),
           array_agg(m.k ORDER BY m.category_mask)
      FROM ({grouped}) AS m
     GROUP BY m.res, m.cell
     {order}
    ON CONFLICT (res, cell) DO UPDATE SET
        {update};
"""


def _functions() -> str:
    b = _bodies()
    return f"""
        CREATE OR REPLACE FUNCTION hotspot_cells_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {b["cells_trigger"]}    RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION hotspot_rebuild_cell_rollups() RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
        {b["cells_rebuild"]}END $$;

        CREATE OR REPLACE FUNCTION hotspot_reports_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {b["transit_trigger"]}    RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION hotspot_rebuild_transit_rollups() RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
        {b["transit_rebuild"]}END $$;

        CREATE OR REPLACE FUNCTION hotspot_cells_summary_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {_summary("new_rows", incremental=True)}    RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION hotspot_rebuild_cell_summaries() RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
        {_summary("hotspot_cell_totals", incremental=False)}END $$;
    """


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION reports_occurred_at_to_hour() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.occurred_at := date_trunc('hour', NEW.occurred_at AT TIME ZONE 'UTC')
                               AT TIME ZONE 'UTC';
            RETURN NEW;
        END $$;
        ALTER TABLE reports ADD COLUMN record_key smallint NOT NULL
            DEFAULT floor(random() * 256)::smallint
            CONSTRAINT ck_reports_record_key CHECK (record_key BETWEEN 0 AND 255);
        UPDATE reports SET occurred_at = to_timestamp(
            floor(extract(epoch FROM occurred_at) / 3600) * 3600);
        CREATE TRIGGER reports_occurred_at_to_hour BEFORE INSERT OR UPDATE OF occurred_at
            ON reports FOR EACH ROW EXECUTE FUNCTION reports_occurred_at_to_hour();
        {"".join(f"ALTER TABLE {t} ADD COLUMN key_sum bigint NOT NULL DEFAULT 0; "
                 for t in ROLLUPS)}
        ALTER TABLE hotspot_cell_summary
            {"".join(f"ADD COLUMN {c} bigint NOT NULL DEFAULT 0, " for c in _key_columns())}
            ADD COLUMN key_sum bigint NOT NULL DEFAULT 0,
            ADD COLUMN mask_key_sums bigint[] NOT NULL DEFAULT '{{}}';

        UPDATE idempotency_keys SET created_at = date_trunc('hour', created_at),
               expires_at = date_trunc('hour', expires_at) + interval '1 hour';
        ALTER TABLE idempotency_keys ALTER COLUMN created_at
            SET DEFAULT date_trunc('hour', now());
        """
    )
    op.execute(_functions())
    op.execute(
        """
        TRUNCATE hotspot_cell_rollup, hotspot_cell_totals, hotspot_cell_sites,
            hotspot_stop_rollup, hotspot_stop_sites, hotspot_segment_rollup,
            hotspot_segment_sites, hotspot_cell_summary;
        SELECT hotspot_rebuild_cell_rollups();
        SELECT hotspot_rebuild_cell_summaries();
        SELECT hotspot_rebuild_transit_rollups();
        """
    )


def downgrade() -> None:
    m0005, m0006, m0007, m0009 = (_module(r) for r in ("0005", "0006", "0007", "0009"))
    op.execute(m0007._transit_functions(m0007.SEGMENT_SITES))
    op.execute(m0009._trigger_functions(ordered=True))
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION hotspot_rebuild_cell_rollups() RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
        {m0005.CELL_BODY.format(cells="report_cells")}END $$;

        CREATE OR REPLACE FUNCTION hotspot_rebuild_cell_summaries() RETURNS void
        LANGUAGE plpgsql AS $$
        BEGIN
        {m0006.SUMMARY_BODY.format(cells="hotspot_cell_sites")}END $$;

        ALTER TABLE hotspot_cell_summary DROP COLUMN mask_key_sums, DROP COLUMN key_sum,
            {", ".join(f"DROP COLUMN {c}" for c in _key_columns())};
        {"".join(f"ALTER TABLE {t} DROP COLUMN key_sum; " for t in ROLLUPS)}
        DROP TRIGGER reports_occurred_at_to_hour ON reports;
        DROP FUNCTION reports_occurred_at_to_hour();
        ALTER TABLE reports DROP COLUMN record_key;
        ALTER TABLE idempotency_keys ALTER COLUMN created_at SET DEFAULT now();
        """
    )
