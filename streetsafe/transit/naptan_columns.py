"""The importers' fast path: a whole CSV file at a time, in columns (NaPTAN's Stops.csv
straight to COPY text, GTFS shapes.txt).

pyarrow's CSV reader reads only the columns the import uses, and the checks and conversions
run on whole columns. The path only accepts a file it reads exactly as the csv module would
(one record per line, quotes only around whole fields, no NUL) and whose rows all pass the
row-by-row path's checks; for any other file it returns None, and the caller reads that file
row by row, which gives the same rows or the exact file/line/column error.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .loader import COPY_ESCAPED, copy_escape, require_columns

# A quote with a non-delimiter on both sides, once "" escapes are taken out: not around a
# whole field, where pyarrow and the csv module might read it differently. Found in place:
# an odd run of quotes between two characters that are neither delimiters nor quotes (the
# same files as searching a copy without the "" pairs, 0.05 s faster for GB NaPTAN).
_INNER_QUOTE = re.compile(rb'"(?<=[^,\n"]")(?:"")*(?=[^,\r\n"])')  # the literal first: fast
# What Python's str.strip() strips (every character whose isspace() is true; a test checks),
# for Arrow's utf8_trim: stripped values are then the row path's exactly.
PYTHON_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003"
                     "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# A decimal number that Python's float() and Arrow's cast both read, to the same double
# (both round correctly); anything else ("1_0", "nan", other digits) is read by float().
_DECIMAL = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_EWKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"),
                        ("x", "<f8"), ("y", "<f8")])  # fmt: skip
_EWKB_HEX_WIDTH = 2 * _EWKB_POINT.itemsize


def plain_csv(data: bytes) -> bool:
    """Whether every line is one record the csv module and pyarrow read alike."""
    if b"\0" in data or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n")):
        return False
    return b'"' not in data or _INNER_QUOTE.search(data) is None


def line_count(data: bytes) -> int:
    """Physical lines of the file (a last line without a newline counts)."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def read_table(label: str, data: bytes, names: tuple[str, ...], required: tuple[str, ...],
               strip: bool = True) -> dict[str, pa.StringArray] | None:  # fmt: skip
    """The values of `names` as Arrow strings ("" for a column the file lacks), stripped as
    Python's str.strip strips unless told not to, or None when the file is not one the csv
    module and pyarrow read alike."""
    if not plain_csv(data):
        return None
    try:
        reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
        header = next(reader, [])
    except (csv.Error, UnicodeDecodeError):
        return None
    if reader.line_num != 1:
        return None
    positions = require_columns(header, required, label)  # the row path's own error
    wanted = {name: str(positions[name]) for name in names if name in positions}
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=[str(i) for i in range(len(header))],
                                           skip_rows=1, use_threads=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=sorted(set(wanted.values())),
                column_types={column: pa.string() for column in wanted.values()},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )  # fmt: skip
    except pa.ArrowInvalid:  # short or long rows, not UTF-8, an unclosed quote
        return None
    if table.num_rows + 1 != line_count(data):  # blank lines or fields spanning lines
        return None
    empty = pa.array([""] * table.num_rows, pa.string())

    def column(name: str) -> pa.StringArray:
        values = table.column(wanted[name]).combine_chunks()
        return pc.utf8_trim(values, characters=PYTHON_WHITESPACE) if strip else values

    return {name: column(name) if name in wanted else empty for name in names}


def read_columns(label: str, data: bytes, names: tuple[str, ...], required: tuple[str, ...],
                 strip: bool = True) -> dict[str, list[str]] | None:  # fmt: skip
    """read_table's columns as Python lists of str."""
    table = read_table(label, data, names, required, strip)
    return None if table is None else {name: values.to_pylist() for name, values in table.items()}


def floats(values: pa.StringArray, low: float, high: float) -> np.ndarray | None:
    """Python's float() of each value, or None if one fails or lies outside [low, high]."""
    if pc.all(pc.match_substring_regex(values, _DECIMAL)).as_py() is not False:  # or empty
        numbers = pc.cast(values, pa.float64()).to_numpy()
    else:
        try:
            numbers = np.fromiter(map(float, values.to_pylist()), float, len(values))
        except ValueError:
            return None
    if not ((numbers >= low) & (numbers <= high)).all():  # NaN fails too
        return None
    return numbers


def kept_rows(columns: dict[str, pa.StringArray], seen: set[str]
              ) -> tuple[np.ndarray, Counter, set[str]] | None:  # fmt: skip
    """Positions of the stops to write, skips counted (keys in the order the rows give
    them) and the distinct codes of the active rows; None if a row is an error."""
    atco, status = columns["ATCOCode"], columns["Status"]
    # ASCII lowering suffices: no other character's str.lower() is a letter of "active".
    active = pc.equal(pc.ascii_lower(status), "active").to_numpy(zero_copy_only=False)
    if pc.any(pc.equal(atco.filter(active), "")).as_py():
        return None
    codes = atco.filter(active).to_pylist()
    distinct = set(codes)
    if len(distinct) == len(codes) and seen.isdisjoint(distinct):  # no duplicate: the rule
        earlier = np.zeros(len(codes), bool)
    else:
        earlier = np.fromiter(map(seen.__contains__, codes), bool, len(codes))
        earlier |= pd.Series(codes, dtype=object).duplicated().to_numpy()
    duplicate = np.zeros(len(atco), bool)
    duplicate[active] = earlier
    skipped = np.flatnonzero(~active | duplicate)
    reasons = Counter(
        "duplicate ATCO codes" if is_active else f"status {value or 'empty'}"
        for value, is_active in zip(status.take(skipped).to_pylist(), active[skipped].tolist(),
                                    strict=True)
    )  # fmt: skip
    kept = np.flatnonzero(active & ~duplicate)
    return kept, reasons, distinct


def point_lines(lons: np.ndarray, lats: np.ndarray) -> pa.StringArray:
    """Hex EWKB of WGS84 points, each followed by a newline: the text naptan.point_ewkb
    gives one at a time, for the last field of a COPY line."""
    points = np.empty(len(lons), _EWKB_POINT)
    points["order"], points["type"], points["srid"] = 1, 0x20000001, 4326
    points["x"], points["y"] = lons, lats
    digits = np.frombuffer(points.tobytes().hex().encode(), np.uint8)
    lines = np.empty((len(lons), _EWKB_HEX_WIDTH + 1), np.uint8)
    lines[:, :-1] = digits.reshape(len(lons), _EWKB_HEX_WIDTH)
    lines[:, -1] = ord("\n")
    offsets = np.arange(0, lines.size + 1, _EWKB_HEX_WIDTH + 1, dtype=np.int32)
    return pa.StringArray.from_buffers(len(lons), pa.py_buffer(offsets), pa.py_buffer(lines))


def needs_escapes(data: bytes) -> bool:
    """Whether the file has a character that COPY text escapes (a plain file has no newline
    or return inside a field)."""
    return any(c.encode() in data for c in COPY_ESCAPED if c not in "\r\n")


def escaped(values: pa.StringArray, needed: bool) -> pa.StringArray:
    """COPY text escapes, if the file needs them (needs_escapes)."""
    if not needed:
        return values
    for c in COPY_ESCAPED:  # the backslash first, so that no escape is escaped again
        values = pc.replace_substring(values, c, copy_escape(c))
    return values


def joined_text(lines: pa.StringArray) -> bytes:
    """The values of `lines` one after another, as bytes (each ends in its own newline)."""
    if len(lines) == 0:
        return b""
    _, offsets, values = lines.buffers()
    bounds = np.frombuffer(offsets, np.int32)[lines.offset :: len(lines)]  # first, last
    return values[int(bounds[0]) : int(bounds[-1])].to_pybytes()
