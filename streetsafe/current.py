"""The settings in force: completed with local servers in development, then held by the
running app (`current_settings`) or by a `streetsafe` command's click context
(`pass_settings`), so that no module imports them back from the app or the CLI.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import click
from flask import current_app

from .config import ConfigError, Settings

P = ParamSpec("P")
R = TypeVar("R")


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
        changes["database_url"] = localdb.ensure_postgres(settings)
    if not settings.redis_url:
        changes["redis_url"] = localdb.ensure_redis(settings)
    if not settings.secret_key:
        changes["secret_key"] = _local_secret(localdb.local_dir(settings))
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


class CommandSettings:
    """A command's settings, kept as the click context's `obj` by the `streetsafe` group.

    They are read from the environment on first use, and local servers are started only
    when a command asks for `resolved()` (`local stop` and `--help` start nothing).
    """

    def __init__(self, configured: Settings | None = None) -> None:
        self._configured = configured
        self._resolved: Settings | None = None

    def configured(self) -> Settings:
        """The settings as configured, no server started; exits naming a bad variable."""
        if self._configured is None:
            self._configured = _or_exit(Settings.from_env)
        return self._configured

    def resolved(self) -> Settings:
        """The settings with local servers started and filled in, once per command."""
        if self._resolved is None:
            configured = self.configured()
            self._resolved = _or_exit(lambda: resolve_services(configured))
        return self._resolved


def _or_exit(read: Callable[[], Settings]) -> Settings:
    """`read()`, with a configuration or local-server error as the command's one-line exit."""
    from .localdb import LocalServiceError

    try:
        return read()
    except (ConfigError, LocalServiceError) as exc:
        raise click.ClickException(str(exc)) from None


def command_settings() -> CommandSettings:
    """The running command's CommandSettings (made on first use outside `streetsafe`)."""
    return click.get_current_context().ensure_object(CommandSettings)


def pass_settings(command: Callable[Concatenate[Settings, P], R]) -> Callable[P, R]:
    """Give a click command its invocation's resolved Settings as the first argument."""

    @functools.wraps(command)
    def with_settings(*args: P.args, **kwargs: P.kwargs) -> R:
        return command(command_settings().resolved(), *args, **kwargs)

    return with_settings
