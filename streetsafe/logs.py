"""Structured (JSON) logs. No client address, user agent or cookie is ever logged."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

_configured = False


def configure(level: int = logging.INFO) -> None:
    """Send every log record to stderr as one JSON object; silence per-request access logs."""
    global _configured
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", timestamp=False)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Werkzeug's and gunicorn's access logs carry the client address: never on.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # /readyz asks Alembic for the schema revision; its INFO lines would fill the log.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("gunicorn.access").disabled = True
    _configured = True
