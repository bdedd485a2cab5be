"""Run the app under gunicorn from Python, with per-request access logs off."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from .config import Settings


class StreetSafeServer(BaseApplication):
    """A gunicorn application that builds one StreetSafe app per worker from given settings."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        return create_app(self.settings)


def run_gunicorn(
    settings: Settings, host: str, port: int, workers: int = 2, threads: int = 4
) -> None:
    """Serve until interrupted."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 30,
        "graceful_timeout": 10,
        "forwarded_allow_ips": "127.0.0.1",
    }
    StreetSafeServer(settings, options).run()
