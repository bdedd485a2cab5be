"""Publication on the boundary: a stored report changes no public output until it is
published, and then exactly what storing it at once would have changed."""

from __future__ import annotations

import json
import math
import re
import time

import pytest
import sqlalchemy as sa
from scipy.stats import kendalltau
from sqlalchemy.orm import Session

from streetsafe import create_app
from streetsafe.config import ConfigError, Settings
from streetsafe.hotspots.publication import (
    next_boundary,
    publish_pending,
    start_publisher,
)
from streetsafe.hotspots.rollups import ROLLUP_TABLES
from streetsafe.reports.intake import Intake, parse_report, submit_batch
from tests.conftest import migrated_database, run_streetsafe, settings_for
from tests.transit_fixture import LAT, make_small_feed

PLACE = {"lat": LAT, "lon": -1.39}
BODY = {"context": "street", "location": PLACE, "categories": ["isolated", "badly_lit"]}
BOX = f"-1.3905,{LAT - 0.0005},-1.3895,{LAT + 0.0005}"
Z = 14
X = int((PLACE["lon"] + 180) / 360 * 2**Z)
Y = int((1 - math.asinh(math.tan(math.radians(PLACE["lat"]))) / math.pi) / 2 * 2**Z)
PUBLIC = (f"/api/v1/hotspots/cells?res=10&bbox={BOX}", f"/api/v1/hotspots/stops?bbox={BOX}",
          f"/tiles/hotspots/{Z}/{X}/{Y}.mvt",
          f"/ogc/collections/hotspot-cells-r10/items?bbox={BOX}")  # fmt: skip


def pending_count(connection: sa.Connection) -> int:
    """How many stored reports wait for the next publication."""
    return connection.scalar(sa.text("SELECT count(*) FROM unpublished_reports"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return settings_for(database_url, publish_every_s=3600)


def _public(client) -> list[tuple[int, bytes, str | None]]:
    outputs = []
    for path in PUBLIC:
        response = client.get(path)
        body = response.get_data()
        if path.startswith("/ogc"):  # the document's own time stamp
            body = body.split(b'"timeStamp"')[0]
        body = re.sub(rb'"generated_at":"[^"]*"', b"", body)  # the minute it was read
        outputs.append((response.status_code, body, response.headers.get("ETag")))
    return outputs


def _rollups(connection: sa.Connection) -> dict[str, list[tuple]]:
    return {table: sorted(map(tuple, connection.execute(sa.text(f"SELECT * FROM {table}"))))
            for table in ROLLUP_TABLES}  # fmt: skip


def _post(client, n: int) -> None:
    for _ in range(n):
        assert client.post("/api/v1/reports", json=BODY).status_code == 201


def test_a_stored_report_changes_no_public_output_until_it_is_published(
    client, small_feed, connection
) -> None:
    before = _public(client)
    _post(client, 7)
    assert connection.scalar(sa.text("SELECT count(*) FROM reports")) == 7
    assert pending_count(connection) == 7
    assert _public(client) == before  # bodies and ETags: nothing tells a report arrived
    assert publish_pending(connection) == 7
    assert pending_count(connection) == 0
    after = client.get(PUBLIC[0]).get_json()
    assert [f["properties"]["count"] for f in after["features"]] in ([5], [10])
    assert publish_pending(connection) == 0  # nothing twice


def test_publishing_stores_the_rollups_storing_at_once_would(
    small_feed, connection, settings
) -> None:
    """The same reports (the same record keys: setseed), queued then published, or rolled up
    as they are stored: every rollup, totals, sites and summary table is equal."""

    def store(settings: Settings) -> None:
        connection.execute(sa.text("SELECT setseed(0.25)"))
        intakes = [Intake(parse_report(json.dumps(BODY)), None) for _ in range(6)]
        submit_batch(connection, intakes, settings)

    store(settings)
    assert publish_pending(connection) == 6
    queued = _rollups(connection)
    connection.execute(sa.text(f"TRUNCATE reports, {', '.join(ROLLUP_TABLES)} CASCADE"))
    store(settings.with_overrides(publish_every_s=0))
    assert pending_count(connection) == 0
    assert _rollups(connection) == queued and queued["hotspot_cell_rollup"]


def test_a_queued_report_deleted_before_publication_is_never_counted(
    client, small_feed, connection
) -> None:
    _post(client, 6)
    connection.execute(sa.text(
        "DELETE FROM reports WHERE id IN (SELECT id FROM reports LIMIT 2)"))  # fmt: skip
    assert pending_count(connection) == 4
    assert publish_pending(connection) == 4
    total = connection.scalar(sa.text("SELECT sum(count) FROM hotspot_cell_totals WHERE res = 10"))
    assert total == 4


def test_boundaries_are_the_multiples_of_the_period() -> None:
    assert next_boundary(7199.5, 3600) == 7200
    assert next_boundary(7200.0, 3600) == 10800
    assert next_boundary(0.0, 900) == 900


def test_the_period_is_configured_and_checked() -> None:
    assert Settings.from_env({"STREETSAFE_SECRET_KEY": "x" * 16}).publish_every_s == 3600
    assert Settings.from_env({"STREETSAFE_SECRET_KEY": "x" * 16,
                              "STREETSAFE_PUBLISH_EVERY_S": "0"}).publish_every_s == 0  # fmt: skip
    with pytest.raises(ConfigError, match="STREETSAFE_PUBLISH_EVERY_S"):
        Settings.from_env({"STREETSAFE_SECRET_KEY": "x" * 16, "STREETSAFE_PUBLISH_EVERY_S": "-5"})


@pytest.fixture(scope="module")
def committed_url() -> str:
    return migrated_database("publication")


def test_a_served_report_is_published_by_the_worker_clock_and_by_the_command(
    committed_url: str,
) -> None:
    """Through the app's own writer (its batches now in a transaction) on a database of its
    own: the publisher thread publishes on the next boundary (every second here); `streetsafe
    publish` publishes what is queued when it runs."""
    engine = sa.create_engine(committed_url)
    with Session(engine) as session:
        session.execute(sa.text(f"TRUNCATE reports, {', '.join(ROLLUP_TABLES)} CASCADE"))
        if not session.scalar(sa.text("SELECT count(*) FROM stops")):
            make_small_feed(session)
        session.commit()
    app = create_app(settings_for(committed_url, publish_every_s=3600))
    client = app.test_client()
    _post(client, 3)
    with engine.connect() as connection:
        assert pending_count(connection) == 3
    done = run_streetsafe(committed_url, "publish")
    assert done.returncode == 0 and "published 3 reports" in done.stdout, done.stderr
    _post(client, 2)
    publisher = start_publisher(engine, 1)
    try:
        for _ in range(60):
            if publisher.published:
                break
            time.sleep(0.1)
    finally:
        publisher.stop()
    assert publisher.published == 2
    with engine.connect() as connection:
        assert pending_count(connection) == 0
        assert connection.scalar(sa.text(
            "SELECT sum(count) FROM hotspot_cell_totals WHERE res = 10")) == 5  # fmt: skip
    engine.dispose()


def _in_stored_order(connection: sa.Connection, table: str, report_of: str) -> list[str]:
    """The report each row of `table` belongs to, in the rows' stored (dump) order."""
    return connection.scalars(sa.text(f"SELECT {report_of} FROM {table} ORDER BY ctid")).all()


def _rows(connection: sa.Connection, table: str) -> list[tuple]:
    return sorted(map(tuple, connection.execute(sa.text(f"SELECT * FROM {table}"))), key=repr)


# Each table written when a report arrives, and how its rows name their report.
REORDERED = {"reports": "id::text", "report_cells": "report_id::text",
             "report_descriptions": "report_id::text",
             "idempotency_keys": "response->>'id'"}  # fmt: skip


def test_a_publication_rewrites_its_reports_in_random_order(client, small_feed, connection) -> None:
    """Rows are stored in the order they are written, and a dump lists them so: the hour's
    reports, ranked, are the hour's requests in order. Published, the same rows are in a
    random order, and nothing in them has changed."""
    # New, empty tables (rolled back with the test), so rows go where they are written.
    connection.execute(sa.text("TRUNCATE reports, idempotency_keys CASCADE"))
    arrived = []
    for n in range(40):
        body = {**BODY, "description": f"lights out {n}"} if n % 2 else BODY
        reply = client.post("/api/v1/reports", json=body, headers={"Idempotency-Key": f"k-{n}"})
        assert reply.status_code == 201
        arrived.append(reply.get_json()["id"])
    rank = {report: n for n, report in enumerate(arrived)}
    for table, report_of in REORDERED.items():  # the leak, before publication
        ranks = [rank[r] for r in _in_stored_order(connection, table, report_of)]
        # (a key's row moves when its response is stored, so keys are only nearly in order)
        assert kendalltau(range(len(ranks)), ranks).statistic > 0.8, table
    before = {table: _rows(connection, table) for table in REORDERED}
    assert publish_pending(connection) == 40
    for table, report_of in REORDERED.items():
        ranks = [rank[r] for r in _in_stored_order(connection, table, report_of)]
        tau = kendalltau(range(len(ranks)), ranks).statistic  # |tau| >= 0.5 by chance: ~1e-5
        assert abs(tau) < 0.5, (table, tau)
        assert _rows(connection, table) == before[table], table
    replay = client.post("/api/v1/reports", json=BODY, headers={"Idempotency-Key": "k-0"})
    assert (replay.status_code, replay.get_json()["id"]) == (201, arrived[0])
    code = client.post("/api/v1/reports", json=BODY).get_json()["receipt_code"]
    assert publish_pending(connection) == 1
    assert client.get(f"/receipt/{code}").status_code == 200
