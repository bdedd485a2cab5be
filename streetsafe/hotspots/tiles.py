"""Mapbox vector tiles of published hotspot cells, encoded by PostGIS's ST_AsMVT."""

from __future__ import annotations

import json
import math

import h3
import h3.api.basic_int as h3int
import shapely
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config import Settings
from ..errors import NotFound
from .aggregate import (
    HotspotFeature,
    _envelope,
    cell_features,
    cell_polygon,
    cell_totals,
)
from .disclosure import publish
from .filters import HotspotFilters

MAX_ZOOM = 22
TILE_SQL = """
SELECT ST_AsMVT(t, 'hotspots', 4096, 'geom') FROM (
    SELECT f.cell, f.count, f.categories,
           ST_AsMVTGeom(ST_Transform(ST_GeomFromWKB(f.wkb, 4326), 3857),
                        ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS geom
      FROM unnest(CAST(:cells AS text[]), CAST(:counts AS int[]),
                  CAST(:categories AS text[]), CAST(:wkbs AS bytea[]))
           AS f(cell, count, categories, wkb)
) AS t WHERE t.geom IS NOT NULL
"""


# Below zoom 9 a res 7 hexagon is a pixel or two: draw parents, whose counts (and key sums)
# are the sums of their stored res 7 children's.
COARSE_RES = ((4, 5), (8, 6))  # (up to zoom, resolution)


def res_for_zoom(z: int, resolutions: tuple[int, ...] = (7, 8, 9, 10)) -> int:
    """The H3 resolution drawn at a zoom: hexagons a few dozen pixels across."""
    for top, res in COARSE_RES:
        if z <= top:
            return res
    wanted = 7 if z <= 11 else 8 if z <= 12 else 9 if z <= 14 else 10
    allowed = [r for r in resolutions if 7 <= r <= 10] or [9]
    return min(allowed, key=lambda r: abs(r - wanted))


def tile_bbox(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The lon/lat bounds of an XYZ (Web Mercator) tile; 404 when it does not exist."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound(f"tile {z}/{x}/{y} does not exist", "z")
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return (
        x / n * 360 - 180,
        max(lat(y + 1), -85.0511),
        (x + 1) / n * 360 - 180,
        min(lat(y), 85.0511),
    )


def hotspot_tile(
    session: Session, z: int, x: int, y: int, filters: HotspotFilters, settings: Settings
) -> bytes:
    """A tile of published cells (layer `hotspots`) at the resolution its zoom calls for.

    Cells centred within one cell of the tile are drawn (a hexagon across the tile's edge
    appears in both tiles), each with the same published count whatever the tile.
    """
    res = res_for_zoom(z, settings.h3_resolutions)
    margin = 2.2 * h3.average_hexagon_edge_length(res, unit="m")
    stored = min(settings.h3_resolutions)
    tile_filters = filters.model_copy(
        update={"bbox": _grown(tile_bbox(z, x, y), margin), "res": max(res, stored)}
    )
    k = settings.min_published_count
    if res >= stored:
        exact = cell_features(session, tile_filters, k)
    else:
        exact = parent_features(session, tile_filters, res, k)
    public = publish(exact, settings, filters.category_mask)
    params = {
        "z": z, "x": x, "y": y,
        "cells": [f.id for f in public.features],
        "counts": [f.count for f in public.features],
        "categories": [json.dumps(f.categories, sort_keys=True) for f in public.features],
        "wkbs": [shapely.to_wkb(f.geometry) for f in public.features],
    }  # fmt: skip
    return bytes(session.execute(sa.text(TILE_SQL), params).scalar_one() or b"")


def parent_features(
    session: Session, filters: HotspotFilters, res: int, min_count: int
) -> list[HotspotFeature]:
    """Cells of a coarser resolution than stored: each the sum of its stored children's counts
    and key sums (so the same children give the same published number)."""
    totals: dict[int, list[int]] = {}
    for cell, n, key in cell_totals(session, filters):
        total = totals.setdefault(h3int.cell_to_parent(cell, res), [0, 0])
        total[0] += n
        total[1] += key
    # Counts only: at these zooms a category breakdown would mean reading the histograms of
    # every stored cell of the country, and no one reads it off a hexagon of a few pixels.
    return [
        HotspotFeature(h3.int_to_str(p), cell_polygon(p), count=n, key_sum=key)
        for p, (n, key) in totals.items()
        if n >= min_count
    ]


def _grown(bbox: tuple[float, float, float, float], margin_m: float) -> tuple[float, ...]:
    box = _envelope(bbox, margin_m)
    return (box["min_lon"], box["min_lat"], box["max_lon"], box["max_lat"])
