"""The snap step: tie a report to transit by its context, in PostGIS, with GiST indexes.

The rules, by context:
- `street`: the point as given; the nearest stop within the street radius, if any.
- `at_stop`: the named stop, or the nearest within the at-stop radius (else 422); the
  point becomes the stop's.
- `on_vehicle`: the nearest point on the named route (within 1 km, else 422), or on the
  nearest route of the mode within the on-vehicle radius (else 422); the point becomes it.

`snap_reports` applies the rules to a batch: the nearest stops of every report in one
statement and the nearest routes in another. Reports that name a stop or a route are rare
and snapped one at a time, by `snap_report`, with the same rules.

Distances are geodesic metres (`::geography`), right anywhere on Earth. Position along a
route is geodesic metres along the shape up to the point nearest the report
(`ST_Length(ST_LineSubstring(shape, 0, ST_LineLocatePoint(shape, point))::geography)`), the
same measure the importer uses for route_stops.distance_m, so the two stops a point lies
between are the consecutive stops of that route direction whose distance_m bracket it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..config import Settings
from ..db import Executor, driver_rows
from ..errors import Unprocessable
from ..i18n import lazy_gettext as _l
from ..transit.near import M_PER_DEG_LON_EQUATOR, MARGIN, MIN_M_PER_DEG_LAT, within_box
from ..transit.places import place_of, serving
from .schema import ReportIn, TransitIn

_POINT = "ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326)"


@dataclass(frozen=True)
class SnappedStop:
    """A stop a report was tied to, and how far the given location was from it."""

    id: int
    public_id: str
    name: str
    mode: str | None
    lon: float
    lat: float
    distance_m: float | None


@dataclass(frozen=True)
class SnappedRoute:
    """The nearest point on a route: where it is, how far along, and between which stops."""

    id: int
    public_id: str
    short_name: str | None
    mode: str
    direction: int
    lon: float
    lat: float
    along_m: float
    distance_m: float
    between: tuple[tuple[str, str], tuple[str, str]] | None  # ((public_id, name), (...))


# The rules of the snap step, by context (the SQL they run follows below).

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


def snap_report(connection: Executor, report_in: ReportIn, settings: Settings) -> Snap:
    """Tie the report to a stop and/or a route according to its context (or Unprocessable)."""
    given = _given(connection, report_in)
    if report_in.context == "street":
        stop = None
        if settings.street_stop_radius_m > 0:
            stop = nearest_stop(connection, given.lon, given.lat, settings.street_stop_radius_m)
        return Snap(given.lon, given.lat, stop, None, given.transit.mode)
    if report_in.context == "at_stop":
        return _snap_at_stop(connection, given, settings)
    return _snap_on_vehicle(connection, given, settings)


@dataclass(frozen=True)
class Given:
    """What the reporter gave: the point (theirs, else the named stop's), the stop they named
    (or None), and what they said of the transit."""

    lon: float
    lat: float
    stop: SnappedStop | None
    transit: TransitIn


def _given(connection: Executor, report_in: ReportIn) -> Given:
    transit = report_in.transit or TransitIn()
    location = report_in.location
    if transit.stop_id is None:
        assert location is not None  # the schema requires location or stop_id
        return Given(location.lon, location.lat, None, transit)
    lon, lat = (location.lon, location.lat) if location else (None, None)
    stop = stop_by_id(connection, transit.stop_id, lon, lat)
    if stop is None:
        raise Unprocessable(_l("no stop with id %(id)r", id=transit.stop_id), "transit.stop_id")
    if lon is None or lat is None:
        return Given(stop.lon, stop.lat, stop, transit)
    return Given(lon, lat, stop, transit)


def _snap_at_stop(connection: Executor, given: Given, settings: Settings) -> Snap:
    """at_stop: the named stop, else the nearest; a named route is snapped at that stop."""
    transit = given.transit
    stop = given.stop or nearest_stop(connection, given.lon, given.lat, settings.at_stop_radius_m)
    route = None
    if stop is not None and transit.route_id is not None:
        route = snap_to_route(connection, _route_id(connection, transit.route_id), stop.lon,
                              stop.lat)  # fmt: skip
    return _at_stop(stop, route, transit, settings)


def _snap_on_vehicle(connection: Executor, given: Given, settings: Settings) -> Snap:
    """on_vehicle: the named route (within 1 km), else the nearest route of the mode."""
    transit, lon, lat = given.transit, given.lon, given.lat
    if transit.route_id is None:
        radius_m = settings.on_vehicle_radius_m
        route = snap_to_nearest_route(connection, lon, lat, radius_m, transit.mode)
        return _on_vehicle(route, given.stop, transit, settings)
    route = snap_to_route(connection, _route_id(connection, transit.route_id), lon, lat)
    if route is None:
        raise Unprocessable(_l("this route has no geometry to snap to"), "transit.route_id")
    if route.distance_m > MAX_NAMED_ROUTE_DISTANCE_M:
        raise Unprocessable(
            _l("this location is %(distance)s m from route %(id)r; check the route or the "
               "location", distance=format(route.distance_m, ".0f"), id=transit.route_id),
            "location",
        )
    return Snap(route.lon, route.lat, given.stop, route, route.mode)


def snap_reports(
    connection: Executor, reports: Sequence[ReportIn], settings: Settings
) -> list[Snap | Unprocessable]:
    """snap_report for each report, with an Unprocessable in place of a report's error."""
    results: list[Snap | Unprocessable | None] = [None] * len(reports)
    near_stop: list[tuple[int, tuple[float, float, float]]] = []
    near_route: list[tuple[int, tuple[float, float, float, str | None]]] = []
    for i, report_in in enumerate(reports):
        transit = report_in.transit or TransitIn()
        location = report_in.location
        if location is None or transit.stop_id is not None or transit.route_id is not None:
            try:
                results[i] = snap_report(connection, report_in, settings)
            except Unprocessable as error:
                results[i] = error
        elif report_in.context == "on_vehicle":
            point = (location.lon, location.lat, settings.on_vehicle_radius_m, transit.mode)
            near_route.append((i, point))
        elif report_in.context == "at_stop":
            near_stop.append((i, (location.lon, location.lat, settings.at_stop_radius_m)))
        elif settings.street_stop_radius_m > 0:
            near_stop.append((i, (location.lon, location.lat, settings.street_stop_radius_m)))
        else:
            results[i] = Snap(location.lon, location.lat, None, None, transit.mode)
    stops = nearest_stops(connection, [point for _, point in near_stop])
    for (i, (lon, lat, _)), stop in zip(near_stop, stops, strict=True):
        report_in = reports[i]
        transit = report_in.transit or TransitIn()
        if report_in.context == "street":
            results[i] = Snap(lon, lat, stop, None, transit.mode)
        else:
            results[i] = _caught(_at_stop, stop, None, transit, settings)
    routes = snap_to_nearest_routes(connection, [point for _, point in near_route])
    for (i, _), route in zip(near_route, routes, strict=True):
        results[i] = _caught(_on_vehicle, route, None, reports[i].transit or TransitIn(), settings)
    return [result for result in results if result is not None]


def _at_stop(
    stop: SnappedStop | None, route: SnappedRoute | None, transit: TransitIn, settings: Settings
) -> Snap:
    if stop is None:
        raise Unprocessable(
            _l("no stop within %(radius)s m of this location; report it as a street report, or "
               "choose the stop (transit.stop_id)", radius=format(settings.at_stop_radius_m, "g")),
            "location",
        )
    mode = stop.mode or (route.mode if route else None) or transit.mode
    return Snap(stop.lon, stop.lat, stop, route, mode)


def _on_vehicle(
    route: SnappedRoute | None, stop: SnappedStop | None, transit: TransitIn, settings: Settings
) -> Snap:
    if route is None:
        radius = f"{settings.on_vehicle_radius_m:g}"
        raise Unprocessable(
            _l("no %(mode)s route within %(radius)s m of this location; choose the route "
               "(transit.route_id)", mode=_l(transit.mode), radius=radius)  # a mode's msgid
            if transit.mode
            else _l("no route within %(radius)s m of this location; choose the route "
                    "(transit.route_id)", radius=radius),
            "location",
        )
    return Snap(route.lon, route.lat, stop, route, route.mode)


def _caught(rule, *args) -> Snap | Unprocessable:  # noqa: ANN001, ANN002
    try:
        return rule(*args)
    except Unprocessable as error:
        return error


def _route_id(connection: Executor, public_id: str) -> int:
    route_id = route_by_id(connection, public_id)
    if route_id is None:
        raise Unprocessable(_l("no route with id %(id)r", id=public_id), "transit.route_id")
    return route_id


# The statements.

# A stop's mode: its own (NaPTAN), else that of a route serving it (GTFS stops have none).
# Stops are places: a stop known to several feeds is the one row they share
# (transit/places.py), and its routes are those calling at any of its feeds' rows.
_STOP_COLUMNS = f"""s.id, s.public_id, s.name, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
    coalesce(s.mode, (SELECT min(r.mode) FROM route_stops rs JOIN routes r ON r.id = rs.route_id
                      WHERE {serving("rs.stop_id", "s")})) AS mode"""

# The nearest stop to each input point, in one statement (input row n's stop comes back
# with n). Candidates come from the geometry GiST index (a lon/lat box holding every point
# within radius_m, see transit/near.py); the geodesic test and distance stay exact.
_PT = "ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326)"
_NEAREST_STOPS_SQL = sa.text(f"""
SELECT i.n, s.*
FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[]), CAST(:radius_m AS float8[]))
     WITH ORDINALITY AS i(lon, lat, radius_m, n)
CROSS JOIN LATERAL (
    SELECT {_STOP_COLUMNS}, ST_Distance(s.geom::geography, {_PT}::geography) AS distance_m
    FROM stops s
    WHERE {within_box("s.geom", "i.lon", "i.lat", "i.radius_m")}
      AND s.place_public_id IS NULL
      AND ST_DWithin(s.geom::geography, {_PT}::geography, i.radius_m)
    ORDER BY distance_m, s.id
    LIMIT 1
) s
""")

_STOP_BY_ID_SQL = sa.text(f"""
SELECT {_STOP_COLUMNS},
       CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL
            ELSE ST_Distance(s.geom::geography, {_POINT}::geography) END AS distance_m
FROM stops given JOIN stops s ON s.public_id = {place_of("given")}
WHERE given.public_id = :public_id
""")


def _stop(row: Any) -> SnappedStop | None:
    if row is None:
        return None
    distance = None if row.distance_m is None else float(row.distance_m)
    return SnappedStop(row.id, row.public_id, row.name, row.mode, row.lon, row.lat, distance)


def nearest_stop(
    connection: Executor, lon: float, lat: float, radius_m: float
) -> SnappedStop | None:
    """The stop nearest to (lon, lat) within radius_m, or None."""
    return nearest_stops(connection, [(lon, lat, radius_m)])[0]


def nearest_stops(
    connection: Executor, points: Sequence[tuple[float, float, float]]
) -> list[SnappedStop | None]:
    """For each (lon, lat, radius_m), the nearest stop within radius_m or None; one statement."""
    if not points:
        return []
    lons, lats, radii = (list(column) for column in zip(*points, strict=True))
    params = {"lon": lons, "lat": lats, "radius_m": radii}
    found = {row.n: _stop(row) for row in driver_rows(connection, _NEAREST_STOPS_SQL, params)}
    return [found.get(n) for n in range(1, len(points) + 1)]


def stop_by_id(
    connection: Executor, public_id: str, lon: float | None = None, lat: float | None = None
) -> SnappedStop | None:
    """The stop with this public id (distance from (lon, lat) when given), or None."""
    params = {"public_id": public_id, "lon": lon, "lat": lat}
    return _stop(connection.execute(_STOP_BY_ID_SQL, params).one_or_none())


_ROUTE_BY_ID_SQL = sa.text("SELECT id FROM routes WHERE public_id = :public_id")


def route_by_id(connection: Executor, public_id: str) -> int | None:
    """The internal id of the route with this public id, or None."""
    return connection.scalar(_ROUTE_BY_ID_SQL, {"public_id": public_id})


# For a named route's shapes (the nearest-route query reads short pieces instead, below).
# Geodesic distance to a whole shape (hundreds of vertices) costs about 1 ms. So: a planar
# ST_DWithin in degrees (`near_deg`, enough for near_m at this latitude; native,
# index-backed) drops the shapes that cannot be within near_m; only the part of a shape inside
# a lon/lat box holding every point within near_m of the report can be nearer than near_m, so
# the geodesic distance is measured to that clipped part (a few segments), and to the whole
# shape only when the clipped part is further than near_m. The same distance either way, to
# millimetres (centimetres on long segments: the clip cuts a segment along the planar line,
# not the geodesic edge). The box is computed in Python (`clip_box`); near the poles or the
# antimeridian there is none, and whole shapes are measured with the geography index.
_CLIPPED_DISTANCE = f"""ST_Distance(
    ST_ClipByBox2D(sh.geom, ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, 4326))::geography,
    {_POINT}::geography)"""

def clip_box(lon: float, lat: float, near_m: float) -> dict[str, float] | None:
    """A lon/lat box holding every point within near_m of (lon, lat), and the planar radius in
    degrees (near_deg) holding them too; None if the box would wrap."""
    dlat = near_m / MIN_M_PER_DEG_LAT * MARGIN
    top_lat = abs(lat) + dlat
    if top_lat >= 89.0:
        return None
    dlon = near_m / (M_PER_DEG_LON_EQUATOR * math.cos(math.radians(top_lat))) * MARGIN
    if abs(lon) + dlon >= 180.0:
        return None
    return {"xmin": lon - dlon, "ymin": lat - dlat, "xmax": lon + dlon, "ymax": lat + dlat,
            "near_deg": max(dlon, dlat)}


# The nearest point on a shape, and the bracketing pair of stops: stops of the same shape are
# preferred, then the pair whose interval is nearest to along_m. `shape` is defined first, and
# MATERIALIZED: inlined, its ST_LineLocatePoint on the whole shape ran once per stop pair.
_SNAP_COLUMNS = """shape.route_id, shape.direction, shape.distance_m, along.m AS along_m,
       ST_X(along.point) AS lon, ST_Y(along.point) AS lat,
       r.public_id, r.short_name, r.mode,
       seg.from_id, seg.from_name, seg.to_id, seg.to_name"""
# Metres along the shape: measured on the one short piece (route_shape_pieces) holding the
# point, from where the piece starts (geodesic on the whole shape cost 0.45 ms on the
# Southampton feed's shapes). The point lies on its piece; a shape crossing itself there has
# two such pieces, and the one starting last before the point's fraction holds it. Pieces
# written without their start (none since migration 0013) take the whole-shape measure.
# `OFFSET 0` keeps it and the point to one evaluation each (inlined, they were repeated).
_ALONG_JOIN = """CROSS JOIN LATERAL (
    SELECT at.point, coalesce((
        SELECT p.start_m + ST_Length(ST_LineSubstring(
                   p.geom, 0, ST_LineLocatePoint(p.geom, at.point))::geography)
        FROM route_shape_pieces p
        WHERE p.shape_id = shape.id AND p.geom && at.point AND p.start_m IS NOT NULL
          AND p.start_fraction <= shape.fraction AND ST_DWithin(p.geom, at.point, 1e-9)
        ORDER BY p.start_fraction DESC LIMIT 1),
        ST_Length(ST_LineSubstring(shape.geom, 0, shape.fraction)::geography)) AS m
    FROM (SELECT ST_LineInterpolatePoint(shape.geom, shape.fraction) AS point OFFSET 0) at
    OFFSET 0
) along"""
# The pair is chosen on route_stops alone; only its two stops are then read by id (joining
# stops before the window made the planner merge-join through stops' primary key, ~1,600
# rows per snap on the benchmark database).
_SEGMENT_JOIN = f"""{_ALONG_JOIN}
JOIN routes r ON r.id = shape.route_id
LEFT JOIN LATERAL (
    SELECT fs.public_id AS from_id, fs.name AS from_name,
           ts.public_id AS to_id, ts.name AS to_name
    FROM (
        SELECT * FROM (
            SELECT rs.seq, rs.shape_id, rs.distance_m AS from_m,
                   lead(rs.distance_m) OVER w AS to_m,
                   rs.stop_id AS from_stop, lead(rs.stop_id) OVER w AS to_stop
            FROM route_stops rs
            WHERE rs.route_id = shape.route_id AND rs.direction = shape.direction
            WINDOW w AS (ORDER BY rs.seq)
        ) pairs
        WHERE pairs.to_m IS NOT NULL AND pairs.from_m IS NOT NULL
        ORDER BY (pairs.shape_id IS NOT DISTINCT FROM shape.id) DESC,
                 greatest(pairs.from_m - along.m, along.m - pairs.to_m, 0),
                 pairs.to_m - pairs.from_m, pairs.seq
        LIMIT 1
    ) best
    JOIN stops fr ON fr.id = best.from_stop JOIN stops fs ON fs.public_id = {place_of("fr")}
    JOIN stops tr ON tr.id = best.to_stop JOIN stops ts ON ts.public_id = {place_of("tr")}
) seg ON true"""
_SNAP_SELECT = f"""
SELECT {_SNAP_COLUMNS}
FROM shape {_SEGMENT_JOIN}
"""

_MODE_FILTER = "(CAST(:mode AS text) IS NULL OR r.mode = CAST(:mode AS text))"

# The nearest shape (of `mode`, if given) within radius_m. Candidates are the shapes' short
# pieces (route_shape_pieces, a few segments each, cut at the shapes' own vertices) from their
# planar GiST index; a shape's geodesic distance is the least over its pieces, which is its
# whole-shape distance exactly. Geodesic distances cost ~4 us a piece and a central point
# has a hundred pieces within the radius, so first the piece nearest in the plane (index
# order) is measured: no shape is nearer than `bound`, its distance (or the radius). Only the
# pieces within `bound` in the plane (`near_deg / radius_m` degrees per metre holds every
# point within that many metres, see clip_box) are then measured: the same answer, from a
# few pieces. `bound` gets 1 m of slack: a piece's geodesic edge and its straight line in the
# plane part by up to centimetres, so a point on the geodesic (0 m away) can be off the
# planar line, and a bound of 0 m found no piece at all (a 422 for a report on the route).
# Only the chosen shape is read whole, for the position along it.
# Input row n's snap comes back with n, so one statement serves a whole batch of reports.
# `OFFSET 0` keeps the chosen shape's ST_LineLocatePoint to one evaluation.
_SNAP_TO_NEAREST_ROUTES_SQL = sa.text(f"""
SELECT i.n, {_SNAP_COLUMNS}
FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[]), CAST(:radius_m AS float8[]),
            CAST(:near_deg AS float8[]), CAST(:mode AS text[]))
     WITH ORDINALITY AS i(lon, lat, radius_m, near_deg, mode, n)
CROSS JOIN LATERAL (
    SELECT least(ST_Distance(p.geom::geography, {_PT}::geography), i.radius_m) AS metres
    FROM route_shape_pieces p
    JOIN route_shapes sh ON sh.id = p.shape_id JOIN routes r ON r.id = sh.route_id
    WHERE ST_DWithin(p.geom, {_PT}, i.near_deg) AND (i.mode IS NULL OR r.mode = i.mode)
    ORDER BY p.geom <-> {_PT}
    LIMIT 1
) bound
CROSS JOIN LATERAL (
    SELECT sh.id, near.distance_m
    FROM (SELECT p.shape_id, min(ST_Distance(p.geom::geography, {_PT}::geography)) AS distance_m
          FROM route_shape_pieces p
          WHERE ST_DWithin(p.geom, {_PT}, (bound.metres + 1.0) * i.near_deg / i.radius_m)
          GROUP BY p.shape_id) near
    JOIN route_shapes sh ON sh.id = near.shape_id JOIN routes r ON r.id = sh.route_id
    WHERE (i.mode IS NULL OR r.mode = i.mode) AND near.distance_m <= i.radius_m
    ORDER BY near.distance_m, sh.route_id, sh.id
    LIMIT 1
) best
CROSS JOIN LATERAL (
    SELECT sh.id, sh.route_id, sh.direction, sh.length_m, sh.geom, best.distance_m,
           ST_LineLocatePoint(sh.geom, {_PT}) AS fraction
    FROM route_shapes sh WHERE sh.id = best.id
    OFFSET 0
) shape
{_SEGMENT_JOIN}
""")

# One point without a box (near the poles or the antimeridian): the geography index.
_SNAP_TO_NEAREST_ROUTE_UNCLIPPED_SQL = sa.text(f"""
WITH shape AS MATERIALIZED (
    SELECT sh.id, sh.route_id, sh.direction, sh.length_m, sh.geom,
           ST_Distance(sh.geom::geography, {_POINT}::geography) AS distance_m,
           ST_LineLocatePoint(sh.geom, {_POINT}) AS fraction
    FROM route_shapes sh JOIN routes r ON r.id = sh.route_id
    WHERE ST_DWithin(sh.geom::geography, {_POINT}::geography, :radius_m) AND {_MODE_FILTER}
    ORDER BY distance_m, sh.route_id, sh.id
    LIMIT 1
)
{_SNAP_SELECT}""")

# The nearest shape of one route, however far (a route the reporter named).
_SNAP_TO_ROUTE_SQL = sa.text(f"""
WITH shape AS MATERIALIZED (
    SELECT sh.id, sh.route_id, sh.direction, sh.length_m, sh.geom,
           CASE WHEN near.clipped_m <= :near_m THEN near.clipped_m
                ELSE ST_Distance(sh.geom::geography, {_POINT}::geography) END AS distance_m,
           ST_LineLocatePoint(sh.geom, {_POINT}) AS fraction
    FROM route_shapes sh
    CROSS JOIN LATERAL (SELECT CASE WHEN ST_DWithin(sh.geom, {_POINT}, :near_deg)
                                    THEN {_CLIPPED_DISTANCE} END AS clipped_m) near
    WHERE sh.route_id = :route_id
    ORDER BY distance_m, sh.id LIMIT 1
)
{_SNAP_SELECT}""")

# Within this distance of a named route, its distance is measured on clipped shapes.
NAMED_ROUTE_NEAR_M = 1000.0


def snap_to_nearest_route(
    connection: Executor, lon: float, lat: float, radius_m: float, mode: str | None
) -> SnappedRoute | None:
    """The nearest point on the nearest route (of `mode`, if given) within radius_m, or None."""
    return snap_to_nearest_routes(connection, [(lon, lat, radius_m, mode)])[0]


def snap_to_nearest_routes(
    connection: Executor, points: Sequence[tuple[float, float, float, str | None]]
) -> list[SnappedRoute | None]:
    """snap_to_nearest_route for each (lon, lat, radius_m, mode); one statement for all the
    points that have a box, one each for those near the poles or the antimeridian."""
    found: dict[int, SnappedRoute] = {}
    boxed: dict[str, list] = {"n": [], "lon": [], "lat": [], "radius_m": [], "near_deg": [],
                              "mode": []}  # fmt: skip
    for n, (lon, lat, radius_m, mode) in enumerate(points, start=1):
        box = clip_box(lon, lat, radius_m)
        if box is None:
            params = {"lon": lon, "lat": lat, "radius_m": radius_m, "mode": mode}
            row = connection.execute(_SNAP_TO_NEAREST_ROUTE_UNCLIPPED_SQL, params).one_or_none()
            if row is not None:
                found[n] = _snapped_route(row)
            continue
        for name, value in zip(boxed, (n, lon, lat, radius_m, box["near_deg"], mode), strict=True):
            boxed[name].append(value)
    if boxed["n"]:
        order = boxed.pop("n")
        for row in driver_rows(connection, _SNAP_TO_NEAREST_ROUTES_SQL, boxed):
            found[order[row.n - 1]] = _snapped_route(row)
    return [found.get(n) for n in range(1, len(points) + 1)]


def snap_to_route(
    connection: Executor, route_id: int, lon: float, lat: float
) -> SnappedRoute | None:
    """The nearest point of the route's shapes to (lon, lat); None if it has no shape."""
    box = clip_box(lon, lat, NAMED_ROUTE_NEAR_M) or dict.fromkeys(_BOX_KEYS)
    params = {"route_id": route_id, "lon": lon, "lat": lat, "near_m": NAMED_ROUTE_NEAR_M} | box
    row = connection.execute(_SNAP_TO_ROUTE_SQL, params).one_or_none()
    return None if row is None else _snapped_route(row)


_BOX_KEYS = ("xmin", "ymin", "xmax", "ymax", "near_deg")


def _snapped_route(row: Any) -> SnappedRoute:
    between = None
    if row.from_id is not None:
        between = ((row.from_id, row.from_name), (row.to_id, row.to_name))
    return SnappedRoute(
        id=row.route_id,
        public_id=row.public_id,
        short_name=row.short_name,
        mode=row.mode,
        direction=row.direction,
        lon=row.lon,
        lat=row.lat,
        along_m=float(row.along_m),
        distance_m=float(row.distance_m),
        between=between,
    )
