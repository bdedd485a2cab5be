"""What the cell-key perturbation does to a national layer: how many features change, by how much.

    python -m benchmarks.perturbation [--database NAME]

Reads every published feature's exact count and key sum (cells at res 7-10 from the cell
summary, stops and route segments from their rollups) from the national database
(benchmarks/national.py) and compares the published count with perturbation
(STREETSAFE_PERTURBATION_MAX, default 2) against the count with rounding alone. Prints a
Markdown table for docs/PRIVACY.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

import sqlalchemy as sa
from sqlalchemy.orm import Session

from benchmarks.results import figure, save
from streetsafe.config import Settings
from streetsafe.hotspots.aggregate import site_totals
from streetsafe.hotspots.filters import parse_filters
from streetsafe.hotspots.perturbation import published_count, round_count


def layers(session: Session, k: int) -> dict[str, list[tuple[int, int]]]:
    """(exact count, key sum) of every feature with at least k reports, per layer."""
    found = {}
    for res in (7, 8, 9, 10):
        rows = session.execute(
            sa.text("SELECT total, key_sum FROM hotspot_cell_summary "
                    "WHERE res = :res AND total >= :k"), {"res": res, "k": k},
        ).all()  # fmt: skip
        found[f"cells res {res}"] = [tuple(r) for r in rows]
    for layer in ("stops", "route-segments"):
        rows = site_totals(session, layer, parse_filters({}), k)
        found[layer] = [(n, key) for _, n, key in rows]
    return found


def effect(features: list[tuple[int, int]], settings: Settings) -> dict[str, float]:
    k, base, d = settings.min_published_count, settings.public_rounding, settings.perturbation_max
    steps: Counter[int] = Counter()
    for n, key in features:
        change = published_count(n, key, k, base, d) - round_count(n, k, base)
        steps[change // base] += 1
    total = sum(steps.values()) or 1
    return {
        "features": total,
        "changed": 100 * (total - steps[0]) / total,
        "down": 100 * sum(v for s, v in steps.items() if s < 0) / total,
        "up": 100 * sum(v for s, v in steps.items() if s > 0) / total,
        "most": max((abs(s) for s in steps), default=0) * base,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default=None, help="default: <DATABASE_URL's>_national")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL") or sys.exit("set DATABASE_URL")
    name = args.database or f"{sa.make_url(base).database}_national"
    url = sa.make_url(base).set(database=name)
    settings = Settings.from_env({})
    engine = sa.create_engine(url)
    with Session(engine) as session:
        found = layers(session, settings.min_published_count)
    engine.dispose()
    print("\n| layer (published features) | features | changed by the noise | one step down |"
          " one step up | largest change |\n|---|---:|---:|---:|---:|---:|")  # fmt: skip
    figures = []
    for layer, features in found.items():
        e = effect(features, settings)
        print(f"| {layer} | {e['features']:,} | {e['changed']:.1f}% | {e['down']:.1f}% | "
              f"{e['up']:.1f}% | {e['most']:.0f} |")  # fmt: skip
        figures.append(figure(f"{layer}: published counts changed by the noise", e["changed"],
                              "%"))  # fmt: skip
    save("perturbation", figures, notes=f"database {name}; K, rounding and D from defaults")


if __name__ == "__main__":
    main()
