"""The demo's basemap: a PMTiles archive of vector tiles drawn from the demo's own data.

Neighbourhood boundaries, route lines and stops of the Hull feed, encoded by PostGIS
(ST_AsMVT) tile by tile and written with the `pmtiles` package, so the demo map shows streets'
context offline and no tile request leaves for another host. `streetsafe demo-basemap OUT`
rebuilds geodata/demo/hull-basemap.pmtiles.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

ARCHIVE_NAME = "hull-basemap.pmtiles"
MIN_ZOOM = 11
MAX_ZOOM = 16  # the page over-zooms past it (maxDataZoom)
PAD_DEG = 0.01  # about 1 km around the data
ATTRIBUTION = "StreetSafe demo data (Hull city centre, authored by the project)"
VECTOR_LAYERS = [
    {"id": "neighbourhoods", "fields": {"code": "String", "name": "String"}},
    {"id": "neighbourhood_labels", "fields": {"code": "String", "name": "String"}},
    {"id": "routes", "fields": {"short_name": "String", "mode": "String", "colour": "String"}},
    {"id": "stops", "fields": {"name": "String", "mode": "String"}},
]

EXTENT_SQL = sa.text("""
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
    SELECT ST_Extent(geom) AS e FROM (
        SELECT s.geom FROM stops s JOIN feeds f ON f.id = s.feed_id WHERE f.name = :feed
        UNION ALL
        SELECT rs.geom FROM route_shapes rs JOIN routes r ON r.id = rs.route_id
          JOIN feeds f ON f.id = r.feed_id WHERE f.name = :feed
    ) AS g
) AS x
""")

# One tile, four layers; each SELECT is the layer's features clipped to the tile (in 3857).
TILE_SQL = sa.text("""
WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS tile,
                    ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.02), 4326) AS near)
SELECT
  coalesce((SELECT ST_AsMVT(t, 'neighbourhoods', 4096, 'geom') FROM (
      SELECT n.code, n.name,
             ST_AsMVTGeom(ST_Transform(n.geom, 3857), env.tile, 4096, 16, true) AS geom
        FROM neighbourhoods n, env WHERE n.geom && env.near
        ORDER BY n.code) AS t WHERE t.geom IS NOT NULL), '')
  || coalesce((SELECT ST_AsMVT(t, 'neighbourhood_labels', 4096, 'geom') FROM (
      SELECT n.code, n.name,
             ST_AsMVTGeom(ST_Transform(ST_PointOnSurface(n.geom), 3857), env.tile, 4096, 0,
                          true) AS geom
        FROM neighbourhoods n, env WHERE n.geom && env.near
        ORDER BY n.code) AS t WHERE t.geom IS NOT NULL), '')
  || coalesce((SELECT ST_AsMVT(t, 'routes', 4096, 'geom') FROM (
      SELECT r.short_name, r.mode, CASE WHEN r.color ~ '^[0-9A-Fa-f]{6}$'
                                       THEN '#' || r.color END AS colour,
             ST_AsMVTGeom(ST_Transform(rs.geom, 3857), env.tile, 4096, 16, true) AS geom
        FROM route_shapes rs JOIN routes r ON r.id = rs.route_id
        JOIN feeds f ON f.id = r.feed_id, env
       WHERE f.name = :feed AND rs.geom && env.near
       ORDER BY r.public_id, rs.direction, rs.id) AS t WHERE t.geom IS NOT NULL), '')
  || coalesce((SELECT ST_AsMVT(t, 'stops', 4096, 'geom') FROM (
      SELECT s.name, s.mode,
             ST_AsMVTGeom(ST_Transform(s.geom, 3857), env.tile, 4096, 16, true) AS geom
        FROM stops s JOIN feeds f ON f.id = s.feed_id, env
       WHERE f.name = :feed AND s.geom && env.near
       ORDER BY s.public_id) AS t WHERE t.geom IS NOT NULL), '')
FROM env
""")


@dataclass(frozen=True)
class ArchiveSummary:
    """What was written: where, how many tiles, how many bytes."""

    path: Path
    tiles: int
    size: int


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The web-mercator tile (x, y) at zoom z holding a point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    lat_rad = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_rad)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tiles_covering(
    bbox: tuple[float, float, float, float], min_zoom: int, max_zoom: int
) -> Iterator[tuple[int, int, int]]:
    """Every (z, x, y) from min_zoom to max_zoom that meets bbox (min lon, lat, max lon, lat)."""
    min_lon, min_lat, max_lon, max_lat = bbox
    for z in range(min_zoom, max_zoom + 1):
        x0, y0 = lonlat_to_tile(min_lon, max_lat, z)  # tile rows grow southwards
        x1, y1 = lonlat_to_tile(max_lon, min_lat, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                yield z, x, y


def data_extent(connection: sa.Connection, feed: str) -> tuple[float, float, float, float]:
    """The padded extent of the feed's stops and route lines (lon/lat)."""
    row = connection.execute(EXTENT_SQL, {"feed": feed}).one()
    if row[0] is None:
        raise ValueError(f"the feed {feed!r} has no stops or routes: load it first")
    return (row[0] - PAD_DEG, row[1] - PAD_DEG, row[2] + PAD_DEG, row[3] + PAD_DEG)


def encode_tiles(
    connection: sa.Connection, feed: str, bbox: tuple[float, float, float, float],
    min_zoom: int, max_zoom: int,
) -> list[tuple[int, bytes]]:  # fmt: skip
    """(tile id, gzip-compressed MVT) for every tile with something in it, in tile id order."""
    tiles = []
    for z, x, y in tiles_covering(bbox, min_zoom, max_zoom):
        params = {"z": z, "x": x, "y": y, "feed": feed}
        mvt = bytes(connection.execute(TILE_SQL, params).scalar_one())
        if mvt:
            tiles.append((zxy_to_tileid(z, x, y), gzip.compress(mvt, mtime=0)))
    return sorted(tiles)


def write_archive(
    out: Path, tiles: list[tuple[int, bytes]], bbox: tuple[float, float, float, float],
    min_zoom: int, max_zoom: int,
) -> ArchiveSummary:  # fmt: skip
    """Write the tiles and their metadata (layers, attribution) as a PMTiles v3 archive."""
    if not tiles:
        raise ValueError("no tile has anything in it: nothing to write")
    min_lon, min_lat, max_lon, max_lat = (round(v * 10_000_000) for v in bbox)
    header = {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_lon_e7": min_lon, "min_lat_e7": min_lat,
        "max_lon_e7": max_lon, "max_lat_e7": max_lat,
        "center_zoom": min(14, max_zoom),
    }  # fmt: skip
    metadata = {
        "name": "StreetSafe demo basemap",
        "description": "Neighbourhoods, route lines and stops of the StreetSafe demo",
        "attribution": ATTRIBUTION,
        "vector_layers": [{**layer, "minzoom": min_zoom, "maxzoom": max_zoom}
                          for layer in VECTOR_LAYERS],
    }  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        writer = Writer(handle)
        for tile_id, data in tiles:
            writer.write_tile(tile_id, data)
        writer.finalize(header, metadata)
    return ArchiveSummary(out, len(tiles), out.stat().st_size)


def build_demo_basemap(
    connection: sa.Connection, out: Path, feed: str = "demo",
    min_zoom: int = MIN_ZOOM, max_zoom: int = MAX_ZOOM,
) -> ArchiveSummary:  # fmt: skip
    """Build the basemap archive of a loaded feed (and the neighbourhoods around it) into OUT."""
    bbox = data_extent(connection, feed)
    tiles = encode_tiles(connection, feed, bbox, min_zoom, max_zoom)
    return write_archive(out, tiles, bbox, min_zoom, max_zoom)
