"""Vector tiles of the public hotspot cells."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from ..current import current_settings
from ..db import db_read_session
from ..hotspots.filters import TILE_EXCLUDES, HotspotQuery, parse_filters
from ..hotspots.tilecache import TileCache
from ..hotspots.tiles import hotspot_tile
from .hotspots import TILE_MAX_AGE_S, cacheable
from .openapi import ErrorBody, operation

bp = Blueprint("tiles", __name__, url_prefix="/tiles")


@bp.get("/hotspots/<int:z>/<int:x>/<int:y>.mvt")
@operation("/tiles/hotspots/{z}/{x}/{y}.mvt", "get", tag="hotspots",
           summary="Published hotspot cells as a Mapbox vector tile (layer 'hotspots')",
           query=HotspotQuery,
           query_exclude=TILE_EXCLUDES,
           path_params={"z": "Zoom, 0-22", "x": "Tile column", "y": "Tile row"},
           responses={200: None, 404: ErrorBody, 422: ErrorBody},
           media={"application/vnd.mapbox-vector-tile": None})
def hotspot_tile_view(z: int, x: int, y: int) -> Response:
    """Published hotspot cells in one Mapbox vector tile (same filters as the cells layer)."""
    filters = parse_filters(request.args, res=9)
    # Kept under the question as parsed: the raw arguments, sorted, made one key of
    # `a=1&a=2` and `a=2&a=1`, which parse to different filters (the first value counts).
    key = (z, x, y, filters.model_dump_json())
    cache: TileCache = current_app.extensions["streetsafe.tile_cache"]
    body = cache.get(
        key, lambda: hotspot_tile(db_read_session(), z, x, y, filters, current_settings())
    )
    response = Response(body, mimetype="application/vnd.mapbox-vector-tile")
    return cacheable(response, TILE_MAX_AGE_S)
