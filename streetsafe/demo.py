"""Demo data: what the README's run command loads into the local database."""

from __future__ import annotations

import click

from .config import Settings


def load_demo(settings: Settings) -> None:
    """Load the demo transit feed, boundary and synthetic reports (each step is idempotent)."""
    from .hotspots.commands import demo_step as seed_hotspot_reports

    steps: list = [seed_hotspot_reports]  # filled by the import and hotspot features
    for step in steps:
        step(settings)
    if not steps:
        click.echo("no demo data to load yet", err=True)
