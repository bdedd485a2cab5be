"""Find the servers the service needs: the configured ones, or local ones in development."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app

from .config import ConfigError, Settings


def resolve_services(settings: Settings) -> Settings:
    """Fill in unset DATABASE_URL, REDIS_URL and secret key (development only)."""
    if settings.production:
        for variable, value in (
            ("DATABASE_URL", settings.database_url),
            ("REDIS_URL", settings.redis_url),
            ("STREETSAFE_SECRET_KEY", settings.secret_key),
        ):
            if not value:
                raise ConfigError(variable, "is required when STREETSAFE_ENV=production")
        return settings
    from . import localdb

    changes: dict[str, object] = {}
    if not settings.database_url:
        changes["database_url"] = localdb.ensure_postgres()
    if not settings.redis_url:
        changes["redis_url"] = localdb.ensure_redis()
    if not settings.secret_key:
        changes["secret_key"] = _local_secret(localdb.local_dir(settings.local_dir))
    return settings.with_overrides(**changes) if changes else settings


def _local_secret(folder: Path) -> str:
    """A secret key kept in the local folder so that development restarts keep sessions."""
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def current_settings() -> Settings:
    """The running app's settings."""
    return current_app.extensions["streetsafe.settings"]
