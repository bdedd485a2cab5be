"""Import speed: our COPY importers against geopandas + GeoDataFrame.to_postgis, same run.

Uses a scratch database (TEST_DATABASE_NAME + "_bench", created and migrated here) on the
server of TEST_DATABASE_URL / DATABASE_URL. Data: ../shared/geodata (STREETSAFE_GEODATA).
"""

from __future__ import annotations

import os
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from benchmarks.results import figure, save
from streetsafe import migrate
from streetsafe.transit.gtfs import import_gtfs
from streetsafe.transit.naptan import import_naptan

ROOT = Path(__file__).resolve().parents[1]
GEODATA = Path(os.environ.get("STREETSAFE_GEODATA") or ROOT.parent / "shared" / "geodata")
GTFS = GEODATA / "gtfs" / "southampton-bluestar-2025.zip"
NAPTAN = GEODATA / "naptan" / "gb-146-areas-stops.tgz"


def scratch_database() -> str:
    """A fresh, migrated benchmark database URL."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TEST_DATABASE_NAME", "streetsafe_bench")
    from tests.conftest import fresh_database

    url = fresh_database("bench")
    migrate.upgrade(url)
    return url


def timed(label: str, work: Callable[[], object]) -> float:
    """Seconds taken by `work`, printed."""
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    print(f"  {label:<58} {seconds:7.2f} s", flush=True)
    return seconds


def ours_gtfs(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        import_gtfs(connection, GTFS, "southampton")


def baseline_gtfs(engine: sa.Engine) -> None:
    """What a user would write: pandas reads, geopandas builds geometry, to_postgis writes."""
    with zipfile.ZipFile(GTFS) as feed:
        stops, shapes, trips, stop_times = (
            pd.read_csv(feed.open(f"{name}.txt"), dtype=str)
            for name in ("stops", "shapes", "trips", "stop_times")
        )
    points = gpd.GeoDataFrame(stops, crs=4326, geometry=gpd.points_from_xy(
        stops.stop_lon.astype(float), stops.stop_lat.astype(float)))  # fmt: skip
    shapes["seq"] = shapes.shape_pt_sequence.astype(int)
    shapes = shapes.sort_values(["shape_id", "seq"])
    shape_points = gpd.GeoDataFrame(shapes, crs=4326, geometry=gpd.points_from_xy(
        shapes.shape_pt_lon.astype(float), shapes.shape_pt_lat.astype(float)))  # fmt: skip
    lines = shape_points.groupby("shape_id")["geometry"].apply(
        lambda g: __import__("shapely").LineString(g.tolist())
    )
    lines = gpd.GeoDataFrame(lines.reset_index(), geometry="geometry", crs=4326)
    stop_times["seq"] = stop_times.stop_sequence.astype(int)
    calls = stop_times.merge(trips[["trip_id", "route_id", "direction_id", "shape_id"]])
    calls = calls.merge(stops[["stop_id", "stop_lat", "stop_lon"]])
    calls = gpd.GeoDataFrame(calls, crs=4326, geometry=gpd.points_from_xy(
        calls.stop_lon.astype(float), calls.stop_lat.astype(float)))  # fmt: skip
    points.to_postgis("baseline_stops", engine, if_exists="replace", index=False)
    lines.to_postgis("baseline_shapes", engine, if_exists="replace", index=False)
    calls.to_postgis("baseline_stop_times", engine, if_exists="replace", index=False,
                     chunksize=20_000)  # fmt: skip


def ours_naptan_bulk(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        import_naptan(connection, [NAPTAN], "naptan", bulk=True)


def ours_naptan(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        import_naptan(connection, [NAPTAN], "naptan")


def baseline_naptan(engine: sa.Engine) -> None:
    """pandas reads every Stops.csv, geopandas converts, to_postgis writes (active rows)."""
    with tempfile.TemporaryDirectory() as folder, tarfile.open(NAPTAN) as archive:
        archive.extractall(folder, filter="data")
        files = sorted(Path(folder).rglob("*Stops.csv"))
        frame = pd.concat([pd.read_csv(f, dtype=str, low_memory=False) for f in files])
    frame = frame[frame.Status == "active"]
    grid = gpd.GeoDataFrame(frame, crs=27700, geometry=gpd.points_from_xy(
        frame.Easting.astype(float), frame.Northing.astype(float))).to_crs(4326)  # fmt: skip
    # Same destination as ours: the real stops table, with its indexes, under its own feed.
    with engine.begin() as connection:
        feed_id = connection.scalar(sa.text(
            "INSERT INTO feeds (name, kind) VALUES ('baseline-naptan', 'naptan') "
            "ON CONFLICT (name) DO UPDATE SET kind = 'naptan' RETURNING id"))  # fmt: skip
        connection.execute(sa.text("DELETE FROM stops WHERE feed_id = :f"), {"f": feed_id})
    rows = gpd.GeoDataFrame({
        "feed_id": feed_id, "public_id": "baseline-naptan:" + grid.ATCOCode,
        "source_id": grid.ATCOCode, "name": grid.CommonName, "location_type": 0,
        "locality": grid.LocalityName}, geometry=grid.geometry.values, crs=4326)  # fmt: skip
    rows.rename_geometry("geom").to_postgis("stops", engine, if_exists="append", index=False,
                                            chunksize=20_000)  # fmt: skip


def main() -> None:
    """Time both importers and their baselines; print the ratios against the targets."""
    if not GTFS.exists() or not NAPTAN.exists():
        print(f"  skipped: real geodata not found at {GEODATA}")
        return
    engine = sa.create_engine(scratch_database())
    # The first NaPTAN load runs as `import-naptan --bulk` (indexes rebuilt after the COPY,
    # loader.indexes_rebuilt: a first load or a maintenance window); the replace runs as a
    # live one does, indexes kept up to date, so that readers never wait. The baseline
    # replaces its own feed the same way both times.
    cases = (("Southampton GTFS", ours_gtfs, baseline_gtfs, 20.0),
             ("NaPTAN 375,664 rows (146 areas), first load --bulk", ours_naptan_bulk,
              baseline_naptan, 60.0),
             ("NaPTAN replace, live (readers never wait)", ours_naptan, baseline_naptan,
              60.0))  # fmt: skip
    figures = []
    for label, ours, baseline, target_s in cases:
        ours_s = timed(f"{label}: streetsafe (COPY)", lambda o=ours: o(engine))
        base_s = timed(f"{label}: geopandas + to_postgis", lambda b=baseline: b(engine))
        verdict = "ok" if ours_s <= target_s and base_s >= 3 * ours_s else "MISSED"
        print(f"  -> {base_s / ours_s:.1f}x faster; target <= {target_s:.0f} s and >= 3x: "
              f"{verdict}", flush=True)  # fmt: skip
        figures.append(figure(
            label, ours_s, "s", baseline=base_s, baseline_label="(geopandas + to_postgis)",
            target=f"<= {target_s:.0f} s and >= 3x", met=verdict == "ok"))  # fmt: skip
    engine.dispose()
    save("import", figures)


if __name__ == "__main__":
    main()
