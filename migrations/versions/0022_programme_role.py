"""Teams get a role: `team` (a neighbourhood team) or `programme` (the programme board).

A programme token covers every neighbourhood but reads only disclosure-controlled aggregates
(streetsafe/team/programme.py); the API refuses it everything else.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("teams", sa.Column("role", sa.Text(), nullable=False, server_default="team"))
    op.execute(
        "ALTER TABLE teams ADD CONSTRAINT ck_teams_role CHECK (role IN ('team', 'programme'))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE teams DROP CONSTRAINT ck_teams_role")
    op.drop_column("teams", "role")
