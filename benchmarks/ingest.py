"""Ingest benchmark: POST /api/v1/reports under gunicorn vs a bare JSON-insert endpoint.

    python -m benchmarks.ingest [--seconds 10] [--skip-naptan] [--reuse] [--port 18450]

Builds a fresh database (DATABASE_URL's server, database `<name>_bench`), imports the
Southampton GTFS feed and all 375,664 GB NaPTAN stops from ../shared/geodata, measures the
snapping SQL's median, then drives each server with Debian's wrk (installed if missing) at
1, 8 and 32 connections with varied valid reports: the app (reports queued for the hour's
publication, the default), the app publishing each report as it is stored
(STREETSAFE_PUBLISH_EVERY_S=0), the bare endpoint, and two Flask
floors (benchmarks/flask_floor.py: Flask + pydantic + the bare insert, and the same with the
service's Flask-Limiter limits). Prints a table and writes benchmarks/results/ingest.json.
Abuse limits are raised (not removed) for the run.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from tqdm import tqdm

from benchmarks.results import figure, save

ROOT = Path(__file__).resolve().parents[1]
GEODATA = Path(os.environ.get("STREETSAFE_GEODATA") or ROOT.parent / "shared" / "geodata")
if not GEODATA.is_dir():
    GEODATA = Path("/work/shared/geodata")
PORT = 18450  # the app's; the bare endpoint listens on the next port
CONNECTIONS = (1, 8, 32)
WARM_UP_S = 3
GUNICORN = {"workers": 2, "threads": 16}  # the app's defaults (streetsafe serve)

LUA = r"""
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local n = 0
request = function()
  n = n + 1
  local body = bodies[math.random(#bodies)]
  return wrk.format("POST", "/api/v1/reports", {["Content-Type"] = "application/json"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %.3f, "non2xx": %d, "errors": %d, ' ..
    '"p50_ms": %.2f, "p99_ms": %.2f}\n', summary.requests, summary.duration / 1e6,
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def ensure_wrk() -> str:
    """Debian's wrk, installed with apt-get when missing (needs root)."""
    path = shutil.which("wrk")
    if path:
        return path
    print("installing wrk with apt-get ...", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk") or sys.exit("wrk not found: apt-get install wrk")


def bench_database() -> str:
    """A fresh, migrated database next to DATABASE_URL's."""
    from streetsafe import migrate

    base = sa.make_url(os.environ.get("DATABASE_URL") or sys.exit("set DATABASE_URL"))
    name = f"{base.database}_bench"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    engine.dispose()
    migrate.upgrade(url)
    return url


def existing_bench_database() -> str:
    """The database an earlier run built (for --reuse)."""
    base = sa.make_url(os.environ.get("DATABASE_URL") or sys.exit("set DATABASE_URL"))
    return base.set(database=f"{base.database}_bench").render_as_string(hide_password=False)


def load_naptan(engine: sa.Engine) -> int:
    """COPY every GB NaPTAN stop (Easting/Northing -> WGS84 in PostGIS) as feed `naptan-gb`."""
    from streetsafe.transit.loader import driver_connection

    archive = GEODATA / "naptan" / "gb-146-areas-stops.tgz"
    with engine.begin() as connection, tarfile.open(archive) as tar:
        connection.execute(sa.text(
            "CREATE TEMP TABLE naptan_in (atco text, name text, stop_type text, "
            "easting float8, northing float8) ON COMMIT DROP"))
        raw = driver_connection(connection)
        members = [m for m in tar.getmembers() if m.name.endswith("Stops.csv")]
        with raw.cursor().copy("COPY naptan_in FROM STDIN") as copy:
            for member in tqdm(members, desc="NaPTAN areas", unit="area"):
                reader = csv.DictReader(io.TextIOWrapper(tar.extractfile(member), "utf-8-sig"))
                for row in reader:
                    copy.write_row((row["ATCOCode"], row["CommonName"], row["StopType"],
                                    row["Easting"], row["Northing"]))
        feed_id = connection.scalar(sa.text(
            "INSERT INTO feeds (name, kind, source) VALUES ('naptan-gb', 'naptan', :s) "
            "RETURNING id"), {"s": str(archive)})
        return connection.execute(sa.text(
            "INSERT INTO stops (feed_id, public_id, source_id, name, mode, geom) "
            "SELECT :feed, 'naptan-gb:' || atco, atco, name, "
            "CASE WHEN stop_type IN ('RSE','RLY','RPL') THEN 'rail' WHEN stop_type IN "
            "('TMU','PLT') THEN 'tram' WHEN stop_type IN ('FER','FBT') THEN 'ferry' "
            "ELSE 'bus' END, ST_Transform(ST_SetSRID(ST_MakePoint(easting, northing), 27700),"
            " 4326) FROM naptan_in"), {"feed": feed_id}).rowcount


def snapping_median_ms(engine: sa.Engine, samples: int = 300) -> dict[str, float]:
    """Median server-side execution time of the nearest-stop SQL the app runs (EXPLAIN ANALYZE,
    one point) and the median round trip from Python, at random points near random GB stops."""
    from streetsafe.reports import snapping

    statement = snapping._NEAREST_STOPS_SQL
    rng = random.Random(7)
    with engine.connect() as connection:
        points = connection.execute(sa.text(
            "SELECT ST_X(geom), ST_Y(geom) FROM stops TABLESAMPLE SYSTEM (1) LIMIT :n"),
            {"n": samples}).all()
        server, trip = [], []
        for lon, lat in tqdm(points, desc="snapping SQL", unit="query"):
            point = (lon + rng.uniform(-0.001, 0.001), lat + rng.uniform(-0.001, 0.001), 150.0)
            params = {"lon": [point[0]], "lat": [point[1]], "radius_m": [point[2]]}
            plan = connection.execute(
                sa.text("EXPLAIN (ANALYZE, FORMAT JSON) " + statement.text), params)
            server.append(plan.scalar()[0]["Execution Time"])
            started = time.perf_counter()
            snapping.nearest_stops(connection, [point])
            trip.append((time.perf_counter() - started) * 1000)
        plan_text = "\n".join(r[0] for r in connection.execute(
            sa.text("EXPLAIN " + statement.text), params))
    return {"server_median_ms": statistics.median(server),
            "round_trip_median_ms": statistics.median(trip),
            "uses_stops_geom_index": "ix_stops_geom" in plan_text}


def report_bodies(engine: sa.Engine, path: Path, count: int = 500) -> None:
    """Varied valid reports around Southampton: street, at_stop (near a stop), on_vehicle
    (on a route shape), random categories, some with a description."""
    from streetsafe.vocabulary import CATEGORY_IDS

    rng = random.Random(11)
    categories = sorted(CATEGORY_IDS)
    with engine.connect() as connection:
        stops = connection.execute(sa.text(
            "SELECT ST_X(s.geom), ST_Y(s.geom) FROM stops s JOIN feeds f ON f.id = s.feed_id "
            "WHERE f.name = 'southampton' ORDER BY random() LIMIT :n"), {"n": count}).all()
        on_route = connection.execute(sa.text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_LineInterpolatePoint(geom, random()) p "
            "FROM route_shapes ORDER BY random() LIMIT :n) q"), {"n": count}).all()
    lines = []
    for i in range(count):
        context = ("street", "at_stop", "on_vehicle")[i % 3]
        source = stops if context != "on_vehicle" else on_route
        lon, lat = source[i % len(source)]
        body = {"context": context,
                "location": {"lat": round(lat + rng.uniform(-3e-4, 3e-4), 6),
                             "lon": round(lon + rng.uniform(-3e-4, 3e-4), 6)},
                "categories": rng.sample(categories, rng.randint(1, 3))}
        if context == "on_vehicle":
            body["transit"] = {"mode": "bus"}
        if i % 4 == 0:
            body["description"] = "benchmark report " + str(i)
        lines.append(json.dumps(body))
    path.write_text("\n".join(lines) + "\n")


def start_server(kind: str, url: str, redis_url: str, port: int) -> subprocess.Popen:
    """gunicorn (same settings for all) serving the app, a Flask floor or the bare endpoint."""
    env = {**os.environ, "DATABASE_URL": url, "BARE_DATABASE_URL": url, "REDIS_URL": redis_url,
           "STREETSAFE_RATE_LIMITS": "1000000/minute", "STREETSAFE_ENV": "development"}
    if kind == "app-at-once":  # each report rolled up as it is stored (before migration 0029)
        env["STREETSAFE_PUBLISH_EVERY_S"] = "0"
    target = {"bare": "benchmarks.bare_app:app", "floor": "benchmarks.flask_floor:app",
              "limited": "benchmarks.flask_floor:limited_app"}.get(kind)
    code = (
        "from streetsafe.config import Settings\n"
        "from streetsafe.server import run_gunicorn, StreetSafeServer\n"
        f"kind = {kind!r}\n"
        "if kind.startswith('app'):\n"
        f"    run_gunicorn(Settings.from_env(), '127.0.0.1', {port}, "
        f"{GUNICORN['workers']}, {GUNICORN['threads']})\n"
        "else:\n"
        "    from gunicorn.app.wsgiapp import run\n"
        "    import sys\n"
        f"    sys.argv = ['gunicorn', '-b', '127.0.0.1:{port}', '-w', '{GUNICORN['workers']}',"
        f" '--threads', '{GUNICORN['threads']}', '-k', 'gthread', '--reuse-port',"
        " '--log-level', 'warning',"
        f" {target!r}]\n"
        "    run()\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT)
    probe = "/healthz" if kind.startswith("app") else "/"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process  # the bare app answers GET with an error: it is up
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit(f"{kind} server did not start on port {port}")


def analyze(engine: sa.Engine) -> None:
    """ANALYZE the whole database (outside a transaction)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("ANALYZE"))


def run_wrk(wrk: str, port: int, connections: int, seconds: int, lua: Path, bodies: Path):
    """One wrk run; returns requests/s, p50, p99 and error counts."""
    result = subprocess.run(
        [wrk, f"-t{min(connections, 2)}", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", str(lua), f"http://127.0.0.1:{port}"],
        env={**os.environ, "BODIES": str(bodies)}, capture_output=True, text=True, check=True)
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    stats["rps"] = round(stats["requests"] / stats["seconds"], 1)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--skip-naptan", action="store_true")
    parser.add_argument("--port", type=int, default=PORT,
                        help="the app's port; the bare endpoint uses the next one")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the last run's database (same data), skip the imports")
    args = parser.parse_args()
    from streetsafe.transit.gtfs import import_gtfs

    wrk = ensure_wrk()
    url = existing_bench_database() if args.reuse else bench_database()
    redis_url = os.environ.get("REDIS_URL") or sys.exit("set REDIS_URL")
    engine = sa.create_engine(url)
    if args.reuse:
        with engine.begin() as connection:
            connection.execute(sa.text("TRUNCATE reports CASCADE"))
            naptan = connection.scalar(sa.text(
                "SELECT count(*) FROM stops s JOIN feeds f ON f.id = s.feed_id "
                "WHERE f.name = 'naptan-gb'"))
    else:
        with engine.begin() as connection:
            import_gtfs(connection, GEODATA / "gtfs" / "southampton-bluestar-2025.zip",
                        "southampton", quiet=False)
        naptan = 0 if args.skip_naptan else load_naptan(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # Statistics, hint bits and the free space map of a freshly loaded (or reused) database
        # before measuring: the same for every target. With ANALYZE alone the app ran at about
        # half the rate it reached on the same database after VACUUM ANALYZE. The import's dirty
        # pages are written now (CHECKPOINT), not during the first target's runs.
        connection.execute(sa.text("VACUUM ANALYZE"))
        connection.execute(sa.text("CHECKPOINT"))
    results: dict = {"naptan_stops": naptan, "snapping": snapping_median_ms(engine), "runs": []}
    workdir = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    lua, bodies = workdir / "post.lua", workdir / "bodies.jsonl"
    lua.write_text(LUA)
    report_bodies(engine, bodies)
    targets = (("app", args.port), ("app-at-once", args.port + 4), ("limited", args.port + 3),
               ("floor", args.port + 2), ("bare", args.port + 1))
    for kind, port in targets:
        server = start_server(kind, url, redis_url, port)
        try:
            # Warm-up, not measured, the same for every target: worker imports, pooled
            # connections, prepared statements, the triggers' cached plans, Redis scripts.
            run_wrk(wrk, port, 8, WARM_UP_S, lua, bodies)
            # Statistics that match the tables, as a running service has them. Analyzed
            # empty (above), reports looked empty to the planner until autovacuum's next
            # analyze (a minute or more): the foreign-key checks and cell triggers planned
            # sequential scans of reports, which grew with every report (one fresh run made
            # 61,032 of them, reading 282 million rows). ANALYZE also replans cached plans.
            analyze(engine)
            for connections in CONNECTIONS:
                stats = run_wrk(wrk, port, connections, args.seconds, lua, bodies)
                results["runs"].append({"target": kind, "connections": connections, **stats})
                print(kind, connections, stats, flush=True)
        finally:
            server.terminate()
            server.wait(timeout=20)
    engine.dispose()
    out = ROOT / "benchmarks" / "results" / "ingest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    save("ingest", summary_figures(results), notes=f"{naptan:,} NaPTAN stops loaded; "
         f"wrk, {args.seconds} s per run; full results in benchmarks/results/ingest.json.")


def summary_figures(results: dict) -> list[dict]:
    """Throughput against the bare endpoint, p99 at 8 connections, snapping median."""
    runs = {(r["target"], r["connections"]): r for r in results["runs"]}
    figures = []
    for connections in CONNECTIONS:
        app, bare = runs[("app", connections)], runs[("bare", connections)]
        target = "full >= 0.6x bare" if connections == 32 else ""
        met = app["rps"] >= 0.6 * bare["rps"] if connections == 32 else None
        figures.append(figure(
            f"POST /api/v1/reports throughput, {connections} connections", app["rps"], "req/s",
            baseline=bare["rps"], baseline_label="(bare psycopg insert)", target=target,
            met=met))  # fmt: skip
    at_once, bare = runs[("app-at-once", 32)], runs[("bare", 32)]
    figures.append(figure(
        "the same, 32 connections, each report rolled up as it is stored (publication at once)",
        at_once["rps"], "req/s", baseline=bare["rps"], baseline_label="(bare psycopg insert)"))
    # What the parts the issue requires cost on their own, against the same bare endpoint.
    for kind, label in (("limited", "Flask + pydantic + Flask-Limiter floor"),
                        ("floor", "Flask + pydantic floor")):
        floor, bare = runs[(kind, 32)], runs[("bare", 32)]
        figures.append(figure(f"{label} (no snapping, cells or rollups), 32 connections",
                              floor["rps"], "req/s", baseline=bare["rps"],
                              baseline_label="(bare psycopg insert)"))  # fmt: skip
    p99 = runs[("app", 8)]["p99_ms"]
    figures.append(figure("p99 latency at 8 connections", p99, "ms", target="<= 50 ms",
                          met=p99 <= 50))  # fmt: skip
    median = results["snapping"]["server_median_ms"]
    figures.append(figure("snapping SQL median (server time, all NaPTAN stops)", median, "ms",
                          target="<= 1 ms", met=median <= 1))  # fmt: skip
    return figures


if __name__ == "__main__":
    main()
