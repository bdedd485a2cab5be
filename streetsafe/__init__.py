"""StreetSafe: anonymous reports of places where people felt unsafe, served as hotspot layers."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from .config import Settings

__all__ = ["create_app"]


def create_app(config: Settings | None = None) -> Flask:
    """Build the Flask app from `config` (default: the environment), wiring every part."""
    from .app import build_app

    return build_app(config)
