"""Public hotspot layers as GeoJSON (RFC 7946), CSV (WKT + id) and GeoPackage (pyogrio)."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shapely.geometry import mapping

from ..config import Settings
from .disclosure import PublicFeature, PublicLayer
from .filters import HotspotFilters

FORMATS = ("geojson", "csv", "gpkg")
ID_COLUMN = {"cells": "cell", "stops": "stop_id", "route-segments": "segment_id"}


@dataclass(frozen=True)
class Download:
    """A rendered layer: bytes, media type, file name and metadata headers."""

    body: bytes
    mimetype: str
    filename: str
    metadata: dict[str, object]


def layer_metadata(
    layer: str, filters: HotspotFilters, public: PublicLayer, settings: Settings
) -> dict[str, object]:
    """What a download says about itself: filters, time, suppression rules, licence."""
    return {
        "layer": layer,
        "filters": filters.describe(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "min_published_count": public.min_published_count,
        "rounding": public.rounding,
        "suppressed_features": public.suppressed,
        "licence": settings.data_licence,
    }


def feature_properties(layer: str, feature: PublicFeature) -> dict[str, object]:
    """The public properties of one feature: its id, counts and descriptive fields."""
    props: dict[str, object] = {ID_COLUMN[layer]: feature.id}
    props.update(feature.properties)
    props["count"] = feature.count
    props["categories"] = feature.categories
    return props


def to_geojson(layer: str, public: PublicLayer, metadata: dict[str, object]) -> dict:
    """An RFC 7946 FeatureCollection (lon/lat, CCW exterior rings) with a metadata member."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f.id,
                "geometry": mapping(f.geometry),
                "properties": feature_properties(layer, f),
            }
            for f in public.features
        ],
        "numberSuppressed": public.suppressed,
        "metadata": metadata,
    }


def _flat_rows(layer: str, public: PublicLayer) -> list[dict[str, object]]:
    rows = []
    for f in public.features:
        props = feature_properties(layer, f)
        props["categories"] = json.dumps(props["categories"], sort_keys=True)
        rows.append(props)
    return rows


def to_csv(layer: str, public: PublicLayer) -> str:
    """CSV with the feature id, counts, categories as JSON and the geometry as WKT."""
    rows = _flat_rows(layer, public)
    out = io.StringIO()
    columns = list(rows[0]) if rows else [ID_COLUMN[layer], "count", "categories"]
    writer = csv.DictWriter(out, [*columns, "WKT"], lineterminator="\n")
    writer.writeheader()
    for row, feature in zip(rows, public.features, strict=True):
        writer.writerow({**row, "WKT": feature.geometry.wkt})
    return out.getvalue()


def to_gpkg(layer: str, public: PublicLayer, metadata: dict[str, object]) -> bytes:
    """A GeoPackage written by pyogrio, with the metadata as dataset metadata."""
    import geopandas as gpd
    import pyogrio

    rows = _flat_rows(layer, public)
    frame = gpd.GeoDataFrame(
        rows or {ID_COLUMN[layer]: [], "count": [], "categories": []},
        geometry=[f.geometry for f in public.features],
        crs="EPSG:4326",
    )
    name = f"hotspot_{layer.replace('-', '_')}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name}.gpkg"
        pyogrio.write_dataframe(
            frame,
            path,
            layer=name,
            driver="GPKG",
            dataset_metadata={k: json.dumps(v) for k, v in metadata.items()},
        )
        return path.read_bytes()


def render(
    fmt: str, layer: str, public: PublicLayer, filters: HotspotFilters, settings: Settings
) -> Download:
    """The layer in one of FORMATS."""
    metadata = layer_metadata(layer, filters, public, settings)
    stem = f"streetsafe-hotspot-{layer}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    if fmt == "csv":
        body = to_csv(layer, public).encode()
        return Download(body, "text/csv; charset=utf-8", f"{stem}.csv", metadata)
    if fmt == "gpkg":
        body = to_gpkg(layer, public, metadata)
        return Download(body, "application/geopackage+sqlite3", f"{stem}.gpkg", metadata)
    body = json.dumps(to_geojson(layer, public, metadata), separators=(",", ":")).encode()
    return Download(body, "application/geo+json", f"{stem}.geojson", metadata)
