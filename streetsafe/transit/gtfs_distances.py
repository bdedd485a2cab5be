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

from dataclasses import dataclass
from itertools import pairwise

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
    def of(cls, coords: list[tuple[float, float]]) -> Line:
        """The Line of (lon, lat) vertices without consecutive repeats."""
        x, y = np.asarray(coords, dtype=float).T.copy()
        dx, dy = x[1:] - x[:-1], y[1:] - y[:-1]
        steps = np.hypot(dx, dy)
        safe = np.where(steps > 0, steps, 1.0)
        cum = np.concatenate([[0.0], np.cumsum(steps)])
        cum_m = np.concatenate([[0.0], np.cumsum(segment_metres(x, y))])
        return cls(x, y, cum, cum_m, dx / safe, dy / safe, float(cum_m[-1]))

    def _segment(self, fraction: float) -> tuple[int, float, float]:
        """The segment holding a planar fraction of the length, and the point there."""
        position = fraction * self.cum[-1]
        i = min(max(int(self.cum.searchsorted(position, "right")) - 1, 0), len(self.cum) - 2)
        along = min(max(position - self.cum[i], 0.0), self.cum[i + 1] - self.cum[i])
        return i, self.x[i] + along * self.per_x[i], self.y[i] + along * self.per_y[i]

    def point_at(self, fraction: float) -> tuple[float, float]:
        """The point at a planar fraction of the length (ST_LineInterpolatePoint)."""
        _, x, y = self._segment(fraction)
        return x, y

    def metres_at(self, fractions: list[float]) -> list[float]:
        """Geodesic metres along the line to the points at these planar fractions
        (ST_Length(ST_LineSubstring(line, 0, fraction)::geography))."""
        if not fractions:
            return []
        found = [self._segment(fraction) for fraction in fractions]
        i = np.array([k for k, _, _ in found])
        px, py = np.array([x for _, x, _ in found]), np.array([y for _, _, y in found])
        return (self.cum_m[i] + GEOD.inv(self.x[i], self.y[i], px, py)[2]).tolist()

    def locate(self, point: tuple[float, float], start: float, end: float) -> float:
        """Planar fraction of the point between fractions start and end nearest to `point`
        (ST_LineLocatePoint on that ST_LineSubstring, as a fraction of the whole line)."""
        total = self.cum[-1]
        if total == 0:
            return start
        low, high = start * total, end * total
        first = max(int(self.cum.searchsorted(low, "right")) - 1, 0)
        last = min(max(int(self.cum.searchsorted(high, "left")), first + 1), len(self.cum) - 1)
        at = self.cum[first:last]
        begin = np.maximum(at, low) - at  # the segments' parts inside [low, high], as lengths
        finish = np.minimum(self.cum[first + 1 : last + 1], high) - at  # from each segment start
        x, y = self.x[first:last], self.y[first:last]
        per_x, per_y = self.per_x[first:last], self.per_y[first:last]
        ax, ay = x + begin * per_x, y + begin * per_y
        abx, aby = (finish - begin) * per_x, (finish - begin) * per_y
        norm = abx * abx + aby * aby
        t = ((point[0] - ax) * abx + (point[1] - ay) * aby) / np.where(norm > 0, norm, 1.0)
        t = np.minimum(np.maximum(t, 0.0), 1.0)
        gap_x, gap_y = ax + t * abx - point[0], ay + t * aby - point[1]
        k = int((gap_x * gap_x + gap_y * gap_y).argmin())  # the first of equally near ones
        along = at[k] + begin[k] + t[k] * (finish[k] - begin[k])
        return float(min(along / total, 1.0))


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


def walk(line: Line, points: list[tuple[float, float]]) -> list[float]:
    """Each stop's fraction along the line, never going backwards (gtfs_sql.DISTANCES)."""
    length_m = max(line.length_m, 1.0)
    head = min(1.0, HEAD_M / length_m)
    fraction = line.locate(points[0], 0.0, head)
    if metres(line.point_at(fraction), points[0]) > NEAR_M:
        fraction = line.locate(points[0], 0.0, 1.0)
    fractions = [fraction]
    for previous, point in pairwise(points):
        if fraction < END:
            ahead = min(1.0, fraction + (3 * metres(previous, point) + AHEAD_M) / length_m)
            near = fraction if ahead <= fraction else line.locate(point, fraction, ahead)
            if metres(line.point_at(near), point) <= NEAR_M:
                fraction = near
            else:
                fraction = line.locate(point, fraction, 1.0)
        fractions.append(fraction)
    return fractions
