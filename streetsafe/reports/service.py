"""Report submission as a pipeline: parse (schema) -> snap -> cells -> store.

`submit_report` is what the view, the demo seeder and the benchmark call; it takes a session
and plain values, never the request. Nothing about the sender is ever passed in.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config import Settings
from ..db import autocommit
from ..errors import Unprocessable
from . import idempotency, snapping
from .cells import cell_to_int, int_to_cell, point_to_cells
from .schema import Receipt, ReportIn, TransitIn
from .snapping import SnappedRoute, SnappedStop

# A route named by the reporter but further than this from where they are is a mistake.
MAX_NAMED_ROUTE_DISTANCE_M = 1000.0


@dataclass(frozen=True)
class Snap:
    """Where the report is stored (lon, lat) and what transit it was tied to."""

    lon: float
    lat: float
    stop: SnappedStop | None
    route: SnappedRoute | None
    mode: str | None


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
) -> Submission:
    """Snap, store and commit a report; with an idempotency key, at most once per key."""
    hashed_key = None
    if idempotency_key is None:
        autocommit(session)  # the report is one INSERT: no BEGIN/COMMIT round trips
    else:
        hashed_key = idempotency.key_hash(idempotency_key)
        hashed_request = idempotency.request_hash(report_in.model_dump(mode="json"))
        stored = idempotency.claim(
            session, hashed_key, hashed_request, settings.idempotency_ttl_hours
        )
        if stored is not None:
            session.rollback()
            return Submission(stored.status, stored.body, replayed=True)
    try:
        receipt = store_report(session, report_in, settings, synthetic=synthetic)
        body = receipt.model_dump(mode="json")
        if hashed_key is not None:
            idempotency.record(session, hashed_key, 201, body)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return Submission(201, body)


def store_report(
    session: Session, report_in: ReportIn, settings: Settings, synthetic: bool = False
) -> Receipt:
    """Snap the report, compute its cells and insert it (not committed); returns the receipt."""
    snap = snap_report(session, report_in, settings)
    cells = point_to_cells(snap.lon, snap.lat, settings.h3_resolutions)
    report_id = uuid.uuid4()
    occurred_at = report_in.occurred_at or datetime.now(UTC)
    _insert(session, report_id, report_in, snap, cells, occurred_at, synthetic)
    return Receipt.model_validate(
        _receipt_dict(report_id, report_in.context, occurred_at, report_in.categories, snap, cells)
    )


def snap_report(session: Session, report_in: ReportIn, settings: Settings) -> Snap:
    """Tie the report to a stop and/or a route according to its context."""
    transit = report_in.transit or TransitIn()
    lon, lat = (
        (report_in.location.lon, report_in.location.lat)
        if report_in.location
        else (
            None,
            None,
        )
    )
    given_stop = None
    if transit.stop_id is not None:
        given_stop = snapping.stop_by_id(session, transit.stop_id, lon, lat)
        if given_stop is None:
            raise Unprocessable(f"no stop with id {transit.stop_id!r}", "transit.stop_id")
        if lon is None:
            lon, lat = given_stop.lon, given_stop.lat
    assert lon is not None and lat is not None  # the schema requires location or stop_id
    if report_in.context == "street":
        stop = None
        if settings.street_stop_radius_m > 0:
            stop = snapping.nearest_stop(session, lon, lat, settings.street_stop_radius_m)
        return Snap(lon, lat, stop, None, transit.mode)
    if report_in.context == "at_stop":
        return _snap_at_stop(session, lon, lat, given_stop, transit, settings)
    return _snap_on_vehicle(session, lon, lat, given_stop, transit, settings)


def _snap_at_stop(
    session: Session,
    lon: float,
    lat: float,
    stop: SnappedStop | None,
    transit: TransitIn,
    settings: Settings,
) -> Snap:
    radius_m = settings.at_stop_radius_m
    stop = stop or snapping.nearest_stop(session, lon, lat, radius_m)
    if stop is None:
        raise Unprocessable(
            f"no stop within {radius_m:g} m of this location; report it as a street "
            "report, or choose the stop (transit.stop_id)",
            "location",
        )
    route = None
    if transit.route_id is not None:
        route = snapping.snap_to_route(
            session, _route_id(session, transit.route_id), stop.lon, stop.lat
        )
    mode = stop.mode or (route.mode if route else None) or transit.mode
    return Snap(stop.lon, stop.lat, stop, route, mode)


def _snap_on_vehicle(
    session: Session,
    lon: float,
    lat: float,
    stop: SnappedStop | None,
    transit: TransitIn,
    settings: Settings,
) -> Snap:
    if transit.route_id is not None:
        route = snapping.snap_to_route(session, _route_id(session, transit.route_id), lon, lat)
        if route is None:
            raise Unprocessable("this route has no geometry to snap to", "transit.route_id")
        if route.distance_m > MAX_NAMED_ROUTE_DISTANCE_M:
            raise Unprocessable(
                f"this location is {route.distance_m:.0f} m from route {transit.route_id!r}; "
                "check the route or the location",
                "location",
            )
    else:
        radius_m = settings.on_vehicle_radius_m
        route = snapping.snap_to_nearest_route(session, lon, lat, radius_m, transit.mode)
        if route is None:
            kind = f"{transit.mode} route" if transit.mode else "route"
            raise Unprocessable(
                f"no {kind} within {radius_m:g} m of this location; choose the route "
                "(transit.route_id)",
                "location",
            )
    return Snap(route.lon, route.lat, stop, route, route.mode)


def _route_id(session: Session, public_id: str) -> int:
    route_id = snapping.route_by_id(session, public_id)
    if route_id is None:
        raise Unprocessable(f"no route with id {public_id!r}", "transit.route_id")
    return route_id


_POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"

# One round trip: the report (with the smallest neighbourhood covering it), its cells and
# its description. The geodesic area of a borough-sized polygon costs about 1 ms, so it is
# computed only to choose between several covering polygons.
_INSERT_SQL = sa.text(f"""
WITH report AS (
    INSERT INTO reports (
        id, context, categories, occurred_at, geom, mode,
        stop_id, stop_public_id, stop_name, stop_distance_m,
        route_id, route_public_id, route_short_name, route_direction,
        segment_from_public_id, segment_from_name, segment_to_public_id, segment_to_name,
        along_m, route_distance_m, neighbourhood_id, synthetic)
    VALUES (
        :id, :context, CAST(:categories AS varchar[]), :occurred_at, {_POINT}, :mode,
        :stop_id, :stop_public_id, :stop_name, :stop_distance_m,
        :route_id, :route_public_id, :route_short_name, :route_direction,
        :from_id, :from_name, :to_id, :to_name,
        :along_m, :route_distance_m,
        (SELECT c.id FROM (
            SELECT n.id, n.geom, count(*) OVER () AS covering
            FROM neighbourhoods n WHERE ST_Covers(n.geom, {_POINT})) c
         ORDER BY CASE WHEN c.covering > 1 THEN ST_Area(c.geom::geography) END, c.id
         LIMIT 1),
        :synthetic)
    RETURNING id
), cells AS (
    INSERT INTO report_cells (report_id, res, cell)
    SELECT report.id, c.res, c.cell
    FROM report, unnest(CAST(:res AS smallint[]), CAST(:cells AS bigint[])) AS c(res, cell)
), description AS (
    INSERT INTO report_descriptions (report_id, body, status)
    SELECT report.id, CAST(:description AS text), 'pending' FROM report
    WHERE CAST(:description AS text) IS NOT NULL
)
SELECT id FROM report
""")


def _insert(
    session: Session,
    report_id: uuid.UUID,
    report_in: ReportIn,
    snap: Snap,
    cells: dict[int, str],
    occurred_at: datetime,
    synthetic: bool,
) -> None:
    stop, route = snap.stop, snap.route
    between = route.between if route else None
    description = report_in.description if report_in.description else None
    session.execute(
        _INSERT_SQL,
        {
            "id": report_id,
            "context": report_in.context,
            "categories": report_in.categories,
            "occurred_at": occurred_at,
            "lon": snap.lon,
            "lat": snap.lat,
            "mode": snap.mode,
            "stop_id": stop.id if stop else None,
            "stop_public_id": stop.public_id if stop else None,
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
            "synthetic": synthetic,
            "res": list(cells),
            "cells": [cell_to_int(cell) for cell in cells.values()],
            "description": description,
        },
    )


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
