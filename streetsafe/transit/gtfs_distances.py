"""Where each stop of a route pattern lies along its shapes.txt line, worked out in Python.

The same walk as `gtfs_sql.DISTANCES` (which still places stops on lines built from stop
sequences), in the same senses: fractions along the line are planar (ST_LineLocatePoint
on ST_LineSubstring, on lon/lat), distances between points are geodesic on WGS84 (what
ST_Distance and ST_DWithin measure on geography; pyproj's Geod and PostGIS both use
GeographicLib). The importer runs it while the server is still loading shapes.

A stop's distance along the line is geodesic metres along the line up to the stop's point
(`metres_at`): what PostGIS gives for ST_Length(ST_LineSubstring(line, 0, fraction)::
geography). A planar fraction times the geodesic length is not that: on the Southampton
feed it was off by a median of tens of metres (issue 15).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
NEAR_M = 200.0  # a stop this close to the point found ahead is placed there
HEAD_M = 1000.0  # the first stop is looked for in the first kilometre first
AHEAD_M = 500.0  # ... and each next one within 3x its straight-line gap plus this
END = 0.999999  # a stop after one placed at the end stays at the end


@dataclass(frozen=True)
class Line:
    """A line's vertices (x, y), the cumulative planar length and geodesic metres at each
    vertex, each segment's direction per unit of length, and the line's geodesic length."""

    x: np.ndarray
    y: np.ndarray
    cum: np.ndarray
    cum_m: np.ndarray
    per_x: np.ndarray
    per_y: np.ndarray
    length_m: float

    @classmethod
    def of(cls, coords: np.ndarray) -> Line:
        """The Line of (n, 2) (lon, lat) vertices without consecutive repeats."""
        x, y = np.asarray(coords, dtype=float).T.copy()
        dx, dy = x[1:] - x[:-1], y[1:] - y[:-1]
        steps = np.hypot(dx, dy)
        safe = np.where(steps > 0, steps, 1.0)
        cum = np.concatenate([[0.0], np.cumsum(steps)])
        cum_m = np.concatenate([[0.0], np.cumsum(segment_metres(x, y))])
        return cls(x, y, cum, cum_m, dx / safe, dy / safe, float(cum_m[-1]))

    @cached_property
    def vertices(self) -> tuple[list[float], list[float], list[float], list[float], list[float]]:
        """x, y, per_x, per_y and cum as lists, for the walk's one-stop-at-a-time steps."""
        return (self.x.tolist(), self.y.tolist(), self.per_x.tolist(), self.per_y.tolist(),
                self.cum.tolist())  # fmt: skip

    def point_at(self, fraction: float) -> tuple[float, float]:
        """The point at a planar fraction of the length (ST_LineInterpolatePoint)."""
        x, y, per_x, per_y, cum = self.vertices
        position = fraction * cum[-1]
        i = min(max(bisect_right(cum, position) - 1, 0), len(cum) - 2)
        along = min(max(position - cum[i], 0.0), cum[i + 1] - cum[i])
        return x[i] + along * per_x[i], y[i] + along * per_y[i]

    def metres_at(
        self, fractions: list[float], stops: np.ndarray
    ) -> tuple[list[float], list[float]]:
        """Geodesic metres along the line to the points at these planar fractions
        (ST_Length(ST_LineSubstring(line, 0, fraction)::geography)), and from each of
        those points to its stop, an (n, 2) array of (lon, lat)."""
        if not fractions:
            return [], []
        cum = self.cum
        position = np.asarray(fractions, dtype=float) * cum[-1]
        i = np.clip(cum.searchsorted(position, "right") - 1, 0, len(cum) - 2)
        along = np.minimum(np.maximum(position - cum[i], 0.0), cum[i + 1] - cum[i])
        px, py = self.x[i] + along * self.per_x[i], self.y[i] + along * self.per_y[i]
        metres_along = self.cum_m[i] + GEOD.inv(self.x[i], self.y[i], px, py)[2]
        return metres_along.tolist(), GEOD.inv(px, py, stops[:, 0], stops[:, 1])[2].tolist()


WGS84_A = 6378137.0
WGS84_E2 = 6.69437999014e-3
LONG_SEGMENT_M = 2000.0  # segments longer than this are measured by GeographicLib instead


def segment_metres(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Geodesic length of each segment of a lon/lat line, on WGS84.

    Shape segments are short (31 m on average on the Southampton feed): on the ellipsoid's
    tangent plane at a segment's middle (radii of curvature M and N there) its length is the
    geodesic's to well under a millimetre, 20x faster than GeographicLib per segment; the
    rare long ones take GeographicLib (what PostGIS uses for geography lengths).
    """
    lat = np.radians((y[:-1] + y[1:]) / 2)
    w = 1.0 - WGS84_E2 * np.sin(lat) ** 2
    north = WGS84_A * (1.0 - WGS84_E2) / w**1.5 * np.radians(y[1:] - y[:-1])
    east = WGS84_A / np.sqrt(w) * np.cos(lat) * np.radians((x[1:] - x[:-1] + 180.0) % 360.0 - 180.0)
    lengths = np.hypot(north, east)
    long = lengths > LONG_SEGMENT_M
    if long.any():
        i = np.flatnonzero(long)
        lengths[i] = GEOD.inv(x[i], y[i], x[i + 1], y[i + 1])[2]
    return lengths


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance between two (lon, lat) points on WGS84."""
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def gap_metres(points: np.ndarray) -> list[float]:
    """Geodesic distance from each point to the next, on WGS84 (one GeographicLib call)."""
    x, y = points[:, 0], points[:, 1]
    return GEOD.inv(x[:-1], y[:-1], x[1:], y[1:])[2].tolist()


def within_m(a: tuple[float, float], b: tuple[float, float], limit_m: float) -> bool:
    """Whether two (lon, lat) points are at most limit_m apart on WGS84 (ST_DWithin).

    On the tangent plane (segment_metres) unless the answer is within a metre of the
    limit, which GeographicLib then settles: the same answers, 10x faster per stop.
    """
    lat = math.radians((a[1] + b[1]) / 2)
    w = 1.0 - WGS84_E2 * math.sin(lat) ** 2
    north = WGS84_A * (1.0 - WGS84_E2) / w**1.5 * math.radians(b[1] - a[1])
    east = WGS84_A / math.sqrt(w) * math.cos(lat) * math.radians((b[0] - a[0] + 180) % 360 - 180)
    plane_m = math.hypot(north, east)
    if abs(plane_m - limit_m) > 1.0:
        return plane_m <= limit_m
    return metres(a, b) <= limit_m


class Projections:
    """Each stop of a pattern projected on each segment of a line, once: the walk then finds
    the nearest point of any stretch of the line with one argmin over whole segments and two
    clipped ones at its ends, instead of projecting on every segment for every search.

    Rows are computed a block of stops at a time, so a long pattern on a dense line never
    holds more than BLOCK values per array.
    """

    BLOCK = 1 << 20

    def __init__(self, line: Line, points: np.ndarray) -> None:
        self.line, self.points = line, points
        self.x, self.y, self.per_x, self.per_y, self.cum = line.vertices
        self.stops = points.tolist()
        self.rows = max(1, self.BLOCK // max(len(line.x) - 1, 1))
        self.first_row = -self.rows
        self.along: np.ndarray = np.empty((0, 0))  # clamped to each whole segment
        self.gap2: np.ndarray = np.empty((0, 0))  # squared distance to that point

    def _block(self, k: int) -> int:
        """The row of stop k in the current block, computing the block if needed."""
        if not self.first_row <= k < self.first_row + self.rows:
            self.first_row = k
            line, block = self.line, self.points[k : k + self.rows]
            x, y, per_x, per_y = line.x[:-1], line.y[:-1], line.per_x, line.per_y
            px, py = block[:, :1], block[:, 1:]
            along = (px - x) * per_x + (py - y) * per_y
            self.along = np.minimum(np.maximum(along, 0.0), line.cum[1:] - line.cum[:-1])
            gap_x, gap_y = x + self.along * per_x - px, y + self.along * per_y - py
            self.gap2 = gap_x * gap_x + gap_y * gap_y
        return k - self.first_row

    def _clipped(self, k: int, i: int, low: float, high: float) -> tuple[float, float]:
        """(squared distance, planar length along the line) of the nearest point to stop k
        on the part of segment i between lengths low and high along the line."""
        px, py = self.stops[k]
        begin = max(self.cum[i], low) - self.cum[i]
        finish = min(self.cum[i + 1], high) - self.cum[i]
        x, y, per_x, per_y = self.x[i], self.y[i], self.per_x[i], self.per_y[i]
        along = min(max((px - x) * per_x + (py - y) * per_y, begin), finish)
        gap_x, gap_y = x + along * per_x - px, y + along * per_y - py
        return gap_x * gap_x + gap_y * gap_y, self.cum[i] + along

    def locate(self, k: int, start: float, end: float) -> float:
        """Planar fraction of the point between fractions start and end nearest to stop k
        (ST_LineLocatePoint on that ST_LineSubstring, as a fraction of the whole line; of
        equally near points, the first)."""
        cum, total = self.cum, self.cum[-1]
        if total == 0:
            return start
        low, high = start * total, end * total
        first = max(bisect_right(cum, low) - 1, 0)
        last = min(max(bisect_left(cum, high), first + 1), len(cum) - 1)
        best = self._clipped(k, first, low, high)
        if last - first > 2:  # whole segments between the two ends: the first nearest one
            row = self._block(k)
            j = first + 1 + int(self.gap2[row, first + 1 : last - 1].argmin())
            gap2 = float(self.gap2[row, j])
            if gap2 < best[0]:
                best = (gap2, cum[j] + float(self.along[row, j]))
        if last - first > 1:
            end_best = self._clipped(k, last - 1, low, high)
            best = end_best if end_best[0] < best[0] else best
        return float(min(best[1] / total, 1.0))


def walk(line: Line, points: list[tuple[float, float]]) -> list[float]:
    """Each stop's fraction along the line, never going backwards (gtfs_sql.DISTANCES)."""
    length_m = max(line.length_m, 1.0)
    head = min(1.0, HEAD_M / length_m)
    stops = Projections(line, np.asarray(points, dtype=float))
    fraction = stops.locate(0, 0.0, head)
    if not within_m(line.point_at(fraction), points[0], NEAR_M):
        fraction = stops.locate(0, 0.0, 1.0)
    fractions = [fraction]
    gaps = gap_metres(stops.points) if len(points) > 1 else []
    for k in range(1, len(points)):
        if fraction < END:
            ahead = min(1.0, fraction + (3 * gaps[k - 1] + AHEAD_M) / length_m)
            near = fraction if ahead <= fraction else stops.locate(k, fraction, ahead)
            if within_m(line.point_at(near), points[k], NEAR_M):
                fraction = near
            else:
                fraction = stops.locate(k, fraction, 1.0)
        fractions.append(fraction)
    return fractions
