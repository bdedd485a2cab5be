"""Where a report is tied to, by context: the rules of the snap step.

- `street`: the point as given; the nearest stop within the street radius, if any.
- `at_stop`: the named stop, or the nearest within the at-stop radius (else 422); the
  point becomes the stop's.
- `on_vehicle`: the nearest point on the named route (within 1 km, else 422), or on the
  nearest route of the mode within the on-vehicle radius (else 422); the point becomes it.

`snap_reports` applies the rules to a batch: the nearest stops of every report in one
statement and the nearest routes in another. Reports that name a stop or a route are rare
and snapped one at a time, by `snap_report`, with the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..config import Settings
from ..errors import Unprocessable
from . import snapping
from .schema import ReportIn, TransitIn
from .snapping import Executor, SnappedRoute, SnappedStop

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
    transit = report_in.transit or TransitIn()
    location = report_in.location
    lon, lat = (location.lon, location.lat) if location else (None, None)
    given_stop = None
    if transit.stop_id is not None:
        given_stop = snapping.stop_by_id(connection, transit.stop_id, lon, lat)
        if given_stop is None:
            raise Unprocessable(f"no stop with id {transit.stop_id!r}", "transit.stop_id")
        if lon is None:
            lon, lat = given_stop.lon, given_stop.lat
    assert lon is not None and lat is not None  # the schema requires location or stop_id
    if report_in.context == "street":
        stop = None
        if settings.street_stop_radius_m > 0:
            stop = snapping.nearest_stop(connection, lon, lat, settings.street_stop_radius_m)
        return Snap(lon, lat, stop, None, transit.mode)
    if report_in.context == "at_stop":
        stop = given_stop or snapping.nearest_stop(connection, lon, lat, settings.at_stop_radius_m)
        route = None
        if stop is not None and transit.route_id is not None:  # the named route, at the stop
            route_id = _route_id(connection, transit.route_id)
            route = snapping.snap_to_route(connection, route_id, stop.lon, stop.lat)
        return _at_stop(stop, route, transit, settings)
    if transit.route_id is None:
        radius_m = settings.on_vehicle_radius_m
        route = snapping.snap_to_nearest_route(connection, lon, lat, radius_m, transit.mode)
        return _on_vehicle(route, given_stop, transit, settings)
    route = snapping.snap_to_route(connection, _route_id(connection, transit.route_id), lon, lat)
    if route is None:
        raise Unprocessable("this route has no geometry to snap to", "transit.route_id")
    if route.distance_m > MAX_NAMED_ROUTE_DISTANCE_M:
        raise Unprocessable(
            f"this location is {route.distance_m:.0f} m from route {transit.route_id!r}; "
            "check the route or the location",
            "location",
        )
    return Snap(route.lon, route.lat, given_stop, route, route.mode)


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
    stops = snapping.nearest_stops(connection, [point for _, point in near_stop])
    for (i, (lon, lat, _)), stop in zip(near_stop, stops, strict=True):
        report_in = reports[i]
        transit = report_in.transit or TransitIn()
        if report_in.context == "street":
            results[i] = Snap(lon, lat, stop, None, transit.mode)
        else:
            results[i] = _caught(_at_stop, stop, None, transit, settings)
    routes = snapping.snap_to_nearest_routes(connection, [point for _, point in near_route])
    for (i, _), route in zip(near_route, routes, strict=True):
        results[i] = _caught(_on_vehicle, route, None, reports[i].transit or TransitIn(), settings)
    return [result for result in results if result is not None]


def _at_stop(
    stop: SnappedStop | None, route: SnappedRoute | None, transit: TransitIn, settings: Settings
) -> Snap:
    if stop is None:
        raise Unprocessable(
            f"no stop within {settings.at_stop_radius_m:g} m of this location; report it as a "
            "street report, or choose the stop (transit.stop_id)",
            "location",
        )
    mode = stop.mode or (route.mode if route else None) or transit.mode
    return Snap(stop.lon, stop.lat, stop, route, mode)


def _on_vehicle(
    route: SnappedRoute | None, stop: SnappedStop | None, transit: TransitIn, settings: Settings
) -> Snap:
    if route is None:
        kind = f"{transit.mode} route" if transit.mode else "route"
        raise Unprocessable(
            f"no {kind} within {settings.on_vehicle_radius_m:g} m of this location; choose "
            "the route (transit.route_id)",
            "location",
        )
    return Snap(route.lon, route.lat, stop, route, route.mode)


def _caught(rule, *args) -> Snap | Unprocessable:  # noqa: ANN001, ANN002
    try:
        return rule(*args)
    except Unprocessable as error:
        return error


def _route_id(connection: Executor, public_id: str) -> int:
    route_id = snapping.route_by_id(connection, public_id)
    if route_id is None:
        raise Unprocessable(f"no route with id {public_id!r}", "transit.route_id")
    return route_id
