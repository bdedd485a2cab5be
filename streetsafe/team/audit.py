"""The audit trail: every team sign-in, query, download, decision and refused attempt.

Each event keeps the team (when known), what was done, when, and its filters or facts (a
download's format, an action's place and radius, a moderation decision). Refused attempts
(401, 403, 404) and failed sign-ins are recorded too; no client address is ever stored.
`describe` puts an event in words for `streetsafe audit` and the dashboard.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..i18n import N_, gettext
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
            "summary": describe(event.action, event.detail),
            "detail": event.detail,
        }
        for event, team_name in session.execute(query)
    ]


FORMAT_NAMES = {"geojson": "GeoJSON", "csv": "CSV", "gpkg": "GeoPackage"}
# The audit in words, in the reader's language (the `streetsafe audit` command's is English).
_PLAIN = {
    "sign_out": N_("signed out"),
    "dashboard": N_("opened the dashboard"),
    "me": N_("checked who is signed in"),
    "actions": N_("listed its actions"),
    "audit": N_("read the audit trail"),
    "neighbourhoods": N_("read its neighbourhood outlines"),
    "programme_page": N_("opened the programme view"),
}


def _filters(detail: dict[str, Any]) -> str:
    filters = {k: ",".join(v) for k, v in (detail.get("filters") or {}).items() if k != "format"}
    listed = ", ".join(f"{k}={v}" for k, v in filters.items())
    return gettext(" (filters: %(filters)s)", filters=listed) if filters else ""


_REQUESTS: tuple[tuple[str, str, str], ...] = (
    (r"/api/v1/team/actions/(\d+)/impact", "", N_("the effect of action {0}")),
    (r"/api/v1/team/actions/(\d+)/publication", "",
     N_("a decision on the public text of action {0}")),
    (r"/api/v1/team/actions/(\d+)", "PATCH", N_("a change to action {0}")),
    (r"/api/v1/team/actions/(\d+)", "DELETE", N_("deleting action {0}")),
    (r"/api/v1/team/actions", "POST", N_("recording an action")),
    (r"/api/v1/team/actions", "", N_("the list of actions")),
    (r"/api/v1/team/hotspots/([\w-]+)", "", N_("hotspot {0}")),
    (r"/api/v1/team/moderation/(.+)", "", N_("a decision on the description of report {0}")),
    (r"/api/v1/team/moderation", "", N_("the moderation queue")),
    (r"/api/v1/team/me", "", N_("who is signed in")),
    (r"/api/v1/team/reports", "", N_("individual reports")),
    (r"/api/v1/team/neighbourhoods", "", N_("the neighbourhood outlines")),
    (r"/api/v1/team/audit", "", N_("the audit trail")),
    (r"/api/v1/team/insights", "", N_("insights")),
    (r"/api/v1/team/programme", "", N_("the programme view")),
    (r"/team/programme", "", N_("the programme view")),
    (r"/team/?", "", N_("the dashboard")),
)


def requested(method: str, path: str) -> str:
    """What a request asked for, in words (its method and path when nothing matches)."""
    for pattern, verb, words in _REQUESTS:
        match = re.fullmatch(pattern, path)
        if match and verb in ("", method):
            return gettext(words).format(*match.groups())
    return f"{method} {path}".strip()


def place_in_words(detail: dict[str, Any]) -> str:
    """An action's place as the audit recorded it, in words."""
    if isinstance(detail.get("lat"), int | float) and isinstance(detail.get("lon"), int | float):
        return gettext("within %(radius)s m of lat %(lat)s, lon %(lon)s",
                       radius=format(detail.get("radius_m", 0), "g"),
                       lat=format(detail["lat"], ".5f"), lon=format(detail["lon"], ".5f"))
    place = detail.get("place") or {}
    if place.get("type") == "stop":
        return gettext("within %(radius)s m of stop %(stop)s",
                       radius=format(place.get("radius_m", 0), "g"), stop=place.get("stop_id"))
    if place.get("type") == "segment":
        return gettext("along route %(route)s from stop %(start)s to stop %(end)s",
                       route=place.get("route_id"), start=place.get("from_stop_id"),
                       end=place.get("to_stop_id"))
    if place.get("type") == "polygon":
        return gettext("in an area drawn on the map")
    return gettext("in an unrecorded place")


def _describe_action(action: str, detail: dict[str, Any]) -> str:
    """An action's creation, change, deletion or evaluation in words."""
    if action == "action_created":
        kind = f" ({detail['kind']})" if detail.get("kind") not in (None, "other") else ""
        published = (gettext(", published on receipts as %(title)r once approved",
                             title=detail.get("public_title")) if detail.get("public") else "")
        return gettext("recorded action %(id)s %(title)r%(kind)s from %(start)s, %(place)s",
                       id=detail.get("action_id"), title=detail.get("title", ""), kind=kind,
                       start=detail.get("started_on"), place=place_in_words(detail)) + published
    if action == "action_updated":
        changed_fields = detail.get("changed") or {}
        changed = ", ".join(sorted(changed_fields.keys())) or gettext("nothing")
        published = {True: N_("; published it on receipts once approved"),
                     False: N_("; withdrew it from receipts")}.get(changed_fields.get("public"))
        return gettext("changed action %(id)s (%(changed)s)", id=detail.get("action_id"),
                       changed=changed) + (gettext(published) if published else "")
    if action == "action_publication":
        return decision_in_words(action, detail)
    if action == "action_deleted":
        title = (detail.get("was") or {}).get("title", "")
        return gettext("deleted action %(id)s %(title)r", id=detail.get("action_id"), title=title)
    if action == "action_impact":
        if detail.get("format") == "csv":
            return gettext("downloaded the evaluation of action %(id)s as CSV",
                           id=detail.get("action_id"))
        return gettext("viewed the effect of action %(id)s", id=detail.get("action_id"))
    return action.replace("_", " ")


def describe(action: str, detail: dict[str, Any]) -> str:
    """One audit event in words."""
    detail = detail or {}
    fmt = FORMAT_NAMES.get(detail.get("format", ""), detail.get("format", "?"))
    if action in _PLAIN:
        return gettext(_PLAIN[action])
    if action in ("sign_in", "sign_in_failed", "refused", "moderation_queue",
                  "moderation_decision"):  # fmt: skip
        return _describe_access(action, detail)
    filters = _filters(detail)
    if action == "insights":
        return gettext("viewed insights%(filters)s", filters=filters)
    if action == "programme":
        return gettext("read the programme view as %(format)s%(filters)s", format=fmt,
                       filters=filters)  # fmt: skip
    if action == "hotspots":
        layer = detail.get("layer", "?")
        if detail.get("download") is False:
            return gettext("viewed hotspot %(layer)s on the map%(filters)s", layer=layer,
                           filters=filters)  # fmt: skip
        return gettext("downloaded hotspot %(layer)s as %(format)s%(filters)s", layer=layer,
                       format=fmt, filters=filters)  # fmt: skip
    if action == "reports":
        if detail.get("download") is False:
            return gettext("viewed the latest individual reports%(filters)s", filters=filters)
        return gettext("downloaded individual reports as %(format)s%(filters)s", format=fmt,
                       filters=filters)  # fmt: skip
    if action.startswith("action_"):
        return _describe_action(action, detail)
    return action.replace("_", " ")


def _describe_access(action: str, detail: dict[str, Any]) -> str:
    """Sign-ins, refusals and moderation in words."""
    if action == "sign_in":
        return gettext("signed in (%(via)s)", via=detail.get("via", "form"))
    if action == "sign_in_failed":
        return gettext("failed sign-in with a wrong, unknown or revoked token (%(via)s)",
                       via=detail.get("via", "?"))  # fmt: skip
    if action == "refused":
        reason = f": {detail['reason']}" if detail.get("reason") else ""
        what = requested(detail.get("method", ""), detail.get("path", ""))
        return gettext("refused access to %(what)s (%(status)s)%(reason)s", what=what,
                       status=detail.get("status"), reason=reason)  # fmt: skip
    if action == "moderation_queue":
        return gettext("read the moderation queue (%(status)s)",
                       status=detail.get("status", "pending"))  # fmt: skip
    return decision_in_words(action, detail)


# A moderator's decision in words, by what was decided on and the decision (None: unrecorded).
_DECISIONS = {
    "action_publication": {
        "approve": N_("approved the public text of action %(id)s"),
        "reject": N_("rejected the public text of action %(id)s"),
        None: N_("decided the public text of action %(id)s"),
    },
    "moderation_decision": {
        "approve": N_("approved the description of report %(report)s"),
        "reject": N_("rejected the description of report %(report)s"),
        None: N_("decided the description of report %(report)s"),
    },
}


def decision_in_words(action: str, detail: dict[str, Any]) -> str:
    """An approval or rejection (of a description or of an action's public text) in words."""
    phrases = _DECISIONS[action]
    phrase = phrases.get(detail.get("decision"), phrases[None])
    return gettext(phrase, id=detail.get("action_id"), report=detail.get("report_id"))
