"""Import a GTFS feed (zip or folder): stops, stations, routes, shapes and stop sequences.

Parsing and validation happen in Python (whole columns with pandas' C reader where a file
allows it, else row by row with the csv module, which names the line of a bad value); rows
stream into PostgreSQL with COPY. The importer measures shapes.txt lines and places their
patterns' stops along them (gtfs_distances); PostGIS builds lines from the stop sequences of
the other patterns and places their stops.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from . import gtfs_sql, segments
from .gtfs_distances import Line, walk
from .loader import (
    MAX_LAT,
    MAX_LON,
    MIN_LAT,
    MIN_LON,
    ImportDataError,
    ImportResult,
    check_feed_name,
    copy_rows,
    copy_text,
    parse_coordinate,
    progress,
    record_stats,
    replacing_feed,
    require_columns,
    temp_table,
)
from .naptan_columns import read_columns

# Route shapes are cut into pieces of this many segments (migration 0007).
SEGMENTS_PER_PIECE = 3

# (lowest, highest, mode) for basic and extended GTFS route types.
ROUTE_TYPE_MODES = (
    (3, 3, "bus"), (700, 799, "bus"), (11, 11, "bus"), (200, 299, "bus"),
    (0, 0, "tram"), (900, 999, "tram"), (5, 5, "tram"),
    (1, 1, "metro"), (400, 499, "metro"), (12, 12, "metro"),
    (2, 2, "rail"), (100, 199, "rail"),
    (4, 4, "ferry"), (1000, 1299, "ferry"),
)  # fmt: skip
STOP_KINDS = {"": 0, "0": 0, "1": 1}  # stops and stations; entrances and nodes are skipped


def route_type_mode(route_type: int) -> str:
    """The StreetSafe mode of a GTFS route_type, extended types included."""
    for low, high, mode in ROUTE_TYPE_MODES:
        if low <= route_type <= high:
            return mode
    return "other"


def feed_name_for(path: Path) -> str:
    """A default feed name from a file or folder name: lower case, safe characters only."""
    stem = path.name.removesuffix(".zip")
    return re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-")[:64] or "gtfs"


class GtfsSource:
    """The text files of a GTFS zip or folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        if not path.exists():
            raise ImportDataError(str(path), "no such file or folder")
        if path.is_file():
            try:
                self.zip = zipfile.ZipFile(path)
                self.names = {Path(n).name: n for n in self.zip.namelist()}
            except (zipfile.BadZipFile, OSError) as exc:
                raise ImportDataError(str(path), f"not a readable zip file ({exc})") from None
        else:
            self.names = {p.name: str(p) for p in path.iterdir()}

    def label(self, name: str) -> str:
        """How error messages name one file of the feed."""
        return f"{self.path}:{name}" if self.zip else str(self.path / name)

    def has(self, name: str) -> bool:
        """Whether the feed contains `name`."""
        return name in self.names

    def data(self, name: str) -> bytes:
        """The bytes of a file of the feed (which must exist)."""
        try:
            if self.zip:
                return self.zip.read(self.names[name])
            return Path(self.names[name]).read_bytes()
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise ImportDataError(self.label(name), f"cannot be read ({exc})") from None

    def rows(
        self, name: str, required: tuple[str, ...]
    ) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
        """Column positions and (line, row) pairs; checks the file and its required columns."""
        if not self.has(name):
            raise ImportDataError(self.label(name), "required file is missing from the feed")
        try:
            raw = self.zip.open(self.names[name]) if self.zip else open(self.names[name], "rb")
        except (zipfile.BadZipFile, OSError) as exc:
            raise ImportDataError(self.label(name), f"cannot be read ({exc})") from None
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        header = self._next(reader, name) or []
        positions = require_columns(header, required, self.label(name))
        return positions, self._iterate(reader, name)

    def _next(self, reader: csv.reader, name: str) -> list[str] | None:  # type: ignore[valid-type]
        try:
            return next(reader, None)
        except (csv.Error, UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
            message = f"cannot be read ({exc})"
            raise ImportDataError(self.label(name), message, reader.line_num) from None

    def _iterate(self, reader, name: str) -> Iterator[tuple[int, list[str]]]:
        try:
            for row in reader:
                if row:
                    yield reader.line_num, row
        except (csv.Error, UnicodeDecodeError, zipfile.BadZipFile, OSError) as exc:
            message = f"cannot be read ({exc})"
            raise ImportDataError(self.label(name), message, reader.line_num) from None


def _cell(row: list[str], positions: dict[str, int], column: str) -> str:
    """A value, stripped: ids are compared stripped in every file (real feeds quote line
    breaks into ids: 84 TfL stop ids end in one)."""
    index = positions.get(column)
    return row[index].strip() if index is not None and index < len(row) else ""


def _int(row: list[str], positions: dict[str, int], column: str, file: str, line: int) -> int:
    raw = _cell(row, positions, column)
    try:
        return int(float(raw)) if "." in raw else int(raw)
    except ValueError:
        raise ImportDataError(file, f"{raw!r} is not a whole number", line, column) from None


@dataclass
class GtfsFeed:
    """The parsed feed, validated, ready to be written."""

    stops: list[tuple] = field(default_factory=list)
    stop_ids: set[str] = field(default_factory=set)
    stop_points: dict[str, tuple[float, float]] = field(default_factory=dict)
    routes: dict[str, tuple] = field(default_factory=dict)
    trips: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    stop_times: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))
    # Each shape's (lon, lat) points, an (n, 2) array in the order of (shape_pt_sequence, lon,
    # lat), repeats kept.
    shapes: dict[str, np.ndarray] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)


def read_stops(source: GtfsSource, feed: GtfsFeed, name: str, quiet: bool) -> None:
    """Stops (location_type 0) and stations (1) with their parent links."""
    positions, rows = source.rows("stops.txt", ("stop_id", "stop_lat", "stop_lon"))
    label = source.label("stops.txt")
    for line, row in progress(rows, quiet, desc="stops.txt", unit=" rows"):
        stop_id = _cell(row, positions, "stop_id")
        kind = STOP_KINDS.get(_cell(row, positions, "location_type"))
        if kind is None:
            feed.skipped["entrances, nodes and boarding areas"] += 1
            continue
        if not stop_id:
            raise ImportDataError(label, "stop_id is empty", line, "stop_id")
        lat = parse_coordinate(_cell(row, positions, "stop_lat"), "stop_lat", MIN_LAT, MAX_LAT,
                               label, line)  # fmt: skip
        lon = parse_coordinate(_cell(row, positions, "stop_lon"), "stop_lon", MIN_LON, MAX_LON,
                               label, line)  # fmt: skip
        parent = _cell(row, positions, "parent_station")
        feed.stop_ids.add(stop_id)
        feed.stop_points[stop_id] = (lon, lat)
        feed.stops.append((
            f"{name}:{stop_id}", stop_id, _cell(row, positions, "stop_name") or stop_id, kind,
            f"{name}:{parent}" if parent else None, _cell(row, positions, "stop_code") or None,
            f"SRID=4326;POINT({lon!r} {lat!r})",
        ))  # fmt: skip


def read_agencies(source: GtfsSource) -> dict[str, str]:
    """Agency names by agency_id (agency.txt is optional here)."""
    if not source.has("agency.txt"):
        return {}
    positions, rows = source.rows("agency.txt", ("agency_name",))
    return {
        _cell(row, positions, "agency_id"): _cell(row, positions, "agency_name") for _, row in rows
    }


def read_routes(source: GtfsSource, feed: GtfsFeed, name: str) -> None:
    """Routes with their mode from route_type (extended types included)."""
    agencies = read_agencies(source)
    only_agency = next(iter(agencies.values())) if len(agencies) == 1 else None
    positions, rows = source.rows("routes.txt", ("route_id", "route_type"))
    label = source.label("routes.txt")
    for line, row in rows:
        route_id = _cell(row, positions, "route_id")
        if not route_id:
            raise ImportDataError(label, "route_id is empty", line, "route_id")
        route_type = _int(row, positions, "route_type", label, line)
        color = _cell(row, positions, "route_color").upper()
        feed.routes[route_id] = (
            f"{name}:{route_id}", route_id,
            _cell(row, positions, "route_short_name") or None,
            _cell(row, positions, "route_long_name") or None,
            route_type_mode(route_type), route_type,
            agencies.get(_cell(row, positions, "agency_id"), only_agency),
            color if re.fullmatch(r"[0-9A-F]{6}", color) else None,
        )  # fmt: skip


def read_trips(source: GtfsSource, feed: GtfsFeed) -> None:
    """Trips: their route, direction (missing means 0) and shape."""
    positions, rows = source.rows("trips.txt", ("route_id", "trip_id"))
    label = source.label("trips.txt")
    for line, row in rows:
        route_id = _cell(row, positions, "route_id")
        if route_id not in feed.routes:
            raise ImportDataError(label, f"route {route_id!r} is not in routes.txt", line,
                                  "route_id")  # fmt: skip
        direction = _int(row, positions, "direction_id", label, line) if _cell(
            row, positions, "direction_id") else 0  # fmt: skip
        if direction not in (0, 1):
            raise ImportDataError(label, "direction_id must be 0 or 1", line, "direction_id")
        trip_id = _cell(row, positions, "trip_id")
        feed.trips[trip_id] = (route_id, direction, _cell(row, positions, "shape_id"))


STOP_TIME_COLUMNS = ("trip_id", "stop_id", "stop_sequence")


def read_stop_times(source: GtfsSource, feed: GtfsFeed, quiet: bool) -> None:
    """Each trip's (stop_sequence, stop_id) pairs: in columns when every row is valid, else
    row by row, which names the file, line and column of the first bad one."""
    if source.has("stop_times.txt") and stop_time_columns(source, feed):
        return
    columns = STOP_TIME_COLUMNS
    positions, rows = source.rows("stop_times.txt", columns)
    label = source.label("stop_times.txt")
    trip_at, stop_at, seq_at = (positions[c] for c in columns)
    for line, row in progress(rows, quiet, desc="stop_times.txt", unit=" rows"):
        try:
            trip_id, stop_id, seq = row[trip_at], row[stop_at], int(row[seq_at])
        except (IndexError, ValueError):
            raise ImportDataError(label, "stop_sequence is not a whole number (or the row is "
                                  "short)", line, "stop_sequence") from None  # fmt: skip
        if trip_id not in feed.trips:  # ids are stripped in every file (see _cell); only
            trip_id = trip_id.strip()  # the few that miss pay for it
            if trip_id not in feed.trips:
                raise ImportDataError(label, f"trip {trip_id!r} is not in trips.txt", line,
                                      "trip_id")  # fmt: skip
        if stop_id not in feed.stop_ids:
            stop_id = stop_id.strip()
            if stop_id not in feed.stop_ids:
                raise ImportDataError(label, f"stop {stop_id!r} is not a stop in stops.txt",
                                      line, "stop_id")  # fmt: skip
        feed.stop_times[trip_id].append((seq, stop_id))


def known_ids(raw: np.ndarray, known: dict[str, object] | set[str]) -> list[str] | None:
    """Each distinct raw id as the row path reads it (stripped only if it is not known as it
    is), or None if one is unknown either way."""
    values = raw.tolist()
    if not all(isinstance(value, str) for value in values):  # a short row's missing field
        return None
    ids = [value if value in known else value.strip() for value in values]
    return ids if all(value in known for value in ids) else None


def stop_time_columns(source: GtfsSource, feed: GtfsFeed) -> bool:
    """Read stop_times.txt in columns (the row loop's own int() and lookups, on each distinct
    id once) if every row is valid; False, with nothing read, sends it row by row."""
    label = source.label("stop_times.txt")
    columns = read_columns(label, source.data("stop_times.txt"), STOP_TIME_COLUMNS,
                           STOP_TIME_COLUMNS, strip=False)  # fmt: skip
    if columns is None:
        return False
    try:
        seqs = np.fromiter(map(int, columns["stop_sequence"]), np.int64)
    except (ValueError, OverflowError):
        return False
    trip_codes, trip_raw = pd.factorize(np.asarray(columns["trip_id"], dtype=object))
    stop_codes, stop_raw = pd.factorize(np.asarray(columns["stop_id"], dtype=object))
    trip_ids, stop_ids = known_ids(trip_raw, feed.trips), known_ids(stop_raw, feed.stop_ids)
    if trip_ids is None or stop_ids is None:
        return False
    trips, trip_names = pd.factorize(np.asarray(trip_ids, dtype=object)[trip_codes])
    order = np.argsort(trips, kind="stable")  # each trip's calls in the file's order
    calls = list(zip(seqs[order].tolist(), np.asarray(stop_ids, dtype=object)[stop_codes][
        order].tolist(), strict=True))  # fmt: skip
    start = 0
    for trip_id, end in zip(trip_names.tolist(), np.cumsum(np.bincount(trips)).tolist(),
                            strict=True):  # fmt: skip
        feed.stop_times[trip_id].extend(calls[start:end])
        start = end
    return True


SHAPE_COLUMNS = ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence")


def read_shapes(source: GtfsSource, feed: GtfsFeed, quiet: bool) -> None:
    """Shape points by shape_id (shapes.txt is optional): in columns when every point is
    usual, else row by row, which names the file, line and column of a bad value."""
    if not source.has("shapes.txt") or shape_columns(source, feed):
        return
    positions, rows = source.rows("shapes.txt", SHAPE_COLUMNS)
    label = source.label("shapes.txt")
    shape_at, lat_at, lon_at, seq_at = (positions[c] for c in SHAPE_COLUMNS)
    width = max(shape_at, lat_at, lon_at, seq_at) + 1
    shapes: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for line, row in progress(rows, quiet, desc="shapes.txt", unit=" points"):
        try:  # the common case; anything else takes the exact checks and their messages
            seq, lat, lon = int(row[seq_at]), float(row[lat_at]), float(row[lon_at])
            usual = len(row) >= width and -90 <= lat <= 90 and -180 <= lon <= 180
        except (ValueError, IndexError):
            usual = False
        if not usual:
            seq, lon, lat = _shape_point(row, positions, label, line)
        shapes[row[shape_at].strip()].append((seq, lon, lat))
    for shape_id, points in shapes.items():
        ordered = [(lon, lat) for _, lon, lat in sorted(points)]
        feed.shapes[shape_id] = np.array(ordered, dtype=float).reshape(-1, 2)


def shape_columns(source: GtfsSource, feed: GtfsFeed) -> bool:
    """Read shapes.txt in columns (the row loop's own int() and float(); ids stripped once
    each, as in every file) if every point is usual; False, with nothing read, sends it row
    by row."""
    label = source.label("shapes.txt")
    columns = read_columns(label, source.data("shapes.txt"), SHAPE_COLUMNS, SHAPE_COLUMNS,
                           strip=False)  # fmt: skip
    if columns is None:
        return False
    try:
        seqs = np.fromiter(map(int, columns["shape_pt_sequence"]), np.int64)
        lats = np.fromiter(map(float, columns["shape_pt_lat"]), float)
        lons = np.fromiter(map(float, columns["shape_pt_lon"]), float)
    except (ValueError, OverflowError):
        return False
    if not (((lats >= -90) & (lats <= 90)).all() and ((lons >= -180) & (lons <= 180)).all()):
        return False
    raw_codes, raw_ids = pd.factorize(np.asarray(columns["shape_id"], dtype=object))
    stripped = np.asarray([shape_id.strip() for shape_id in raw_ids.tolist()], dtype=object)
    codes, ids = pd.factorize(stripped[raw_codes])  # ids equal once stripped merge
    order = np.lexsort((lats, lons, seqs, codes))  # stable: the row path's sorted() per shape
    points = np.column_stack([lons[order], lats[order]])
    ends = np.cumsum(np.bincount(codes)).tolist()
    for shape_id, start, end in zip(ids.tolist(), [0, *ends[:-1]], ends, strict=True):
        feed.shapes[shape_id] = points[start:end]
    return True


def _shape_point(
    row: list[str], positions: dict[str, int], label: str, line: int
) -> tuple[int, float, float]:
    """A shape point's sequence, longitude and latitude, or the ImportDataError naming it."""
    seq = _int(row, positions, "shape_pt_sequence", label, line)
    lat = parse_coordinate(_cell(row, positions, "shape_pt_lat"), "shape_pt_lat", MIN_LAT,
                           MAX_LAT, label, line)  # fmt: skip
    lon = parse_coordinate(_cell(row, positions, "shape_pt_lon"), "shape_pt_lon", MIN_LON,
                           MAX_LON, label, line)  # fmt: skip
    return seq, lon, lat


@dataclass(frozen=True)
class Pattern:
    """A route direction's most common stop sequence, the shape its trips use, and one of
    those trips (the first by id), to name in warnings."""

    route_id: str
    direction: int
    stop_ids: tuple[str, ...]
    shape_id: str | None
    trip_id: str = ""


def common_patterns(feed: GtfsFeed) -> list[Pattern]:
    """Per route and direction, the most frequent trip stop sequence (ties: longest, then id)."""
    counts: dict[tuple[str, int], Counter] = defaultdict(Counter)
    shapes: dict[tuple[str, int, tuple[str, ...]], Counter] = defaultdict(Counter)
    first_trip: dict[tuple[str, int, tuple[str, ...]], str] = {}
    for trip_id, calls in feed.stop_times.items():
        route_id, direction, shape_id = feed.trips[trip_id]
        stop_ids = tuple(stop_id for _, stop_id in sorted(calls))
        counts[route_id, direction][stop_ids] += 1
        shapes[route_id, direction, stop_ids][shape_id if shape_id in feed.shapes else None] += 1
        key = (route_id, direction, stop_ids)
        first_trip[key] = min(first_trip.get(key, trip_id), trip_id)
    patterns = []
    for (route_id, direction), counter in sorted(counts.items()):
        stop_ids = max(counter, key=lambda p: (counter[p], len(p), p))
        shape_counts = shapes[route_id, direction, stop_ids]
        shape_id = max(shape_counts, key=lambda s: (shape_counts[s], s is not None, s or ""))
        trip_id = first_trip[route_id, direction, stop_ids]
        patterns.append(Pattern(route_id, direction, stop_ids, shape_id, trip_id))
    return patterns


def shape_owners(feed: GtfsFeed) -> dict[str, tuple[str, int]]:
    """Each shape's route and direction: those of most of the trips that use it."""
    users: dict[str, Counter] = defaultdict(Counter)
    for route_id, direction, shape_id in feed.trips.values():
        if shape_id:
            users[shape_id][route_id, direction] += 1
    return {shape: counter.most_common(1)[0][0] for shape, counter in users.items()}


@dataclass(frozen=True)
class ShapeLine:
    """A usable shapes.txt line: its route and direction, and its points without repeats."""

    route_public_id: str
    direction: int
    source_id: str
    coords: np.ndarray  # (n, 2) (lon, lat)


def shape_lines(feed: GtfsFeed, name: str, result: ImportResult) -> list[ShapeLine]:
    """Every shape some trip uses with at least two distinct consecutive points."""
    owners = shape_owners(feed)
    lines = []
    for shape_id, points in feed.shapes.items():
        owner = owners.get(shape_id)
        if owner is None:
            result.skipped["shapes no trip uses"] += 1
            continue
        coords = points[np.r_[True, (points[1:] != points[:-1]).any(axis=1)]]
        if len(coords) < 2:
            result.skipped["shapes with fewer than two points"] += 1
            continue
        lines.append(ShapeLine(f"{name}:{owner[0]}", owner[1], shape_id, coords))
    return lines


def measure_lines(lines: list[ShapeLine]) -> dict[str, Line]:
    """Each line's measures (planar and geodesic), by shape source id: where its pieces
    start, and where its stops lie along it."""
    return {line.source_id: Line.of(line.coords) for line in lines}


def line_ewkb(x: np.ndarray, y: np.ndarray) -> bytes:
    """EWKB of a WGS84 LineString (exact doubles, cheaper than EWKT at both ends)."""
    header = struct.pack("<BIII", 1, 0x20000002, 4326, len(x))
    return header + np.column_stack([x, y]).astype("<f8").tobytes()


# COPY's binary format (the signature, flags and header extension; the trailer), and a row of
# route_shape_pieces holding a whole piece: five fields, each its length then its value,
# big-endian; the geometry is the piece's EWKB (little-endian, as line_ewkb writes it).
COPY_BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\0" + bytes(8)
COPY_BINARY_TRAILER = b"\xff\xff"
_PIECE_EWKB = [("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("n", "<u4"),
               ("xy", "<f8", 2 * (SEGMENTS_PER_PIECE + 1))]  # fmt: skip
_PIECE_ROW = np.dtype([
    ("fields", ">i2"), ("shape_id_size", ">i4"), ("shape_id", ">i8"), ("seq_size", ">i4"),
    ("seq", ">i4"), ("geom_size", ">i4"), ("geom", _PIECE_EWKB), ("start_m_size", ">i4"),
    ("start_m", ">f8"), ("start_fraction_size", ">i4"), ("start_fraction", ">f8"),
])  # fmt: skip


def piece_row(shape_id: int, seq: int, ewkb: bytes, start_m: float, start: float) -> bytes:
    """One row of route_shape_pieces in COPY's binary format."""
    return struct.pack(f">hiqiii{len(ewkb)}sidid", 5, 8, shape_id, 4, seq, len(ewkb), ewkb, 8,
                       start_m, 8, start)  # fmt: skip


def shape_pieces(shape_id: int, measure: Line) -> bytes:
    """The pieces of one shape as rows of route_shape_pieces in COPY's binary format
    (exactly as the trigger of migrations 0007 and 0013 cuts them: piece k holds vertices 3k
    to 3k + 3, 0-based, so neighbours share a vertex), whole pieces in one array: each starts
    start_m geodesic metres along the shape, at start_fraction of its planar length."""
    step, vertices = SEGMENTS_PER_PIECE, len(measure.x)
    count = (vertices - 2) // step + 1
    whole = (vertices - step - 1) // step + 1 if vertices > step else 0
    total = measure.cum[-1]
    starts_m = measure.cum_m[: count * step : step]
    starts = measure.cum[: count * step : step] / total if total > 0 else np.zeros(count)
    rows = np.zeros(whole, _PIECE_ROW)
    rows["fields"], rows["shape_id_size"], rows["seq_size"] = 5, 8, 4
    rows["geom_size"], rows["start_m_size"], rows["start_fraction_size"] = (
        _PIECE_ROW["geom"].itemsize, 8, 8)  # fmt: skip
    geom = rows["geom"]
    geom["order"], geom["type"], geom["srid"], geom["n"] = 1, 0x20000002, 4326, step + 1
    at = step * np.arange(whole)[:, None] + np.arange(step + 1)
    geom["xy"] = np.stack([measure.x[at], measure.y[at]], axis=2).reshape(whole, 2 * step + 2)
    rows["shape_id"], rows["seq"] = shape_id, np.arange(whole)
    rows["start_m"], rows["start_fraction"] = starts_m[:whole], starts[:whole]
    if count == whole:
        return rows.tobytes()
    tail = slice(step * whole, None)  # the last piece has two or three vertices
    ewkb = line_ewkb(measure.x[tail], measure.y[tail])
    return rows.tobytes() + piece_row(shape_id, whole, ewkb, float(starts_m[whole]),
                                      float(starts[whole]))  # fmt: skip


def pieces_binary(
    shape_ids: list[int], lines: list[ShapeLine], measured: dict[str, Line]
) -> Iterator[bytes]:
    """Every shape's pieces as one COPY in binary format, a shape at a time."""
    yield COPY_BINARY_SIGNATURE
    for shape_id, line in zip(shape_ids, lines, strict=True):
        yield shape_pieces(shape_id, measured[line.source_id])
    yield COPY_BINARY_TRAILER


# Each stop of a pattern placed along its shapes.txt line: planar fractions, geodesic metres
# along the line, and geodesic metres from the stop to its place on the line.
Places = tuple[list[float], list[float], list[float]]


def pattern_places(
    patterns: list[Pattern], measured: dict[str, Line], feed: GtfsFeed
) -> list[Places | None]:
    """Each pattern's stops as fractions of, and metres along, its shapes.txt line, and how far
    each stop is from there (None: no such line, the server places them on a line built
    from the stops)."""
    places: list[Places | None] = []
    for pattern in patterns:
        line = measured.get(pattern.shape_id) if pattern.shape_id is not None else None
        if line is None:
            places.append(None)
            continue
        points = [feed.stop_points[stop_id] for stop_id in pattern.stop_ids]
        fractions = walk(line, points)
        places.append((fractions, *line.metres_at(fractions, np.asarray(points, dtype=float))))
    return places


def pattern_rows(
    patterns: list[Pattern], places: list[Places | None], name: str
) -> Iterator[tuple]:
    """(route public id, direction, seq, stop public id, shape id, fraction along the shape,
    metres along it) for each pattern's stops."""
    for pattern, place in zip(patterns, places, strict=True):
        fractions, metres, _ = place or (None, None, None)
        for seq, stop_id in enumerate(pattern.stop_ids, start=1):
            yield (f"{name}:{pattern.route_id}", pattern.direction, seq, f"{name}:{stop_id}",
                   pattern.shape_id, fractions[seq - 1] if fractions else None,
                   metres[seq - 1] if metres else None)  # fmt: skip


def far_candidates(
    patterns: list[Pattern], places: list[Places | None], name: str
) -> tuple[list[str], list[int], list[int]]:
    """(route public ids, directions, seqs) of the route stops that may lie further than
    FAR_FROM_ROUTE_M from their shapes.txt line: those not clearly nearer to their place
    on it (the SQL check's own bound; by a centimetre's margin, it decides the rest)."""
    limit_m = gtfs_sql.FAR_FROM_ROUTE_M - 0.01
    found: tuple[list[str], list[int], list[int]] = ([], [], [])
    for pattern, place in zip(patterns, places, strict=True):
        for seq, off_m in enumerate(place[2] if place else [], start=1):
            if off_m > limit_m:
                found[0].append(f"{name}:{pattern.route_id}")
                found[1].append(pattern.direction)
                found[2].append(seq)
    return found


def write_shapes(
    connection: sa.Connection, lines: list[ShapeLine], measured: dict[str, Line]
) -> list[int]:
    """Stage the shapes under ids taken from route_shapes' sequence and insert them (the
    insert trigger skips their pieces: the importer COPYs them, see migration 0008); their
    ids, in the order of `lines`."""
    shape_ids = list(connection.scalars(sa.text(gtfs_sql.NEXT_SHAPE_IDS), {"n": len(lines)}))
    temp_table(connection, "tmp_gtfs_shapes", gtfs_sql.SHAPES_STAGING)
    measures = (measured[line.source_id] for line in lines)
    rows = ((shape_id, line.route_public_id, line.direction, line.source_id, measure.length_m,
             line_ewkb(measure.x, measure.y).hex())
            for shape_id, line, measure in zip(shape_ids, lines, measures, strict=True))
    copy_rows(connection, "tmp_gtfs_shapes", ("id", "route_public_id", "direction", "source_id",
              "length_m", "geom"), rows)  # fmt: skip
    connection.execute(sa.text(gtfs_sql.SKIP_PIECES_TRIGGER), {"value": "written"})
    connection.execute(sa.text(gtfs_sql.INSERT_SHAPES))
    connection.execute(sa.text(gtfs_sql.SKIP_PIECES_TRIGGER), {"value": ""})
    return shape_ids


def write_geometry(
    connection: sa.Connection,
    feed: GtfsFeed,
    feed_id: int,
    lines: list[ShapeLine],
    measured: dict[str, Line],
) -> None:
    """COPY stops, routes, shapes and their pieces (everything but the stop sequences)."""
    copy_rows(connection, "stops", ("feed_id", "public_id", "source_id", "name", "location_type",
              "parent_public_id", "code", "geom"),
              ((feed_id, *row) for row in feed.stops))  # fmt: skip
    copy_rows(connection, "routes", ("feed_id", "public_id", "source_id", "short_name",
              "long_name", "mode", "route_type", "agency", "color"),
              ((feed_id, *row) for row in feed.routes.values()))  # fmt: skip
    shape_ids = write_shapes(connection, lines, measured)
    copy_text(connection, "route_shape_pieces", ("shape_id", "seq", "geom", "start_m",
              "start_fraction"), pieces_binary(shape_ids, lines, measured), queued=False,
              binary=True)  # fmt: skip


def write_sequences(
    connection: sa.Connection,
    patterns: list[Pattern],
    places: list[Places | None],
    feed_id: int,
    name: str,
) -> None:
    """COPY the common patterns with their stops' places along the shapes; PostGIS builds
    lines for patterns without one, places their stops, and sets stop modes."""
    temp_table(connection, "tmp_gtfs_patterns", gtfs_sql.PATTERNS_STAGING)
    copy_rows(connection, "tmp_gtfs_patterns", ("route_public_id", "direction", "seq",
              "stop_public_id", "shape_source_id", "fraction", "distance_m"),
              pattern_rows(patterns, places, name))  # fmt: skip
    for statement in gtfs_sql.BUILD:
        connection.execute(sa.text(statement), {"feed_id": feed_id})


def import_gtfs(
    connection: sa.Connection, path: Path | str, feed: str | None = None, quiet: bool = True
) -> ImportResult:
    """Import (or atomically replace) a GTFS feed; raises ImportDataError, changing nothing.

    stop_times.txt, the largest file, is parsed and the stops placed along the shapes while
    a worker thread COPYs stops, routes and shapes on the connection (the main thread does
    not touch it meanwhile); any error rolls the feed's savepoint back after the worker has
    finished.
    """
    path = Path(path)
    name = check_feed_name(feed or feed_name_for(path))
    source = GtfsSource(path)
    parsed = GtfsFeed()
    read_stops(source, parsed, name, quiet)
    read_routes(source, parsed, name)
    read_trips(source, parsed)
    read_shapes(source, parsed, quiet)
    result = ImportResult(feed=name)
    lines = shape_lines(parsed, name, result)
    measured = measure_lines(lines)
    with replacing_feed(connection, name, "gtfs", str(path)) as feed_id:
        with ThreadPoolExecutor(max_workers=1) as worker:
            written = worker.submit(write_geometry, connection, parsed, feed_id, lines, measured)
            read_stop_times(source, parsed, quiet)
            patterns = common_patterns(parsed)
            places = pattern_places(patterns, measured, parsed)
            written.result()
        write_sequences(connection, patterns, places, feed_id, name)
        result.skipped = Counter(parsed.skipped) + Counter(result.skipped)
        result.counts = gtfs_sql.counts(connection, feed_id)
        trips = {(p.route_id, p.direction): p.trip_id for p in patterns}
        result.warnings = gtfs_sql.warnings(connection, feed_id, far_candidates(
            patterns, places, name)) + segments.suspect_segments(connection, feed_id, trips)
        segments.refresh_site_flags(connection, feed_id)
        record_stats(connection, feed_id, result)
    return result
