"""Action kinds: what a team did (kind, end date, dosage) and how its place was given.

Written by hand. Existing actions were circles recorded with a title and a start date:
they become kind `other`, place kind `circle`, with the radius unknown (NULL; impact then
uses the radius of the circle of equal area, which for a circle is its own radius).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "team_actions", sa.Column("kind", sa.Text, nullable=False, server_default="other")
    )
    op.add_column("team_actions", sa.Column("ended_on", sa.Date))
    op.add_column("team_actions", sa.Column("dosage_amount", sa.Float))
    op.add_column("team_actions", sa.Column("dosage_unit", sa.Text))
    op.add_column(
        "team_actions",
        sa.Column("place_kind", sa.Text, nullable=False, server_default="circle"),
    )
    # The place as it was given: a stop id, or a route and two stop ids (GeoJSON otherwise).
    op.add_column("team_actions", sa.Column("place_ref", JSONB))
    op.add_column("team_actions", sa.Column("radius_m", sa.Float))
    op.create_check_constraint(
        "ck_team_actions_ended_after_started",
        "team_actions",
        "ended_on IS NULL OR ended_on >= started_on",
    )


def downgrade() -> None:
    op.drop_constraint("ck_team_actions_ended_after_started", "team_actions")
    for column in (
        "radius_m",
        "place_ref",
        "place_kind",
        "dosage_unit",
        "dosage_amount",
        "ended_on",
        "kind",
    ):
        op.drop_column("team_actions", column)
