"""`streetsafe demo` and `streetsafe seed-demo`, and the demo's steps."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import Settings
from ..current import pass_settings


def seed_demo_step(settings: Settings) -> None:
    """The demo's seeding step: synthetic reports once (idempotent)."""
    from .seeding import seed_demo_reports

    added = seed_demo_reports(settings)
    if added:
        click.echo(f"seeded {added} synthetic reports", err=True)


def load_demo(settings: Settings) -> None:
    """Load the demo transit feed, boundary and synthetic reports (each step is idempotent)."""
    from .transit import load_demo_transit

    for step in (load_demo_transit, seed_demo_step):  # transit first: seeding uses it
        step(settings)


def with_demo_basemap(settings: Settings) -> Settings:
    """The settings with the demo's own PMTiles basemap, unless another archive is set."""
    from .basemap import ARCHIVE_NAME
    from .transit import demo_dir

    if settings.basemap_pmtiles:
        return settings
    return settings.with_overrides(basemap_pmtiles=str(demo_dir() / ARCHIVE_NAME))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the demo database, then exit.")
@click.option(
    "--remote-basemap",
    is_flag=True,
    help="Draw STREETSAFE_BASEMAP_URL's tiles (needs the internet) instead of the demo's "
    "self-hosted basemap.",
)
@pass_settings
def demo(settings: Settings, host: str, port: int, no_serve: bool, remote_basemap: bool) -> None:
    """Start local servers, migrate, load the demo data, and serve at http://HOST:PORT."""
    from .. import migrate

    click.echo("migrating the database", err=True)
    migrate.upgrade(settings.database_url)
    load_demo(settings)
    if no_serve:
        return
    from ..server import run_gunicorn

    if not remote_basemap:
        settings = with_demo_basemap(settings)
    click.echo(f"serving StreetSafe at http://{host}:{port}", err=True)
    run_gunicorn(settings, host=host, port=port, workers=2)


@click.command("demo-basemap")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@pass_settings
def demo_basemap(settings: Settings, out: Path) -> None:
    """Migrate, load the demo data, then build its basemap (a PMTiles archive) into OUT."""
    from .. import migrate
    from ..db import make_engine
    from .basemap import build_demo_basemap
    from .transit import load_demo_transit

    migrate.upgrade(settings.database_url)
    load_demo_transit(settings)
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        summary = build_demo_basemap(connection, out)
    engine.dispose()
    click.echo(f"wrote {summary.path}: {summary.tiles} tiles, {summary.size:,} bytes")


@click.command("seed-demo")
@click.option("--count", default=600, show_default=True, type=click.IntRange(1, 5_000_000))
@click.option("--force", is_flag=True, help="Seed even when synthetic reports exist.")
@pass_settings
def seed_demo(settings: Settings, count: int, force: bool) -> None:
    """Seed synthetic reports (marked synthetic) clustered on the stops and routes loaded."""
    from .seeding import seed_demo_reports

    added = seed_demo_reports(settings, count, force)
    click.echo(f"seeded {added} synthetic reports")
