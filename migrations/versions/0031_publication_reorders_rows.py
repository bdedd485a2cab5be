"""Each publication rewrites its reports' rows in random order, so a dump cannot rank them.

Written by hand. A report's rows are written when it arrives: `reports`, its four
`report_cells`, its description and its idempotency key (whose stored response names the
report). PostgreSQL keeps rows in the order they were written, and a dump (`pg_dump` reads
each table in that order) showed it: the stored hour hides when within the hour a report
came, but the order ranked the hour's reports, and with any log of the requests' times
(a proxy's) the k-th report was the k-th request (docs/PRIVACY.md, threat model).

Now `hotspot_publish_pending()` (migration 0029), after the rollups, rewrites the reports
it published that intake stored (`source IS NULL`: a historic load's order is its file's),
with their cells, descriptions and keys, in random order: each table's rows are locked,
copied, deleted and inserted again, shuffled, in the publication's transaction. Nothing in
them changes (ids, receipt codes, record keys, moderation state), no rollup runs again (the
re-insert runs with the deferral on) and every reference holds. So a dump ranks only the
reports still waiting for the next boundary, whose hour is the current one.

- Whatever else writes those rows waits for a publication, and a publication for it:
  `hotspot_hold_publication()` takes the publication's advisory lock in shared mode, to the
  end of the transaction. Moderation holds it (an update waiting for the rewrite would
  find its row gone and change nothing), and so does a transit import before it deletes
  stops or routes, whose references the reports' rows carry (the two would otherwise wait on
  each other). Intake needs none: it writes new rows, and an idempotency key it claims again
  waits for the rewrite and finds the new row.
- Each copy locks the rows it copies, so nothing committed meanwhile is lost.
- Left as it is: the old row versions stay in the table's files until VACUUM prunes them
  and new rows overwrite their bytes (a copy of the files, not a dump, can read them), and
  the write-ahead log holds every write in order, with each commit's time.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import context, op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def _publish_pending(reorder: bool) -> str:
    """Migration 0029's hotspot_publish_pending(), optionally reordering what it published."""
    m0029 = context.script.get_revision("0029").module
    return m0029.publish_pending_sql("PERFORM hotspot_reorder_published();" if reorder else "")


def upgrade() -> None:
    lock = context.script.get_revision("0029").module.PUBLISH_LOCK
    op.execute(
        f"""
        CREATE FUNCTION hotspot_hold_publication() RETURNS void LANGUAGE sql AS $$
            SELECT pg_advisory_xact_lock_shared({lock})
        $$;

        CREATE FUNCTION hotspot_reorder_published() RETURNS integer
        LANGUAGE plpgsql AS $$
        -- The reports in pg_temp.publishing that intake stored, with their cells,
        -- descriptions and idempotency keys, written again in random order.
        DECLARE
            moved integer;
        BEGIN
            CREATE TEMP TABLE reordering ON COMMIT DROP AS
                SELECT r.id FROM reports r JOIN pg_temp.publishing p ON p.id = r.id
                 WHERE r.source IS NULL;
            GET DIAGNOSTICS moved = ROW_COUNT;
            IF moved > 0 THEN
                -- Each copy locks the rows it copies (cells have no writer but these).
                CREATE TEMP TABLE reordered_reports ON COMMIT DROP AS
                    SELECT r.* FROM reports r WHERE r.id IN (SELECT id FROM reordering)
                     ORDER BY random() FOR UPDATE;
                CREATE TEMP TABLE reordered_cells ON COMMIT DROP AS
                    SELECT c.* FROM report_cells c
                     WHERE c.report_id IN (SELECT id FROM reordering) ORDER BY random();
                CREATE TEMP TABLE reordered_descriptions ON COMMIT DROP AS
                    SELECT d.* FROM report_descriptions d
                     WHERE d.report_id IN (SELECT id FROM reordering)
                     ORDER BY random() FOR UPDATE;
                CREATE TEMP TABLE reordered_keys ON COMMIT DROP AS
                    SELECT k.* FROM idempotency_keys k
                     WHERE k.response->>'id' IN (SELECT id::text FROM reordering)
                     ORDER BY random() FOR UPDATE;
                DELETE FROM idempotency_keys
                 WHERE key_hash IN (SELECT key_hash FROM reordered_keys);
                -- Their cells (a statement trigger) and descriptions (cascade) go with them.
                DELETE FROM reports WHERE id IN (SELECT id FROM reordering);
                -- The same reports again: no new rollups.
                SET LOCAL streetsafe.defer_rollups = on;
                INSERT INTO reports SELECT * FROM reordered_reports;
                INSERT INTO report_cells SELECT * FROM reordered_cells;
                INSERT INTO report_descriptions SELECT * FROM reordered_descriptions;
                INSERT INTO idempotency_keys SELECT * FROM reordered_keys;
                SET LOCAL streetsafe.defer_rollups = off;
                DROP TABLE pg_temp.reordered_reports, pg_temp.reordered_cells,
                           pg_temp.reordered_descriptions, pg_temp.reordered_keys;
            END IF;
            DROP TABLE pg_temp.reordering;
            RETURN moved;
        END $$;
        """
    )
    op.execute(_publish_pending(reorder=True))


def downgrade() -> None:
    op.execute(_publish_pending(reorder=False))
    op.execute(
        "DROP FUNCTION hotspot_reorder_published(); DROP FUNCTION hotspot_hold_publication();"
    )
