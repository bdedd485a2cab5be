"""`streetsafe teams create|list|revoke` and `streetsafe audit` against a real database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from streetsafe.team.service import authenticate

from ..conftest import migrated_database, run_streetsafe


@pytest.fixture(scope="module")
def cli_database() -> str:
    url = migrated_database("teams_cli")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO neighbourhoods (code, name, geom) VALUES ('HUL-CC', 'Hull centre', "
                "ST_Multi(ST_MakeEnvelope(-0.36, 53.74, -0.33, 53.75, 4326)))"
            )
        )
    engine.dispose()
    return url


def test_create_prints_a_token_that_signs_in_then_revoke_stops_it(cli_database) -> None:
    created = run_streetsafe(
        cli_database, "teams", "create", "Hull Central", "--neighbourhood", "HUL-CC"
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("sst_")
    engine = sa.create_engine(cli_database)
    with engine.connect() as connection:
        stored = connection.scalar(sa.text("SELECT token_hash FROM teams"))
        assert token not in stored and stored.startswith("sha256$")
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        assert authenticate(session, token).neighbourhood_codes == ("HUL-CC",)
    listed = run_streetsafe(cli_database, "teams", "list")
    assert "Hull Central\tHUL-CC\tactive" in listed.stdout
    assert run_streetsafe(cli_database, "teams", "revoke", "Hull Central").returncode == 0
    with Session(engine) as session:
        assert authenticate(session, token) is None
    assert "revoked" in run_streetsafe(cli_database, "teams", "list").stdout
    engine.dispose()


@pytest.mark.parametrize(
    "args, message",
    [
        (["teams", "create", "X", "--neighbourhood", "NOPE"], "unknown neighbourhood codes: NOPE"),
        (["teams", "revoke", "Nobody"], "no team called"),
        (["audit", "--team", "Nobody"], "no team called"),
    ],
)
def test_bad_input_exits_non_zero_with_the_reason(cli_database, args, message) -> None:
    result = run_streetsafe(cli_database, *args)
    assert result.returncode != 0
    assert message in result.stderr


def test_audit_lists_events(cli_database) -> None:
    engine = sa.create_engine(cli_database)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO audit_events (team_id, action, detail) "
                "VALUES (NULL, 'download', '{\"format\": \"gpkg\"}')"
            )
        )
    engine.dispose()
    result = run_streetsafe(cli_database, "audit", "--json")
    assert result.returncode == 0
    assert '"action": "download"' in result.stdout


def test_the_cli_prints_the_trail_in_words(cli_database) -> None:
    engine = sa.create_engine(cli_database)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO audit_events (team_id, action, detail) VALUES (NULL, 'refused', "
                "'{\"status\": 401, \"method\": \"GET\", \"path\": \"/api/v1/team/me\"}')"
            )
        )
    engine.dispose()
    result = run_streetsafe(cli_database, "audit")
    assert result.returncode == 0, result.stderr
    assert "(no team)\trefused access to who is signed in (401)" in result.stdout

