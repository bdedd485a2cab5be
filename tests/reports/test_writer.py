"""Group commit: concurrent reports share the writer's statements, and each still gets its
own answer. Committed data on its own database (the writer has its own connection)."""

from __future__ import annotations

import json
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from functools import partial

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe import create_app
from streetsafe.config import Settings
from streetsafe.db import get_database
from streetsafe.errors import Unprocessable
from streetsafe.reports.intake import (
    ReportRow,
    Submission,
    insert_reports,
    load_receipt,
    report_writer,
    submit_batch,
    to_rows,
)
from streetsafe.reports.schema import Intake, ReportIn
from streetsafe.reports.snapping import snap_reports
from streetsafe.reports.writer import BatchWriter
from tests.conftest import migrated_database, redis_url
from tests.transit_fixture import LAT, make_small_feed

STREET = {"context": "street", "location": {"lat": LAT + 0.002, "lon": -1.395},
          "categories": ["isolated"]}  # fmt: skip
AT_ALPHA = {"context": "at_stop", "location": {"lat": LAT + 0.0003, "lon": -1.4},
            "categories": ["badly_lit", "no_staff"], "description": "by the shelter"}  # fmt: skip
ON_ROUTE_7 = {"context": "on_vehicle", "location": {"lat": LAT + 0.0004, "lon": -1.385},
              "categories": ["followed"], "transit": {"mode": "bus"}}  # fmt: skip
NO_STOP_NEAR = {"context": "at_stop", "location": {"lat": 50.95, "lon": -1.39},
                "categories": ["isolated"]}  # fmt: skip


@pytest.fixture(scope="module")
def committed_url() -> str:
    url = migrated_database("writer")
    engine = sa.create_engine(url)
    with Session(engine) as session:
        make_small_feed(session)
        session.commit()
    engine.dispose()
    return url


@pytest.fixture
def writer(committed_url):
    engine = sa.create_engine(committed_url)
    yield BatchWriter(engine, partial(submit_batch, settings=_settings(committed_url)))
    engine.dispose()


def _settings(url: str) -> Settings:
    return Settings(database_url=url, redis_url=redis_url(), rate_limits="",
                    secret_key="test-secret-key-0123456789", testing=True)  # fmt: skip


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))


def _intakes(*bodies: dict, key: str | None = None) -> list[Intake]:
    return [Intake(ReportIn.model_validate(body), key) for body in bodies]


def _store(connection: sa.Connection, reports: list[ReportIn], settings: Settings,
           synthetic: bool = False) -> list[ReportRow]:
    """Intake's snap, cells and insert steps, without keys or receipts."""
    rows = to_rows(reports, snap_reports(connection, reports, settings), settings, synthetic)
    insert_reports(connection, rows)
    return [row for row in rows if isinstance(row, ReportRow)]


def _stored_receipt(engine: sa.Engine, body: dict) -> dict:
    with Session(engine) as session:
        return load_receipt(session, uuid.UUID(body["id"])).model_dump(mode="json")


def test_one_batch_stores_each_context_and_refuses_only_the_report_without_a_stop(writer):
    before = _count(writer.engine, "reports")
    results = writer.write_batch(_intakes(STREET, AT_ALPHA, NO_STOP_NEAR, ON_ROUTE_7))
    street, at_alpha, refused, on_route = results
    assert isinstance(refused, Unprocessable) and refused.field == "location"
    assert all(isinstance(r, Submission) and r.status == 201 for r in (street, at_alpha, on_route))
    assert street.body["snapped"]["stop"] is None
    assert at_alpha.body["snapped"]["stop"]["id"] == "test:A"
    assert on_route.body["snapped"]["route"]["id"] == "test:R7"
    assert on_route.body["snapped"]["route"]["between"] is not None
    assert _count(writer.engine, "reports") == before + 3
    for submission in (street, at_alpha, on_route):
        assert _stored_receipt(writer.engine, submission.body) == submission.body
    with writer.engine.connect() as connection:
        stored = connection.scalar(
            sa.text("SELECT body FROM report_descriptions WHERE report_id = :id"),
            {"id": at_alpha.body["id"]},
        )
    assert stored == "by the shelter"


def test_a_report_the_database_refuses_fails_alone(writer):
    before = _count(writer.engine, "reports")
    # NUL cannot be stored in text; the API refuses it at the edge, so build it past the schema.
    poisoned = ReportIn.model_validate(STREET).model_copy(update={"description": "a\x00b"})
    results = writer.write_batch([*_intakes(STREET), Intake(poisoned), *_intakes(AT_ALPHA)])
    assert isinstance(results[0], Submission) and isinstance(results[2], Submission)
    assert isinstance(results[1], sa.exc.DBAPIError)
    assert _count(writer.engine, "reports") == before + 2


def test_keys_in_a_batch_are_claimed_once_replayed_and_refused_like_retries(writer):
    before = {table: _count(writer.engine, table) for table in ("reports", "idempotency_keys")}
    other_body = {**AT_ALPHA, "categories": ["isolated"]}
    results = writer.write_batch([
        *_intakes(STREET, STREET, key="batch-key-1"),
        *_intakes(AT_ALPHA, key="batch-key-2"), *_intakes(other_body, key="batch-key-2"),
        *_intakes(NO_STOP_NEAR, key="batch-key-3"),
    ])  # fmt: skip
    first, repeat, second, mismatch, refused = results
    assert first.status == 201 and not first.replayed
    assert repeat.replayed and repeat.body == first.body
    assert second.status == 201
    assert isinstance(mismatch, Unprocessable) and mismatch.field == "Idempotency-Key"
    assert isinstance(refused, Unprocessable) and refused.field == "location"
    assert _count(writer.engine, "reports") == before["reports"] + 2
    assert _count(writer.engine, "idempotency_keys") == before["idempotency_keys"] + 2
    (again,) = writer.write_batch(_intakes(STREET, key="batch-key-1"))
    assert again.replayed and again.body == first.body
    assert _count(writer.engine, "reports") == before["reports"] + 2


def test_concurrent_requests_share_batches_and_get_their_own_receipts(committed_url):
    app = create_app(_settings(committed_url))
    engine = get_database(app).engine
    before = _count(engine, "reports")
    bodies = [STREET, AT_ALPHA, ON_ROUTE_7] * 16 + [NO_STOP_NEAR]
    barrier = threading.Barrier(len(bodies))

    def post(body: dict):
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/reports", json=body)
        return body, response.status_code, response.get_json()

    with ThreadPoolExecutor(len(bodies)) as pool:
        results = list(pool.map(post, bodies))
    writer = report_writer(app)
    created = [(body, receipt) for body, status, receipt in results if status == 201]
    refused = [receipt for _, status, receipt in results if status == 422]
    assert len(created) == 48 and len(refused) == 1 and refused[0]["field"] == "location"
    assert len({receipt["id"] for _, receipt in created}) == 48
    assert _count(engine, "reports") == before + 48
    assert writer.reports == 49 and writer.batches < writer.reports  # some shared a batch
    client = app.test_client()
    for body, receipt in created:
        assert receipt["context"] == body["context"]
        assert client.get(f"/api/v1/reports/{receipt['id']}").get_json() == receipt
    get_database(app).dispose()


def test_each_app_owns_one_writer_that_runs_with_its_own_settings(committed_url):
    # The writer is made with the app (init_app), not by the first request: two apps with
    # different settings each store with their own, however their requests interleave.
    # (Without res 10, not 9: the next test counts every report at res 9.)
    coarse = create_app(replace(_settings(committed_url), h3_resolutions=(7, 8, 9)))
    fine = create_app(_settings(committed_url))
    writers = {app: report_writer(app) for app in (coarse, fine)}
    assert writers[coarse] is not writers[fine]
    for app, resolutions in ((fine, ["7", "8", "9", "10"]), (coarse, ["7", "8", "9"]),
                             (fine, ["7", "8", "9", "10"])):  # fmt: skip
        response = app.test_client().post("/api/v1/reports", json=STREET)
        assert response.status_code == 201
        assert sorted(response.get_json()["cells"], key=int) == resolutions
        assert report_writer(app) is writers[app]
    assert writers[coarse].reports == 1 and writers[fine].reports == 2
    for app in (coarse, fine):
        get_database(app).dispose()


def test_concurrent_inserts_touching_the_same_rollup_rows_never_deadlock(committed_url):
    # Workers insert side by side (no lock between them): each thread stores random subsets
    # of the same reports, so their triggers upsert overlapping rollup rows, and holds its
    # transaction open a moment to make the overlaps likely. Upserts in hash order deadlocked
    # here within a few batches (migration 0008's triggers); in key order, none may.
    settings = _settings(committed_url)
    categories = [["isolated"], ["badly_lit"], ["followed"], ["isolated", "followed"],
                  ["no_staff"], ["other"]]  # fmt: skip
    pool = [ReportIn.model_validate({**body, "categories": cats})
            for body in (STREET, AT_ALPHA, ON_ROUTE_7) for cats in categories]  # fmt: skip
    engine = sa.create_engine(committed_url, pool_size=4)
    before = _count(engine, "reports")
    stored: list[int] = []

    def work(seed: int) -> None:
        chooser = random.Random(seed)
        with engine.connect() as connection:
            for _ in range(15):
                batch = chooser.sample(pool, chooser.randint(2, len(pool)))
                with connection.begin():
                    rows = _store(connection, batch, settings, synthetic=True)
                    connection.execute(sa.text("SELECT pg_sleep(0.01)"))
                stored.append(len(rows))

    with ThreadPoolExecutor(4) as threads:
        for future in [threads.submit(work, seed) for seed in range(4)]:
            future.result()  # a deadlock would raise OperationalError here
    assert _count(engine, "reports") == before + sum(stored)
    with engine.connect() as connection:
        totals = connection.scalar(sa.text(
            "SELECT sum(count) FROM hotspot_cell_totals WHERE res = 9"))  # fmt: skip
    assert totals == before + sum(stored)
    engine.dispose()


def test_stored_values_are_exactly_those_sent(committed_url):
    # The batch travels as one JSON document: doubles, times, categories, cells and the
    # description must come back bit for bit.
    body = {"context": "street", "location": {"lat": LAT + 0.0021234567890123, "lon":
            -1.3951234567890127}, "categories": ["isolated", "other"],
            "occurred_at": (datetime.now(UTC) - timedelta(hours=5)).astimezone(
                timezone(timedelta(hours=1))).isoformat(),
            "description": "it's \"dark\" \\ here; DROP TABLE x; -- \u00e9\u2603"}  # fmt: skip
    engine = sa.create_engine(committed_url)
    with engine.connect() as connection, connection.begin():
        report_in = ReportIn.model_validate_json(json.dumps(body))
        (row,) = _store(connection, [report_in], _settings(committed_url))
        stored = connection.execute(sa.text(
            "SELECT ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat, r.categories, r.occurred_at, "
            "d.body, array(SELECT c.cell FROM report_cells c WHERE c.report_id = r.id "
            "ORDER BY c.res) AS cells FROM reports r "
            "LEFT JOIN report_descriptions d ON d.report_id = r.id WHERE r.id = :id"),
            {"id": row.id}).one()  # fmt: skip
    engine.dispose()
    assert (stored.lon, stored.lat) == (body["location"]["lon"], body["location"]["lat"])
    assert stored.categories == ["isolated", "other"]
    assert stored.occurred_at == row.occurred_at
    assert stored.body == body["description"]
    assert stored.cells == [int(row.cells[res], 16) for res in sorted(row.cells)]
