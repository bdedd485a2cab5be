"""Migrations: upgrade, downgrade and upgrade again; the schema is what the models expect."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from alembic.script import Script, ScriptDirectory

from streetsafe import migrate
from streetsafe.vocabulary import (
    CATEGORY_IDS,
    CONTEXTS,
    MAX_CATEGORIES,
    MODES,
    TIME_ZONE,
    local_time_zone,
)

from .conftest import fresh_database

GEOMETRY_TABLES = {
    "stops": "POINT",
    "route_shapes": "LINESTRING",
    "neighbourhoods": "MULTIPOLYGON",
    "reports": "POINT",
    "team_actions": "POLYGON",
}


def _tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"spatial_ref_sys"}


def test_upgrade_downgrade_upgrade_round_trip() -> None:
    url = fresh_database("migrations")
    engine = sa.create_engine(url)
    migrate.upgrade(url)
    upgraded = _tables(engine)
    assert {"stops", "routes", "reports", "report_cells", "idempotency_keys"} <= upgraded
    migrate.downgrade(url, "base")
    engine.dispose()
    assert _tables(engine) == {"alembic_version"}
    migrate.upgrade(url)
    assert _tables(engine) == upgraded
    with engine.connect() as connection:
        assert migrate.current_revision(connection) == migrate.head_revision()
    engine.dispose()


# Stops are bulk-loaded points: SP-GiST (a quad-tree) costs a third of a GiST's upkeep and
# serves the same box queries (migration 0011). Every other geometry has a GiST.
SPATIAL_INDEX_METHOD = {"stops": "spgist"}


def test_every_geometry_is_wgs84_with_a_named_spatial_index(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        columns = dict(
            connection.execute(
                sa.text("SELECT f_table_name, type FROM geometry_columns WHERE srid = 4326")
            ).all()
        )
        for table, kind in GEOMETRY_TABLES.items():
            assert columns.get(table) == kind, table
            index = connection.scalar(
                sa.text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = :t "
                    "AND indexdef LIKE '%USING ' || :method || ' (geom)'"
                ),
                {"t": table, "method": SPATIAL_INDEX_METHOD.get(table, "gist")},
            )
            assert index == f"ix_{table}_geom"
        unindexed = connection.scalar(
            sa.text("SELECT count(*) FROM geometry_columns WHERE srid <> 4326")
        )
        assert unindexed == 0


def test_rolled_back_fixture_leaves_no_rows_behind(db_session, engine) -> None:
    db_session.execute(sa.text("INSERT INTO feeds (name, kind) VALUES ('rollback-check', 'gtfs')"))
    db_session.commit()  # a savepoint inside the test's transaction
    assert (
        db_session.scalar(sa.text("SELECT count(*) FROM feeds WHERE name = 'rollback-check'")) == 1
    )
    with engine.connect() as other:
        assert (
            other.scalar(sa.text("SELECT count(*) FROM feeds WHERE name = 'rollback-check'")) == 0
        )


# The vocabulary's pins. Migrations keep their own copies of the category ids and the
# contexts (a migration is history: it must not change when streetsafe/vocabulary.py does).
# These tests tie every copy, and the database they build, to the one registry: a category
# or context added to the vocabulary without a migration that adds it fails here.


def _revisions_oldest_first() -> list[Script]:
    script = ScriptDirectory.from_config(migrate.alembic_config("postgresql://unused"))
    return list(reversed(list(script.walk_revisions("base", "heads"))))


def _sql_list(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"'([^']*)'", text))


def test_every_migration_category_list_is_the_vocabulary_or_an_earlier_prefix_of_it() -> None:
    lists = [
        (rev.revision, tuple(rev.module.CATEGORY_IDS))
        for rev in _revisions_oldest_first()
        if hasattr(rev.module, "CATEGORY_IDS")
    ]
    assert [revision for revision, _ in lists] == ["0005", "0006", "0007"]
    # Bit i of a rollup's mask is category i for ever: a list may only grow at its end.
    for revision, ids in lists:
        assert ids == CATEGORY_IDS[: len(ids)], revision
    assert lists[-1][1] == CATEGORY_IDS, "a category was added without a migration"


def test_the_newest_context_check_in_the_migrations_lists_the_vocabulary() -> None:
    found = []
    for rev in _revisions_oldest_first():
        source = Path(rev.path).read_text()
        found += [
            (rev.revision, _sql_list(m)) for m in re.findall(r"context IN \(([^)]*)\)", source)
        ]
    assert found and found[0][0] == "0001"
    assert found[-1][1] == CONTEXTS, f"migration {found[-1][0]} lists other contexts"


def test_the_database_constraints_are_the_vocabulary(connection: sa.Connection) -> None:
    checks = connection.scalars(
        sa.text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'reports'::regclass AND contype = 'c'"
        )
    ).all()
    (context,) = [check for check in checks if "(context)" in check]
    assert set(_sql_list(context)) == set(CONTEXTS)
    (count,) = [check for check in checks if "cardinality(categories)" in check]
    assert f"<= {MAX_CATEGORIES}" in count


def test_the_database_category_bits_and_summary_columns_are_the_vocabulary(
    connection: sa.Connection,
) -> None:
    for bit, category in enumerate(CATEGORY_IDS):
        mask = connection.scalar(
            sa.text("SELECT hotspot_category_mask(ARRAY[:c]::text[])"), {"c": category}
        )
        assert mask == 1 << bit, category
    every = connection.scalar(
        sa.text("SELECT hotspot_category_mask(CAST(:c AS text[]))"), {"c": list(CATEGORY_IDS)}
    )
    assert every == (1 << len(CATEGORY_IDS)) - 1
    columns = {
        column["name"] for column in sa.inspect(connection).get_columns("hotspot_cell_summary")
    }
    per_category = {c for c in columns if c.startswith(("n_", "k_"))}
    assert per_category == {f"{p}_{c}" for p in "nk" for c in CATEGORY_IDS}


def test_every_mode_fits_the_database_mode_columns(connection: sa.Connection) -> None:
    widths = dict(
        connection.execute(
            sa.text(
                "SELECT table_name, character_maximum_length FROM information_schema.columns "
                "WHERE column_name = 'mode' AND table_schema = 'public'"
            )
        ).all()
    )
    assert {"stops", "routes", "reports", "hotspot_cell_rollup"} <= set(widths)
    assert all(len(mode) <= min(widths.values()) for mode in MODES)


def test_the_database_time_zone_defaults_to_the_vocabulary(connection: sa.Connection) -> None:
    migration = next(r for r in _revisions_oldest_first() if r.revision == "0005")
    assert f"'{TIME_ZONE}'" in Path(migration.path).read_text()
    assert connection.scalar(sa.text("SELECT current_setting('streetsafe.timezone', true)")) in (
        None,
        "",
    )
    assert local_time_zone(connection) == TIME_ZONE
    connection.execute(sa.text("SET LOCAL streetsafe.timezone = 'America/New_York'"))
    assert local_time_zone(connection) == "America/New_York"
