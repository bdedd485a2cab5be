"""Benchmark: hotspot cells and tiles from rollups vs raw reports on the fly vs pygeoapi.

    python -m benchmarks.hotspots [--count 1000000] [--runs 30] [--reuse] [--database NAME]
        [--app-port 18550] [--pygeoapi-port 18551]

Loads COUNT synthetic reports whose points follow the police.uk City of London map points
and the Humberside NaPTAN stops in ../shared/geodata into a fresh database (COPY with the
insert triggers off, then one rebuild with the triggers' own SQL), serves the app with
gunicorn on port 18550 and pygeoapi (from PyPI, in its own virtualenv under .local/) on
18551, and prints p50/p95 of each case.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.request import urlopen

import h3
import psycopg
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tqdm import tqdm

from benchmarks.results import figure, save
from streetsafe import migrate
from streetsafe.config import Settings
from streetsafe.hotspots.aggregate import HotspotFeature, cell_polygon
from streetsafe.hotspots.disclosure import publish
from streetsafe.hotspots.filters import parse_filters
from streetsafe.hotspots.formats import render
from streetsafe.hotspots.gistar import StudyArea
from streetsafe.hotspots.rollups import CATEGORY_IDS, rebuild_rollups
from streetsafe.hotspots.service import public_layer, with_gi_star

ROOT = Path(__file__).resolve().parents[1]
GEODATA = ROOT.parent / "shared" / "geodata"
if not GEODATA.is_dir():
    GEODATA = Path("/work/shared/geodata")
APP_PORT, PYGEOAPI_PORT = 18550, 18551
CITY_BBOX = (-0.1138, 51.5065, -0.0726, 51.5232)
WIDE_BBOX = (-3.0, 50.5, 1.8, 54.5)  # south-east England to Hull
TILE_Z14 = (14, 8187, 5447)  # over the City of London (Bank)
RESOLUTIONS = (7, 8, 9, 10)


def weighted_points() -> list[tuple[float, float]]:
    """police.uk City points (one entry per crime) and Humberside stops (one entry each)."""
    points = []
    for path in sorted((GEODATA / "police" / "city-of-london").glob("*.csv")):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                if row["Longitude"] and row["Latitude"]:
                    points.append((float(row["Longitude"]), float(row["Latitude"])))
    for path in sorted((GEODATA / "naptan" / "humberside").glob("*Stops.csv")):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                if row.get("Longitude") and row.get("Status", "active") == "active":
                    points.append((float(row["Longitude"]), float(row["Latitude"])))
    if not points:
        sys.exit(f"no points found under {GEODATA}; see geodata/README.md")
    return points


def fresh_database(base_url: str, name: str) -> str:
    """Create (or empty) the benchmark database and migrate it."""
    base = sa.make_url(base_url)
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    return url


def load_reports(url: str, count: int) -> float:
    """COPY `count` reports and their cells, then rebuild the rollups; returns seconds."""
    rng = random.Random(1)
    points = weighted_points()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    began = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        conn.execute("ALTER TABLE reports DISABLE TRIGGER USER")
        conn.execute("ALTER TABLE report_cells DISABLE TRIGGER USER")
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY reports (id, context, categories, occurred_at, geom, mode, synthetic) "
                "FROM STDIN"
            ) as copy_reports,
        ):
            cells = []
            for _ in tqdm(range(count), desc="reports", unit="report", mininterval=2):
                lon, lat = rng.choice(points)
                lon += rng.uniform(-0.0005, 0.0005)
                lat += rng.uniform(-0.0003, 0.0003)
                rid = uuid.uuid4()
                cats = "{" + ",".join(rng.sample(CATEGORY_IDS, rng.choice((1, 1, 2)))) + "}"
                when = start + timedelta(minutes=rng.randrange(60 * 24 * 700))
                context = rng.choice(("street", "street", "at_stop", "on_vehicle"))
                mode = "" if context == "street" else "bus"
                copy_reports.write_row(
                    (rid, context, cats, when, f"SRID=4326;POINT({lon} {lat})", mode or None, True)
                )
                cells.append((rid, lat, lon))
        with (
            conn.cursor() as cur,
            cur.copy("COPY report_cells (report_id, res, cell) FROM STDIN") as cp,
        ):
            for rid, lat, lon in tqdm(cells, desc="cells", unit="report", mininterval=2):
                for res in RESOLUTIONS:
                    cp.write_row((rid, res, h3.str_to_int(h3.latlng_to_cell(lat, lon, res))))
        conn.execute("ALTER TABLE reports ENABLE TRIGGER USER")
        conn.execute("ALTER TABLE report_cells ENABLE TRIGGER USER")
    engine = sa.create_engine(url)
    with Session(engine) as session, session.begin():
        print("rebuilding rollups", file=sys.stderr)
        rebuild_rollups(session)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - began


RAW_CELLS_SQL = """
SELECT c.cell, hotspot_category_mask(r.categories), count(*)::int
  FROM report_cells c JOIN reports r ON r.id = c.report_id
 WHERE c.res = :res AND r.geom && ST_MakeEnvelope(:a, :b, :c, :d, 4326)
 GROUP BY 1, 2
"""


def raw_cells_answer(session: Session, res: int, bbox: tuple, settings: Settings) -> bytes:
    """Baseline (a): the same public GeoJSON computed from raw reports on the fly."""
    features: dict[int, HotspotFeature] = {}
    rows = session.execute(
        sa.text(RAW_CELLS_SQL), {"res": res, **dict(zip("abcd", bbox, strict=True))}
    )
    for cell, mask, n in rows:
        f = features.setdefault(cell, HotspotFeature(h3.int_to_str(cell), cell_polygon(cell)))
        f.count += n
        f.mask_counts[mask] = f.mask_counts.get(mask, 0) + n
    public = with_gi_star(publish(features.values(), settings), StudyArea(bbox, res))
    filters = parse_filters({"res": str(res), "bbox": ",".join(map(str, bbox))})
    return render("geojson", "cells", public, filters, settings).body


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    """p50 and p95 in milliseconds over `runs` calls after one warm-up."""
    fn()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))]}


def fetch(url: str) -> Callable[[], bytes]:
    def get() -> bytes:
        with urlopen(url, timeout=120) as response:
            return response.read()

    return get


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited early ({url}); run it by hand to see why")
        try:
            urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"{url} did not answer within {seconds} s")


def start_app(url: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "STREETSAFE_RATE_LIMITS": ""}
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "streetsafe"), "serve", "--port", str(APP_PORT),
         "--workers", "2"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(f"http://127.0.0.1:{APP_PORT}/healthz", process)
    return process


PYGEOAPI_CONFIG = """
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  limits: {{default_items: 1000, max_items: 10000}}
  map: {{url: 'http://127.0.0.1/{{z}}/{{x}}/{{y}}.png', attribution: none}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], keywords_type: theme,
                   terms_of_service: none, url: 'http://127.0.0.1'}}
  license: {{name: OGL, url: 'http://127.0.0.1'}}
  provider: {{name: bench, url: 'http://127.0.0.1'}}
  contact: {{name: bench, email: bench@example.org, role: pointOfContact}}
resources:
  reports:
    type: collection
    title: reports
    description: raw reports
    keywords: [reports]
    extents:
      spatial: {{bbox: [-180, -90, 180, 90], crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: {host}, port: {db_port}, dbname: {dbname}, user: {user},
                password: '{password}', search_path: [public]}}
        id_field: id
        table: reports
        geom_field: geom
        properties: [context, mode, occurred_at]
"""


def ensure_pygeoapi() -> Path:
    """A virtualenv under .local/ with pygeoapi from PyPI, apart from the app's packages."""
    venv = ROOT / ".local" / "bench-pygeoapi"
    if not (venv / "bin" / "pygeoapi").exists():
        print("installing pygeoapi into .local/bench-pygeoapi", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        packages = ["pygeoapi", "psycopg2-binary", "geoalchemy2", "sqlalchemy", "gunicorn"]
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *packages], check=True)
    return venv


def start_pygeoapi(url: str) -> subprocess.Popen:
    """Serve the raw reports table with pygeoapi's PostgreSQL provider under gunicorn."""
    venv = ensure_pygeoapi()
    parts = sa.make_url(url)
    folder = ROOT / ".local" / "bench-pygeoapi"
    config = folder / "config.yml"
    config.write_text(PYGEOAPI_CONFIG.format(
        port=PYGEOAPI_PORT, host=parts.host, db_port=parts.port or 5432, dbname=parts.database,
        user=parts.username or "postgres", password=parts.password or "",
    ))  # fmt: skip
    openapi = folder / "openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    subprocess.run([str(venv / "bin" / "pygeoapi"), "openapi", "generate", str(config),
                    "--output-file", str(openapi)], check=True, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    process = subprocess.Popen(
        [str(venv / "bin" / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{PYGEOAPI_PORT}",
         "pygeoapi.flask_app:APP"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for(f"http://127.0.0.1:{PYGEOAPI_PORT}/collections/reports?f=json", process, 120)
    return process


def run_cases(url: str, runs: int) -> dict[str, dict[str, float]]:
    """Every measured case, side by side."""
    settings = Settings(database_url=url)
    app = f"http://127.0.0.1:{APP_PORT}"
    city = ",".join(map(str, CITY_BBOX))
    z, x, y = TILE_Z14
    results: dict[str, dict[str, float]] = {}
    engine = sa.create_engine(url)
    with Session(engine) as session:
        for name, res, bbox in (("City res 9", 9, CITY_BBOX), ("wide res 7", 7, WIDE_BBOX)):
            query = f"res={res}&bbox={','.join(map(str, bbox))}"
            results[f"cells {name}: API over HTTP (rollups)"] = timed(
                fetch(f"{app}/api/v1/hotspots/cells?{query}"), runs)  # fmt: skip
            filters = parse_filters({"res": str(res), "bbox": ",".join(map(str, bbox))})
            results[f"cells {name}: in-process (rollups)"] = timed(
                lambda f=filters: render("geojson", "cells", public_layer(session, "cells", f, settings), f, settings), runs)  # fmt: skip # noqa: E501
            results[f"cells {name}: in-process (raw reports, baseline a)"] = timed(
                lambda r=res, b=bbox: raw_cells_answer(session, r, b, settings), max(runs // 3, 3))  # fmt: skip # noqa: E501
    engine.dispose()
    tile = fetch(f"{app}/tiles/hotspots/{z}/{x}/{y}.mvt")
    if not tile():
        sys.exit(f"tile {z}/{x}/{y} is empty: the benchmark would measure nothing")
    results["tile z14: API over HTTP (rollups)"] = timed(tile, runs)
    pygeoapi = start_pygeoapi(url)
    try:
        base = f"http://127.0.0.1:{PYGEOAPI_PORT}/collections/reports/items?f=json&bbox={city}"
        results["pygeoapi City bbox, 1000 raw features (baseline b)"] = timed(fetch(f"{base}&limit=1000"), max(runs // 3, 3))  # fmt: skip # noqa: E501
        results["pygeoapi City bbox, resulttype=hits (baseline b)"] = timed(fetch(f"{base}&resulttype=hits"), max(runs // 3, 3))  # fmt: skip # noqa: E501
    finally:
        pygeoapi.terminate()
        pygeoapi.wait(10)
    return results


def main() -> None:
    """Load, serve, measure, print a Markdown table."""
    global APP_PORT, PYGEOAPI_PORT  # one run, one pair of ports
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep the loaded database")
    parser.add_argument("--app-port", type=int, default=APP_PORT)
    parser.add_argument("--pygeoapi-port", type=int, default=PYGEOAPI_PORT)
    parser.add_argument("--database", help="benchmark database name (default <db>_bench_hotspots)")
    args = parser.parse_args()
    APP_PORT, PYGEOAPI_PORT = args.app_port, args.pygeoapi_port
    base_url = os.environ.get("DATABASE_URL") or sys.exit("set DATABASE_URL to a PostGIS server")
    name = args.database or sa.make_url(base_url).database + "_bench_hotspots"
    if args.reuse:
        url = sa.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    else:
        url = fresh_database(base_url, name)
        print(
            f"loaded {args.count:,} reports in {load_reports(url, args.count):.0f} s",
            file=sys.stderr,
        )
    app = start_app(url)
    try:
        results = run_cases(url, args.runs)
    finally:
        app.terminate()
        app.wait(10)
    print(f"\n| case ({args.count:,} reports) | p50 ms | p95 ms |\n|---|---:|---:|")
    for case, figures in results.items():
        print(f"| {case} | {figures['p50']:.1f} | {figures['p95']:.1f} |")
    notes = f"{args.count:,} reports; p50 of {args.runs} requests."
    save("hotspots", summary_figures(results), notes=notes)


def summary_figures(results: dict[str, dict[str, float]]) -> list[dict]:
    """The targets' figures with their side-by-side baselines (p50 ms)."""
    p50 = {case: figures["p50"] for case, figures in results.items()}
    raw = "(raw reports, baseline a)"
    figures = [
        figure(f"cells {name}: API over HTTP", p50[f"cells {name}: API over HTTP (rollups)"], "ms",
               baseline=p50[f"cells {name}: in-process {raw}"], baseline_label=raw,
               target="p50 <= 100 ms", met=p50[f"cells {name}: API over HTTP (rollups)"] <= 100)
        for name in ("City res 9", "wide res 7")
    ]  # fmt: skip
    tile = p50["tile z14: API over HTTP (rollups)"]
    figures.append(
        figure("tile z14: API over HTTP", tile, "ms", target="p50 <= 50 ms", met=tile <= 50)
    )
    pygeoapi = p50.get("pygeoapi City bbox, 1000 raw features (baseline b)")
    if pygeoapi is not None:
        figures.append(figure(
            "cells City res 9 vs pygeoapi (1,000 raw features, same bbox)",
            p50["cells City res 9: API over HTTP (rollups)"], "ms", baseline=pygeoapi,
            baseline_label="(pygeoapi, baseline b)"))  # fmt: skip
    return figures


if __name__ == "__main__":
    main()
