"""A layer's index (published ids, Gi*) is built once per question and data version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import h3
import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe.config import Settings
from streetsafe.demo.seeding import new_report
from streetsafe.hotspots import service
from streetsafe.hotspots.filters import parse_filters
from streetsafe.hotspots.gistar import GiResult
from streetsafe.hotspots.layercache import LayerCache, LayerIndex, layer_version
from streetsafe.hotspots.paging import Page
from streetsafe.hotspots.publication import publish_pending
from streetsafe.reports.intake import Intake, parse_report, submit_batch

from ..conftest import migrated_database, settings_for
from .conftest import RESOLUTIONS, STOP_LONLATS, make_transit

CELLS = ["8a195da49a07fff", "8a195da49a0ffff", "8a195da49b57fff"]


def test_an_index_pages_cells_in_id_order_and_finds_their_gi_star() -> None:
    gi = {CELLS[0]: GiResult(1.5, 0.2), CELLS[2]: GiResult(-0.5, 0.9)}
    nan = float("nan")
    index = LayerIndex(np.array([h3.str_to_int(c) for c in CELLS], dtype=np.uint64),
                       np.array([1.5, nan, -0.5]), np.array([0.2, nan, 0.9]))  # fmt: skip
    assert len(index) == 3 and index.page(1, 5) == CELLS[1:]
    assert index.gi_of([CELLS[2], CELLS[1], "8a195da49a17fff"]) == {CELLS[2]: gi[CELLS[2]]}
    assert index.nbytes == 3 * 8 * 3


def test_the_cache_keeps_entries_for_their_time_and_within_its_bytes() -> None:
    cache = LayerCache(max_bytes=4 * 100, ttl_s=60)
    built: list[str] = []

    def build(name: str) -> LayerIndex:
        built.append(name)
        return LayerIndex(np.zeros(4, dtype=np.uint64), np.zeros(4), np.zeros(4))  # 96 bytes

    for name in ("a", "a", "b", "c", "d", "e", "a"):
        cache.get(name, lambda n=name: build(n))
    assert built == ["a", "b", "c", "d", "e", "a"]  # five of 96 bytes overflow 400: a went
    cache.ttl_s = 0
    cache.get("d", lambda: build("d"))
    assert built[-1] == "d"


def test_clients_asking_for_one_question_at_once_build_it_once() -> None:
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    cache: LayerCache[LayerIndex] = LayerCache()
    builds, started = [], threading.Barrier(8)

    def build() -> LayerIndex:
        builds.append(1)
        time.sleep(0.3)
        return LayerIndex(("a", "b"))

    def ask(_: int) -> tuple[str, ...]:
        started.wait()
        return cache.get("question", build).ids

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert answers == [("a", "b")] * 8 and len(builds) == 1


@pytest.fixture(scope="module")
def committed_url() -> str:
    """A database of its own: the cache only keeps what other transactions can see."""
    return migrated_database("layercache")


@pytest.fixture
def committed(committed_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(committed_url)
    with Session(engine) as session:
        session.execute(sa.text("TRUNCATE reports CASCADE"))
        if not session.scalar(sa.text("SELECT count(*) FROM stops")):
            make_transit(session)
        session.commit()
    service.LAYER_INDEXES.clear()
    yield engine
    engine.dispose()


def _commit_reports(engine: sa.Engine, n: int) -> None:
    lon, lat = STOP_LONLATS[0]
    when = datetime(2025, 3, 7, 20, 30, tzinfo=UTC)
    with Session(engine) as session:
        session.add_all(new_report(lon=lon, lat=lat, resolutions=RESOLUTIONS, occurred_at=when,
                                   categories=["badly_lit"]) for _ in range(n))  # fmt: skip
        session.commit()


def _read(engine: sa.Engine, settings: Settings) -> list[tuple]:
    filters = parse_filters({"res": "10"})
    with Session(engine) as session:
        public = service.public_layer(session, "cells", filters, settings, Page(1000, 0))
    return [(f.id, f.count, f.properties["gi_z"]) for f in public.features]


@pytest.fixture
def statements(committed: sa.Engine) -> list[str]:
    """Every statement the committed engine sends from here on."""
    sent: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        sent.append(statement)

    sa.event.listen(committed, "before_cursor_execute", seen)
    return sent


def test_a_layer_is_read_once_per_data_version(committed, committed_url, statements) -> None:
    settings = settings_for(committed_url, perturbation_max=0)
    _commit_reports(committed, 8)
    first = _read(committed, settings)
    totals = sum(map(_builds, statements))
    again = _read(committed, settings)
    assert again == first and first[0][1] == 10 and first[0][2] is not None
    assert sum(map(_builds, statements)) == totals
    _commit_reports(committed, 8)  # a new version: read again, and see the new reports
    assert _read(committed, settings)[0][1] == 15
    assert sum(map(_builds, statements)) > totals


def test_a_transaction_that_wrote_is_never_cached(db_session, add_reports) -> None:
    with db_session.bind.engine.connect() as clean:
        before = layer_version(Session(clean))
    assert before is not None
    add_reports(6, *STOP_LONLATS[0])
    assert layer_version(db_session) is None  # its own rows are not yet anyone else's
    with db_session.bind.engine.connect() as clean:
        # The new version is the writer's until it commits, as its rows are: no reader can
        # keep the old rows under the new version.
        assert layer_version(Session(clean)) == before
    assert db_session.execute(sa.text("SELECT version FROM hotspot_layer_state")).scalar() > before


def test_a_service_extent_is_forgotten_with_its_engine(database_url: str) -> None:
    """Kept under id(engine), a dead engine's extent waited for the next engine Python gave
    the same id, which could be another database's."""
    import gc

    engine = sa.create_engine(database_url)
    with Session(engine) as session:
        service.service_extent(session)
    dead = id(engine)
    engine.dispose()
    del engine, session
    gc.collect()
    assert dead not in service._extents
    assert all(isinstance(kept, sa.Engine) for kept in service._extents)


def _parent_counts(engine: sa.Engine, settings: Settings) -> dict[str, int]:
    """The published res 5 parents of the whole service, as a z4 tile would draw them."""
    from streetsafe.hotspots.tiles import coarse_layer

    with Session(engine) as session:
        layer = coarse_layer(session, parse_filters({}, res=9), 5, settings, (-180, -85, 180, 85))
    return {f.id: f.count for f in layer.features}


def _no_reports(engine: sa.Engine) -> None:
    """No reports and none of their rollups either (the fixture keeps earlier tests' sums)."""
    from streetsafe.hotspots.rollups import ROLLUP_TABLES

    with Session(engine) as session:
        session.execute(sa.text(f"TRUNCATE reports, {', '.join(ROLLUP_TABLES)} CASCADE"))
        session.commit()


def _wait_for_refreshes() -> None:
    import time

    from streetsafe.hotspots import tiles

    for _ in range(200):
        with tiles._NEWEST_LOCK:
            if not tiles._REFRESHING:
                return
        time.sleep(0.05)
    raise AssertionError("the background refresh did not finish")


def test_low_zoom_parents_are_summed_again_off_the_request_when_the_data_move(
    committed, committed_url
) -> None:
    """With the tile cache on, a write's first low-zoom tile is drawn from the sums kept
    (as old as a cached tile may be) while a thread sums the new version; the next tile
    draws the new one. With it off, every tile reads the current version."""
    from streetsafe.hotspots import tiles

    _no_reports(committed)
    tiles.PARENTS.clear()
    live = settings_for(committed_url, perturbation_max=0, testing=False, tile_cache_s=60)
    _commit_reports(committed, 8)
    assert list(_parent_counts(committed, live).values()) == [10]
    _commit_reports(committed, 8)
    assert list(_parent_counts(committed, live).values()) == [10]  # kept, refreshing
    _wait_for_refreshes()
    assert list(_parent_counts(committed, live).values()) == [15]
    off = settings_for(committed_url, perturbation_max=0, testing=False, tile_cache_s=0)
    _commit_reports(committed, 8)
    assert list(_parent_counts(committed, off).values()) == [25]
    # Sums whose read began longer ago than the tile cache keeps a tile are never drawn.
    _commit_reports(committed, 8)
    with tiles._NEWEST_LOCK:
        for question, (version, began) in list(tiles._NEWEST.items()):
            tiles._NEWEST[question] = (version, began - 61)
    assert list(_parent_counts(committed, live).values()) == [30]


def test_a_new_worker_reads_its_extent_and_low_zoom_parents_ahead(
    committed, committed_url
) -> None:
    import time

    from streetsafe.hotspots import tiles
    from streetsafe.hotspots.service import _extents
    from streetsafe.server import warm_worker

    tiles.PARENTS.clear()
    with tiles._NEWEST_LOCK:
        tiles._NEWEST.clear()
    _no_reports(committed)
    _commit_reports(committed, 8)
    warm_worker(
        committed,
        settings_for(committed_url, perturbation_max=0, testing=False, tile_cache_s=60),
    )
    for _ in range(200):
        if committed in _extents and tiles._NEWEST:
            break
        time.sleep(0.05)
    _wait_for_refreshes()
    assert committed in _extents and len(tiles._NEWEST) == 1
    [(question, (version, _))] = tiles._NEWEST.items()
    assert tiles.PARENTS.peek((question, version)).by_res[5].counts.counts.tolist() == [10]


def test_a_queued_report_leaves_the_layers_warm_until_its_publication(
    committed, committed_url, statements
) -> None:
    """Reports waiting for the hour's publication change no version: no worker rebuilds a
    layer because one arrived (a rebuild's time would tell when), and the publication does."""
    settings = settings_for(committed_url, perturbation_max=0, publish_every_s=3600)
    _commit_reports(committed, 6)
    first = _read(committed, settings)
    built = sum(map(_builds, statements))  # the first read built it
    lon, lat = STOP_LONLATS[0]
    body = {"context": "street", "location": {"lon": lon, "lat": lat}, "categories": ["isolated"]}
    with committed.begin() as connection:
        version = layer_version(Session(connection))
        counted = _counted(connection)
        submit_batch(connection, [Intake(parse_report(json.dumps(body)), None)] * 4, settings)
    with committed.connect() as connection:
        assert layer_version(Session(connection)) == version
        assert connection.scalar(sa.text("SELECT count(*) FROM unpublished_reports")) == 4
    statements.clear()
    assert _read(committed, settings) == first
    assert not any(map(_builds, statements))  # the index was kept, not built again
    with committed.begin() as connection:
        assert publish_pending(connection) == 4
    with committed.connect() as connection:
        assert layer_version(Session(connection)) > version
        assert _counted(connection) == counted + 4
    _read(committed, settings)
    assert built and any(map(_builds, statements))


def _counted(connection: sa.Connection) -> int:
    return connection.scalar(sa.text("SELECT sum(total) FROM hotspot_cell_summary WHERE res = 10"))


def _builds(statement: str) -> bool:
    """Whether the statement reads a cells layer's totals: its index being built."""
    return "hotspot_cell_summary" in statement and "s.total >=" in statement
