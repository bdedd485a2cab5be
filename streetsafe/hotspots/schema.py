"""How the hotspot endpoints are documented in OpenAPI: the query string and the GeoJSON.

HotspotFilters (filters.py) validates; these models describe the same parameters as the
strings a query string carries, so the document says what a client may send. An empty
value means "no filter", as an HTML form sends it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .filters import MAX_RES, MIN_RES

_LIST = r"^([a-z_]+(,[a-z_]+)*)?$"
_CONTEXTS = r"^((street|at_stop|on_vehicle)(,(street|at_stop|on_vehicle))*)?$"
_DATE = r"^(\d{4}-\d{2}(-\d{2})?)?$"
_HOURS = r"^(\d{1,2}-\d{1,2})?$"
_BBOX = r"^(-?\d+(\.\d+)?,-?\d+(\.\d+)?,-?\d+(\.\d+)?,-?\d+(\.\d+)?)?$"


class HotspotQuery(BaseModel):
    """Filters shared by every hotspot layer."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    res: int = Field(9, ge=MIN_RES, le=MAX_RES, description="H3 resolution (cells only)")
    bbox: str | None = Field(
        None,
        pattern=_BBOX,
        description="minLon,minLat,maxLon,maxLat (WGS84)",
    )
    categories: str | None = Field(None, pattern=_LIST, description="Category ids, comma-separated")
    context: str | None = Field(None, pattern=_CONTEXTS)
    mode: str | None = Field(None, pattern=_LIST, description="Modes: bus, tram, metro, rail...")
    from_: str | None = Field(
        None, alias="from", pattern=_DATE, description="First month, YYYY-MM (teams: days too)"
    )
    to: str | None = Field(None, pattern=_DATE, description="Last month, YYYY-MM (teams: days too)")
    hours: str | None = Field(
        None, pattern=_HOURS, description="Local hours START-END in 3-hour bands, e.g. 18-6"
    )
    days: str | None = Field(
        None, pattern=_LIST, description="weekday, weekend or days, e.g. fri,sat"
    )
    neighbourhood: str | None = Field(None, max_length=64)
    format: Literal["geojson", "csv", "gpkg"] = "geojson"
    limit: int = Field(
        1_000, ge=1, le=2_000, description="Features per response (default 1,000, max 2,000)"
    )
    offset: int = Field(0, ge=0, description="Features to skip (follow the `next` link)")


class TileQuery(BaseModel):
    """Filters for a hotspot tile (the resolution follows the zoom)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    categories: str | None = Field(None, pattern=_LIST)
    context: str | None = Field(None, pattern=_CONTEXTS)
    mode: str | None = Field(None, pattern=_LIST)
    from_: str | None = Field(None, alias="from", pattern=_DATE)
    to: str | None = Field(None, pattern=_DATE)
    hours: str | None = Field(None, pattern=_HOURS)
    days: str | None = Field(None, pattern=_LIST)
    neighbourhood: str | None = Field(None, max_length=64)


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
