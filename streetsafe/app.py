"""The application factory's body: config, logging, database, errors, blueprints."""

from __future__ import annotations

from flask import Flask

from . import db, logs
from .api import health, hotspots, ogc, tiles
from .config import Settings
from .errors import register_error_handlers
from .services import resolve_services


def build_app(config: Settings | None = None) -> Flask:
    """Wire config, logging, database, error handlers and blueprints into a new Flask app."""
    settings = resolve_services(config or Settings.from_env())
    logs.configure()
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.testing,
        JSON_SORT_KEYS=False,
    )
    app.extensions["streetsafe.settings"] = settings
    db.init_app(app, db.Database(settings.database_url, settings.database_read_url))
    register_error_handlers(app)
    app.register_blueprint(health.bp)
    for blueprint in (hotspots.bp, ogc.bp, tiles.bp):
        app.register_blueprint(blueprint)
    return app
