"""A historic load applies the rollup triggers once per load, not once per batch.

Written by hand. `streetsafe reports load` inserted its reports in batches of 20,000, and
every batch's insert ran the rollup triggers of migrations 0005-0019, about 60 % of its
time, holding the rollup rows it touched from the first batch to the commit. Now the batches
are inserted alone and the rollups run once, over the whole load, sorted by key (1.5x on a
million national reports; docs/BENCHMARKS.md, "Load (historic import)", round 2).

- The five rollup triggers on `reports` and `report_cells` gain
  `WHEN (NOT hotspot_rollups_deferred())`: a transaction that ran
  `SET LOCAL streetsafe.defer_rollups = on` (only the loader does) stores rows without
  them. Intake, and every other writer, never sets it and is unchanged.
- `hotspot_apply_deferred_rollups(ids)` then runs those triggers' own bodies, as the
  database holds them (`pg_proc.prosrc`, in the triggers' firing order), once, with
  `new_rows` standing for the reports whose ids are in the table `ids` and for their
  cells. The bodies only add (counts, key sums, histograms) or add what is missing
  (sites), and the summaries are recomputed from the totals or added to, so one pass over
  all the load's rows stores what a pass per batch stored. Taking the bodies from the
  catalogue keeps the two from drifting apart when a later migration changes a trigger.
- `new_receipt_code()` makes the same code (migration 0026: the same 13 bytes of a
  `gen_random_uuid()`, the same alphabet, in order) without an aggregate: 3 us a report
  instead of 13 us, measured in psql.
- `report_cells.report_id` is checked once per statement instead of once per row (as
  migration 0010 did for stops.feed_id): four row checks a report, 0.31 s of a
  20,000-report batch's 4.1 s insert. Deleting reports deletes their cells (ON DELETE
  CASCADE, from a statement trigger; in READ COMMITTED, as 0010 explains), changing a
  referenced report's id is refused, and truncating `reports` truncates `report_cells`
  too (what `TRUNCATE reports CASCADE` did; a plain `TRUNCATE reports` is still refused
  by report_descriptions' key).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import context, op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# The rollup triggers, by table, as migrations 0005, 0006, 0018 and 0019 created them.
DEFERRABLE = {
    "reports": ("hotspot_reports_after_insert", "hotspot_site_totals_after_insert",
                "hotspot_site_totals_summary_after_insert"),
    "report_cells": ("hotspot_cells_after_insert", "hotspot_cells_summary_after_insert"),
}  # fmt: skip
DEFERRED = "WHEN (NOT hotspot_rollups_deferred())"

# Migration 0026's receipt code, character for character: the 13 wholly random bytes of a
# version-4 UUID, each one of Crockford's 32 characters.
RANDOM_BYTES = (0, 1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 14, 15)
RECEIPT_CODE = f"""
CREATE OR REPLACE FUNCTION new_receipt_code() RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
DECLARE
    b bytea := uuid_send(gen_random_uuid());
    alphabet text := '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
BEGIN
    RETURN {" || ".join(f"substr(alphabet, get_byte(b, {i}) % 32 + 1, 1)" for i in RANDOM_BYTES)};
END $$;
"""

FUNCTIONS = """
CREATE FUNCTION hotspot_rollups_deferred() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('streetsafe.defer_rollups', true), '') = 'on'
$$;

CREATE FUNCTION hotspot_apply_deferred_rollups(ids regclass) RETURNS void
LANGUAGE plpgsql AS $$
-- `ids` has a column `id`: the reports stored with the rollups deferred. Each deferred
-- trigger's body runs once, its transition table `new_rows` replaced by those reports (for
-- the triggers on reports) or their cells (on report_cells), in firing order.
DECLARE
    fired record;
    body text;
BEGIN
    IF hotspot_rollups_deferred() THEN
        RAISE EXCEPTION 'streetsafe.defer_rollups is still on';
    END IF;
    -- Dynamic SQL throughout: the temporary tables are new on every call.
    EXECUTE format('CREATE TEMP TABLE deferred_reports ON COMMIT DROP AS '
                   'SELECT r.* FROM reports r WHERE r.id IN (SELECT id FROM %s)', ids);
    EXECUTE 'CREATE TEMP TABLE deferred_cells ON COMMIT DROP AS SELECT c.* '
            'FROM report_cells c WHERE c.report_id IN (SELECT id FROM deferred_reports)';
    EXECUTE 'ANALYZE pg_temp.deferred_reports, pg_temp.deferred_cells';
    FOR fired IN
        SELECT t.tgrelid::regclass AS relation, t.tgname, p.prosrc
          FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
         WHERE t.tgrelid IN ('reports'::regclass, 'report_cells'::regclass)
           AND NOT t.tgisinternal
           AND pg_get_triggerdef(t.oid) LIKE '%NOT hotspot_rollups_deferred()%'
         ORDER BY t.tgrelid = 'report_cells'::regclass, t.tgname
    LOOP
        body := substring(fired.prosrc FROM '^\\s*BEGIN(.*)RETURN NULL;\\s*END\\s*$');
        IF body IS NULL THEN
            RAISE EXCEPTION 'trigger % on % is not BEGIN ... RETURN NULL; END',
                fired.tgname, fired.relation;
        END IF;
        EXECUTE regexp_replace(body, '\\mnew_rows\\M',
            CASE WHEN fired.relation = 'reports'::regclass
                 THEN 'deferred_reports' ELSE 'deferred_cells' END, 'g');
    END LOOP;
    EXECUTE 'DROP TABLE pg_temp.deferred_reports, pg_temp.deferred_cells';
END $$;

CREATE FUNCTION reference_check_new_report_ids() RETURNS trigger LANGUAGE plpgsql AS $$
-- report_cells.report_id: migration 0010's reference_check_new_rows, for a uuid key. The
-- statement's reports are locked FOR KEY SHARE until commit, as the declarative check
-- locks them; a report that is not there (or was deleted meanwhile) is the violation.
DECLARE
    missing uuid;
BEGIN
    PERFORM 1 FROM reports r WHERE r.id IN (SELECT report_id FROM new_rows) FOR KEY SHARE;
    SELECT n.report_id INTO missing
      FROM (SELECT DISTINCT report_id FROM new_rows) n
     WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.id = n.report_id)
     LIMIT 1;
    IF missing IS NOT NULL THEN
        RAISE foreign_key_violation USING
            MESSAGE = 'insert or update on table "report_cells" violates foreign key '
                      'constraint "report_cells_report_id_fkey"',
            DETAIL = format('Key (report_id)=(%s) is not present in table "reports".',
                            missing),
            TABLE = 'report_cells', CONSTRAINT = 'report_cells_report_id_fkey';
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION reference_truncate_report_cells() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE report_cells;
    RETURN NULL;
END $$;
"""

REPORT_CELLS_REFERENCE = """
ALTER TABLE report_cells DROP CONSTRAINT report_cells_report_id_fkey;
CREATE TRIGGER report_cells_report_id_insert AFTER INSERT ON report_cells
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION reference_check_new_report_ids();
CREATE TRIGGER report_cells_report_id_update AFTER UPDATE ON report_cells
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION reference_check_new_report_ids();
CREATE TRIGGER reports_delete_report_cells AFTER DELETE ON reports
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION reference_delete_children('report_cells', 'report_id');
CREATE TRIGGER reports_id_report_cells BEFORE UPDATE OF id ON reports
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION reference_refuse_key_change('report_cells', 'report_id',
                                                 'report_cells_report_id_fkey');
CREATE TRIGGER reports_truncate_report_cells AFTER TRUNCATE ON reports
    FOR EACH STATEMENT EXECUTE FUNCTION reference_truncate_report_cells();
"""


def _triggers(deferred: bool) -> str:
    """The rollup triggers, recreated with or without the deferral test."""
    when = f"{DEFERRED} " if deferred else ""
    return "".join(
        f"DROP TRIGGER {name} ON {table};\n"
        f"CREATE TRIGGER {name} AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT {when}EXECUTE FUNCTION {name}();\n"
        for table, names in DEFERRABLE.items()
        for name in names
    )


def upgrade() -> None:
    op.execute(FUNCTIONS)
    op.execute(RECEIPT_CODE)
    op.execute(_triggers(deferred=True))
    op.execute(REPORT_CELLS_REFERENCE)


def downgrade() -> None:
    op.execute(
        """
        DROP TRIGGER reports_truncate_report_cells ON reports;
        DROP TRIGGER reports_id_report_cells ON reports;
        DROP TRIGGER reports_delete_report_cells ON reports;
        DROP TRIGGER report_cells_report_id_update ON report_cells;
        DROP TRIGGER report_cells_report_id_insert ON report_cells;
        ALTER TABLE report_cells ADD CONSTRAINT report_cells_report_id_fkey
            FOREIGN KEY (report_id) REFERENCES reports (id) ON DELETE CASCADE;
        """
    )
    op.execute(_triggers(deferred=False))
    op.execute(context.script.get_revision("0026").module._NEW_RECEIPT_CODE.replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))  # fmt: skip
    op.execute(
        """
        DROP FUNCTION reference_truncate_report_cells();
        DROP FUNCTION reference_check_new_report_ids();
        DROP FUNCTION hotspot_apply_deferred_rollups(regclass);
        DROP FUNCTION hotspot_rollups_deferred();
        """
    )
