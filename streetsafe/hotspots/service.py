"""The hotspot pipeline: filters -> exact rollup counts -> disclosure -> Gi* (cells)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from ..config import Settings
from .aggregate import HotspotFeature, cell_features, segment_features, stop_features
from .disclosure import PublicLayer, publish
from .filters import HotspotFilters
from .gistar import gi_star

EXACT_LAYERS = {
    "cells": cell_features,
    "stops": stop_features,
    "route-segments": segment_features,
}
LAYERS = tuple(EXACT_LAYERS)


def exact_layer(session: Session, layer: str, filters: HotspotFilters) -> list[HotspotFeature]:
    """Unsuppressed features of a layer (for teams; never served to the public as is)."""
    return EXACT_LAYERS[layer](session, filters)


def public_layer(
    session: Session, layer: str, filters: HotspotFilters, settings: Settings
) -> PublicLayer:
    """A layer after disclosure control; cells also carry Gi* computed on published counts."""
    public = publish(exact_layer(session, layer, filters), settings, filters.category_mask)
    return with_gi_star(public) if layer == "cells" else public


def with_gi_star(public: PublicLayer) -> PublicLayer:
    """Add gi_z, gi_p and hotspot to published cells.

    Gi* runs on the published (rounded) counts, with withheld cells counted as 0, so its
    z-scores reveal nothing the published counts do not.
    """
    counts: dict[str, float] = {cell: 0.0 for cell in public.withheld_ids}
    counts.update({f.id: float(f.count) for f in public.features})
    results = gi_star(counts)
    features = [
        replace(
            f,
            properties={
                **f.properties,
                "gi_z": round(results[f.id].z, 3),
                "gi_p": round(results[f.id].p, 4),
                "hotspot": results[f.id].hotspot,
            },
        )
        for f in public.features
    ]
    return replace(public, features=features)
