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
import pyarrow.csv as pacsv

from .loader import COPY_ESCAPED, copy_escape, require_columns

# A quote with a non-delimiter on both sides, once "" escapes are taken out: not around a
# whole field, where pyarrow and the csv module might read it differently.
_INNER_QUOTE = re.compile(rb'"(?<=[^,\n]")(?=[^,\r\n])')  # the literal first: a fast scan
_EWKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"),
                        ("x", "<f8"), ("y", "<f8")])  # fmt: skip
_EWKB_HEX_WIDTH = 2 * _EWKB_POINT.itemsize


def plain_csv(data: bytes) -> bool:
    """Whether every line is one record the csv module and pyarrow read alike."""
    if b"\0" in data or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n")):
        return False
    return b'"' not in data or _INNER_QUOTE.search(data.replace(b'""', b"")) is None


def line_count(data: bytes) -> int:
    """Physical lines of the file (a last line without a newline counts)."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def read_columns(label: str, data: bytes, names: tuple[str, ...], required: tuple[str, ...],
                 strip: bool = True) -> dict[str, list[str]] | None:  # fmt: skip
    """The values of `names` ("" for a column the file lacks), stripped unless told not to,
    or None when the file is not one the csv module and pyarrow read alike."""
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
    empty = [""] * table.num_rows

    def column(name: str) -> list[str]:  # Python's strip: the row path's whitespace exactly
        values = table.column(wanted[name]).to_pylist()
        return list(map(str.strip, values)) if strip else values

    return {name: column(name) if name in wanted else empty for name in names}


def floats(values: list[str], low: float, high: float) -> np.ndarray | None:
    """Python's float() of each value, or None if one fails or lies outside [low, high]."""
    try:
        numbers = np.fromiter(map(float, values), float, len(values))
    except ValueError:
        return None
    if not ((numbers >= low) & (numbers <= high)).all():  # NaN fails too
        return None
    return numbers


def skip_reasons(status: list[str], inactive: np.ndarray, duplicate: np.ndarray) -> Counter:
    """The row path's skip counts for one file, keys in the order the rows give them."""
    reasons = np.full(len(status), None, dtype=object)
    reasons[duplicate] = "duplicate ATCO codes"
    reasons[inactive] = [f"status {s or 'empty'}" for s in np.asarray(status, object)[inactive]]
    return Counter(reason for reason in reasons.tolist() if reason is not None)


def kept_rows(columns: dict[str, list[str]], seen: set[str]
              ) -> tuple[np.ndarray, Counter] | None:  # fmt: skip
    """Positions of the stops to write, skips counted; None if a row is an error."""
    atco = pd.Series(columns["ATCOCode"], dtype=object)
    active = np.asarray(list(map(str.lower, columns["Status"])), object) == "active"
    if (active & (atco == "").to_numpy()).any():
        return None
    duplicate = np.zeros(len(atco), bool)
    earlier = np.fromiter(map(seen.__contains__, atco[active]), bool, int(active.sum()))
    duplicate[active] = earlier | atco[active].duplicated().to_numpy()
    kept = np.flatnonzero(active & ~duplicate)
    return kept, skip_reasons(columns["Status"], ~active, duplicate)


def point_hex(lons: np.ndarray, lats: np.ndarray) -> list[str]:
    """Hex EWKB of WGS84 points, the same text as naptan.point_ewkb gives one at a time."""
    points = np.empty(len(lons), _EWKB_POINT)
    points["order"], points["type"], points["srid"] = 1, 0x20000001, 4326
    points["x"], points["y"] = lons, lats
    text = points.tobytes().hex()
    return [text[i : i + _EWKB_HEX_WIDTH] for i in range(0, len(text), _EWKB_HEX_WIDTH)]


def escaped(values: list[str], data: bytes) -> list[str]:
    """COPY text escapes, if the file has a character that needs one."""
    if not any(c.encode() in data for c in COPY_ESCAPED if c not in "\r\n"):
        return values  # a plain file has no newline or return inside a field
    return [copy_escape(value) for value in values]
