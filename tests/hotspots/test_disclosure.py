"""Property: no public output, in any format, reveals a count between 1 and K-1."""

from __future__ import annotations

import csv
import io
import itertools
import json
import tempfile
from pathlib import Path

import h3
import numpy as np
import pyogrio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streetsafe.config import Settings
from streetsafe.hotspots.aggregate import HotspotFeature, cell_polygon
from streetsafe.hotspots.disclosure import is_safe, publish
from streetsafe.hotspots.filters import HotspotFilters
from streetsafe.hotspots.formats import render
from streetsafe.hotspots.gistar import StudyArea
from streetsafe.hotspots.perturbation import (
    published_count,
    published_counts,
    publisher,
    round_count,
)
from streetsafe.hotspots.service import with_gi_star

CELLS = sorted(h3.grid_disk(h3.latlng_to_cell(53.744, -0.334, 9), 2))

mask_counts = st.dictionaries(
    st.integers(min_value=1, max_value=(1 << 16) - 1),
    st.tuples(st.integers(1, 30), st.integers(0, 30 * 255)),
    min_size=1,
    max_size=6,
)
layers = st.lists(mask_counts, min_size=1, max_size=8)
rules = st.tuples(st.integers(1, 12), st.integers(1, 10))


def _features(layer: list[dict[int, tuple[int, int]]]) -> list[HotspotFeature]:
    features = []
    for cell, histogram in zip(CELLS, layer, strict=False):
        feature = HotspotFeature(cell, cell_polygon(h3.str_to_int(cell)))
        for mask, (n, key_sum) in histogram.items():
            feature.add(mask, n, key_sum)
        features.append(feature)
    return features


AREA = StudyArea((-0.36, 53.73, -0.31, 53.76), 9)


def _published_numbers(fmt: str, body: bytes) -> list[tuple[int, dict[str, int]]]:
    """(count, categories) of every feature, parsed back from the bytes."""
    if fmt == "geojson":
        features = json.loads(body)["features"]
        return [(f["properties"]["count"], f["properties"]["categories"]) for f in features]
    if fmt == "csv":
        rows = csv.DictReader(io.StringIO(body.decode()))
        return [(int(r["count"]), json.loads(r["categories"])) for r in rows]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "layer.gpkg"
        path.write_bytes(body)
        frame = pyogrio.read_dataframe(path)
    return [
        (int(c), json.loads(j)) for c, j in zip(frame["count"], frame["categories"], strict=True)
    ]


def _assert_safe(numbers: list[tuple[int, dict[str, int]]], k: int, base: int) -> None:
    for count, categories in numbers:
        for n in (count, *categories.values()):
            assert not 0 < n < k, (n, k)
            assert n % base == 0, (n, base)
        values = [count, *categories.values()]
        for a in values:
            for b in values:
                assert not 0 < a - b < k, (a, b, k)
        assert not 0 < count - sum(categories.values()) < k


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=layers, rule=rules, fmt=st.sampled_from(["geojson", "csv", "gpkg"]))
def test_no_published_number_is_small_or_derivable(layer, rule, fmt) -> None:
    k, base = rule
    config = Settings(min_published_count=k, public_rounding=base)
    features = _features(layer)
    public = with_gi_star(publish(features, config), AREA)
    assert {f.id for f in public.features} == {f.id for f in features if f.count >= k}
    download = render(fmt, "cells", public, HotspotFilters(), config)
    numbers = _published_numbers(fmt, download.body)
    assert len(numbers) == len(public.features)
    assert b"numberSuppressed" not in download.body  # no count of withheld features
    assert b"suppressed_features" not in download.body
    _assert_safe(numbers, k, base)


@given(n=st.integers(1, 10_000), rule=rules)
def test_rounding_is_a_multiple_of_the_base_and_never_below_k(n, rule) -> None:
    k, base = rule
    if n >= k:
        rounded = round_count(n, k, base)
        assert rounded % base == 0 and rounded >= k and abs(rounded - n) <= max(base, k)


def test_whole_layers_are_published_exactly_as_one_feature_at_a_time() -> None:
    """published_counts (Gi* and the coarse tiles) and publisher (pages) equal
    published_count for every count 0-299 and every cell key, under several rules."""
    counts = np.repeat(np.arange(300), 256)
    keys = np.tile(np.arange(256), 300) + 256 * np.repeat(np.arange(300), 256)
    for k, base, noise in itertools.product((1, 3, 5, 10), (1, 2, 5, 10), (0, 2, 5)):
        one_by_one = [published_count(int(n), int(key), k, base, noise) or 0
                      for n, key in zip(counts, keys, strict=True)]  # fmt: skip
        assert published_counts(counts, keys, k, base, noise).tolist() == one_by_one
        under_the_rules = publisher(k, base, noise)
        assert [under_the_rules(int(n), int(key)) or 0
                for n, key in zip(counts, keys, strict=True)] == one_by_one  # fmt: skip


def test_is_safe_rejects_a_small_difference() -> None:
    assert not is_safe(10, {"a": 5}, k=6)
    assert is_safe(10, {"a": 10}, k=6)
