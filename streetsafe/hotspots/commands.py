"""`streetsafe seed-demo` and the demo step that seeds synthetic reports once."""

from __future__ import annotations

import click

from ..config import Settings
from ..db import Database
from .seeding import has_synthetic_reports, seed_reports


def seed_demo_reports(settings: Settings, count: int = 600, force: bool = False) -> int:
    """Seed synthetic reports unless some exist (or `force`); returns how many were added."""
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            if has_synthetic_reports(session) and not force:
                click.echo("synthetic reports already seeded; skipping", err=True)
                return 0
            return seed_reports(session, settings.h3_resolutions, count)
    finally:
        database.dispose()


def demo_step(settings: Settings) -> None:
    """The demo's seeding step (idempotent)."""
    added = seed_demo_reports(settings)
    if added:
        click.echo(f"seeded {added} synthetic reports", err=True)


@click.command("seed-demo")
@click.option("--count", default=600, show_default=True, type=click.IntRange(1, 5_000_000))
@click.option("--force", is_flag=True, help="Seed even when synthetic reports exist.")
def seed_demo(count: int, force: bool) -> None:
    """Seed synthetic reports (marked synthetic) clustered on the stops and routes loaded."""
    from ..cli import resolved_settings

    added = seed_demo_reports(resolved_settings(), count, force)
    click.echo(f"seeded {added} synthetic reports")
