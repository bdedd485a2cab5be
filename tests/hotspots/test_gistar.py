"""Gi* over a study area against PySAL's esda, and its FDR against scipy."""

from __future__ import annotations

import random

import h3
import numpy as np
import pytest
from esda import G_Local
from libpysal.weights import W
from scipy.stats import false_discovery_control, norm

from streetsafe.hotspots.gistar import StudyArea, benjamini_hochberg_grouped, gi_star

BOX = (-0.36, 53.73, -0.31, 53.76)  # central Hull, about 1,300 res 9 cells
CENTRE = h3.latlng_to_cell(53.744, -0.334, 9)


def _clustered_counts(area: StudyArea, seed: int) -> dict[str, float]:
    """A cluster around CENTRE and a few scattered cells, as published counts (multiples of 5)."""
    rng = random.Random(seed)
    counts = {c: float(rng.choice([5, 10, 15, 20])) for c in h3.grid_disk(CENTRE, 2)}
    cells = area.cells()
    for cell in rng.sample(cells, 12):
        counts[cell] = float(rng.choice([5, 10]))
    return {c: v for c, v in counts.items() if area.contains(c)}


def _esda(area: StudyArea, counts: dict[str, float]) -> tuple[list[str], np.ndarray]:
    """esda's Gi* z-scores over every cell of the area on binary ring-1 weights."""
    cells = sorted(area.cells())
    inside = set(cells)
    neighbours = {c: [n for n in h3.grid_ring(c, 1) if n in inside] for c in cells}
    weights = W(neighbours, silence_warnings=True)
    y = np.array([counts.get(c, 0.0) for c in weights.id_order])
    g = G_Local(y, weights, transform="B", permutations=0, star=True)
    return list(weights.id_order), g.Zs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_z_scores_agree_with_esda_on_the_whole_study_area(seed: int) -> None:
    area = StudyArea(BOX, 9)
    counts = _clustered_counts(area, seed)
    ours = gi_star(counts, area)
    order, z = _esda(area, counts)
    theirs = dict(zip(order, z, strict=True))
    assert set(ours) == set(counts)
    for cell, result in ours.items():
        assert result.z == pytest.approx(theirs[cell], abs=1e-9)


def test_fdr_agrees_with_scipy_over_every_cell_of_the_area() -> None:
    area = StudyArea(BOX, 9)
    counts = _clustered_counts(area, 7)
    ours = gi_star(counts, area)
    order, z = _esda(area, counts)
    adjusted = false_discovery_control(2 * norm.sf(np.abs(z)), method="bh")
    theirs = dict(zip(order, adjusted, strict=True))
    for cell, result in ours.items():
        assert result.p == pytest.approx(theirs[cell], abs=1e-9)
    assert ours[CENTRE].hotspot


def test_withheld_and_empty_neighbours_are_the_same_zero() -> None:
    """A published cell's z is the same whether a neighbour was withheld or never reported."""
    area = StudyArea(BOX, 9)
    counts = _clustered_counts(area, 3)
    # The published counts are all the statistic sees: nothing else can be passed in.
    assert gi_star(dict(counts), area) == gi_star(dict(counts), area)
    ring = [c for c in h3.grid_ring(CENTRE, 3) if c not in counts]
    with_zero = {**counts, ring[0]: 0.0}
    assert gi_star(with_zero, area) == gi_star(counts, area)


def test_grouped_bh_equals_scipy_on_the_expanded_vector() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 1, 40)
    p[:5] = rng.uniform(0, 0.001, 5)
    multiplicity = rng.integers(1, 6, 40).astype(float)
    expanded = np.repeat(p, multiplicity.astype(int))
    expected = false_discovery_control(expanded, method="bh")
    grouped = np.repeat(benjamini_hochberg_grouped(p, multiplicity), multiplicity.astype(int))
    assert grouped == pytest.approx(expected, abs=1e-12)


def test_a_large_study_area_is_counted_from_its_area() -> None:
    """Great Britain at res 9 is far too big to enumerate; z stays close to the exact one."""
    area = StudyArea((-8.65, 49.86, 1.77, 60.86), 9)
    counts = {c: 10.0 for c in h3.grid_disk(CENTRE, 1)}
    result = gi_star(counts, area)
    assert result[CENTRE].z > 10 and result[CENTRE].hotspot


def test_the_disk_table_gives_h3s_own_disks_and_centres_whatever_it_kept() -> None:
    """Looked up in any order, with repeats, across calls, past its size (it starts again)
    and for a pentagon (six neighbours, padded with 0): h3's disks and centres."""
    from h3.api import basic_int as h3int

    from streetsafe.hotspots.gistar import DiskTable

    rng = random.Random(3)
    pentagon = h3int.get_pentagons(9)[0]
    pool = [h3.str_to_int(c) for c in h3.grid_disk(CENTRE, 12)] + [pentagon]
    table = DiskTable(max_cells=300)
    for _ in range(12):
        asked = rng.choices(pool, k=rng.randint(1, 200))
        disks, centres = table.lookup(np.array(asked, dtype=np.uint64))
        for cell, disk, centre in zip(asked, disks.tolist(), centres.tolist(), strict=True):
            assert sorted(c for c in disk if c) == sorted(h3int.grid_disk(cell, 1))
            assert disk.count(0) == (1 if cell == pentagon else 0)
            assert tuple(centre) == h3int.cell_to_latlng(cell)
    assert 0 < len(table._kept[0]) <= 300
    assert table.lookup(np.zeros(0, dtype=np.uint64))[0].shape == (0, 7)


def test_gi_star_is_the_same_with_a_cold_or_a_warm_disk_table(monkeypatch) -> None:
    from streetsafe.hotspots import gistar

    area = StudyArea(BOX, 9)
    counts = _clustered_counts(area, seed=5)
    monkeypatch.setattr(gistar, "DISKS", gistar.DiskTable())
    cold = gi_star(counts, area)
    warm = gi_star(counts, area)
    # Too small to keep a request's cells: it starts again on every lookup.
    monkeypatch.setattr(gistar, "DISKS", gistar.DiskTable(max_cells=10))
    tiny = gi_star(counts, area)
    assert cold == warm == tiny and cold
