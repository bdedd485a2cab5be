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
_PLAIN = {
    "sign_out": "signed out",
    "dashboard": "opened the dashboard",
    "me": "checked who is signed in",
    "actions": "listed its actions",
    "audit": "read the audit trail",
    "neighbourhoods": "read its neighbourhood outlines",
    "programme_page": "opened the programme view",
}


def _filters(detail: dict[str, Any]) -> str:
    filters = {k: ",".join(v) for k, v in (detail.get("filters") or {}).items() if k != "format"}
    return f" (filters: {', '.join(f'{k}={v}' for k, v in filters.items())})" if filters else ""


_REQUESTS: tuple[tuple[str, str, str], ...] = (
    (r"/api/v1/team/actions/(\d+)/impact", "", "the effect of action {0}"),
    (r"/api/v1/team/actions/(\d+)/publication", "", "a decision on the public text of action {0}"),
    (r"/api/v1/team/actions/(\d+)", "PATCH", "a change to action {0}"),
    (r"/api/v1/team/actions/(\d+)", "DELETE", "deleting action {0}"),
    (r"/api/v1/team/actions", "POST", "recording an action"),
    (r"/api/v1/team/actions", "", "the list of actions"),
    (r"/api/v1/team/hotspots/([\w-]+)", "", "hotspot {0}"),
    (r"/api/v1/team/moderation/(.+)", "", "a decision on the description of report {0}"),
    (r"/api/v1/team/moderation", "", "the moderation queue"),
    (r"/api/v1/team/me", "", "who is signed in"),
    (r"/api/v1/team/reports", "", "individual reports"),
    (r"/api/v1/team/neighbourhoods", "", "the neighbourhood outlines"),
    (r"/api/v1/team/audit", "", "the audit trail"),
    (r"/api/v1/team/insights", "", "insights"),
    (r"/api/v1/team/programme", "", "the programme view"),
    (r"/team/programme", "", "the programme view"),
    (r"/team/?", "", "the dashboard"),
)


def requested(method: str, path: str) -> str:
    """What a request asked for, in words (its method and path when nothing matches)."""
    for pattern, verb, words in _REQUESTS:
        match = re.fullmatch(pattern, path)
        if match and verb in ("", method):
            return words.format(*match.groups())
    return f"{method} {path}".strip()


def place_in_words(detail: dict[str, Any]) -> str:
    """An action's place as the audit recorded it, in words."""
    if isinstance(detail.get("lat"), int | float) and isinstance(detail.get("lon"), int | float):
        return (
            f"within {detail.get('radius_m', 0):g} m of "
            f"lat {detail['lat']:.5f}, lon {detail['lon']:.5f}"
        )
    place = detail.get("place") or {}
    if place.get("type") == "stop":
        return f"within {place.get('radius_m', 0):g} m of stop {place.get('stop_id')}"
    if place.get("type") == "segment":
        return (
            f"along route {place.get('route_id')} from stop {place.get('from_stop_id')} "
            f"to stop {place.get('to_stop_id')}"
        )
    if place.get("type") == "polygon":
        return "in an area drawn on the map"
    return "in an unrecorded place"


def _describe_action(action: str, detail: dict[str, Any]) -> str:
    """An action's creation, change, deletion or evaluation in words."""
    if action == "action_created":
        kind = f" ({detail['kind']})" if detail.get("kind") not in (None, "other") else ""
        published = (f", published on receipts as {detail.get('public_title')!r} once approved"
                     if detail.get("public") else "")  # fmt: skip
        return (
            f"recorded action {detail.get('action_id')} {detail.get('title', '')!r}{kind} from "
            f"{detail.get('started_on')}, {place_in_words(detail)}{published}"
        )
    if action == "action_updated":
        changed_fields = detail.get("changed") or {}
        changed = ", ".join(sorted(changed_fields.keys())) or "nothing"
        published = {True: "; published it on receipts once approved",
                     False: "; withdrew it from receipts"}.get(changed_fields.get("public"), "")
        return f"changed action {detail.get('action_id')} ({changed}){published}"
    if action == "action_publication":
        verb = {"approve": "approved", "reject": "rejected"}.get(detail.get("decision"), "decided")
        return f"{verb} the public text of action {detail.get('action_id')}"
    if action == "action_deleted":
        title = (detail.get("was") or {}).get("title", "")
        return f"deleted action {detail.get('action_id')} {title!r}"
    if action == "action_impact":
        if detail.get("format") == "csv":
            return f"downloaded the evaluation of action {detail.get('action_id')} as CSV"
        return f"viewed the effect of action {detail.get('action_id')}"
    return action.replace("_", " ")


def describe(action: str, detail: dict[str, Any]) -> str:
    """One audit event in words."""
    detail = detail or {}
    fmt = FORMAT_NAMES.get(detail.get("format", ""), detail.get("format", "?"))
    if action in _PLAIN:
        return _PLAIN[action]
    if action == "sign_in":
        return f"signed in ({detail.get('via', 'form')})"
    if action == "sign_in_failed":
        return f"failed sign-in with a wrong, unknown or revoked token ({detail.get('via', '?')})"
    if action == "refused":
        reason = f": {detail['reason']}" if detail.get("reason") else ""
        what = requested(detail.get("method", ""), detail.get("path", ""))
        return f"refused access to {what} ({detail.get('status')}){reason}"
    if action == "insights":
        return f"viewed insights{_filters(detail)}"
    if action == "programme":
        return f"read the programme view as {fmt}{_filters(detail)}"
    if action == "hotspots":
        if detail.get("download") is False:
            return f"viewed hotspot {detail.get('layer', '?')} on the map{_filters(detail)}"
        return f"downloaded hotspot {detail.get('layer', '?')} as {fmt}{_filters(detail)}"
    if action == "reports":
        if detail.get("download") is False:
            return f"viewed the latest individual reports{_filters(detail)}"
        return f"downloaded individual reports as {fmt}{_filters(detail)}"
    if action.startswith("action_"):
        return _describe_action(action, detail)
    if action == "moderation_queue":
        return f"read the moderation queue ({detail.get('status', 'pending')})"
    if action == "moderation_decision":
        verb = {"approve": "approved", "reject": "rejected"}.get(detail.get("decision"), "decided")
        return f"{verb} the description of report {detail.get('report_id')}"
    return action.replace("_", " ")
