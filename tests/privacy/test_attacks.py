"""An outsider with the public API and unlimited queries, attacking a few withheld reports.

The oracle is differential: every public output is taken twice, without and with a handful
of reports (fewer than K) at a lone place. If any output differs, the attacker has told a
withheld place from an empty one. Attacks: shrinking bboxes, every filter value of the public
lattice and their intersections, every resolution, every layer and format, OGC items and
single items, tiles, headers and metadata, and repetition.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from datetime import UTC, datetime

import h3
import pytest

from ..hotspots.conftest import STOP_LONLATS
from .conftest import EMPTY_PLACE, LONE_PLACE

VOLATILE_HEADERS = {"X-Generated-At", "Content-Disposition", "Date"}


def _box(lon: float, lat: float, half_m: float) -> str:
    dlat = half_m / 111_320
    dlon = half_m / (111_320 * math.cos(math.radians(lat)))
    return f"{lon - dlon:.6f},{lat - dlat:.6f},{lon + dlon:.6f},{lat + dlat:.6f}"


def _tile(lon: float, lat: float, z: int) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/hotspots/{z}/{x}/{y}.mvt"


def attacker_queries(lon: float, lat: float) -> list[str]:
    """A thousand-ish differently shaped public questions about one place."""
    boxes = [_box(lon, lat, m) for m in (30, 120, 600, 3000)]
    filters = ["", "context=street", "context=at_stop", "categories=badly_lit",
               "categories=followed", "hours=18-21", "hours=21-24", "hours=0-3", "days=fri",
               "days=weekend", "from=2025-03&to=2025-03", "from=2025-04", "mode=bus"]  # fmt: skip
    queries = []
    for box, f in itertools.product(boxes, filters):
        for layer in ("stops", "route-segments"):
            queries.append(f"/api/v1/hotspots/{layer}?bbox={box}&{f}")
        for res in (7, 8, 9, 10):
            queries.append(f"/api/v1/hotspots/cells?res={res}&bbox={box}&{f}")
    for a, b in itertools.combinations(filters[1:], 2):
        queries.append(f"/api/v1/hotspots/cells?res=10&bbox={boxes[1]}&{a}&{b}")
    for fmt in ("csv", "gpkg"):
        queries.append(f"/api/v1/hotspots/cells?res=9&bbox={boxes[2]}&format={fmt}")
        queries.append(f"/api/v1/hotspots/stops?bbox={boxes[2]}&format={fmt}")
    for res in (7, 8, 9, 10):
        cell = h3.latlng_to_cell(lat, lon, res)
        queries.append(f"/ogc/collections/hotspot-cells-r{res}/items?bbox={boxes[0]}")
        queries.append(f"/ogc/collections/hotspot-cells-r{res}/items/{cell}")
    queries.append("/ogc/collections/hotspot-stops/items?limit=1&offset=0")
    queries.append("/ogc/collections/hotspot-stops/items/test:LONE")
    queries += [_tile(lon, lat, z) for z in (4, 8, 11, 12, 13, 14, 16)]
    return queries


def _normalised(response) -> tuple:
    headers = tuple(sorted((k, v) for k, v in response.headers if k not in VOLATILE_HEADERS))
    if response.mimetype in ("application/json", "application/geo+json"):
        body = response.get_json()
        if isinstance(body, dict):
            body.pop("timeStamp", None)
            (body.get("metadata") or {}).pop("generated_at", None)
        # In the body's own order: an order that follows exact counts is an answer too.
        return response.status_code, headers, json.dumps(body)
    if response.mimetype == "application/geopackage+sqlite3":
        import tempfile
        from pathlib import Path

        import pyogrio

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "x.gpkg"
            path.write_bytes(response.data)
            frame = pyogrio.read_dataframe(path)
        return response.status_code, headers, frame.to_json(sort_keys=True)
    return response.status_code, headers, response.data


def _answers(client, queries: list[str]) -> dict[str, tuple]:
    return {q: _normalised(client.get(q)) for q in queries}


def test_a_withheld_place_looks_exactly_like_an_empty_one(
    client, published_world, add_reports
) -> None:
    queries = attacker_queries(*LONE_PLACE) + attacker_queries(*EMPTY_PLACE)
    queries += attacker_queries(*STOP_LONLATS[0])[:60]  # near the published reports too
    before = _answers(client, queries)
    assert sum(1 for status, *_ in before.values() if status == 200) > 0.8 * len(before)
    # Four reports (K - 1) at the lone place, with every attribute an attacker could probe.
    when = datetime(2025, 3, 7, 19, 0, tzinfo=UTC)  # a Friday evening, in a published month
    add_reports(2, *LONE_PLACE, categories=["followed"], occurred_at=when)
    add_reports(2, *LONE_PLACE, categories=["badly_lit", "followed"], occurred_at=when)
    after = _answers(client, queries)
    changed = [q for q in queries if before[q] != after[q]]
    assert not changed, f"{len(changed)} outputs changed, e.g. {changed[:3]}"


def test_repeating_or_reshaping_a_query_gives_the_same_number(client, published_world) -> None:
    """The cell-key method: one set of reports, one number, whatever the query's shape."""
    lon, lat = STOP_LONLATS[0]
    cell = h3.latlng_to_cell(lat, lon, 10)
    seen = set()
    for half_m in (40, 90, 200, 500, 1500, 4000):
        for shift in (-0.3, 0.0, 0.3):
            box = _box(lon + shift * half_m / 66_000, lat, half_m)
            body = client.get(f"/api/v1/hotspots/cells?res=10&bbox={box}").get_json()
            seen |= {f["properties"]["count"] for f in body["features"] if f["id"] == cell}
    for offset in range(3):
        page = client.get(f"/ogc/collections/hotspot-cells-r10/items?limit=1&offset={offset}")
        seen |= {f["properties"]["count"] for f in page.get_json()["features"] if f["id"] == cell}
    rows = csv.DictReader(io.StringIO(client.get("/api/v1/hotspots/cells?res=10&format=csv")
                                      .get_data(as_text=True)))  # fmt: skip
    seen |= {int(r["count"]) for r in rows if r["cell"] == cell}
    item = client.get(f"/ogc/collections/hotspot-cells-r10/items/{cell}").get_json()
    seen.add(item["properties"]["count"])
    assert len(seen) == 1 and next(iter(seen)) % 5 == 0 and next(iter(seen)) >= 5


def test_no_published_number_is_below_k_or_off_the_rounding(client, published_world) -> None:
    for query in attacker_queries(*STOP_LONLATS[0]):
        response = client.get(query)
        if response.mimetype != "application/geo+json":
            continue
        body = response.get_json()
        features = body.get("features", [body] if body.get("type") == "Feature" else [])
        for feature in features:
            props = feature["properties"]
            categories = props.get("categories", {})
            if isinstance(categories, str):
                categories = json.loads(categories)
            for n in (props["count"], *categories.values()):
                assert n >= 5 and n % 5 == 0, (query, props)


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2025-03-07", "from"),
        ("to=2025-03-07", "to"),
        ("hours=20-21", "hours"),
        ("hours=19-22", "hours"),
    ],
)
def test_fine_public_filters_are_refused(client, query: str, field: str) -> None:
    response = client.get(f"/api/v1/hotspots/cells?{query}")
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert "month" in response.get_json()["message"] or "band" in response.get_json()["message"]


def test_an_ogc_datetime_finer_than_a_month_is_refused(client, transit) -> None:
    response = client.get("/ogc/collections/hotspot-cells-r9/items?datetime=2025-03-07")
    assert (response.status_code, response.get_json()["field"]) == (400, "datetime")
    ok = client.get("/ogc/collections/hotspot-cells-r9/items?datetime=2025-03-01/2025-03-31")
    assert ok.status_code == 200
