"""The connection pool: dead connections are replaced without a ping per checkout."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe.db import autocommit, make_engine


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.text("SELECT pg_backend_pid()"))


def test_a_pooled_connection_the_server_closed_is_replaced_without_an_error(
    database_url: str, engine: sa.Engine
) -> None:
    pooled = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        first = _backend_pid(pooled)
        assert _backend_pid(pooled) == first  # the pool reuses it
        with engine.connect() as admin:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": first})
        assert _backend_pid(pooled) != first  # replaced at checkout, no error raised
    finally:
        pooled.dispose()


def test_autocommit_sessions_commit_each_statement_and_test_sessions_keep_their_transaction(
    database_url: str, db_session: Session
) -> None:
    pooled = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        xact = sa.text("SELECT pg_current_xact_id()::text")
        with Session(pooled) as session:
            autocommit(session)
            # Each statement is its own transaction.
            assert session.scalar(xact) != session.scalar(xact)
        with Session(pooled) as session:  # back in the pool: transactions again
            assert session.scalar(xact) == session.scalar(xact)
        autocommit(db_session)  # bound to the test's connection: left in its transaction
        assert db_session.scalar(xact) == db_session.scalar(xact)
    finally:
        pooled.dispose()
