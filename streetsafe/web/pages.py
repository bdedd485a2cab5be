"""The public pages: the report page at `/`, receipts at `/receipt/{code}`, their static files,
and Leaflet from the XStatic package."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from urllib.parse import quote

import xstatic.pkg.leaflet as xstatic_leaflet
from flask import Blueprint, current_app, redirect, render_template, request, send_from_directory
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import TooManyRequests

from ..current import current_settings
from ..db import db_session
from ..i18n import page_url
from ..reports.lookup import receipt_for_code
from ..reports.receipt_codes import MAX_TYPED
from . import basemap
from .basemap import current_basemap
from .mapview import ViewCache

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

bp.register_blueprint(basemap.bp)  # /basemap.pmtiles, the self-hosted basemap

LEAFLET_VERSION = xstatic_leaflet.VERSION


def _view_cache() -> ViewCache:
    return current_app.extensions.setdefault("streetsafe.web.view", ViewCache())


@bp.get("/")
@bp.get("/cy/")  # the same page in Welsh (streetsafe.i18n chooses the language by path)
def report_page() -> ResponseReturnValue:
    """The report form: where, what, when; the map opens where the stops are densest."""
    settings = current_settings()
    html = render_template(
        "web/report.html",
        basemap=current_basemap(settings),
        # From the primary, as intake is: the form opens while a read replica is down.
        view=_view_cache()
        .get(db_session(), settings.map_centre, settings.map_zoom)
        .as_attribute(),
        leaflet_version=LEAFLET_VERSION,
    )
    # Someone may be sharing the device: keep the page out of caches and the back button.
    return html, 200, _PRIVATE


_PRIVATE = {"Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8"}


@bp.get("/receipt")
@bp.get("/cy/receipt")
def receipt_form() -> ResponseReturnValue:
    """The form to type a receipt code in; a code sent from it goes to its page."""
    typed = request.args.get("code", "").strip()
    if typed:
        return redirect(_receipt_url(typed), 303)
    return render_template("web/receipt.html", view=None, not_found=False), 200, _PRIVATE


def _receipt_url(typed: str) -> str:
    """The receipt page of whatever was typed (its page says when it is no code)."""
    return page_url("/receipt/") + quote(typed[: MAX_TYPED + 1], safe="")


@bp.get("/receipt/<path:code>")
@bp.get("/cy/receipt/<path:code>")
def receipt(code: str) -> ResponseReturnValue:
    """What was recorded and what has happened there since; an unknown or malformed code is
    a plain 404 page (alike). Lookups are limited per client (limits.py)."""
    view = receipt_for_code(db_session(), code)
    if view is None:
        return render_template("web/receipt.html", view=None, not_found=True), 404, _PRIVATE
    return render_template("web/receipt.html", view=view), 200, _PRIVATE


@bp.errorhandler(TooManyRequests)
def too_many_lookups(error: TooManyRequests) -> ResponseReturnValue:
    """A page, not JSON, when a client looks up too many receipts (Retry-After kept)."""
    headers = {**_PRIVATE, **dict(error.get_headers())}
    headers["Content-Type"] = _PRIVATE["Content-Type"]
    return render_template("web/too_many.html"), 429, headers


# What the service worker keeps so that the page opens and works with no signal.
# The basemap's scripts too (its archive is not kept: the Cache API refuses 206 answers, so
# with no signal the map is drawn on a plain background).
_SHELL_STATIC = ("css/site.css", "js/api.js", "js/basemap.js", "js/combobox.js", "js/i18n.js",
                 "js/map.js", "js/offline.js", "js/outbox.js", "js/quickexit.js", "js/report.js",
                 "js/when.js",
                 "vendor/protomaps-leaflet/protomaps-leaflet.js")  # fmt: skip
_SHELL_LEAFLET = ("leaflet.js", "leaflet.css", "images/marker-icon.png",
                  "images/marker-icon-2x.png", "images/marker-shadow.png", "images/layers.png",
                  "images/layers-2x.png")  # fmt: skip


@cache
def _shell_version(folder: str) -> str:
    """A hash of the kept files and the worker itself: a new release replaces the old copies."""
    digest = hashlib.sha256(LEAFLET_VERSION.encode())
    for name in (*_SHELL_STATIC, "../templates/web/sw.js", "../templates/web/report.html"):
        digest.update((Path(folder) / name).read_bytes())
    return digest.hexdigest()[:16]


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker, from the root so that its scope is the whole site."""
    shell = ["/", "/cy/", "/api/v1/categories"]  # /cy/: the page in Welsh
    shell += [f"/static/{name}" for name in _SHELL_STATIC]
    shell += [f"/static/leaflet/{name}" for name in _SHELL_LEAFLET]
    script = render_template("web/sw.js", shell=shell, api="/api/v1",
                             version=_shell_version(bp.static_folder),
                             outbox="/static/js/outbox.js")  # fmt: skip
    # Always checked afresh: a new release must reach devices at their next visit.
    return script, 200, {"Content-Type": "text/javascript; charset=utf-8",
                         "Cache-Control": "no-cache"}  # fmt: skip


@bp.get("/static/leaflet/<path:filename>")
def leaflet_static(filename: str) -> ResponseReturnValue:
    """Leaflet's JS, CSS and marker images from the XStatic-Leaflet package (never a CDN)."""
    return send_from_directory(xstatic_leaflet.BASE_DIR, filename, max_age=86400)
