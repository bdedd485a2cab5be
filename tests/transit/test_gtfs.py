"""GTFS import: stops, stations, routes, shapes, stop sequences, re-import, bad input."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from pyproj import Geod
from shapely import LineString, Point

from streetsafe.transit import gtfs, gtfs_sql
from streetsafe.transit.gtfs import import_gtfs, route_type_mode
from streetsafe.transit.loader import ImportDataError

FIXTURES = Path(__file__).parents[1] / "fixtures"
WITH_SHAPES = FIXTURES / "gtfs_shapes"
NO_SHAPES = FIXTURES / "gtfs_no_shapes"
GEOD = Geod(ellps="WGS84")


def _rows(connection: sa.Connection, sql: str, **params) -> list:
    return list(connection.execute(sa.text(sql), params))


def _sequence(connection: sa.Connection, route: str, direction: int) -> list:
    return _rows(
        connection,
        "SELECT s.source_id, rs.distance_m, rs.fraction, sh.length_m, sh.from_stops, "
        "sh.source_id AS shape "
        "FROM route_stops rs JOIN routes r ON r.id = rs.route_id "
        "JOIN stops s ON s.id = rs.stop_id JOIN route_shapes sh ON sh.id = rs.shape_id "
        "WHERE r.public_id = :route AND rs.direction = :direction ORDER BY rs.seq",
        route=route,
        direction=direction,
    )


@pytest.mark.parametrize(
    "route_type, mode",
    [(3, "bus"), (700, "bus"), (799, "bus"), (0, "tram"), (900, "tram"), (1, "metro"),
     (400, "metro"), (2, "rail"), (100, "rail"), (199, "rail"), (4, "ferry"), (1000, "ferry"),
     (1299, "ferry"), (7, "other"), (1400, "other"), (1700, "other")],
)  # fmt: skip
def test_route_type_maps_to_mode(route_type: int, mode: str) -> None:
    assert route_type_mode(route_type) == mode


def test_feed_with_shapes_imports_stops_stations_routes_and_shapes(
    connection: sa.Connection,
) -> None:
    result = import_gtfs(connection, WITH_SHAPES, "tiny")
    assert result.counts["stops"] == 8
    assert result.counts["stations"] == 1
    assert result.counts["routes"] == 9
    assert result.counts["shapes"] == 3
    assert result.counts["shapes built from stops"] == 1
    assert result.skipped == {"entrances, nodes and boarding areas": 1}
    modes = dict(_rows(connection, "SELECT source_id, mode FROM routes"))
    assert modes == {"BUS": "bus", "XBUS": "bus", "TRAM": "tram", "METRO": "metro",
                     "RAIL": "rail", "FERRY": "ferry", "COACH": "bus", "FUNI": "other",
                     "LOOP": "bus"}  # fmt: skip
    colour = _rows(connection, "SELECT color, agency FROM routes WHERE public_id = 'tiny:RAIL'")
    assert colour == [("00AA00", "Tiny Transit")]


def test_platforms_link_to_their_station_which_takes_their_mode(
    connection: sa.Connection,
) -> None:
    import_gtfs(connection, WITH_SHAPES, "tiny")
    rows = dict(
        (r.public_id, r)
        for r in _rows(
            connection, "SELECT public_id, location_type, parent_public_id, mode FROM stops"
        )  # fmt: skip
    )
    assert rows["tiny:P1"].parent_public_id == "tiny:STN"
    assert rows["tiny:STN"].location_type == 1
    assert rows["tiny:STN"].mode == "rail"
    assert "tiny:E1" not in rows


def test_stop_sequence_is_the_most_common_pattern_with_metres_along_the_shape(
    connection: sa.Connection,
) -> None:
    import_gtfs(connection, WITH_SHAPES, "tiny")
    outbound = _sequence(connection, "tiny:BUS", 0)
    assert [row.source_id for row in outbound] == ["S1", "S2", "S3"]
    assert {row.shape for row in outbound} == {"SH1"}
    for row, lon in zip(outbound, (-0.1, -0.095, -0.09), strict=True):
        expected_m = GEOD.line_length([-0.1, lon], [51.5, 51.5])
        assert row.distance_m == pytest.approx(expected_m, abs=1.0)
    inbound = _sequence(connection, "tiny:BUS", 1)
    assert [row.source_id for row in inbound] == ["S3", "S2", "S1"]
    assert inbound[-1].distance_m == pytest.approx(inbound[-1].length_m, abs=1.0)


def test_loop_places_its_first_stop_at_the_start_and_its_return_at_the_end(
    connection: sa.Connection,
) -> None:
    import_gtfs(connection, WITH_SHAPES, "tiny")
    loop = _sequence(connection, "tiny:LOOP", 0)
    distances = [row.distance_m for row in loop]
    assert [row.source_id for row in loop] == ["L1", "L2", "L3", "L1"]
    assert distances[0] == pytest.approx(0, abs=1.0)
    assert distances == sorted(distances)
    assert distances[-1] == pytest.approx(loop[0].length_m, abs=1.0)


def test_feed_without_shapes_builds_lines_from_the_stop_sequence(
    connection: sa.Connection,
) -> None:
    result = import_gtfs(connection, NO_SHAPES, "plain")
    assert result.counts["shapes"] == 0
    assert result.counts["shapes built from stops"] == 1
    rows = _sequence(connection, "plain:R", 0)
    assert [row.source_id for row in rows] == ["A", "B", "C"]
    assert all(row.from_stops for row in rows)
    leg_ab = GEOD.line_length([-1.0, -0.99], [53.0, 53.0])
    leg_bc = GEOD.line_length([-0.99, -0.99], [53.0, 53.01])
    assert rows[0].length_m == pytest.approx(leg_ab + leg_bc, rel=0.001)
    # fraction is the ST_LineSubstring fraction: planar, in degrees (shapely's); distance_m
    # is metres along the line: B is at the corner, half the degrees but 38% of the metres.
    line = LineString([(-1.0, 53.0), (-0.99, 53.0), (-0.99, 53.01)])
    fraction_b = line.project(Point(-0.99, 53.0), normalized=True)
    assert rows[1].fraction == pytest.approx(fraction_b, abs=1e-9)
    assert rows[1].distance_m == pytest.approx(leg_ab, abs=0.01)
    assert rows[2].distance_m == pytest.approx(rows[2].length_m)


def test_reimport_keeps_public_ids_and_relinks_reports(connection: sa.Connection) -> None:
    import_gtfs(connection, WITH_SHAPES, "tiny")
    connection.execute(
        sa.text(
            "INSERT INTO reports (id, context, categories, occurred_at, geom, stop_id, "
            "stop_public_id, stop_name, route_id, route_public_id) "
            "SELECT gen_random_uuid(), 'at_stop', ARRAY['harassment'], now(), s.geom, s.id, "
            "s.public_id, s.name, "
            "r.id, r.public_id FROM stops s, routes r "
            "WHERE s.public_id = 'tiny:S2' AND r.public_id = 'tiny:BUS'"
        )
    )
    old_ids = set(connection.scalars(sa.text("SELECT id FROM stops")))
    import_gtfs(connection, WITH_SHAPES, "tiny")
    assert not old_ids & set(connection.scalars(sa.text("SELECT id FROM stops")))
    linked = _rows(
        connection,
        "SELECT s.public_id, r.public_id AS route FROM reports p "
        "JOIN stops s ON s.id = p.stop_id JOIN routes r ON r.id = p.route_id",
    )
    assert linked == [("tiny:S2", "tiny:BUS")]
    assert connection.scalar(sa.text("SELECT count(*) FROM feeds WHERE name = 'tiny'")) == 1
    assert connection.scalar(sa.text("SELECT count(*) FROM stops")) == 9


def _replace_in(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new, 1))


def _drop_column(path: Path, column: str) -> None:
    lines = [line.split(",") for line in path.read_text().splitlines()]
    at = lines[0].index(column)
    path.write_text("\n".join(",".join(c for i, c in enumerate(row) if i != at)
                              for row in lines) + "\n")  # fmt: skip


BAD_FEEDS = [
    ("missing stops.txt", lambda d: (d / "stops.txt").unlink(), "stops.txt", None, None),
    ("missing trips.txt", lambda d: (d / "trips.txt").unlink(), "trips.txt", None, None),
    ("missing column", lambda d: _drop_column(d / "stops.txt", "stop_lat"), "stops.txt", 1,
     "stop_lat"),
    ("unparseable sequence", lambda d: _replace_in(d / "stop_times.txt", "S2,2", "S2,two"),
     "stop_times.txt", 3, "stop_sequence"),
    ("unparseable route type", lambda d: _replace_in(d / "routes.txt", ",3,", ",bus,"),
     "routes.txt", 2, "route_type"),
    ("latitude out of range", lambda d: _replace_in(d / "stops.txt", "51.5,-0.095", "95.5,-0.095"),
     "stops.txt", 3, "stop_lat"),
    ("longitude out of range", lambda d: _replace_in(d / "shapes.txt", "51.5,-0.09,4",
     "51.5,-190.09,4"), "shapes.txt", 5, "shape_pt_lon"),
    ("unknown stop", lambda d: _replace_in(d / "stop_times.txt", "S3,3", "S9,3"),
     "stop_times.txt", 4, "stop_id"),
]  # fmt: skip


@pytest.mark.parametrize(
    "case, spoil, file, line, column", BAD_FEEDS, ids=[c[0] for c in BAD_FEEDS]
)
def test_bad_feed_is_rejected_naming_file_line_and_column_and_changes_nothing(
    connection: sa.Connection, tmp_path: Path, case, spoil, file, line, column
) -> None:
    import_gtfs(connection, NO_SHAPES, "tiny")
    before = _rows(connection, "SELECT public_id FROM stops ORDER BY 1")
    folder = tmp_path / "feed"
    shutil.copytree(WITH_SHAPES, folder)
    spoil(folder)
    with pytest.raises(ImportDataError) as caught:
        import_gtfs(connection, folder, "tiny")
    error = caught.value
    assert error.file.endswith(file)
    assert (error.line, error.column) == (line, column)
    assert file in str(error)
    assert _rows(connection, "SELECT public_id FROM stops ORDER BY 1") == before


def test_unreadable_zip_is_rejected(connection: sa.Connection, tmp_path: Path) -> None:
    broken = tmp_path / "feed.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ImportDataError, match="not a readable zip"):
        import_gtfs(connection, broken, "tiny")
    assert connection.scalar(sa.text("SELECT count(*) FROM feeds WHERE name = 'tiny'")) == 0


def test_zip_feed_imports_like_the_folder(connection: sa.Connection, tmp_path: Path) -> None:
    archive = tmp_path / "tiny.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in WITH_SHAPES.iterdir():
            zipped.write(path, f"nested/{path.name}")
    result = import_gtfs(connection, archive)
    assert result.feed == "tiny"
    assert result.counts["routes"] == 9


def test_stop_far_from_its_route_is_listed_as_a_warning(
    connection: sa.Connection, tmp_path: Path
) -> None:
    folder = tmp_path / "feed"
    shutil.copytree(WITH_SHAPES, folder)
    _replace_in(folder / "stops.txt", "S2,Middle,51.5,", "S2,Middle,51.55,")
    result = import_gtfs(connection, folder, "tiny")
    assert [w.public_id for w in result.warnings] == ["tiny:S2", "tiny:S2"]
    assert "from route tiny:BUS" in str(result.warnings[0])
    # The importer names the route stops that may be far; the check of every route stop
    # finds the same ones.
    every = _rows(connection, "SELECT r.public_id, rs.direction, rs.seq FROM route_stops rs "
                  "JOIN routes r ON r.id = rs.route_id")  # fmt: skip
    feed_id = connection.scalar(sa.text("SELECT id FROM feeds WHERE name = 'tiny'"))
    checked = gtfs_sql.warnings(connection, feed_id, tuple(map(list, zip(*every, strict=True))))
    assert [str(w) for w in checked] == [str(w) for w in result.warnings]


@pytest.mark.realdata
def test_southampton_feed_imports_every_stop_route_and_shape(
    connection: sa.Connection, shared_geodata: Path
) -> None:
    feed = shared_geodata / "gtfs" / "southampton-bluestar-2025.zip"
    result = import_gtfs(connection, feed, "southampton")
    assert (result.counts["stops"], result.counts["routes"], result.counts["shapes"]) == (
        2643, 92, 269)  # fmt: skip
    # Independent check: the point at the stop's fraction of the shape is where the stop is.
    placed = connection.scalar(
        sa.text(
            "SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY ST_Distance(s.geom::geography, "
            "ST_LineInterpolatePoint(sh.geom, rs.fraction)::geography))"
            " FROM route_stops rs JOIN stops s ON s.id = rs.stop_id "
            "JOIN route_shapes sh ON sh.id = rs.shape_id"
        )
    )
    assert placed < 15
    backwards = connection.scalar(
        sa.text(
            "SELECT count(*) FROM (SELECT distance_m < lag(distance_m) OVER (PARTITION BY "
            "route_id, direction ORDER BY seq) AS back FROM route_stops) q WHERE back"
        )
    )
    assert backwards == 0


def test_shape_pieces_cover_each_shape_exactly_and_follow_a_reimport(
    connection: sa.Connection,
) -> None:
    import_gtfs(connection, WITH_SHAPES, "tiny")
    import_gtfs(connection, WITH_SHAPES, "tiny")  # replaces: old pieces go with old shapes
    import_gtfs(connection, NO_SHAPES, "plain")
    mismatched = _rows(
        connection,
        "SELECT sh.id FROM route_shapes sh LEFT JOIN LATERAL ("
        "  SELECT ST_LineMerge(ST_Collect(p.geom ORDER BY p.seq)) AS merged,"
        "         sum(ST_NPoints(p.geom) - 1) AS segments"
        "  FROM route_shape_pieces p WHERE p.shape_id = sh.id) q ON true "
        "WHERE q.merged IS NULL OR NOT ST_Equals(q.merged, sh.geom)"
        "   OR q.segments <> ST_NPoints(sh.geom) - 1",
    )
    assert mismatched == []
    assert _rows(connection, "SELECT count(*) FROM route_shape_pieces")[0][0] > 0
    # Each piece starts start_m geodesic metres along its shape, at start_fraction of it
    # (COPYed by the importer for shapes.txt lines, by the trigger for lines from stops).
    starts = _rows(
        connection,
        "SELECT sh.from_stops, p.start_m, p.start_fraction, "
        "ST_Length(ST_LineSubstring(sh.geom, 0, ST_LineLocatePoint(sh.geom, ST_StartPoint("
        "p.geom)))::geography) AS postgis_m, ST_LineLocatePoint(sh.geom, ST_StartPoint(p.geom)) "
        "AS postgis_fraction FROM route_shape_pieces p JOIN route_shapes sh ON sh.id = p.shape_id",
    )
    assert {row.from_stops for row in starts} == {True, False}
    for row in starts:
        assert row.start_m == pytest.approx(row.postgis_m, abs=1e-6)
        assert row.start_fraction == pytest.approx(row.postgis_fraction, abs=1e-9)


# Migration 0007's trigger statement, as a query over the stored shapes.
TRIGGER_PIECES = """
SELECT sh.id, piece.seq, ST_MakeLine(d.geom ORDER BY d.path[1]) AS geom
FROM route_shapes sh CROSS JOIN LATERAL ST_DumpPoints(sh.geom) AS d
CROSS JOIN LATERAL unnest(
    CASE WHEN d.path[1] > 1 AND (d.path[1] - 1) % 3 = 0
         THEN ARRAY[(d.path[1] - 1) / 3 - 1, (d.path[1] - 1) / 3]
         ELSE ARRAY[(d.path[1] - 1) / 3] END) AS piece(seq)
GROUP BY sh.id, piece.seq HAVING count(*) >= 2
"""


@pytest.mark.parametrize("feed", [WITH_SHAPES, NO_SHAPES], ids=["shapes.txt", "from stops"])
def test_importer_writes_the_same_pieces_as_the_trigger_byte_for_byte(
    connection: sa.Connection, feed: Path
) -> None:
    import_gtfs(connection, feed, "tiny")
    differing = _rows(
        connection,
        f"SELECT t.id, t.seq, p.shape_id, p.seq FROM ({TRIGGER_PIECES}) t "
        "FULL JOIN route_shape_pieces p ON p.shape_id = t.id AND p.seq = t.seq "
        "WHERE t.id IS NULL OR p.shape_id IS NULL OR t.geom::bytea <> p.geom::bytea",
    )
    assert differing == []
    setting = sa.text("SELECT current_setting('streetsafe.shape_pieces', true)")
    assert connection.scalar(setting) in (None, "")
    # Any other writer of route_shapes still gets its pieces from the trigger.
    connection.execute(
        sa.text(
            "INSERT INTO route_shapes (route_id, direction, length_m, geom) "
            "SELECT id, 0, 1, 'SRID=4326;LINESTRING(0 0, 0 1, 0 2, 0 3, 0 4)' FROM routes LIMIT 1"
        )
    )
    expected = _rows(connection, f"SELECT count(*) FROM ({TRIGGER_PIECES}) t")[0][0]
    assert connection.scalar(sa.text("SELECT count(*) FROM route_shape_pieces")) == expected


def _placed_by_sql(connection: sa.Connection, feed: str) -> list[tuple[float, float]]:
    """(the importer's distance_m, the SQL walk's) for every stop of a shapes.txt line."""
    feed_id = connection.scalar(sa.text("SELECT id FROM feeds WHERE name = :n"), {"n": feed})
    mine = (
        "SELECT route_id, direction, seq, distance_m, fraction FROM route_stops ORDER BY 1, 2, 3"
    )
    before = _rows(connection, mine)
    connection.execute(sa.text(
        "UPDATE route_stops rs SET distance_m = NULL FROM routes r "
        "WHERE r.id = rs.route_id AND r.feed_id = :f"), {"f": feed_id})  # fmt: skip
    connection.execute(sa.text(gtfs_sql.DISTANCES), {"feed_id": feed_id})
    after = _rows(connection, mine)
    assert [row[:3] for row in before] == [row[:3] for row in after]
    return [(b.distance_m, a.distance_m, b.fraction, a.fraction)
            for b, a in zip(before, after, strict=True)]  # fmt: skip


@pytest.mark.parametrize("feed", ["tiny", "southampton"])
def test_stops_are_placed_along_shapes_where_the_sql_walk_places_them(
    connection: sa.Connection, feed: str, shared_geodata: Path
) -> None:
    path = WITH_SHAPES if feed == "tiny" else (
        shared_geodata / "gtfs" / "southampton-bluestar-2025.zip")  # fmt: skip
    import_gtfs(connection, path, feed)
    pairs = _placed_by_sql(connection, feed)
    assert len(pairs) > (10 if feed == "tiny" else 5000)
    # Same walk, same senses; only the order of floating-point sums differs, and the metres
    # of shape segments (on the tangent plane here, by GeographicLib in PostGIS) by microns.
    assert max(abs(mine - sql) for _, _, mine, sql in pairs) < 1e-9
    assert max(abs(mine - sql) for mine, sql, _, _ in pairs) < 1e-3


# Which column of which file holds which kind of id (TfL quotes line breaks into stop ids).
ID_COLUMNS = {
    "stops.txt": ("stop_id", "parent_station"),
    "stop_times.txt": ("stop_id", "trip_id"),
    "trips.txt": ("route_id", "trip_id", "shape_id"),
    "routes.txt": ("route_id",),
    "shapes.txt": ("shape_id",),
}


def _feed_with_line_breaks_in_ids(folder: Path) -> None:
    """The fixture feed with every id in every file ending in a quoted line break."""
    shutil.copytree(WITH_SHAPES, folder)
    for name, columns in ID_COLUMNS.items():
        with open(folder / name, newline="", encoding="utf-8") as file:
            header, *rows = list(csv.reader(file))
        at = [header.index(column) for column in columns]
        for row in rows:
            for i in at:
                row[i] = f"{row[i]}\r\n" if row[i] else row[i]
        with open(folder / name, "w", newline="", encoding="utf-8") as file:
            csv.writer(file, lineterminator="\n").writerows([header, *rows])


def _imported(connection: sa.Connection) -> dict[str, list]:
    return {
        "stops": _rows(connection, "SELECT public_id, source_id, parent_public_id FROM stops "
                       "ORDER BY public_id"),  # fmt: skip
        "sequences": _rows(connection, "SELECT r.public_id, rs.direction, rs.seq, s.public_id, "
                           "sh.source_id, round(rs.distance_m::numeric, 3) FROM route_stops rs "
                           "JOIN routes r ON r.id = rs.route_id JOIN stops s ON s.id = rs.stop_id "
                           "LEFT JOIN route_shapes sh ON sh.id = rs.shape_id ORDER BY 1, 2, 3"),
        "shapes": _rows(connection, "SELECT source_id, ST_AsText(geom) FROM route_shapes "
                        "WHERE NOT from_stops ORDER BY 1"),  # fmt: skip
    }  # fmt: skip


def test_ids_ending_in_a_quoted_line_break_are_stripped_in_every_file(
    connection: sa.Connection, tmp_path: Path
) -> None:
    folder = tmp_path / "feed"
    _feed_with_line_breaks_in_ids(folder)
    assert b'"S1\r\n"' in (folder / "stop_times.txt").read_bytes()
    import_gtfs(connection, WITH_SHAPES, "tiny")
    clean = _imported(connection)
    result = import_gtfs(connection, folder, "tiny")
    assert result.counts["shapes"] == 3 and result.counts["route stops"] > 0
    assert _imported(connection) == clean
    assert ("tiny:P1", "P1", "tiny:STN") in clean["stops"]


# For each route stop on a shapes.txt line: our metres, PostGIS's metres along the shape to
# our point, PostGIS's to the stop's own projection on the whole shape (independent of our
# walk), and the old measure (planar fraction times the geodesic length).
METRES_ALONG = """
SELECT rs.distance_m AS ours,
       ST_Length(ST_LineSubstring(sh.geom, 0, rs.fraction)::geography) AS postgis,
       ST_Length(ST_LineSubstring(sh.geom, 0, ST_LineLocatePoint(sh.geom, s.geom))::geography)
           AS projected,
       abs(rs.fraction - ST_LineLocatePoint(sh.geom, s.geom)) < 1e-9 AS same_place,
       rs.fraction * sh.length_m AS planar
FROM route_stops rs JOIN stops s ON s.id = rs.stop_id JOIN route_shapes sh ON sh.id = rs.shape_id
WHERE NOT sh.from_stops
"""


@pytest.mark.realdata
def test_southampton_distances_are_geodesic_metres_along_the_shape_as_postgis_measures(
    connection: sa.Connection, shared_geodata: Path
) -> None:
    import_gtfs(connection, shared_geodata / "gtfs" / "southampton-bluestar-2025.zip", "sot")
    rows = _rows(connection, METRES_ALONG)
    assert len(rows) == 5851
    assert max(abs(row.ours - row.postgis) for row in rows) < 1.0
    # The importer's geodesic length of each shapes.txt line is PostGIS's.
    lengths = _rows(connection, "SELECT length_m, ST_Length(geom::geography) AS postgis "
                    "FROM route_shapes WHERE NOT from_stops")  # fmt: skip
    assert len(lengths) == 269
    assert max(abs(row.length_m - row.postgis) for row in lengths) < 1e-3
    # Where the walk kept the stop's projection on the whole shape (most stops: the others
    # are on a road the route passes twice), PostGIS measures the same metres from scratch.
    alike = [row for row in rows if row.same_place]
    assert len(alike) > 0.8 * len(rows)
    assert max(abs(row.ours - row.projected) for row in alike) < 1.0
    # The old measure was off by a median of about 130 m here.
    off = sorted(abs(row.ours - row.planar) for row in rows)
    assert off[len(off) // 2] > 50


def _read_feed(path: Path, name: str) -> gtfs.GtfsFeed:
    """Parse a whole feed without a database, in the order import_gtfs reads its files."""
    source = gtfs.GtfsSource(path)
    feed = gtfs.GtfsFeed()
    gtfs.read_stops(source, feed, name, True)
    gtfs.read_routes(source, feed, name)
    gtfs.read_trips(source, feed)
    gtfs.read_shapes(source, feed, True)
    gtfs.read_stop_times(source, feed, True)
    return feed


@pytest.mark.parametrize("feed", ["tiny", "southampton"])
def test_stop_times_read_in_columns_are_the_rows_read_one_by_one(
    feed: str, shared_geodata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = WITH_SHAPES if feed == "tiny" else (
        shared_geodata / "gtfs" / "southampton-bluestar-2025.zip")  # fmt: skip
    parsed = _read_feed(path, feed)
    source, columns = gtfs.GtfsSource(path), gtfs.GtfsFeed(trips=parsed.trips,
                                                           stop_ids=parsed.stop_ids)
    assert gtfs.stop_time_columns(source, columns)  # the file takes the column path
    monkeypatch.setattr(gtfs, "stop_time_columns", lambda source, feed: False)
    rows = _read_feed(path, feed)
    assert list(columns.stop_times.items()) == list(rows.stop_times.items())
    assert sum(map(len, rows.stop_times.values())) > (10 if feed == "tiny" else 200_000)


def test_stop_times_with_an_unknown_id_are_refused_naming_the_line(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    shutil.copytree(WITH_SHAPES, folder)
    with open(folder / "stop_times.txt", encoding="utf-8") as file:
        lines = file.read().splitlines()
    lines[3] = lines[3].replace(",S", ",NOWHERE", 1)
    (folder / "stop_times.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportDataError) as refused:
        _read_feed(folder, "tiny")
    assert refused.value.line == 4 and refused.value.column == "stop_id"


@pytest.mark.parametrize("feed", ["tiny", "southampton"])
def test_shapes_read_in_columns_are_the_points_read_one_by_one(
    feed: str, shared_geodata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = WITH_SHAPES if feed == "tiny" else (
        shared_geodata / "gtfs" / "southampton-bluestar-2025.zip")  # fmt: skip
    source, columns = gtfs.GtfsSource(path), gtfs.GtfsFeed()
    assert gtfs.shape_columns(source, columns)  # the file takes the column path
    monkeypatch.setattr(gtfs, "shape_columns", lambda source, feed: False)
    rows = gtfs.GtfsFeed()
    gtfs.read_shapes(source, rows, quiet=True)
    assert list(columns.shapes) == list(rows.shapes)
    for shape_id, points in rows.shapes.items():
        assert points.tobytes() == columns.shapes[shape_id].tobytes()
    assert sum(map(len, rows.shapes.values())) > (10 if feed == "tiny" else 190_000)
