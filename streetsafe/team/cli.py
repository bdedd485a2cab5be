"""`streetsafe teams create|list|revoke` and `streetsafe audit`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click

from ..config import Settings
from ..current import pass_settings
from ..db import Database
from ..errors import ApiError


@click.group()
def teams() -> None:
    """Neighbourhood policing teams and their sign-in tokens."""


@teams.command("create")
@click.argument("name")
@click.option(
    "--neighbourhood", "codes", multiple=True, help="A neighbourhood code (repeat)."
)
@click.option(
    "--programme", is_flag=True, help="The programme board: every area, aggregates only."
)
@pass_settings
def teams_create(settings: Settings, name: str, codes: tuple[str, ...], programme: bool) -> None:
    """Create team NAME; prints its one-time sign-in token alone on the last line."""
    from .service import create_team

    database = Database(settings.database_url)
    try:
        with database.session() as session:
            token = create_team(session, name, list(codes), programme)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        database.dispose()
    covers = "the programme view (every area, aggregates only)" if programme else ", ".join(codes)
    click.echo(f"team {name!r} created for {covers}.")
    click.echo("Its sign-in token is shown once; store it safely (it is kept only as a hash):")
    click.echo(token)


@teams.command("list")
@pass_settings
def teams_list(settings: Settings) -> None:
    """List teams, their neighbourhoods and whether they are revoked."""
    from .service import list_teams

    database = Database(settings.database_url)
    with database.session() as session:
        for team in list_teams(session):
            codes = ",".join(sorted(n.code for n in team.neighbourhoods)) or team.role
            state = f"revoked {team.revoked_at:%Y-%m-%d}" if team.revoked_at else "active"
            click.echo(f"{team.name}\t{codes}\t{state}\tcreated {team.created_at:%Y-%m-%d}")
    database.dispose()


@teams.command("revoke")
@click.argument("name")
@pass_settings
def teams_revoke(settings: Settings, name: str) -> None:
    """Revoke team NAME's token: its sessions and API calls stop at once."""
    from .service import revoke_team

    database = Database(settings.database_url)
    try:
        with database.session() as session:
            revoke_team(session, name)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        database.dispose()
    click.echo(f"team {name!r} revoked")


@click.command()
@click.option("--team", "team_name", help="Only this team's events.")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3650))
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_settings
def audit(settings: Settings, team_name: str | None, days: int, limit: int, as_json: bool) -> None:
    """Show team sign-ins, queries, downloads, decisions and refusals in words, newest first."""
    import sqlalchemy as sa

    from ..models import Team
    from .audit import events

    database = Database(settings.database_url)
    with database.session() as session:
        team_id = None
        if team_name:
            team_id = session.scalar(sa.select(Team.id).where(Team.name == team_name))
            if team_id is None:
                raise click.ClickException(f"no team called {team_name!r}")
        since = datetime.now(UTC) - timedelta(days=days)
        for event in events(session, team_id, since, limit):
            if as_json:
                click.echo(json.dumps(event))
            else:
                team = event["team"] or "(no team)"
                click.echo(f"{event['at']}\t{team}\t{event['summary']}")
    database.dispose()
