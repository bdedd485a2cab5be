"""Floors for the ingest benchmark: what the required framework parts cost before our work.

- `app`: Flask + pydantic + the bare insert. The same plain-psycopg insert as `bare_app`,
  behind a Flask view that validates the body with the real ReportIn model and answers with
  jsonify: what the framework alone costs per report, before snapping, cells, SQLAlchemy,
  limits and security headers.
- `limited_app`: the same, plus the abuse limits exactly as the service configures them
  (`streetsafe.limits.init_app`: Flask-Limiter, moving window on Redis, keyed hash of the
  client address). Issue 4 requires Flask-Limiter on Redis for every report, so this is the
  ceiling for the full pipeline on the same machine.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Flask, jsonify, request

from benchmarks.bare_app import _SQL, _connection
from streetsafe import limits
from streetsafe.config import Settings
from streetsafe.reports.schema import ReportIn


def create_report():  # noqa: ANN201
    """Validate, insert one row, 201 with its id."""
    report_in = ReportIn.model_validate_json(request.get_data())
    location = report_in.location
    report_id = uuid.uuid4()
    _connection().execute(_SQL, (report_id, report_in.context, report_in.categories,
                                 location.lon if location else 0.0,
                                 location.lat if location else 0.0))
    return jsonify({"id": str(report_id)}), 201


def _floor(limited: bool) -> Flask:
    floor = Flask(__name__)
    # Named like the service's view, so that the limits apply to it as they do there.
    public = Blueprint("public", __name__)
    public.post("/api/v1/reports")(create_report)
    floor.register_blueprint(public)
    if limited:
        limits.init_app(floor, Settings.from_env())
    return floor


app = _floor(limited=False)
limited_app = _floor(limited=True)
