"""The cell-key method: one set of reports, one published number, whatever the query.

As ONS did for Census 2021 and ABS TableBuilder does for user-defined tables:
- every report gets a random record key 0-255 at intake (`reports.record_key`, set by the
  database);
- a feature's cell key is the sum of its reports' record keys modulo CELL_KEY_BASE (key sums
  add up, so the rollups carry them beside the counts);
- the perturbation table maps (exact count, cell key) to the noise;
- a feature with fewer than K exact reports is withheld whatever its noise; for the rest the
  noise is added, then the count is rounded, and nothing is published below K.

The same reports give the same noise through every endpoint, format, bbox, page and
repetition, so asking again, or asking a differently shaped question about the same
reports, gains nothing. docs/PRIVACY.md has the table and its measured effect.

The table: noise d in -D..D (D = STREETSAFE_PERTURBATION_MAX) with triangular
probabilities proportional to D + 1 - |d|, laid out over the 256 cell keys in order; for
counts n just above K the noise is clipped to K - n, so no perturbed count falls below K.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

CELL_KEY_BASE = 256


@lru_cache(maxsize=16)
def noise_by_key(max_noise: int) -> tuple[int, ...]:
    """The noise for each cell key 0..255 (one row of the table, before clipping)."""
    if max_noise <= 0:
        return (0,) * CELL_KEY_BASE
    noises = range(-max_noise, max_noise + 1)
    weights = [max_noise + 1 - abs(d) for d in noises]
    total = sum(weights)
    table: list[int] = []
    cumulative = 0
    for d, w in zip(noises, weights, strict=True):
        cumulative += w
        table.extend([d] * (round(CELL_KEY_BASE * cumulative / total) - len(table)))
    return tuple(table)


def noise(count: int, key_sum: int, k: int, max_noise: int) -> int:
    """The table's noise for an exact count (at least k) and its reports' key sum."""
    return max(noise_by_key(max_noise)[key_sum % CELL_KEY_BASE], k - count)


def round_count(n: int, k: int, base: int) -> int:
    """`n` (at least k) rounded half up to a multiple of `base`, and never below k."""
    rounded = math.floor(n / base + 0.5) * base
    return max(rounded, math.ceil(k / base) * base)


def published_count(count: int, key_sum: int, k: int, base: int, max_noise: int) -> int | None:
    """What the public sees for `count` reports with this key sum; None when withheld."""
    if count < k:
        return None
    return round_count(count + noise(count, key_sum, k, max_noise), k, base)


@lru_cache(maxsize=64)
def publisher(k: int, base: int, max_noise: int) -> Callable[[int, int], int | None]:
    """`published_count` under fixed rules, as one function (a layer page calls it for every
    feature and category: the rules' table is looked up once)."""
    table = noise_by_key(max_noise)
    least = math.ceil(k / base) * base

    def publish(count: int, key_sum: int) -> int | None:
        if count < k:
            return None
        noisy = count + max(table[key_sum % CELL_KEY_BASE], k - count)
        return max((2 * noisy + base) // (2 * base) * base, least)

    return publish


def published_counts(
    counts: np.ndarray, key_sums: np.ndarray, k: int, base: int, max_noise: int
) -> np.ndarray:
    """`published_count` of many features at once (whole layers: Gi*, coarse tiles), with 0
    where a feature is withheld (a published count is never below k, and k is at least 1)."""
    counts = np.asarray(counts, dtype=np.int64)
    table = np.array(noise_by_key(max_noise), dtype=np.int64)
    noisy = counts + np.maximum(table[np.asarray(key_sums, dtype=np.int64) % CELL_KEY_BASE],
                                k - counts)  # fmt: skip
    # floor(n / base + 0.5) * base in integers: the same half-up rounding as round_count.
    rounded = np.maximum((2 * noisy + base) // (2 * base) * base, math.ceil(k / base) * base)
    return np.where(counts >= k, rounded, 0)


def perturbation_table(k: int, max_noise: int) -> list[tuple[str, dict[int, int]]]:
    """The table as documented: for each row of counts, how many cell keys give each noise."""
    rows = []
    for n in range(k, k + max_noise + 1):
        label = f"{n}" if n < k + max_noise else f"{n} or more"
        histogram: dict[int, int] = {}
        for key in range(CELL_KEY_BASE):
            d = noise(n, key, k, max_noise)
            histogram[d] = histogram.get(d, 0) + 1
        rows.append((label, dict(sorted(histogram.items()))))
    return rows
