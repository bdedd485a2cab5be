"""A floor for the ingest benchmark: Flask + pydantic + the bare insert, nothing else.

The same plain-psycopg insert as `bare_app`, behind a Flask view that validates the body with
the real ReportIn model and answers with jsonify: what the framework alone costs per report,
before snapping, cells, SQLAlchemy, limits and security headers.
"""

from __future__ import annotations

import uuid

from flask import Flask, jsonify, request

from benchmarks.bare_app import _SQL, _connection
from streetsafe.reports.schema import ReportIn

app = Flask(__name__)


@app.post("/api/v1/reports")
def create_report():  # noqa: ANN201
    """Validate, insert one row, 201 with its id."""
    report_in = ReportIn.model_validate_json(request.get_data())
    location = report_in.location
    report_id = uuid.uuid4()
    _connection().execute(_SQL, (report_id, report_in.context, report_in.categories,
                                 location.lon if location else 0.0,
                                 location.lat if location else 0.0))
    return jsonify({"id": str(report_id)}), 201
