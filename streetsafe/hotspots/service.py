"""The hotspot pipeline: filters -> exact rollup counts -> disclosure -> Gi* (cells)."""

from __future__ import annotations

from dataclasses import astuple, replace

import h3
from sqlalchemy.orm import Session

from ..config import Settings
from ..web.mapview import stops_extent
from .aggregate import (
    HotspotFeature,
    cell_details,
    cell_features,
    cell_totals,
    segment_features,
    site_totals,
    stop_features,
)
from .disclosure import PublicLayer, publish
from .filters import HotspotFilters
from .gistar import StudyArea, gi_star
from .paging import Page
from .perturbation import published_count

EXACT_LAYERS = {
    "cells": cell_features,
    "stops": stop_features,
    "route-segments": segment_features,
}
LAYERS = tuple(EXACT_LAYERS)


def exact_layer(
    session: Session, layer: str, filters: HotspotFilters, min_count: int = 1
) -> list[HotspotFeature]:
    """Unsuppressed features of a layer with at least `min_count` reports (teams: all)."""
    return EXACT_LAYERS[layer](session, filters, min_count)


def public_layer(
    session: Session, layer: str, filters: HotspotFilters, settings: Settings,
    page: Page | None = None,
) -> PublicLayer:  # fmt: skip
    """A layer (or one page of it, in id order) after disclosure control; cells carry Gi*.

    Two reads: every published feature's count and key sum (cheap rows; Gi* needs them all),
    then geometry and category histograms for the features of the page only.
    """
    k = settings.min_published_count
    totals = _totals(session, layer, filters, k)
    ids = sorted(totals)
    chosen = ids[page.offset : page.offset + page.limit] if page else ids
    public = publish(_details(session, layer, filters, chosen), settings, filters.category_mask)
    public = replace(public, features=sorted(public.features, key=lambda f: f.id),
                     matched=len(ids))  # fmt: skip
    if layer != "cells":
        return public
    counts = {
        cell: float(published_count(n, key, k, settings.public_rounding, settings.perturbation_max))
        for cell, (n, key) in totals.items()
    }
    return with_gi_star(public, study_area(session, filters), counts)


def _totals(
    session: Session, layer: str, filters: HotspotFilters, min_count: int
) -> dict[str, tuple[int, int]]:
    if layer == "cells":
        rows = cell_totals(session, filters, min_count)
        return {h3.int_to_str(cell): (n, key) for cell, n, key in rows}
    return {fid: (n, key) for fid, n, key in site_totals(session, layer, filters, min_count)}


def _details(
    session: Session, layer: str, filters: HotspotFilters, ids: list[str]
) -> list[HotspotFeature]:
    if layer == "cells":
        return cell_details(session, filters, [h3.str_to_int(cell) for cell in ids])
    if not ids:
        return []
    return EXACT_LAYERS[layer](session, filters, 1, ids)


def study_area(session: Session, filters: HotspotFilters) -> StudyArea:
    """Gi*'s study area: the bbox, else the extent of the imported stops (never of reports)."""
    box = filters.bbox or astuple(stops_extent(session))
    return StudyArea(box, filters.res)


def with_gi_star(
    public: PublicLayer, area: StudyArea, counts: dict[str, float] | None = None
) -> PublicLayer:
    """Add gi_z, gi_p and hotspot to the cells (null for cells outside the study area).

    Gi* runs on the published counts (`counts`: of every published cell, not only of this
    page; by default the features' own) over every cell of the study area, zeros included,
    so withheld and empty cells are the same zero and z reveals nothing the counts do not.
    """
    if counts is None:
        counts = {f.id: float(f.count) for f in public.features}
    results = gi_star(counts, area)
    features = []
    for f in public.features:
        result = results.get(f.id)
        gi = (
            {"gi_z": round(result.z, 3), "gi_p": round(result.p, 4), "hotspot": result.hotspot}
            if result
            else {"gi_z": None, "gi_p": None, "hotspot": None}
        )
        features.append(replace(f, properties={**f.properties, **gi}))
    return replace(public, features=features)
