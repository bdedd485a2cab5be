"""Receipt codes a reporter can use, and actions a team publishes on receipts.

- `reports.receipt_code`: 13 characters of Crockford's base32 (65 random bits), made by the
  database for every report (`new_receipt_code()`, from `gen_random_uuid()`, which reads the
  server's strong random source), unique, and gone with its report. Existing reports get one
  each. Nothing public derives it: the old code was the first 8 base32 characters of the id.
- `team_actions.public` and its public title and text, scrubbed when given and shown on
  receipts only once approved (`public_status`), with who decided and when.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# Crockford's base32 (no I, L, O or U). The 13 bytes of a version-4 UUID that are wholly
# random (not 6, 7 and 8, which hold the version and variant bits) give 5 bits each:
# 256 is a multiple of 32, so every character is uniform.
_NEW_RECEIPT_CODE = """
CREATE FUNCTION new_receipt_code() RETURNS text
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', get_byte(r.b, i) % 32 + 1, 1),
                      '' ORDER BY i)
    FROM (SELECT uuid_send(gen_random_uuid()) AS b) r,
         unnest('{0,1,2,3,4,5,9,10,11,12,13,14,15}'::int[]) AS i
$$
"""


def upgrade() -> None:
    op.execute(_NEW_RECEIPT_CODE)
    # A volatile default: PostgreSQL rewrites the table and calls it once for each report.
    op.execute("ALTER TABLE reports ADD COLUMN receipt_code text NOT NULL "
               "DEFAULT new_receipt_code()")  # fmt: skip
    op.execute("ALTER TABLE reports ADD CONSTRAINT ck_reports_receipt_code "
               "CHECK (receipt_code ~ '^[0-9A-HJKMNP-TV-Z]{13}$')")  # fmt: skip
    op.create_index("ux_reports_receipt_code", "reports", ["receipt_code"], unique=True)

    op.add_column("team_actions",
                  sa.Column("public", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("team_actions", sa.Column("public_title", sa.Text))
    op.add_column("team_actions", sa.Column("public_text", sa.Text))
    op.add_column("team_actions", sa.Column("public_status", sa.Text))
    op.add_column("team_actions", sa.Column("public_decided_at", sa.DateTime(timezone=True)))
    op.add_column("team_actions", sa.Column(
        "public_decided_by", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL",
                                                       name="fk_team_actions_public_decided_by_teams")))
    op.execute("ALTER TABLE team_actions ADD CONSTRAINT ck_team_actions_public_status "
               "CHECK (public_status IN ('pending', 'approved', 'rejected'))")
    op.execute("ALTER TABLE team_actions ADD CONSTRAINT ck_team_actions_public_title "
               "CHECK (NOT public OR public_title IS NOT NULL)")  # fmt: skip


def downgrade() -> None:
    op.execute("ALTER TABLE team_actions DROP CONSTRAINT ck_team_actions_public_title")
    op.execute("ALTER TABLE team_actions DROP CONSTRAINT ck_team_actions_public_status")
    for column in ("public_decided_by", "public_decided_at", "public_status", "public_text",
                   "public_title", "public"):  # fmt: skip
        op.drop_column("team_actions", column)
    op.drop_index("ux_reports_receipt_code", table_name="reports")
    op.execute("ALTER TABLE reports DROP CONSTRAINT ck_reports_receipt_code")
    op.drop_column("reports", "receipt_code")
    op.execute("DROP FUNCTION new_receipt_code()")
