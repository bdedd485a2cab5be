"""OGC API - Features at /ogc: landing page, conformance, collections and items (JSON, HTML)."""

from __future__ import annotations

import html

from flask import Blueprint, Response, jsonify, request

from .. import jsonout
from ..current import current_settings
from ..db import db_read_session
from ..hotspots.ogc import (
    COLLECTIONS,
    CONFORMANCE,
    collection_doc,
    get_collection,
    item_doc,
    items_doc,
    service_description,
)
from .links import base_url

bp = Blueprint("ogc", __name__, url_prefix="/ogc")


def _base_url() -> str:
    return base_url(current_settings(), request.url_root) + "/ogc"


def _wants_html() -> bool:
    if request.args.get("f"):
        return request.args["f"] == "html"
    best = request.accept_mimetypes.best_match(
        ["application/json", "application/geo+json", "text/html"]
    )
    return best == "text/html"


def _respond(doc: dict, mimetype: str = "application/json") -> Response:
    if _wants_html():
        return Response(render_html(doc), mimetype="text/html")
    response = jsonify(doc)
    response.mimetype = mimetype
    return response


@bp.get("")
@bp.get("/")
def landing() -> Response:
    """The landing page with links to the API's parts."""
    base = _base_url()
    return _respond({
        "title": "StreetSafe hotspot layers",
        "description": "Disclosure-controlled hotspot layers of anonymous reports.",
        "links": [
            {"rel": "self", "type": "application/json", "href": base},
            {"rel": "alternate", "type": "text/html", "href": f"{base}?f=html"},
            {"rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0",
             "href": f"{base}/api"},
            {"rel": "conformance", "type": "application/json", "href": f"{base}/conformance"},
            {"rel": "data", "type": "application/json", "href": f"{base}/collections"},
        ],
    })  # fmt: skip


@bp.get("/api")
def api_definition() -> Response:
    """This API's definition (OpenAPI 3.0), as the landing page's service-desc link says."""
    response = jsonify(service_description(_base_url()))
    response.mimetype = "application/vnd.oai.openapi+json"
    return response


@bp.get("/conformance")
def conformance() -> Response:
    """The conformance classes implemented."""
    return _respond({"conformsTo": CONFORMANCE})


@bp.get("/collections")
def collections() -> Response:
    """Every collection."""
    base = _base_url()
    return _respond({
        "links": [{"rel": "self", "type": "application/json", "href": f"{base}/collections"}],
        "collections": [collection_doc(c, base) for c in COLLECTIONS.values()],
    })  # fmt: skip


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    """One collection's description."""
    return _respond(collection_doc(get_collection(collection_id), _base_url()))


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    """A page of a collection's features, after disclosure control."""
    doc = items_doc(
        db_read_session(), get_collection(collection_id), request.args.to_dict(), _base_url(),
        current_settings(),
    )  # fmt: skip
    return _respond(doc, "application/geo+json")


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    """One published feature of a collection."""
    doc = item_doc(
        db_read_session(), get_collection(collection_id), feature_id, _base_url(),
        current_settings(),
    )  # fmt: skip
    return _respond(doc, "application/geo+json")


def render_html(doc: dict) -> str:
    """A plain HTML view of any document: its links and its content."""
    links = "".join(
        f'<li><a href="{html.escape(link["href"])}">{html.escape(link.get("title") or link["rel"])}'
        "</a></li>"
        for link in doc.get("links", [])
    )
    content = {k: v for k, v in doc.items() if k != "links"}
    body = html.escape(jsonout.dumps(content, sort_keys=False, indent=True).decode())
    title = html.escape(str(doc.get("title", "StreetSafe OGC API - Features")))
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
        f"<h1>{title}</h1><ul>{links}</ul><pre>{body}</pre></html>"
    )
