"""The demo transit feed and neighbourhoods (Hull city centre), authored by the project."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa

from ..config import Settings
from ..localdb import project_root
from ..transit.boundaries import import_boundaries
from ..transit.gtfs import import_gtfs

DEMO_FEED = "demo"


def demo_dir() -> Path:
    """geodata/demo in the project."""
    return project_root() / "geodata" / "demo"


def load_demo_transit_into(connection: sa.Connection) -> None:
    """Import (or replace) the demo GTFS feed and neighbourhood boundaries."""
    import_gtfs(connection, demo_dir() / "hull-gtfs", DEMO_FEED)
    import_boundaries(connection, demo_dir() / "hull-neighbourhoods.geojson", "code", "name")


def load_demo_transit(settings: Settings) -> None:
    """Demo step: the Hull feed and neighbourhoods, in one transaction (idempotent)."""
    from ..db import make_engine

    engine = make_engine(settings.database_url)
    with engine.begin() as connection:
        load_demo_transit_into(connection)
    engine.dispose()
    click.echo("demo transit feed and neighbourhoods loaded (Hull city centre)", err=True)
