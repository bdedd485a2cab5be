"""Liveness and readiness probes."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from ..db import get_database
from ..migrate import current_revision, head_revision

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is alive (no dependencies checked)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """Database reachable, PostGIS present, schema at the migration head: 200; otherwise 503."""
    problem = readiness_problem(get_database().engine)
    if problem:
        response = jsonify(status="unavailable", reason=problem)
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response
    # Redis holds only the abuse limits: while it is away reports are still taken (limits
    # count per worker), so the instance stays ready and says so.
    watch = current_app.extensions.get("streetsafe.redis_watch")
    redis_state = "off" if watch is None else "ok" if watch.up(max_age_s=0) else "unavailable"
    return jsonify(status="ready", revision=head_revision(), redis=redis_state)


def readiness_problem(engine: sa.Engine) -> str | None:
    """Why the service cannot serve yet, or None when it can."""
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            has_postgis = connection.scalar(
                sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'")
            )
            if not has_postgis:
                return "the PostGIS extension is not installed in the database"
            at = current_revision(connection)
    except sa.exc.SQLAlchemyError as exc:
        return f"database unreachable: {type(exc.orig or exc).__name__}"
    head = head_revision()
    if at != head:
        return f"schema at revision {at or 'none'}, expected {head}: run 'streetsafe db upgrade'"
    return None
