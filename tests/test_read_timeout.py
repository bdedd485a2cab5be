"""Public reads run under a statement timeout: a slow one is a 503 with Retry-After."""

from __future__ import annotations

import sqlalchemy as sa

from streetsafe import create_app
from streetsafe.db import db_read_session, get_database

from .conftest import settings_for


def test_a_public_read_past_the_timeout_is_a_503_with_retry_after(database_url) -> None:
    app = create_app(settings_for(database_url, public_read_timeout_ms=100))
    try:
        with app.test_request_context("/api/v1/hotspots/cells"):
            session = db_read_session()
            assert session.scalar(sa.text("SHOW statement_timeout")) == "100ms"
            try:
                session.execute(sa.text("SELECT pg_sleep(2)"))
            except Exception as error:  # what a view would raise, through the app's handler
                response = app.handle_user_exception(error)
            else:
                raise AssertionError("pg_sleep(2) was not cancelled")
        assert response.status_code == 503 and response.headers["Retry-After"]
        # Intake's and the teams' pool is not timed.
        with get_database(app).engine.connect() as connection:
            assert connection.scalar(sa.text("SHOW statement_timeout")) == "0"
    finally:
        get_database(app).dispose()


def test_public_reads_launch_no_parallel_workers_and_no_jit(database_url) -> None:
    """Many short reads at once: two parallel workers cost more to start than the read."""
    app = create_app(settings_for(database_url))
    try:
        with app.test_request_context("/api/v1/hotspots/cells"):
            session = db_read_session()
            assert session.scalar(sa.text("SHOW max_parallel_workers_per_gather")) == "0"
            assert session.scalar(sa.text("SHOW jit")) == "off"
        with get_database(app).engine.connect() as connection:  # imports and loads keep them
            assert connection.scalar(sa.text("SHOW max_parallel_workers_per_gather")) != "0"
    finally:
        get_database(app).dispose()
