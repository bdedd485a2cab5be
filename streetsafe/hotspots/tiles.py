"""Mapbox vector tiles of published hotspot cells, encoded by PostGIS's ST_AsMVT."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import h3
import h3.api.basic_int as h3int
import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config import Settings
from ..errors import NotFound
from ..i18n import lazy_gettext as _l
from .aggregate import CellTotals, cell_features, cell_polygon, cell_total_columns
from .conditions import grown
from .disclosure import PublicCounts, PublicLayer, publish, publish_counts
from .filters import HotspotQuery, parse_filters
from .layercache import LayerCache, layer_version

log = logging.getLogger(__name__)

MAX_ZOOM = 22
# Features in id order (hex ids of one resolution: text order is numeric order), never in
# the order the rows were read: that order follows the query plan and where each cell's row
# lies in its table, which the reports' writes change (docs/PRIVACY.md, "Output order").
TILE_SQL = """
SELECT ST_AsMVT(t, 'hotspots', 4096, 'geom' ORDER BY t.cell COLLATE "C") FROM (
    SELECT f.cell, f.count, f.categories,
           ST_AsMVTGeom(ST_GeomFromWKB(f.wkb, 3857),
                        ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS geom
      FROM unnest(CAST(:cells AS text[]), CAST(:counts AS int[]),
                  CAST(:categories AS text[]), CAST(:wkbs AS bytea[]))
           AS f(cell, count, categories, wkb)
) AS t WHERE t.geom IS NOT NULL
"""


# Below zoom 9 a res 7 hexagon is a pixel or two: draw parents, whose counts (and key sums)
# are the sums of their stored res 7 children's: res 5 (20 km across) to z6, res 6 (7.5
# km) to z8. Res 6 at z5-z6 put 4,000 parents in a tile over England (211 KB, 340 ms to
# draw). Not coarser than res 5: a parent sums every
# report within it, withheld places' included, and the coarser it is, the more withheld
# places share a published parent whose number moves when they gain a report (the lone
# place of tests/privacy shares a res 4 parent with published stops, not a res 5 one).
COARSE_RES = ((6, 5), (8, 6))  # (up to zoom, resolution)


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
        raise NotFound(_l("tile %(tile)s does not exist", tile="/".join(map(str, (z, x, y)))), "z")
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
    session: Session, z: int, x: int, y: int, filters: HotspotQuery, settings: Settings
) -> bytes:
    """A tile of published cells (layer `hotspots`) at the resolution its zoom calls for.

    Cells centred within one cell of the tile are drawn (a hexagon across the tile's edge
    appears in both tiles), each with the same published count whatever the tile.
    """
    res = res_for_zoom(z, settings.h3_resolutions)
    margin = 2.2 * h3.average_hexagon_edge_length(res, unit="m")
    stored = min(settings.h3_resolutions)
    tile_filters = filters.model_copy(
        update={"bbox": grown(tile_bbox(z, x, y), margin), "res": max(res, stored)}
    )
    if res >= stored:
        exact = cell_features(session, tile_filters, settings.min_published_count)
        public = publish(exact, settings, filters.category_mask)
    else:
        public = coarse_layer(session, filters, res, settings, tile_filters.bbox)
    return encode_tile(session, z, x, y, public)


def encode_tile(session: Session, z: int, x: int, y: int, public: PublicLayer) -> bytes:
    """A published layer's cells as one Mapbox vector tile, encoded by ST_AsMVT."""
    features = public.features
    shapes = np.array([f.geometry for f in features], dtype=object)
    params = {
        "z": z, "x": x, "y": y,
        "cells": [f.id for f in features],
        "counts": [f.count for f in features],
        "categories": [json.dumps(f.categories, sort_keys=True) for f in features],
        "wkbs": shapely.to_wkb(shapely.transform(shapes, web_mercator)).tolist(),
    }  # fmt: skip
    return bytes(session.execute(sa.text(TILE_SQL), params).scalar_one() or b"")


EARTH_RADIUS_M = 6378137.0  # EPSG:3857's sphere
MAX_LAT = 89.9  # the poles are at infinity in Web Mercator (tiles stop at 85.05)


def web_mercator(lonlat: np.ndarray) -> np.ndarray:
    """lon/lat (EPSG:4326) to Web Mercator metres (EPSG:3857), on whole coordinate arrays:
    the same bytes of tile as PostGIS's ST_Transform, at a quarter of a big tile's time."""
    lat = np.radians(np.clip(lonlat[:, 1], -MAX_LAT, MAX_LAT))
    x = np.radians(lonlat[:, 0]) * EARTH_RADIUS_M
    y = np.log(np.tan(np.pi / 4 + lat / 2)) * EARTH_RADIUS_M
    return np.column_stack([x, y])


@dataclass(frozen=True)
class Parents:
    """The published cells of one coarse resolution over the whole service (the gate's
    PublicCounts) and their centres, as numpy arrays (about 5,800 res 6 cells for Great
    Britain)."""

    counts: PublicCounts
    lon: np.ndarray
    lat: np.ndarray

    @property
    def nbytes(self) -> int:
        """The arrays' bytes."""
        arrays = (self.counts.ids, self.counts.counts, self.lon, self.lat)
        return sum(a.nbytes for a in arrays)

    def within(self, box: tuple[float, ...]) -> PublicLayer:
        """The parents centred in `box`, as a published layer (counts only)."""
        inside = np.flatnonzero((self.lon >= box[0]) & (self.lon <= box[2])
                                & (self.lat >= box[1]) & (self.lat <= box[3]))  # fmt: skip
        return self.counts.layer(inside, h3.int_to_str, cell_polygon)


@dataclass(frozen=True)
class CoarseLayers:
    """The published parents of every coarse resolution, from one read of the children."""

    by_res: dict[int, Parents]

    @property
    def nbytes(self) -> int:
        """The arrays' bytes."""
        return sum(p.nbytes for p in self.by_res.values())


PARENTS = LayerCache(max_bytes=8 * 1024 * 1024, ttl_s=60.0)
# The newest version built of each question: (version, when its build began), for the
# NEWEST_QUESTIONS questions asked last (filters are the client's: bounded, not grown).
NEWEST_QUESTIONS = 1024
_NEWEST: OrderedDict[Hashable, tuple[tuple, float]] = OrderedDict()
_REFRESHING: set[Hashable] = set()
_NEWEST_LOCK = threading.Lock()


def coarse_layer(
    session: Session, filters: HotspotQuery, res: int, settings: Settings, box: tuple
) -> PublicLayer:
    """The published parents of resolution `res` centred in `box`.

    Parents are summed over the whole service once per filters and data version, for every
    coarse resolution at once (kept in the worker, published counts only), so a low-zoom
    tile is an array lookup and a parent has one count whatever tile draws it.

    When the data's version has moved, a low-zoom tile does not wait for the new sums (a
    country's: 50-150 ms): it is drawn from the newest ones kept, if their read began less
    than STREETSAFE_TILE_CACHE_S ago, while a background thread sums the new version. So a
    tile is never older than a cached tile may be, neighbouring tiles draw one state, and
    under steady intake the sums are made at most once per version, off the request. With
    the tile cache off (0 s, as in tests) every tile reads the current version itself.
    """
    version = layer_version(session)
    if version is None:
        return coarse_layers(session, filters, settings).by_res[res].within(box)
    engine = session.get_bind().engine
    question = _question(engine, filters, settings)
    stale_s = 0.0 if settings.testing else float(settings.tile_cache_s)
    with _NEWEST_LOCK:
        newest = _NEWEST.get(question)
    if newest is not None and newest[0] != version and time.monotonic() - newest[1] < stale_s:
        kept = PARENTS.peek((question, newest[0]))
        if kept is not None:
            _refresh_in_background(engine, question, filters, settings)
            return kept.by_res[res].within(box)
    return _layers_of(session, question, version, filters, settings).by_res[res].within(box)


def _layers_of(
    session: Session, question: tuple, version: int, filters: HotspotQuery, settings: Settings
) -> CoarseLayers:
    began = time.monotonic()
    layers = PARENTS.get((question, version), lambda: coarse_layers(session, filters, settings))
    with _NEWEST_LOCK:
        if question not in _NEWEST or _NEWEST[question][1] <= began:
            _NEWEST[question] = (version, began)
            _NEWEST.move_to_end(question)
            while len(_NEWEST) > NEWEST_QUESTIONS:
                _NEWEST.popitem(last=False)
    return layers


def _refresh_in_background(
    engine: sa.Engine, question: tuple, filters: HotspotQuery, settings: Settings
) -> None:
    """Sum the current version's parents on a thread of its own (one per question)."""
    with _NEWEST_LOCK:
        if question in _REFRESHING:
            return
        _REFRESHING.add(question)

    def refresh() -> None:
        try:
            with Session(engine) as session:
                version = layer_version(session)
                if version is not None:
                    _layers_of(session, question, version, filters, settings)
        except sa.exc.SQLAlchemyError:
            log.warning("coarse tile layers not refreshed: the database did not answer")
        finally:
            with _NEWEST_LOCK:
                _REFRESHING.discard(question)

    threading.Thread(target=refresh, name="coarse-tiles", daemon=True).start()


def warm_coarse_layers(engine: sa.Engine, settings: Settings) -> None:
    """Sum the unfiltered parents once, in the background (a new worker's first low-zoom
    tiles then need no read of their own)."""
    filters = parse_filters({}, res=9)  # as the tiles view parses a tile without filters
    _refresh_in_background(engine, _question(engine, filters, settings), filters, settings)


def _question(engine: sa.Engine, filters: HotspotQuery, settings: Settings) -> tuple:
    """What the coarse layers depend on, but the data's version."""
    return (str(engine.url), filters.model_dump_json(), settings.disclosure_rules)


def coarse_layers(session: Session, filters: HotspotQuery, settings: Settings) -> CoarseLayers:
    """Every parent of each coarse resolution with its children's summed count and key sum,
    published (perturbed, rounded, at least K) like any cell: the same children give the
    same number. Counts only: at these zooms a hexagon is a few pixels. The children's
    exact counts are not kept."""
    stored = min(settings.h3_resolutions)
    children = cell_total_columns(session, filters.model_copy(update={"bbox": None, "res": stored}))
    return CoarseLayers({res: _parents(children, res, settings) for _, res in COARSE_RES})


def _parents(children: CellTotals, res: int, settings: Settings) -> Parents:
    # An H3 index's parent: resolution field set to res, finer digits set to 7 (all ones).
    resolution = np.int64(0xF) << np.int64(52)
    parent = (children.cells & ~resolution) | (np.int64(res) << np.int64(52)) | np.int64(
        (1 << (3 * (15 - res))) - 1
    )
    cells, inverse = np.unique(parent, return_inverse=True)
    totals = np.bincount(inverse, weights=children.counts, minlength=len(cells))
    keys = np.bincount(inverse, weights=children.key_sums, minlength=len(cells))
    counts = publish_counts(cells, totals.astype(np.int64), keys.astype(np.int64), settings)
    centres = np.array([h3int.cell_to_latlng(c) for c in counts.ids.tolist()]).reshape(-1, 2)
    return Parents(counts, centres[:, 1].astype(float), centres[:, 0].astype(float))
