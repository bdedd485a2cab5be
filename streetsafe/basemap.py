"""The self-hosted basemap: a PMTiles archive of vector tiles, checked before the app starts.

The pages draw it with protomaps-leaflet, which reads the archive from this service with HTTP
Range requests, so no tile request leaves for another host (docs/PRIVACY.md).
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

HEADER_BYTES = 127
MAGIC = b"PMTiles"
SPEC_VERSION = 3
TILE_TYPE_MVT = 1
COMPRESSION = {0: "unknown", 1: "none", 2: "gzip", 3: "brotli", 4: "zstd"}
# What the browser can undo: the pmtiles reader uses DecompressionStream (gzip only).
BROWSER_COMPRESSIONS = ("unknown", "none", "gzip")
# Layers of the Protomaps basemap schema (an OpenStreetMap extract): drawn in its own style.
PROTOMAPS_LAYERS = frozenset({"earth", "roads"})


class ArchiveError(ValueError):
    """The file is not a PMTiles archive the pages can draw; the message says why."""


@dataclass(frozen=True)
class BasemapArchive:
    """What the pages need to know about the archive: its zooms, layers and attribution."""

    path: str
    size: int
    min_zoom: int
    max_zoom: int
    layers: tuple[str, ...]
    attribution: str | None

    @property
    def style(self) -> str:
        """`protomaps` for the Protomaps basemap schema, otherwise `streetsafe` (our layers)."""
        return "protomaps" if PROTOMAPS_LAYERS <= set(self.layers) else "streetsafe"


def read_archive(path: str | os.PathLike[str]) -> BasemapArchive:
    """Check that PATH is a PMTiles v3 archive of vector tiles and read its header and metadata."""
    file = Path(path)
    if not file.is_file():
        raise ArchiveError(f"{file} does not exist or is not a file")
    try:
        with file.open("rb") as handle:
            header = handle.read(HEADER_BYTES)
            metadata = _metadata(handle, header) if _is_pmtiles(header) else {}
    except PermissionError:
        raise ArchiveError(f"{file} cannot be read by this user") from None
    except ArchiveError as exc:
        raise ArchiveError(f"{file}: {exc}") from None
    if not _is_pmtiles(header):
        raise ArchiveError(f"{file} is not a PMTiles archive (no PMTiles header)")
    if header[7] != SPEC_VERSION:
        raise ArchiveError(f"{file} is PMTiles version {header[7]}; only version 3 is supported")
    if header[99] != TILE_TYPE_MVT:
        raise ArchiveError(f"{file} holds raster tiles; the pages draw vector (MVT) tiles only")
    tile_compression = COMPRESSION.get(header[98], "unknown")
    if tile_compression not in BROWSER_COMPRESSIONS:
        raise ArchiveError(
            f"{file} compresses its tiles with {tile_compression}, which browsers cannot undo; "
            "convert it with gzip tiles"
        )
    layers = tuple(str(layer.get("id")) for layer in metadata.get("vector_layers", []))
    attribution = metadata.get("attribution")
    return BasemapArchive(
        path=str(file.resolve()),
        size=file.stat().st_size,
        min_zoom=header[100],
        max_zoom=header[101],
        layers=layers,
        attribution=str(attribution) if attribution else None,
    )


def _is_pmtiles(header: bytes) -> bool:
    return len(header) == HEADER_BYTES and header[:7] == MAGIC


def _metadata(handle, header: bytes) -> dict:
    """The archive's JSON metadata (vector layers, attribution); {} when it has none."""
    offset = int.from_bytes(header[24:32], "little")
    length = int.from_bytes(header[32:40], "little")
    handle.seek(offset)
    raw = handle.read(length)
    if header[97] == 2:  # internal compression gzip
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            raise ArchiveError("its metadata is not valid gzip: the file is damaged") from None
    try:
        metadata = json.loads(raw or b"{}")
    except ValueError:
        raise ArchiveError("its metadata is not JSON: the file is damaged") from None
    return metadata if isinstance(metadata, dict) else {}
