"""Shared fixtures: a migrated PostGIS test database, per-test rolled-back sessions, the app.

TEST_DATABASE_URL / REDIS_URL name servers to use; without them the project's local
PostgreSQL + PostGIS cluster and Redis (.local/) are started and used.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from streetsafe import create_app
from streetsafe.config import Settings, normalise_database_url
from streetsafe.db import get_database

SHARED_GEODATA = Path(
    os.environ.get("STREETSAFE_GEODATA")
    or Path(__file__).resolve().parents[2] / "shared" / "geodata"
)
TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "15"))
TEST_DATABASE_NAME = os.environ.get("TEST_DATABASE_NAME", "streetsafe_test")


def server_url() -> str:
    """The URL of the server tests create their databases on (any database on it)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    from streetsafe import localdb

    return localdb.ensure_postgres()


def fresh_database(suffix: str = "") -> str:
    """Create (or empty) a test database named after TEST_DATABASE_NAME, with PostGIS."""
    name = f"{TEST_DATABASE_NAME}_{suffix}" if suffix else TEST_DATABASE_NAME
    base = sa.make_url(server_url())
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(database=name)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    return url.render_as_string(hide_password=False)


def migrated_database(suffix: str) -> str:
    """A fresh test database (see fresh_database) migrated to head; its URL."""
    from streetsafe import migrate

    url = fresh_database(suffix)
    migrate.upgrade(url)
    return url


def run_streetsafe(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the `streetsafe` command against `database_url`, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "streetsafe.cli", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def within_one_window(period_s: int, need_s: float) -> None:
    """Wait, when needed, until the rate limiter's current window has need_s seconds left.

    Its windows end on the clock's boundaries (limits.AlignedWindowRedisStorage), so a test
    counting requests against a limit must not let them straddle one.
    """
    left = period_s - time.time() % period_s
    if left < need_s:
        time.sleep(left + 0.05)


def redis_url() -> str:
    """A Redis database reserved for tests."""
    url = os.environ.get("REDIS_URL")
    if not url:
        from streetsafe import localdb

        url = localdb.ensure_redis()
    return url.rsplit("/", 1)[0] + f"/{TEST_REDIS_DB}"


@pytest.fixture(scope="session")
def database_url() -> str:
    """A test database migrated to head once per run."""
    return migrated_database("")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def settings_for(database_url: str, **overrides: object) -> Settings:
    """Test settings on `database_url`: real PostGIS and Redis, limits off unless overridden."""
    base = Settings(
        database_url=database_url,
        redis_url=redis_url(),
        secret_key="test-secret-key-0123456789",
        rate_limits="",
        receipt_limits="",
        testing=True,
    )
    return base.with_overrides(**overrides) if overrides else base


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Test settings: real PostGIS and Redis, limits off unless a test turns them on."""
    return settings_for(database_url)


@pytest.fixture
def connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One connection whose outer transaction is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def db_session(connection: sa.Connection) -> Iterator[Session]:
    """A session inside the test's transaction; its commits become savepoints."""
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()


@pytest.fixture
def app(settings: Settings, connection: sa.Connection):
    """The app, its sessions bound to the test's rolled-back transaction."""
    app = create_app(settings)
    database = get_database(app)
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    database.session_factory = factory
    database.read_session_factory = factory
    yield app
    database.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def shared_geodata() -> Path:
    """../shared/geodata, or a skip with the reason."""
    if not SHARED_GEODATA.is_dir():
        pytest.skip(f"real geodata not found at {SHARED_GEODATA} (see geodata/README.md)")
    return SHARED_GEODATA


@pytest.fixture
def demo_feed(connection: sa.Connection) -> str:
    """The demo Hull GTFS feed ("demo") and neighbourhoods, inside the test's transaction."""
    from streetsafe.demo.transit import DEMO_FEED, load_demo_transit_into

    load_demo_transit_into(connection)
    return DEMO_FEED
