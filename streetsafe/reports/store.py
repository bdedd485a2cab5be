"""Store reports: snap, cells and one INSERT statement for any number of them.

`store_reports` is the pipeline's back half for a batch: snap every report (two statements
for the whole batch, see contexts.snap_reports), compute the H3 cells, and insert the
reports that snapped. A report row, its cells and its description go in together, and the
hotspot rollups follow through the tables' statement-level triggers in the same statement.
Reports travel as column arrays (`unnest`), so storing eight reports costs one statement,
one trigger run and one commit instead of eight of each: `writer.ReportWriter` batches
concurrent requests this way, and a single report is simply a batch of one.

Inserts from different workers run side by side: the triggers take their row locks in key
order (migration 0009), so two inserts touching the same rollup rows wait for each other but
never deadlock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ..config import Settings
from ..db import driver_rows
from ..errors import Unprocessable
from .cells import cell_to_int, point_to_cells
from .contexts import Snap, snap_reports
from .schema import ReportIn
from .snapping import SnappedRoute, SnappedStop


@dataclass(frozen=True)
class ReportRow:
    """Everything stored for one report: what was sent, where it snapped, its cells."""

    id: uuid.UUID
    context: str
    categories: list[str]
    occurred_at: datetime
    lon: float
    lat: float
    mode: str | None
    stop: SnappedStop | None
    route: SnappedRoute | None
    cells: dict[int, str]
    description: str | None
    synthetic: bool = False
    source: str | None = None  # NULL for public intake; `reports load --source NAME` sets it


_POINT = "ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326)"

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
    RETURNING id
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
)
SELECT count(*) FROM report
""")


def store_reports(
    connection: sa.Connection,
    reports: Sequence[ReportIn],
    settings: Settings,
    synthetic: bool = False,
) -> list[ReportRow | Unprocessable]:
    """Snap and insert the reports (not committed): each one's row, or why it was refused."""
    snaps = snap_reports(connection, reports, settings)
    results = [
        snap if isinstance(snap, Unprocessable) else to_row(report_in, snap, settings, synthetic)
        for report_in, snap in zip(reports, snaps, strict=True)
    ]
    insert_reports(connection, [row for row in results if isinstance(row, ReportRow)])
    return results


def to_row(report_in: ReportIn, snap: Snap, settings: Settings, synthetic: bool) -> ReportRow:
    """The row to store for a snapped report, with a new id and its H3 cells."""
    return ReportRow(
        id=uuid.uuid4(),
        context=report_in.context,
        categories=report_in.categories,
        occurred_at=to_hour(report_in.occurred_at or datetime.now(UTC)),
        lon=snap.lon,
        lat=snap.lat,
        mode=snap.mode,
        stop=snap.stop,
        route=snap.route,
        cells=point_to_cells(snap.lon, snap.lat, settings.h3_resolutions),
        description=report_in.description or None,
        synthetic=synthetic,
    )


def to_hour(moment: datetime) -> datetime:
    """The UTC hour a moment falls in: no reporter-side time finer than the hour is stored.

    Local hours follow from it wherever the zone's offset is a whole number of hours (all of
    the UK); the database refuses anything finer (migration 0012).
    """
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def insert_reports(connection: sa.Connection, rows: Sequence[ReportRow]) -> None:
    """Insert the reports, their cells and descriptions in one statement (not committed)."""
    if not rows:
        return
    # One JSON document for the batch: json.dumps is C, while psycopg inspected and dumped
    # two dozen Python lists element by element (a seventh of a worker's time under load).
    # Floats go as repr, which PostgreSQL reads back to the same double.
    payload = json.dumps([_record(row) for row in rows])
    ((stored,),) = driver_rows(connection, _INSERT_SQL, {"reports": payload})
    if stored != len(rows):  # cannot happen without a bug: the statement inserts every row
        raise RuntimeError(f"stored {stored} of {len(rows)} reports")


def _record(row: ReportRow) -> dict[str, Any]:
    """A report row as the statement's JSON record (the column list in _INSERT_SQL)."""
    stop, route = row.stop, row.route
    between = route.between if route else None
    return {
        "id": str(row.id), "context": row.context, "categories": row.categories,
        "occurred_at": row.occurred_at.isoformat(), "lon": row.lon, "lat": row.lat,
        "mode": row.mode,
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
