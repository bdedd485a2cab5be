"""JSON out, by orjson: a layer page of 1,000 features is encoded in a few milliseconds.

Python's json module took a fifth of a national layer page's CPU (docs/BENCHMARKS.md,
"National reads", round 3). orjson writes the same JSON values (keys sorted as Flask's
provider sorts them; NaN as null); anything it cannot write (a datetime, Decimal,
dataclass, Babel's lazy strings) goes through Flask's own `default`, as before. Requests
are still parsed by Flask's provider.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

OPTIONS = (orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
           | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)  # fmt: skip


COMPACT = (",", ":")


def dumps(value: Any, sort_keys: bool = True, indent: bool = False) -> bytes:
    """Compact JSON as UTF-8 bytes (indented by two spaces with `indent`)."""
    options = OPTIONS if sort_keys else OPTIONS & ~orjson.OPT_SORT_KEYS
    options |= orjson.OPT_INDENT_2 if indent else 0
    return orjson.dumps(value, default=DefaultJSONProvider.default, option=options)


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson's encoder (jsonify, the OGC API, errors)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # jsonify asks for compact separators (orjson's only ones), or for an indent in debug
        # mode; anything else goes to the standard encoder.
        if set(kwargs) - {"separators", "indent"} or kwargs.get("separators", COMPACT) != COMPACT:
            return super().dumps(obj, **kwargs)
        return dumps(obj, sort_keys=self.sort_keys, indent=bool(kwargs.get("indent"))).decode()
