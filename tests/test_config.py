"""Configuration: defaults, validation, and errors that name the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from streetsafe.config import ConfigError, Settings


def test_defaults_match_the_documented_values() -> None:
    settings = Settings.from_env({})
    assert settings.min_published_count == 5
    assert settings.public_rounding == 5
    assert settings.h3_resolutions == (7, 8, 9, 10)
    assert settings.rate_limits == "10/minute;50/day"
    assert settings.database_url is None and settings.redis_url is None


def test_plain_postgres_url_is_given_the_psycopg_driver() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgresql://u@h:5432/db"})
    assert settings.database_url == "postgresql+psycopg://u@h:5432/db"


def test_empty_rate_limits_turn_limits_off() -> None:
    assert Settings.from_env({"STREETSAFE_RATE_LIMITS": ""}).rate_limits == ""


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
        ("STREETSAFE_AT_STOP_RADIUS_M", "far"),
        ("STREETSAFE_RETENTION_DAYS", "0"),
        ("STREETSAFE_ENV", "staging"),
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
