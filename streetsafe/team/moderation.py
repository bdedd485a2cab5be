"""Moderation of report descriptions: scrubbed before a moderator sees them; approved text only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound, Unprocessable
from ..hotspots.publication import hold_publication
from ..i18n import lazy_gettext as _l
from ..models import Report, ReportDescription
from .scrub import scrub
from .service import TeamScope

DECISIONS = {"approve": "approved", "reject": "rejected"}


def queue(
    session: Session, scope: TeamScope, status: str = "pending", limit: int = 50
) -> list[dict[str, Any]]:
    """Descriptions in the team's area with `status`, oldest first, always scrubbed."""
    if status not in ("pending", "approved", "rejected"):
        raise Unprocessable(_l("status must be pending, approved or rejected"), "status")
    hold_publication(session)  # it stores the scrubbed text it shows
    query = (
        sa.select(ReportDescription, Report)
        .join(Report, Report.id == ReportDescription.report_id)
        .where(ReportDescription.status == status)
        .where(Report.neighbourhood_id.in_(scope.neighbourhood_ids))
        .order_by(Report.occurred_at, Report.id)
        .limit(limit)
    )
    items = []
    for description, report in session.execute(query):
        if description.scrubbed is None:
            description.scrubbed = scrub(description.body)
        items.append(
            {
                "report_id": str(report.id),
                "occurred_at": report.occurred_at.isoformat(),
                "context": report.context,
                "categories": report.categories,
                "stop": report.stop_name,
                "route": report.route_short_name,
                "text": description.scrubbed,
                "status": description.status,
            }
        )
    return items


def decide(session: Session, scope: TeamScope, report_id: str, decision: str) -> str:
    """Approve or reject a description in the team's area; return the new status."""
    if decision not in DECISIONS:
        raise Unprocessable(_l("decision must be approve or reject"), "decision")
    try:
        key = uuid.UUID(report_id)
    except ValueError:
        raise NotFound(_l("no such report"), "report_id") from None
    hold_publication(session)
    row = session.execute(
        sa.select(ReportDescription, Report.neighbourhood_id)
        .join(Report, Report.id == ReportDescription.report_id)
        .where(ReportDescription.report_id == key)
    ).first()
    if row is None or row.neighbourhood_id not in scope.neighbourhood_ids:
        raise NotFound(_l("no description for that report in this team's area"), "report_id")
    description = row.ReportDescription
    description.scrubbed = description.scrubbed or scrub(description.body)
    # After the decision the unscrubbed text has no use: keep only what may be shown.
    description.body = description.scrubbed if decision == "approve" else ""
    if decision == "reject":
        description.scrubbed = ""
    description.status = DECISIONS[decision]
    description.moderated_at = datetime.now(UTC)
    description.moderated_by = scope.team_id
    return description.status
