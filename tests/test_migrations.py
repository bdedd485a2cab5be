"""Migrations: upgrade, downgrade and upgrade again; the schema is what the models expect."""

from __future__ import annotations

import sqlalchemy as sa

from streetsafe import migrate

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
