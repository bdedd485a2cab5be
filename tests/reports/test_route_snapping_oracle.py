"""Snapping to route shapes on the real Southampton feed: the fast (clipped) SQL against the
whole-shape geodesic SQL, and against geopandas in British National Grid."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from shapely import LineString

from streetsafe.reports import snapping
from streetsafe.transit.gtfs import import_gtfs

RADIUS_M = 100.0
POINTS = 300


def _oracle_shapes(feed: Path, imported: set[str]) -> gpd.GeoDataFrame:
    """The imported shapes read straight from shapes.txt (not from our database), EPSG:27700."""
    with zipfile.ZipFile(feed) as archive, archive.open("shapes.txt") as handle:
        points = pd.read_csv(handle, dtype={"shape_id": str})
    points = points.sort_values(["shape_id", "shape_pt_sequence"])
    lines = {
        shape_id: LineString(zip(group.shape_pt_lon, group.shape_pt_lat, strict=True))
        for shape_id, group in points.groupby("shape_id")
        if shape_id in imported
    }
    frame = gpd.GeoDataFrame(
        {"shape_id": list(lines)}, geometry=list(lines.values()), crs="EPSG:4326"
    )
    return frame.to_crs("EPSG:27700")


def _random_points(shapes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Points up to 120 m (in x and y) from random places on random shapes (seeded)."""
    rng = np.random.default_rng(20261128)
    chosen = shapes.geometry.iloc[rng.integers(0, len(shapes), POINTS)]
    on_line = [line.interpolate(f, normalized=True) for line, f in
               zip(chosen, rng.uniform(0, 1, POINTS), strict=True)]
    x = np.array([p.x for p in on_line]) + rng.uniform(-120, 120, POINTS)
    y = np.array([p.y for p in on_line]) + rng.uniform(-120, 120, POINTS)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y, crs="EPSG:27700"))


@pytest.mark.realdata
def test_nearest_route_snap_matches_whole_shape_geodesic_sql_and_geopandas(
    connection: sa.Connection, db_session, shared_geodata: Path
) -> None:
    feed = shared_geodata / "gtfs" / "southampton-bluestar-2025.zip"
    import_gtfs(connection, feed, "southampton")
    imported = set(connection.scalars(sa.text("SELECT source_id FROM route_shapes")))
    shapes = _oracle_shapes(feed, imported)
    points = _random_points(shapes)
    oracle = gpd.sjoin_nearest(points, shapes, how="left", distance_col="distance_m")
    nearest_m = oracle.groupby(level=0).distance_m.min()
    found = none = ties = 0
    for index, point in points.to_crs("EPSG:4326").geometry.items():
        ours = snapping.snap_to_nearest_route(db_session, point.x, point.y, RADIUS_M, None)
        params = {"lon": point.x, "lat": point.y, "radius_m": RADIUS_M, "mode": None}
        whole = db_session.execute(
            snapping._SNAP_TO_NEAREST_ROUTE_UNCLIPPED_SQL, params
        ).one_or_none()
        if whole is None:
            assert ours is None
            assert nearest_m[index] > RADIUS_M * 0.99
            none += 1
            continue
        assert ours is not None
        # Clipping cuts a segment at the box's edge along the planar line, not the geodesic
        # edge: millimetres, at most centimetres on long segments; receipts round to 10 cm.
        assert ours.distance_m == pytest.approx(whole.distance_m, abs=0.05)
        if (ours.public_id, ours.direction) == (whole.public_id, whole.direction):
            assert (ours.lon, ours.lat) == pytest.approx((whole.lon, whole.lat), abs=1e-6)
            assert ours.along_m == pytest.approx(float(whole.along_m), abs=0.1)
            assert ours.between == (
                None if whole.from_id is None
                else ((whole.from_id, whole.from_name), (whole.to_id, whole.to_name)))
        else:  # a tie: shapes sharing a road
            ties += 1
        assert ours.distance_m == pytest.approx(nearest_m[index], rel=0.01, abs=0.05)
        named = snapping.snap_to_route(db_session, ours.id, point.x, point.y)
        assert named is not None and named.distance_m == pytest.approx(ours.distance_m, abs=0.05)
        found += 1
    assert found + none == POINTS and found >= 150 and none >= 10 and ties <= found // 10


def test_clip_box_holds_the_radius_and_gives_up_where_it_would_wrap() -> None:
    box = snapping.clip_box(-1.4, 50.9, 100.0)
    assert box is not None
    # 100 m is 0.0009 degrees of latitude and 0.00142 of longitude at 50.9 N.
    assert box["ymax"] - 50.9 > 0.0009 and box["xmax"] + 1.4 > 0.00142
    assert box["near_deg"] == pytest.approx(box["xmax"] + 1.4)
    assert snapping.clip_box(179.9995, 0.0, 100.0) is None
    assert snapping.clip_box(10.0, 88.999, 1000.0) is None


def test_a_point_on_the_geodesic_between_two_vertices_snaps_to_that_route(client, small_feed):
    # Route 7's edge from Alpha to Bravo: mid-way, the geodesic runs ~1 cm north of the
    # straight line in lon/lat. A report on the geodesic is 0 m from the route (it was a 422).
    from pyproj import Geod

    from tests.transit_fixture import LAT

    ((lon, lat),) = Geod(ellps="WGS84").npts(-1.40, LAT, -1.39, LAT, 1)
    body = {"context": "on_vehicle", "location": {"lat": lat, "lon": lon},
            "categories": ["overcrowding"], "transit": {"mode": "bus"}}  # fmt: skip
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 201, response.get_json()
    route = response.get_json()["snapped"]["route"]
    assert (route["id"], route["distance_m"]) == ("test:R7", 0.0)
