"""Configuration: defaults, validation, and errors that name the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from streetsafe import localdb, migrate
from streetsafe.cli import main
from streetsafe.config import ConfigError, Settings
from streetsafe.current import CommandSettings
from streetsafe.team.cli import teams

from .conftest import settings_for


def test_defaults_match_the_documented_values() -> None:
    settings = Settings.from_env({})
    assert settings.min_published_count == 5
    assert settings.public_rounding == 5
    assert settings.h3_resolutions == (7, 8, 9, 10)
    assert settings.rate_limits == "10/minute;50/day"
    assert settings.receipt_limits == "10/minute;100/day"
    assert settings.database_url is None and settings.redis_url is None


def test_plain_postgres_url_is_given_the_psycopg_driver() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgresql://u@h:5432/db"})
    assert settings.database_url == "postgresql+psycopg://u@h:5432/db"


def test_empty_rate_limits_turn_limits_off() -> None:
    assert Settings.from_env({"STREETSAFE_RATE_LIMITS": ""}).rate_limits == ""
    assert Settings.from_env({"STREETSAFE_RECEIPT_LIMITS": ""}).receipt_limits == ""


@pytest.mark.parametrize(
    "variable, value",
    [
        ("DATABASE_URL", "mysql://root@localhost/x"),
        ("DATABASE_READ_URL", "sqlite:///x.db"),
        ("REDIS_URL", "http://localhost:6379"),
        ("STREETSAFE_SECRET_KEY", "short"),
        ("STREETSAFE_MIN_PUBLISHED_COUNT", "five"),
        ("STREETSAFE_MIN_PUBLISHED_COUNT", "0"),
        ("STREETSAFE_PUBLIC_ROUNDING", "-5"),
        ("STREETSAFE_H3_RESOLUTIONS", "7,8,16"),
        ("STREETSAFE_H3_RESOLUTIONS", "7,x"),
        ("STREETSAFE_H3_RESOLUTIONS", "9,9"),
        ("STREETSAFE_RATE_LIMITS", "ten per minute"),
        ("STREETSAFE_RECEIPT_LIMITS", "5 a day"),
        ("STREETSAFE_AT_STOP_RADIUS_M", "far"),
        ("STREETSAFE_RETENTION_DAYS", "0"),
        ("STREETSAFE_ENV", "staging"),
        ("STREETSAFE_LOCAL_PG_PORT", "80"),
        ("STREETSAFE_LOCAL_REDIS_PORT", "sixty"),
    ],
)
def test_invalid_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    assert caught.value.variable == variable
    assert variable in str(caught.value)


def test_resolutions_are_parsed_and_sorted() -> None:
    assert Settings.from_env({"STREETSAFE_H3_RESOLUTIONS": "10, 8,9"}).h3_resolutions == (8, 9, 10)


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL", "STREETSAFE_SECRET_KEY"])
def test_production_start_without_a_required_variable_stops_naming_it(missing: str) -> None:
    env = {
        "STREETSAFE_ENV": "production",
        "DATABASE_URL": "postgresql://u@127.0.0.1:1/db",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "STREETSAFE_SECRET_KEY": "x" * 32,
        "PATH": os.environ["PATH"],
    }
    del env[missing]
    result = subprocess.run(
        [sys.executable, "-m", "streetsafe.cli", "db", "current"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert missing in result.stderr


def test_invalid_variable_stops_the_cli_with_its_name() -> None:
    env = {**os.environ, "STREETSAFE_MIN_PUBLISHED_COUNT": "lots"}
    result = subprocess.run(
        [sys.executable, "-m", "streetsafe.cli", "db", "current"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "STREETSAFE_MIN_PUBLISHED_COUNT" in result.stderr


def test_local_server_ports_come_from_settings() -> None:
    settings = Settings.from_env(
        {"STREETSAFE_LOCAL_PG_PORT": "55432", "STREETSAFE_LOCAL_REDIS_PORT": "56379"}
    )
    assert (settings.local_pg_port, settings.local_redis_port) == (55432, 56379)
    assert localdb.local_cluster(settings).port == 55432
    defaults = Settings.from_env({})
    assert (defaults.local_pg_port, defaults.local_redis_port) == (54329, 63799)


# A DATABASE_URL no server answers: a command that read the environment would fail.
UNREACHABLE = "postgresql://nobody@127.0.0.1:9/none"


def test_a_command_takes_its_settings_from_the_click_context(database_url, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    given = CommandSettings(settings_for(database_url))
    result = CliRunner().invoke(main, ["db", "current"], obj=given)
    assert result.exit_code == 0, result.output
    assert f"current: {migrate.head_revision()}" in result.output


def test_a_feature_group_runs_on_its_own_with_settings_on_the_context(
    database_url, monkeypatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    result = CliRunner().invoke(teams, ["list"], obj=CommandSettings(settings_for(database_url)))
    assert result.exit_code == 0, result.output


def test_without_settings_on_the_context_a_command_reads_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("STREETSAFE_MIN_PUBLISHED_COUNT", "lots")
    result = CliRunner().invoke(main, ["db", "current"])
    assert result.exit_code == 1
    assert "STREETSAFE_MIN_PUBLISHED_COUNT" in result.output


def test_help_resolves_no_settings() -> None:
    refused = CommandSettings(Settings(env="production"))  # resolving it is an error
    assert "DATABASE_URL" in CliRunner().invoke(main, ["db", "current"], obj=refused).output
    for args in (["--help"], ["db", "--help"], ["local", "--help"], ["demo", "--help"]):
        result = CliRunner().invoke(main, args, obj=refused)
        assert result.exit_code == 0, (args, result.output)
