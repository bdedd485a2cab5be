"""Run every benchmark module in this package (each has `main()`), or only those named."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks

names = sys.argv[1:] or sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__))
for name in names:
    print(f"== benchmarks.{name}", flush=True)
    importlib.import_module(f"benchmarks.{name}").main()
