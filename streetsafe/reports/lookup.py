"""A receipt code looked up: what was recorded, and what has happened in its place since.

The page `/receipt/{code}` shows `receipt_for_code`'s `ReceiptView`. It holds only what the
report itself stored (at the stored precision: the hour, the snapped point, stop and route)
and the actions teams chose to publish whose place covers the report's point; never the
description, and no count of anything. The actions depend on the point alone, so every
report in one place gets the same list: a receipt tells nothing about other reporters.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ..hotspots.layercache import layer_version
from ..team.insights import local_today
from ..team.publishing import PublishedAction, published_covering
from ..vocabulary import CATEGORIES, local_time_zone
from .intake import load_receipt_by_code
from .receipt_codes import grouped, parse_code
from .schema import Receipt

_LABELS = {category.id: category.label for category in CATEGORIES}


@dataclass(frozen=True)
class ReceiptView:
    """What a receipt page shows."""

    code: str  # grouped, as the reporter was given it
    receipt: Receipt
    local_hour: datetime  # the stored hour, in the database's time zone
    categories: list[str]  # labels, in the report's order
    actions: list[PublishedAction]

    @property
    def reported_on(self) -> date:
        """The local day of the report (actions that started by then were under way)."""
        return self.local_hour.date()


def receipt_for_code(session: Session, typed: str) -> ReceiptView | None:
    """The receipt view of a typed code; None for a malformed or unknown one (alike)."""
    code = parse_code(typed)
    receipt = load_receipt_by_code(session, code) if code is not None else None
    if receipt is None:
        return None
    zone = ZoneInfo(local_time_zone(session))
    actions = published_covering(session, uuid.UUID(receipt.id), layer_version(session),
                                 local_today(session))  # fmt: skip
    return ReceiptView(
        code=grouped(code),
        receipt=receipt,
        local_hour=receipt.occurred_at.astimezone(zone),
        categories=[_LABELS.get(category, category) for category in receipt.categories],
        actions=actions,
    )
