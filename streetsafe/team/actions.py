"""Benefits tracking: a team records what it did (kind, dates, dosage) in a place, edits it,
deletes it, and may publish it on receipts (its public text scrubbed here; approval and the
receipts' side in publishing.py). The evaluation of an action is in impact.py."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..errors import NotFound, Unprocessable
from ..i18n import lazy_gettext as _l
from ..models import TeamAction
from .action_schema import ActionIn, ActionPatch
from .places import Place, check_in_area, resolve_place
from .scrub import scrub
from .service import TeamScope

PUBLIC_FIELDS = ("public", "public_title", "public_text")


def record_action(session: Session, scope: TeamScope, body: ActionIn) -> TeamAction:
    """Store a new action whose place touches the team's area (else 422 naming the place)."""
    place = resolve_place(session, body.the_place())
    check_in_area(session, scope, place.ewkt, "place" if body.place else "location")
    action = TeamAction(
        team_id=scope.team_id,
        title=body.the_title(),
        kind=body.kind,
        started_on=body.started_on,
        ended_on=body.ended_on,
        dosage_amount=body.dosage.amount if body.dosage else None,
        dosage_unit=body.dosage.unit if body.dosage else None,
        public=False,
    )
    apply_publication(action, body.model_dump(include=set(PUBLIC_FIELDS) & body.model_fields_set))
    _set_place(action, place)
    session.add(action)
    session.flush()
    return action


def apply_publication(action: TeamAction, given: dict[str, Any]) -> None:
    """Apply the public fields given (scrubbing the text); a new text or a new publication
    waits for approval again. A 422 naming public_title when publishing without one."""
    renewed = False
    if "public_title" in given:
        action.public_title = scrub(given["public_title"])
        renewed = True
    if "public_text" in given:
        text = given["public_text"]
        action.public_text = scrub(text) if text else None
        renewed = True
    if "public" in given:
        renewed = renewed or (given["public"] and not action.public)
        action.public = given["public"]
    if action.public and action.public_title is None:
        raise Unprocessable(_l("is required to publish an action"), "public_title")
    if renewed and action.public_title is not None:
        action.public_status = "pending"
        action.public_decided_at = action.public_decided_by = None


def _set_place(action: TeamAction, place: Place) -> None:
    action.geom = sa.func.ST_GeomFromEWKT(place.ewkt)
    action.place_kind = place.kind
    action.place_ref = place.ref
    action.radius_m = place.radius_m


def own_action(session: Session, scope: TeamScope, action_id: int) -> TeamAction:
    """The team's action `action_id`; 404 for another team's or a missing one."""
    action = session.get(TeamAction, action_id)
    if action is None or action.team_id != scope.team_id:
        raise NotFound(_l("no such action for this team"), "action_id")
    return action


def update_action(
    session: Session, scope: TeamScope, action_id: int, patch: ActionPatch
) -> dict[str, Any]:
    """Change the fields given; return them as they were before (for the audit)."""
    action = own_action(session, scope, action_id)
    given = patch.model_fields_set
    was = {name: _plain(getattr(action, name)) for name in ("title", "kind", "started_on",
                                                             "ended_on", "place_kind",
                                                             *PUBLIC_FIELDS)}  # fmt: skip
    for name in given & {"title", "kind", "started_on", "ended_on"}:
        setattr(action, name, getattr(patch, name))
    if "dosage" in given:
        action.dosage_amount = patch.dosage.amount if patch.dosage else None
        action.dosage_unit = patch.dosage.unit if patch.dosage else None
    if action.ended_on is not None and action.ended_on < action.started_on:
        raise Unprocessable(_l("must be on or after started_on"), "ended_on")
    apply_publication(action, patch.model_dump(include=given & set(PUBLIC_FIELDS)))
    if patch.place is not None:
        place = resolve_place(session, patch.place)
        check_in_area(session, scope, place.ewkt, "place")
        _set_place(action, place)
    session.flush()
    return was


def delete_action(session: Session, scope: TeamScope, action_id: int) -> dict[str, Any]:
    """Delete the team's action; return what it was (for the audit)."""
    action = own_action(session, scope, action_id)
    was = {"title": action.title, "kind": action.kind, "started_on": _plain(action.started_on)}
    session.delete(action)
    session.flush()
    return was


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def list_actions(session: Session, scope: TeamScope) -> list[dict[str, Any]]:
    """The team's actions, newest first, with their place as GeoJSON."""
    rows = session.execute(
        sa.select(TeamAction, sa.func.ST_AsGeoJSON(TeamAction.geom, 6).label("geometry"))
        .where(TeamAction.team_id == scope.team_id)
        .order_by(TeamAction.started_on.desc(), TeamAction.id.desc())
    )
    return [action_to_json(action, geometry) for action, geometry in rows]


def action_to_json(action: TeamAction, geometry: str | None = None) -> dict[str, Any]:
    """An action as the API shows it (`geometry` is GeoJSON text, kept as text)."""
    dosage = (
        {"amount": action.dosage_amount, "unit": action.dosage_unit}
        if action.dosage_amount is not None
        else None
    )
    return {
        "id": action.id,
        "title": action.title,
        "kind": action.kind,
        "started_on": action.started_on.isoformat(),
        "ended_on": action.ended_on.isoformat() if action.ended_on else None,
        "dosage": dosage,
        "place": {
            "kind": action.place_kind,
            **(action.place_ref or {}),
            "radius_m": action.radius_m,
        },  # fmt: skip
        "geometry": geometry,
        "public": action.public,
        "public_title": action.public_title,
        "public_text": action.public_text,
        "public_status": action.public_status,
    }
