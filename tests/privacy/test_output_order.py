"""An attacker who reads the order of a public output, not only its numbers.

test_a_withheld_place_looks_exactly_like_an_empty_one failed after all of tests/reports: its
rolled-back reports had grown the cell summary table, so the lone place's four rows tipped
PostgreSQL from a sequential scan (rows in the order they lie in the table) to an index scan
(rows in id order), and a z11 tile listed the same two published cells the other way round.
The order of a public output must follow published values only: here the planner is made to
change its mind on purpose, so the test does not wait for the table to be the right size.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import h3
import mapbox_vector_tile
import sqlalchemy as sa

from streetsafe.hotspots.aggregate import HotspotFeature, cell_polygon
from streetsafe.hotspots.disclosure import publish
from streetsafe.hotspots.tiles import encode_tile

from ..hotspots.conftest import STOP_LONLATS
from .conftest import EMPTY_PLACE, LONE_PLACE
from .test_attacks import _answers, _box, _tile, attacker_queries

# How PostgreSQL may read the summary tables: in the order rows lie, or in index order.
TABLE_ORDER = {"enable_indexscan": "off", "enable_indexonlyscan": "off",
               "enable_bitmapscan": "off"}  # fmt: skip
INDEX_ORDER = {"enable_seqscan": "off", "enable_bitmapscan": "off"}


@contextmanager
def planned(connection: sa.Connection, scans: dict[str, str]) -> Iterator[None]:
    """Within the block, the test's transaction (which the app's sessions share) plans so."""
    for name, value in scans.items():
        connection.execute(sa.text("SELECT set_config(:name, :value, true)"),
                           {"name": name, "value": value})  # fmt: skip
    yield
    for name in scans:
        connection.execute(sa.text("SELECT set_config(:name, 'on', true)"), {"name": name})


def _tile_cells(body: bytes) -> list[str]:
    layer = mapbox_vector_tile.decode(body).get("hotspots", {"features": []})
    return [feature["properties"]["cell"] for feature in layer["features"]]


def test_a_tile_lists_its_cells_in_id_order_whatever_order_they_come_in(connection, settings):
    lon, lat = STOP_LONLATS[0]
    cells = sorted({h3.latlng_to_cell(lat, lon + d, 9) for d in (0.0, 0.004, 0.008, 0.012)})
    exact = [
        HotspotFeature(cell, cell_polygon(h3.str_to_int(cell)), count=20, key_sum=i)
        for i, cell in enumerate(reversed(cells))
    ]
    body = encode_tile(connection, *_xyz(lon, lat, 11), publish(exact, settings))
    assert len(_tile_cells(body)) == len(cells) > 1
    assert _tile_cells(body) == cells


def _xyz(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    zoom, x, y = _tile(lon, lat, z).removesuffix(".mvt").split("/")[-3:]
    return int(zoom), int(x), int(y)


def test_a_tile_is_the_same_whatever_plan_reads_its_cells(client, connection, published_world):
    tiles = {_tile(lon, lat, z) for lon, lat in (*STOP_LONLATS, LONE_PLACE, EMPTY_PLACE)
             for z in (4, 8, 11, 12, 13, 14, 16)}  # fmt: skip
    with planned(connection, TABLE_ORDER):
        by_table = {t: client.get(t).data for t in tiles}
    with planned(connection, INDEX_ORDER):
        by_index = {t: client.get(t).data for t in tiles}
    assert max(len(_tile_cells(body)) for body in by_table.values()) > 1  # order can matter
    assert [t for t in sorted(tiles) if by_table[t] != by_index[t]] == []


def test_a_withheld_place_looks_like_an_empty_one_when_the_plan_changes(
    client, connection, published_world, add_reports
) -> None:
    """The failing order's case, every time: the lone place's reports change the plan."""
    queries = attacker_queries(*LONE_PLACE) + attacker_queries(*EMPTY_PLACE)
    queries += attacker_queries(*STOP_LONLATS[0])[:60]
    with planned(connection, TABLE_ORDER):
        before = _answers(client, queries)
    when = datetime(2025, 3, 7, 19, 0, tzinfo=UTC)
    add_reports(2, *LONE_PLACE, categories=["followed"], occurred_at=when)
    add_reports(2, *LONE_PLACE, categories=["badly_lit", "followed"], occurred_at=when)
    with planned(connection, INDEX_ORDER):
        after = _answers(client, queries)
    changed = [q for q in queries if before[q] != after[q]]
    assert not changed, f"{len(changed)} outputs changed, e.g. {changed[:3]}"


def test_a_features_categories_come_by_name_not_by_exact_count(client, transit, add_reports):
    """Built smallest exact count first, the breakdown's order told which of two categories
    published as the same number had more reports, and a report's arrival by a swap."""
    lon, lat = STOP_LONLATS[1]
    add_reports(9, lon, lat, categories=["badly_lit"])
    add_reports(6, lon, lat, categories=["followed"])
    box, cell = _box(lon, lat, 120), h3.latlng_to_cell(lat, lon, 10)
    queries = [f"/api/v1/hotspots/cells?res=10&bbox={box}",
               f"/ogc/collections/hotspot-cells-r10/items?bbox={box}",
               f"/ogc/collections/hotspot-cells-r10/items/{cell}"]  # fmt: skip
    for query in queries:
        body = json.loads(client.get(query).get_data(as_text=True))
        features = body.get("features", [body])
        breakdowns = [f["properties"]["categories"] for f in features]
        names = [list(json.loads(b) if isinstance(b, str) else b) for b in breakdowns]
        assert {"badly_lit", "followed"} in [set(n) for n in names], (query, names)
        assert all(n == sorted(n) for n in names), (query, names)
