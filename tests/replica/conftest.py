"""A primary cluster of the tests' own and a hot standby streaming from it (pg_basebackup -R).

Both run as the `postgres` system user (as root, through `runuser -u postgres --`, which
localdb does for every PostgreSQL tool) in a folder under /tmp, each on a free port, and are
stopped and deleted at the end. The app is served by gunicorn with DATABASE_URL on the
primary and DATABASE_READ_URL on the standby.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe import localdb, migrate
from tests.conftest import redis_url
from tests.resilience.servers import AppServer, free_port
from tests.transit_fixture import make_small_feed


@dataclass
class Replication:
    """The primary, its standby, their URLs, and the app serving from both."""

    primary: localdb.Cluster
    standby: localdb.Cluster
    primary_url: str
    standby_url: str
    server: AppServer


def _as_postgres(*args: str) -> None:
    result = localdb._run_as_owner(list(args))
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr[-2000:]}")


def _primary(base: Path) -> tuple[localdb.Cluster, str]:
    """A fresh cluster with a migrated `streetsafe` database holding the small test feed."""
    primary = localdb.Cluster(base / "primary", free_port())
    primary.ensure("streetsafe")
    url = primary.url("streetsafe")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    migrate.upgrade(url)
    with Session(engine) as session:
        make_small_feed(session)
        session.commit()
    engine.dispose()
    return primary, url


def _standby(base: Path, primary: localdb.Cluster) -> localdb.Cluster:
    """A hot standby of `primary`: a base backup with its recovery settings (-R), started."""
    bindir = localdb.ensure_postgres_packages()
    standby = localdb.Cluster(base / "standby", free_port())
    _as_postgres(
        str(bindir / "pg_basebackup"), "-D", str(standby.data), "-R", "-X", "stream",
        "-c", "fast", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
    )  # fmt: skip
    with open(standby.data / "postgresql.conf", "a") as conf:  # the copy says the primary's
        conf.write(
            f"\n# standby\nport = {standby.port}\nunix_socket_directories = '{standby.data}'\n"
            "hot_standby = on\n"
        )
    standby.start()
    return standby


def wait_replayed(primary_url: str, standby_url: str, timeout_s: float = 30) -> float:
    """Wait until the standby has replayed everything the primary has written; seconds."""
    began = time.monotonic()
    primary, standby = sa.create_engine(primary_url), sa.create_engine(standby_url)
    try:
        with primary.connect() as connection:
            target = connection.scalar(sa.text("SELECT pg_current_wal_lsn()"))
        while time.monotonic() - began < timeout_s:
            with standby.connect() as connection:
                done = connection.scalar(
                    sa.text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"),
                    {"lsn": target},
                )
            if done:
                return time.monotonic() - began
            time.sleep(0.01)
    finally:
        primary.dispose()
        standby.dispose()
    raise AssertionError(f"the standby did not replay {target} in {timeout_s} s")


@pytest.fixture(scope="module")
def replication(tmp_path_factory) -> Iterator[Replication]:
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no `postgres` system user to run the clusters as")
    base = Path(tempfile.mkdtemp(prefix="streetsafe-replica-"))
    if os.geteuid() == 0:
        os.chown(base, owner.pw_uid, owner.pw_gid)  # pg_basebackup creates the standby in it
    os.chmod(base, 0o755)
    primary = standby = server = None
    try:
        primary, primary_url = _primary(base)
        standby = _standby(base, primary)
        standby_url = standby.url("streetsafe")
        wait_replayed(primary_url, standby_url)
        clean = redis_url()
        redis.Redis.from_url(clean).flushdb()
        log = tmp_path_factory.mktemp("replica") / "server.log"
        server = AppServer(
            {
                "DATABASE_URL": primary_url,
                "DATABASE_READ_URL": standby_url,
                "REDIS_URL": clean,
                "STREETSAFE_SECRET_KEY": "replica-test-secret-key",
                "STREETSAFE_RATE_LIMITS": "",
                # Tiles drawn afresh: the tests pause and resume replay within seconds.
                "STREETSAFE_TILE_CACHE_S": "0",
                # Reports published as they are stored: the lag measured is replication's
                # (on the hour, add the wait for the boundary; docs/SCALING.md).
                "STREETSAFE_PUBLISH_EVERY_S": "0",
            },
            log,
        )
        yield Replication(primary, standby, primary_url, standby_url, server)
    finally:
        if server is not None:
            server.stop()
        for cluster in (standby, primary):
            if cluster is not None:
                cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
