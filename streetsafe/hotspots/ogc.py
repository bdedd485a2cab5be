"""OGC API - Features documents for the hotspot layers and neighbourhoods (no Flask here)."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..config import Settings
from ..errors import InvalidRequest, NotFound
from ..i18n import lazy_gettext as _l
from .conditions import all_of, in_bbox
from .disclosure import PublicLayer
from .filters import HotspotQuery, parse_filters
from .formats import feature_properties, geojson_geometries
from .paging import MAX_FEATURES, Page
from .service import public_layer, publish_one

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# Items pages hold the public layers' bound (paging.py): the whole layer is one next link away.
DEFAULT_LIMIT, MAX_LIMIT = 100, MAX_FEATURES


@dataclass(frozen=True)
class Collection:
    """One collection: which hotspot layer (and resolution) or the neighbourhoods."""

    id: str
    title: str
    layer: str | None = None
    res: int | None = None


COLLECTIONS = {
    c.id: c
    for c in [
        *(Collection(f"hotspot-cells-r{r}", f"Hotspot cells (H3 res {r})", "cells", r)
          for r in range(7, 11)),
        Collection("hotspot-stops", "Hotspot stops", "stops"),
        Collection("hotspot-route-segments", "Hotspot route segments", "route-segments"),
        Collection("neighbourhoods", "Neighbourhoods"),
    ]
}  # fmt: skip


def collection_doc(collection: Collection, base_url: str) -> dict:
    """The description of one collection with its links."""
    url = f"{base_url}/collections/{collection.id}"
    description = (
        "Neighbourhood boundaries."
        if collection.layer is None
        else "Counts of anonymous reports; features under the publication threshold are "
        "withheld and counts are rounded."
    )
    return {
        "id": collection.id,
        "title": collection.title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]], "crs": CRS84}},
        "links": [
            {"rel": "self", "type": "application/json", "href": url, "title": collection.title},
            {"rel": "items", "type": "application/geo+json", "href": f"{url}/items"},
            {"rel": "alternate", "type": "text/html", "href": f"{url}?f=html"},
        ],
    }


def get_collection(collection_id: str) -> Collection:
    """The collection with this id; 404 naming the field otherwise."""
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(
            _l("no collection %(id)r", id=collection_id), "collectionId"
        ) from None


def parse_paging(args: dict[str, str]) -> tuple[int, int]:
    """limit and offset from the query string, validated."""
    values = {}
    for name, default, top in (("limit", DEFAULT_LIMIT, MAX_LIMIT), ("offset", 0, 10**9)):
        raw = args.get(name, str(default))
        if not raw.isdigit() or (name == "limit" and not 1 <= int(raw) <= top):
            raise InvalidRequest(
                _l("%(name)s: must be a whole number (limit 1-%(most)s)", name=name,
                   most=MAX_LIMIT),
                name,
            )
        values[name] = int(raw)
    return values["limit"], values["offset"]


def parse_datetime(raw: str | None) -> dict[str, str]:
    """An OGC datetime (instant or interval, `..` open) as from/to months.

    Public layers filter by whole months: an interval's ends must be months (2026-01) or the
    first and last days of months (2026-01-01/2026-03-31); anything finer is a 400.
    """
    if not raw:
        return {}
    parts = raw.split("/")
    if len(parts) > 2:
        raise InvalidRequest(_l("datetime: must be an instant or an interval a/b"), "datetime")
    start, end = (parts[0], parts[0]) if len(parts) == 1 else parts
    months = {"from": _month_of(start, first=True), "to": _month_of(end, first=False)}
    return {k: v for k, v in months.items() if v is not None}


def _month_of(part: str, first: bool) -> str | None:
    if part in ("", ".."):
        return None
    try:
        if len(part) == 7:
            return datetime.strptime(part, "%Y-%m").strftime("%Y-%m")
        day = datetime.fromisoformat(part[:10]).date()
    except ValueError:
        raise InvalidRequest(
            _l("datetime: use months or RFC 3339 dates, e.g. 2025-01/2025-03"), "datetime"
        ) from None
    last = calendar.monthrange(day.year, day.month)[1]
    if day.day != (1 if first else last):
        raise InvalidRequest(
            _l("datetime: public layers filter by whole months; use e.g. 2025-01/2025-03 or "
               "2025-01-01/2025-03-31"),
            "datetime",
        )
    return f"{day.year:04d}-{day.month:02d}"


def items_doc(
    session: Session, collection: Collection, args: dict[str, str], base_url: str,
    settings: Settings,
) -> dict:  # fmt: skip
    """A page of items as a GeoJSON FeatureCollection with next/prev links."""
    limit, offset = parse_paging(args)
    filter_args = {k: v for k, v in args.items() if k == "bbox"}
    filter_args.update({k: str(v) for k, v in parse_datetime(args.get("datetime")).items()})
    filters = parse_filters(filter_args, res=collection.res or 9)
    if collection.layer is None:
        matched, page = neighbourhood_page(session, filters, Page(limit, offset))
    else:
        # The page is cut from the layer index of published ids (kept per data version); only
        # its features are read with geometry and categories.
        public = public_layer(session, collection.layer, filters, settings, Page(limit, offset))
        matched, page = public.matched or 0, _features(collection.layer, public)
    return {
        "type": "FeatureCollection",
        "features": page,
        "numberMatched": matched,
        "numberReturned": len(page),
        "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "links": _page_links(base_url, collection.id, args, limit, offset, matched),
    }


def _features(layer: str, public: PublicLayer) -> list[dict]:
    """Published features as GeoJSON dicts with flat properties."""
    geometries = geojson_geometries([f.geometry for f in public.features])
    return [
        {"type": "Feature", "id": f.id, "geometry": geometry,
         "properties": _flat(feature_properties(layer, f))}
        for f, geometry in zip(public.features, geometries, strict=True)
    ]  # fmt: skip


def item_doc(
    session: Session, collection: Collection, feature_id: str, base_url: str,
    settings: Settings,
) -> dict:  # fmt: skip
    """One published feature, found by one indexed lookup; a withheld feature is as unknown
    as one that never existed. Its count and categories are the layer's; Gi* belongs to a
    layer over a study area, so single items do not carry it."""
    if collection.layer is None:
        found = next(iter(neighbourhood_features(session, code=feature_id)), None)
    else:
        filters = parse_filters({}, res=collection.res or 9)
        public = publish_one(session, collection.layer, filters, feature_id, settings)
        found = next(iter(_features(collection.layer, public)), None)
    if found is None:
        raise NotFound(
            _l("no published feature %(id)r in %(collection)s", id=feature_id,
               collection=collection.id),
            "featureId",
        )
    href = f"{base_url}/collections/{collection.id}/items/{quote(feature_id, safe='')}"
    links = [
        {"rel": "self", "type": "application/geo+json", "href": href},
        {"rel": "collection", "type": "application/json",
         "href": f"{base_url}/collections/{collection.id}"},
    ]  # fmt: skip
    return {**found, "links": links}


def _flat(props: dict[str, object]) -> dict[str, object]:
    """GDAL reads flat properties best: the category breakdown as a JSON string."""
    return {
        k: json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for k, v in props.items()
    }


def _page_links(
    base_url: str, collection_id: str, args: dict[str, str], limit: int, offset: int, total: int
) -> list[dict]:
    from urllib.parse import urlencode

    url = f"{base_url}/collections/{collection_id}/items"

    def href(new_offset: int, fmt: str | None = None) -> str:
        query = {k: v for k, v in args.items() if k not in ("offset", "f")}
        query.update(limit=str(limit), offset=str(new_offset))
        if fmt:
            query["f"] = fmt
        return f"{url}?{urlencode(query)}"

    collection_url = f"{base_url}/collections/{collection_id}"
    links = [
        {"rel": "self", "type": "application/geo+json", "href": href(offset)},
        {"rel": "alternate", "type": "text/html", "href": href(offset, "html")},
        {"rel": "collection", "type": "application/json", "href": collection_url},
    ]
    if offset + limit < total:
        links.append({"rel": "next", "type": "application/geo+json", "href": href(offset + limit)})
    if offset > 0:
        links.append(
            {"rel": "prev", "type": "application/geo+json", "href": href(max(offset - limit, 0))}
        )
    return links


NEIGHBOURHOOD_SQL = (
    "SELECT code, name, ST_AsGeoJSON(ST_ForcePolygonCCW(geom), 7) FROM neighbourhoods "
    "WHERE {where} ORDER BY code LIMIT :limit OFFSET :offset"
)


def neighbourhood_page(session: Session, filters: HotspotQuery, page: Page) -> tuple[int, list]:
    """How many neighbourhoods meet the bbox, and one page of them, cut in the database."""
    where, params = [], {}
    in_bbox(filters, "geom", where, params)
    matched = session.scalar(sa.text(f"SELECT count(*) FROM neighbourhoods WHERE {all_of(where)}"),
                             params)  # fmt: skip
    return matched, neighbourhood_features(session, where, params, page)


def neighbourhood_features(
    session: Session, where: list[str] | None = None, params: dict | None = None,
    page: Page | None = None, code: str | None = None,
) -> list[dict]:  # fmt: skip
    """Neighbourhood boundaries (those meeting `where`, one page, or the one with `code`) as
    GeoJSON features, in code order."""
    where, params = list(where or []), dict(params or {})
    if code is not None:
        where.append("code = :code")
        params["code"] = code
    params.update(limit=page.limit if page else None, offset=page.offset if page else 0)
    rows = session.execute(sa.text(NEIGHBOURHOOD_SQL.format(where=all_of(where))), params)
    return [
        {"type": "Feature", "id": code, "geometry": json.loads(geometry),
         "properties": {"code": code, "name": name}}
        for code, name, geometry in rows
    ]  # fmt: skip


def _get(summary: str, parameters: list[dict], media: str = "application/json") -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": {
                "200": {"description": "OK", "content": {media: {}, "text/html": {}}},
                "400": {"description": "Invalid parameter; `field` names it"},
                "404": {"description": "Not found"},
            },
        }
    }


def service_description(base_url: str) -> dict:
    """The API definition (OpenAPI 3.0) that the landing page links as `service-desc`."""
    collection_id = {
        "name": "collectionId", "in": "path", "required": True,
        "schema": {"type": "string", "enum": sorted(COLLECTIONS)},
    }  # fmt: skip
    query = [
        {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
         "schema": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}}},
        {"name": "datetime", "in": "query", "required": False, "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT}},
        {"name": "offset", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 0, "default": 0}},
    ]  # fmt: skip
    feature_id = {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "StreetSafe hotspot layers (OGC API - Features)", "version": "1.0.0"},
        "servers": [{"url": base_url}],
        "paths": {
            "/": _get("Landing page", []),
            "/conformance": _get("Conformance classes", []),
            "/collections": _get("Collections", []),
            "/collections/{collectionId}": _get("One collection", [collection_id]),
            "/collections/{collectionId}/items": _get(
                "Features after disclosure control", [collection_id, *query], "application/geo+json"
            ),
            "/collections/{collectionId}/items/{featureId}": _get(
                "One published feature", [collection_id, feature_id], "application/geo+json"
            ),
        },
    }
