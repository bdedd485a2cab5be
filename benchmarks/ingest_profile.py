"""Where one POST /api/v1/reports spends its time, in one process, without load noise.

    python -m benchmarks.ingest_profile [--requests 300] [--pyinstrument]

Uses the database `benchmarks.ingest` built (`<DATABASE_URL's name>_bench`, run that first)
and the same varied bodies. Drives the app in-process with Flask's test client (no gunicorn,
no sockets) and reports, per report context: median and p90 wall time per request, SQL
statements, pool checkouts and Redis commands per request, this process's CPU time per
request (Python's share), and each statement's median time as seen from Python. With
--pyinstrument, prints a call-tree profile of all requests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import redis
import sqlalchemy as sa

from benchmarks.ingest import existing_bench_database, report_bodies


class Counters:
    """Per-request counts and per-statement timings, filled by engine and Redis hooks."""

    def __init__(self) -> None:
        self.statements = 0
        self.checkouts = 0
        self.redis = 0
        self.by_sql: dict[str, list[float]] = defaultdict(list)

    def reset(self) -> None:
        """Start counting a new request."""
        self.statements = self.checkouts = self.redis = 0


def hook(engine: sa.Engine, counters: Counters) -> None:
    """Count statements, pool checkouts and Redis commands; time each statement."""

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        conn.info["started"] = time.perf_counter()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        counters.statements += 1
        label = " ".join(statement.split())[:60]
        counters.by_sql[label].append((time.perf_counter() - conn.info["started"]) * 1000)

    @sa.event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, proxy):  # noqa: ANN001
        counters.checkouts += 1

    original = redis.connection.Connection.send_packed_command

    def counted(self, command, check_health=True):  # noqa: ANN001
        counters.redis += 1
        return original(self, command, check_health)

    redis.connection.Connection.send_packed_command = counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--context", choices=("street", "at_stop", "on_vehicle"),
                        help="only reports of this context")
    args = parser.parse_args()
    from streetsafe import create_app
    from streetsafe.config import Settings
    from streetsafe.db import get_database

    url = existing_bench_database()
    env = {**os.environ, "DATABASE_URL": url, "STREETSAFE_RATE_LIMITS": "1000000/minute"}
    app = create_app(Settings.from_env(env))
    engine = get_database(app).engine
    bodies_path = Path(tempfile.mkdtemp(prefix="ingest-profile-")) / "bodies.jsonl"
    report_bodies(sa.create_engine(url), bodies_path)
    bodies = [body for body in bodies_path.read_text().splitlines()
              if args.context is None or json.loads(body)["context"] == args.context]
    counters = Counters()
    hook(engine, counters)
    client = app.test_client()
    for body in bodies[:30]:  # warm up: pools, prepared statements, caches
        client.post("/api/v1/reports", data=body, content_type="application/json")
    for timings in counters.by_sql.values():
        timings.clear()
    profiler = None
    if args.pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    per_context: dict[str, list[dict]] = defaultdict(list)
    for i in range(args.requests):
        body = bodies[i % len(bodies)]
        counters.reset()
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.post("/api/v1/reports", data=body, content_type="application/json")
        elapsed_ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu_started) * 1000
        if response.status_code != 201:
            sys.exit(f"unexpected {response.status_code}: {response.get_data(as_text=True)}")
        per_context[json.loads(body)["context"]].append({
            "ms": elapsed_ms, "cpu_ms": cpu_ms, "statements": counters.statements,
            "checkouts": counters.checkouts, "redis": counters.redis})
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=True))
    print(f"{'context':12} {'n':>4} {'p50 ms':>8} {'p90 ms':>8} {'cpu ms':>7} {'stmts':>6} "
          f"{'checkouts':>9} {'redis':>6}")
    for context, rows in sorted(per_context.items()):
        ms = sorted(row["ms"] for row in rows)
        print(f"{context:12} {len(rows):4} {statistics.median(ms):8.2f} "
              f"{ms[int(len(ms) * 0.9)]:8.2f} "
              f"{statistics.median(r['cpu_ms'] for r in rows):7.2f} "
              f"{statistics.mean(r['statements'] for r in rows):6.1f} "
              f"{statistics.mean(r['checkouts'] for r in rows):9.1f} "
              f"{statistics.mean(r['redis'] for r in rows):6.1f}")
    print("\nstatement (first 60 chars)                                     n  median ms")
    for label, timings in sorted(counters.by_sql.items(), key=lambda kv: -sum(kv[1])):
        if timings:
            print(f"{label:60} {len(timings):5} {statistics.median(timings):9.3f}")
    engine.dispose()


if __name__ == "__main__":
    main()
