"""route_stops.stop_id and reports.stop_id: checked once per statement, not per row.

Written by hand, as migration 0010 did for stops.feed_id. Replacing a feed deletes all its
stops first, and each deleted stop ran the two declarative foreign keys' row triggers: a
cascade probe into route_stops and a SET NULL probe into reports, 750,000 SPI queries for
GB NaPTAN. On the import benchmark's database that DELETE took 5.9 s with the two keys and
0.35 s without them (same run); it was most of the gap between a live NaPTAN replace and a
first load (docs/BENCHMARKS.md).

The two constraints become statement triggers with transition tables, with the declarative
ones' guarantees (0010's docstring has the concurrency argument, which is the same here):

- insert or update of route_stops / reports: every distinct stop_id of the statement's rows
  must exist in stops, locked FOR KEY SHARE until commit; else foreign_key_violation with
  PostgreSQL's own message and the old constraint's name;
- delete of stops: their route_stops rows are deleted (ON DELETE CASCADE) and their reports'
  stop_id is set to NULL (ON DELETE SET NULL; the report keeps stop_public_id and is
  re-linked by the importer, transit/loader.py);
- update of stops.id while referenced, or truncate of stops while referenced: refused.

What is given up is what 0010 gave up: the catalogue no longer lists these two foreign keys.

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None

NULL_CHILDREN = """
CREATE FUNCTION reference_null_children() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV: child table, child column. ON DELETE SET NULL, once per statement.
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE serialization_failure USING
            MESSAGE = format('rows of "%s" are deleted in READ COMMITTED transactions only '
                             '(their "%s" rows are updated)', TG_TABLE_NAME, TG_ARGV[0]);
    END IF;
    EXECUTE format('UPDATE %I SET %I = NULL WHERE %I IN (SELECT id FROM old_rows)',
                   TG_ARGV[0], TG_ARGV[1], TG_ARGV[1]);
    RETURN NULL;
END $$;
"""

# (child table, constraint it replaces, the delete function: cascade or set null)
REFERENCES = (
    ("route_stops", "route_stops_stop_id_fkey", "reference_delete_children"),
    ("reports", "reports_stop_id_fkey", "reference_null_children"),
)
DECLARED = {"route_stops": "ON DELETE CASCADE", "reports": "ON DELETE SET NULL"}


def _triggers(child: str, name: str, on_delete: str) -> str:
    """The five triggers that stand for one foreign key to stops."""
    return f"""
ALTER TABLE {child} DROP CONSTRAINT {name};
CREATE TRIGGER {child}_stop_id_insert AFTER INSERT ON {child}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION reference_check_new_rows('stop_id', 'stops', '{name}');
CREATE TRIGGER {child}_stop_id_update AFTER UPDATE ON {child}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION reference_check_new_rows('stop_id', 'stops', '{name}');
CREATE TRIGGER stops_delete_{child} AFTER DELETE ON stops
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION {on_delete}('{child}', 'stop_id');
CREATE TRIGGER stops_id_{child} BEFORE UPDATE OF id ON stops
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION reference_refuse_key_change('{child}', 'stop_id', '{name}');
CREATE TRIGGER stops_truncate_{child} AFTER TRUNCATE ON stops
    FOR EACH STATEMENT EXECUTE FUNCTION reference_refuse_truncate('{child}');
"""


def upgrade() -> None:
    op.execute(NULL_CHILDREN)
    for reference in REFERENCES:
        op.execute(_triggers(*reference))


def downgrade() -> None:
    for child, name, _ in REFERENCES:
        op.execute(f"""
            DROP TRIGGER stops_truncate_{child} ON stops;
            DROP TRIGGER stops_id_{child} ON stops;
            DROP TRIGGER stops_delete_{child} ON stops;
            DROP TRIGGER {child}_stop_id_update ON {child};
            DROP TRIGGER {child}_stop_id_insert ON {child};
            ALTER TABLE {child} ADD CONSTRAINT {name} FOREIGN KEY (stop_id)
                REFERENCES stops (id) {DECLARED[child]};
        """)  # fmt: skip
    op.execute("DROP FUNCTION reference_null_children()")
