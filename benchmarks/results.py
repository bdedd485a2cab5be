"""Benchmark results: each benchmark saves its figures; the runner writes them into the docs.

`save(name, figures)` writes benchmarks/results/<name>-summary.json (a benchmark may keep
its full raw results beside it, as <name>.json). `write_latest_run()` rewrites
the block between the markers at the top of docs/BENCHMARKS.md with the machine, the date,
and every figure with its baseline, ratio and target. The hand-written analysis below the
block stays as it is.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "BENCHMARKS.md"
START, END = "<!-- latest-run:start -->", "<!-- latest-run:end -->"
ORDER = ("import", "ingest", "limiter", "load", "hotspots", "national_reads", "perturbation")


def figure(
    case: str,
    value: float,
    unit: str,
    *,
    baseline: float | None = None,
    baseline_label: str = "",
    target: str = "",
    met: bool | None = None,
) -> dict[str, Any]:
    """One measured figure, with what it is compared to and whether it meets its target."""
    ratio = None
    if baseline is not None and value:
        # Times: how many times faster than the baseline; rates: fraction of the baseline.
        ratio = baseline / value if unit in ("s", "ms") else value / baseline
    return {
        "case": case,
        "value": round(value, 3),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline, 3),
        "baseline_label": baseline_label,
        "ratio": None if ratio is None else round(ratio, 2),
        "target": target,
        "met": met,
    }


def summary_path(name: str) -> Path:
    """Where a benchmark's summary figures are kept."""
    return RESULTS / f"{name}-summary.json"


def save(name: str, figures: list[dict[str, Any]], notes: str = "") -> Path:
    """Write one benchmark's figures to benchmarks/results/<name>-summary.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = summary_path(name)
    body = {
        "benchmark": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "notes": notes,
        "figures": figures,
    }
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def machine() -> str:
    """Cores, memory, CPU model, load and software versions, in one line."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        memory = "unknown memory"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; load average at the end: {load}"
    )


def _table(result: dict[str, Any]) -> list[str]:
    lines = [
        f"### {result['benchmark']} ({result['date']})",
        "",
        "| case | value | baseline | ratio | target | met |",
        "|---|---:|---|---:|---|---|",
    ]
    for f in result["figures"]:
        baseline = (
            "" if f["baseline"] is None else f"{f['baseline']} {f['unit']} {f['baseline_label']}"
        )
        ratio = "" if f["ratio"] is None else f"{f['ratio']}x"
        met = {True: "yes", False: "**no**", None: ""}[f["met"]]
        lines.append(
            f"| {f['case']} | {f['value']} {f['unit']} | {baseline.strip()} | {ratio} "
            f"| {f['target']} | {met} |"
        )
    if result.get("notes"):
        lines += ["", result["notes"]]
    return lines + [""]


def write_latest_run() -> None:
    """Rewrite the latest-run block of docs/BENCHMARKS.md from the saved results."""
    block = [
        START,
        "## Latest run (written by `make bench`)",
        "",
        f"Machine: {machine()}. Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "Ratios: for times, how many times faster than the baseline; for throughput, the",
        "fraction of the baseline's. The sections after this block explain each benchmark.",
        "",
    ]
    for name in ORDER:
        path = summary_path(name)
        if path.exists():
            block += _table(json.loads(path.read_text()))
        else:
            block += [f"### {name}", "", "not run (see the benchmark's section below)", ""]
    block.append(END)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
    else:
        first_section = text.find("\n## ")
        head, tail = (
            (text, "") if first_section < 0 else (text[: first_section + 1], text[first_section:])
        )
    DOC.write_text(head + "\n".join(block) + tail)
