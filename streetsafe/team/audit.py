"""The audit trail: every team sign-in, query and download (team, what, when, filters)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import AuditEvent, Team


def record(session: Session, team_id: int | None, action: str, detail: dict[str, Any]) -> None:
    """Add one audit event to the session's transaction."""
    session.add(AuditEvent(team_id=team_id, action=action, detail=detail))


def events(
    session: Session,
    team_id: int | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Newest events first, optionally for one team and since a time."""
    query = (
        sa.select(AuditEvent, Team.name)
        .outerjoin(Team, Team.id == AuditEvent.team_id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    if team_id is not None:
        query = query.where(AuditEvent.team_id == team_id)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    return [
        {
            "at": event.created_at.isoformat(),
            "team": team_name,
            "action": event.action,
            "detail": event.detail,
        }
        for event, team_name in session.execute(query)
    ]
