"""Public reads on a real streaming replica: layers, OGC and tiles read it, intake writes the
primary, a report reaches the replica's layers within a measured lag, and a replica that is
down makes public reads 503 (with Retry-After) while intake still answers 201.
"""

from __future__ import annotations

import http.client
import json
import math
import statistics
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe.hotspots.layercache import layer_version
from streetsafe.hotspots.publication import publish_pending
from streetsafe.reports.intake import Intake, parse_report, submit_batch
from tests.conftest import settings_for
from tests.resilience.servers import request
from tests.transit_fixture import LAT

from .conftest import Replication, wait_replayed

K = 5  # STREETSAFE_MIN_PUBLISHED_COUNT's default: a cell shows from 5 reports
WRITERS = 4


def street_at(lon: float, lat: float) -> dict:
    return {"context": "street", "location": {"lat": lat, "lon": lon}, "categories": ["isolated"]}


def post_reports(port: int, count: int, lon: float, lat: float) -> None:
    for _ in range(count):
        reply = request(port, "POST", "/api/v1/reports", street_at(lon, lat))
        assert reply.status == 201, reply.body


def bbox(lon: float, lat: float) -> str:
    return f"{lon - 0.004},{lat - 0.004},{lon + 0.004},{lat + 0.004}"  # holds the cell's centre


def get_raw(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def tile_path(lon: float, lat: float, z: int = 14) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/hotspots/{z}/{x}/{y}.mvt"


def public_reads(lon: float, lat: float) -> dict[str, Callable[[int], tuple[int, object]]]:
    """Each public read of the place: (status, what it shows) from the app on `port`."""
    box = bbox(lon, lat)

    def cells(port: int) -> tuple[int, object]:
        reply = request(port, "GET", f"/api/v1/hotspots/cells?res=9&bbox={box}")
        if reply.status != 200:
            return reply.status, reply.body
        return 200, [feature["properties"]["count"] for feature in reply.body["features"]]

    def ogc(port: int) -> tuple[int, object]:
        reply = request(port, "GET", f"/ogc/collections/hotspot-cells-r9/items?bbox={box}")
        if reply.status != 200:
            return reply.status, reply.body
        return 200, len(reply.body["features"])

    def tile(port: int) -> tuple[int, object]:
        status, _, body = get_raw(port, tile_path(lon, lat))
        return status, len(body)

    return {"cells": cells, "ogc": ogc, "tiles": tile}


def count_reports(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(sa.text("SELECT count(*) FROM reports"))
    engine.dispose()
    return count


def on_standby(replication: Replication, sql: str) -> None:
    engine = sa.create_engine(replication.standby_url)
    with engine.connect() as connection:
        connection.execute(sa.text(sql))
    engine.dispose()


def test_public_reads_come_from_the_replica_while_intake_writes_the_primary(replication):
    port, lon, lat = replication.server.port, -1.3905, LAT
    reads = public_reads(lon, lat)
    before = count_reports(replication.primary_url)
    on_standby(replication, "SELECT pg_wal_replay_pause()")
    try:
        post_reports(port, 2 * K, lon, lat)
        # The primary has them; the paused replica does not, and the app shows what it has.
        assert count_reports(replication.primary_url) == before + 2 * K
        assert count_reports(replication.standby_url) == before
        assert {name: read(port) for name, read in reads.items()} == {
            "cells": (200, []), "ogc": (200, 0), "tiles": (200, 0)
        }  # fmt: skip
    finally:
        on_standby(replication, "SELECT pg_wal_replay_resume()")
    wait_replayed(replication.primary_url, replication.standby_url)
    shown = {name: read(port) for name, read in reads.items()}
    assert shown["cells"] == (200, [2 * K])
    assert shown["ogc"] == (200, 1)
    assert shown["tiles"][0] == 200 and shown["tiles"][1] > 0


def test_a_new_report_reaches_the_replica_layers_within_a_measured_lag(replication, capsys):
    port, lags, stop = replication.server.port, [], threading.Event()
    posted = [0] * WRITERS

    def keep_writing(index: int) -> None:  # other people's reports, elsewhere, meanwhile
        while not stop.is_set():
            post_reports(port, 1, -1.30 + 0.001 * index, LAT - 0.05)
            posted[index] += 1

    writers = [threading.Thread(target=keep_writing, args=(i,)) for i in range(WRITERS)]
    for writer in writers:
        writer.start()
    began = time.monotonic()
    try:
        for round_ in range(8):
            lon, lat = -1.45 + 0.01 * round_, LAT + 0.05
            cells = public_reads(lon, lat)["cells"]
            post_reports(port, K - 1, lon, lat)
            wait_replayed(replication.primary_url, replication.standby_url)
            assert cells(port) == (200, [])  # K - 1 reports are not shown
            post_reports(port, 1, lon, lat)
            sent = time.monotonic()
            while cells(port) != (200, [K]):
                assert time.monotonic() - sent < 5.0, "the report did not reach the replica in 5 s"
                time.sleep(0.005)
            lags.append(time.monotonic() - sent)
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    rate = sum(posted) / (time.monotonic() - began)
    with capsys.disabled():
        print(
            f"\nreplica lag, 201 to shown by the replica's cells layer (incl. one poll) while "
            f"{WRITERS} clients post {rate:.0f} reports/s, {len(lags)} rounds: median "
            f"{statistics.median(lags) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms"
        )
    assert sum(posted) > 0
    assert statistics.median(lags) < 1.0


def test_replica_down_makes_public_reads_503_while_intake_answers_201(replication):
    port, lon, lat = replication.server.port, -1.3605, LAT
    reads = public_reads(lon, lat)
    replication.standby.stop()
    try:
        for name, read in reads.items():
            started = time.monotonic()
            status, _ = read(port)
            assert status == 503, name
            assert time.monotonic() - started < 6.0, name  # refused fast, never a hang
        reply = request(port, "GET", f"/api/v1/hotspots/cells?res=9&bbox={bbox(lon, lat)}")
        assert reply.headers.get("Retry-After") == "5"
        assert reply.body["error"] == "unavailable"
        status, headers, _ = get_raw(port, tile_path(lon, lat))
        assert (status, headers.get("Retry-After")) == (503, "5")
        page = request(port, "GET", "/")  # the report form opens (its extent: the primary's)
        assert page.status == 200
        before = count_reports(replication.primary_url)
        post_reports(port, 3, lon, lat)  # intake writes the primary, replica or not
        assert count_reports(replication.primary_url) == before + 3
    finally:
        replication.standby.start()
    wait_replayed(replication.primary_url, replication.standby_url)
    assert all(read(port)[0] == 200 for read in reads.values())  # and back when it is
    assert "Traceback" not in replication.server.log_path.read_text()


def test_the_replica_reads_the_primary_data_version_and_queued_reports_leave_it(replication):
    """The layers' version on the standby is the primary's, replayed with its data: reports
    queued for the hour's publication leave it (so the replica's layers stay warm, and no
    rebuild tells when a report arrived), and their publication moves it."""
    primary, standby = (sa.create_engine(u) for u in (replication.primary_url,
                                                       replication.standby_url))  # fmt: skip

    def versions() -> tuple[int | None, int | None]:
        wait_replayed(replication.primary_url, replication.standby_url)
        with Session(primary) as on_primary, Session(standby) as on_standby:
            return layer_version(on_primary), layer_version(on_standby)

    try:
        before = versions()
        assert before[0] is not None and before[0] == before[1]
        settings = settings_for(replication.primary_url, publish_every_s=3600)
        report = Intake(parse_report(json.dumps(street_at(-1.3305, LAT))), None)
        with primary.begin() as connection:
            submit_batch(connection, [report] * 3, settings)
        assert versions() == before
        with primary.begin() as connection:
            assert publish_pending(connection) == 3
        after = versions()
        assert after[0] > before[0] and after[0] == after[1]
    finally:
        primary.dispose()
        standby.dispose()
