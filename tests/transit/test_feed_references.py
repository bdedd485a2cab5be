"""stops.feed_id, route_shape_pieces.shape_id and the stop_id of route_stops and reports:
set-based checks keep foreign key guarantees (migrations 0010 and 0025)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

NEW_STOP = (
    "INSERT INTO stops (feed_id, public_id, source_id, name, geom) "
    "VALUES (:feed, :public_id, 'x', 'x', 'SRID=4326;POINT(0 0)')"
)


def _feed(connection: sa.Connection, name: str) -> int:
    return connection.scalar(
        sa.text("INSERT INTO feeds (name, kind) VALUES (:n, 'naptan') RETURNING id"), {"n": name}
    )


def _violation(error: pytest.ExceptionInfo) -> str:
    return error.value.orig.sqlstate  # type: ignore[union-attr]


def test_stop_of_a_missing_feed_is_refused(connection: sa.Connection) -> None:
    with pytest.raises(sa.exc.IntegrityError) as caught:
        connection.execute(sa.text(NEW_STOP), {"feed": -1, "public_id": "none:1"})
    assert _violation(caught) == "23503"
    assert "stops_feed_id_fkey" in str(caught.value)


def test_moving_a_stop_to_a_missing_feed_or_renumbering_its_feed_is_refused(
    connection: sa.Connection,
) -> None:
    feed = _feed(connection, "refs")
    connection.execute(sa.text(NEW_STOP), {"feed": feed, "public_id": "refs:1"})
    for statement in ("UPDATE stops SET feed_id = -1 WHERE public_id = 'refs:1'",
                      "UPDATE feeds SET id = -1 WHERE name = 'refs'"):  # fmt: skip
        with pytest.raises(sa.exc.IntegrityError) as caught, connection.begin_nested():
            connection.execute(sa.text(statement))
        assert _violation(caught) == "23503"


def test_deleting_a_feed_or_shape_deletes_its_stops_or_pieces(connection: sa.Connection) -> None:
    feed = _feed(connection, "refs")
    connection.execute(sa.text(NEW_STOP), {"feed": feed, "public_id": "refs:1"})
    connection.execute(sa.text(
        "INSERT INTO routes (feed_id, public_id, source_id, mode, route_type) "
        "VALUES (:f, 'refs:R', 'R', 'bus', 3)"), {"f": feed})  # fmt: skip
    connection.execute(sa.text(
        "INSERT INTO route_shapes (route_id, direction, from_stops, length_m, geom) "
        "SELECT id, 0, true, 1, 'SRID=4326;LINESTRING(0 0, 0 1, 0 2, 0 3, 0 4)' FROM routes "
        "WHERE public_id = 'refs:R'"))  # fmt: skip
    pieces = "SELECT count(*) FROM route_shape_pieces p JOIN route_shapes s ON s.id = p.shape_id"
    assert connection.scalar(sa.text(pieces)) == 2
    connection.execute(sa.text("DELETE FROM feeds WHERE id = :f"), {"f": feed})
    assert connection.scalar(sa.text("SELECT count(*) FROM stops WHERE feed_id = :f"),
                             {"f": feed}) == 0  # fmt: skip
    assert connection.scalar(sa.text("SELECT count(*) FROM route_shape_pieces")) == 0


def _stop_with_route_stop_and_report(connection: sa.Connection) -> int:
    """A stop on a route with a report at it; returns the stop's id."""
    feed = _feed(connection, "refs")
    stop = connection.scalar(sa.text(NEW_STOP + " RETURNING id"),
                             {"feed": feed, "public_id": "refs:1"})  # fmt: skip
    route = connection.scalar(sa.text(
        "INSERT INTO routes (feed_id, public_id, source_id, mode, route_type) "
        "VALUES (:f, 'refs:R', 'R', 'bus', 3) RETURNING id"), {"f": feed})  # fmt: skip
    connection.execute(sa.text("INSERT INTO route_stops (route_id, direction, seq, stop_id) "
                               "VALUES (:r, 0, 1, :s)"), {"r": route, "s": stop})  # fmt: skip
    connection.execute(sa.text(
        "INSERT INTO reports (id, context, categories, occurred_at, geom, stop_id, "
        "stop_public_id) VALUES (gen_random_uuid(), 'at_stop', ARRAY['harassment'], now(), "
        "'SRID=4326;POINT(0 0)', :s, 'refs:1')"), {"s": stop})  # fmt: skip
    return stop


def test_deleting_a_stop_deletes_its_route_stops_and_unlinks_its_reports(
    connection: sa.Connection,
) -> None:
    stop = _stop_with_route_stop_and_report(connection)
    connection.execute(sa.text("DELETE FROM stops WHERE id = :s"), {"s": stop})
    assert connection.scalar(sa.text("SELECT count(*) FROM route_stops WHERE stop_id = :s"),
                             {"s": stop}) == 0  # fmt: skip
    report = connection.execute(sa.text(
        "SELECT stop_id, stop_public_id FROM reports WHERE stop_public_id = 'refs:1'")).one()
    assert tuple(report) == (None, "refs:1")


@pytest.mark.parametrize("statement, constraint", [
    ("UPDATE route_stops SET stop_id = -1", "route_stops_stop_id_fkey"),
    ("UPDATE reports SET stop_id = -1 WHERE stop_public_id = 'refs:1'", "reports_stop_id_fkey"),
    ("UPDATE stops SET id = -1 WHERE public_id = 'refs:1'", "_stop_id_fkey"),
    ("INSERT INTO route_stops (route_id, direction, seq, stop_id) "
     "SELECT id, 1, 1, -1 FROM routes WHERE public_id = 'refs:R'", "route_stops_stop_id_fkey"),
])  # fmt: skip
def test_a_missing_or_renumbered_stop_is_refused(
    connection: sa.Connection, statement: str, constraint: str
) -> None:
    _stop_with_route_stop_and_report(connection)
    with pytest.raises(sa.exc.IntegrityError) as caught, connection.begin_nested():
        connection.execute(sa.text(statement))
    assert _violation(caught) == "23503"
    assert constraint in str(caught.value)


def test_truncating_feeds_with_stops_left_is_refused(connection: sa.Connection) -> None:
    feed = _feed(connection, "refs")
    connection.execute(sa.text(NEW_STOP), {"feed": feed, "public_id": "refs:1"})
    with pytest.raises(sa.exc.NotSupportedError, match="cannot truncate"):
        connection.execute(sa.text("TRUNCATE feeds CASCADE"))


@pytest.fixture
def committed_feed(engine: sa.Engine) -> Iterator[int]:
    """A committed feed for tests with two connections; removed afterwards."""
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM feeds WHERE name = 'refs-concurrent'"))
        feed = _feed(connection, "refs-concurrent")
    yield feed
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM feeds WHERE name = 'refs-concurrent'"))


def _in_thread(work) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:  # noqa: BLE001 - handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_concurrent_delete_of_the_feed_waits_and_then_takes_the_new_stops(
    engine: sa.Engine, committed_feed: int
) -> None:
    with engine.connect() as inserter:
        inserter.execute(sa.text(NEW_STOP), {"feed": committed_feed, "public_id": "refs-c:1"})

        def delete() -> int:
            with engine.begin() as deleter:
                deleter.execute(sa.text("DELETE FROM feeds WHERE id = :f"), {"f": committed_feed})
                return deleter.scalar(sa.text("SELECT count(*) FROM stops WHERE feed_id = :f"),
                                      {"f": committed_feed})  # fmt: skip

        thread, outcome = _in_thread(delete)
        time.sleep(0.3)
        assert thread.is_alive(), "the delete must wait for the inserter's key-share lock"
        inserter.commit()
        thread.join(10)
    assert outcome == [0]
    with engine.connect() as connection:
        orphans = "SELECT count(*) FROM stops WHERE public_id = 'refs-c:1'"
        assert connection.scalar(sa.text(orphans)) == 0


def test_stop_inserted_while_its_feed_is_being_deleted_is_refused(
    engine: sa.Engine, committed_feed: int
) -> None:
    with engine.connect() as deleter:
        deleter.execute(sa.text("DELETE FROM feeds WHERE id = :f"), {"f": committed_feed})

        def insert() -> None:
            with engine.begin() as inserter:
                inserter.execute(sa.text(NEW_STOP),
                                 {"feed": committed_feed, "public_id": "refs-c:2"})  # fmt: skip

        thread, outcome = _in_thread(insert)
        time.sleep(0.3)
        assert thread.is_alive(), "the insert must wait for the delete"
        deleter.commit()
        thread.join(10)
    assert isinstance(outcome[0], sa.exc.IntegrityError)
    assert isinstance(outcome[0].orig, psycopg.errors.ForeignKeyViolation)


def test_deleting_a_feed_in_repeatable_read_is_refused(
    engine: sa.Engine, committed_feed: int
) -> None:
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        with pytest.raises(sa.exc.OperationalError, match="READ COMMITTED"):
            connection.execute(sa.text("DELETE FROM feeds WHERE id = :f"), {"f": committed_feed})
        connection.rollback()
