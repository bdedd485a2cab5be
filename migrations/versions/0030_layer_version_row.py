"""The public layers' data version is a row, moved only by what changes the layers.

Written by hand. Every worker keeps what it built of a public layer (its published ids and
Gi*, the low-zoom tile sums) under the data's version (streetsafe/hotspots/layercache.py),
so a read after a change is a cold one, ten to a hundred times slower than a warm one. The
version was the sequence `hotspot_layer_version` (migration 0019), advanced by a statement
trigger on `reports` and on the summaries and sites. Two faults:

- **Queued reports moved it.** The trigger on `reports` fired for every insert, a report
  queued for the hour's publication (migration 0029) included, though such a report changes
  no public output until the boundary. So the next read of any layer was a cold one, and
  anyone timing a layer learnt, to the second, when a report arrived: the time that
  publishing on the hour hides (docs/PRIVACY.md).
- **A standby could not read it.** A sequence is written to the WAL only every 32 values, so
  a standby's copy lags; the version there also held the replayed WAL position, and every
  replayed commit (each queued report's) started new indexes on the replica, where the public
  reads are served.

Now the version is the one row of `hotspot_layer_state`, set from the sequence by the same
triggers. A row is replicated with its transaction, so a standby reads the version that goes
with the data it sees, and a reader never sees a new version before the data it names (a
sequence moves before its writer commits). An insert into `reports` no longer moves it:
what an insert changes in the layers is written to the cell summary (at once, or at the
publication), whose own trigger moves it. Deleting, updating or truncating reports still
does, as before.

The row is locked by each writer that changes the layers until it commits: the publication
(one at a time anyway), a transit import, and intake only when it publishes at once
(`STREETSAFE_PUBLISH_EVERY_S=0`), where its writers already meet on the rollup rows.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE hotspot_layer_state (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            version bigint NOT NULL
        );
        INSERT INTO hotspot_layer_state (version)
        SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM hotspot_layer_version;

        CREATE OR REPLACE FUNCTION hotspot_advance_layer_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE hotspot_layer_state SET version = nextval('hotspot_layer_version');
            RETURN NULL;
        END $$;

        DROP TRIGGER reports_layer_version ON reports;
        CREATE TRIGGER reports_layer_version AFTER DELETE OR UPDATE OR TRUNCATE ON reports
            FOR EACH STATEMENT EXECUTE FUNCTION hotspot_advance_layer_version();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER reports_layer_version ON reports;
        CREATE TRIGGER reports_layer_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE
            ON reports FOR EACH STATEMENT EXECUTE FUNCTION hotspot_advance_layer_version();
        CREATE OR REPLACE FUNCTION hotspot_advance_layer_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM nextval('hotspot_layer_version');
            RETURN NULL;
        END $$;
        DROP TABLE hotspot_layer_state;
        """
    )
