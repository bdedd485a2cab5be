"""Benchmarks: `python -m benchmarks [name ...]` runs every module here (or the named ones)."""
