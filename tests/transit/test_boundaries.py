"""Neighbourhood boundaries: any CRS, dissolve, valid MultiPolygons, upsert, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely import Polygon

from streetsafe.transit.boundaries import import_boundaries
from streetsafe.transit.loader import ImportDataError

DEMO = Path(__file__).parents[2] / "geodata" / "demo" / "hull-neighbourhoods.geojson"


def _neighbourhoods(connection: sa.Connection) -> dict:
    rows = connection.execute(
        sa.text(
            "SELECT code, name, ST_GeometryType(geom) AS kind, ST_IsValid(geom) AS valid, "
            "ST_Area(geom::geography) AS area_m2 FROM neighbourhoods"
        )
    )
    return {row.code: row for row in rows}


def _squares(tmp_path: Path, crs: str = "EPSG:27700") -> Path:
    """Four 1 km squares in British National Grid: two wards of two areas each."""
    frame = gpd.GeoDataFrame(
        {"AREA": ["A1", "A2", "B1", "B2"], "WARD": ["W1", "W1", "W2", "W2"],
         "WARDNAME": ["West", "West", "East", "East"]},
        geometry=[Polygon([(x, 428000), (x + 1000, 428000), (x + 1000, 429000), (x, 429000)])
                  for x in (508000, 509000, 510000, 511000)],
        crs=crs,
    )  # fmt: skip
    path = tmp_path / "areas.gpkg"
    frame.to_file(path, layer="areas")
    return path


def test_demo_boundaries_import_as_valid_multipolygons(connection: sa.Connection) -> None:
    result = import_boundaries(connection, DEMO, "code", "name")
    assert result.counts == {"neighbourhoods": 3}
    centre = _neighbourhoods(connection)["HUL-CC"]
    assert (centre.name, centre.kind, centre.valid) == ("Hull City Centre", "ST_MultiPolygon", True)


def test_other_crs_is_reprojected_and_dissolved_by_field(
    connection: sa.Connection, tmp_path: Path
) -> None:
    path = _squares(tmp_path)
    result = import_boundaries(connection, path, "WARD", "WARDNAME", layer="areas",
                               dissolve_by="WARD")  # fmt: skip
    assert result.counts == {"neighbourhoods": 2}
    wards = _neighbourhoods(connection)
    assert wards["W1"].name == "West"
    assert wards["W1"].area_m2 == pytest.approx(2_000_000, rel=0.01)
    inside = connection.scalar(
        sa.text("SELECT code FROM neighbourhoods WHERE ST_Contains(geom, "
                "ST_SetSRID(ST_MakePoint(-0.345, 53.744), 4326))")
    )  # fmt: skip
    assert inside == "W1"


def test_reimport_upserts_by_code(connection: sa.Connection, tmp_path: Path) -> None:
    import_boundaries(connection, DEMO, "code", "name")
    data = json.loads(DEMO.read_text())
    data["features"] = data["features"][:1]
    data["features"][0]["properties"]["name"] = "Hull Centre (renamed)"
    changed = tmp_path / "one.geojson"
    changed.write_text(json.dumps(data))
    import_boundaries(connection, changed, "code", "name")
    rows = _neighbourhoods(connection)
    assert rows["HUL-CC"].name == "Hull Centre (renamed)"
    assert set(rows) >= {"HUL-CC", "HUL-SB", "HUL-AR"}


def test_self_intersecting_polygon_is_made_valid(connection: sa.Connection, tmp_path: Path):
    bowtie = gpd.GeoDataFrame({"code": ["X"], "name": ["Bow tie"]}, crs="EPSG:4326",
                              geometry=[Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])])  # fmt: skip
    path = tmp_path / "bowtie.geojson"
    bowtie.to_file(path)
    import_boundaries(connection, path, "code", "name")
    row = _neighbourhoods(connection)["X"]
    assert (row.kind, row.valid) == ("ST_MultiPolygon", True)


def _bad_field(tmp_path: Path) -> tuple[Path, dict]:
    return DEMO, {"code_field": "CODE"}


def _duplicate_codes(tmp_path: Path) -> tuple[Path, dict]:
    return _squares(tmp_path), {"code_field": "WARD", "name_field": "WARDNAME"}


def _no_crs(tmp_path: Path) -> tuple[Path, dict]:
    frame = gpd.GeoDataFrame({"code": ["X"], "name": ["x"]},
                             geometry=[Polygon([(0, 0), (1, 0), (1, 1)])])  # fmt: skip
    path = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        frame.to_file(path)
    return path, {}


def _out_of_range(tmp_path: Path) -> tuple[Path, dict]:
    data = json.loads(DEMO.read_text())
    data["features"][1]["geometry"]["coordinates"][0][1] = [-200.0, 53.7]
    path = tmp_path / "far.geojson"
    path.write_text(json.dumps(data))
    return path, {}


def _unreadable(tmp_path: Path) -> tuple[Path, dict]:
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"this is not a geopackage")
    return path, {}


def _missing(tmp_path: Path) -> tuple[Path, dict]:
    return tmp_path / "missing.geojson", {}


@pytest.mark.parametrize(
    "make, message",
    [(_bad_field, "'CODE' is not a field"), (_duplicate_codes, "use --dissolve-by"),
     (_no_crs, "no coordinate reference system"), (_out_of_range, "outside the WGS84 range"),
     (_unreadable, "cannot be read"), (_missing, "no such file")],
)  # fmt: skip
def test_bad_boundary_file_is_rejected_and_changes_nothing(
    connection: sa.Connection, tmp_path: Path, make, message: str
) -> None:
    import_boundaries(connection, DEMO, "code", "name")
    before = _neighbourhoods(connection)
    path, fields = make(tmp_path)
    options = {"code_field": "code", "name_field": "name", **fields}
    with pytest.raises(ImportDataError, match=message) as caught:
        import_boundaries(connection, path, **options)
    assert str(path) in str(caught.value)
    assert _neighbourhoods(connection) == before


@pytest.mark.realdata
def test_london_boroughs_import(connection: sa.Connection, shared_geodata: Path) -> None:
    path = shared_geodata / "boundaries" / "london-boroughs.geojson"
    result = import_boundaries(connection, path, "GSS_CODE", "NAME")
    assert result.counts == {"neighbourhoods": 33}
    assert all(row.valid for row in _neighbourhoods(connection).values())


@pytest.mark.realdata
def test_london_lsoas_dissolve_into_628_wards(
    connection: sa.Connection, shared_geodata: Path
) -> None:
    path = (
        shared_geodata / "boundaries" / "london-lsoa-2004" / "LSOA_2004_London_Low_Resolution.shp"
    )
    result = import_boundaries(connection, path, "STWARDCODE", "STWARDNAME",
                               dissolve_by="STWARDCODE")  # fmt: skip
    assert result.counts == {"neighbourhoods": 628}
    # Oracle: the wards cover the same area as the LSOAs they were built from.
    lsoa_m2 = gpd.read_file(path).to_crs(27700).area.sum()
    ward_m2 = connection.scalar(sa.text("SELECT sum(ST_Area(geom::geography)) FROM neighbourhoods"))
    assert ward_m2 == pytest.approx(lsoa_m2, rel=0.01)
