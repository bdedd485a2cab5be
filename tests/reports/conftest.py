"""Fixtures for report intake: a small transit network and row counts of every intake table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.transit_fixture import make_small_feed

INTAKE_TABLES = ("reports", "report_cells", "report_descriptions", "idempotency_keys")


@pytest.fixture
def small_feed(db_session):
    return make_small_feed(db_session)


@pytest.fixture
def intake_rows(connection):
    """A function returning the row count of each intake table (inside the test transaction)."""

    def count() -> dict[str, int]:
        return {
            table: connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            for table in INTAKE_TABLES
        }

    return count
