"""Benchmark: what the limiter that keeps no timestamps costs per report, beside the old one.

    python -m benchmarks.limiter [--hits 5000] [--clients 1000]

Each report checks and counts the service's limits (STREETSAFE_RATE_LIMITS, default
`10/minute;50/day`) in Redis, as Flask-Limiter does in its before_request hook. This times
that step alone, in one run, for the previous strategy (limits' moving window: a list of
every request's exact time per client and limit) and for today's (clock-aligned fixed
windows: one counter per client and window, expiring at the window's end), over the same
Redis, the same keyed client hashes and the same sequence of clients. It also counts what
Redis holds afterwards: entries with request times in them, and bytes.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

import redis
from limits import parse_many
from limits.storage import RedisStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from benchmarks.results import figure, save
from streetsafe.limits import AlignedWindowRedisStorage

LIMITS = "10/minute;50/day"


def _run(limiter, keys: list[str], hits: int) -> list[float]:
    limits = parse_many(LIMITS)
    times = []
    for i in range(hits):
        key = keys[i % len(keys)]
        began = time.perf_counter()
        for limit in limits:
            if not limiter.hit(limit, key):
                break
        times.append((time.perf_counter() - began) * 1e6)
    return times


def _held(client: redis.Redis) -> tuple[int, int]:
    """(entries holding request times, bytes of memory) in the Redis database."""
    with_times, size = 0, 0
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind in (b"list", b"zset"):
            with_times += client.llen(key) if kind == b"list" else client.zcard(key)
        size += client.memory_usage(key) or 0
    return with_times, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hits", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=1000)
    args = parser.parse_args()
    base = os.environ.get("REDIS_URL") or sys.exit("set REDIS_URL")
    url = base.rsplit("/", 1)[0] + "/14"
    client = redis.Redis.from_url(url)
    rng = random.Random(1)
    keys = [f"{rng.getrandbits(256):064x}" for _ in range(args.clients)]
    order = [keys[rng.randrange(len(keys))] for _ in range(args.hits)]
    results = {}
    for name, storage, strategy in (
        ("moving window (before)", storage_from_string(url), MovingWindowRateLimiter),
        ("aligned fixed window (now)",
         AlignedWindowRedisStorage("streetsafe+redis://",
                                   connection_pool=redis.ConnectionPool.from_url(url)),
         FixedWindowRateLimiter),
    ):  # fmt: skip
        assert isinstance(storage, RedisStorage)
        client.flushdb()
        times = _run(strategy(storage), order, args.hits)
        results[name] = (statistics.median(times), sorted(times)[int(0.95 * len(times))],
                         *_held(client))  # fmt: skip
    client.flushdb()
    print(f"\n| limiter ({args.hits:,} reports, {args.clients:,} clients) | median µs | "
          "p95 µs | request times held | Redis bytes |\n|---|---:|---:|---:|---:|")  # fmt: skip
    for name, (p50, p95, held, size) in results.items():
        print(f"| {name} | {p50:.0f} | {p95:.0f} | {held:,} | {size:,} |")
    before, now = results["moving window (before)"], results["aligned fixed window (now)"]
    save("limiter", [
        figure("limits per report, median", now[0], "µs",
               baseline=before[0], baseline_label="moving window"),
        figure("request times held in Redis", now[2], "entries", target="0", met=now[2] == 0),
    ], notes=f"{args.hits:,} reports from {args.clients:,} clients, limits {LIMITS}")  # fmt: skip


if __name__ == "__main__":
    main()
