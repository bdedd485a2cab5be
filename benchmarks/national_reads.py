"""Benchmark: every kind of public read at a million reports spread over Great Britain.

    python -m benchmarks.national_reads [--database NAME] [--runs 20] [--build]

The data are benchmarks/national.py's: 1M reports over all GB NaPTAN stops and Southampton's
transit, loaded with `streetsafe reports load` (made first when missing or with `--build`,
which takes 10-15 minutes). The app runs under gunicorn (2 workers); each case is timed over
HTTP by one client (p50, p95) and by 8 concurrent clients (p95), and the slowest valid
request of each kind is reported beside pygeoapi serving the same reports table. Tiles are
timed cold (a different tile each request, so no cache helps) and warm (one tile again and
again). Refusals (questions too big to answer in time) are timed too: they must be fast.
Worker RSS is read after the run and after 5 s idle."""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import sqlalchemy as sa

from benchmarks import hotspots as bench_hotspots
from benchmarks.results import figure, save

GB = "-8.65,49.86,1.77,60.86"
CITY = "-1.6,50.8,-1.2,51.0"  # Southampton: a city's transit and a city's share of reports
REGION7 = "-3,50.5,1.8,54.5"  # south-east England to Hull at res 7 (28,000 cells)
COUNTY8 = "-2.5,50.6,-0.5,51.6"  # Hampshire and around at res 8
VALID = {
    "cells res 7, region": f"/api/v1/hotspots/cells?res=7&bbox={REGION7}",
    "cells res 8, county": f"/api/v1/hotspots/cells?res=8&bbox={COUNTY8}",
    "cells res 9, city": f"/api/v1/hotspots/cells?res=9&bbox={CITY}",
    "cells res 10, city": f"/api/v1/hotspots/cells?res=10&bbox={CITY}",
    "cells res 10, city, evenings at weekends": (
        f"/api/v1/hotspots/cells?res=10&bbox={CITY}&hours=18-6&days=weekend"),
    "cells res 9, city, two months, one category": (
        f"/api/v1/hotspots/cells?res=9&bbox={CITY}&from=2026-06&to=2026-07"
        "&categories=badly_lit"),
    "cells res 10, city, CSV": f"/api/v1/hotspots/cells?res=10&bbox={CITY}&format=csv",
    "stops, city": f"/api/v1/hotspots/stops?bbox={CITY}",
    "stops, county, at_stop": f"/api/v1/hotspots/stops?bbox={COUNTY8}&context=at_stop",
    "route segments, city": f"/api/v1/hotspots/route-segments?bbox={CITY}",
    "OGC items r10, city, 1000": f"/ogc/collections/hotspot-cells-r10/items?bbox={CITY}&limit=1000",
    "OGC items stops, county, 1000": (
        f"/ogc/collections/hotspot-stops/items?bbox={COUNTY8}&limit=1000"),
    "OGC items r10, city, third page": (
        f"/ogc/collections/hotspot-cells-r10/items?bbox={CITY}&limit=1000&offset=2000"),
}  # fmt: skip
# The same questions over a bbox moved a little each request: nothing a worker kept helps.
COLD = {
    "cells res 7, region, cold": "/api/v1/hotspots/cells?res=7&bbox={}",
    "cells res 10, city, cold": "/api/v1/hotspots/cells?res=10&bbox={}",
    "stops, county, cold": "/api/v1/hotspots/stops?bbox={}",
    "route segments, city, cold": "/api/v1/hotspots/route-segments?bbox={}",
}
COLD_BOXES = {"cells res 7, region, cold": REGION7, "cells res 10, city, cold": CITY,
              "stops, county, cold": COUNTY8, "route segments, city, cold": CITY}  # fmt: skip
REFUSED = {
    "cells res 9, all of GB (400)": f"/api/v1/hotspots/cells?res=9&bbox={GB}",
    "cells res 7, all of GB (400)": f"/api/v1/hotspots/cells?res=7&bbox={GB}",
    "cells res 9, county (400)": f"/api/v1/hotspots/cells?res=9&bbox={COUNTY8}",
    "stops, all of GB (400)": f"/api/v1/hotspots/stops?bbox={GB}",
    "OGC r10 items, no bbox (400)": "/ogc/collections/hotspot-cells-r10/items",
}
SOUTHAMPTON = (-1.40, 50.91)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def cold_tiles(z: int, count: int) -> list[str]:
    """`count` different tiles at zoom z around Southampton (a different one each request)."""
    x, y = tile_of(*SOUTHAMPTON, z)
    side = max(1, math.isqrt(count))
    tiles = [(x + dx - side // 2, y + dy - side // 2) for dx in range(side) for dy in range(side)]
    return [f"/tiles/hotspots/{z}/{tx % 2**z}/{ty % 2**z}.mvt" for tx, ty in tiles][:count] or [
        "/tiles/hotspots/0/0/0.mvt"
    ]


def moved(bbox: str, count: int) -> list[str]:
    """`count` copies of a bbox, each moved east by a further 0.001 degrees."""
    box = [float(v) for v in bbox.split(",")]
    return [",".join(f"{v + 0.001 * i * (j % 2 == 0):.4f}" for j, v in enumerate(box))
            for i in range(1, count + 1)]  # fmt: skip


def first_item(base: str, collection: str) -> list[str]:
    """The path of the first item of a collection's city page (none when it is empty)."""
    import json

    with urlopen(f"{base}/ogc/collections/{collection}/items?bbox={CITY}&limit=1") as response:
        features = json.load(response)["features"]
    return [f"/ogc/collections/{collection}/items/{f['id']}" for f in features]


def get(base: str, path: str) -> tuple[int, float]:
    """Status and milliseconds of one GET (gzip accepted, as browsers and QGIS ask)."""
    began = time.perf_counter()
    try:
        with urlopen(Request(base + path, headers={"Accept-Encoding": "gzip"}), timeout=120) as r:
            r.read()
            status = r.status
    except HTTPError as error:
        error.read()
        status = error.code
    return status, (time.perf_counter() - began) * 1000


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]


def single(base: str, paths: list[str], runs: int) -> tuple[dict[str, float], set[int]]:
    """p50/p95 of one client cycling through `paths` (after one warm-up of the first)."""
    get(base, paths[0])
    results = [get(base, paths[i % len(paths)]) for i in range(runs)]
    times = [ms for _, ms in results]
    return {"p50": statistics.median(times), "p95": percentile(times, 0.95)}, {
        s for s, _ in results
    }


def concurrent(
    base: str, paths: list[str], runs: int, clients: int = 8, start: int = 0, stride: int = 1
) -> float:
    """p95 of `clients` clients each cycling through `paths` `runs` times (client c from
    path start + c * stride: with stride = runs, no two clients ask the same)."""

    def client(offset: int) -> list[float]:
        first = start + offset * stride
        return [get(base, paths[(first + i) % len(paths)])[1] for i in range(runs)]

    with ThreadPoolExecutor(clients) as pool:
        times = [ms for batch in pool.map(client, range(clients)) for ms in batch]
    return percentile(times, 0.95)


def worker_rss_mb(process) -> list[float]:
    """Resident memory of the gunicorn workers (children of the arbiter), MB."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(process.pid):
            sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sizes


def run(url: str, runs: int) -> tuple[list[dict], list[str]]:
    app = bench_hotspots.start_app(url)
    base = f"http://127.0.0.1:{bench_hotspots.APP_PORT}"
    figures, lines = [], []

    def case(name: str, paths: list[str], target_ms: float, concurrent_target_ms: float,
             cold: bool = False) -> None:  # fmt: skip
        one, statuses = single(base, paths, runs)
        each = max(runs // 2, 5)
        many = (concurrent(base, paths, each, start=runs + 1, stride=each) if cold
                else concurrent(base, paths, each))  # fmt: skip
        ok = statuses <= {200, 304}
        lines.append(f"| {name} | {one['p50']:.0f} | {one['p95']:.0f} | {many:.0f} | "
                     f"{'/'.join(map(str, sorted(statuses)))} |")  # fmt: skip
        figures.append(figure(f"{name}: p95, one client", one["p95"], "ms",
                              target=f"<= {target_ms:.0f} ms", met=ok and one["p95"] <= target_ms))
        figures.append(figure(f"{name}: p95, 8 clients", many, "ms",
                              target=f"<= {concurrent_target_ms:.0f} ms",
                              met=ok and many <= concurrent_target_ms))  # fmt: skip

    try:
        for name, path in VALID.items():
            case(name, [path], 300, 1000)
        for collection in ("hotspot-cells-r10", "hotspot-stops"):
            for path in first_item(base, collection):
                case(f"OGC single item, {collection}", [path], 300, 1000)
        for name, path in COLD.items():
            boxes = moved(COLD_BOXES[name], runs + 1 + 8 * max(runs // 2, 5))
            case(name, [path.format(b) for b in boxes], 300, 1000, cold=True)
        for name, path in REFUSED.items():
            case(name, [path], 100, 1000)
        for z in (0, 4, 6, 8, 10, 12, 14, 16):
            case(f"tile z{z}, cold", cold_tiles(z, runs), 50, 1000)
            case(f"tile z{z}, warm", cold_tiles(z, 1), 50, 1000)
        rss_busy = worker_rss_mb(app)
        time.sleep(5)
        rss_idle = worker_rss_mb(app)
        lines.append(f"\nworker RSS after the run: {', '.join(f'{m:.0f}' for m in rss_busy)} MB;"
                     f" after 5 s idle: {', '.join(f'{m:.0f}' for m in rss_idle)} MB")  # fmt: skip
        figures.append(figure("worker RSS, largest, after the run", max(rss_busy or [0]), "MB",
                              target="<= 300 MB", met=max(rss_busy or [0]) <= 300))  # fmt: skip
    finally:
        app.terminate()
        app.wait(10)
    pygeoapi_cases(url, runs, figures, lines)
    return figures, lines


def pygeoapi_cases(url: str, runs: int, figures: list[dict], lines: list[str]) -> None:
    """pygeoapi over the raw reports table: the baseline the issue asks for."""
    pygeoapi = bench_hotspots.start_pygeoapi(url)
    try:
        pbase = f"http://127.0.0.1:{bench_hotspots.PYGEOAPI_PORT}"
        for name, query in (("1000 raw reports in the city", f"bbox={CITY}&limit=1000"),
                            ("hits in all of GB", f"bbox={GB}&resulttype=hits")):  # fmt: skip
            path = f"/collections/reports/items?f=json&{query}"
            one, _ = single(pbase, [path], max(runs // 4, 3))
            lines.append(f"| pygeoapi (raw reports table): {name} | {one['p50']:.0f} | "
                         f"{one['p95']:.0f} | - | 200 |")  # fmt: skip
            figures.append(figure(f"pygeoapi {name}: p95", one["p95"], "ms"))
    finally:
        pygeoapi.terminate()
        pygeoapi.wait(10)


def _reports_in(url: str) -> int:
    """How many reports the database holds (0 when it does not exist yet)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(sa.text("SELECT count(*) FROM reports")) or 0
    except sa.exc.SQLAlchemyError:
        return 0
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=None, help="default: <DATABASE_URL's>_national")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--build", action="store_true", help="make the national database first")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or sys.exit("set DATABASE_URL")
    name = args.database or f"{sa.make_url(base).database}_national"
    url = sa.make_url(base).set(database=name).render_as_string(hide_password=False)
    if args.build or _reports_in(url) < 100_000:
        from benchmarks import national

        print(f"building {name}: GB NaPTAN, Southampton and 1M reports (10-15 min)",
              file=sys.stderr)  # fmt: skip
        url = national.prepare_database(base, name)
        out = national.ROOT / ".local" / "national.ndjson"
        national.write_national(url, out, 1_000_000)
        national.load_national(url, out)
    reports = _reports_in(url)
    figures, lines = run(url, args.runs)
    header = (f"\n| request ({reports:,} reports over GB) | p50 ms | p95 ms | p95 ms, 8 clients |"
              " status |\n|---|---:|---:|---:|---|")  # fmt: skip
    print(header)
    print("\n".join(lines))
    notes = (f"{reports:,} reports spread over GB; {args.runs} requests per case for one "
             "client, half as many per client for 8 clients")  # fmt: skip
    save("national_reads", figures, notes=notes)


if __name__ == "__main__":
    main()
