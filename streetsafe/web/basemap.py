"""The basemap the pages draw: the self-hosted PMTiles archive, or a remote tile URL.

`/basemap.pmtiles` serves the configured archive with HTTP Range requests (206, ETag,
Cache-Control: public), which is how protomaps-leaflet reads it tile by tile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, current_app, send_file
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from ..basemap import BasemapArchive, read_archive
from ..config import OSM_ATTRIBUTION, ConfigError, Settings
from ..errors import NotFound
from ..i18n import lazy_gettext as _l

bp = Blueprint("basemap", __name__)
log = logging.getLogger(__name__)

ARCHIVE_PATH = "/basemap.pmtiles"
ARCHIVE_MAX_AGE_S = 86400  # the pmtiles reader notices a replaced file by its ETag
EXTENSION = "streetsafe.basemap"


@dataclass(frozen=True)
class PageBasemap:
    """What a page's map element is told: `data-basemap-*` attributes."""

    pmtiles_url: str  # "" with a remote tile URL
    style: str  # protomaps-leaflet rules: "streetsafe" (our layers) or "protomaps"
    max_data_zoom: int
    tile_url: str  # "" with a PMTiles archive: no remote tile is ever fetched
    attribution: str


@bp.record_once
def _describe_archive(state: BlueprintSetupState) -> None:
    """Check the configured archive once (a bad file stops the start) and keep its description."""
    settings: Settings = state.app.extensions["streetsafe.settings"]
    archive = None
    if settings.production and not settings.basemap_pmtiles:
        log.warning(
            "STREETSAFE_BASEMAP_PMTILES is unset: the maps fetch tiles from %s, which sees each "
            "reporter's address (docs/PRIVACY.md, 'The basemap')",
            settings.basemap_url.split("/{")[0],
        )
    if settings.basemap_pmtiles:
        try:
            archive = read_archive(settings.basemap_pmtiles)
        except ValueError as exc:
            raise ConfigError("STREETSAFE_BASEMAP_PMTILES", str(exc)) from None
    state.app.extensions[EXTENSION] = archive


def page_basemap(settings: Settings, archive: BasemapArchive | None) -> PageBasemap:
    """The self-hosted archive when there is one, otherwise the remote tile URL."""
    if archive is not None:
        return PageBasemap(
            pmtiles_url=ARCHIVE_PATH,
            style=archive.style,
            max_data_zoom=archive.max_zoom,
            tile_url="",
            attribution=settings.basemap_attribution
            or archive.attribution
            or (OSM_ATTRIBUTION if archive.style == "protomaps" else ""),
        )
    return PageBasemap(
        pmtiles_url="",
        style="",
        max_data_zoom=0,
        tile_url=settings.basemap_url,
        attribution=settings.basemap_attribution or OSM_ATTRIBUTION,
    )


def current_basemap(settings: Settings) -> PageBasemap:
    """`page_basemap` for the running app."""
    return page_basemap(settings, current_app.extensions.get(EXTENSION))


@bp.get(ARCHIVE_PATH)
def archive() -> ResponseReturnValue:
    """The PMTiles archive, in byte ranges (206) or whole; 404 when none is configured."""
    described: BasemapArchive | None = current_app.extensions.get(EXTENSION)
    if described is None:
        raise NotFound(
            _l("no self-hosted basemap is configured (STREETSAFE_BASEMAP_PMTILES)")
        )
    return send_file(
        described.path,
        mimetype="application/vnd.pmtiles",
        conditional=True,
        etag=True,
        max_age=ARCHIVE_MAX_AGE_S,
    )
