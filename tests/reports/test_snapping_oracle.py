"""Snapping on the real Southampton feed, checked against geopandas in British National Grid."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from streetsafe.reports import snapping
from streetsafe.transit.gtfs import import_gtfs

RADIUS_M = 150.0
POINTS = 500


def _oracle_stops(feed: Path) -> gpd.GeoDataFrame:
    """stops.txt read straight from the zip (not from our database), in EPSG:27700."""
    with zipfile.ZipFile(feed) as archive, archive.open("stops.txt") as handle:
        stops = pd.read_csv(handle, dtype={"stop_id": str})
    points = gpd.points_from_xy(stops.stop_lon, stops.stop_lat, crs="EPSG:4326")
    frame = gpd.GeoDataFrame({"stop_id": "southampton:" + stops.stop_id}, geometry=points)
    return frame.to_crs("EPSG:27700")


def _random_points(stops: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """500 points up to 100 m (in x and y) from randomly chosen stops (seeded)."""
    rng = np.random.default_rng(20261127)
    chosen = stops.geometry.iloc[rng.integers(0, len(stops), POINTS)]
    x = chosen.x.to_numpy() + rng.uniform(-100, 100, POINTS)
    y = chosen.y.to_numpy() + rng.uniform(-100, 100, POINTS)
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y, crs="EPSG:27700"))


@pytest.mark.realdata
def test_nearest_stop_matches_geopandas_sjoin_nearest(
    connection: sa.Connection, db_session, shared_geodata: Path
) -> None:
    feed = shared_geodata / "gtfs" / "southampton-bluestar-2025.zip"
    import_gtfs(connection, feed, "southampton")
    stops = _oracle_stops(feed)
    points = _random_points(stops)
    oracle = gpd.sjoin_nearest(points, stops, how="left", distance_col="distance_m")
    # Ties give several rows per point: keep the set of equally near stops.
    nearest = oracle.groupby(level=0).agg(ids=("stop_id", set), distance_m=("distance_m", "min"))
    lonlat = points.to_crs("EPSG:4326")
    checked = misses = edge = 0
    for index, point in lonlat.geometry.items():
        ours = snapping.nearest_stop(db_session, point.x, point.y, RADIUS_M)
        expected = nearest.loc[index]
        if expected.distance_m > RADIUS_M * 1.01:
            assert ours is None
            misses += 1
            continue
        if ours is None:  # only just outside the radius on the spheroid
            assert expected.distance_m > RADIUS_M * 0.99
            edge += 1
            continue
        assert ours.public_id in expected.ids
        assert ours.distance_m == pytest.approx(expected.distance_m, rel=0.01)
        checked += 1
    assert checked + misses + edge == POINTS and checked >= 450
