"""The hotspot pipeline: filters -> exact rollup counts -> disclosure -> Gi* (cells)."""

from __future__ import annotations

from dataclasses import astuple, replace

from sqlalchemy.orm import Session

from ..config import Settings
from ..web.mapview import stops_extent
from .aggregate import HotspotFeature, cell_features, segment_features, stop_features
from .disclosure import PublicLayer, publish
from .filters import HotspotFilters
from .gistar import StudyArea, gi_star

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
    session: Session, layer: str, filters: HotspotFilters, settings: Settings
) -> PublicLayer:
    """A layer after disclosure control; cells also carry Gi* computed on published counts."""
    exact = exact_layer(session, layer, filters, settings.min_published_count)
    public = publish(exact, settings, filters.category_mask)
    return with_gi_star(public, study_area(session, filters)) if layer == "cells" else public


def study_area(session: Session, filters: HotspotFilters) -> StudyArea:
    """Gi*'s study area: the bbox, else the extent of the imported stops (never of reports)."""
    box = filters.bbox or astuple(stops_extent(session))
    return StudyArea(box, filters.res)


def with_gi_star(public: PublicLayer, area: StudyArea) -> PublicLayer:
    """Add gi_z, gi_p and hotspot to the cells (null for cells outside the study area).

    Gi* runs on the published counts over every cell of the study area, zeros included, so
    withheld and empty cells are the same zero and z reveals nothing the counts do not.
    """
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
