"""Report submission as a pipeline: parse (schema) -> snap -> cells -> store.

`submit_report` is what the view, the demo seeder and the benchmark call; it takes a session
and plain values, never the request. Nothing about the sender is ever passed in.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config import Settings
from ..db import autocommit
from ..errors import Unprocessable
from . import idempotency
from .cells import int_to_cell
from .contexts import Snap
from .schema import Intake, Receipt, ReportIn
from .snapping import SnappedRoute, SnappedStop
from .store import ReportRow, store_reports
from .writer import BatchWriter


@dataclass(frozen=True)
class Submission:
    """The response to give: status and body, and whether it replays an earlier one."""

    status: int
    body: dict[str, Any]
    replayed: bool = False

    @property
    def report_id(self) -> str:
        """The report's id (for the Location header)."""
        return str(self.body["id"])


def submit_report(
    session: Session,
    report_in: ReportIn,
    settings: Settings,
    idempotency_key: str | None = None,
    synthetic: bool = False,
    writer: BatchWriter | None = None,
) -> Submission:
    """Snap, store and commit a report; with an idempotency key, at most once per key.

    With a `writer` on the session's own engine, the report joins a batch shared with
    concurrent requests (group commit, reports/writer.py); otherwise it is submitted on the
    session, as a batch of one. Raises what refused it (422, or the database's error).
    """
    intake = Intake(report_in, idempotency_key)
    if writer is not None and session.bind is writer.engine and not synthetic:
        session.close()  # nothing to do on it: the writer has its own connection
        result = writer.submit(intake)
    else:
        if idempotency_key is None:
            autocommit(session)  # snapping only reads; the report is one INSERT
        try:
            (result,) = submit_batch(session.connection(), [intake], settings, synthetic)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    if isinstance(result, BaseException):
        raise result
    return result


def submit_batch(
    connection: sa.Connection,
    intakes: Sequence[Intake],
    settings: Settings,
    synthetic: bool = False,
) -> list[Submission | Unprocessable]:
    """Claim keys, snap, store and record responses for many reports, in the connection's
    transaction (autocommit is fine when none has a key): each one's response or refusal.

    A key sent twice in the batch is claimed once; the later request gets what a retry after
    the first would get (its response replayed, or the same refusal).
    """
    results: list[Submission | Unprocessable | None] = [None] * len(intakes)
    hashed = [_hashed(intake) for intake in intakes]
    first: dict[str, int] = {}
    for i, pair in enumerate(hashed):
        if pair is not None:
            first.setdefault(pair[0], i)
    claims = idempotency.claim(
        connection, {key: hashed[i][1] for key, i in first.items()}, settings.idempotency_ttl_hours
    ) if first else {}  # fmt: skip
    for key, i in first.items():
        claim = claims[key]
        if isinstance(claim, idempotency.StoredResponse):
            results[i] = Submission(claim.status, claim.body, replayed=True)
        elif claim is not None:
            results[i] = claim
    fresh = [i for i, intake in enumerate(intakes) if results[i] is None and
             (hashed[i] is None or first[hashed[i][0]] == i)]  # fmt: skip
    stored = store_reports(connection, [intakes[i].report for i in fresh], settings, synthetic)
    responses: dict[str, tuple[int, dict[str, Any]]] = {}
    refused_keys = []
    for i, row in zip(fresh, stored, strict=True):
        if isinstance(row, Unprocessable):
            results[i] = row
            if hashed[i] is not None:
                refused_keys.append(hashed[i][0])
            continue
        results[i] = Submission(201, receipt_body(row))
        if hashed[i] is not None:
            responses[hashed[i][0]] = (201, results[i].body)
    idempotency.release(connection, refused_keys)
    idempotency.record(connection, responses)
    for i, pair in enumerate(hashed):  # repeats of a key within the batch
        if results[i] is None and pair is not None:
            results[i] = _as_retry(results[first[pair[0]]], pair[1] == hashed[first[pair[0]]][1])
    return results  # type: ignore[return-value]


def _hashed(intake: Intake) -> tuple[str, str] | None:
    """(key hash, request hash) of a keyed intake."""
    if intake.key is None:
        return None
    payload = intake.report.model_dump(mode="json")
    return idempotency.key_hash(intake.key), idempotency.request_hash(payload)


def _as_retry(
    first: Submission | Unprocessable | None, same_body: bool
) -> Submission | Unprocessable:
    """What a retry of `first` with the same key gets."""
    if isinstance(first, Submission):
        if not same_body:
            return idempotency.mismatch()
        return Submission(first.status, first.body, replayed=True)
    assert first is not None
    return first


def receipt_body(row: ReportRow) -> dict[str, Any]:
    """The receipt of a stored row, as JSON-ready data."""
    snap = Snap(row.lon, row.lat, row.stop, row.route, row.mode)
    receipt = _receipt_dict(row.id, row.context, row.occurred_at, row.categories, snap, row.cells)
    return Receipt.model_validate(receipt).model_dump(mode="json")


def receipt_code(report_id: uuid.UUID) -> str:
    """A short code to quote (first 8 base32 characters of the id)."""
    return base64.b32encode(report_id.bytes)[:8].decode()


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _receipt_dict(
    report_id: uuid.UUID,
    context: str,
    occurred_at: datetime,
    categories: list[str],
    snap: Snap,
    cells: dict[int, str],
) -> dict[str, Any]:
    stop, route = snap.stop, snap.route
    return {
        "id": str(report_id),
        "receipt_code": receipt_code(report_id),
        "context": context,
        "occurred_at": occurred_at,
        "categories": categories,
        "snapped": {
            "point": {"lat": round(snap.lat, 7), "lon": round(snap.lon, 7)},
            "stop": None
            if stop is None
            else {"id": stop.public_id, "name": stop.name, "distance_m": _round(stop.distance_m)},
            "route": None
            if route is None
            else {
                "id": route.public_id,
                "short_name": route.short_name,
                "direction": route.direction,
                "between": [route.between[0][1], route.between[1][1]] if route.between else None,
                "along_m": _round(route.along_m),
                "distance_m": _round(route.distance_m),
            },
        },
        "cells": {str(res): cell for res, cell in cells.items()},
    }


_LOAD_SQL = sa.text("""
SELECT r.id, r.context, r.occurred_at, r.categories, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat,
       r.mode, r.stop_public_id, r.stop_name, r.stop_distance_m,
       r.route_public_id, r.route_short_name, r.route_direction,
       r.segment_from_public_id, r.segment_from_name, r.segment_to_public_id, r.segment_to_name,
       r.along_m, r.route_distance_m,
       ARRAY(SELECT c.res FROM report_cells c WHERE c.report_id = r.id ORDER BY c.res) AS res,
       ARRAY(SELECT c.cell FROM report_cells c WHERE c.report_id = r.id ORDER BY c.res) AS cells
FROM reports r WHERE r.id = :id
""")


def load_receipt(session: Session, report_id: uuid.UUID) -> Receipt | None:
    """The receipt of a stored report (never its description), or None."""
    row = session.execute(_LOAD_SQL, {"id": report_id}).one_or_none()
    if row is None:
        return None
    stop = None
    if row.stop_public_id is not None:
        stop = SnappedStop(0, row.stop_public_id, row.stop_name, None, 0, 0, row.stop_distance_m)
    route = None
    if row.route_public_id is not None:
        between = None
        if row.segment_from_public_id is not None:
            between = (
                (row.segment_from_public_id, row.segment_from_name),
                (row.segment_to_public_id, row.segment_to_name),
            )
        route = SnappedRoute(
            0,
            row.route_public_id,
            row.route_short_name,
            row.mode or "",
            row.route_direction,
            row.lon,
            row.lat,
            row.along_m,
            row.route_distance_m,
            between,
        )
    snap = Snap(row.lon, row.lat, stop, route, row.mode)
    cells = {res: int_to_cell(cell) for res, cell in zip(row.res, row.cells, strict=True)}
    return Receipt.model_validate(
        _receipt_dict(row.id, row.context, row.occurred_at, list(row.categories), snap, cells)
    )
