"""Retention: raw reports and their descriptions go after a set time; aggregates stay.

Hotspot rollups are separate tables without foreign keys to `reports`, so deleting raw
reports leaves every published layer as it was. Idempotency keys expire on their own
schedule (`expires_at`, at least 24 h after the first request); a key whose stored response
is the receipt of a purged report goes with the report, so its receipt code (which lives in
the reports table) is kept nowhere once the report is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import IdempotencyKey, Report

BATCH = 5000


@dataclass(frozen=True)
class PurgeResult:
    """What a purge removed."""

    reports: int
    descriptions: int
    idempotency_keys: int
    cutoff: datetime


def purge(session: Session, older_than_days: int, now: datetime | None = None) -> PurgeResult:
    """Delete reports that happened more than `older_than_days` ago, and expired keys."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=older_than_days)
    old = sa.select(Report.id).where(Report.occurred_at < cutoff)
    descriptions = session.scalar(
        sa.text(
            "SELECT count(*) FROM report_descriptions WHERE report_id IN (SELECT id FROM reports "
            "WHERE occurred_at < :cutoff)"
        ),
        {"cutoff": cutoff},
    )
    # Before the reports: the stored responses name them by id.
    receipts = session.execute(
        sa.text(
            "DELETE FROM idempotency_keys WHERE response->>'id' IN (SELECT id::text FROM reports "
            "WHERE occurred_at < :cutoff)"
        ),
        {"cutoff": cutoff},
    )
    deleted = 0
    while True:
        batch = session.scalars(old.limit(BATCH)).all()
        if not batch:
            break
        # report_cells and report_descriptions go with their report (ON DELETE CASCADE).
        session.execute(sa.delete(Report).where(Report.id.in_(batch)))
        deleted += len(batch)
    keys = session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.expires_at < now))
    removed_keys = (keys.rowcount or 0) + (receipts.rowcount or 0)
    return PurgeResult(deleted, descriptions or 0, removed_keys, cutoff)
