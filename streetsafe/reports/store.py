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

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

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


_POINT = "ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326)"

# The smallest neighbourhood covering each point: the geodesic area of a borough-sized
# polygon costs about 1 ms, so it is computed only to choose between several covering ones.
_INSERT_SQL = sa.text(f"""
WITH input AS (
    SELECT i.* FROM unnest(
        CAST(:id AS uuid[]), CAST(:context AS text[]), CAST(:categories AS text[]),
        CAST(:occurred_at AS timestamptz[]), CAST(:lon AS float8[]), CAST(:lat AS float8[]),
        CAST(:mode AS text[]), CAST(:stop_id AS integer[]), CAST(:stop_public_id AS text[]),
        CAST(:stop_name AS text[]), CAST(:stop_distance_m AS float8[]),
        CAST(:route_id AS integer[]), CAST(:route_public_id AS text[]),
        CAST(:route_short_name AS text[]), CAST(:route_direction AS smallint[]),
        CAST(:from_id AS text[]), CAST(:from_name AS text[]), CAST(:to_id AS text[]),
        CAST(:to_name AS text[]), CAST(:along_m AS float8[]), CAST(:route_distance_m AS float8[]),
        CAST(:synthetic AS boolean[])
    ) AS i(id, context, categories, occurred_at, lon, lat, mode, stop_id, stop_public_id,
           stop_name, stop_distance_m, route_id, route_public_id, route_short_name,
           route_direction, from_id, from_name, to_id, to_name, along_m, route_distance_m,
           synthetic)
), report AS (
    INSERT INTO reports (
        id, context, categories, occurred_at, geom, mode,
        stop_id, stop_public_id, stop_name, stop_distance_m,
        route_id, route_public_id, route_short_name, route_direction,
        segment_from_public_id, segment_from_name, segment_to_public_id, segment_to_name,
        along_m, route_distance_m, neighbourhood_id, synthetic)
    SELECT i.id, i.context, CAST(string_to_array(i.categories, ',') AS varchar[]),
           i.occurred_at, {_POINT}, i.mode,
           i.stop_id, i.stop_public_id, i.stop_name, i.stop_distance_m,
           i.route_id, i.route_public_id, i.route_short_name, i.route_direction,
           i.from_id, i.from_name, i.to_id, i.to_name, i.along_m, i.route_distance_m,
           (SELECT c.id FROM (
                SELECT n.id, n.geom, count(*) OVER () AS covering
                FROM neighbourhoods n WHERE ST_Covers(n.geom, {_POINT})) c
            ORDER BY CASE WHEN c.covering > 1 THEN ST_Area(c.geom::geography) END, c.id
            LIMIT 1),
           i.synthetic
    FROM input i
    RETURNING id
), cells AS (
    INSERT INTO report_cells (report_id, res, cell)
    SELECT report.id, c.res, c.cell
    FROM unnest(CAST(:cell_report AS uuid[]), CAST(:cell_res AS smallint[]),
                CAST(:cell AS bigint[])) AS c(report_id, res, cell)
    JOIN report ON report.id = c.report_id
), description AS (
    INSERT INTO report_descriptions (report_id, body, status)
    SELECT report.id, d.body, 'pending'
    FROM unnest(CAST(:description_report AS uuid[]), CAST(:description AS text[]))
         AS d(report_id, body)
    JOIN report ON report.id = d.report_id
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
        occurred_at=report_in.occurred_at or datetime.now(UTC),
        lon=snap.lon,
        lat=snap.lat,
        mode=snap.mode,
        stop=snap.stop,
        route=snap.route,
        cells=point_to_cells(snap.lon, snap.lat, settings.h3_resolutions),
        description=report_in.description or None,
        synthetic=synthetic,
    )


def insert_reports(connection: sa.Connection, rows: Sequence[ReportRow]) -> None:
    """Insert the reports, their cells and descriptions in one statement (not committed)."""
    if not rows:
        return
    ((stored,),) = driver_rows(connection, _INSERT_SQL, _columns(rows))
    if stored != len(rows):  # cannot happen without a bug: the statement inserts every row
        raise RuntimeError(f"stored {stored} of {len(rows)} reports")


def _columns(rows: Sequence[ReportRow]) -> dict[str, list]:
    """The rows as the statement's column arrays."""
    columns: dict[str, list] = {name: [] for name in _COLUMN_NAMES}
    for row in rows:
        stop, route = row.stop, row.route
        between = route.between if route else None
        values = (
            row.id, row.context, ",".join(row.categories), row.occurred_at, row.lon, row.lat,
            row.mode,
            stop.id if stop else None, stop.public_id if stop else None,
            stop.name if stop else None, stop.distance_m if stop else None,
            route.id if route else None, route.public_id if route else None,
            route.short_name if route else None, route.direction if route else None,
            between[0][0] if between else None, between[0][1] if between else None,
            between[1][0] if between else None, between[1][1] if between else None,
            route.along_m if route else None, route.distance_m if route else None,
            row.synthetic,
        )  # fmt: skip
        for name, value in zip(_ROW_COLUMNS, values, strict=True):
            columns[name].append(value)
        for res, cell in row.cells.items():
            columns["cell_report"].append(row.id)
            columns["cell_res"].append(res)
            columns["cell"].append(cell_to_int(cell))
        if row.description:
            columns["description_report"].append(row.id)
            columns["description"].append(row.description)
    return columns


_ROW_COLUMNS = (
    "id", "context", "categories", "occurred_at", "lon", "lat", "mode",
    "stop_id", "stop_public_id", "stop_name", "stop_distance_m",
    "route_id", "route_public_id", "route_short_name", "route_direction",
    "from_id", "from_name", "to_id", "to_name", "along_m", "route_distance_m", "synthetic",
)  # fmt: skip
_COLUMN_NAMES = (*_ROW_COLUMNS, "cell_report", "cell_res", "cell", "description_report",
                 "description")  # fmt: skip
