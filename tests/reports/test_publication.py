"""Publication on the boundary: a stored report changes no public output until it is
published, and then exactly what storing it at once would have changed."""

from __future__ import annotations

import json
import math
import time

import pytest
import sqlalchemy as sa
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
