"""Getis-Ord Gi* over a declared study area of H3 cells, zeros included.

The study area is every cell of one resolution whose centre lies in a lon/lat box (the
request's bbox, else the service's extent). Cells without a published count are zeros, so a
withheld cell and an empty one are the same zero and a published cell's z cannot depend on
which of its neighbours are withheld. Weights are binary on the ring-1 disk (the cell itself
included: Gi*), restricted to the study area, as in esda.G_Local(star=True) with binary
weights; z-scores are Getis & Ord's (1992/1995) normal approximation, and two-sided
p-values are adjusted by Benjamini-Hochberg over every cell of the study area
(tests/hotspots/test_gistar.py checks both against esda and scipy).

Only cells near a published one carry anything: the rest of the study area is n - m cells
whose ring sums are 0, so they enter the moments and the FDR as counted groups rather than as
cells. Study areas up to ENUMERATE_MAX cells are enumerated to count them exactly; larger
ones are counted from their area (h3's mean cell area), and their border cells are treated
as full disks (both change z by far less than its rounding to 3 decimals).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass

import h3
import h3.api.basic_int as h3int
import numpy as np
from scipy.special import ndtr

from .conditions import METRES_PER_DEGREE, envelope

ENUMERATE_MAX = 20_000
DEEP_EDGES = 4.0
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class GiResult:
    """Gi* z-score, BH-adjusted p-value, and whether the cell is a significant hotspot."""

    z: float
    p: float

    @property
    def hotspot(self) -> bool:
        """Adjusted p below 0.05 with more reports than expected."""
        return self.p < 0.05 and self.z > 0


@dataclass(frozen=True)
class StudyArea:
    """The cells of one resolution whose centres lie in `box`."""

    box: Box
    res: int

    def contains(self, cell: str) -> bool:
        """True when the cell's centre lies in the box (the cell belongs to the area)."""
        lat, lon = h3.cell_to_latlng(cell)
        min_lon, min_lat, max_lon, max_lat = self.box
        return min_lon <= lon <= max_lon and min_lat <= lat <= max_lat

    def shrunk(self, margin_m: float) -> StudyArea | None:
        """The area with its box shrunk by margin_m on every side (None when nothing is left)."""
        inner = envelope(self.box, -margin_m)
        box = (inner["min_lon"], inner["min_lat"], inner["max_lon"], inner["max_lat"])
        return StudyArea(box, self.res) if box[0] < box[2] and box[1] < box[3] else None

    def estimated_cells(self) -> float:
        """About how many cells the area holds (from its area and h3's mean cell area)."""
        min_lon, min_lat, max_lon, max_lat = self.box
        width_m = (max_lon - min_lon) * METRES_PER_DEGREE * math.cos(
            math.radians((min_lat + max_lat) / 2)
        )
        height_m = (max_lat - min_lat) * METRES_PER_DEGREE
        return width_m * height_m / h3.average_hexagon_area(self.res, unit="m^2")

    def cells(self) -> list[str]:
        """Every cell of the area (only for areas small enough to enumerate)."""
        min_lon, min_lat, max_lon, max_lat = self.box
        ring = [(min_lat, min_lon), (min_lat, max_lon), (max_lat, max_lon), (max_lat, min_lon)]
        return list(h3.h3shape_to_cells(h3.LatLngPoly(ring), self.res))

    def border_cells(self, cells: list[str]) -> list[str]:
        """The cells of the area that may have a neighbour outside it."""
        margin = 2.0 * h3.average_hexagon_edge_length(self.res, unit="m")
        min_lon, min_lat, max_lon, max_lat = self.box
        dlat = margin / METRES_PER_DEGREE
        widest = max(abs(min_lat), abs(max_lat))
        dlon = margin / (METRES_PER_DEGREE * max(math.cos(math.radians(widest)), 0.01))
        border = []
        for cell in cells:
            lat, lon = h3.cell_to_latlng(cell)
            if (lon - min_lon < dlon or max_lon - lon < dlon or lat - min_lat < dlat
                    or max_lat - lat < dlat):  # fmt: skip
                border.append(cell)
        return border


def _disk_in(area: StudyArea, cell: str) -> list[str]:
    return [c for c in h3.grid_disk(cell, 1) if area.contains(c)]


class DiskTable:
    """The ring-1 disks and centres of the cells a worker has seen: pure H3 geometry, no data.

    h3 costs ~3 us a grid_disk and ~0.4 us a centre, and a region's res 7 layer asked for
    12,000 disks and 40,000 centres on every new bbox, half of its time (docs/BENCHMARKS.md,
    "National reads", round 4). Kept as a sorted array of cells beside a (cells, 7) array of
    their disks (0 pads a pentagon's) and a (cells, 2) array of their (lat, lng) centres,
    looked up for all of a request's cells at once; the missing ones are added. Past
    `max_cells` (80 bytes each) it starts again from the request's cells.
    """

    def __init__(self, max_cells: int = 200_000) -> None:
        self.max_cells = max_cells
        self._lock = threading.Lock()
        # Replaced together, never changed in place: a reader takes one consistent triple.
        self._kept = (np.zeros(0, np.uint64), np.zeros((0, 7), np.uint64), np.zeros((0, 2)))

    def lookup(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The (len(cells), 7) disks and (len(cells), 2) (lat, lng) centres of `cells`
        (64-bit H3 integers)."""
        cells = np.asarray(cells, dtype=np.uint64)
        known, disks, centres = self._kept
        at, found = _positions(known, cells)
        if found.all():
            return disks[at], centres[at]
        new, position = np.unique(cells[~found], return_inverse=True)
        new_disks, new_centres = self._add(new)
        out_disks, out_centres = np.zeros((len(cells), 7), np.uint64), np.zeros((len(cells), 2))
        out_disks[found], out_centres[found] = disks[at[found]], centres[at[found]]
        out_disks[~found], out_centres[~found] = new_disks[position], new_centres[position]
        return out_disks, out_centres

    def _add(self, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The disks and centres of `new` (sorted, unique, none known), computed and kept."""
        disks = np.zeros((len(new), 7), dtype=np.uint64)
        for row, cell in enumerate(new.tolist()):
            disk = h3int.grid_disk(cell, 1)
            disks[row, : len(disk)] = disk
        centres = np.array([h3int.cell_to_latlng(c) for c in new.tolist()]).reshape(-1, 2)
        with self._lock:
            known, kept_disks, kept_centres = self._kept
            fresh = ~_positions(known, new)[1]  # another thread may have added some
            if len(known) + int(fresh.sum()) > self.max_cells:
                known, kept_disks, kept_centres = known[:0], kept_disks[:0], kept_centres[:0]
            merged = np.concatenate([known, new[fresh]])
            order = np.argsort(merged, kind="stable")
            self._kept = (merged[order], np.concatenate([kept_disks, disks[fresh]])[order],
                          np.concatenate([kept_centres, centres[fresh]])[order])  # fmt: skip
        return disks, centres


DISKS = DiskTable()


def _positions(known: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `cells` is in the sorted `known`, and whether it is there at all."""
    if not len(known):
        return np.zeros(len(cells), dtype=np.intp), np.zeros(len(cells), dtype=bool)
    at = np.minimum(np.searchsorted(known, cells), len(known) - 1)
    return at, known[at] == cells


def _disks_in(area: StudyArea, cells: np.ndarray) -> np.ndarray:
    """The cells' disks with every cell whose centre lies outside the area set to 0."""
    disks = DISKS.lookup(cells)[0].ravel()
    real = np.flatnonzero(disks)
    centres = DISKS.lookup(disks[real])[1]
    outside = real[~_in_box(centres[:, 0], centres[:, 1], area.box)]
    disks[outside] = 0
    return disks.reshape(-1, 7)


def _in_box(lat: np.ndarray, lon: np.ndarray, box: Box) -> np.ndarray:
    return (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])


def _ring_sums(
    cells: np.ndarray, values: np.ndarray, lat: np.ndarray, lon: np.ndarray, area: StudyArea
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The active cells (a nonzero cell in their disk; sorted integers), their ring sums and
    their weights, from the nonzero cells (integers, values and centres).

    Cells deep inside the area (over DEEP_EDGES edge lengths from its border) have whole
    disks inside it, and so do their neighbours (weight 7): only the few near the border are
    tested cell by cell. Cells go as 64-bit integers, so the folding is numpy's.
    """
    deep_m = DEEP_EDGES * h3.average_hexagon_edge_length(area.res, unit="m")
    inner = area.shrunk(deep_m)
    deep = _in_box(lat, lon, inner.box) if inner is not None else np.zeros(len(cells), bool)
    disks = DISKS.lookup(cells)[0]
    border = disks[~deep]
    disks[~deep] = _disks_in(area, cells[~deep])
    neighbours, gives = disks.ravel(), np.repeat(values, 7)
    real = neighbours != 0  # not a pentagon's padding, nor outside the area
    active, inverse = np.unique(neighbours[real], return_inverse=True)
    ring = np.zeros(len(active))
    np.add.at(ring, inverse, gives[real])
    weight = np.full(len(active), 7.0)
    # Active cells near the border: their own disks within the area.
    near = np.unique(border[border != 0])
    positions = np.unique(np.minimum(np.searchsorted(active, near), len(active) - 1))
    if len(near) and len(active):
        weight[positions] = np.count_nonzero(_disks_in(area, active[positions]), axis=1)
    return active, ring, weight


def gi_star(counts: dict[str, float], area: StudyArea) -> dict[str, GiResult]:
    """Gi* of every cell in `counts` (the nonzero cells of the area) against the whole area."""
    ids = [c for c, v in counts.items() if v]
    cells = np.array([h3.str_to_int(c) for c in ids], dtype=np.uint64)
    z, p = gi_star_arrays(cells, np.array([counts[c] for c in ids], dtype=float), area)
    return {cell: GiResult(float(z[i]), float(p[i]))
            for i, cell in enumerate(ids) if not np.isnan(z[i])}  # fmt: skip


def gi_star_arrays(
    cells: np.ndarray, values: np.ndarray, area: StudyArea
) -> tuple[np.ndarray, np.ndarray]:
    """gi_star over columns: z and adjusted p for each of `cells` (64-bit H3 integers, all
    nonzero `values`), NaN for the cells whose centre lies outside the area."""
    z_out = np.full(len(cells), np.nan)
    p_out = np.full(len(cells), np.nan)
    if not len(cells):
        return z_out, p_out
    centres = DISKS.lookup(cells)[1]
    inside = _in_box(centres[:, 0], centres[:, 1], area.box)
    if not inside.any():
        return z_out, p_out
    cells, centres, values = cells[inside], centres[inside], values[inside]
    active, ring, weight = _ring_sums(cells, values, centres[:, 0], centres[:, 1], area)
    all_cells = area.cells() if area.estimated_cells() <= ENUMERATE_MAX else None
    n = len(all_cells) if all_cells is not None else round(area.estimated_cells())
    n = max(n, len(active))
    if n < 3:
        z_out[inside], p_out[inside] = 0.0, 1.0
        return z_out, p_out
    mean = values.sum() / n
    s = math.sqrt(max(float((values * values).sum()) / n - mean * mean, 0.0))
    idle = Counter({7: n - len(active)})
    if all_cells is not None:
        busy = {h3.int_to_str(int(c)) for c in active}
        for cell in area.border_cells(all_cells):
            if cell not in busy:
                idle[7] -= 1
                idle[len(_disk_in(area, cell))] += 1

    def z_of(sums: np.ndarray, w: np.ndarray) -> np.ndarray:
        spread = s * np.sqrt(np.maximum(n * w - w * w, 0) / (n - 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(spread > 0, (sums - mean * w) / spread, 0.0)

    idle_w = np.array(list(idle), dtype=float)
    z_active = z_of(ring, weight)
    adjusted = benjamini_hochberg_grouped(
        np.concatenate([_two_sided(z_active), _two_sided(z_of(np.zeros(len(idle_w)), idle_w))]),
        np.concatenate([np.ones(len(active)), np.array(list(idle.values()), dtype=float)]),
    )[: len(active)]
    at = np.searchsorted(active, cells)
    z_out[inside], p_out[inside] = z_active[at], adjusted[at]
    return z_out, p_out


def _two_sided(z: np.ndarray) -> np.ndarray:
    return 2.0 * ndtr(-np.abs(z))


def benjamini_hochberg_grouped(p: np.ndarray, multiplicity: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values where p[i] stands for multiplicity[i] tests.

    Equal to scipy.stats.false_discovery_control on the expanded vector: every test of a
    group shares its adjusted value, min over ranks j >= its own of p_(j) * n / j, and within
    a group that minimum is reached at the group's last rank.
    """
    keep = multiplicity > 0
    order = np.argsort(p, kind="stable")
    order = order[keep[order]]
    n = multiplicity[order].sum()
    last_rank = np.cumsum(multiplicity[order])
    q = np.minimum.accumulate((p[order] * n / last_rank)[::-1])[::-1]
    adjusted = np.ones_like(p)
    adjusted[order] = np.minimum(q, 1.0)
    return adjusted
