"""Public hotspot layers as GeoJSON (RFC 7946), CSV (WKT + id) and GeoPackage (pyogrio)."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, Self

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from .. import jsonout
from ..config import Settings
from ..errors import InvalidRequest
from ..i18n import lazy_gettext as _l
from .filters import HotspotQuery

FORMATS = ("geojson", "csv", "gpkg")
ID_COLUMN = {"cells": "cell", "stops": "stop_id", "route-segments": "segment_id"}


def check_format(fmt: object) -> object:
    """A download format named in FORMATS; a 400 naming `format` otherwise."""
    if fmt not in FORMATS:
        raise InvalidRequest(
            _l("format: must be one of %(formats)s", formats=", ".join(FORMATS)), "format"
        )
    return fmt


@dataclass(frozen=True)
class Download:
    """A rendered layer: bytes, media type, file name, metadata, and the headers that repeat
    the metadata (public layers only)."""

    body: bytes
    mimetype: str
    filename: str
    metadata: dict[str, object]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Feature:
    """One feature of a layer as a download shows it: a count, a category breakdown and
    descriptive properties. Which numbers these are is the layer's type: a PublicLayer's
    (the disclosure gate's) or a team's ExactLayer."""

    id: str
    geometry: BaseGeometry
    count: int
    categories: dict[str, int]
    properties: dict[str, object] = field(default_factory=dict)


class Layer(Protocol):
    """What the renderer (and Gi*) take: a PublicLayer, which only the disclosure gate makes,
    or a team's ExactLayer."""

    public: bool  # True for the gate's layers: their rules are repeated in headers
    kind: str  # the download's file name: streetsafe-{kind}-{layer}-{time}

    @property
    def features(self) -> Sequence[Feature]: ...

    def rules(self) -> dict[str, object]: ...

    def with_properties(self, extra: Mapping[str, Mapping[str, object]]) -> Self: ...


def layer_metadata(
    layer: str, filters: HotspotQuery, public: Layer, settings: Settings
) -> dict[str, object]:
    """What a download says about itself: filters, time, disclosure rules, licence.

    Never how many features were withheld: that would tell a withheld place from an empty one.
    """
    return {
        "layer": layer,
        "filters": filters.describe(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **public.rules(),
        "licence": settings.data_licence,
    }


def metadata_headers(metadata: dict[str, object]) -> dict[str, str]:
    """A public layer's rules, licence, time and filters as response headers."""
    return {
        "X-Min-Published-Count": str(metadata["min_published_count"]),
        "X-Count-Rounding": str(metadata["rounding"]),
        "X-Data-Licence": str(metadata["licence"]),
        "X-Generated-At": str(metadata["generated_at"]),
        "X-Filters": json.dumps(metadata["filters"], sort_keys=True),
    }


def feature_properties(layer: str, feature: Feature) -> dict[str, object]:
    """The public properties of one feature: its id, counts and descriptive fields."""
    props: dict[str, object] = {ID_COLUMN[layer]: feature.id}
    props.update(feature.properties)
    props["count"] = feature.count
    props["categories"] = feature.categories
    return props


@dataclass(frozen=True)
class Table:
    """Rows to write: one properties dict and one geometry per feature, plus an id column."""

    name: str
    id_column: str
    ids: list[str]
    rows: list[dict[str, object]]
    geometries: list[BaseGeometry]


def layer_table(layer: str, public: Layer) -> Table:
    """A published hotspot layer as a Table."""
    return Table(
        name=f"hotspot_{layer.replace('-', '_')}",
        id_column=ID_COLUMN[layer],
        ids=[f.id for f in public.features],
        rows=[feature_properties(layer, f) for f in public.features],
        geometries=[f.geometry for f in public.features],
    )


def to_geojson(
    table: Table, metadata: dict[str, object], links: list[dict] | None = None
) -> dict:
    """An RFC 7946 FeatureCollection (lon/lat, CCW exterior rings) with a metadata member."""
    collection: dict[str, object] = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": fid, "geometry": geometry, "properties": row}
            for fid, row, geometry in zip(
                table.ids, table.rows, geojson_geometries(table.geometries), strict=True
            )
        ],
    }
    if links is not None:
        collection["numberReturned"] = len(table.ids)
        collection["links"] = links
    collection["metadata"] = metadata
    return collection


# Points, line strings and polygons without holes (hexagons, stops, segments): their GeoJSON
# coordinates read from one array of all of them, a fifth of shapely.mapping's time for a page.
# They stay numpy rows (views of that array), which orjson writes as the same numbers: turning
# them into lists was a fifth of a city's route segments page (docs/BENCHMARKS.md, round 4).
_SIMPLE = {0: "Point", 1: "LineString", 3: "Polygon"}


def geojson_geometries(geometries: Sequence[BaseGeometry]) -> list[dict[str, object]]:
    """The GeoJSON geometry object of each geometry: shapely's `mapping` once written by
    `jsonout.dumps` (coordinates are numpy arrays, not lists)."""
    shapes = np.array(geometries, dtype=object)
    if not len(shapes):
        return []
    types = shapely.get_type_id(shapes)
    simple = np.isin(types, list(_SIMPLE)) & (shapely.get_num_interior_rings(shapes) <= 0)
    simple &= ~shapely.is_empty(shapes) & ~shapely.has_z(shapes)
    coords, owner = shapely.get_coordinates(shapes[simple], return_index=True)
    points = np.ascontiguousarray(coords)
    ends = [*np.flatnonzero(np.diff(owner)).tolist(), len(points) - 1] if len(points) else []
    out: list[dict[str, object]] = []
    start, piece = 0, 0
    for geometry, type_id, is_simple in zip(geometries, types.tolist(), simple.tolist(),
                                            strict=True):  # fmt: skip
        if not is_simple:
            out.append(mapping(geometry))
            continue
        end = ends[piece] + 1
        mine, start, piece = points[start:end], end, piece + 1
        kind = _SIMPLE[type_id]
        coordinates = mine[0] if kind == "Point" else mine if kind == "LineString" else [mine]
        out.append({"type": kind, "coordinates": coordinates})
    return out


def _flat_rows(table: Table) -> list[dict[str, object]]:
    """Rows with nested values (category breakdowns, lists) as JSON text."""
    return [
        {
            k: json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v
            for k, v in row.items()
        }
        for row in table.rows
    ]


# Text a spreadsheet reads as a formula (OWASP CSV injection), full-width forms included.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: object) -> object:
    """A CSV cell that stays text: text starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(table: Table) -> str:
    """CSV with the id column, the properties (nested ones as JSON) and the geometry as WKT."""
    rows = _flat_rows(table)
    out = io.StringIO()
    columns = list(rows[0]) if rows else [table.id_column, "count", "categories"]
    writer = csv.DictWriter(out, [*columns, "WKT"], lineterminator="\n")
    writer.writeheader()
    for row, geometry in zip(rows, table.geometries, strict=True):
        writer.writerow({k: csv_cell(v) for k, v in {**row, "WKT": geometry.wkt}.items()})
    return out.getvalue()


def to_gpkg(table: Table, metadata: dict[str, object]) -> bytes:
    """A GeoPackage written by pyogrio, with the metadata as dataset metadata."""
    import geopandas as gpd
    import pyogrio

    rows = _flat_rows(table)
    frame = gpd.GeoDataFrame(
        rows or {table.id_column: [], "count": [], "categories": []},
        geometry=table.geometries,
        crs="EPSG:4326",
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{table.name}.gpkg"
        pyogrio.write_dataframe(
            frame,
            path,
            layer=table.name,
            driver="GPKG",
            dataset_metadata={k: json.dumps(v) for k, v in metadata.items()},
        )
        return path.read_bytes()


def render_table(
    fmt: str, table: Table, stem: str, metadata: dict[str, object],
    links: list[dict] | None = None,
) -> Download:  # fmt: skip
    """A table in one of FORMATS."""
    if fmt == "csv":
        body = to_csv(table).encode()
        return Download(body, "text/csv; charset=utf-8", f"{stem}.csv", metadata)
    if fmt == "gpkg":
        body = to_gpkg(table, metadata)
        return Download(body, "application/geopackage+sqlite3", f"{stem}.gpkg", metadata)
    collection = to_geojson(table, metadata, links)
    body = jsonout.dumps(collection, sort_keys=False)
    return Download(body, "application/geo+json", f"{stem}.geojson", metadata)


def render(
    fmt: str, layer: str, public: Layer, filters: HotspotQuery, settings: Settings,
    links: list[dict] | None = None,
) -> Download:  # fmt: skip
    """A hotspot layer (public, or a team's exact one) in one of FORMATS: the one renderer
    of every layer download."""
    metadata = layer_metadata(layer, filters, public, settings)
    stem = f"streetsafe-{public.kind}-{layer}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    download = render_table(fmt, layer_table(layer, public), stem, metadata, links)
    if not public.public:
        return download
    return replace(download, headers=metadata_headers(metadata))
