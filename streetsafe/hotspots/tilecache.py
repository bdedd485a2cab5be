"""Recently drawn tiles kept in the worker, bounded by bytes and by age.

Low-zoom tiles cover a country and cost a second to draw; every map that opens asks for
the same few. A CDN or nginx cache in front (docs/SCALING.md) does this for a deployment;
this cache does it for one worker, so the tiles everyone asks for are drawn once a minute.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class TileCache:
    """An LRU of tile bytes, at most `max_bytes` in all, each kept at most `ttl_s`."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024, ttl_s: float = 60.0) -> None:
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self._tiles: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, draw: Callable[[], bytes]) -> bytes:
        """The cached tile for `key`, or a freshly drawn one (kept for next time)."""
        now = time.monotonic()
        with self._lock:
            found = self._tiles.get(key)
            if found and now - found[0] < self.ttl_s:
                self._tiles.move_to_end(key)
                return found[1]
        body = draw()
        with self._lock:
            self._put(key, now, body)
        return body

    def _put(self, key: Hashable, now: float, body: bytes) -> None:
        old = self._tiles.pop(key, None)
        if old:
            self._bytes -= len(old[1])
        if len(body) > self.max_bytes // 4:
            return  # one tile may not push out most of the others
        self._tiles[key] = (now, body)
        self._bytes += len(body)
        while self._bytes > self.max_bytes:
            _, (_, dropped) = self._tiles.popitem(last=False)
            self._bytes -= len(dropped)
