"""Input no handler can accept: refused before any view runs, with the field named."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request

from ..errors import InvalidRequest

NUL = "\x00"
MAX_SCANNED_BYTES = 64 * 1024


def _nul_path(value: Any, path: str) -> str | None:
    """The dotted path of the first string holding a NUL character, if any."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and NUL in key:
            return f"{path}.{key}".strip(".")
        found = _nul_path(item, f"{path}.{key}".strip("."))
        if found is not None:
            return found
    return None


def reject_nul_characters() -> None:
    """PostgreSQL text cannot hold NUL: a query parameter, path or JSON string with one is a 400."""
    for name, value in request.args.items(multi=True):
        if NUL in name or NUL in value:
            raise InvalidRequest(f"{name}: must not contain NUL characters", name)
    if NUL in request.path:
        raise InvalidRequest("the path must not contain NUL characters", None)
    # Bodies over the largest any endpoint accepts are left to that endpoint's 413.
    if request.is_json and 0 < (request.content_length or 0) <= MAX_SCANNED_BYTES:
        raw = request.get_data(cache=True)
        if b"\\u0000" not in raw.lower():
            return
        try:
            field = _nul_path(json.loads(raw), "")
        except ValueError:
            return  # not JSON after all: the view's own parser reports that
        if field is not None:
            raise InvalidRequest(f"{field}: must not contain NUL characters", field or None)


def register_guards(app: Flask) -> None:
    """Run the guards before every request."""
    app.before_request(reject_nul_characters)
