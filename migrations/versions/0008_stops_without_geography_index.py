"""Stops lose their geography GiST index; nearest-stop queries use the geometry one.

Written by hand. `ix_stops_geog` (GiST on `geom::geography`) cost more than half of the
index upkeep of a NaPTAN import: inserting 335,944 stops into an empty copy of `stops` took
7.0 s with its five indexes and 3.4 s without this one (PostgreSQL 15, PostGIS 3.3). The
nearest-stop and nearby-stop queries now filter with `ix_stops_geom` (a lon/lat box that
holds every point within the radius, see `streetsafe/transit/near.py`) and keep the exact
geodesic test and distance, so their answers are unchanged. Route shapes keep theirs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_stops_geog")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_stops_geog ON stops USING gist ((geom::geography))")
