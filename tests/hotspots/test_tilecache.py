"""The worker's tile cache: one drawing per key while fresh, bounded by bytes."""

from __future__ import annotations

from streetsafe.hotspots.tilecache import TileCache


def test_a_fresh_tile_is_drawn_once_and_the_cache_stays_within_its_bytes() -> None:
    drawn = []

    def draw(n: int):
        return lambda: drawn.append(n) or bytes(100)

    cache = TileCache(max_bytes=1000, ttl_s=60)
    assert cache.get("a", draw(1)) == bytes(100) and cache.get("a", draw(2)) == bytes(100)
    assert drawn == [1]
    for i in range(30):
        cache.get(i, draw(i))
    assert cache._bytes <= 1000
    expired = TileCache(ttl_s=0.0)
    expired.get("a", draw(1))
    expired.get("a", draw(2))
    assert drawn[-2:] == [1, 2]
