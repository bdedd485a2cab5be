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


def dumps(value: Any, sort_keys: bool = True) -> bytes:
    """Compact JSON as UTF-8 bytes."""
    options = OPTIONS if sort_keys else OPTIONS & ~orjson.OPT_SORT_KEYS
    return orjson.dumps(value, default=DefaultJSONProvider.default, option=options)


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson's encoder (jsonify, the OGC API, errors)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # indent or other options asked for: the standard encoder
            return super().dumps(obj, **kwargs)
        return dumps(obj, sort_keys=self.sort_keys).decode()
