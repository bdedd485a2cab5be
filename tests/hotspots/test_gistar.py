"""Gi* against a hand computation on a fixed H3 grid; Benjamini-Hochberg on a known case."""

from __future__ import annotations

import math

import h3
import pytest

from streetsafe.hotspots.gistar import benjamini_hochberg, gi_star

CENTRE = h3.latlng_to_cell(53.744, -0.334, 9)


def _grid() -> dict[str, float]:
    """A centre cell with 10 reports, its six neighbours with 5, two far cells with 1."""
    ring = sorted(h3.grid_ring(CENTRE, 1))
    outer = sorted(h3.grid_ring(CENTRE, 6))
    far = [outer[0], max(outer, key=lambda c: h3.grid_distance(outer[0], c))]
    assert h3.grid_distance(far[0], far[1]) > 1
    return {CENTRE: 10.0, **{c: 5.0 for c in ring}, **{c: 1.0 for c in far}}


def test_gi_star_matches_hand_computation() -> None:
    counts = _grid()
    result = gi_star(counts)
    # By hand: n = 9, sum = 42, mean = 42/9, S = sqrt(252/9 - (42/9)^2) = sqrt(56/9).
    mean, s = 42 / 9, math.sqrt(56 / 9)
    # Centre: itself and six neighbours, W = 7, local sum 40.
    z_centre = (40 - 7 * mean) / (s * math.sqrt((9 * 7 - 49) / 8))
    # A ring cell: itself, the centre and two ring neighbours, W = 4, local sum 25.
    z_ring = (25 - 4 * mean) / (s * math.sqrt((9 * 4 - 16) / 8))
    # A far cell alone: W = 1, local sum 1.
    z_far = (1 - mean) / (s * math.sqrt((9 - 1) / 8))
    assert z_centre == pytest.approx(2.2223, abs=1e-4)
    assert result[CENTRE].z == pytest.approx(z_centre)
    for cell, value in counts.items():
        expected = {10.0: z_centre, 5.0: z_ring, 1.0: z_far}[value]
        assert result[cell].z == pytest.approx(expected)
    raw = [math.erfc(abs(z) / math.sqrt(2)) for z in (z_centre, *[z_ring] * 6, z_far, z_far)]
    assert result[CENTRE].p == pytest.approx(benjamini_hochberg(raw)[0])
    assert result[CENTRE].hotspot is (result[CENTRE].p < 0.05)


def test_benjamini_hochberg_known_values() -> None:
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert benjamini_hochberg([0.9, 0.8]) == pytest.approx([0.9, 0.9])


def test_uniform_counts_have_no_hotspot() -> None:
    counts = {c: 5.0 for c in h3.grid_disk(CENTRE, 2)}
    assert all(r.z == 0 and not r.hotspot for r in gi_star(counts).values())
