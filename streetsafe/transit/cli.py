"""Commands: import-gtfs, import-naptan, import-boundaries and `transit stats`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from ..config import Settings
from ..current import pass_settings
from .loader import ImportDataError, ImportResult

MAX_WARNINGS_SHOWN = 20

quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars.")


def _run(settings: Settings, work: Callable, quiet: bool) -> ImportResult:
    """Run an import in one transaction; bad input exits non-zero with file, line and column."""
    from ..db import make_engine

    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            result = work(connection)
    except ImportDataError as exc:
        message = f"{exc}\nNothing was imported; fix the input and run again."
        raise click.ClickException(message) from None
    finally:
        engine.dispose()
    _report(result, quiet)
    return result


def _report(result: ImportResult, quiet: bool) -> None:
    click.echo(result.summary())
    if result.warnings:
        click.echo(f"{len(result.warnings):,} suspicious rows (imported; check them):", err=True)
        for warning in result.warnings[:MAX_WARNINGS_SHOWN]:
            click.echo(f"  warning: {warning}", err=True)
        if len(result.warnings) > MAX_WARNINGS_SHOWN:
            click.echo(f"  ... and {len(result.warnings) - MAX_WARNINGS_SHOWN:,} more", err=True)


@click.command("import-gtfs")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--feed", help="Feed name, the public id prefix (default: from the file name).")
@quiet_option
@pass_settings
def import_gtfs_command(settings: Settings, path: Path, feed: str | None, quiet: bool) -> None:
    """Import (or replace) a GTFS feed from a zip or folder at PATH."""
    from .gtfs import import_gtfs

    _run(settings, lambda connection: import_gtfs(connection, path, feed, quiet=quiet), quiet)


@click.command("import-naptan")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--feed", default="naptan", show_default=True, help="Feed name (id prefix).")
@click.option(
    "--bulk",
    is_flag=True,
    help="Rebuild the stops indexes after the load: faster, but reads of stops wait until "
    "the import commits (a maintenance window). Chosen by itself on an empty stops table.",
)
@quiet_option
@pass_settings
def import_naptan_command(
    settings: Settings, paths: tuple[Path, ...], feed: str, bulk: bool, quiet: bool
) -> None:
    """Import (or replace) NaPTAN stops from Stops.csv files (or folders / .tgz / .zip of them)."""
    from .naptan import import_naptan

    _run(
        settings,
        lambda connection: import_naptan(connection, list(paths), feed, quiet=quiet, bulk=bulk),
        quiet,
    )


@click.command("import-boundaries")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--code-field", required=True, help="Field holding each area's unique code.")
@click.option("--name-field", required=True, help="Field holding each area's name.")
@click.option("--layer", help="Layer to read (GeoPackage, multi-layer files).")
@click.option("--dissolve-by", help="Merge features sharing this field (e.g. LSOAs into wards).")
@quiet_option
@pass_settings
def import_boundaries_command(
    settings: Settings,
    path: Path,
    code_field: str,
    name_field: str,
    layer: str | None,
    dissolve_by: str | None,
    quiet: bool,
) -> None:
    """Import neighbourhood polygons (any CRS) from GeoJSON, Shapefile or GeoPackage at PATH."""
    from .boundaries import import_boundaries

    _run(
        settings,
        lambda connection: import_boundaries(
            connection, path, code_field, name_field, layer=layer, dissolve_by=dissolve_by
        ),
        quiet,
    )


@click.group("transit")
def transit() -> None:
    """Inspect imported transit feeds."""


@transit.command("stats")
@pass_settings
def transit_stats(settings: Settings) -> None:
    """Stops and routes per feed and mode, shapes, shared stops, totals, neighbourhoods."""
    from ..db import make_engine
    from .stats import feed_stats

    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        lines = feed_stats(connection)
    engine.dispose()
    click.echo("\n".join(lines) if lines else "no feeds imported yet")


@transit.command("delete")
@click.argument("feed")
@pass_settings
def transit_delete(settings: Settings, feed: str) -> None:
    """Delete FEED (its stops, routes and shapes); other feeds' stops take their places."""
    from ..db import make_engine
    from .loader import delete_feed

    engine = make_engine(settings.database_url)
    with engine.begin() as connection:
        deleted = delete_feed(connection, feed)
    engine.dispose()
    if not deleted:
        raise click.ClickException(f"no feed named {feed!r}")
    click.echo(f"deleted feed {feed}")


COMMANDS = (import_gtfs_command, import_naptan_command, import_boundaries_command, transit)
