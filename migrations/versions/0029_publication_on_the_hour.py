"""Reports reach the hotspot layers on the hour, together, not the second they arrive.

Written by hand. The database keeps only the hour a report happened and the date it was
received, so that no stored time matches a network log. But every report updated the
rollups the moment it was stored, and so the public layers (and their ETags and tiles):
anyone polling a place's layer learnt, to the second, when a report there arrived, which is
the time the hour truncation hides (docs/PRIVACY.md, "Publication on the hour").

Now intake, when publication is batched (`STREETSAFE_PUBLISH_EVERY_S`, default 3600),
stores its reports with the rollup triggers deferred (migration 0027's
`streetsafe.defer_rollups`, in the report's own transaction) and queues their ids in
`unpublished_reports`; `hotspot_publish_pending()` then rolls up everything queued, in one
statement per rollup (0027's `hotspot_apply_deferred_rollups`), and empties the queue. The
app calls it on each boundary of the period (server.py starts the clock), `streetsafe
publish` does it by hand or from cron.

- The queue holds report ids only (random UUIDs): no time. A dump shows which reports have
  arrived since the last boundary, within the hour the reports table already shows.
- Queued by the insert statement itself, only when the deferral is on
  (`WHERE hotspot_rollups_deferred()`): a report is either rolled up at once or queued,
  never both and never neither.
- Deleting a queued report (moderation, retention) takes it out of the queue (ON DELETE
  CASCADE); it was never counted, and the rollups are never decremented anyway.
- One publisher at a time (a transaction-level advisory lock); a report stored while the
  publication runs waits for the next one.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

# pg_advisory_xact_lock's key: 'streetsafe' as bytes, so no other lock of ours shares it.
PUBLISH_LOCK = 0x73747265657473


def publish_pending_sql(then: str = "") -> str:
    """hotspot_publish_pending(), created or replaced; `then` runs after the rollups, with
    `pg_temp.publishing` still holding the published ids (migration 0031 adds a step)."""
    return f"""
        CREATE OR REPLACE FUNCTION hotspot_publish_pending() RETURNS integer
        LANGUAGE plpgsql AS $$
        -- Roll up every queued report and empty the queue, in the caller's transaction.
        -- Reports queued by transactions that commit after this one began wait for the next.
        DECLARE
            published integer;
        BEGIN
            PERFORM pg_advisory_xact_lock({PUBLISH_LOCK});
            SET LOCAL streetsafe.defer_rollups = off;
            CREATE TEMP TABLE publishing (id uuid PRIMARY KEY) ON COMMIT DROP;
            WITH taken AS (DELETE FROM unpublished_reports RETURNING report_id)
            INSERT INTO publishing SELECT report_id FROM taken;
            GET DIAGNOSTICS published = ROW_COUNT;
            IF published > 0 THEN
                PERFORM hotspot_apply_deferred_rollups('pg_temp.publishing');
                {then}
            END IF;
            DROP TABLE pg_temp.publishing;
            RETURN published;
        END $$;
        """


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE unpublished_reports (
            report_id uuid PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE
        );
        """
    )
    op.execute(publish_pending_sql())


def downgrade() -> None:
    # Publish what is queued first, so that no stored report is left out of the rollups.
    op.execute("SELECT hotspot_publish_pending()")
    op.execute("DROP FUNCTION hotspot_publish_pending(); DROP TABLE unpublished_reports;")
