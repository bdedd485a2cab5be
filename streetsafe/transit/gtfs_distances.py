"""Where each stop of a route pattern lies along its shapes.txt line, worked out in Python.

The same walk as `gtfs_sql.DISTANCES` (which still places stops on lines built from stop
sequences), in the same senses: fractions along the line are planar (ST_LineLocatePoint
on ST_LineSubstring, on lon/lat), distances between points are geodesic on WGS84 (what
ST_Distance and ST_DWithin measure on geography; pyproj's Geod and PostGIS both use
GeographicLib). The importer runs it while the server is still loading shapes, and the
server multiplies each fraction by the shape's length_m, as the SQL walk did.
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
    """A line's vertices, its cumulative planar length at each vertex and its geodesic length."""

    xy: np.ndarray
    cum: np.ndarray
    length_m: float

    @classmethod
    def of(cls, coords: list[tuple[float, float]]) -> Line:
        """The Line of (lon, lat) vertices without consecutive repeats."""
        xy = np.asarray(coords, dtype=float)
        steps = np.hypot(*np.diff(xy, axis=0).T)
        lons, lats = xy[:, 0], xy[:, 1]
        return cls(xy, np.concatenate([[0.0], np.cumsum(steps)]), GEOD.line_length(lons, lats))

    def point_at(self, fraction: float) -> np.ndarray:
        """The point at a planar fraction of the length (ST_LineInterpolatePoint)."""
        position = fraction * self.cum[-1]
        i = min(max(int(np.searchsorted(self.cum, position, "right")) - 1, 0), len(self.cum) - 2)
        step = self.cum[i + 1] - self.cum[i]
        t = min(max((position - self.cum[i]) / step, 0.0), 1.0) if step > 0 else 0.0
        return self.xy[i] + t * (self.xy[i + 1] - self.xy[i])

    def locate(self, point: np.ndarray, start: float, end: float) -> float:
        """Planar fraction of the point between fractions start and end nearest to `point`
        (ST_LineLocatePoint on that ST_LineSubstring, as a fraction of the whole line)."""
        total = self.cum[-1]
        if total == 0:
            return start
        low, high = start * total, end * total
        first = max(int(np.searchsorted(self.cum, low, "right")) - 1, 0)
        last = min(max(int(np.searchsorted(self.cum, high, "left")), first + 1), len(self.cum) - 1)
        cum, xy = self.cum[first : last + 1], self.xy[first : last + 1]
        steps = np.diff(cum)
        begin, finish = np.maximum(cum[:-1], low), np.minimum(cum[1:], high)
        direction = np.diff(xy, axis=0)
        safe = np.where(steps > 0, steps, 1.0)
        a = xy[:-1] + ((begin - cum[:-1]) / safe)[:, None] * direction
        b = xy[:-1] + ((finish - cum[:-1]) / safe)[:, None] * direction
        ab = b - a
        norm = (ab**2).sum(axis=1)
        t = np.clip(((point - a) * ab).sum(axis=1) / np.where(norm > 0, norm, 1.0), 0.0, 1.0)
        gap = ((a + t[:, None] * ab - point) ** 2).sum(axis=1)
        k = int(np.argmin(gap))  # the first of equally near ones, as PostGIS picks
        return float(min((begin[k] + t[k] * (finish[k] - begin[k])) / total, 1.0))


def metres(a: np.ndarray, b: np.ndarray) -> float:
    """Geodesic distance between two (lon, lat) points on WGS84."""
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


def walk(line: Line, points: np.ndarray) -> list[float]:
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
