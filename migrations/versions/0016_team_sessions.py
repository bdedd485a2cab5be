"""Team sessions recorded on the server, so that sign-out, revocation and timeouts end them.

Written by hand. The cookie carries only a random session id (signed by Flask); the table
keeps its SHA-256, so a database dump cannot be replayed as a cookie. A session ends when
`ended_at` is set (sign-out, revocation), when `last_seen_at` is older than the idle timeout,
or when `created_at` is older than the absolute timeout. No client address or user agent is
kept. The table has no geometry.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "team_sessions",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column(
            "team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("id_hash", name="uq_team_sessions_id_hash"),
    )
    op.create_index("ix_team_sessions_team_id", "team_sessions", ["team_id"])


def downgrade() -> None:
    op.drop_table("team_sessions")
