"""Public hotspot layers: cells, stops and route segments, in GeoJSON, CSV or GeoPackage."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request

from ..current import current_settings
from ..db import db_read_session
from ..hotspots.disclosure import PublicLayer
from ..hotspots.filters import HotspotQuery, parse_filters
from ..hotspots.formats import render
from ..hotspots.paging import PageQuery, page_links, parse_page
from ..hotspots.schema import HotspotCollection
from ..hotspots.service import public_layer
from .downloads import download_response
from .openapi import ErrorBody, operation

bp = Blueprint("hotspots", __name__, url_prefix="/api/v1/hotspots")


LAYER_MEDIA = {
    "application/geo+json": HotspotCollection,
    "text/csv": None,
    "application/geopackage+sqlite3": None,
}


def _document(layer: str, summary: str) -> None:
    operation(
        f"/api/v1/hotspots/{layer}",
        "get",
        tag="hotspots",
        summary=summary,
        query=(HotspotQuery, PageQuery),
        responses={200: HotspotCollection, 422: ErrorBody},
        media=LAYER_MEDIA,
    )(hotspots)


@bp.get("/<any(cells, stops, 'route-segments'):layer>")
def hotspots(layer: str) -> Response:
    """A page of a hotspot layer after disclosure control, filtered by the query string."""
    asked = parse_page(request.args)
    fmt, page = asked.format, asked.page
    filters = parse_filters(request.args)
    settings = current_settings()
    public = public_layer(db_read_session(), layer, filters, settings, page)
    links = page_links(request.base_url, request.args, page, public.matched or 0)
    etag = layer_etag(layer, fmt, public, links)
    if request.if_none_match.contains(etag):
        return cacheable(Response(status=304), LAYER_MAX_AGE_S, etag)
    download = render(fmt, layer, public, filters, settings, links)
    response = cacheable(download_response(download), LAYER_MAX_AGE_S, etag)
    if links:
        response.headers["Link"] = ", ".join(f'<{link["href"]}>; rel="{link["rel"]}"'
                                             for link in links)  # fmt: skip
    return response


# How long a shared cache (a CDN, nginx) may serve a public answer before asking again.
LAYER_MAX_AGE_S, TILE_MAX_AGE_S = 60, 300


def cacheable(response: Response, max_age_s: int, etag: str | None = None) -> Response:
    """Public caching: an ETag (of the body unless given), Cache-Control, and 304 for a
    matching If-None-Match. The same data give the same answer (the cell-key method)."""
    response.headers["Cache-Control"] = f"public, max-age={max_age_s}"
    if etag:
        response.set_etag(etag)
    else:
        response.add_etag()
    return response.make_conditional(request)


def layer_etag(layer: str, fmt: str, public: PublicLayer, links: list[dict]) -> str:
    """A layer's ETag from what it publishes (not from its generation time, nor from the
    data's version, which would count writes). The features' dicts are taken in their own
    order: the same answer builds them in the same order, and another order can only
    cost a cache a fetch, never serve a wrong answer (sorting them was 8 % of a page)."""
    content = [(f.id, f.count, f.categories, f.properties) for f in public.features]
    digest = hashlib.sha256(repr((layer, fmt, content, links)).encode()).hexdigest()
    return digest[:32]


_document("cells", "H3 hexagons with counts, categories and Gi* (after disclosure control)")
_document("stops", "Stops with counts and categories (after disclosure control)")
_document("route-segments", "Stretches between consecutive stops with counts")
