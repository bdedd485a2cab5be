"""`streetsafe reports load`: historic reports through intake's validation, snapping and rollups."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from streetsafe.reports.intake import parse_report, submit_batch
from streetsafe.reports.load import LoadRefused, check_source, count_lines, load_reports
from streetsafe.reports.schema import Intake
from tests.conftest import migrated_database, run_streetsafe, settings_for
from tests.transit_fixture import LAT, make_small_feed

WHEN = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0).isoformat()


def street(lon: float = -1.3905, **extra: object) -> dict:
    return {"context": "street", "location": {"lat": LAT, "lon": lon},
            "categories": ["badly_lit"], "occurred_at": WHEN, **extra}  # fmt: skip


AT_STOP = {"context": "at_stop", "location": {"lat": LAT + 0.001, "lon": -1.3801},
           "categories": ["no_staff", "followed"], "occurred_at": WHEN}  # fmt: skip
ON_VEHICLE = {"context": "on_vehicle", "location": {"lat": LAT + 0.0003, "lon": -1.395},
              "categories": ["overcrowding"], "occurred_at": WHEN,
              "transit": {"mode": "bus"}}  # fmt: skip


def ndjson(path: Path, lines: list[object]) -> Path:
    """Write each item as a JSON line (a str is written as it is)."""
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def counts(connection: sa.Connection) -> dict[str, int]:
    tables = ("reports", "report_cells", "report_descriptions", "hotspot_cell_summary",
              "hotspot_stop_rollup", "hotspot_segment_rollup")  # fmt: skip
    return {t: connection.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in tables}


def stored_like_intake(connection: sa.Connection, source: str | None) -> list[tuple]:
    """What was stored per report (not its id), oldest first, for one source."""
    return connection.execute(sa.text("""
        SELECT r.context, r.categories, ST_AsText(r.geom), r.mode, r.stop_public_id,
               r.route_public_id, r.segment_from_public_id, r.segment_to_public_id,
               r.neighbourhood_id, r.occurred_at,
               ARRAY(SELECT c.cell FROM report_cells c WHERE c.report_id = r.id ORDER BY c.res)
        FROM reports r WHERE r.source IS NOT DISTINCT FROM :source
        ORDER BY r.context, ST_X(r.geom)
    """), {"source": source}).all()  # fmt: skip


def test_loaded_reports_are_stored_exactly_as_intake_stores_them(
    client, small_feed, connection, settings, tmp_path
):
    bodies = [street(), street(description="lights out"), AT_STOP, ON_VEHICLE]
    for body in bodies:
        assert client.post("/api/v1/reports", json=body).status_code == 201
    before = counts(connection)
    path = ndjson(tmp_path / "force.ndjson", bodies)

    result = load_reports(connection, path, settings, source="force-a", batch_size=3)

    assert (result.stored, result.refused) == (4, [])
    assert stored_like_intake(connection, "force-a") == stored_like_intake(connection, None)
    after = counts(connection)
    assert after["reports"] - before["reports"] == 4
    assert after["report_cells"] - before["report_cells"] == 4 * len(settings.h3_resolutions)
    assert after["report_descriptions"] - before["report_descriptions"] == 1
    # The rollups took the loaded reports too: every count is now twice intake's.
    doubled = connection.execute(sa.text(
        "SELECT bool_and(total % 2 = 0), sum(total) FROM hotspot_cell_summary"
    )).one()  # fmt: skip
    assert doubled == (True, 2 * 4 * len(settings.h3_resolutions))
    stop_count = connection.scalar(sa.text(
        "SELECT sum(count) FROM hotspot_stop_rollup WHERE stop_public_id = 'test:C'"
    ))  # fmt: skip
    assert stop_count == 2


@pytest.mark.parametrize(
    "line, field",
    [
        ("{not json", None),
        (street(location={"lat": 95.0, "lon": -1.39}), "location.lat"),
        ({k: v for k, v in street().items() if k != "occurred_at"}, "occurred_at"),
        (street(occurred_at="2020-01-01T00:00:00Z"), "occurred_at"),
        (street(categories=["badly_lit", "nope"]), "categories.1"),
        (street(colour="red"), "colour"),
        ({**AT_STOP, "location": {"lat": LAT + 0.05, "lon": -1.38}}, "location"),  # no stop
        ({**AT_STOP, "transit": {"stop_id": "test:missing"}}, "transit.stop_id"),
    ],
)
def test_a_bad_line_names_file_line_and_field_and_stores_nothing(
    small_feed, connection, settings, tmp_path, line, field
):
    path = ndjson(tmp_path / "bad.ndjson", [street(), AT_STOP, "", line, street(-1.39)])
    before = counts(connection)
    savepoint = connection.begin_nested()
    with pytest.raises(LoadRefused) as refused:
        load_reports(connection, path, settings, source="bad", batch_size=2)
    savepoint.rollback()  # what the CLI's transaction does

    assert (refused.value.refusal.line, refused.value.refusal.field) == (4, field)
    assert str(refused.value).startswith(f"{path}, line 4")
    assert counts(connection) == before


def test_skip_invalid_stores_the_rest_and_writes_refused_lines_as_they_were(
    small_feed, connection, settings, tmp_path
):
    bad_json, far = "{not json", {**AT_STOP, "location": {"lat": LAT + 0.05, "lon": -1.38}}
    path = ndjson(tmp_path / "mixed.ndjson", [street(), bad_json, AT_STOP, far, ON_VEHICLE])
    with open(tmp_path / "refused.ndjson", "wb") as refused_to:
        result = load_reports(connection, path, settings, "mixed", refused_to, batch_size=2)

    assert result.stored == 3
    assert [(r.line, r.field) for r in result.refused] == [(2, None), (4, "location")]
    written = (tmp_path / "refused.ndjson").read_text().splitlines()
    assert written == [bad_json, json.dumps(far)]
    sources = connection.execute(sa.text("SELECT source, count(*) FROM reports GROUP BY 1"))
    assert dict(sources.all()) == {"mixed": 3}


@pytest.mark.parametrize("name", ["", "public", " Public", "x" * 65, "tab\there"])
def test_a_source_must_name_where_the_reports_came_from(name):
    with pytest.raises(ValueError):
        check_source(name)


def test_count_lines_counts_a_last_line_without_newline(tmp_path):
    (tmp_path / "a").write_bytes(b"1\n2\n3")
    (tmp_path / "b").write_bytes(b"1\n2\n")
    assert (count_lines(tmp_path / "a"), count_lines(tmp_path / "b")) == (3, 2)


@pytest.fixture
def committed_feed() -> str:
    """A database of its own with the small feed committed (the command has two connections)."""
    url = migrated_database("load")
    engine = sa.create_engine(url)
    with Session(engine) as session:
        make_small_feed(session)
        session.commit()
    engine.dispose()
    return url


def test_command_loads_with_its_source_and_refuses_a_bad_file_whole(committed_feed, tmp_path):
    good = ndjson(tmp_path / "force-b.ndjson", [street(), AT_STOP, ON_VEHICLE] * 700)
    bad = ndjson(tmp_path / "bad.ndjson", [street()] * 30 + [street(location={"lat": 1})])

    loaded = run_streetsafe(committed_feed, "reports", "load", str(good), "--quiet")
    refused = run_streetsafe(committed_feed, "reports", "load", str(bad), "--source", "x")
    skipped = run_streetsafe(committed_feed, "reports", "load", str(bad), "--quiet",
                             "--skip-invalid", str(tmp_path / "refused.ndjson"))  # fmt: skip

    assert loaded.returncode == 0, loaded.stderr
    assert "stored 2,100 reports" in loaded.stdout and "'force-b'" in loaded.stdout
    assert refused.returncode == 1
    assert f"{bad}, line 31, field location.lon:" in refused.stderr
    assert "nothing was stored" in refused.stderr
    assert skipped.returncode == 0, skipped.stderr
    assert "refused 1 lines" in skipped.stderr
    engine = sa.create_engine(committed_feed)
    with engine.connect() as connection:
        by_source = dict(connection.execute(sa.text(
            "SELECT source, count(*) FROM reports GROUP BY 1"
        )).all())  # fmt: skip
        cells = connection.scalar(sa.text("SELECT sum(total) FROM hotspot_cell_summary"))
    engine.dispose()
    assert by_source == {"force-b": 2100, "bad": 30}
    assert cells == 2130 * 4


# The oracle: the per-load rollups (one pass after the last batch) against the per-batch
# triggers intake runs, each into a database of its own from the same start.

LOAD_LINES = 240


def varied_lines(count: int) -> list[dict]:
    """Reports over the small feed in every context, over a few days and hours, with
    categories and places repeating, so batches share rollup rows."""
    categories = (["badly_lit"], ["no_staff", "followed"], ["isolated", "badly_lit"],
                  ["overcrowding"], ["other", "no_cctv", "rundown"])  # fmt: skip
    day = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=20)
    lines = []
    for i in range(count):
        when = (day + timedelta(days=i % 3, hours=(i * 7) % 24, minutes=i % 60)).isoformat()
        kind = i % 4
        if kind == 3:
            line = {**ON_VEHICLE, "location": {"lat": LAT + 0.0003, "lon": -1.395 + i % 9 * 1e-4}}
        elif kind == 2:
            line = {**AT_STOP, "location": {"lat": LAT + 0.001, "lon": -1.3801 + i % 5 * 1e-5}}
        else:
            line = street(lon=-1.41 + (i % 13) * 0.0025)
        lines.append({**line, "categories": categories[i % 5], "occurred_at": when})
    return lines


ROLLUP_KEYS = {"hotspot_cell_sites": "res, cell"}  # a site's point is any one report's


def rollup_rows(connection: sa.Connection) -> dict[str, list[tuple]]:
    """Every row of every rollup, summary and totals table, in key order."""
    from streetsafe.hotspots.rollups import ROLLUP_TABLES

    rows = {}
    for table in ROLLUP_TABLES:
        columns = ROLLUP_KEYS.get(table, "*")
        rows[table] = connection.execute(sa.text(
            f"SELECT {columns} FROM {table} x ORDER BY CAST(ROW(x.*) AS text)"
        )).all()  # fmt: skip
    return rows


def load_into(url: str, path: Path, per_batch: bool) -> tuple[dict, list, int]:
    """Load `path` into url's database with one path; its rollups, reports and version moves."""
    engine = sa.create_engine(url)
    settings = settings_for(url)
    with engine.connect() as first, engine.connect() as second, engine.begin() as connection:
        version = connection.scalar(sa.text("SELECT nextval('hotspot_layer_version')"))
        connection.execute(sa.text("SELECT setseed(0.25)"))  # the same record keys in both
        load_reports(connection, path, settings, "oracle", snappers=[first, second],
                     batch_size=16, per_batch_rollups=per_batch)  # fmt: skip
    with engine.connect() as connection:
        moved = connection.scalar(sa.text("SELECT nextval('hotspot_layer_version')")) - version
        result = rollup_rows(connection), stored_like_intake(connection, "oracle"), moved
        sites_hold_a_report = connection.scalar(sa.text("""
            SELECT bool_and(EXISTS (
                SELECT 1 FROM report_cells c JOIN reports r ON r.id = c.report_id
                WHERE c.res = s.res AND c.cell = s.cell AND ST_Equals(r.geom, s.geom)))
            FROM hotspot_cell_sites s
        """))  # fmt: skip
    engine.dispose()
    assert sites_hold_a_report
    return result


@pytest.fixture
def two_committed_feeds() -> tuple[str, str]:
    """Two databases, each with the small feed and one intake report committed."""
    urls = []
    for suffix in ("load_per_load", "load_per_batch"):
        url = migrated_database(suffix)
        engine = sa.create_engine(url)
        with Session(engine) as session:
            make_small_feed(session)
            session.commit()
        with engine.begin() as connection:
            connection.execute(sa.text("SELECT setseed(0.5)"))
            submit_batch(connection, [Intake(parse_report(json.dumps(street())))],
                         settings_for(url))  # fmt: skip
        engine.dispose()
        urls.append(url)
    return urls[0], urls[1]


def test_rollups_applied_once_per_load_are_row_for_row_the_per_batch_triggers(
    two_committed_feeds, tmp_path
):
    per_load_url, per_batch_url = two_committed_feeds
    path = ndjson(tmp_path / "oracle.ndjson", varied_lines(LOAD_LINES))

    per_load = load_into(per_load_url, path, per_batch=False)
    per_batch = load_into(per_batch_url, path, per_batch=True)

    rollups, reports, moved = per_load
    assert len(reports) == LOAD_LINES
    assert reports == per_batch[1]
    for table, rows in per_batch[0].items():
        assert rows, table  # every table has rows: the file reaches each one
        assert rollups[table] == rows, table
    assert moved > 1  # the public layers' version advanced, as for intake


def test_after_a_load_the_rollup_triggers_run_again_in_its_transaction(
    small_feed, connection, settings, tmp_path
):
    at_c = "SELECT coalesce(sum(count), 0) FROM hotspot_stop_totals WHERE stop_public_id = 'test:C'"
    before = connection.scalar(sa.text(at_c))
    load_reports(connection, ndjson(tmp_path / "a.ndjson", [street(), AT_STOP]), settings, "a")
    loaded = connection.scalar(sa.text(at_c))
    deferred = connection.scalar(sa.text("SELECT hotspot_rollups_deferred()"))
    connection.execute(sa.text(
        "INSERT INTO reports (id, context, categories, occurred_at, geom, stop_public_id) "
        "VALUES (gen_random_uuid(), 'at_stop', '{other}', now(), "
        "ST_SetSRID(ST_MakePoint(-1.38, 50.9), 4326), 'test:C')"
    ))  # fmt: skip

    assert (loaded - before, deferred) == (1, False)
    assert connection.scalar(sa.text(at_c)) - loaded == 1  # its trigger ran


def test_report_cells_must_name_a_stored_report_and_go_with_it(
    small_feed, connection, settings, tmp_path
):
    load_reports(connection, ndjson(tmp_path / "one.ndjson", [street()]), settings, "one")
    report_id = connection.scalar(sa.text("SELECT id FROM reports WHERE source = 'one'"))
    savepoint = connection.begin_nested()
    with pytest.raises(sa.exc.IntegrityError, match="report_cells_report_id_fkey"):
        connection.execute(sa.text(
            "INSERT INTO report_cells (report_id, res, cell) VALUES (gen_random_uuid(), 7, 1)"
        ))  # fmt: skip
    savepoint.rollback()

    connection.execute(sa.text("DELETE FROM reports WHERE id = :id"), {"id": report_id})
    left = connection.scalar(
        sa.text("SELECT count(*) FROM report_cells WHERE report_id = :id"), {"id": report_id}
    )
    assert left == 0
    connection.execute(sa.text("TRUNCATE reports CASCADE"))
    assert connection.scalar(sa.text("SELECT count(*) FROM report_cells")) == 0
