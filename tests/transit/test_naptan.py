"""NaPTAN import: active stops only, modes, grid conversion, warnings, bad input."""

from __future__ import annotations

import csv
import io
import shutil
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from pyproj import Geod

from streetsafe.transit.loader import ImportDataError, StopChanges
from streetsafe.transit.naptan import import_naptan

STOPS = Path(__file__).parents[1] / "fixtures" / "naptan" / "229Stops.csv"
GEOD = Geod(ellps="WGS84")


def _stops(connection: sa.Connection) -> dict:
    rows = connection.execute(
        sa.text(
            "SELECT source_id, public_id, name, mode, location_type, locality, "
            "ST_X(geom) AS lon, ST_Y(geom) AS lat FROM stops"
        )
    )
    return {row.source_id: row for row in rows}


def test_only_active_stops_are_imported_and_skips_are_counted(connection: sa.Connection) -> None:
    result = import_naptan(connection, [STOPS])
    assert result.counts == {"stops": 10}
    assert result.skipped == {"status inactive": 1}
    stops = _stops(connection)
    assert "999TEST3" not in stops
    assert stops["999TEST2"].public_id == "naptan:999TEST2"
    assert stops["999TEST2"].locality == "Testport Fields"


@pytest.mark.parametrize(
    "atco, mode, location_type",
    [("999TEST0", "rail", 2), ("999TEST2", "bus", 0), ("999FERRY1", "ferry", 1),
     ("999TRAM1", "metro", 0)],
)  # fmt: skip
def test_mode_and_location_type_come_from_stop_type(
    connection: sa.Connection, atco: str, mode: str, location_type: int
) -> None:
    import_naptan(connection, [STOPS])
    stop = _stops(connection)[atco]
    assert (stop.mode, stop.location_type) == (mode, location_type)


def test_rows_without_lon_lat_are_converted_from_the_british_national_grid(
    connection: sa.Connection,
) -> None:
    import_naptan(connection, [STOPS])
    stops = _stops(connection)
    # NaPTAN's own published WGS84 positions for these two grid references.
    for atco, lon, lat in (("999TEST1", -0.345679266, 53.743781829),
                           ("999TEST5", -0.328889283, 53.771756886)):  # fmt: skip
        _, _, error_m = GEOD.inv(stops[atco].lon, stops[atco].lat, lon, lat)
        assert error_m < 5


def test_stop_far_from_its_locality_is_a_warning(connection: sa.Connection) -> None:
    result = import_naptan(connection, [STOPS])
    assert [w.public_id for w in result.warnings] == ["naptan:999TEST4"]
    assert "Testport Fields" in result.warnings[0].message


def test_reimport_replaces_the_feed_and_keeps_public_ids(
    connection: sa.Connection, tmp_path: Path
) -> None:
    import_naptan(connection, [STOPS], feed="np")
    smaller = tmp_path / "229Stops.csv"
    lines = STOPS.read_text().splitlines()
    smaller.write_text("\n".join(lines[:3]) + "\n")
    result = import_naptan(connection, [smaller], feed="np")
    assert result.counts == {"stops": 2}
    ids = set(connection.scalars(sa.text("SELECT public_id FROM stops")))
    assert ids == {"np:999TEST0", "np:999TEST1"}


def test_tgz_of_stops_files_imports_like_the_files(
    connection: sa.Connection, tmp_path: Path
) -> None:
    archive = tmp_path / "areas.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(STOPS, "areas/229Stops.csv")
        notes = tmp_path / "local_authorities.csv"
        notes.write_text("code,name\n229,Hull\n")
        tar.add(notes, "areas/local_authorities.csv")
    assert import_naptan(connection, [archive]).counts == {"stops": 10}


def _edit(path: Path, atco: str, column: str, value: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    at = rows[0].index(column)
    for row in rows:
        if row[0] == atco:
            row[at] = value
    with path.open("w", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)


def _drop(path: Path, column: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    at = rows[0].index(column)
    with path.open("w", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows([r[:at] + r[at + 1 :] for r in rows])


BAD_FILES = [
    ("missing column", lambda p: _drop(p, "Status"), 1, "Status"),
    ("unparseable latitude", lambda p: _edit(p, "999TEST2", "Latitude", "north"), 4, "Latitude"),
    ("longitude out of range", lambda p: _edit(p, "999TEST2", "Longitude", "181"), 4,
     "Longitude"),
    ("easting off the grid", lambda p: _edit(p, "999TEST1", "Easting", "9999999"), 3, "Easting"),
    ("no position at all", lambda p: _edit(p, "999TEST1", "Northing", ""), 3, "Northing"),
]  # fmt: skip


@pytest.mark.parametrize("case, spoil, line, column", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_file_is_rejected_naming_line_and_column_and_changes_nothing(
    connection: sa.Connection, tmp_path: Path, case, spoil, line, column
) -> None:
    import_naptan(connection, [STOPS])
    before = sorted(connection.scalars(sa.text("SELECT public_id FROM stops")))
    bad = tmp_path / "229Stops.csv"
    shutil.copy(STOPS, bad)
    spoil(bad)
    with pytest.raises(ImportDataError) as caught:
        import_naptan(connection, [bad])
    assert (caught.value.file, caught.value.line, caught.value.column) == (str(bad), line, column)
    assert sorted(connection.scalars(sa.text("SELECT public_id FROM stops"))) == before


def _tgz_bytes(tmp_path: Path) -> bytes:
    archive = tmp_path / "whole.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(STOPS, "areas/229Stops.csv")
    return archive.read_bytes()


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2"])
def test_tar_archive_plain_or_compressed_imports_like_the_files(
    connection: sa.Connection, tmp_path: Path, mode: str
) -> None:
    archive = tmp_path / ("areas.tar" if mode == "w" else "areas.tgz")
    with tarfile.open(archive, mode) as tar:
        tar.add(STOPS, "areas/229Stops.csv")
    assert import_naptan(connection, [archive]).counts == {"stops": 10}


UNREADABLE = {
    "missing": ("missing.csv", None),
    "not a tar": ("areas.tgz", b"not a tar"),
    "gzip header, then garbage": ("areas.tgz", b"\x1f\x8b\x08\x00" + b"garbage" * 100),
    "cut short": ("areas.tgz", "cut"),
    "one byte spoilt": ("areas.tgz", "spoilt"),
}


@pytest.mark.parametrize("name, content", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_missing_file_or_unreadable_archive_is_rejected(
    connection: sa.Connection, tmp_path: Path, name: str, content: bytes | None
) -> None:
    path = tmp_path / name
    whole = _tgz_bytes(tmp_path)
    spoilt = whole[:200] + bytes([whole[200] ^ 0xFF]) + whole[201:]
    content = {"cut": whole[: len(whole) // 2], "spoilt": spoilt}.get(content, content)
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImportDataError, match=name):
        import_naptan(connection, [path])
    assert connection.scalar(sa.text("SELECT count(*) FROM feeds WHERE name = 'naptan'")) == 0


@pytest.mark.realdata
def test_humberside_imports_every_active_stop_and_flags_oslo_road(
    connection: sa.Connection, shared_geodata: Path
) -> None:
    result = import_naptan(connection, [shared_geodata / "naptan" / "humberside"])
    assert result.counts == {"stops": 5364}
    assert result.skipped == {"status inactive": 566}
    assert "naptan:2290YHA01672" in {w.public_id for w in result.warnings}
    hull = connection.scalar(sa.text("SELECT count(*) FROM stops WHERE source_id LIKE '229%'"))
    assert hull == 1220


def test_file_with_only_the_required_and_grid_columns_imports_exact_positions(
    connection: sa.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "998Stops.csv"
    path.write_text(
        "Status,StopType,ATCOCode,CommonName,Easting,Northing,Longitude,Latitude\n"
        "active,BCT,998A,Alpha,507000,430000,,\n"
        "active,RLY,998B,,,,-0.1234567890123456,51.98765432109876\n"
        " active ,bct, 998C ,Gamma,,,  -1.5 , 52.25 ,extra,fields\n",
        encoding="utf-8",
    )
    result = import_naptan(connection, [path], feed="short")
    assert result.counts == {"stops": 3} and result.skipped == {}
    stops = _stops(connection)
    assert (stops["998B"].lon, stops["998B"].lat) == (-0.1234567890123456, 51.98765432109876)
    assert (stops["998B"].name, stops["998B"].mode, stops["998B"].location_type) == (
        "998B", "rail", 1)  # fmt: skip
    assert (stops["998C"].lon, stops["998C"].lat, stops["998C"].locality) == (-1.5, 52.25, None)
    assert stops["998C"].public_id == "short:998C" and stops["998C"].mode == "bus"
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(507000, 430000)
    assert (stops["998A"].lon, stops["998A"].lat) == pytest.approx((lon, lat), abs=1e-9)


def _stop_indexes(connection: sa.Connection) -> list[tuple[str, str]]:
    return connection.execute(
        sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'stops' ORDER BY 1")
    ).all()


@pytest.mark.parametrize("bulk", [False, True])
def test_a_bulk_load_leaves_the_same_indexes_and_rows_as_a_live_one(
    connection: sa.Connection, bulk: bool
) -> None:
    import_naptan(connection, [STOPS], feed="other")  # stops not empty: no rebuild by itself
    before = _stop_indexes(connection)
    import_naptan(connection, [STOPS], bulk=bulk)
    assert _stop_indexes(connection) == before
    assert len(before) >= 7  # primary key, public id, feed, geometry, place, name, code
    found = connection.scalar(
        sa.text(
            "SELECT count(*) FROM stops WHERE lower(name) LIKE 'station%' AND feed_id = "
            "(SELECT id FROM feeds WHERE name = 'naptan')"
        )  # fmt: skip
    )
    assert (
        found
        == connection.scalar(
            sa.text(
                "SELECT count(*) FROM stops WHERE feed_id = (SELECT id FROM feeds WHERE "
                "name = 'other') AND lower(name) LIKE 'station%'"
            )  # fmt: skip
        )
        > 0
    )


def test_a_first_load_into_empty_stops_rebuilds_indexes_and_a_failure_keeps_them(
    connection: sa.Connection, tmp_path: Path
) -> None:
    before = _stop_indexes(connection)
    bad = tmp_path / "Stops.csv"
    first = STOPS.read_text().splitlines()[1]
    broken = first.replace("999TEST0", "999BAD").replace(",509201,428793,-0.345667267,", ",,,-999,")
    bad.write_text(STOPS.read_text() + broken + "\n")
    with pytest.raises(ImportDataError):
        import_naptan(connection, [bad])
    assert _stop_indexes(connection) == before
    import_naptan(connection, [STOPS])
    assert _stop_indexes(connection) == before
    assert connection.scalar(sa.text("SELECT count(*) FROM stops")) == 10


def _ids(connection: sa.Connection) -> dict[str, int]:
    rows = connection.execute(sa.text("SELECT source_id, id FROM stops"))
    return {source_id: stop_id for source_id, stop_id in rows}


def test_a_reimport_writes_only_the_stops_that_changed(
    connection: sa.Connection, tmp_path: Path
) -> None:
    import_naptan(connection, [STOPS], feed="np")
    before, ids = _stops(connection), _ids(connection)
    moved = tmp_path / "229Stops.csv"
    lines = STOPS.read_text().splitlines()
    kept = [line for line in lines if not line.startswith("999TEST6,")]  # Brick Kiln Road goes
    kept = [line.replace("Mill Lane", "Mill Lane North") for line in kept]  # renamed
    kept.append(lines[-1].replace("999TRAM1", "999TRAM2").replace("Tram Stop", "Tram Stop 2"))
    moved.write_text("\n".join(kept) + "\n")

    result = import_naptan(connection, [moved], feed="np")

    assert result.changes == StopChanges(added=1, updated=1, removed=1, unchanged=8)
    assert "1 added, 1 changed, 1 removed, 8 unchanged" in result.summary()
    after, new_ids = _stops(connection), _ids(connection)
    assert set(after) == set(before) - {"999TEST6"} | {"999TRAM2"}
    assert after["999TEST5"].name == "Mill Lane North"
    unchanged = set(before) - {"999TEST6", "999TEST5"}
    assert {code: new_ids[code] for code in unchanged} == {code: ids[code] for code in unchanged}
    assert new_ids["999TEST5"] == ids["999TEST5"]  # changed in place, same row
    assert {code: after[code] for code in unchanged} == {code: before[code] for code in unchanged}


def test_a_reimport_of_the_same_file_writes_nothing_and_keeps_reports_linked(
    connection: sa.Connection,
) -> None:
    import_naptan(connection, [STOPS], feed="np")
    stop_id = connection.scalar(sa.text("SELECT id FROM stops WHERE source_id = '999TEST2'"))
    report = connection.scalar(sa.text(
        "INSERT INTO reports (id, context, categories, occurred_at, geom, stop_id, stop_public_id) "
        "VALUES (gen_random_uuid(), 'at_stop', '{badly_lit}', now(), "
        "ST_SetSRID(ST_MakePoint(-0.34, 53.74), 4326), :s, 'np:999TEST2') RETURNING id"
    ), {"s": stop_id})  # fmt: skip
    xmin = connection.scalar(sa.text("SELECT xmin::text FROM stops WHERE id = :s"), {"s": stop_id})

    result = import_naptan(connection, [STOPS], feed="np")

    assert result.changes == StopChanges(added=0, updated=0, removed=0, unchanged=10)
    same = connection.scalar(sa.text("SELECT xmin::text FROM stops WHERE id = :s"), {"s": stop_id})
    assert same == xmin  # the row was not written again
    linked = connection.scalar(sa.text("SELECT stop_id FROM reports WHERE id = :r"), {"r": report})
    assert linked == stop_id


def test_stops_new_in_a_reimport_get_ids_in_the_order_of_the_file(
    connection: sa.Connection, tmp_path: Path
) -> None:
    import_naptan(connection, [STOPS], feed="np")
    lines = STOPS.read_text().splitlines()
    first = lines[1]
    new = [first.replace("999TEST0", f"999NEW{name}") for name in ("Z", "A", "M", "B")]
    grown = tmp_path / "229Stops.csv"
    grown.write_text("\n".join([lines[0], new[0], *lines[1:4], new[1], new[2], *lines[4:],
                                new[3]]) + "\n")  # fmt: skip

    result = import_naptan(connection, [grown], feed="np")

    assert result.changes == StopChanges(added=4, updated=0, removed=0, unchanged=10)
    added = connection.scalars(sa.text(
        "SELECT source_id FROM stops WHERE source_id LIKE '999NEW%' ORDER BY id"))  # fmt: skip
    assert list(added) == ["999NEWZ", "999NEWA", "999NEWM", "999NEWB"]
