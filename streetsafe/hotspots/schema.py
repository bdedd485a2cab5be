"""How the hotspot endpoints' GeoJSON is documented in OpenAPI.

The query string is documented from the model that validates it: HotspotQuery (filters.py)
and, for layers, PageQuery (paging.py).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class HotspotFeatureOut(BaseModel):
    """One published cell, stop or route segment."""

    type: Literal["Feature"]
    id: str
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon, Point or LineString")
    properties: dict[str, Any] = Field(
        description="count (rounded), categories {id: count} (small ones merged into "
        "other_suppressed), and for cells gi_z, gi_p, hotspot"
    )


class HotspotCollection(BaseModel):
    """An RFC 7946 FeatureCollection after disclosure control."""

    type: Literal["FeatureCollection"]
    features: list[HotspotFeatureOut]
    numberReturned: int = Field(ge=0, description="Features in this response")
    links: list[dict[str, Any]] = Field(description="next/prev pages, when there are more")
    metadata: dict[str, Any]
