"""A national data set: N reports spread over GB the way police.uk crime points are spread.

    python -m benchmarks.national [--count 1000000] [--out .local/national.ndjson]
        [--database NAME] [--reuse] [--seed 1] [--no-generate] [--load]

Places are every active GB NaPTAN stop (../shared/geodata/naptan/gb-146-areas-stops.tgz)
and a city's transit, Southampton (the Bluestar GTFS feed: its stops, and points along its
route shapes), imported into DATABASE_URL's server (database NAME, default
`<name>_national`) with `streetsafe import-naptan` / `import-gtfs`. Each place draws a
weight from the police.uk City of London map points' reports-per-point counts (736 points,
1 to 1,129 crimes each: many places with few reports, a few with many); reports then pick
places by weight, with Southampton's places weighted up as a city is. Contexts mix street
(near a stop), at_stop (by a stop; a few name it) and on_vehicle (on a Southampton route);
`occurred_at` falls over the last 360 days with an evening peak, in Europe/London time;
categories are drawn per context. The file is the body of `POST /api/v1/reports`, one a
line, ready for `streetsafe reports load`; `load_national` loads it and times the load.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
GEODATA = Path(os.environ.get("STREETSAFE_GEODATA") or ROOT.parent / "shared" / "geodata")
if not GEODATA.is_dir():
    GEODATA = Path("/work/shared/geodata")
NAPTAN = GEODATA / "naptan" / "gb-146-areas-stops.tgz"
SOUTHAMPTON = GEODATA / "gtfs" / "southampton-bluestar-2025.zip"
CITY_FEED = "southampton"
CITY_WEIGHT = 8.0  # a city place draws this many times a rural stop's weight, on average
LONDON = ZoneInfo("Europe/London")
DAYS = 360  # inside intake's 366 days, with room for the time between generating and loading

# Share of each context; on_vehicle reports are on the city's routes (NaPTAN has none).
CONTEXTS = (("street", 0.55), ("at_stop", 0.30), ("on_vehicle", 0.15))
NAMED_STOP_SHARE = 0.01  # at_stop reports that name their stop (the form's stop picker)
DESCRIPTION_SHARE = 0.03
# Relative frequency of each local hour: quiet nights and mornings, a peak from 17:00 to 23:00.
HOUR_WEIGHTS = (3, 2, 1, 1, 1, 1, 2, 4, 6, 5, 4, 4, 5, 5, 5, 6, 8, 11, 13, 14, 14, 13, 10, 6)
CATEGORY_WEIGHTS = {
    "street": {
        "badly_lit": 22, "isolated": 16, "followed": 10, "verbal_harassment_single": 10,
        "verbal_harassment_group": 8, "drugs_alcohol": 9, "intimidating_behaviour": 8,
        "no_cctv": 6, "poor_layout": 4, "restricted_visibility": 3, "rundown": 3,
        "unwanted_sexual_behaviour": 4, "other": 2,
    },
    "at_stop": {
        "long_wait_after_dark": 20, "badly_lit": 15, "no_cctv": 12, "isolated": 10,
        "intimidating_behaviour": 9, "verbal_harassment_group": 7, "drugs_alcohol": 6,
        "verbal_harassment_single": 6, "no_staff": 5, "rundown": 4, "followed": 3, "other": 2,
    },
    "on_vehicle": {
        "overcrowding": 16, "no_staff": 14, "verbal_harassment_single": 12,
        "verbal_harassment_group": 12, "unwanted_sexual_behaviour": 12,
        "intimidating_behaviour": 12, "drugs_alcohol": 8, "followed": 4, "other": 3,
    },
}  # fmt: skip
DESCRIPTIONS = (
    "Group hanging around the shelter shouting at people waiting.",
    "The lights along this path have been out for weeks.",
    "Someone followed me from the stop to the corner.",
    "Driver did not stop when a passenger was harassing others.",
)


@dataclass(frozen=True)
class Place:
    """Somewhere reports happen: a stop (with its public id) or a point on a city route."""

    lon: float
    lat: float
    stop_id: str | None
    on_route: bool


def city_counts() -> list[int]:
    """Reports per distinct police.uk City of London map point (the heavy tail's shape)."""
    counts: Counter[tuple[str, str]] = Counter()
    for path in sorted((GEODATA / "police" / "city-of-london").glob("*.csv")):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                if row["Longitude"] and row["Latitude"]:
                    counts[row["Longitude"], row["Latitude"]] += 1
    if not counts:
        sys.exit(f"no police.uk points under {GEODATA / 'police' / 'city-of-london'}")
    return list(counts.values())


def prepare_database(base_url: str, name: str) -> str:
    """A fresh, migrated database NAME beside base_url's with GB NaPTAN and Southampton."""
    from benchmarks.hotspots import fresh_database

    url = fresh_database(base_url, name)
    streetsafe(url, "import-naptan", str(NAPTAN))
    streetsafe(url, "import-gtfs", str(SOUTHAMPTON), "--feed", CITY_FEED, "--quiet")
    return url


def streetsafe(url: str, *args: str) -> float:
    """Run a `streetsafe` command on url (output to stderr); its wall-clock seconds."""
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "streetsafe.cli", *args],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        stdout=sys.stderr,
    )
    return time.perf_counter() - began


def places(url: str, rng: random.Random) -> tuple[list[Place], list[float]]:
    """Every stop place and 20 points per city route shape, each with a heavy-tailed weight.

    Only places (stops.place_public_id NULL): a city GTFS stop that is a NaPTAN stop's copy
    may lie hundreds of metres from its place, and an at_stop report beside the copy would be
    refused as no stop within 150 m. A place is the city's when any of its rows is.
    """
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        stops = connection.execute(sa.text("""
            WITH city AS (
                SELECT DISTINCT coalesce(s.place_public_id, s.public_id) AS place
                FROM stops s JOIN feeds f ON f.id = s.feed_id WHERE f.name = :city)
            SELECT ST_X(p.geom), ST_Y(p.geom), p.public_id, c.place IS NOT NULL
            FROM stops p LEFT JOIN city c ON c.place = p.public_id
            WHERE p.place_public_id IS NULL ORDER BY p.id
        """), {"city": CITY_FEED}).all()  # fmt: skip
        on_routes = connection.execute(sa.text("""
            SELECT ST_X(p), ST_Y(p) FROM (
                SELECT ST_LineInterpolatePoint(sh.geom, f / 20.0) AS p
                FROM route_shapes sh JOIN routes r ON r.id = sh.route_id
                JOIN feeds fd ON fd.id = r.feed_id, generate_series(0, 19) AS f
                WHERE fd.name = :city ORDER BY sh.id, f) q
        """), {"city": CITY_FEED}).all()  # fmt: skip
    engine.dispose()
    if not stops or not on_routes:
        sys.exit("no stops or no city routes: import NaPTAN and the Southampton feed first")
    shape = city_counts()
    found, weights = [], []
    for lon, lat, public_id, in_city in stops:
        found.append(Place(lon, lat, public_id, False))
        weights.append(rng.choice(shape) * (CITY_WEIGHT if in_city else 1.0))
    for lon, lat in on_routes:
        found.append(Place(lon, lat, None, True))
        weights.append(rng.choice(shape) * CITY_WEIGHT)
    return found, weights


def reports(
    found: list[Place], weights: list[float], count: int, rng: random.Random
) -> Iterator[dict]:
    """`count` report bodies over the places, by weight, with mixed contexts and times."""
    stop_places = [i for i, place in enumerate(found) if not place.on_route]
    route_places = [i for i, place in enumerate(found) if place.on_route]
    stop_weights = [weights[i] for i in stop_places]
    route_weights = [weights[i] for i in route_places]
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    days = [now - timedelta(days=d) for d in range(1, DAYS + 1)]
    names = [name for name, _ in CONTEXTS]
    shares = [share for _, share in CONTEXTS]
    contexts = rng.choices(names, shares, k=count)
    on_vehicle = contexts.count("on_vehicle")
    route_picks = iter(rng.choices(route_places, route_weights, k=on_vehicle))
    stop_picks = iter(rng.choices(stop_places, stop_weights, k=count - on_vehicle))
    hours = rng.choices(range(24), HOUR_WEIGHTS, k=count)
    for context, hour in zip(contexts, hours, strict=True):
        place = found[next(route_picks if context == "on_vehicle" else stop_picks)]
        yield _report(context, place, _when(rng.choice(days), hour, rng), rng)


def _when(day: datetime, hour: int, rng: random.Random) -> str:
    """A local time on `day` at `hour` (Europe/London), as ISO 8601 with its offset."""
    local = day.astimezone(LONDON).replace(hour=hour, minute=rng.randrange(60))
    return local.isoformat(timespec="minutes")


def _report(context: str, place: Place, when: str, rng: random.Random) -> dict:
    """One POST /api/v1/reports body at the place: street within ~40 m, at_stop within ~20 m."""
    spread = {"street": 0.0004, "at_stop": 0.00015, "on_vehicle": 0.0002}[context]
    body: dict = {"context": context}
    if context == "at_stop" and rng.random() < NAMED_STOP_SHARE:
        body["transit"] = {"stop_id": place.stop_id}
    else:
        body["location"] = {
            "lat": round(place.lat + rng.uniform(-spread, spread) * 0.6, 6),
            "lon": round(place.lon + rng.uniform(-spread, spread), 6),
        }
    if context == "on_vehicle":
        body["transit"] = {"mode": "bus"}
    weights = CATEGORY_WEIGHTS[context]
    picked = rng.choices(list(weights), list(weights.values()), k=rng.choice((1, 1, 1, 2, 2, 3)))
    body["categories"] = list(dict.fromkeys(picked))
    body["occurred_at"] = when
    if rng.random() < DESCRIPTION_SHARE:
        body["description"] = rng.choice(DESCRIPTIONS)
    return body


def write_national(url: str, out: Path, count: int, seed: int = 1) -> Path:
    """Write `count` reports over url's stops and city routes to `out` (NDJSON)."""
    from tqdm import tqdm

    rng = random.Random(seed)
    found, weights = places(url, rng)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w") as handle:
        for body in tqdm(reports(found, weights, count, rng), total=count, desc="generating",
                         unit="report", mininterval=2):  # fmt: skip
            handle.write(json.dumps(body, separators=(",", ":")) + "\n")
    return out


def load_national(url: str, path: Path, source: str = "national") -> float:
    """Load the file with `streetsafe reports load`; the command's wall-clock seconds."""
    return streetsafe(url, "reports", "load", str(path), "--source", source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "national.ndjson")
    parser.add_argument("--database", default=None, help="default: <DATABASE_URL's>_national")
    parser.add_argument("--reuse", action="store_true", help="keep the database's transit")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--load", action="store_true", help="then load it and time the load")
    parser.add_argument("--no-generate", action="store_true", help="keep the file in --out")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or sys.exit("set DATABASE_URL")
    name = args.database or f"{sa.make_url(base).database}_national"
    if args.reuse:
        url = sa.make_url(base).set(database=name).render_as_string(hide_password=False)
    else:
        url = prepare_database(base, name)
    if not args.no_generate:
        write_national(url, args.out, args.count, args.seed)
        print(f"wrote {args.count:,} reports to {args.out}", file=sys.stderr)
    if args.load:
        seconds = load_national(url, args.out)
        print(f"loaded {args.out} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
