"""Covering indexes for the public layers' first read: (feature, total, key sum) only.

Written by hand. Every public layer starts by reading each feature's total and key sum
(`aggregate.cell_total_columns`, `site_totals`): what disclosure control publishes, and
what Gi* and the coarse tiles need. The summaries (migrations 0006, 0019) are one wide row
per feature (a count and a key sum per category, the mask histogram), and every rollup
update rewrites the row, so at national scale they are large for what this read takes: on
1M reports over Great Britain, hotspot_cell_summary held 401,011 rows in 1,253 MB and
hotspot_stop_summary 205,393 rows in 294 MB. Reading the country's res 7 totals (24,235
rows) touched 9,168 heap pages, 28 ms; a county's stops read the whole stop summary, 279
ms. With these indexes the same reads are index-only scans: 5.9 ms and 84 ms
(docs/BENCHMARKS.md, "National reads", round 3).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_hotspot_cell_summary_totals": "hotspot_cell_summary (res, cell)",
    "ix_hotspot_stop_summary_totals": "hotspot_stop_summary (stop_public_id)",
    "ix_hotspot_segment_summary_totals": (
        "hotspot_segment_summary (route_public_id, direction, from_public_id, to_public_id)"
    ),
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {columns} INCLUDE (total, key_sum)")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
