"""Vector tiles: decoded, suppressed like the other layers, resolution from the zoom."""

from __future__ import annotations

import math

import h3
import mapbox_vector_tile

from streetsafe.hotspots.tilecache import TileCache
from streetsafe.hotspots.tiles import res_for_zoom

from .conftest import STOP_LONLATS


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_tile_decodes_to_published_cells_only(client, add_reports) -> None:
    lon, lat = STOP_LONLATS[0]
    add_reports(8, lon, lat)
    add_reports(2, *STOP_LONLATS[1])
    x, y = _tile_of(lon, lat, 14)
    response = client.get(f"/tiles/hotspots/14/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    tile = mapbox_vector_tile.decode(response.data)
    features = tile["hotspots"]["features"]
    assert [f["properties"]["count"] for f in features] == [10]  # 8 rounds to 10; 2 is hidden
    assert features[0]["properties"]["cell"] == h3.latlng_to_cell(lat, lon, res_for_zoom(14))
    assert features[0]["geometry"]["type"] == "Polygon"


def test_empty_and_missing_tiles(client) -> None:
    assert client.get("/tiles/hotspots/14/0/0.mvt").data == b""
    response = client.get("/tiles/hotspots/3/9/0.mvt")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_low_zooms_draw_parents_summed_from_their_children(client, add_reports) -> None:
    """Two res 7 cells of 3 reports each are withheld alone, published as one res 5 parent."""
    lon, lat = STOP_LONLATS[0]
    add_reports(3, lon, lat)
    parent = h3.cell_to_parent(h3.latlng_to_cell(lat, lon, 7), 5)
    sibling = next(c for c in h3.cell_to_children(parent, 7)
                   if c != h3.latlng_to_cell(lat, lon, 7))  # fmt: skip
    s_lat, s_lon = h3.cell_to_latlng(sibling)
    add_reports(3, s_lon, s_lat)
    x, y = _tile_of(lon, lat, 10)
    assert mapbox_vector_tile.decode(client.get(f"/tiles/hotspots/10/{x}/{y}.mvt").data) == {}
    x, y = _tile_of(lon, lat, 3)
    tile = mapbox_vector_tile.decode(client.get(f"/tiles/hotspots/3/{x}/{y}.mvt").data)
    [feature] = tile["hotspots"]["features"]
    assert feature["properties"]["cell"] == parent and feature["properties"]["count"] == 5
    assert [res_for_zoom(z) for z in (0, 4, 6, 7, 8, 9)] == [5, 5, 5, 6, 6, 7]


def test_the_tile_cache_keeps_a_tile_under_the_question_it_answered(
    app, client, add_reports
) -> None:
    """A repeated argument counts by its first value, so its order is part of the question."""
    app.extensions["streetsafe.tile_cache"] = TileCache(ttl_s=60.0)  # as in production
    add_reports(8, *STOP_LONLATS[0], categories=["badly_lit"])
    add_reports(8, *STOP_LONLATS[2], categories=["followed"])
    x, y = _tile_of(*STOP_LONLATS[0], 13)
    assert _tile_of(*STOP_LONLATS[2], 13) == (x, y)
    cells = {}
    for first, second in (("badly_lit", "followed"), ("followed", "badly_lit")):
        query = f"/tiles/hotspots/13/{x}/{y}.mvt?categories={first}&categories={second}"
        features = mapbox_vector_tile.decode(client.get(query).data)["hotspots"]["features"]
        cells[first] = [f["properties"]["cell"] for f in features]
    assert cells == {
        "badly_lit": [h3.latlng_to_cell(STOP_LONLATS[0][1], STOP_LONLATS[0][0], 9)],
        "followed": [h3.latlng_to_cell(STOP_LONLATS[2][1], STOP_LONLATS[2][0], 9)],
    }


def test_hexagons_projected_in_numpy_draw_the_tile_postgis_would(db_session) -> None:
    """The same tile bytes as ST_Transform to EPSG:3857 in the database, for hexagons of
    Hull, the antimeridian's neighbourhood and the far north, at low and high zooms."""
    import numpy as np
    import shapely
    import sqlalchemy as sa

    from streetsafe.hotspots.aggregate import cell_polygon
    from streetsafe.hotspots.tiles import TILE_SQL, web_mercator

    by_postgis = TILE_SQL.replace(
        "ST_GeomFromWKB(f.wkb, 3857)", "ST_Transform(ST_GeomFromWKB(f.wkb, 4326), 3857)"
    )
    for lat, lon, z in ((53.744, -0.34, 12), (53.744, -0.34, 3), (-16.5, 179.99, 5),
                        (82.0, 10.0, 6), (0.0, 0.0, 0)):  # fmt: skip
        cells = [h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(lat, lon, 9), 3)]
        shapes = np.array([cell_polygon(c) for c in cells], dtype=object)
        x, y = _tile_of(lon, lat, z)
        params = {"z": z, "x": x, "y": y, "cells": [h3.int_to_str(c) for c in cells],
                  "counts": [5] * len(cells), "categories": ["{}"] * len(cells)}  # fmt: skip
        ours = db_session.execute(sa.text(TILE_SQL), params | {
            "wkbs": shapely.to_wkb(shapely.transform(shapes, web_mercator)).tolist()
        }).scalar_one()  # fmt: skip
        theirs = db_session.execute(sa.text(by_postgis), params | {
            "wkbs": shapely.to_wkb(shapes).tolist()
        }).scalar_one()  # fmt: skip
        assert bytes(ours) == bytes(theirs) and (len(ours) > 0 or z == 0)
