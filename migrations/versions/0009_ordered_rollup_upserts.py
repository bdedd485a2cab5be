"""Hotspot triggers upsert their rollup rows in key order, so report inserts can run side by side.

Written by hand. The statement-level triggers of migrations 0005-0007 add each intake
INSERT's reports to rollup rows with `INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO
UPDATE`, and a hash aggregate yields the groups in no particular order. Two concurrent
batches touching the same rows (the same cells, days and hours) could lock them in opposite
orders and deadlock, so intake took a database-wide advisory lock around every insert, and
batches from different workers waited for each other's triggers and commit.

Each upsert now sorts its rows by the table's key (`ORDER BY` the grouped columns). Every
insert runs the same triggers in the same order, and within a table takes its row locks in
key order, so two inserts can wait for one another but never in a cycle. The statements
that add sites (cells, stops, segments) were ordered already. Only the triggers change: the
rebuild functions work on whole tables under their own locks.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import re

from alembic import context, op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def in_key_order(body: str) -> str:
    """Each `GROUP BY <key> ON CONFLICT` upsert of a trigger body, ordered by that key."""
    ordered, count = re.subn(
        r"(\n\s*GROUP BY ([^\n]+)\n)(\s*ON CONFLICT)", r"\1     ORDER BY \2\n\3", body
    )
    if count == 0:
        raise ValueError("no upsert to order in this body")
    return ordered


def _trigger_functions(ordered: bool) -> str:
    m0005, m0007 = (context.script.get_revision(rev).module for rev in ("0005", "0007"))
    cells = m0005.CELL_BODY.format(cells="new_rows")
    transit = m0007._transit_body(m0007.SEGMENT_SITES).format(reports="new_rows")
    summary = m0007.INCREMENTAL_SUMMARY
    if ordered:
        cells, transit, summary = in_key_order(cells), in_key_order(transit), in_key_order(summary)
    return f"""
        CREATE OR REPLACE FUNCTION hotspot_cells_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {cells}    RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION hotspot_reports_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {transit}    RETURN NULL;
        END $$;

        CREATE OR REPLACE FUNCTION hotspot_cells_summary_after_insert() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
        {summary}    RETURN NULL;
        END $$;
    """


def upgrade() -> None:
    op.execute(_trigger_functions(ordered=True))


def downgrade() -> None:
    op.execute(_trigger_functions(ordered=False))
