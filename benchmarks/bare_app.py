"""The baseline for the ingest benchmark: parse JSON, insert one report row with plain psycopg.

No validation, no snapping, no cells, no limits: the least a WSGI endpoint can do per report.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

_local = threading.local()
_SQL = (
    "INSERT INTO reports (id, context, categories, occurred_at, geom) "
    "VALUES (%s, %s, %s, now(), ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
)


def _connection() -> psycopg.Connection:
    if getattr(_local, "connection", None) is None:
        url = os.environ["BARE_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        _local.connection = psycopg.connect(url, autocommit=True)
    return _local.connection


def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """POST a report body; 201 with its id."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length))
    location = body.get("location") or {"lat": 0.0, "lon": 0.0}
    report_id = uuid.uuid4()
    _connection().execute(
        _SQL, (report_id, body["context"], body["categories"], location["lon"], location["lat"])
    )
    payload = json.dumps({"id": str(report_id)}).encode()
    start_response("201 Created", [("Content-Type", "application/json"),
                                   ("Content-Length", str(len(payload)))])
    return [payload]
