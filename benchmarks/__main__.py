"""`make bench`: run the import, ingest, load and hotspot benchmarks (or those named), then
write their figures into docs/BENCHMARKS.md with the machine and the date.

    python -m benchmarks [import] [ingest] [load] [hotspots]

Each benchmark runs with its default options (run one alone, `python -m benchmarks.NAME
--help`, for its own). A benchmark that fails is reported and the others still run.
"""

from __future__ import annotations

import importlib
import sys
import traceback

from benchmarks.results import ORDER, write_latest_run

names = sys.argv[1:] or list(ORDER)
unknown = [name for name in names if name not in ORDER]
if unknown:
    sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(ORDER)}")
failed = []
for name in names:
    print(f"== benchmarks.{name}", flush=True)
    sys.argv = [f"benchmarks.{name}"]  # each main() parses its own options
    try:
        importlib.import_module(f"benchmarks.{name}").main()
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - report and go on with the others
        failed.append(name)
        traceback.print_exception(exc)
write_latest_run()
print("docs/BENCHMARKS.md updated", flush=True)
if failed:
    sys.exit(f"failed: {', '.join(failed)}")
