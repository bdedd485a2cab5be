"""Server planner settings for one import's statements (transit/loader.py, places.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def planner_settings(connection: sa.Connection, **settings: str) -> Iterator[None]:
    """Server settings for the import's statements only (use inside its savepoint).

    jit is turned off: the import's large one-off queries spent more time compiling
    (about 1-2 s of a 6 s GTFS import on this machine) than JIT saved. work_mem is raised
    so that the reference checks' transition tables (migration 0010; 41 MB for the GB
    NaPTAN COPY) stay in memory: 0.50-0.53 s against 0.56-0.59 s for that COPY into an
    unindexed copy of stops. On success the caller's values are put back; on failure the
    savepoint's rollback undoes them.
    """
    old = {name: connection.scalar(sa.text(f"SHOW {name}")) for name in settings}
    for name, value in settings.items():
        connection.execute(sa.text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    yield
    for name, value in old.items():
        connection.execute(sa.text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
