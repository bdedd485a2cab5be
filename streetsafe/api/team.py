"""The team API under /api/v1/team: scoped to the caller's neighbourhoods, every call audited."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from ..current import current_settings
from ..db import db_session
from ..hotspots.formats import Download, check_format
from ..team import (
    actions,
    areas,
    audit,
    impact,
    insights,
    layers,
    moderation,
    programme,
    publishing,
)
from ..team.action_schema import ActionIn, ActionPatch
from ..team.auth import require_scope
from ..team.service import TeamScope
from ..validation import IsoDate
from .downloads import download_response
from .parsing import parse_json, parse_query

bp = Blueprint("team_api", __name__, url_prefix="/api/v1/team")


def audited(action: str, role: str = "team") -> Callable:
    """Authenticate the caller (of `role`, see require_scope), run the view, audit it, commit."""

    def decorate(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> ResponseReturnValue:
            scope = require_scope(role)
            result = view(scope, **kwargs)
            detail = {"path": request.path, "filters": request.args.to_dict(flat=False)}
            detail.update(g.get("audit_detail", {}))
            audit.record(db_session(), scope.team_id, action, detail)
            db_session().commit()
            return result

        return wrapper

    return decorate


def note(**detail: Any) -> None:
    """Add facts to this call's audit event (a place, a decision, a download format)."""
    g.audit_detail = {**g.get("audit_detail", {}), **detail}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class InsightsQuery(_Strict):
    neighbourhood: str | None = None
    until: IsoDate | None = None
    days: int = Field(28, ge=7, le=366)


class ImpactQuery(_Strict):
    weeks: int = Field(12, ge=2, le=52)
    buffer_m: float | None = Field(None, gt=0, le=5000, allow_inf_nan=False)
    control: str = Field("auto", min_length=1, max_length=64)
    format: str = Field("json", pattern="^(json|csv)$")


class ModerationQuery(_Strict):
    status: str = Field("pending", pattern="^(pending|approved|rejected)$")


class DecisionIn(_Strict):
    decision: str = Field(pattern="^(approve|reject)$")


@bp.get("/me")
@audited("me", role="any")
def me(scope: TeamScope) -> ResponseReturnValue:
    """Who is signed in and which neighbourhoods they look after."""
    return jsonify(team=scope.name, neighbourhoods=list(scope.neighbourhood_codes))


class ProgrammeQuery(_Strict):
    until: IsoDate | None = None
    weeks: int = Field(12, ge=4, le=52)
    format: str = Field("json", pattern="^(json|csv)$")


@bp.get("/programme")
@audited("programme", role="programme")
def get_programme(scope: TeamScope) -> ResponseReturnValue:
    """Every area's disclosure-controlled aggregates for the programme board (JSON or CSV)."""
    query = parse_query(ProgrammeQuery, request.args)
    note(format=query.format)
    session = db_session()
    until = query.until or insights.local_today(session)
    view = programme.overview(session, current_settings(), until, query.weeks)
    name = f"streetsafe-programme-{until.isoformat()}.csv"
    return _json_or_csv(query.format, view, programme.overview_to_csv, name)


def _json_or_csv(
    fmt: str, view: dict[str, Any], to_csv: Callable[[dict[str, Any]], str], name: str
) -> ResponseReturnValue:
    """The view as JSON, or as a CSV download named `name`."""
    if fmt == "json":
        return jsonify(view)
    return download_response(Download(to_csv(view).encode(), "text/csv", name, {}))


@bp.get("/insights")
@audited("insights")
def get_insights(scope: TeamScope) -> ResponseReturnValue:
    """Period summary, 52-week trend and category breakdown for the team's area."""
    query = parse_query(InsightsQuery, request.args)
    ids = scope.ids_for(query.neighbourhood)
    session = db_session()
    until = query.until or insights.local_today(session)
    summary = insights.period_summary(session, ids, until, query.days)
    since = date.fromisoformat(summary["period"]["from"])
    return jsonify(
        summary=summary,
        trend=insights.weekly_trend(session, ids, until),
        categories=insights.category_breakdown(session, ids, since, until),
    )


@bp.get("/actions")
@audited("actions")
def get_actions(scope: TeamScope) -> ResponseReturnValue:
    """The team's recorded actions, each with its verdict."""
    return jsonify(actions=impact.actions_with_verdicts(db_session(), scope))


@bp.post("/actions")
@audited("action_created")
def post_action(scope: TeamScope) -> ResponseReturnValue:
    """Record an action: its kind, dates, dosage and place."""
    body = parse_json(ActionIn, request.get_json(silent=True))
    action = actions.record_action(db_session(), scope, body)
    facts = body.model_dump(mode="json", include={"kind", "started_on", "ended_on", "dosage",
                                                  "public", "public_title"})  # fmt: skip
    note(action_id=action.id, title=action.title, **_place_note(body), **facts)
    return jsonify(id=action.id), 201


def _place_note(body: ActionIn) -> dict[str, Any]:
    """The place for the audit: the older body's lon, lat and radius, or the place given."""
    place = body.the_place().model_dump(mode="json")
    if place["type"] == "circle":
        return {"lon": place["lon"], "lat": place["lat"], "radius_m": place["radius_m"]}
    return {"place": place}


@bp.patch("/actions/<int:action_id>")
@audited("action_updated")
def patch_action(scope: TeamScope, action_id: int) -> ResponseReturnValue:
    """Change some fields of one of the team's actions."""
    patch = parse_json(ActionPatch, request.get_json(silent=True))
    was = actions.update_action(db_session(), scope, action_id, patch)
    note(action_id=action_id, was=was,
         changed=patch.model_dump(mode="json", include=patch.model_fields_set))  # fmt: skip
    return jsonify(id=action_id)


@bp.delete("/actions/<int:action_id>")
@audited("action_deleted")
def delete_action(scope: TeamScope, action_id: int) -> ResponseReturnValue:
    """Delete one of the team's actions."""
    was = actions.delete_action(db_session(), scope, action_id)
    note(action_id=action_id, was=was)
    return "", 204


@bp.get("/actions/<int:action_id>/impact")
@audited("action_impact")
def get_impact(scope: TeamScope, action_id: int) -> ResponseReturnValue:
    """The action's response, buffer and control series, WDD, WDQ, rate ratio and verdict."""
    query = parse_query(ImpactQuery, request.args)
    note(action_id=action_id, format=query.format)
    result = impact.impact(
        db_session(), scope, action_id, None, query.weeks, query.buffer_m, query.control
    )
    name = f"streetsafe-action-{action_id}-evaluation.csv"
    return _json_or_csv(query.format, result, impact.impact_to_csv, name)


@bp.post("/actions/<int:action_id>/publication")
@audited("action_publication")
def post_publication(scope: TeamScope, action_id: int) -> ResponseReturnValue:
    """Approve or reject the public text of one of the team's public actions."""
    body = parse_json(DecisionIn, request.get_json(silent=True))
    status = publishing.decide_publication(db_session(), scope, action_id, body.decision)
    note(action_id=action_id, decision=body.decision)
    return jsonify(action_id=action_id, public_status=status)


@bp.get("/moderation")
@audited("moderation_queue")
def get_queue(scope: TeamScope) -> ResponseReturnValue:
    """Descriptions waiting for a decision (scrubbed of contact details), and the public
    texts of the team's actions waiting for one (`actions`, pending only)."""
    query = parse_query(ModerationQuery, request.args)
    note(status=query.status)
    session = db_session()
    return jsonify(items=moderation.queue(session, scope, query.status),
                   actions=publishing.awaiting_approval(session, scope))  # fmt: skip


@bp.post("/moderation/<report_id>")
@audited("moderation_decision")
def post_decision(scope: TeamScope, report_id: str) -> ResponseReturnValue:
    """Approve or reject one description."""
    body = parse_json(DecisionIn, request.get_json(silent=True))
    status = moderation.decide(db_session(), scope, report_id, body.decision)
    note(report_id=report_id, decision=body.decision)
    return jsonify(report_id=report_id, status=status)


@bp.get("/audit")
@audited("audit")
def get_audit(scope: TeamScope) -> ResponseReturnValue:
    """The team's own audit trail, newest first."""
    return jsonify(events=audit.events(db_session(), scope.team_id, limit=200))


@bp.get("/neighbourhoods")
@audited("neighbourhoods")
def get_neighbourhoods(scope: TeamScope) -> ResponseReturnValue:
    """The team's neighbourhood polygons as a GeoJSON FeatureCollection."""
    return jsonify(areas.team_areas(db_session(), scope))


def _format() -> str:
    fmt = str(check_format(request.args.get("format", "geojson")))
    note(format=fmt, download="format" in request.args)  # without one: the dashboard's view
    return fmt


def _send(download: Download) -> ResponseReturnValue:
    """The download, never kept by a cache (a team's data)."""
    response = download_response(download)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/hotspots/<any(cells, stops, 'route-segments'):layer>")
@audited("hotspots")
def get_hotspots(scope: TeamScope, layer: str) -> ResponseReturnValue:
    """A hotspot layer of the team's area with exact counts (cells carry Gi*)."""
    fmt = _format()
    note(layer=layer)
    filters = layers.team_filters(request.args, scope)
    download = layers.render_layer(db_session(), layer, filters, fmt, current_settings())
    return _send(download)


@bp.get("/reports")
@audited("reports")
def get_reports(scope: TeamScope) -> ResponseReturnValue:
    """Individual reports of the team's area (approved descriptions only), newest first."""
    fmt = _format()
    filters = layers.team_filters(request.args, scope)
    return _send(layers.render_reports(db_session(), filters, fmt, current_settings()))
