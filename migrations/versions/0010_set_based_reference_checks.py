"""stops.feed_id and route_shape_pieces.shape_id: checked once per statement, not per row.

Written by hand. A declarative foreign key checks each inserted row on its own (a cached
`SELECT 1 FROM feeds WHERE id = $1 FOR KEY SHARE` per row): 0.9-1.2 s of server time of the
335,944-row NaPTAN COPY (server CPU 3.7-4.3 s with it, 3.0-3.1 s without, same run), and
about 0.2 s of the 61,257 GTFS shape pieces. On an unindexed copy of `stops` (same COPY
text, load 2-2.7): no check 0.34-0.45 s, the declarative key 1.41-1.43 s, this check
0.45-0.51 s (its transition table, one pass for the distinct keys). Both tables are
written in bulk by the importers, almost always with a single parent per statement.

Here the two constraints become triggers that keep the same guarantees, once per statement:

- insert or update (child): every distinct key of the statement's rows must exist in the
  parent, and those parent rows are locked FOR KEY SHARE until commit, exactly as the
  declarative check locks them; else `foreign_key_violation` with PostgreSQL's own message.
- delete (parent): the children of the deleted rows are deleted (ON DELETE CASCADE);
- update of the parent's id, while children reference it: refused (NO ACTION);
- truncate of the parent while children exist: refused.

Concurrency is the declarative one's. An insert waits for a concurrent delete of its parent
(row lock) and then fails if the parent is gone; a delete waits for the inserters' key-share
locks, and its cascade (a new statement in READ COMMITTED) then sees their committed rows.
In REPEATABLE READ or SERIALIZABLE the cascade could not see rows committed after the
snapshot (the declarative cascade raises a serialization failure then), so deleting a parent
in those levels is refused with a serialization failure: feeds and shapes are deleted in
READ COMMITTED (the default; the importers and the CLI use it).

What is given up: `\\d stops` lists no foreign key (the triggers are `stops_feed_*` and
`route_shape_pieces_shape_*`), tools that read foreign keys from the catalogue (ORM
reflection, diagram tools) do not see these two, and `TRUNCATE feeds CASCADE` no longer
reaches stops by itself (it is refused while stops exist). No role needs more than the
table owner's rights: nothing here disables triggers or needs a superuser.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# (child table, child column, parent table, constraint name it replaces)
REFERENCES = (
    ("stops", "feed_id", "feeds", "stops_feed_id_fkey"),
    ("route_shape_pieces", "shape_id", "route_shapes", "route_shape_pieces_shape_id_fkey"),
)

FUNCTIONS = """
CREATE FUNCTION reference_check_new_rows() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV: child column, parent table, constraint name. Parents have a bigint-able `id`.
-- One pass over the statement's rows for their distinct keys (usually one), then the
-- parents are locked by key; a key whose parent is not there (or was deleted meanwhile)
-- is the violation.
DECLARE
    keys bigint[];
    missing bigint;
BEGIN
    EXECUTE format('SELECT array_agg(key) FROM (SELECT DISTINCT %I::bigint AS key '
                   'FROM new_rows) k WHERE key IS NOT NULL', TG_ARGV[0]) INTO keys;
    EXECUTE format('SELECT key FROM unnest($1) key WHERE key NOT IN '
                   '(SELECT id FROM %I WHERE id = ANY($1) FOR KEY SHARE) LIMIT 1',
                   TG_ARGV[1]) INTO missing USING keys;
    IF missing IS NOT NULL THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('insert or update on table "%s" violates foreign key '
                             'constraint "%s"', TG_TABLE_NAME, TG_ARGV[2]),
            DETAIL = format('Key (%s)=(%s) is not present in table "%s".',
                            TG_ARGV[0], missing, TG_ARGV[1]),
            TABLE = TG_TABLE_NAME, CONSTRAINT = TG_ARGV[2];
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION reference_delete_children() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV: child table, child column.
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE serialization_failure USING
            MESSAGE = format('rows of "%s" are deleted in READ COMMITTED transactions only '
                             '(their "%s" rows cascade)', TG_TABLE_NAME, TG_ARGV[0]);
    END IF;
    EXECUTE format('DELETE FROM %I WHERE %I IN (SELECT id FROM old_rows)',
                   TG_ARGV[0], TG_ARGV[1]);
    RETURN NULL;
END $$;

CREATE FUNCTION reference_refuse_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV: child table, child column, constraint name. A row trigger on the parent's id.
DECLARE
    referenced boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = $1)', TG_ARGV[0], TG_ARGV[1])
        INTO referenced USING OLD.id;
    IF referenced THEN
        RAISE foreign_key_violation USING
            MESSAGE = format('update on table "%s" violates foreign key constraint "%s" '
                             'on table "%s"', TG_TABLE_NAME, TG_ARGV[2], TG_ARGV[0]),
            DETAIL = format('Key (id)=(%s) is still referenced from table "%s".',
                            OLD.id, TG_ARGV[0]);
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION reference_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
-- TG_ARGV: child table. Runs after the truncate, so truncating both tables together works.
DECLARE
    children boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', TG_ARGV[0]) INTO children;
    IF children THEN
        RAISE feature_not_supported USING
            MESSAGE = format('cannot truncate "%s" while "%s" has rows that reference it',
                             TG_TABLE_NAME, TG_ARGV[0]);
    END IF;
    RETURN NULL;
END $$;
"""


def _triggers(child: str, column: str, parent: str, name: str) -> str:
    """The four triggers that stand for one foreign key."""
    return f"""
ALTER TABLE {child} DROP CONSTRAINT {name};
CREATE TRIGGER {child}_{column}_insert AFTER INSERT ON {child}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION reference_check_new_rows('{column}', '{parent}', '{name}');
CREATE TRIGGER {child}_{column}_update AFTER UPDATE ON {child}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION reference_check_new_rows('{column}', '{parent}', '{name}');
CREATE TRIGGER {parent}_delete_{child} AFTER DELETE ON {parent}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION reference_delete_children('{child}', '{column}');
CREATE TRIGGER {parent}_id_{child} BEFORE UPDATE OF id ON {parent}
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION reference_refuse_key_change('{child}', '{column}', '{name}');
CREATE TRIGGER {parent}_truncate_{child} AFTER TRUNCATE ON {parent}
    FOR EACH STATEMENT EXECUTE FUNCTION reference_refuse_truncate('{child}');
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)
    for reference in REFERENCES:
        op.execute(_triggers(*reference))


def downgrade() -> None:
    for child, column, parent, name in REFERENCES:
        op.execute(f"""
            DROP TRIGGER {parent}_truncate_{child} ON {parent};
            DROP TRIGGER {parent}_id_{child} ON {parent};
            DROP TRIGGER {parent}_delete_{child} ON {parent};
            DROP TRIGGER {child}_{column}_update ON {child};
            DROP TRIGGER {child}_{column}_insert ON {child};
            ALTER TABLE {child} ADD CONSTRAINT {name} FOREIGN KEY ({column})
                REFERENCES {parent} (id) ON DELETE CASCADE;
        """)  # fmt: skip
    op.execute("""
        DROP FUNCTION reference_refuse_truncate();
        DROP FUNCTION reference_refuse_key_change();
        DROP FUNCTION reference_delete_children();
        DROP FUNCTION reference_check_new_rows();
    """)
