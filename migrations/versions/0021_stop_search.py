"""Stop search by ATCO code, the code printed on the stop, or the start of its name (issue 17).

Written by hand. `stops.code` holds the short code a passenger reads off the stop (NaPTAN's
NaptanCode, the SMS code; GTFS `stop_code`). Two btree indexes serve the national part of
the search (streetsafe/transit/search.py): the code, lower-cased, where there is one, and
the lower-cased name with text_pattern_ops for `LIKE 'prefix%'` under any collation. ATCO
codes need none: they are the tail of the unique public id. Words inside names are matched
only near a point, through the stops' spatial index (search.py says why).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("stops", sa.Column("code", sa.Text(), nullable=True))
    op.execute("CREATE INDEX ix_stops_name_prefix ON stops (lower(name) text_pattern_ops)")
    op.execute("CREATE INDEX ix_stops_code_lower ON stops (lower(code)) WHERE code IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX ix_stops_code_lower")
    op.execute("DROP INDEX ix_stops_name_prefix")
    op.drop_column("stops", "code")
