"""Exact hotspot counts per cell, stop and route segment, read from the rollups only.

These functions return unsuppressed numbers: public views must pass them through
`disclosure.publish`; team views (a later issue) may use them as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import h3
import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from sqlalchemy.orm import Session

from ..transit.segments import segment_flags
from .conditions import (
    ENVELOPE_SQL,
    all_of,
    cell_site_join,
    conditions,
    envelope,
    only_segments,
    only_stops,
    site_conditions,
)
from .filters import HotspotQuery
from .rollups import ALL_CATEGORIES_MASK, CATEGORY_BITS, CATEGORY_IDS


def summary_columns(alias: str) -> str:
    """A summary's count and key-sum columns per category (cells, stops, segments)."""
    return ", ".join(
        [*(f"{alias}.n_{c}" for c in CATEGORY_IDS), *(f"{alias}.k_{c}" for c in CATEGORY_IDS)]
    )


SUMMARY_COLUMNS = summary_columns("s")


@dataclass
class HotspotFeature:
    """One cell, stop or route segment: its exact count and record-key sum, and both per
    category mask (the histogram disclosure control needs to count each report once)."""

    id: str
    geometry: BaseGeometry
    count: int = 0
    key_sum: int = 0
    mask_counts: dict[int, int] = field(default_factory=dict)
    mask_keys: dict[int, int] = field(default_factory=dict)
    properties: dict[str, object] = field(default_factory=dict)
    # (reports, key sum) per category, when read from the cell summary (else folded).
    category_totals: dict[str, tuple[int, int]] | None = None

    def add(self, mask: int, count: int, key_sum: int) -> None:
        """Fold one (category mask, count, key sum) row into the feature."""
        self.count += count
        self.key_sum += key_sum
        self.mask_counts[mask] = self.mask_counts.get(mask, 0) + count
        self.mask_keys[mask] = self.mask_keys.get(mask, 0) + key_sum

    def reports_with(self, mask: int) -> tuple[int, int]:
        """How many reports have any category of `mask`, and the sum of their keys."""
        if not mask:
            return 0, 0  # nothing merged (the usual case for busy cells): skip the histogram
        n = key = 0
        for m, c in self.mask_counts.items():
            if m & mask:
                n += c
                key += self.mask_keys.get(m, 0)
        return n, key

    def category_counts(self, category_mask: int = 0) -> dict[str, tuple[int, int]]:
        """Exact (reports, key sum) per category, only the filtered ones when a mask is given.

        One pass over the histogram, visiting each mask's set bits (a report names 1-6).
        """
        wanted = category_mask or ALL_CATEGORIES_MASK
        if self.category_totals is not None:
            return {c: nk for c, nk in self.category_totals.items()
                    if nk[0] and wanted & CATEGORY_BITS[c]}  # fmt: skip
        counts = [0] * len(CATEGORY_IDS)
        keys = [0] * len(CATEGORY_IDS)
        for mask, n in self.mask_counts.items():
            key = self.mask_keys.get(mask, 0)
            bits = mask & wanted
            while bits:
                low = bits & -bits
                bit = low.bit_length() - 1
                counts[bit] += n
                keys[bit] += key
                bits ^= low
        return {CATEGORY_IDS[b]: (n, keys[b]) for b, n in enumerate(counts) if n}


@lru_cache(maxsize=16_384)
def cell_polygon(cell: int) -> Polygon:
    """The hexagon of an H3 cell as a lon/lat polygon with a counter-clockwise exterior."""
    boundary = h3.cell_to_boundary(h3.int_to_str(cell))  # (lat, lng) pairs
    return orient(Polygon([(lng, lat) for lat, lng in boundary]), sign=1.0)


def _collect(
    rows: sa.Result, make: Callable[[sa.Row], HotspotFeature]
) -> dict[str, HotspotFeature]:
    """Fold (key..., category_mask, count, key_sum, feature total) rows into features."""
    features: dict[str, HotspotFeature] = {}
    for row in rows:
        key, mask, n, key_sum = row[0], row[-4], row[-3], row[-2]
        feature = features.get(key)
        if feature is None:
            feature = features[key] = make(row)
        feature.add(mask, n, key_sum)
    return features


def _at_least(grouped_sql: str, feature_key: str) -> str:
    """Keep the groups of features with at least :min_count reports, in the database.

    Public layers pass K: the many features under it never leave PostgreSQL, so the work
    per request follows what is published, not what exists.
    """
    select, rest = grouped_sql.split(" FROM ", 1)
    return (
        f"SELECT * FROM ({select}, sum(sum(r.count)) OVER (PARTITION BY {feature_key}) "
        f"AS feature_total FROM {rest}) AS g WHERE g.feature_total >= :min_count"
    )


def cell_features(
    session: Session, filters: HotspotQuery, min_count: int = 1
) -> list[HotspotFeature]:
    """Exact counts per H3 cell at `filters.res` that match the filters (at least min_count)."""
    cells = cell_total_columns(session, filters, min_count).cells.tolist()
    return cell_details(session, filters, cells)


@dataclass(frozen=True)
class CellTotals:
    """(cell, count, key sum) of many cells as numpy columns: no geometry, no histogram."""

    cells: np.ndarray
    counts: np.ndarray
    key_sums: np.ndarray


def cell_total_columns(session: Session, filters: HotspotQuery, min_count: int = 1) -> CellTotals:
    """(cell, count, key sum) of every cell with at least min_count reports whose centre
    lies in the bbox: one cheap row per cell, no geometry, no category histogram. Read as
    four arrays in one row (a country's 24,000 res 7 cells: half the client's CPU of
    reading them as rows)."""
    params: dict[str, object] = {"res": filters.res, "min_count": min_count}
    if filters.is_unfiltered:
        join, inside = cell_site_join(filters, params, "s")
        sql = (
            f"SELECT s.cell, s.total AS n, s.key_sum AS k, {inside} AS surely "
            f"FROM hotspot_cell_summary s {join} WHERE s.res = :res AND s.total >= :min_count"
        )
    else:
        timed = filters.has_time_filter
        table = "hotspot_cell_rollup" if timed else "hotspot_cell_totals"
        where, more = conditions(session, filters, time_columns=timed)
        params.update(more)
        join, inside = cell_site_join(filters, params, "r")
        sql = (
            f"SELECT r.cell, sum(r.count)::int AS n, sum(r.key_sum)::bigint AS k, "
            f"bool_or({inside}) AS surely FROM {table} r {join} "
            f"WHERE r.res = :res AND {all_of(where)} "
            "GROUP BY r.cell HAVING sum(r.count) >= :min_count"
        )
    cells, n, k, surely = session.execute(sa.text(
        "SELECT coalesce(array_agg(t.cell), '{}'), coalesce(array_agg(t.n::bigint), '{}'), "
        "coalesce(array_agg(t.k::bigint), '{}'), coalesce(array_agg(t.surely), '{}') "
        f"FROM ({sql}) AS t"
    ), params).one()  # fmt: skip
    totals = CellTotals(np.array(cells, dtype=np.int64), np.array(n, dtype=np.int64),
                        np.array(k, dtype=np.int64))  # fmt: skip
    unsure = np.flatnonzero(~np.array(surely, dtype=bool))
    if filters.bbox is None or not len(unsure):
        return totals
    keep = np.ones(len(totals.cells), dtype=bool)
    keep[unsure] = [_centre_in(int(c), filters.bbox) for c in totals.cells[unsure].tolist()]
    return CellTotals(totals.cells[keep], totals.counts[keep], totals.key_sums[keep])


def _centre_in(cell: int, bbox: tuple[float, float, float, float] | None) -> bool:
    if bbox is None:
        return True
    lat, lon = h3.cell_to_latlng(h3.int_to_str(cell))
    return bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]


def cell_details(
    session: Session, filters: HotspotQuery, cells: list[int]
) -> list[HotspotFeature]:
    """The named cells with their geometry and category histograms, under the filters."""
    if not cells:
        return []
    params: dict[str, object] = {"res": filters.res, "cells": cells}
    if filters.is_unfiltered:
        sql = (
            "SELECT s.cell, s.total, s.key_sum, s.masks, s.mask_counts, s.mask_key_sums, "
            f"{SUMMARY_COLUMNS} FROM hotspot_cell_summary s "
            "WHERE s.res = :res AND s.cell = ANY(:cells)"
        )
        return [
            summary_feature(h3.int_to_str(cell), cell_polygon(cell), {}, rest)
            for cell, *rest in session.execute(sa.text(sql), params)
        ]
    timed = filters.has_time_filter
    table = "hotspot_cell_rollup" if timed else "hotspot_cell_totals"
    where, more = conditions(session, filters, time_columns=timed)
    params.update(more)
    sql = (
        "SELECT r.cell, r.category_mask, sum(r.count)::int, sum(r.key_sum)::bigint, 0 "
        f"FROM {table} r WHERE r.res = :res AND r.cell = ANY(:cells) "
        f"AND {all_of(where)} GROUP BY r.cell, r.category_mask"
    )
    rows = session.execute(sa.text(sql), params)
    features = _collect(
        rows, lambda row: HotspotFeature(h3.int_to_str(row[0]), cell_polygon(row[0]))
    )
    return list(features.values())


def summary_feature(
    feature_id: str, geometry: BaseGeometry, properties: dict[str, object], row: list
) -> HotspotFeature:
    """A feature from a summary row: total, key sum, the mask histogram (three arrays), then
    summary_columns' counts and key sums per category."""
    total, key_sum, masks, mask_counts, key_sums, *per_category = row
    n = len(CATEGORY_IDS)
    return HotspotFeature(
        feature_id, geometry, count=total, key_sum=key_sum,
        mask_counts=dict(zip(masks, mask_counts, strict=True)),
        mask_keys=dict(zip(masks, key_sums, strict=True)), properties=properties,
        category_totals={c: (per_category[i], per_category[n + i])
                         for i, c in enumerate(CATEGORY_IDS)},
    )  # fmt: skip


SUMMARY_FIELDS = "r.total, r.key_sum, r.masks, r.mask_counts, r.mask_key_sums, " + (
    summary_columns("r")
)


STOP_KEY = "s.stop_public_id"
SEGMENT_KEY = "concat_ws('|', s.route_public_id, s.direction, s.from_public_id, s.to_public_id)"
_SEGMENT_JOIN = (
    "JOIN hotspot_segment_sites s "
    "ON (s.route_public_id, s.direction, s.from_public_id, s.to_public_id) = "
    "(r.route_public_id, r.direction, r.from_public_id, r.to_public_id)"
)
_SITE_TOTALS = {
    "stops": ("stop", "JOIN hotspot_stop_sites s ON s.stop_public_id = r.stop_public_id",
              STOP_KEY),
    "route-segments": ("segment", _SEGMENT_JOIN, SEGMENT_KEY),
}  # fmt: skip


def _site_table(kind: str, filters: HotspotQuery) -> str:
    """The day/hour rollup when the question has a time filter, else the totals (0018)."""
    return f"hotspot_{kind}_{'rollup' if filters.has_time_filter else 'totals'}"


def site_totals(
    session: Session, layer: str, filters: HotspotQuery, min_count: int = 1
) -> list[tuple[str, int, int]]:
    """(id, count, key sum) of every stop or segment with at least min_count reports."""
    kind, join, key = _SITE_TOTALS[layer]
    where, params = site_conditions(session, filters)
    params["min_count"] = min_count
    if filters.is_unfiltered:  # one summary row per feature (0019)
        sql = (
            f"SELECT {key}, r.total, r.key_sum FROM hotspot_{kind}_summary r {join} "
            f"WHERE {' AND '.join([*where, 'r.total >= :min_count'])}"
        )
    else:
        sql = (
            f"SELECT {key}, sum(r.count)::int, sum(r.key_sum)::bigint "
            f"FROM {_site_table(kind, filters)} r {join} WHERE {all_of(where)} "
            "GROUP BY 1 HAVING sum(r.count) >= :min_count"
        )
    return [tuple(row) for row in session.execute(sa.text(sql), params)]


def stop_features(
    session: Session, filters: HotspotQuery, min_count: int = 1, ids: list[str] | None = None
) -> list[HotspotFeature]:
    """Exact counts per stop (reports snapped to it) that match the filters (only `ids`)."""
    where, params = site_conditions(session, filters)
    only_stops(where, params, ids)
    params["min_count"] = min_count
    site = "s.stop_public_id, s.name, s.mode, ST_AsBinary(s.geom)"
    join = "JOIN hotspot_stop_sites s ON s.stop_public_id = r.stop_public_id"
    if filters.is_unfiltered:
        sql = (
            f"SELECT {site}, {SUMMARY_FIELDS} FROM hotspot_stop_summary r {join} "
            f"WHERE {' AND '.join([*where, 'r.total >= :min_count'])}"
        )
        return [
            summary_feature(sid, shapely.from_wkb(wkb), _stop_properties(sid, name, mode), rest)
            for sid, name, mode, wkb, *rest in session.execute(sa.text(sql), params)
        ]
    sql = _at_least(
        f"SELECT {site}, r.category_mask, sum(r.count)::int, sum(r.key_sum)::bigint "
        f"FROM {_site_table('stop', filters)} r {join} WHERE {all_of(where)} "
        "GROUP BY s.stop_public_id, s.name, s.mode, s.geom, r.category_mask",
        "s.stop_public_id",
    )
    rows = session.execute(sa.text(sql), params)
    return list(_collect(rows, lambda row: HotspotFeature(
        row[0], shapely.from_wkb(row[3]), properties=_stop_properties(*row[:3])
    )).values())  # fmt: skip


def _stop_properties(stop_id: str, name: str, mode: str) -> dict[str, object]:
    return {"stop_id": stop_id, "name": name, "mode": mode}


def segment_features(
    session: Session, filters: HotspotQuery, min_count: int = 1, ids: list[str] | None = None
) -> list[HotspotFeature]:
    """Exact counts per stretch between two consecutive stops of a route direction.

    The rollup rows are grouped first and the sites (names, line, flags) joined to the
    groups, so no geometry is grouped or hashed.
    """
    if filters.is_unfiltered:
        return _segment_summaries(session, filters, min_count, ids)
    where, params = conditions(session, filters, time_columns=filters.has_time_filter)
    only_segments(where, params, ids)
    site_where = []
    if filters.bbox and ids is None:
        site_where.append(f"s.geom && {ENVELOPE_SQL}")
        params.update(envelope(filters.bbox, 0.0))
    params["min_count"] = min_count
    key = "s.route_public_id, s.direction, s.from_public_id, s.to_public_id"
    sql = (
        f"SELECT * FROM (SELECT {SEGMENT_KEY}, s.route_public_id, s.route_short_name, "
        "s.direction, s.from_public_id, s.from_name, s.to_public_id, s.to_name, s.mode, "
        "ST_AsBinary(s.geom), s.twin_stops, s.detour_ratio, g.category_mask, g.n, g.k, "
        f"sum(g.n) OVER (PARTITION BY {key}) AS feature_total "
        "FROM (SELECT r.route_public_id, r.direction, r.from_public_id, r.to_public_id, "
        "r.category_mask, sum(r.count)::int AS n, sum(r.key_sum)::bigint AS k "
        f"FROM {_site_table('segment', filters)} r WHERE {all_of(where)} "
        "GROUP BY 1, 2, 3, 4, 5) AS g "
        f"JOIN hotspot_segment_sites s ON ({key}) = "
        "(g.route_public_id, g.direction, g.from_public_id, g.to_public_id) "
        f"WHERE {' AND '.join(site_where) or 'true'}) AS f WHERE f.feature_total >= :min_count"
    )
    rows = session.execute(sa.text(sql), params)
    return list(_collect(rows, lambda row: HotspotFeature(
        row[0], shapely.from_wkb(row[9]), properties=_segment_properties(row)
    )).values())  # fmt: skip


SEGMENT_NAMES = ("route_id", "route", "direction", "from_stop_id", "from_stop", "to_stop_id",
                 "to_stop", "mode")  # fmt: skip
SEGMENT_SITE = (
    "s.route_public_id, s.route_short_name, s.direction, s.from_public_id, s.from_name, "
    "s.to_public_id, s.to_name, s.mode, ST_AsBinary(s.geom), s.twin_stops, s.detour_ratio"
)


def _segment_properties(row: sa.Row) -> dict[str, object]:
    """(key, SEGMENT_SITE...) as properties; a data fault is flagged, not a hotspot."""
    return dict(zip(SEGMENT_NAMES, row[1:9], strict=True)) | segment_flags(row[10], row[11])


def _segment_summaries(
    session: Session, filters: HotspotQuery, min_count: int, ids: list[str] | None
) -> list[HotspotFeature]:
    """Unfiltered segments: one summary row each (0019) joined to its site (only `ids`, found
    by their key columns: an `IN` on the key's concatenation compared every summary row
    with every id, 1.4 s for a 1,000-segment page)."""
    where, params = site_conditions(session, filters)
    only_segments(where, params, ids)
    params["min_count"] = min_count
    sql = (
        f"SELECT {SEGMENT_KEY}, {SEGMENT_SITE}, {SUMMARY_FIELDS} "
        f"FROM hotspot_segment_summary r {_SEGMENT_JOIN} "
        f"WHERE {' AND '.join([*where, 'r.total >= :min_count'])}"
    )
    return [
        summary_feature(row[0], shapely.from_wkb(row[9]), _segment_properties(row), row[12:])
        for row in session.execute(sa.text(sql), params)
    ]
