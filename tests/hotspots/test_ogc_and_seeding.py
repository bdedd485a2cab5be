"""OGC API - Features read by GDAL (as QGIS would) from a real server on a committed database.

The server runs in a child process, not a thread: pyogrio holds the GIL while GDAL reads
pages, so a server thread in the test process would never answer.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator

import pyogrio
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from streetsafe import create_app
from streetsafe.config import Settings
from streetsafe.hotspots.commands import seed_demo_reports
from streetsafe.hotspots.ogc import COLLECTIONS
from tests.resilience.servers import free_port

from ..conftest import migrated_database, redis_url
from .conftest import make_transit


@pytest.fixture(scope="module")
def seeded_settings() -> Settings:
    """A committed database with the fixture transit and the demo's synthetic reports."""
    url = migrated_database("hotspots_ogc")
    engine = sa.create_engine(url)
    with Session(engine) as session, session.begin():
        make_transit(session)
    engine.dispose()
    settings = Settings(database_url=url, redis_url=redis_url(), secret_key="x" * 20,
                        rate_limits="", testing=True)  # fmt: skip
    assert seed_demo_reports(settings, count=400) == 400
    assert seed_demo_reports(settings, count=400) == 0  # idempotent
    return settings


def serve(settings: Settings, port: int) -> None:
    """Child process: serve the app until terminated."""
    make_server("127.0.0.1", port, create_app(settings), threaded=True).serve_forever()


@pytest.fixture(scope="module")
def server(seeded_settings: Settings) -> Iterator[str]:
    from urllib.request import urlopen

    port = free_port()
    spawn = multiprocessing.get_context("spawn")
    process = spawn.Process(target=serve, args=(seeded_settings, port))
    process.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):  # a spawned child imports the app: over 10 s on a loaded machine
        try:
            urlopen(f"{base}/healthz", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield base
    process.terminate()
    process.join(5)


def test_seeded_demo_shows_every_layer_above_the_threshold(server: str) -> None:
    import json
    from urllib.request import urlopen

    for layer in ("cells", "stops", "route-segments"):
        with urlopen(f"{server}/api/v1/hotspots/{layer}?res=10") as response:
            features = json.load(response)["features"]
        assert features and all(f["properties"]["count"] >= 5 for f in features), layer


@pytest.mark.parametrize("collection_id", list(COLLECTIONS))
def test_gdal_oapif_reads_every_collection(server: str, collection_id: str) -> None:
    frame = pyogrio.read_dataframe(f"OAPIF:{server}/ogc", layer=collection_id)
    assert len(frame) > 0, collection_id
    assert frame.geometry.notna().all()
    if collection_id.startswith("hotspot-"):
        assert (frame["count"].astype(int) >= 5).all()
        assert (frame["count"].astype(int) % 5 == 0).all()


def test_items_paging_links_and_html(server: str) -> None:
    import json
    from urllib.request import Request, urlopen

    url = f"{server}/ogc/collections/hotspot-cells-r10/items?limit=1"
    with urlopen(url) as response:
        page = json.load(response)
    assert page["numberReturned"] == 1 and page["numberMatched"] > 1
    rels = {link["rel"]: link["href"] for link in page["links"]}
    with urlopen(rels["next"]) as response:
        second = json.load(response)
    assert {link["rel"] for link in second["links"]} >= {"prev", "self"}
    assert second["features"][0]["id"] != page["features"][0]["id"]
    with urlopen(Request(f"{server}/ogc/collections", headers={"Accept": "text/html"})) as r:
        assert r.headers["Content-Type"].startswith("text/html")
        assert b"hotspot-stops" in r.read()
    with urlopen(f"{server}/ogc/collections/hotspot-stops/items?datetime=2000-01") as r:
        assert json.load(r)["numberMatched"] == 0


@pytest.mark.parametrize("collection_id", ["hotspot-cells-r9", "hotspot-stops", "neighbourhoods"])
def test_single_item_is_served_and_withheld_or_unknown_ones_are_404(
    server: str, collection_id: str
) -> None:
    import json
    from urllib.error import HTTPError
    from urllib.parse import quote
    from urllib.request import urlopen

    base = f"{server}/ogc/collections/{collection_id}/items"
    with urlopen(f"{base}?limit=1") as response:
        first = json.load(response)["features"][0]
    with urlopen(f"{base}/{quote(str(first['id']), safe='')}") as response:
        assert response.headers["Content-Type"].startswith("application/geo+json")
        item = json.load(response)
    assert item["id"] == first["id"]
    # The same published numbers; Gi* belongs to a layer over a study area, not to one item.
    gi = {"gi_z", "gi_p", "hotspot"}
    assert item["properties"] == {k: v for k, v in first["properties"].items() if k not in gi}
    assert {link["rel"] for link in item["links"]} == {"self", "collection"}
    with pytest.raises(HTTPError) as missing:
        urlopen(f"{base}/no-such-feature")
    assert missing.value.code == 404
    assert json.load(missing.value)["field"] == "featureId"


def test_landing_page_links_a_valid_service_description(server: str) -> None:
    import json
    from urllib.request import urlopen

    from openapi_spec_validator import validate

    with urlopen(f"{server}/ogc") as response:
        links = {link["rel"]: link["href"] for link in json.load(response)["links"]}
    with urlopen(links["service-desc"]) as response:
        assert response.headers["Content-Type"].startswith("application/vnd.oai.openapi+json")
        definition = json.load(response)
    validate(definition)
    assert "/collections/{collectionId}/items/{featureId}" in definition["paths"]
