"""OGC items found and paged in the database: one item equals the same feature in items, a
withheld one is as unknown as one that never existed, and neighbourhoods page in SQL."""

from __future__ import annotations

import itertools
from urllib.parse import quote

import pytest
from geoalchemy2.elements import WKTElement

from streetsafe.hotspots.conditions import segment_keys
from streetsafe.models import Neighbourhood

from .conftest import STOP_LONLATS

GI = {"gi_z", "gi_p", "hotspot"}
SEGMENTS = "/ogc/collections/hotspot-route-segments/items"


@pytest.fixture
def segments(transit, add_reports) -> list[str]:
    """Six reports on the first stretch (published) and four on the second (withheld)."""
    (lon, lat), (lon2, _) = STOP_LONLATS[0], STOP_LONLATS[1]
    add_reports(6, lon + 0.003, lat, context="on_vehicle", mode="bus",
                segment=transit.segment_ref(0), categories=["overcrowding"])  # fmt: skip
    add_reports(4, lon2 + 0.003, lat, context="on_vehicle", mode="bus",
                segment=transit.segment_ref(1), categories=["overcrowding"])  # fmt: skip
    route, stops = transit.route.public_id, transit.stops
    return [f"{route}|0|{a.public_id}|{b.public_id}" for a, b in itertools.pairwise(stops)]


@pytest.mark.parametrize("query", ["", "?datetime=2025-03", "?datetime=2025-01/2025-12"])
def test_a_segment_item_equals_the_same_feature_in_items(client, segments, query) -> None:
    published, withheld = segments
    page = client.get(f"{SEGMENTS}{query}").get_json()
    assert [f["id"] for f in page["features"]] == [published] and page["numberMatched"] == 1
    item = client.get(f"{SEGMENTS}/{quote(published, safe='')}")
    assert item.status_code == 200
    feature = item.get_json()
    assert feature["properties"] == {k: v for k, v in page["features"][0]["properties"].items()
                                     if k not in GI}  # fmt: skip
    assert feature["properties"]["count"] == 5 and feature["geometry"]["type"] == "LineString"


def test_a_withheld_or_malformed_segment_is_unknown(client, segments) -> None:
    _, withheld = segments
    for feature_id in (withheld, "no-such-feature", "a|b|c|d", "|||", "x|0|y"):
        response = client.get(f"{SEGMENTS}/{quote(feature_id, safe='')}")
        assert response.status_code == 404, feature_id
        assert response.get_json()["field"] == "featureId"


def test_segment_ids_holding_the_separator_are_found_by_their_key_columns() -> None:
    assert segment_keys("gtfs:R1|0|gtfs:A|gtfs:B") == [("gtfs:R1", 0, "gtfs:A", "gtfs:B")]
    assert ("gtfs:R|1", 1, "gtfs:A", "gtfs:B|2") in segment_keys("gtfs:R|1|1|gtfs:A|gtfs:B|2")
    assert segment_keys("x|y|z") == [] and segment_keys("r|east|a|b") == []


def _hood(code: str, west: float) -> Neighbourhood:
    east = west + 0.01
    return Neighbourhood(code=code, name=f"Ward {code}", geom=WKTElement(
        f"MULTIPOLYGON((({west} 53.73, {east} 53.73, {east} 53.74, {west} 53.74, "
        f"{west} 53.73)))", srid=4326))  # fmt: skip


def test_neighbourhoods_page_and_are_found_in_the_database(client, db_session) -> None:
    db_session.add_all([_hood("N3", -0.30), _hood("N1", -0.36), _hood("N2", -0.33)])
    db_session.flush()
    base = "/ogc/collections/neighbourhoods/items"
    page = client.get(f"{base}?limit=1&offset=1").get_json()
    assert [f["id"] for f in page["features"]] == ["N2"]
    assert page["numberMatched"] == 3 and page["numberReturned"] == 1
    assert {link["rel"] for link in page["links"]} >= {"next", "prev"}
    inside = client.get(f"{base}?bbox=-0.365,53.725,-0.345,53.745").get_json()
    assert [f["id"] for f in inside["features"]] == ["N1"] and inside["numberMatched"] == 1
    beyond = client.get(f"{base}?offset=10").get_json()
    assert beyond["features"] == [] and beyond["numberMatched"] == 3
    item = client.get(f"{base}/N2").get_json()
    assert item["properties"] == {"code": "N2", "name": "Ward N2"}
    assert client.get(f"{base}/N9").status_code == 404
