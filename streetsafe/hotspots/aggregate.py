"""Exact hotspot counts per cell, stop and route segment, read from the rollups only.

These functions return unsuppressed numbers: public views must pass them through
`disclosure.publish`; team views (a later issue) may use them as they are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import h3
import shapely
import sqlalchemy as sa
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from sqlalchemy.orm import Session

from ..errors import Unprocessable
from ..transit.segments import segment_flags
from .filters import HotspotFilters
from .rollups import ALL_CATEGORIES_MASK, CATEGORY_BITS, CATEGORY_IDS

METRES_PER_DEGREE = 111_320.0


@dataclass
class HotspotFeature:
    """One cell, stop or route segment with its exact count and counts per category mask."""

    id: str
    geometry: BaseGeometry
    count: int = 0
    mask_counts: dict[int, int] = field(default_factory=dict)
    properties: dict[str, object] = field(default_factory=dict)
    # Reports per category when read from a summary (else folded from mask_counts).
    category_totals: dict[str, int] | None = None

    def category_counts(self, category_mask: int = 0) -> dict[str, int]:
        """Exact reports per category (only the filtered categories when a mask is given)."""
        wanted = category_mask or ALL_CATEGORIES_MASK
        if self.category_totals is not None:
            return {
                c: n for c, n in self.category_totals.items() if n and wanted & CATEGORY_BITS[c]
            }
        counts: dict[str, int] = {}
        for bit, category in enumerate(CATEGORY_IDS):
            if wanted & (1 << bit):
                n = sum(c for m, c in self.mask_counts.items() if m & (1 << bit))
                if n:
                    counts[category] = n
        return counts


@lru_cache(maxsize=65_536)
def cell_polygon(cell: int) -> Polygon:
    """The hexagon of an H3 cell as a lon/lat polygon with a counter-clockwise exterior."""
    boundary = h3.cell_to_boundary(h3.int_to_str(cell))  # (lat, lng) pairs
    return orient(Polygon([(lng, lat) for lat, lng in boundary]), sign=1.0)


def neighbourhood_id(session: Session, code: str) -> int:
    """The id of the neighbourhood with this code; 422 naming the field when unknown."""
    found = session.scalar(sa.text("SELECT id FROM neighbourhoods WHERE code = :c"), {"c": code})
    if found is None:
        raise Unprocessable(f"neighbourhood: no neighbourhood has code {code!r}", "neighbourhood")
    return found


def _conditions(
    session: Session, filters: HotspotFilters, time_columns: bool = True
) -> tuple[list[str], dict[str, object]]:
    """SQL conditions on a rollup aliased `r`, with their parameters."""
    where: list[str] = []
    params: dict[str, object] = {}
    if filters.categories:
        where.append("r.category_mask & :category_mask <> 0")
        params["category_mask"] = filters.category_mask
    if filters.context:
        where.append("r.context = ANY(:contexts)")
        params["contexts"] = filters.context
    if filters.mode:
        where.append("r.mode = ANY(:modes)")
        params["modes"] = filters.mode
    if filters.neighbourhood:
        where.append("r.neighbourhood_id = :neighbourhood_id")
        params["neighbourhood_id"] = neighbourhood_id(session, filters.neighbourhood)
    if filters.neighbourhood_ids is not None:
        where.append("r.neighbourhood_id = ANY(:neighbourhood_ids)")
        params["neighbourhood_ids"] = list(filters.neighbourhood_ids)
    if time_columns:
        if filters.from_date:
            where.append("r.day >= :from_date")
            params["from_date"] = filters.from_date
        if filters.to_date:
            where.append("r.day <= :to_date")
            params["to_date"] = filters.to_date
        if filters.hours:
            where.append("r.hour = ANY(:hours)")
            params["hours"] = filters.hour_list
        if filters.days:
            where.append("extract(isodow FROM r.day)::int = ANY(:dows)")
            params["dows"] = filters.isodows
    return where, params


def _envelope(bbox: tuple[float, float, float, float], margin_m: float) -> dict[str, float]:
    """Bbox parameters grown by `margin_m` on every side (degrees from metres at the bbox)."""
    min_lon, min_lat, max_lon, max_lat = bbox
    dlat = margin_m / METRES_PER_DEGREE
    widest = max(abs(min_lat), abs(max_lat))
    dlon = min(margin_m / (METRES_PER_DEGREE * max(math.cos(math.radians(widest)), 0.01)), 180)
    return {
        "min_lon": max(min_lon - dlon, -180.0),
        "min_lat": max(min_lat - dlat, -90.0),
        "max_lon": min(max_lon + dlon, 180.0),
        "max_lat": min(max_lat + dlat, 90.0),
    }


ENVELOPE_SQL = "ST_MakeEnvelope(:min_lon, :min_lat, :max_lon, :max_lat, 4326)"


def _collect(
    rows: sa.Result, make: Callable[[sa.Row], HotspotFeature]
) -> dict[str, HotspotFeature]:
    """Fold (key..., category_mask, count) rows into features, one per key."""
    features: dict[str, HotspotFeature] = {}
    for row in rows:
        key, mask, n = row[0], row[-2], row[-1]
        feature = features.get(key)
        if feature is None:
            feature = features[key] = make(row)
        feature.count += n
        feature.mask_counts[mask] = feature.mask_counts.get(mask, 0) + n
    return features


SUMMARY_COLUMNS = ", ".join(f"s.n_{c}" for c in CATEGORY_IDS)


def _site_join(filters: HotspotFilters, params: dict[str, object], alias: str) -> str:
    """Join cell sites near the bbox (empty without a bbox); adds the envelope parameters."""
    if not filters.bbox:
        return ""
    # A cell's site is a point inside it: any cell meeting the bbox has its site within
    # one cell diameter of it. The exact test is done on the hexagon afterwards.
    margin_m = 2.5 * h3.average_hexagon_edge_length(filters.res, unit="m")
    params.update(_envelope(filters.bbox, margin_m))
    return (
        f"JOIN hotspot_cell_sites p ON p.res = {alias}.res AND p.cell = {alias}.cell "
        f"AND p.geom && {ENVELOPE_SQL}"
    )


def _in_bbox(features: list[HotspotFeature], filters: HotspotFilters) -> list[HotspotFeature]:
    if not filters.bbox:
        return features
    box = shapely.box(*filters.bbox)
    return [f for f in features if f.geometry.intersects(box)]


def cell_features(session: Session, filters: HotspotFilters) -> list[HotspotFeature]:
    """Exact counts per H3 cell at `filters.res` that match the filters."""
    if filters.is_unfiltered:
        return _summary_cell_features(session, filters)
    timed = filters.has_time_filter
    table = "hotspot_cell_rollup" if timed else "hotspot_cell_totals"
    where, params = _conditions(session, filters, time_columns=timed)
    where.insert(0, "r.res = :res")
    params["res"] = filters.res
    join = _site_join(filters, params, "r")
    sql = (
        f"SELECT r.cell, r.category_mask, sum(r.count)::int FROM {table} r {join} "
        f"WHERE {' AND '.join(where)} GROUP BY r.cell, r.category_mask"
    )
    rows = session.execute(sa.text(sql), params)
    features = _collect(
        rows, lambda row: HotspotFeature(h3.int_to_str(row[0]), cell_polygon(row[0]))
    )
    return _in_bbox(list(features.values()), filters)


def _summary_cell_features(session: Session, filters: HotspotFilters) -> list[HotspotFeature]:
    """Cells from `hotspot_cell_summary`: one row per cell, category counts precomputed."""
    params: dict[str, object] = {"res": filters.res}
    join = _site_join(filters, params, "s")
    sql = (
        f"SELECT s.cell, s.total, s.masks, s.mask_counts, {SUMMARY_COLUMNS} "
        f"FROM hotspot_cell_summary s {join} WHERE s.res = :res"
    )
    features = [
        HotspotFeature(
            h3.int_to_str(cell),
            cell_polygon(cell),
            count=total,
            mask_counts=dict(zip(masks, mask_counts, strict=True)),
            category_totals=dict(zip(CATEGORY_IDS, per_category, strict=True)),
        )
        for cell, total, masks, mask_counts, *per_category in session.execute(sa.text(sql), params)
    ]
    return _in_bbox(features, filters)


def _site_conditions(
    session: Session, filters: HotspotFilters
) -> tuple[list[str], dict[str, object]]:
    """The rollup conditions, plus the bbox on the sites' geometry `s.geom` when given."""
    where, params = _conditions(session, filters)
    if filters.bbox:
        where.append(f"s.geom && {ENVELOPE_SQL}")
        params.update(_envelope(filters.bbox, 0.0))
    return where, params


def stop_features(session: Session, filters: HotspotFilters) -> list[HotspotFeature]:
    """Exact counts per stop (reports snapped to it) that match the filters."""
    where, params = _site_conditions(session, filters)
    sql = (
        "SELECT s.stop_public_id, s.name, s.mode, ST_AsBinary(s.geom), r.category_mask, "
        "sum(r.count)::int FROM hotspot_stop_rollup r "
        "JOIN hotspot_stop_sites s ON s.stop_public_id = r.stop_public_id "
        f"WHERE {' AND '.join(where) or 'true'} "
        "GROUP BY s.stop_public_id, s.name, s.mode, s.geom, r.category_mask"
    )
    rows = session.execute(sa.text(sql), params)
    return list(
        _collect(
            rows,
            lambda row: HotspotFeature(
                row[0],
                shapely.from_wkb(row[3]),
                properties={"stop_id": row[0], "name": row[1], "mode": row[2]},
            ),
        ).values()
    )


def segment_features(session: Session, filters: HotspotFilters) -> list[HotspotFeature]:
    """Exact counts per stretch between two consecutive stops of a route direction."""
    where, params = _site_conditions(session, filters)
    sql = (
        "SELECT concat_ws('|', s.route_public_id, s.direction, s.from_public_id, "
        "s.to_public_id), s.route_public_id, s.route_short_name, s.direction, "
        "s.from_public_id, s.from_name, s.to_public_id, s.to_name, s.mode, "
        "ST_AsBinary(s.geom), s.twin_stops, s.detour_ratio, r.category_mask, sum(r.count)::int "
        "FROM hotspot_segment_rollup r JOIN hotspot_segment_sites s "
        "ON (s.route_public_id, s.direction, s.from_public_id, s.to_public_id) = "
        "(r.route_public_id, r.direction, r.from_public_id, r.to_public_id) "
        f"WHERE {' AND '.join(where) or 'true'} "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, s.geom, s.twin_stops, s.detour_ratio, "
        "r.category_mask"
    )
    rows = session.execute(sa.text(sql), params)
    names = ("route_id", "route", "direction", "from_stop_id", "from_stop", "to_stop_id",
             "to_stop", "mode")  # fmt: skip
    return list(
        _collect(
            rows,
            lambda row: HotspotFeature(
                row[0],
                shapely.from_wkb(row[9]),
                properties=dict(zip(names, row[1:9], strict=True))
                | segment_flags(row[10], row[11]),  # a data fault is not a hotspot
            ),
        ).values()
    )
