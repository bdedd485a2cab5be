"""Import neighbourhood polygons from GeoJSON, Shapefile or GeoPackage in any CRS.

pyogrio reads the file, geopandas reprojects to WGS84 and dissolves (e.g. LSOAs into wards);
PostGIS makes every shape a valid MultiPolygon and upserts by code in one transaction.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import sqlalchemy as sa
from pyogrio.errors import DataLayerError, DataSourceError

from .loader import ImportDataError, ImportResult, copy_rows, temp_table

UPSERT = """
INSERT INTO neighbourhoods (code, name, source, geom)
SELECT code, name, :source,
       ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(geom, 4326)), 3))
FROM tmp_boundaries
ON CONFLICT (code) DO UPDATE SET name = excluded.name, source = excluded.source,
                                 geom = excluded.geom
"""


def read_boundaries(
    path: Path, code_field: str, name_field: str, layer: str | None, dissolve_by: str | None
) -> gpd.GeoDataFrame:
    """The file's features in WGS84 with `code` and `name` columns, dissolved if asked."""
    if not path.exists():
        raise ImportDataError(str(path), "no such file or folder")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise ImportDataError(str(path), f"cannot be read as a vector file ({exc})") from None
    for option, column in (("--code-field", code_field), ("--name-field", name_field),
                           ("--dissolve-by", dissolve_by)):  # fmt: skip
        if column is not None and column not in frame.columns:
            fields = ", ".join(c for c in frame.columns if c != "geometry")
            raise ImportDataError(str(path), f"{option} {column!r} is not a field (fields: "
                                  f"{fields})", 1, column)  # fmt: skip
    frame = _to_wgs84(frame, path)
    _check_features(frame, path, code_field)
    if dissolve_by:
        frame = frame.dissolve(by=dissolve_by, aggfunc="first", as_index=False)
    frame = frame.assign(code=frame[code_field].astype(str), name=frame[name_field].astype(str))
    duplicated = frame["code"].duplicated()
    if duplicated.any():
        line = int(duplicated.to_numpy().argmax()) + 1
        raise ImportDataError(
            str(path),
            f"code {frame['code'][duplicated].iloc[0]!r} appears "
            "more than once; use --dissolve-by to merge",
            line,
            code_field,
        )
    return frame[["code", "name", "geometry"]]


def _to_wgs84(frame: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    if frame.crs is None:
        raise ImportDataError(str(path), "has no coordinate reference system; add a .prj file "
                              "or use GeoJSON/GeoPackage")  # fmt: skip
    frame = frame.to_crs(4326)
    minx, miny, maxx, maxy = frame.total_bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ImportDataError(str(path), "coordinates fall outside the WGS84 range after "
                              f"reprojection from {frame.crs}")  # fmt: skip
    return frame


def _check_features(frame: gpd.GeoDataFrame, path: Path, code_field: str) -> None:
    """Every feature needs a polygon and a code; errors name the feature (1-based)."""
    for index, (geometry, code) in enumerate(zip(frame.geometry, frame[code_field],
                                                 strict=True), start=1):  # fmt: skip
        if geometry is None or geometry.is_empty:
            raise ImportDataError(str(path), "feature has no geometry", index, "geometry")
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise ImportDataError(str(path), f"feature is a {geometry.geom_type}, not a polygon",
                                  index, "geometry")  # fmt: skip
        if code is None or str(code).strip() == "":
            raise ImportDataError(str(path), "feature has no code", index, code_field)


def import_boundaries(
    connection: sa.Connection,
    path: Path | str,
    code_field: str,
    name_field: str,
    layer: str | None = None,
    dissolve_by: str | None = None,
) -> ImportResult:
    """Upsert neighbourhoods by code from a vector file; ImportDataError changes nothing."""
    path = Path(path)
    frame = read_boundaries(path, code_field, name_field, layer, dissolve_by)
    with connection.begin_nested():
        temp_table(connection, "tmp_boundaries", "code text, name text, geom geometry")
        rows = zip(frame["code"], frame["name"], frame.geometry.to_wkb(hex=True), strict=True)
        copy_rows(connection, "tmp_boundaries", ("code", "name", "geom"), rows)
        connection.execute(sa.text(UPSERT), {"source": str(path)})
    return ImportResult(feed=path.name, counts={"neighbourhoods": len(frame)})
