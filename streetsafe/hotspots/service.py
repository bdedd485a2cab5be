"""The hotspot pipeline: filters -> exact rollup counts -> disclosure -> Gi* (cells)."""

from __future__ import annotations

import time
import weakref
from typing import TypeVar

import h3
import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config import Settings
from ..errors import InvalidRequest
from ..i18n import lazy_gettext as _l
from ..web.mapview import DEFAULT_BOUNDS
from .aggregate import (
    HotspotFeature,
    cell_details,
    cell_features,
    cell_total_columns,
    segment_features,
    site_totals,
    stop_features,
)
from .disclosure import PublicLayer, publish, publish_counts
from .filters import HotspotQuery
from .formats import Layer
from .gistar import GiResult, StudyArea, gi_star, gi_star_arrays
from .layercache import LayerCache, LayerIndex, layer_version
from .paging import Page

EXACT_LAYERS = {
    "cells": cell_features,
    "stops": stop_features,
    "route-segments": segment_features,
}
LAYERS = tuple(EXACT_LAYERS)


def public_layer(
    session: Session, layer: str, filters: HotspotQuery, settings: Settings,
    page: Page | None = None,
) -> PublicLayer:  # fmt: skip
    """A layer (or one page of it, in id order) after disclosure control; cells carry Gi*.

    The layer's index (every published feature's id and, for cells, Gi*: Gi* needs the whole
    study area) is built once per question and data version; then geometry and category
    histograms are read for the features of the page only.
    """
    area = bounded_area(session, layer, filters)
    index = layer_index(session, layer, filters, settings, area)
    chosen = index.page(page.offset, page.limit) if page else index.page(0, len(index))
    exact = sorted(_details(session, layer, filters, chosen), key=lambda f: f.id)
    public = publish(exact, settings, filters.category_mask).paged(len(index))
    return with_gi(public, index.gi_of(chosen)) if layer == "cells" else public


# Each worker keeps the indexes of recent questions (layercache.py): paging through a layer,
# or many clients opening the same map, reads the whole study area once per data version.
LAYER_CACHE_S = 60.0
LAYER_INDEXES = LayerCache(max_bytes=32 * 1024 * 1024, ttl_s=LAYER_CACHE_S)


def layer_index(
    session: Session, layer: str, filters: HotspotQuery, settings: Settings, area: StudyArea
) -> LayerIndex:
    """The layer's published ids and Gi*, kept while the data's version stays the same."""
    version = layer_version(session)

    def build() -> LayerIndex:
        return _build_index(session, layer, filters, settings, area)

    if version is None:
        return build()
    rules = settings.disclosure_rules
    database = str(session.get_bind().engine.url)
    key = (database, version, layer, filters.model_dump_json(), area, rules)
    return LAYER_INDEXES.get(key, build)


def _build_index(
    session: Session, layer: str, filters: HotspotQuery, settings: Settings, area: StudyArea
) -> LayerIndex:
    k = settings.min_published_count
    if layer != "cells":
        rows = site_totals(session, layer, filters, k)
        return LayerIndex(tuple(sorted(fid for fid, _, _ in rows)))
    totals = cell_total_columns(session, filters, k)
    # Gi* of the published (perturbed, rounded) counts only: what every page shows.
    published = publish_counts(totals.cells, totals.counts, totals.key_sums, settings)
    order = np.argsort(published.ids)
    cells, counts = published.ids[order], published.counts[order].astype(float)
    return LayerIndex(cells, *gi_star_arrays(cells, counts, area))


def publish_one(
    session: Session, layer: str, filters: HotspotQuery, feature_id: str, settings: Settings
) -> PublicLayer:
    """One feature after disclosure control (empty when withheld or unknown), by its id."""
    if layer == "cells":
        try:
            cell = h3.str_to_int(feature_id)
        except (ValueError, TypeError, h3.H3BaseException):
            return publish([], settings)
        if h3.get_resolution(feature_id) != filters.res:
            return publish([], settings)
        exact = cell_details(session, filters, [cell])
    else:
        exact = EXACT_LAYERS[layer](session, filters, 1, [feature_id])
    return publish(exact, settings, filters.category_mask)


def _details(
    session: Session, layer: str, filters: HotspotQuery, ids: list[str]
) -> list[HotspotFeature]:
    if layer == "cells":
        return cell_details(session, filters, [h3.str_to_int(cell) for cell in ids])
    if not ids:
        return []
    return EXACT_LAYERS[layer](session, filters, 1, ids)


# The largest public question: a study area of this many cells (res 10: about 750 km², a
# city; res 9: 5,300 km²; res 8: 37,000 km²; res 7: 260,000 km²), and for stops and segments
# an area holding this many imported stops (a large county). Bigger is a fast 400 that says
# what to ask instead. Both depend on the question and on public data only, never on reports.
MAX_STUDY_CELLS = 50_000
MAX_SITES_STOPS = 40_000


def bounded_area(session: Session, layer: str, filters: HotspotQuery) -> StudyArea:
    """The request's area (bbox, else the stops' extent); a 400 when it is too big to answer
    within the service's time bound."""
    area = study_area(session, filters)
    if layer == "cells":
        cells = area.estimated_cells()
        if cells > MAX_STUDY_CELLS:
            coarser = next((r for r in range(filters.res - 1, 6, -1)
                            if StudyArea(area.box, r).estimated_cells() <= MAX_STUDY_CELLS),
                           None)  # fmt: skip
            instead = _l("res=%(res)s or ", res=coarser) if coarser else ""
            raise InvalidRequest(
                _l("res: %(res)s is too fine for this bbox (%(cells)s cells, at most %(most)s); "
                   "use %(instead)sa smaller bbox, or the vector tiles "
                   "(/tiles/hotspots/{z}/{x}/{y}.mvt) for a whole country", res=filters.res,
                   cells=format(cells, ",.0f"), most=format(MAX_STUDY_CELLS, ","), instead=instead),
                "res" if filters.bbox else "bbox",
            )
        return area
    # Counted only as far as the bound: all of GB's stops took 50-210 ms to count, and the
    # refusal must be fast; 40,001 take 8-10 ms.
    stops = session.scalar(
        sa.text("SELECT count(*) FROM (SELECT FROM stops WHERE geom && "
                "ST_MakeEnvelope(:a, :b, :c, :d, 4326) LIMIT :over) AS within"),
        dict(zip("abcd", area.box, strict=True)) | {"over": MAX_SITES_STOPS + 1},
    )  # fmt: skip
    if stops > MAX_SITES_STOPS:
        raise InvalidRequest(
            _l("bbox: the %(layer)s layer answers for at most %(most)s stops at a time and this "
               "area has more; ask for a smaller bbox (a city or a county), or use the OGC "
               "API items of a region", layer=layer, most=format(MAX_SITES_STOPS, ",")),
            "bbox",
        )
    return area


def study_area(session: Session, filters: HotspotQuery) -> StudyArea:
    """The request's area: the bbox, else the service's extent (never the reports')."""
    return StudyArea(filters.bbox or service_extent(session), filters.res)


EXTENT_TTL_S = 300.0
# Per engine and gone with it: keyed by id(engine), an entry outlived its engine and was
# read by the next engine that Python gave the same id (another database's extent).
_extents: weakref.WeakKeyDictionary[sa.Engine, tuple[float, tuple[float, float, float, float]]]
_extents = weakref.WeakKeyDictionary()


def service_extent(session: Session) -> tuple[float, float, float, float]:
    """The box of the imported stops and neighbourhoods (Great Britain when there are none):
    public data only. Cached per engine for EXTENT_TTL_S (imports are rare)."""
    engine = session.bind if isinstance(session.bind, sa.Engine) else None
    cached = _extents.get(engine) if engine is not None else None
    if cached and time.monotonic() - cached[0] < EXTENT_TTL_S:
        return cached[1]
    row = session.execute(sa.text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(g) AS e "
        "FROM (SELECT geom AS g FROM stops UNION ALL SELECT geom FROM neighbourhoods) AS x) AS y"
    )).one()  # fmt: skip
    box = DEFAULT_BOUNDS if row[0] is None else tuple(float(v) for v in row)
    if engine is not None:
        _extents[engine] = (time.monotonic(), box)
    return box


L = TypeVar("L", bound=Layer)


def with_gi_star(layer: L, area: StudyArea, counts: dict[str, float] | None = None) -> L:
    """Add gi_z, gi_p and hotspot to the cells (null for cells outside the study area).

    Gi* runs on the layer's counts (`counts`: of every published cell, not only of this
    page; by default the features' own) over every cell of the study area, zeros included,
    so withheld and empty cells are the same zero and z reveals nothing the counts do not.
    """
    if counts is None:
        counts = {f.id: float(f.count) for f in layer.features}
    return with_gi(layer, gi_star(counts, area))


def with_gi(layer: L, results: dict[str, GiResult]) -> L:
    """The cells with their Gi* results as properties (null for cells without one)."""
    none = {"gi_z": None, "gi_p": None, "hotspot": None}
    extra = {}
    for f in layer.features:
        result = results.get(f.id)
        extra[f.id] = (
            {"gi_z": round(result.z, 3), "gi_p": round(result.p, 4), "hotspot": result.hotspot}
            if result
            else none
        )
    return layer.with_properties(extra)
