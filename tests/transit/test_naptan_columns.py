"""NaPTAN's column path: the same COPY text, skips and errors as the row path, or the row path."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from streetsafe.transit.loader import ImportDataError, copy_line
from streetsafe.transit.naptan import (
    NaptanState,
    columns_text,
    file_rows,
    import_naptan,
    open_sources,
)
from streetsafe.transit.naptan_columns import PYTHON_WHITESPACE, plain_csv

STOPS = Path(__file__).parents[1] / "fixtures" / "naptan" / "229Stops.csv"
WHITESPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
PADDING = WHITESPACE.replace("\n", "").replace("\r", "")  # inside a line
HEADER = "ATCOCode,CommonName,StopType,Status,LocalityName,NptgLocalityCode,Longitude,Latitude,Easting,Northing"  # noqa: E501


def _both_paths(label: str, data: bytes, feed: str = "np"
                ) -> tuple[bytes | None, bytes, NaptanState, NaptanState]:  # fmt: skip
    """(column path text or None, row path text) and the states each left."""
    fast, slow = NaptanState(feed=feed), NaptanState(feed=feed)
    text = columns_text(label, data, fast, 7)
    rows = "".join(copy_line((7, *row)) for row in file_rows(label, io.BytesIO(data), slow))
    return text, rows.encode(), fast, slow


def _same_state(fast: NaptanState, slow: NaptanState) -> None:
    assert fast.seen == slow.seen
    assert fast.stops().to_pydict() == slow.stops().to_pydict()  # ids, localities, lon, lat
    assert list(fast.skipped.items()) == list(slow.skipped.items())  # order too


READ_ALIKE = {
    "the fixture": STOPS.read_bytes(),
    "CRLF and a BOM": b"\xef\xbb\xbf" + STOPS.read_bytes().replace(b"\n", b"\r\n"),
    "quoted fields, escaped quotes, commas, spaces": (
        f'{HEADER}\n"A1","""The"" Stop, North ",BCT," active ","Town","E1",-1.5,52.5,,\n'
        'A2,,rly,Active,,,,,450000,300000\n'
    ).encode(),
    "backslash, tab and non-ASCII names": (
        f"{HEADER}\nA1,Back\\slash\tTab,BCT,active,Llan\u0175rtyd,,-3.6,52.1,,\n"
    ).encode(),
    "inactive, pending, empty status and duplicates": (
        f"{HEADER}\nA1,One,BCT,inactive,,,-1,52,,\nA2,Two,BCT,,,,-1,52,,\n"
        "A1,One,BCT,active,,,-1,52,,\nA1,Again,BCT,active,,,-1.1,52.1,,\n"
        "A3,Three,BCT,pending,,,-1,52,,\n"
    ).encode(),
    "short rows and columns in another order": (
        b"Status,ATCOCode,StopType,CommonName,Easting,Northing\n"
        b"active,G1,BCT,Grid,507000,430000\nactive,G2,BCT\n"
    ),
    "every character str.strip strips, around every value": (
        f"{HEADER},NaptanCode\n" + ",".join(f"{PADDING}{v}{PADDING}" for v in (
            "A1", "Caf\u00e9 \u00a0Corner", "bct", "Active", "Llandud\u00adno", "E1", "-3.5",
            "53.25", "", "", "sw1")) + "\n"
    ).encode(),
    "COPY escapes in every text field": (
        f'{HEADER},NaptanCode\n"A\\1","Form\ffeed\vvertical\bback","BCT",active,'
        '"Tab\there","C\\D",-1,52,,,"x\ty"\nA2,,BCT,active,,,-1,52,,,\n'
    ).encode(),
    "missing names, localities and codes": (
        f"{HEADER},NaptanCode\nA1,,BCT,active,,,-1,52,,,\nA2,Two,BCT,active,Town,,-1,52,,,\n"
        "A3,Three,BCT,active,,E3,-1,52,,,77\n"
    ).encode(),
    "stop types in any case, unknown, empty or not ASCII": (
        f"{HEADER}\n" + "".join(f"A{i},S,{t},active,,,-1,52,,\n" for i, t in enumerate(
            ("rly", "Tmu", "fer", "XYZ", "", "bc\u017f", "Stra\u00dfe", "\u0131ma")))
    ).encode(),
    "numbers as Python and Arrow both read them, and as only Python does": (
        f"{HEADER}\nA1,N,BCT,active,,,+1.5,.5,,\nA2,N,BCT,active,,,-1.,5e1,,\n"
        "A3,N,BCT,active,,,-0.000000000000000000001,52.123456789012345678,,\n"
        "A4,N,BCT,active,,,-1,,1e5,2e5\nA5,N,BCT,active,,,,52,450000.25,300000.75\n"
        "A6,N,BCT,active,,,\u0661.5,52,,\nA7,N,BCT,active,,,-1,5_2,,\n"
    ).encode(),
}  # fmt: skip


@pytest.mark.parametrize("data", READ_ALIKE.values(), ids=READ_ALIKE.keys())
def test_column_path_writes_what_the_row_path_writes(data: bytes) -> None:
    try:
        text, rows, fast, slow = _both_paths("f.csv", data)
    except ImportDataError as row_error:  # a bad row: the column path must step aside
        assert columns_text("f.csv", data, NaptanState(feed="np"), 7) is None, row_error
        return
    assert text is not None and text == rows
    _same_state(fast, slow)


def test_column_path_escapes_the_feed_name_as_the_row_path_does() -> None:
    text, rows, fast, slow = _both_paths("f.csv", READ_ALIKE["the fixture"], feed="n\\p")
    assert text == rows and b"n\\\\p:" in text
    _same_state(fast, slow)


def test_codes_seen_in_an_earlier_file_are_skipped_as_the_row_path_skips_them() -> None:
    fast, slow = NaptanState(feed="np"), NaptanState(feed="np")
    files = (f"{HEADER}\nA1,One,BCT,active,,,-1,52,,\nA2,Two,BCT,active,,,-1,52,,\n",
             f"{HEADER}\nB1,Three,BCT,active,,,-1,52,,\n",
             f"{HEADER}\nA2,Again,BCT,active,,,-1,52,,\nB2,Four,BCT,active,,,-1,52,,\n")
    for data in (text.encode() for text in files):
        text = columns_text("f.csv", data, fast, 7)
        assert text == "".join(copy_line((7, *row)) for row in file_rows(
            "f.csv", io.BytesIO(data), slow)).encode()  # fmt: skip
    assert b"Again" not in text and b"Four" in text
    _same_state(fast, slow)
    assert dict(fast.skipped) == {"duplicate ATCO codes": 1}


def test_inner_quotes_are_found_as_in_a_copy_without_the_doubled_quotes() -> None:
    # The definition plain_csv had before it searched the file in place: every string of up
    # to six characters of quotes, delimiters and letters.
    import itertools
    import re

    inner = re.compile(rb'"(?<=[^,\n]")(?=[^,\r\n])')
    for size in range(7):
        for chars in itertools.product(b'",\n\ra', repeat=size):
            data = bytes(chars)
            assert plain_csv(data) == (b"\0" not in data and (
                b"\r" not in data or data.count(b"\r") == data.count(b"\r\n")) and (
                b'"' not in data or inner.search(data.replace(b'""', b"")) is None)), data


def test_arrow_strips_what_python_strips() -> None:
    assert PYTHON_WHITESPACE == WHITESPACE


ROW_PATH_ONLY = {
    "a quote inside a field": f'{HEADER}\nA1,Say "hi",BCT,active,,,-1,52,,\n',
    "a field over two lines": f'{HEADER}\nA1,"Two\nlines",BCT,active,,,-1,52,,\n',
    "a blank line": f"{HEADER}\nA1,One,BCT,active,,,-1,52,,\n\nA2,Two,BCT,active,,,-1,52,,\n",
    "a bare carriage return": f"{HEADER}\rA1,One,BCT,active,,,-1,52,,\r",
    "more fields than the header": f"{HEADER}\nA1,One,BCT,active,,,-1,52,,,extra\n",
    "a number Python reads and NumPy might not": f"{HEADER}\nA1,One,BCT,active,,,-1_0,52,,\n",
    "a bad latitude": f"{HEADER}\nA1,One,BCT,active,,,-1,north,,\n",
    "an active row without a code": f"{HEADER}\n,One,BCT,active,,,-1,52,,\n",
    "not UTF-8": HEADER + "\nA1,Caf\xe9,BCT,active,,,-1,52,,\n",
}  # fmt: skip


@pytest.mark.parametrize("text", ROW_PATH_ONLY.values(), ids=ROW_PATH_ONLY.keys())
def test_unusual_or_bad_file_goes_to_the_row_path_unchanged(text: str) -> None:
    data = text.encode("latin-1") if "\xe9" in text else text.encode()
    state = NaptanState(feed="np")
    if columns_text("f.csv", data, state, 7) is not None:  # read alike, then it must be equal
        _, rows, _, slow = _both_paths("f.csv", data)
        assert columns_text("f.csv", data, NaptanState(feed="np"), 7) == rows
        return
    assert (state.stops().num_rows, state.seen, dict(state.skipped)) == (0, set(), {})


def test_bad_row_in_the_middle_of_a_big_file_names_line_and_column_and_changes_nothing(
    connection: sa.Connection, tmp_path: Path
) -> None:
    import_naptan(connection, [STOPS], feed="big")
    before = sorted(connection.scalars(sa.text("SELECT public_id FROM stops")))
    rows = [f"B{i:06d},Stop {i},BCT,active,Place,E1,-1.{i:06d},52.5,," for i in range(50_000)]
    rows[31_337] = "B031337,Stop,BCT,active,Place,E1,-1.5,95.5,,"
    big = tmp_path / "998Stops.csv"
    big.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(ImportDataError) as caught:
        import_naptan(connection, [STOPS, big], feed="big")
    error = caught.value
    assert (error.file, error.line, error.column) == (str(big), 31_339, "Latitude")
    assert "outside the WGS84 range" in error.message
    assert sorted(connection.scalars(sa.text("SELECT public_id FROM stops"))) == before


@pytest.mark.realdata
@pytest.mark.parametrize("area", ["humberside", "gb-146-areas-stops.tgz"])
def test_real_files_take_the_column_path_and_match_the_row_path(
    shared_geodata: Path, area: str
) -> None:
    from contextlib import ExitStack

    fast, slow = NaptanState(feed="np"), NaptanState(feed="np")
    with ExitStack() as stack:
        for label, stream in open_sources([shared_geodata / "naptan" / area], stack):
            data = stream.read()
            text = columns_text(label, data, fast, 7)
            rows = file_rows(label, io.BytesIO(data), slow)
            assert text == "".join(copy_line((7, *row)) for row in rows).encode(), label
    _same_state(fast, slow)
    assert fast.stops().num_rows > 5000


def test_import_of_a_copy_with_a_spoilt_file_goes_row_by_row(
    connection: sa.Connection, tmp_path: Path
) -> None:
    odd = tmp_path / "229Stops.csv"
    shutil.copy(STOPS, odd)
    odd.write_bytes(odd.read_bytes().replace(b"Station Forecourt", b'Station "Forecourt"'))
    result = import_naptan(connection, [odd], feed="odd")
    name = connection.scalar(sa.text("SELECT name FROM stops WHERE public_id = 'odd:999TEST0'"))
    assert name == 'Station "Forecourt"' and result.counts == {"stops": 10}


@pytest.mark.parametrize("order", [("100", "200"), ("200", "100")], ids=["sorted", "unsorted"])
def test_archive_in_any_member_order_imports_its_files_in_name_order(
    connection: sa.Connection, tmp_path: Path, order: tuple[str, str]
) -> None:
    import tarfile

    archive = tmp_path / "areas.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for area in order:
            path = tmp_path / f"{area}Stops.csv"
            path.write_text(f"{HEADER}\n{area}A,One,BCT,active,,,-1,52,,\n"
                            f"{area}B,Two,BCT,active,,,-1,52,,\n")  # fmt: skip
            tar.add(path, f"areas/{area}Stops.csv")
    result = import_naptan(connection, [archive], feed="arch")
    by_id = list(connection.scalars(sa.text(
        "SELECT source_id FROM stops WHERE feed_id = (SELECT id FROM feeds WHERE name = 'arch') "
        "ORDER BY id")))  # fmt: skip
    assert by_id == ["100A", "100B", "200A", "200B"] and result.counts == {"stops": 4}
