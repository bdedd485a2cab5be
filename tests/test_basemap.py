"""The self-hosted basemap: the setting's checks, the archive served in byte ranges, the page's
attributes and CSP, and the demo's archive built from the demo data (without a browser)."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import mapbox_vector_tile
import pytest
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

from streetsafe import create_app
from streetsafe.basemap import read_archive
from streetsafe.config import ConfigError, Settings
from streetsafe.demo.basemap import ATTRIBUTION, build_demo_basemap, tiles_covering
from streetsafe.demo.commands import with_demo_basemap
from streetsafe.demo.transit import demo_dir
from streetsafe.security import content_security_policy

DEMO_ARCHIVE = demo_dir() / "hull-basemap.pmtiles"
NAME = "STREETSAFE_BASEMAP_PMTILES"


@pytest.fixture
def basemap_client(settings: Settings):
    """A client of an app serving the demo's archive."""
    return create_app(settings.with_overrides(basemap_pmtiles=str(DEMO_ARCHIVE))).test_client()


# ---- the setting -------------------------------------------------------------------------


def _raster_archive(path: Path) -> Path:
    header = bytearray(DEMO_ARCHIVE.read_bytes()[:127])
    header[99] = 2  # tile type PNG
    path.write_bytes(bytes(header))
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp: tmp / "missing.pmtiles", "does not exist"),
        (lambda tmp: tmp, "does not exist or is not a file"),
        (lambda tmp: (tmp / "a.pmtiles").write_bytes(b"x" * 200) and tmp / "a.pmtiles",
         "is not a PMTiles archive"),
        (lambda tmp: (tmp / "s.pmtiles").write_bytes(b"PMTiles") and tmp / "s.pmtiles",
         "is not a PMTiles archive"),
        (lambda tmp: _raster_archive(tmp / "r.pmtiles"), "raster tiles"),
    ],
)  # fmt: skip
def test_a_bad_archive_stops_the_start_naming_the_variable(tmp_path, make, message) -> None:
    path = make(tmp_path)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({NAME: str(path)})
    assert caught.value.variable == NAME
    assert str(caught.value).startswith(f"{NAME}: ")
    assert message in str(caught.value)
    assert "streetsafe demo-basemap" in str(caught.value)  # what to do about it


def test_an_unset_archive_means_the_remote_basemap() -> None:
    assert Settings.from_env({}).basemap_pmtiles is None
    assert Settings.from_env({NAME: "  "}).basemap_pmtiles is None


def test_a_good_archive_is_kept_as_an_absolute_path(monkeypatch) -> None:
    monkeypatch.chdir(demo_dir())
    settings = Settings.from_env({NAME: "hull-basemap.pmtiles"})
    assert settings.basemap_pmtiles == str(DEMO_ARCHIVE.resolve())


def test_the_app_refuses_a_bad_archive_given_in_code(settings: Settings, tmp_path) -> None:
    with pytest.raises(ConfigError, match=NAME):
        create_app(settings.with_overrides(basemap_pmtiles=str(tmp_path / "gone.pmtiles")))


def _archive_with_layers(path: Path, layers: list[str]) -> Path:
    with path.open("wb") as handle:
        writer = Writer(handle)
        writer.write_tile(zxy_to_tileid(0, 0, 0), gzip.compress(b"", mtime=0))
        header = {"tile_type": TileType.MVT, "tile_compression": Compression.GZIP}
        writer.finalize(header, {"vector_layers": [{"id": layer} for layer in layers]})
    return path


def test_an_openstreetmap_extract_is_drawn_in_the_protomaps_style(
    settings: Settings, connection, tmp_path
) -> None:
    extract = _archive_with_layers(tmp_path / "osm.pmtiles", ["earth", "water", "roads"])
    ours = _archive_with_layers(tmp_path / "ours.pmtiles", ["stops", "routes"])
    assert read_archive(extract).style == "protomaps"
    assert read_archive(ours).style == "streetsafe"
    app = create_app(settings.with_overrides(basemap_pmtiles=str(extract)))
    html = app.test_client().get("/").get_data(as_text=True)
    assert 'data-basemap-style="protomaps"' in html
    assert "OpenStreetMap&lt;/a&gt; contributors" in html  # its metadata has no attribution


def test_production_without_an_archive_warns_at_start(settings: Settings, caplog) -> None:
    with caplog.at_level("WARNING", logger="streetsafe.web.basemap"):
        create_app(settings.with_overrides(env="production"))
    assert "STREETSAFE_BASEMAP_PMTILES is unset" in caplog.text
    assert "https://tile.openstreetmap.org" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="streetsafe.web.basemap"):
        create_app(settings.with_overrides(env="production", basemap_pmtiles=str(DEMO_ARCHIVE)))
    assert "STREETSAFE_BASEMAP_PMTILES" not in caplog.text


def test_the_demo_serves_its_own_archive_unless_another_is_set(tmp_path) -> None:
    assert with_demo_basemap(Settings()).basemap_pmtiles == str(DEMO_ARCHIVE)
    other = Settings(basemap_pmtiles="/srv/other.pmtiles")
    assert with_demo_basemap(other).basemap_pmtiles == "/srv/other.pmtiles"


# ---- serving the archive -------------------------------------------------------------------


def test_no_archive_is_a_404_in_json(client) -> None:
    response = client.get("/basemap.pmtiles")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert "STREETSAFE_BASEMAP_PMTILES" in response.get_json()["message"]


def test_the_archive_is_served_in_byte_ranges(basemap_client) -> None:
    data = DEMO_ARCHIVE.read_bytes()
    first = basemap_client.get("/basemap.pmtiles", headers={"Range": "bytes=0-126"})
    assert first.status_code == 206
    assert first.data == data[:127]
    assert first.headers["Content-Range"] == f"bytes 0-126/{len(data)}"
    assert first.headers["Accept-Ranges"] == "bytes"
    assert first.headers["Content-Length"] == "127"
    assert first.headers["Cache-Control"] == "public, max-age=86400"
    etag = first.headers["ETag"]
    assert etag and not etag.startswith("W/")  # the pmtiles reader ignores weak ETags
    later = basemap_client.get("/basemap.pmtiles", headers={"Range": "bytes=1000-1999"})
    assert later.status_code == 206 and later.data == data[1000:2000]
    assert later.headers["ETag"] == etag


def test_a_range_past_the_end_is_cut_to_the_file(basemap_client) -> None:
    # The pmtiles reader's first request asks for 16 KiB, more than a small archive holds.
    data = DEMO_ARCHIVE.read_bytes()
    response = basemap_client.get("/basemap.pmtiles", headers={"Range": "bytes=20000-99999"})
    assert response.status_code == 206
    assert response.data == data[20000:]


@pytest.mark.parametrize("bad_range", ["bytes=999999999-", "bytes=999999999-1000000000"])
def test_an_unsatisfiable_range_is_416_with_the_length(basemap_client, bad_range) -> None:
    response = basemap_client.get("/basemap.pmtiles", headers={"Range": bad_range})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{DEMO_ARCHIVE.stat().st_size}"
    assert response.get_json()["error"] == "range_not_satisfiable"


def test_the_whole_archive_and_a_revalidation(basemap_client) -> None:
    whole = basemap_client.get("/basemap.pmtiles")
    assert whole.status_code == 200
    assert whole.data == DEMO_ARCHIVE.read_bytes()
    assert "Set-Cookie" not in whole.headers
    again = basemap_client.get("/basemap.pmtiles", headers={"If-None-Match": whole.headers["ETag"]})
    assert again.status_code == 304
    stale = basemap_client.get(
        "/basemap.pmtiles", headers={"Range": "bytes=0-9", "If-Range": '"another-file"'}
    )
    assert stale.status_code == 200  # a changed file is sent whole, never mixed with the old
    assert len(stale.data) == DEMO_ARCHIVE.stat().st_size


# ---- what the pages are told ---------------------------------------------------------------


def test_with_an_archive_the_page_draws_it_and_names_no_tile_server(
    settings: Settings, connection
) -> None:
    app = create_app(settings.with_overrides(basemap_pmtiles=str(DEMO_ARCHIVE)))
    response = app.test_client().get("/")
    html = response.get_data(as_text=True)
    assert 'data-basemap-pmtiles="/basemap.pmtiles"' in html
    assert 'data-basemap-style="streetsafe"' in html
    assert 'data-basemap-max-zoom="16"' in html
    assert 'data-basemap-url=""' in html
    assert "vendor/protomaps-leaflet/protomaps-leaflet.js" in html
    assert f'data-basemap-attribution="{ATTRIBUTION}"' in html  # the archive's own
    assert "openstreetmap" not in html.lower()
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]


def test_a_configured_attribution_wins_over_the_archive_s(settings: Settings, connection) -> None:
    app = create_app(
        settings.with_overrides(basemap_pmtiles=str(DEMO_ARCHIVE), basemap_attribution="Ours")
    )
    assert 'data-basemap-attribution="Ours"' in app.test_client().get("/").get_data(as_text=True)


def test_without_an_archive_the_page_keeps_the_remote_tiles(client) -> None:
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert 'data-basemap-pmtiles=""' in html
    assert 'data-basemap-url="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in html
    assert "OpenStreetMap&lt;/a&gt; contributors" in html
    assert "protomaps-leaflet.js" not in html
    assert "https://tile.openstreetmap.org" in response.headers["Content-Security-Policy"]


def test_the_csp_allows_no_tile_origin_with_an_archive() -> None:
    policy = content_security_policy(Settings(basemap_pmtiles=str(DEMO_ARCHIVE)))
    assert "openstreetmap" not in policy
    assert "connect-src 'self';" in policy and "worker-src" not in policy


def test_the_vendored_renderer_is_served_with_its_licence(client) -> None:
    script = client.get("/static/vendor/protomaps-leaflet/protomaps-leaflet.js")
    assert script.status_code == 200
    assert script.data.startswith(b'"use strict";var protomapsL=')
    assert b"eval(" not in script.data and b"new Function" not in script.data
    licence = client.get("/static/vendor/protomaps-leaflet/LICENSE").get_data(as_text=True)
    assert "Protomaps LLC" in licence and "Redistribution and use" in licence


# ---- the demo's archive -------------------------------------------------------------------


def _tiles(path: Path) -> dict[tuple[int, int, int], dict]:
    with path.open("rb") as handle:
        reader = Reader(MmapSource(handle))
        return {
            zxy: mapbox_vector_tile.decode(gzip.decompress(data))
            for zxy, data in all_tiles(reader.get_bytes)
        }


def _tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """A tile's (west, south, east, north) in degrees, from the inverse of the tiling."""
    n = 2**z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def test_tiles_covering_a_box_are_every_tile_that_meets_it() -> None:
    hull = (-0.36, 53.73, -0.32, 53.76)
    for z in (11, 14, 16):
        covering = {(x, y) for _, x, y in tiles_covering(hull, z, z)}
        near = range(-2, 12)  # the box is at most 8 tiles wide at 16
        x0, y0 = min(covering)
        meets = {
            (x, y)
            for x in (x0 + d for d in near) for y in (y0 + d for d in near)
            if (b := _tile_bounds(z, x, y))[0] < hull[2] and b[2] > hull[0]
            and b[1] < hull[3] and b[3] > hull[1]
        }  # fmt: skip
        assert covering == meets
    assert (8176, 5280) in {(x, y) for _, x, y in tiles_covering(hull, 14, 14)}  # Paragon


def test_the_demo_archive_is_built_from_the_demo_data(connection, demo_feed, tmp_path) -> None:
    summary = build_demo_basemap(connection, tmp_path / "demo.pmtiles", demo_feed)
    archive = read_archive(summary.path)
    assert (archive.min_zoom, archive.max_zoom) == (11, 16)
    assert archive.style == "streetsafe" and archive.attribution == ATTRIBUTION
    tiles = _tiles(summary.path)
    assert len(tiles) == summary.tiles
    layers = {name for tile in tiles.values() for name in tile}
    assert layers == {"neighbourhoods", "neighbourhood_labels", "routes", "stops"}
    stop_names = {
        f["properties"]["name"] for tile in tiles.values() for f in tile.get("stops", {}).get(
            "features", [])
    }  # fmt: skip
    assert "Paragon Interchange" in stop_names
    areas = {f["properties"]["code"] for t in tiles.values()
             for f in t.get("neighbourhood_labels", {}).get("features", [])}  # fmt: skip
    assert areas == {"HUL-CC", "HUL-SB", "HUL-AR"}
    # The committed archive is this build (same tiles, same layers; well under 1 MB).
    assert set(_tiles(DEMO_ARCHIVE)) == set(tiles)
    assert DEMO_ARCHIVE.stat().st_size < 100_000


def test_an_unloaded_feed_builds_nothing(connection, tmp_path) -> None:
    with pytest.raises(ValueError, match="no stops or routes"):
        build_demo_basemap(connection, tmp_path / "x.pmtiles", "no-such-feed")
    assert not (tmp_path / "x.pmtiles").exists()
