"""Positions along routes are geodesic metres along the shape: route stops and on-vehicle
snaps, on the real Southampton feed, against PostGIS and an independent oracle in metres."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from streetsafe.reports import snapping
from streetsafe.transit.gtfs import import_gtfs

POINTS = 200
RADIUS_M = 100.0

# PostGIS's metres along each shape of a route direction to its nearest point to (lon, lat).
POSTGIS_ALONG = """
SELECT sh.id, ST_Distance(sh.geom::geography, p.geom::geography) AS distance_m,
       ST_Length(ST_LineSubstring(sh.geom, 0, ST_LineLocatePoint(sh.geom, p.geom))::geography)
           AS along_m
FROM route_shapes sh, (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom) p
WHERE sh.route_id = :route_id AND sh.direction = :direction
"""

# A route direction's stops in order with the shape they were placed on, for the oracle.
ROUTE_STOPS = """
SELECT s.public_id, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, rs.shape_id
FROM route_stops rs JOIN stops s ON s.id = rs.stop_id
WHERE rs.route_id = :route_id AND rs.direction = :direction ORDER BY rs.seq
"""


def _points_near_shapes(connection: sa.Connection) -> list[tuple[float, float]]:
    """POINTS places up to 60 m from random places on random shapes (seeded)."""
    rng = np.random.default_rng(20261202)
    ids = list(connection.scalars(sa.text("SELECT id FROM route_shapes ORDER BY id")))
    points = []
    for shape_id in rng.choice(ids, POINTS):
        row = connection.execute(
            sa.text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Project(ST_LineInterpolatePoint(geom, "
                ":f)::geography, :d, :az)::geometry AS p FROM route_shapes WHERE id = :id) q"
            ),
            {"f": rng.uniform(), "d": rng.uniform(0, 60), "az": rng.uniform(0, 6.28),
             "id": int(shape_id)},  # fmt: skip
        ).one()
        points.append((row[0], row[1]))
    return points


AMBIGUOUS = ("ambiguous", "ambiguous")


def _oracle_between(
    connection: sa.Connection, shape_id: int, route_id: int, direction: int, lon: float, lat: float
) -> tuple[str, str] | None:
    """The consecutive stops whose projections on the shape (shapely, British National Grid,
    metres) bracket the point's projection: independent of our walk and our SQL. AMBIGUOUS
    where the stops do not project in their order (loops, roads taken twice: a projection
    can pick either pass there)."""
    wkt = connection.scalar(sa.text("SELECT ST_AsText(geom) FROM route_shapes WHERE id = :i"),
                            {"i": shape_id})  # fmt: skip
    stops = connection.execute(sa.text(ROUTE_STOPS), {"route_id": route_id,
                               "direction": direction}).all()  # fmt: skip
    frame = gpd.GeoSeries(
        [shapely.from_wkt(wkt), shapely.Point(lon, lat)]
        + [shapely.Point(s.lon, s.lat) for s in stops],
        crs="EPSG:4326",
    ).to_crs("EPSG:27700")
    line = frame.iloc[0]
    at = line.project(frame.iloc[1])
    along = [line.project(point) for point in frame.iloc[2:]]
    if any(b < a for a, b in itertools.pairwise(along)):
        return AMBIGUOUS
    for i in range(len(stops) - 1):
        if along[i] <= at <= along[i + 1]:
            return stops[i].public_id, stops[i + 1].public_id
    return None


@pytest.mark.realdata
def test_on_vehicle_snaps_measure_metres_along_the_shape_between_the_right_stops(
    connection: sa.Connection, db_session, shared_geodata: Path
) -> None:
    import_gtfs(connection, shared_geodata / "gtfs" / "southampton-bluestar-2025.zip", "sot")
    points = _points_near_shapes(connection)
    snaps = snapping.snap_to_nearest_routes(
        db_session, [(lon, lat, RADIUS_M, None) for lon, lat in points]
    )
    measured = agreed = compared = 0
    for (lon, lat), snap in zip(points, snaps, strict=True):
        assert snap is not None
        params = {"lon": lon, "lat": lat, "route_id": snap.id, "direction": snap.direction}
        shapes = connection.execute(sa.text(POSTGIS_ALONG), params).all()
        nearest = [s for s in shapes if s.distance_m <= snap.distance_m + 0.05]
        # PostGIS's own metres along the nearest shape, within a metre.
        assert min(abs(s.along_m - snap.along_m) for s in nearest) < 1.0
        measured += 1
        placed_on = connection.scalars(sa.text(
            "SELECT DISTINCT shape_id FROM route_stops WHERE route_id = :route_id "
            "AND direction = :direction"), params).all()  # fmt: skip
        shape_id = nearest[0].id
        if snap.between is None or shape_id not in placed_on:
            continue  # between stops placed on another of the route's shapes: no measure
        oracle = _oracle_between(connection, shape_id, snap.id, snap.direction, lon, lat)
        if oracle != AMBIGUOUS:
            compared += 1
            agreed += oracle == (snap.between[0][0], snap.between[1][0])
    assert measured == POINTS and compared > POINTS // 4
    assert agreed >= compared - 1, (agreed, compared)

