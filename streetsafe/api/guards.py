"""Input no handler can accept: refused before any view runs, with the field named."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import InvalidRequest
from ..i18n import lazy_gettext as _l

NUL = "\x00"
MAX_SCANNED_BYTES = 64 * 1024
# Deeper JSON is refused on every endpoint: Python's parser recurses once per level, and no
# request of ours nests more than four.
MAX_JSON_DEPTH = 32


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
            raise InvalidRequest(_l("%(name)s: must not contain NUL characters", name=name), name)
    if NUL in request.path:
        raise InvalidRequest(_l("the path must not contain NUL characters"), None)
    # Bodies over the largest any endpoint accepts are left to that endpoint's 413. A chunked
    # body has no length: it is read (up to the limit) and checked all the same.
    length = request.content_length
    if not request.is_json or length == 0 or (length or 0) > MAX_SCANNED_BYTES:
        return
    raw = request.stream.read(MAX_SCANNED_BYTES + 1) if length is None else request.get_data()
    if len(raw) > MAX_SCANNED_BYTES:
        raise RequestEntityTooLarge(f"the body must be at most {MAX_SCANNED_BYTES} bytes")
    request._cached_data = raw  # the view reads the same bytes
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise InvalidRequest(
            _l("the body nests deeper than %(depth)s levels", depth=MAX_JSON_DEPTH), None
        )
    if b"\\u0000" not in raw.lower() and b"\x00" not in raw:
        return
    try:
        field = _nul_path(json.loads(raw), "")
    except ValueError:
        raise InvalidRequest(_l("the body must not contain NUL characters"), None) from None
    if field is not None:
        raise InvalidRequest(
            _l("%(name)s: must not contain NUL characters", name=field), field or None
        )


def json_depth(raw: bytes) -> int:
    """How deeply a JSON text nests arrays and objects (strings skipped); cheap when shallow."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # cannot nest deeper than its brackets
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def register_guards(app: Flask) -> None:
    """Run the guards before every request."""
    app.before_request(reject_nul_characters)
