"""Public layers page: at most a documented number of features, with next/prev links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from .conftest import STOP_LONLATS


def test_a_layer_pages_with_next_links_and_the_pages_add_up(client, transit, add_reports) -> None:
    for i, (lon, lat) in enumerate(STOP_LONLATS):
        add_reports(5 + i, lon, lat, context="at_stop", mode="bus", stop=transit.stop_ref(i))
    whole = client.get("/api/v1/hotspots/cells?res=10").get_json()
    assert whole["numberReturned"] == len(whole["features"]) == 3 and whole["links"] == []
    seen, url = [], "/api/v1/hotspots/cells?res=10&limit=2"
    while url:
        response = client.get(url)
        body = response.get_json()
        assert len(body["features"]) <= 2
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert ('rel="next"' in response.headers.get("Link", "")) == bool(nxt)
        url = urlparse(nxt[0])._replace(scheme="", netloc="").geturl() if nxt else None
        if nxt:
            assert parse_qs(urlparse(nxt[0]).query)["res"] == ["10"]
    assert seen == sorted(f["id"] for f in whole["features"])


def test_limits_beyond_the_maximum_are_refused(client) -> None:
    for query in ("limit=2001", "limit=0", "limit=x", "offset=-1"):
        for path in ("/api/v1/hotspots/stops", "/ogc/collections/hotspot-stops/items"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 400
            assert response.get_json()["field"] == query.split("=")[0]
    assert client.get("/api/v1/hotspots/stops?limit=2000").status_code == 200


def test_a_page_holds_1000_features_unless_asked_for_more() -> None:
    from streetsafe.hotspots.paging import DEFAULT_FEATURES, MAX_FEATURES, parse_page

    assert (DEFAULT_FEATURES, MAX_FEATURES) == (1_000, 2_000)
    assert parse_page({}).limit == 1_000 and parse_page({"limit": "2000"}).limit == 2_000


def test_layers_are_compressed_when_the_client_accepts_it(client, transit, add_reports) -> None:
    import gzip
    import json

    for i, (lon, lat) in enumerate(STOP_LONLATS):
        add_reports(6, lon, lat, context="at_stop", mode="bus", stop=transit.stop_ref(i))
    for fmt in ("geojson", "csv"):
        plain = client.get(f"/api/v1/hotspots/cells?res=10&format={fmt}")
        packed = client.get(f"/api/v1/hotspots/cells?res=10&format={fmt}",
                            headers={"Accept-Encoding": "gzip"})  # fmt: skip
        assert packed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert len(packed.data) < len(plain.data)
        unpacked = gzip.decompress(packed.data)
        if fmt == "geojson":
            assert json.loads(unpacked)["features"] == plain.get_json()["features"]


def test_public_answers_carry_etags_and_answer_304(client, transit, add_reports) -> None:
    lon, lat = STOP_LONLATS[0]
    add_reports(6, lon, lat)
    for url in ("/api/v1/hotspots/cells?res=9", "/tiles/hotspots/14/8176/5284.mvt"):
        first = client.get(url)
        assert first.status_code == 200 and first.headers["ETag"]
        assert first.headers["Cache-Control"].startswith("public, max-age=")
        again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
    first = client.get("/api/v1/hotspots/cells?res=9")
    add_reports(6, lon, lat)  # new data, new tag
    assert client.get("/api/v1/hotspots/cells?res=9").headers["ETag"] != first.headers["ETag"]


def test_too_big_a_question_is_a_fast_400_that_says_what_to_ask(client) -> None:
    gb = "-8.65,49.86,1.77,60.86"
    response = client.get(f"/api/v1/hotspots/cells?res=9&bbox={gb}")
    body = response.get_json()
    assert response.status_code == 400 and body["field"] == "res"
    assert "tiles" in body["message"] and "smaller bbox" in body["message"]
    assert client.get("/api/v1/hotspots/stops").status_code == 200  # few stops: answered
    assert client.get("/api/v1/hotspots/cells?res=8&bbox=-1.6,50.8,-1.2,51.0").status_code == 200
    county = "-2.5,50.6,-0.5,51.6"  # 148,000 res 9 cells: over the 50,000 bound
    response = client.get(f"/api/v1/hotspots/cells?res=9&bbox={county}")
    body = response.get_json()
    assert response.status_code == 400 and body["field"] == "res" and "res=8" in body["message"]
    assert client.get(f"/api/v1/hotspots/cells?res=8&bbox={county}").status_code == 200
