"""Mapbox vector tiles of published hotspot cells, encoded by PostGIS's ST_AsMVT."""

from __future__ import annotations

import json
import math

import shapely
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config import Settings
from ..errors import NotFound
from .aggregate import cell_features
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


def res_for_zoom(z: int, resolutions: tuple[int, ...] = (7, 8, 9, 10)) -> int:
    """The H3 resolution drawn at a zoom: hexagons a few dozen pixels across."""
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
    """A tile of published cells (layer `hotspots`) at the resolution its zoom calls for."""
    tile_filters = filters.model_copy(
        update={"bbox": tile_bbox(z, x, y), "res": res_for_zoom(z, settings.h3_resolutions)}
    )
    exact = cell_features(session, tile_filters, settings.min_published_count)
    public = publish(exact, settings, filters.category_mask)
    params = {
        "z": z, "x": x, "y": y,
        "cells": [f.id for f in public.features],
        "counts": [f.count for f in public.features],
        "categories": [json.dumps(f.categories, sort_keys=True) for f in public.features],
        "wkbs": [shapely.to_wkb(f.geometry) for f in public.features],
    }  # fmt: skip
    return bytes(session.execute(sa.text(TILE_SQL), params).scalar_one() or b"")
