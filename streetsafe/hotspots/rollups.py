"""The rollup tables' category bits, and a rebuild of every rollup from the raw reports.

Triggers from migrations 0005 and 0006 keep the rollups and cell summaries current on every
insert; `streetsafe reports load` defers them to one run over the whole load (migration 0027,
reports/load.py). `rebuild_rollups` is for a change of the `streetsafe.timezone` database
setting.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..vocabulary import CATEGORY_IDS

# Bit i of a rollup's category_mask is CATEGORY_IDS[i] (the vocabulary's order, migration 0005).
CATEGORY_BITS: dict[str, int] = {c: 1 << i for i, c in enumerate(CATEGORY_IDS)}
ALL_CATEGORIES_MASK = (1 << len(CATEGORY_IDS)) - 1

ROLLUP_TABLES = (
    "hotspot_cell_rollup", "hotspot_cell_totals", "hotspot_cell_sites", "hotspot_stop_rollup",
    "hotspot_stop_sites", "hotspot_segment_rollup", "hotspot_segment_sites",
    "hotspot_cell_summary", "hotspot_stop_totals", "hotspot_segment_totals",
    "hotspot_stop_summary", "hotspot_segment_summary",
)  # fmt: skip


def categories_to_mask(categories: Iterable[str]) -> int:
    """The bitmask of some category ids."""
    mask = 0
    for category in categories:
        mask |= CATEGORY_BITS[category]
    return mask


def rebuild_rollups(session: Session) -> None:
    """Empty every rollup and rebuild it from the raw reports (after a bulk load).

    The rebuild functions run the same SQL as the insert triggers, over the whole tables.
    """
    session.execute(sa.text(f"TRUNCATE {', '.join(ROLLUP_TABLES)}"))
    session.execute(sa.text("SELECT hotspot_rebuild_cell_rollups()"))
    session.execute(sa.text("SELECT hotspot_rebuild_cell_summaries()"))
    session.execute(sa.text("SELECT hotspot_rebuild_transit_rollups()"))
    session.execute(sa.text("SELECT hotspot_rebuild_site_totals()"))
    session.execute(sa.text("SELECT hotspot_rebuild_site_summaries()"))
