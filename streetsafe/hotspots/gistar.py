"""Getis-Ord Gi* over H3 cells: each cell with its grid_disk(1) ring, within the set given.

Binary weights, the cell itself included (Gi*), z-scores as in Getis & Ord (1992/1995),
two-sided normal p-values, adjusted for multiple testing with Benjamini-Hochberg.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import h3


@dataclass(frozen=True)
class GiResult:
    """Gi* z-score, BH-adjusted p-value, and whether the cell is a significant hotspot."""

    z: float
    p: float

    @property
    def hotspot(self) -> bool:
        """Adjusted p below 0.05 with more reports than expected."""
        return self.p < 0.05 and self.z > 0


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values, in the input order."""
    n = len(p_values)
    order = sorted(range(n), key=lambda i: p_values[i])
    adjusted = [1.0] * n
    running = 1.0
    for rank in range(n, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * n / rank)
        adjusted[i] = min(running, 1.0)
    return adjusted


def gi_star(counts: dict[str, float]) -> dict[str, GiResult]:
    """Gi* of every cell (H3 id -> count) against its ring-1 neighbours within `counts`."""
    n = len(counts)
    if n < 3:
        return {cell: GiResult(0.0, 1.0) for cell in counts}
    values = list(counts.values())
    mean = sum(values) / n
    s = math.sqrt(max(sum(v * v for v in values) / n - mean * mean, 0.0))
    z_scores: dict[str, float] = {}
    for cell in counts:
        ring = [c for c in h3.grid_disk(cell, 1) if c in counts]
        w = len(ring)  # binary weights: sum of w equals sum of w squared
        spread = s * math.sqrt((n * w - w * w) / (n - 1))
        z_scores[cell] = (sum(counts[c] for c in ring) - mean * w) / spread if spread else 0.0
    cells = list(z_scores)
    raw_p = [math.erfc(abs(z_scores[c]) / math.sqrt(2)) for c in cells]
    adjusted = benjamini_hochberg(raw_p)
    return {c: GiResult(z_scores[c], p) for c, p in zip(cells, adjusted, strict=True)}
