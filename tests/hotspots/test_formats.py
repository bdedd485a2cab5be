"""The GeoJSON writer's geometries, once written, are shapely's own mapping, whatever the mix of
types."""

from __future__ import annotations

import h3
import orjson
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, mapping

from streetsafe import jsonout
from streetsafe.hotspots.aggregate import cell_polygon
from streetsafe.hotspots.formats import geojson_geometries

HEXAGONS = [cell_polygon(h3.str_to_int(h3.latlng_to_cell(53.7 + i / 100, -0.3, 9)))
            for i in range(5)]  # fmt: skip
OTHERS = [
    Point(-0.1, 51.5), Point(1e-5, -1e-7), LineString([(0, 0), (1, 1), (2, 0.5)]),
    Polygon([(0, 0), (1, 0), (1, 1), (0, 0)], [[(0.2, 0.1), (0.5, 0.1), (0.5, 0.3), (0.2, 0.1)]]),
    MultiPolygon([Polygon([(0, 0), (1, 0), (1, 1)])]), Point(1, 2, 3), Polygon(),
]  # fmt: skip


def test_geometries_are_written_as_shapely_maps_them() -> None:
    mixed = [HEXAGONS[0], *OTHERS[:3], *HEXAGONS[1:], *OTHERS[3:], HEXAGONS[0]]
    for geometries in (mixed, mixed[::-1], OTHERS, HEXAGONS[:1], [OTHERS[0]], []):
        ours = jsonout.dumps(geojson_geometries(geometries), sort_keys=False)
        assert ours == orjson.dumps([mapping(g) for g in geometries])


def test_jsonify_writes_with_orjson_and_numpy_coordinates(app) -> None:
    """jsonify (the OGC API's documents) asks the provider for compact separators: that is
    orjson's one form, so it must not fall back to the standard encoder, which cannot write
    the geometries' numpy coordinates."""
    from flask import jsonify

    geometry = geojson_geometries([OTHERS[2]])[0]
    with app.app_context():
        body = jsonify({"geometry": geometry, "name": "Pont-y-pŵl"}).get_data()
    assert body == orjson.dumps({"geometry": mapping(OTHERS[2]), "name": "Pont-y-pŵl"},
                                option=orjson.OPT_SORT_KEYS) + b"\n"  # fmt: skip
