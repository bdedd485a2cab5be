"""reports.source: where a report came from ('public' intake, or a historic load's name).

Written by hand. Public intake leaves it NULL (read as 'public'); `streetsafe reports load
FILE --source NAME` sets it on every report it stores, so a force's historic StreetSafe data
can be told apart, counted or deleted again. Adding a nullable column without a default is
a catalogue change only: no table rewrite, no lock held longer than the ALTER itself.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE reports ADD COLUMN source text")
    op.execute(
        "ALTER TABLE reports ADD CONSTRAINT ck_reports_source "
        "CHECK (source IS NULL OR length(source) BETWEEN 1 AND 64)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE reports DROP COLUMN source")
