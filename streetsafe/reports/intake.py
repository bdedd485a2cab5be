"""Report intake, read top to bottom: parse -> claim keys -> snap -> cells -> insert -> receipts.

`submit_batch` is the pipeline; each step below is a named function taking the previous
step's value and never converting back:

1. `parse_report`: a JSON body as a `ReportIn` (schema.py), or a 400 naming the field.
2. `claim_keys`: the batch's Idempotency-Keys claimed in one statement (idempotency.py);
   a key already answered is replayed, and only the rest goes on.
3. `snap_reports` (snapping.py): each report tied to a stop and/or a route by its context,
   a `Snap`, or the 422 that refuses it.
4. `to_rows`: a `ReportRow` for each snapped report: a new id, the hour, its H3 cells.
5. `insert_reports`: every row, its cells and description in one INSERT; the hotspot
   rollups follow through the tables' statement-level triggers in the same statement.
6. `receipts`: each row's `Receipt` with the receipt code the database made for it
   (receipt_codes.py), recorded against its key (`record_keys`).

`submit_report` is what the view calls: on the app's group-commit writer (writer.py, made by
`init_app`) the report joins whatever batch concurrent requests form; otherwise it is a batch
of one on the caller's session. `streetsafe reports load` (load.py) runs the same steps on
batches of thousands of lines. Nothing about the sender is ever passed in.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from pydantic import ValidationError
from sqlalchemy.orm import Session

from ..api.parsing import invalid_from
from ..config import Settings
from ..db import autocommit, driver_rows, get_database
from ..errors import Unprocessable
from . import idempotency
from .cells import cell_to_int, int_to_cell, point_to_cells
from .receipt_codes import grouped
from .schema import Intake, PointOut, Receipt, ReportIn, RouteOut, SnappedOut, StopOut
from .snapping import Snap, snap_reports
from .writer import BatchWriter

_WRITER = "streetsafe.report_writer"


@dataclass(frozen=True)
class Submission:
    """The response to give: status and body, and whether it replays an earlier one."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class ReportRow:
    """Everything stored for one report: what was sent, where it snapped, its cells."""

    id: uuid.UUID
    context: str
    categories: list[str]
    occurred_at: datetime
    snap: Snap
    cells: dict[int, str]
    description: str | None
    synthetic: bool = False
    source: str | None = None  # NULL for public intake; `reports load --source NAME` sets it


Outcome = Submission | Unprocessable


def init_app(app: Flask, settings: Settings) -> None:
    """Give the app its report writer: group commit on the app's engine, one per worker."""
    engine = get_database(app).engine
    process = partial(submit_batch, settings=settings)
    app.extensions[_WRITER] = BatchWriter(engine, process,
                                          always_transaction=settings.queues_reports)  # fmt: skip


def report_writer(app: Flask | None = None) -> BatchWriter:
    """The app's report writer (made by init_app)."""
    return (app or current_app).extensions[_WRITER]


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
    concurrent requests (group commit, writer.py); otherwise it is submitted on the session,
    as a batch of one. Raises what refused it (422, or the database's error).
    """
    intake = Intake(report_in, idempotency_key)
    if writer is not None and session.bind is writer.engine and not synthetic:
        session.close()  # nothing to do on it: the writer has its own connection
        result = writer.submit(intake)
    else:
        if idempotency_key is None and not settings.queues_reports:
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
) -> list[Outcome]:
    """The pipeline for many reports, in the connection's transaction (autocommit is fine
    when none has a key): each one's response or refusal, in order."""
    claims = claim_keys(connection, intakes, settings)
    reports = [intakes[i].report for i in claims.fresh]
    rows = to_rows(reports, snap_reports(connection, reports, settings), settings, synthetic)
    codes = insert_reports(connection, rows, queued=settings.queues_reports)
    outcomes = receipts(rows, codes)
    record_keys(connection, claims, outcomes)
    return claims.answers(outcomes)


# 1. Parse.


def parse_report(body: bytes | str) -> ReportIn:
    """A report's JSON body as a ReportIn (strict); an InvalidRequest naming the field."""
    try:
        return ReportIn.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_from(exc) from None


# 2. Claim idempotency keys.


@dataclass(frozen=True)
class Claims:
    """A batch's keys once claimed: the answers already given, and the intakes to store."""

    hashed: list[tuple[str, str] | None]  # (key hash, request hash) of each keyed intake
    first: dict[str, int]  # key hash -> the first intake in the batch that sent it
    decided: dict[int, Outcome]  # replays of earlier responses, and keys reused wrongly
    fresh: list[int]  # the intakes to snap and store, in order

    def answers(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """Every intake's answer, given the fresh ones' outcomes.

        A key sent twice in the batch is claimed once; the later request gets what a retry
        after the first would get (its response replayed, or the same refusal).
        """
        results = self.decided | dict(zip(self.fresh, outcomes, strict=True))
        for i, pair in enumerate(self.hashed):
            if i not in results:
                assert pair is not None  # only a repeated key is neither decided nor fresh
                first = self.first[pair[0]]  # same key, so the same body if the same pair
                results[i] = _as_retry(results[first], pair == self.hashed[first])
        return [results[i] for i in range(len(self.hashed))]


def claim_keys(connection: sa.Connection, intakes: Sequence[Intake], settings: Settings) -> Claims:
    """Claim the batch's keys in one statement (each key once) and decide the replays."""
    hashed = [_hashed(intake) for intake in intakes]
    first: dict[str, int] = {}
    requests: dict[str, str] = {}  # key hash -> request hash, of the first to send the key
    for i, pair in enumerate(hashed):
        if pair is not None and pair[0] not in first:
            first[pair[0]], requests[pair[0]] = i, pair[1]
    claimed = (
        idempotency.claim(connection, requests, settings.idempotency_ttl_hours) if first else {}
    )
    decided: dict[int, Outcome] = {}
    for key, i in first.items():
        claim = claimed[key]
        if isinstance(claim, idempotency.StoredResponse):
            decided[i] = Submission(claim.status, claim.body, replayed=True)
        elif claim is not None:
            decided[i] = claim
    fresh = [i for i, pair in enumerate(hashed)
             if i not in decided and (pair is None or first[pair[0]] == i)]  # fmt: skip
    return Claims(hashed, first, decided, fresh)


def _hashed(intake: Intake) -> tuple[str, str] | None:
    """(key hash, request hash) of a keyed intake."""
    if intake.key is None:
        return None
    payload = intake.report.model_dump(mode="json")
    return idempotency.key_hash(intake.key), idempotency.request_hash(payload)


def _as_retry(first: Outcome, same_body: bool) -> Outcome:
    """What a retry of `first` with the same key gets."""
    if isinstance(first, Submission):
        if not same_body:
            return idempotency.mismatch()
        return Submission(first.status, first.body, replayed=True)
    return first


# 3. Snap: snapping.snap_reports. 4. Cells.


def to_rows(
    reports: Sequence[ReportIn],
    snaps: Sequence[Snap | Unprocessable],
    settings: Settings,
    synthetic: bool = False,
    source: str | None = None,
) -> list[ReportRow | Unprocessable]:
    """Each snapped report as the row to store; a refused one stays its refusal."""
    return [
        snap if isinstance(snap, Unprocessable)
        else to_row(report_in, snap, settings, synthetic, source)
        for report_in, snap in zip(reports, snaps, strict=True)
    ]  # fmt: skip


def to_row(
    report_in: ReportIn,
    snap: Snap,
    settings: Settings,
    synthetic: bool = False,
    source: str | None = None,
) -> ReportRow:
    """The row to store for a snapped report, with a new id and its H3 cells."""
    return ReportRow(
        id=uuid.uuid4(),
        context=report_in.context,
        categories=report_in.categories,
        occurred_at=to_hour(report_in.occurred_at or datetime.now(UTC)),
        snap=snap,
        cells=point_to_cells(snap.lon, snap.lat, settings.h3_resolutions),
        description=report_in.description or None,
        synthetic=synthetic,
        source=source,
    )


def to_hour(moment: datetime) -> datetime:
    """The UTC hour a moment falls in: no reporter-side time finer than the hour is stored.

    Local hours follow from it wherever the zone's offset is a whole number of hours (all of
    the UK); the database refuses anything finer (migration 0012).
    """
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


# 5. Insert.

_POINT = "ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326)"

# Reports travel as one JSON document, so storing eight costs one statement, one trigger run
# and one commit instead of eight of each. Inserts from different workers run side by side:
# the triggers take their row locks in key order (migration 0009), so two inserts touching
# the same rollup rows wait for each other but never deadlock.
# The smallest neighbourhood covering each point: the geodesic area of a borough-sized
# polygon costs about 1 ms, so it is computed only to choose between several covering ones.
_INSERT_SQL = sa.text(f"""
WITH input AS (
    SELECT i.* FROM jsonb_to_recordset(CAST(:reports AS jsonb)) AS i(
        id uuid, context text, categories varchar[], occurred_at timestamptz, lon float8,
        lat float8, mode text, stop_id integer, stop_public_id text, stop_name text,
        stop_distance_m float8, route_id integer, route_public_id text, route_short_name text,
        route_direction smallint, from_id text, from_name text, to_id text, to_name text,
        along_m float8, route_distance_m float8, synthetic boolean, cell_res smallint[],
        cells bigint[], description text, source text)
), report AS (
    INSERT INTO reports (
        id, context, categories, occurred_at, geom, mode,
        stop_id, stop_public_id, stop_name, stop_distance_m,
        route_id, route_public_id, route_short_name, route_direction,
        segment_from_public_id, segment_from_name, segment_to_public_id, segment_to_name,
        along_m, route_distance_m, neighbourhood_id, synthetic, source)
    SELECT i.id, i.context, i.categories, i.occurred_at, {_POINT}, i.mode,
           i.stop_id, i.stop_public_id, i.stop_name, i.stop_distance_m,
           i.route_id, i.route_public_id, i.route_short_name, i.route_direction,
           i.from_id, i.from_name, i.to_id, i.to_name, i.along_m, i.route_distance_m,
           (SELECT c.id FROM (
                SELECT n.id, n.geom, count(*) OVER () AS covering
                FROM neighbourhoods n WHERE ST_Covers(n.geom, {_POINT})) c
            ORDER BY CASE WHEN c.covering > 1 THEN ST_Area(c.geom::geography) END, c.id
            LIMIT 1),
           i.synthetic, i.source
    FROM input i
    RETURNING id, receipt_code
), cells AS (
    INSERT INTO report_cells (report_id, res, cell)
    SELECT report.id, c.res, c.cell
    FROM input i JOIN report ON report.id = i.id
    CROSS JOIN LATERAL unnest(i.cell_res, i.cells) AS c(res, cell)
), description AS (
    INSERT INTO report_descriptions (report_id, body, status)
    SELECT report.id, i.description, 'pending'
    FROM input i JOIN report ON report.id = i.id
    WHERE i.description IS NOT NULL
), queued AS (
    -- Rolled up now by the triggers, or (their deferral on) queued for the next
    -- publication: the one test decides both (migration 0029).
    INSERT INTO unpublished_reports (report_id)
    SELECT report.id FROM report WHERE hotspot_rollups_deferred()
)
SELECT id, receipt_code FROM report
""")


def insert_reports(
    connection: sa.Connection, rows: Sequence[ReportRow | Unprocessable], queued: bool = False
) -> dict[uuid.UUID, str]:
    """Insert the rows (refusals skipped), their cells and descriptions in one statement
    (not committed); the receipt code the database made for each, by report id.

    `queued` (the connection in a transaction): the reports reach the hotspot layers at the
    next publication (publication.py), not now."""
    records = [_record(row) for row in rows if isinstance(row, ReportRow)]
    if not records:
        return {}
    if queued:
        connection.exec_driver_sql("SET LOCAL streetsafe.defer_rollups = on")
    # One JSON document for the batch: json.dumps is C, while psycopg inspected and dumped
    # two dozen Python lists element by element (a seventh of a worker's time under load).
    # Floats go as repr, which PostgreSQL reads back to the same double.
    stored = driver_rows(connection, _INSERT_SQL, {"reports": json.dumps(records)})
    if len(stored) != len(records):  # cannot happen without a bug: it inserts every row
        raise RuntimeError(f"stored {len(stored)} of {len(records)} reports")
    return {row.id: row.receipt_code for row in stored}


def _record(row: ReportRow) -> dict[str, Any]:
    """A report row as the statement's JSON record (the column list in _INSERT_SQL)."""
    snap = row.snap
    stop, route = snap.stop, snap.route
    between = route.between if route else None
    return {
        "id": str(row.id), "context": row.context, "categories": row.categories,
        "occurred_at": row.occurred_at.isoformat(), "lon": snap.lon, "lat": snap.lat,
        "mode": snap.mode,
        "stop_id": stop.id if stop else None, "stop_public_id": stop.public_id if stop else None,
        "stop_name": stop.name if stop else None,
        "stop_distance_m": stop.distance_m if stop else None,
        "route_id": route.id if route else None,
        "route_public_id": route.public_id if route else None,
        "route_short_name": route.short_name if route else None,
        "route_direction": route.direction if route else None,
        "from_id": between[0][0] if between else None,
        "from_name": between[0][1] if between else None,
        "to_id": between[1][0] if between else None,
        "to_name": between[1][1] if between else None,
        "along_m": route.along_m if route else None,
        "route_distance_m": route.distance_m if route else None,
        "synthetic": row.synthetic,
        "cell_res": list(row.cells), "cells": [cell_to_int(cell) for cell in row.cells.values()],
        "description": row.description, "source": row.source,
    }  # fmt: skip


# 6. Receipts.


def receipts(
    rows: Sequence[ReportRow | Unprocessable], codes: dict[uuid.UUID, str]
) -> list[Outcome]:
    """Each stored row's 201 and receipt; a refused report keeps its refusal."""
    return [
        row if isinstance(row, Unprocessable)
        else Submission(201, receipt_of(row, codes[row.id]).model_dump(mode="json"))
        for row in rows
    ]  # fmt: skip


def record_keys(connection: sa.Connection, claims: Claims, outcomes: Sequence[Outcome]) -> None:
    """Store each claimed key's response; release the keys of refused reports (reusable)."""
    responses: dict[str, tuple[int, dict[str, Any]]] = {}
    refused: list[str] = []
    for i, outcome in zip(claims.fresh, outcomes, strict=True):
        pair = claims.hashed[i]
        if pair is None:
            continue
        if isinstance(outcome, Submission):
            responses[pair[0]] = (outcome.status, outcome.body)
        else:
            refused.append(pair[0])
    idempotency.release(connection, refused)
    idempotency.record(connection, responses)


def receipt_of(row: ReportRow, code: str) -> Receipt:
    """The receipt of a row just stored, with its receipt code."""
    snap, stop, route = row.snap, row.snap.stop, row.snap.route
    stop_out = None if stop is None else _stop_out(stop.public_id, stop.name, stop.distance_m)
    route_out = None
    if route is not None:
        between = [route.between[0][1], route.between[1][1]] if route.between else None
        route_out = _route_out(route.public_id, route.short_name, route.direction, between,
                               route.along_m, route.distance_m)  # fmt: skip
    return _receipt(row.id, code, row.context, row.occurred_at, row.categories, snap.lon,
                    snap.lat, stop_out, route_out, row.cells)  # fmt: skip


def _stop_out(public_id: str, name: str, distance_m: float | None) -> StopOut:
    return StopOut(id=public_id, name=name, distance_m=_round(distance_m))


def _route_out(
    public_id: str,
    short_name: str | None,
    direction: int | None,
    between: list[str] | None,
    along_m: float | None,
    distance_m: float,
) -> RouteOut:
    return RouteOut(id=public_id, short_name=short_name, direction=direction, between=between,
                    along_m=_round(along_m), distance_m=_round(distance_m))  # fmt: skip


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _receipt(
    report_id: uuid.UUID,
    code: str,
    context: str,
    occurred_at: datetime,
    categories: list[str],
    lon: float,
    lat: float,
    stop: StopOut | None,
    route: RouteOut | None,
    cells: dict[int, str],
) -> Receipt:
    return Receipt(
        id=str(report_id),
        receipt_code=grouped(code),
        context=context,
        occurred_at=occurred_at,
        categories=categories,
        snapped=SnappedOut(point=PointOut(lat=round(lat, 7), lon=round(lon, 7)),
                           stop=stop, route=route),  # fmt: skip
        cells={str(res): cell for res, cell in cells.items()},
    )


_LOAD = """
SELECT r.id, r.receipt_code, r.context, r.occurred_at, r.categories,
       ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat,
       r.stop_public_id, r.stop_name, r.stop_distance_m,
       r.route_public_id, r.route_short_name, r.route_direction,
       r.segment_from_public_id, r.segment_from_name, r.segment_to_name,
       r.along_m, r.route_distance_m,
       ARRAY(SELECT c.res FROM report_cells c WHERE c.report_id = r.id ORDER BY c.res) AS res,
       ARRAY(SELECT c.cell FROM report_cells c WHERE c.report_id = r.id ORDER BY c.res) AS cells
FROM reports r
"""
_LOAD_BY_ID = sa.text(_LOAD + "WHERE r.id = :id")
_LOAD_BY_CODE = sa.text(_LOAD + "WHERE r.receipt_code = :code")


def load_receipt(session: Session, report_id: uuid.UUID) -> Receipt | None:
    """The receipt of a stored report (never its description), or None."""
    row = session.execute(_LOAD_BY_ID, {"id": report_id}).one_or_none()
    return None if row is None else _loaded(row)


def load_receipt_by_code(session: Session, code: str) -> Receipt | None:
    """The receipt of the report with this stored receipt code (receipt_codes.parse_code)."""
    row = session.execute(_LOAD_BY_CODE, {"code": code}).one_or_none()
    return None if row is None else _loaded(row)


def _loaded(row: sa.Row) -> Receipt:
    """A receipt from a row of _LOAD."""
    stop = None
    if row.stop_public_id is not None:
        stop = _stop_out(row.stop_public_id, row.stop_name, row.stop_distance_m)
    route = None
    if row.route_public_id is not None:
        between = None
        if row.segment_from_public_id is not None:
            between = [row.segment_from_name, row.segment_to_name]
        route = _route_out(row.route_public_id, row.route_short_name, row.route_direction,
                           between, row.along_m, row.route_distance_m)  # fmt: skip
    cells = {res: int_to_cell(cell) for res, cell in zip(row.res, row.cells, strict=True)}
    return _receipt(row.id, row.receipt_code, row.context, row.occurred_at,
                    list(row.categories), row.lon, row.lat, stop, route, cells)  # fmt: skip
