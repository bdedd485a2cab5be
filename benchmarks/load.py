"""Historic import benchmark: `streetsafe reports load` vs posting the same reports over HTTP.

    python -m benchmarks.load [--count 50000] [--connections 32] [--port 18650] [--reuse]

Builds a database with all GB NaPTAN stops and the Southampton GTFS feed (benchmarks/
national.py, DATABASE_URL's server, `<name>_loadbench`), writes COUNT reports spread as the
national data set is, and stores them twice, each time into a fresh copy of that database:
once with `streetsafe reports load FILE` (one transaction, wall clock of the command), once
by POSTing every line once to /api/v1/reports under gunicorn (the app's defaults, abuse
limits raised) with wrk at CONNECTIONS connections. Both go through the same validation,
snapping, cells and rollups. Writes benchmarks/results/load-summary.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks import national
from benchmarks.results import figure, save

PORT = 18650
TARGET_RPS = 10_000

# Every line is posted once: thread t of T takes lines t, t+T, ...; when a thread has sent
# all of its lines it asks for /healthz (no write) until post_all interrupts it.
LUA = r"""
local next_id = 1
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
function init(args)
  bodies, sent = {}, 0
  local threads, n = tonumber(os.getenv("THREADS")), 0
  for line in io.lines(os.getenv("BODIES")) do
    if n % threads == tid - 1 then bodies[#bodies + 1] = line end
    n = n + 1
  end
end
function request()
  sent = sent + 1
  local body = bodies[sent]
  if body == nil then return wrk.format("GET", "/healthz") end
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


def copy_database(url: str, name: str) -> str:
    """A fresh copy (CREATE DATABASE ... TEMPLATE) of url's database, named `name`."""
    base = sa.make_url(url)
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{base.database}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def stored(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(sa.text("SELECT count(*) FROM reports"))
    engine.dispose()
    return count


def post_all(url: str, path: Path, count: int, connections: int, port: int) -> dict:
    """POST every line once through the app under gunicorn; the rate at which they were stored.

    The clock runs from wrk's start to the moment the database holds every report (or stops
    growing for 15 s: refusals); wrk is then interrupted and prints its latencies.
    """
    from benchmarks.ingest import ensure_wrk, start_server

    wrk = ensure_wrk()
    redis_url = os.environ.get("REDIS_URL") or sys.exit("set REDIS_URL")
    server = start_server("app", url, redis_url, port)
    threads = min(connections, 2)
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
            lua.write(LUA)
            lua.flush()
            began = time.monotonic()
            client = subprocess.Popen(
                [wrk, f"-t{threads}", f"-c{connections}", "-d3600s", "--latency", "-s",
                 lua.name, f"http://127.0.0.1:{port}"],
                env={**os.environ, "BODIES": str(path), "THREADS": str(threads)},
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            seen, seen_at = stored(url), time.monotonic()
            while seen < count and time.monotonic() - seen_at < 15:
                time.sleep(0.5)
                now = stored(url)
                if now != seen:
                    seen, seen_at = now, time.monotonic()
            client.send_signal(signal.SIGINT)
            output, _ = client.communicate(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
    seconds = seen_at - began
    lines = [line for line in output.strip().splitlines() if line.startswith("{")]
    stats = json.loads(lines[-1]) if lines else {}
    return {**stats, "stored": seen, "seconds": round(seconds, 2), "rps": round(seen / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--reuse", action="store_true", help="keep <name>_loadbench's transit")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or sys.exit("set DATABASE_URL")
    name = f"{sa.make_url(base).database}_loadbench"
    if args.reuse:
        url = sa.make_url(base).set(database=name).render_as_string(hide_password=False)
    else:
        url = national.prepare_database(base, name)
    path = Path(tempfile.gettempdir()) / f"{name}.ndjson"
    national.write_national(url, path, args.count)

    load_url = copy_database(url, f"{name}_cli")
    seconds = national.load_national(load_url, path, source="bench")
    loaded = stored(load_url)
    http_url = copy_database(url, f"{name}_http")
    http = post_all(http_url, path, args.count, args.connections, args.port)
    results = {"count": args.count, "load_seconds": round(seconds, 2), "loaded": loaded,
               "load_rps": round(loaded / seconds, 1), "http": http}  # fmt: skip
    print(json.dumps(results, indent=2))
    save("load", summary_figures(results, args.connections),
         notes=f"{args.count:,} national reports (benchmarks/national.py) over all GB NaPTAN "
               "stops and Southampton; the same file both ways, each into a fresh copy of the "
               "transit database.")  # fmt: skip


def summary_figures(results: dict, connections: int) -> list[dict]:
    """The two rates side by side, and the refusals (there should be none)."""
    http = results["http"]
    return [
        figure(f"reports load, {results['count']:,} reports (one transaction)",
               results["load_rps"], "reports/s", baseline=http["rps"],
               baseline_label=f"POST /api/v1/reports, {connections} connections",
               target=f">= {TARGET_RPS:,} reports/s", met=results["load_rps"] >= TARGET_RPS),
        figure("stored by reports load", results["loaded"], "reports"),
        figure(f"stored over HTTP ({http.get('non2xx', '?')} non-2xx)", http["stored"],
               "reports"),
    ]  # fmt: skip


if __name__ == "__main__":
    main()
