"""The public report page at `/`, its static files, and Leaflet from the XStatic package."""

from __future__ import annotations

import xstatic.pkg.leaflet as xstatic_leaflet
from flask import Blueprint, current_app, render_template, send_from_directory
from flask.typing import ResponseReturnValue

from ..current import current_settings
from ..db import db_session
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
    return html, 200, {"Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8"}


@bp.get("/static/leaflet/<path:filename>")
def leaflet_static(filename: str) -> ResponseReturnValue:
    """Leaflet's JS, CSS and marker images from the XStatic-Leaflet package (never a CDN)."""
    return send_from_directory(xstatic_leaflet.BASE_DIR, filename, max_age=86400)
