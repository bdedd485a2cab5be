"""Publishing an action on receipts: its public title and text, scrubbed and then approved.

A team marks an action `public: true` with a public title (and, if it likes, a text). Both are
scrubbed of contact details and identifiers when given (scrub.py, as report descriptions are
before a moderator reads them) and wait in the moderation queue; only an approved public text
is ever shown, on the receipt page of each report the action's place covers. Changing the
text, or publishing again after withdrawing, asks for approval again. The audit records the
team that published it and the team that decided.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import Unprocessable
from ..i18n import lazy_gettext as _l
from ..models import TeamAction
from .actions import own_action
from .impact import VERDICTS, KeptVerdict, impact
from .service import TeamScope, scope_of

DECISIONS = {"approve": "approved", "reject": "rejected"}


def decide_publication(session: Session, scope: TeamScope, action_id: int, decision: str) -> str:
    """Approve or reject the public text of one of the team's public actions; the new status."""
    if decision not in DECISIONS:
        raise Unprocessable(_l("decision must be approve or reject"), "decision")
    action = own_action(session, scope, action_id)
    if not action.public:
        raise Unprocessable(_l("the action is not public: set public first"), "action_id")
    action.public_status = DECISIONS[decision]
    action.public_decided_at = datetime.now(UTC)
    action.public_decided_by = scope.team_id
    session.flush()
    return action.public_status


def awaiting_approval(session: Session, scope: TeamScope) -> list[dict[str, Any]]:
    """The team's public actions whose text waits for a decision, oldest first (scrubbed)."""
    actions = session.scalars(
        sa.select(TeamAction)
        .where(TeamAction.team_id == scope.team_id, TeamAction.public,
               TeamAction.public_status == "pending")  # fmt: skip
        .order_by(TeamAction.created_at, TeamAction.id)
    )
    return [
        {"action_id": a.id, "kind": a.kind, "started_on": a.started_on.isoformat(),
         "public_title": a.public_title, "public_text": a.public_text}  # fmt: skip
        for a in actions
    ]


@dataclass(frozen=True)
class PublishedAction:
    """What a receipt page shows of an action: never a count, never a team's own notes."""

    id: int
    team_id: int
    kind: str
    title: str
    text: str | None
    started_on: date
    ended_on: date | None
    verdict: str | None = None


# The report's stored point within the action's place; approved public text only. The list
# depends on the point alone, so every report in the same place gets the same one.
_COVERING = sa.text("""
SELECT a.id, a.team_id, a.kind, a.public_title AS title, a.public_text AS text,
       a.started_on, a.ended_on
FROM reports r JOIN team_actions a ON ST_Covers(a.geom, r.geom)
WHERE r.id = :report_id AND a.public AND a.public_status = 'approved'
ORDER BY a.started_on DESC, a.id DESC
""")


def published_covering(
    session: Session, report_id: Any, version: Hashable | None, today: date
) -> list[PublishedAction]:
    """The approved public actions whose place covers the report, newest first, with their
    public verdict once there is one."""
    rows = session.execute(_COVERING, {"report_id": report_id}).all()
    return [
        PublishedAction(**row._asdict(),
                        verdict=public_verdict_of(session, row.id, row.team_id, version, today))
        for row in rows
    ]  # fmt: skip


def public_verdict_of(session: Session, action_id: int, team_id: int,
                      version: Hashable | None, today: date) -> str | None:  # fmt: skip
    """The action's verdict in plain words (evaluation.public_verdict), evaluated in its team's
    areas as the dashboard does, kept like the dashboard's verdicts; None until there is one
    or once the team is revoked."""
    scope = scope_of(session, team_id)
    if scope is None:
        return None

    def build() -> KeptVerdict:
        return KeptVerdict(impact(session, scope, action_id, today=today)["public_verdict"] or "")

    if version is None:
        return build().text or None
    action = session.get(TeamAction, action_id)
    described = json.dumps([action.started_on, action.ended_on, action.place_ref,
                            action.radius_m, action.place_kind], default=str)  # fmt: skip
    key = ("public_verdict", str(session.get_bind().engine.url), version,
           scope.neighbourhood_ids, action_id, described, today)  # fmt: skip
    return VERDICTS.get(key, build).text or None
