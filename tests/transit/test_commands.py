"""The import commands: exit codes, messages, the demo step and `transit stats`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from streetsafe.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
def cli_database(database_url: str, engine: sa.Engine, monkeypatch) -> Iterator[sa.Engine]:
    """Commands write to the test database for real; their feeds are removed afterwards."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    yield engine
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM feeds WHERE name LIKE 'cli-%'"))
        connection.execute(sa.text("DELETE FROM neighbourhoods WHERE code LIKE 'HUL-%'"))


def test_import_gtfs_prints_counts(cli_database: sa.Engine) -> None:
    result = CliRunner().invoke(
        main, ["import-gtfs", str(FIXTURES / "gtfs_shapes"), "--feed", "cli-tiny", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "cli-tiny: imported 8 stops, 1 stations, 9 routes, 3 shapes" in result.output
    stats = CliRunner().invoke(main, ["transit", "stats"])
    assert "cli-tiny (gtfs" in stats.output
    assert "rail" in stats.output


def test_bad_input_exits_non_zero_naming_the_place(cli_database: sa.Engine) -> None:
    result = CliRunner().invoke(main, ["import-gtfs", "/nonexistent/feed.zip", "--feed", "cli-x"])
    assert result.exit_code == 1
    assert "/nonexistent/feed.zip: no such file or folder" in result.output
    assert "Nothing was imported" in result.output
    with cli_database.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM feeds WHERE name = 'cli-x'")) == 0


def test_import_naptan_reports_skips_and_warnings(cli_database: sa.Engine) -> None:
    result = CliRunner().invoke(
        main, ["import-naptan", str(FIXTURES / "naptan" / "229Stops.csv"), "--feed", "cli-np"]
    )
    assert result.exit_code == 0, result.output
    assert "imported 10 stops; skipped 1 (1 status inactive)" in result.output
    assert "warning: cli-np:999TEST4" in result.output


def test_demo_feed_has_routes_shapes_and_neighbourhoods(
    connection: sa.Connection, demo_feed: str
) -> None:
    counts = connection.execute(
        sa.text(
            "SELECT (SELECT count(*) FROM routes r JOIN feeds f ON f.id = r.feed_id "
            "WHERE f.name = :feed) AS routes, "
            "(SELECT count(*) FROM stops s JOIN feeds f ON f.id = s.feed_id "
            "WHERE f.name = :feed) AS stops, "
            "(SELECT count(*) FROM neighbourhoods WHERE code LIKE 'HUL-%') AS areas"
        ),
        {"feed": demo_feed},
    ).one()
    assert (counts.routes, counts.stops, counts.areas) == (4, 21, 3)
    centre_stops = connection.scalar(
        sa.text(
            "SELECT count(*) FROM stops s JOIN neighbourhoods n ON ST_Contains(n.geom, s.geom) "
            "WHERE n.code = 'HUL-CC'"
        )
    )
    assert centre_stops >= 10


def test_transit_delete_removes_one_feed_and_names_an_unknown_one(cli_database: sa.Engine) -> None:
    fixtures = Path(__file__).parents[1] / "fixtures"
    runner = CliRunner()
    gtfs = ["import-gtfs", str(fixtures / "gtfs_london"), "--feed", "cli-london", "--quiet"]
    assert runner.invoke(main, gtfs).exit_code == 0
    naptan = ["import-naptan", str(fixtures / "naptan_london"), "--feed", "cli-naptan", "-q"]
    assert runner.invoke(main, naptan).exit_code == 0
    stats = runner.invoke(main, ["transit", "stats"]).output
    assert "  stops shared: 4 with cli-naptan (one place; theirs is used)" in stats
    deleted = runner.invoke(main, ["transit", "delete", "cli-naptan"])
    assert deleted.exit_code == 0 and "deleted feed cli-naptan" in deleted.output
    with cli_database.connect() as connection:
        shared = connection.scalar(sa.text(
            "SELECT count(*) FROM stops WHERE place_public_id IS NOT NULL "
            "AND public_id LIKE 'cli-london:%'"))  # fmt: skip
        assert shared == 0
    unknown = runner.invoke(main, ["transit", "delete", "cli-naptan"])
    assert unknown.exit_code == 1 and "no feed named 'cli-naptan'" in unknown.output
