"""The application factory's body: config, logging, database, errors, blueprints."""

from __future__ import annotations

from flask import Flask
from flask_compress import Compress

from . import db, i18n, limits, logs
from .api import health, hotspots, ogc, openapi, public, team, tiles, transit
from .api.guards import register_guards
from .config import Settings
from .current import resolve_services
from .errors import register_error_handlers
from .hotspots.tilecache import TileCache
from .jsonout import OrjsonProvider
from .reports import intake
from .security import register_security_headers
from .team import auth as team_auth
from .team import pages as team_pages
from .web import pages as web_pages

# Layers and downloads leave gzip-compressed when the client accepts it (a GeoJSON layer
# shrinks about five times). Level 5: most of level 9's saving at a third of its time.
COMPRESSION = {
    "COMPRESS_MIMETYPES": ["application/geo+json", "text/csv"],  # no HTML: no BREACH
    "COMPRESS_ALGORITHM": ["gzip"],
    "COMPRESS_LEVEL": 5,
    "COMPRESS_MIN_SIZE": 1024,
}


def build_app(config: Settings | None = None) -> Flask:
    """Wire config, logging, database, error handlers and blueprints into a new Flask app."""
    settings = resolve_services(config or Settings.from_env())
    logs.configure()
    app = Flask(__name__, static_folder=None)
    app.json = OrjsonProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        JSON_SORT_KEYS=False,
        **COMPRESSION,
    )
    app.extensions["streetsafe.settings"] = settings
    # Tests draw every tile afresh: their data change between two requests.
    tile_ttl_s = 0.0 if settings.testing else float(settings.tile_cache_s)
    app.extensions["streetsafe.tile_cache"] = TileCache(ttl_s=tile_ttl_s)
    database = db.Database(settings.database_url, settings.database_read_url,
                           settings.public_read_timeout_ms)  # fmt: skip
    db.init_app(app, database)
    intake.init_app(app, settings)  # the report writer (group commit) on the app's engine
    i18n.init_app(app)
    register_error_handlers(app)
    register_security_headers(app, settings)
    register_guards(app)
    team_auth.init_app(app)
    for blueprint in (
        health.bp,
        public.bp,
        transit.bp,
        openapi.bp,
        hotspots.bp,
        ogc.bp,
        tiles.bp,
        web_pages.bp,
        team.bp,
        team_pages.bp,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(team_pages.bp, name="team_cy", url_prefix="/cy/team")  # in Welsh
    limits.init_app(app, settings)  # after the views it limits exist
    Compress(app)
    return app
