"""Demo data: what the README's run command loads into the local database."""

from __future__ import annotations

from .config import Settings


def load_demo(settings: Settings) -> None:
    """Load the demo transit feed, boundary and synthetic reports (each step is idempotent)."""
    from .hotspots.commands import demo_step as seed_hotspot_reports
    from .transit.demo import load_demo_transit

    for step in (load_demo_transit, seed_hotspot_reports):  # transit first: seeding uses it
        step(settings)
