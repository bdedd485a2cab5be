"""A table of bad reports: each gets a 4xx naming the field, and nothing is stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.transit_fixture import LAT

GOOD = {"context": "street", "location": {"lat": LAT, "lon": -1.39}, "categories": ["badly_lit"]}


def _with(**changes) -> dict:
    body = json.loads(json.dumps(GOOD))
    for dotted, value in changes.items():
        target = body
        *parents, last = dotted.split("__")
        for part in parents:
            target = target.setdefault(part, {})
        if value is _DROP:
            target.pop(last)
        else:
            target[last] = value
    return body


_DROP = object()
_NOW = datetime.now(UTC)
_RAW_GOOD = json.dumps(GOOD)

# (label, request kwargs, status, field)
CASES = [
    ("no context", {"json": _with(context=_DROP)}, 400, "context"),
    ("unknown context", {"json": _with(context="bus")}, 400, "context"),
    ("context not a string", {"json": _with(context=5)}, 400, "context"),
    ("lat as string", {"json": _with(location__lat="50.9")}, 400, "location.lat"),
    ("lat > 90", {"json": _with(location__lat=90.5)}, 400, "location.lat"),
    ("lat < -90", {"json": _with(location__lat=-91)}, 400, "location.lat"),
    ("lon > 180", {"json": _with(location__lon=180.01)}, 400, "location.lon"),
    ("lat NaN", {"data": _RAW_GOOD.replace(f'"lat": {LAT}', '"lat": NaN')}, 400, "location.lat"),
    ("lon Infinity", {"data": _RAW_GOOD.replace('"lon": -1.39', '"lon": -Infinity')}, 400,
     "location.lon"),
    ("lat overflows", {"data": _RAW_GOOD.replace(f'"lat": {LAT}', '"lat": 1e400')}, 400,
     "location.lat"),
    ("lat boolean", {"json": _with(location__lat=True)}, 400, "location.lat"),
    ("lon missing", {"json": _with(location__lon=_DROP)}, 400, "location.lon"),
    ("location a list", {"json": _with(location=[LAT, -1.39])}, 400, "location"),
    ("no location nor stop", {"json": _with(location=_DROP)}, 400, "location"),
    ("unknown top-level field", {"json": _with(ip="10.0.0.1")}, 400, "ip"),
    ("unknown location field", {"json": _with(location__alt=3)}, 400, "location.alt"),
    ("unknown transit field", {"json": _with(transit__line="7")}, 400, "transit.line"),
    ("no categories", {"json": _with(categories=[])}, 400, "categories"),
    ("seven categories", {"json": _with(categories=["no_cctv", "badly_lit", "isolated",
     "poor_layout", "rundown", "followed", "other"])}, 400, "categories"),
    ("unknown category", {"json": _with(categories=["badly_lit", "ufo"])}, 400, "categories.1"),
    ("repeated category", {"json": _with(categories=["other", "other"])}, 400, "categories.1"),
    ("categories a string", {"json": _with(categories="badly_lit")}, 400, "categories"),
    ("category a number", {"json": _with(categories=[3])}, 400, "categories.0"),
    ("occurred in the future", {"json": _with(
        occurred_at=(_NOW + timedelta(hours=1)).isoformat())}, 400, "occurred_at"),
    ("occurred too long ago", {"json": _with(
        occurred_at=(_NOW - timedelta(days=367)).isoformat())}, 400, "occurred_at"),
    ("occurred_at without zone", {"json": _with(occurred_at="2026-01-01T22:30:00")}, 400,
     "occurred_at"),
    ("occurred_at not a time", {"json": _with(occurred_at="yesterday")}, 400, "occurred_at"),
    ("description too long", {"json": _with(description="x" * 1001)}, 400, "description"),
    ("description a number", {"json": _with(description=5)}, 400, "description"),
    ("unknown mode", {"json": _with(transit__mode="rocket")}, 400, "transit.mode"),
    ("empty stop id", {"json": _with(context="at_stop", transit__stop_id="")}, 400,
     "transit.stop_id"),
    ("route on a street report", {"json": _with(transit__route_id="test:R7")}, 400,
     "transit.route_id"),
    ("unknown stop", {"json": _with(context="at_stop", transit__stop_id="test:nope")}, 422,
     "transit.stop_id"),
    ("injection as stop id", {"json": _with(
        context="at_stop", transit__stop_id="x'; DROP TABLE reports; --")}, 422,
     "transit.stop_id"),
    ("unknown route", {"json": _with(context="on_vehicle", transit__route_id="test:R99")}, 422,
     "transit.route_id"),
    ("no stop in reach", {"json": _with(context="at_stop", location__lat=50.95)}, 422,
     "location"),
    ("no route in reach", {"json": _with(context="on_vehicle", location__lat=50.95)}, 422,
     "location"),
    ("no tram route in reach", {"json": _with(context="on_vehicle", transit__mode="tram")}, 422,
     "location"),
    ("named route too far", {"json": _with(context="on_vehicle", location__lat=51.0,
     transit__route_id="test:R7")}, 422, "location"),
    ("oversize body", {"json": _with(padding="x" * 17000)}, 413, None),
    ("text/plain", {"data": _RAW_GOOD, "content_type": "text/plain"}, 415, "Content-Type"),
    ("form encoded", {"data": {"context": "street"}}, 415, "Content-Type"),
    ("invalid JSON", {"data": "{bad", "content_type": "application/json"}, 400, None),
    ("JSON array", {"json": [GOOD]}, 400, None),
    ("JSON null", {"data": "null", "content_type": "application/json"}, 400, None),
    ("empty body", {"data": "", "content_type": "application/json"}, 400, None),
    ("empty idempotency key", {"json": GOOD, "headers": {"Idempotency-Key": ""}}, 400,
     "Idempotency-Key"),
    ("idempotency key too long", {"json": GOOD, "headers": {"Idempotency-Key": "k" * 256}}, 400,
     "Idempotency-Key"),
]


@pytest.mark.parametrize("kwargs, status, field", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_report_is_rejected_naming_the_field_and_stores_nothing(
    client, small_feed, intake_rows, kwargs, status, field
):
    kwargs = dict(kwargs)
    if "data" in kwargs and "content_type" not in kwargs and isinstance(kwargs["data"], str):
        kwargs["content_type"] = "application/json"
    before = intake_rows()
    response = client.post("/api/v1/reports", **kwargs)
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body) == {"error", "message", "field"}
    assert body["field"] == field
    assert body["message"]
    assert intake_rows() == before


def test_table_has_at_least_thirty_cases():
    assert len(CASES) >= 30


def test_injection_strings_are_stored_verbatim_and_not_executed(
    client, small_feed, connection
):
    text = "Robert'); DROP TABLE reports; -- <script>alert(1)</script> \u202e"
    response = client.post("/api/v1/reports", json=_with(description=text))
    assert response.status_code == 201
    report_id = response.get_json()["id"]
    stored = connection.scalar(
        sa.text("SELECT body FROM report_descriptions WHERE report_id = :id"), {"id": report_id}
    )
    assert stored == text
    assert connection.scalar(sa.text("SELECT count(*) FROM reports")) >= 1
