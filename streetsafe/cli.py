"""The `streetsafe` command: database, local servers, serving, purge and loads; the groups
that live beside their features (imports, transit, teams, audit, demo) are added here.

Settings travel on the click context (`current.CommandSettings` as `ctx.obj`): a command
takes them with `@pass_settings`, and no module imports this one back.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from .config import ConfigError, Settings
from .current import CommandSettings, command_settings, pass_settings
from .demo.commands import demo, demo_basemap, seed_demo
from .localdb import LocalServiceError
from .team.cli import audit, teams
from .transit.cli import COMMANDS as TRANSIT_COMMANDS

if TYPE_CHECKING:
    from tqdm import tqdm

    from .reports.load import LoadResult


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """StreetSafe: anonymous reports of places where people felt unsafe, as hotspot layers.

    Without DATABASE_URL / REDIS_URL, commands use local servers in .local/ (created on
    first use).
    """
    ctx.ensure_object(CommandSettings)


@main.group()
def db() -> None:
    """Migrate the database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_settings
def db_upgrade(settings: Settings, revision: str) -> None:
    """Migrate up to REVISION (default: head)."""
    from . import migrate

    migrate.upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision", default="-1")
@pass_settings
def db_downgrade(settings: Settings, revision: str) -> None:
    """Migrate down to REVISION (default: one step back; 'base' removes every table)."""
    from . import migrate

    migrate.downgrade(settings.database_url, revision)
    click.echo(f"database downgraded to {revision}")


@db.command("current")
@pass_settings
def db_current(settings: Settings) -> None:
    """Print the database's revision and the newest one available."""
    from . import migrate
    from .db import make_engine

    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        at = migrate.current_revision(connection)
    engine.dispose()
    click.echo(f"current: {at or 'none'}\nhead:    {migrate.head_revision()}")


@main.group()
def local() -> None:
    """The project-local PostgreSQL + PostGIS and Redis servers (used when no URL is set)."""


@local.command("start")
def local_start() -> None:
    """Start the local servers (creating them on first use) and print their URLs."""
    from . import localdb

    settings = command_settings().configured()
    try:
        click.echo(f"DATABASE_URL={localdb.ensure_postgres(settings)}")
        click.echo(f"REDIS_URL={localdb.ensure_redis(settings)}")
    except LocalServiceError as exc:
        raise click.ClickException(str(exc)) from None


@local.command("stop")
def local_stop() -> None:
    """Stop the local servers; their data stays in .local/."""
    from . import localdb

    settings = command_settings().configured()
    localdb.stop_postgres(settings)
    localdb.stop_redis(settings)
    click.echo("local servers stopped")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Processes: one per core.")
@click.option(
    "--threads", default=16, show_default=True, type=int, help="Request threads per worker."
)
@pass_settings
def serve(settings: Settings, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app with gunicorn (access logs off: they would record client addresses)."""
    from .server import run_gunicorn

    run_gunicorn(settings, host=host, port=port, workers=workers, threads=threads)


@main.command()
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(1, 36500),
    default=None,
    help="Days to keep raw reports [default: STREETSAFE_RETENTION_DAYS, 400].",
)
@pass_settings
def purge(settings: Settings, days: int | None) -> None:
    """Delete raw reports (and descriptions) older than DAYS and expired idempotency keys.

    Hotspot aggregates are kept.
    """
    from .db import Database
    from .retention import purge as purge_reports

    database = Database(settings.database_url)
    with database.session() as session:
        result = purge_reports(session, days or settings.retention_days)
    database.dispose()
    click.echo(
        f"deleted {_counted(result.reports, 'report')} (with "
        f"{_counted(result.descriptions, 'description')}) that happened before "
        f"{result.cutoff:%Y-%m-%d %H:%M} UTC, and "
        f"{_counted(result.idempotency_keys, 'expired idempotency key')}"
    )


@main.command()
@pass_settings
def publish(settings: Settings) -> None:
    """Publish the reports queued since the last boundary to the hotspot layers now.

    The service does this itself on every boundary of STREETSAFE_PUBLISH_EVERY_S (on the
    hour by default); run it from cron where no `streetsafe serve` runs.
    """
    from .db import Database
    from .hotspots.publication import publish_pending

    database = Database(settings.database_url)
    try:
        with database.engine.begin() as connection:
            published = publish_pending(connection)
    finally:
        database.dispose()
    click.echo(f"published {_counted(published, 'report')} to the hotspot layers")


def _counted(count: int, noun: str) -> str:
    """'1 report', '2 reports'."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


@main.group()
def reports() -> None:
    """Reports in bulk: load a force's historic StreetSafe reports."""


@reports.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--source",
    default=None,
    help="Stored on every loaded report [default: the file's name without its extension].",
)
@click.option(
    "--skip-invalid",
    "refused_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Store the valid lines and write the refused ones, as they were, to this file.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@pass_settings
def reports_load(
    settings: Settings, file: Path, source: str | None, refused_path: Path | None, quiet: bool
) -> None:
    """Load FILE (NDJSON: one POST /api/v1/reports body a line, occurred_at required).

    Every line is validated, snapped and aggregated as intake does, in one transaction: a
    refused line names the file, line and field and nothing is stored, unless
    --skip-invalid is given.
    """
    import time
    from contextlib import nullcontext

    from .reports.load import check_source

    try:
        source = check_source(source or file.stem)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--source") from None
    began = time.perf_counter()
    refused_to = refused_path.open("wb") if refused_path else nullcontext()
    with refused_to as refused_file:
        result = _load_reports(settings, file, source, refused_file, quiet)
    seconds = time.perf_counter() - began
    click.echo(
        f"stored {result.stored:,} reports from {file} as source {source!r} in {seconds:.1f} s "
        f"({result.stored / seconds:,.0f} reports/s)"
    )
    if result.refused:
        for refusal in result.refused[:10]:
            click.echo(f"  refused: {refusal}", err=True)
        shown = " (the first 10 above)" if len(result.refused) > 10 else ""
        click.echo(
            f"refused {len(result.refused):,} lines{shown}, written to {refused_path}", err=True
        )


def _load_reports(
    settings: Settings, file: Path, source: str, refused_file: IO[bytes] | None, quiet: bool
) -> LoadResult:
    """Load `file` in one transaction, with a progress bar; a refusal exits naming its line."""
    from tqdm import tqdm

    from .db import make_engine
    from .reports.load import SNAPPERS, LoadRefused, count_lines, load_reports

    engine = make_engine(settings.database_url)
    bar = tqdm(total=count_lines(file), desc=file.name, unit="report", disable=quiet)
    try:
        # The next batches are snapped on other connections while this one is inserted.
        with bar, ExitStack() as stack:
            snappers = [stack.enter_context(engine.connect()) for _ in range(SNAPPERS)]
            connection = stack.enter_context(engine.begin())
            rolling_up = None if quiet else partial(_rolling_up, bar)
            return load_reports(connection, file, settings, source, refused_file, bar.update,
                                snappers, rolling_up=rolling_up)  # fmt: skip
    except LoadRefused as exc:
        raise click.ClickException(f"{exc}; nothing was stored") from None
    finally:
        engine.dispose()


def _rolling_up(bar: tqdm, stored: int) -> None:
    """Say what the load does after its last batch (the bar has nothing left to count)."""
    bar.close()
    click.echo(f"rolling the hotspot layers up over {stored:,} reports (one pass)...", err=True)


for _command in (*TRANSIT_COMMANDS, demo, demo_basemap, seed_demo, teams, audit):
    main.add_command(_command)


def run() -> None:
    """Entry point that turns configuration errors into one clear line."""
    try:
        main()
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    run()
