"""Database plumbing: the declarative Base, engines, and one session per request."""

from __future__ import annotations

import functools
import select
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
import sqlalchemy as sa
from flask import Flask, current_app, g
from psycopg.rows import namedtuple_row
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every table; constraint names follow NAMING_CONVENTION."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, **kwargs: object) -> sa.Engine:
    """An engine for psycopg 3 that checks pooled connections before use, without a round trip."""
    options: dict[str, object] = {
        "pool_size": 10,
        "max_overflow": 20,
        "pool_timeout": 5,
        "connect_args": {"connect_timeout": 5, "application_name": "streetsafe"},
    }
    options.update(kwargs)
    engine = sa.create_engine(url, **options)
    if not options.get("pool_pre_ping"):
        sa.event.listen(engine, "checkout", _drop_if_closed_by_server)
    return engine


def _drop_if_closed_by_server(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Replace a pooled connection the server has closed, without pool_pre_ping's round trip.

    An idle connection of ours is never sent anything (no LISTEN), so a readable socket means
    the server said goodbye (restart, pg_terminate_backend, idle timeout) or hung up: raising
    DisconnectionError makes the pool open a fresh one. A connection that dies unnoticed still
    fails its first statement, which the error handler turns into a 503 with Retry-After and
    SQLAlchemy answers by invalidating the whole pool, so the next request reconnects.
    """
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:  # not psycopg 3: nothing cheap to check
        return
    if dbapi_connection.closed or pgconn.status != 0:  # 0 is CONNECTION_OK
        raise sa.exc.DisconnectionError("connection closed")
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    if poller.poll(0):
        raise sa.exc.DisconnectionError("the server closed the connection")


class Database:
    """Engines and session factories: writes go to the primary, public reads to a replica.

    With `read_timeout_ms`, public reads get a pool of their own whose statements PostgreSQL
    cancels after that long (a 503 with Retry-After, never a hang), without parallel workers
    or JIT, on the replica or, without one, on the primary; intake, imports and team work
    keep the primary's untimed pool.
    """

    def __init__(
        self, url: str, read_url: str | None = None, read_timeout_ms: int | None = None
    ) -> None:
        self.engine = make_engine(url)
        if read_timeout_ms:
            # No parallel workers and no JIT for public reads: they are many short statements
            # at once, and launching two workers took 16 ms of a 4.6 ms read (a city's res 10
            # totals at 1M reports; docs/BENCHMARKS.md, "National reads", round 4).
            timeout = {"options": f"-c statement_timeout={read_timeout_ms} "
                                  "-c max_parallel_workers_per_gather=0 -c jit=off"}  # fmt: skip
            args = {"connect_timeout": 5, "application_name": "streetsafe-read", **timeout}
            self.read_engine = make_engine(read_url or url, connect_args=args)
        else:
            self.read_engine = make_engine(read_url) if read_url else self.engine
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.read_session_factory = sessionmaker(bind=self.read_engine, expire_on_commit=False)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for CLI commands and scripts: committed on success, rolled back on error."""
        with self.session_factory() as session, session.begin():
            yield session


def init_app(app: Flask, database: Database) -> None:
    """Attach the database to the app and close each request's sessions at teardown."""
    app.extensions["streetsafe.db"] = database

    @app.teardown_appcontext
    def _close_sessions(exc: BaseException | None) -> None:
        for key in ("db_session", "db_read_session"):
            session: Session | None = g.pop(key, None)
            if session is not None:
                if exc is not None:
                    session.rollback()
                session.close()


def get_database(app: Flask | None = None) -> Database:
    """The Database attached to the app."""
    return (app or current_app).extensions["streetsafe.db"]


def db_session() -> Session:
    """The current request's read-write session."""
    if "db_session" not in g:
        g.db_session = get_database().session_factory()
    return g.db_session


def autocommit(session: Session) -> None:
    """Let a session that starts its own transaction commit each statement as it runs.

    For work whose only write is one statement: that statement is atomic by itself, so BEGIN
    and COMMIT would be two round trips for nothing. Call it before the first statement. A
    session bound to a connection (a test's transaction, a script's) keeps that transaction.
    """
    if isinstance(session.bind, sa.Engine) and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def db_read_session() -> Session:
    """The current request's session for hotspot reads (a replica when DATABASE_READ_URL is set)."""
    if "db_read_session" not in g:
        g.db_read_session = get_database().read_session_factory()
    return g.db_read_session


# What intake's statements run on: a request's session, or a connection (the report
# writer's, which has no session).
Executor = Session | sa.Connection

_PSYCOPG = PGDialect_psycopg()


@functools.cache
def _driver_sql(statement: sa.TextClause) -> str:
    """A text() statement in psycopg's own `%(name)s` parameter style."""
    return str(statement.compile(dialect=_PSYCOPG))


def driver_rows(
    executor: Executor, statement: sa.TextClause, params: Mapping[str, Any]
) -> list[Any]:
    """Run a hot statement on the psycopg connection underneath the session or connection.

    Same transaction, same SQL; rows are named tuples (`row.name`), like SQLAlchemy's. It
    skips SQLAlchemy's execution layers, which cost about as much Python time per report as
    the rest of intake's Python together (see docs/BENCHMARKS.md "Ingest"): used for the
    snapping and insert statements of report intake only.
    """
    connection = executor.connection() if isinstance(executor, Session) else executor
    driver = connection.connection.driver_connection
    sql = _driver_sql(statement)
    try:
        with driver.cursor(row_factory=namedtuple_row) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    except psycopg.Error as error:
        # As SQLAlchemy would: a lost connection is dropped from the pool, and the error is
        # raised as its DBAPIError subclass (OperationalError -> 503 with Retry-After).
        if driver.broken or driver.closed:
            connection.invalidate()
        raise sa.exc.DBAPIError.instance(sql, None, error, psycopg.Error) from error
