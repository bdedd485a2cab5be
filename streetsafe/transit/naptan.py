"""Import NaPTAN stops (`Stops.csv`): active rows only, ATCO code as id, mode from StopType.

Each file becomes one block of COPY text, all streamed into one COPY. A file is read in
columns (naptan_columns) when that path can take it, else row by row with the csv module,
which gives the same rows and names the file, line and column of a bad value. Rows without
Longitude/Latitude are converted from British National Grid (EPSG:27700) in one vectorised
pyproj call per file, after the file's other rows.
"""

from __future__ import annotations

import csv
import io
import struct
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from isal import igzip, isal_zlib
from pyproj import Transformer

from .loader import (
    MAX_LAT,
    MAX_LON,
    MIN_LAT,
    MIN_LON,
    ImportDataError,
    ImportResult,
    ImportWarning,
    check_feed_name,
    copy_escape,
    copy_line,
    copy_text,
    indexes_rebuilt,
    merge_stops,
    parse_coordinate,
    progress,
    record_stats,
    replacing_feed,
    require_columns,
    table_is_empty,
)
from .naptan_columns import (
    escaped,
    floats,
    joined_text,
    kept_rows,
    line_count,
    needs_escapes,
    point_lines,
    read_table,
)

STOP_TYPE_MODES = {
    **dict.fromkeys(("BCT", "BCS", "BCQ", "BST", "BCE", "BCP"), "bus"),
    **dict.fromkeys(("RSE", "RLY", "RPL"), "rail"),
    # NaPTAN does not tell a tram stop from an underground one: both are metro here.
    **dict.fromkeys(("TMU", "MET", "PLT"), "metro"),
    **dict.fromkeys(("FER", "FTD", "FBT"), "ferry"),
}
STATION_TYPES = {"RLY", "MET", "FTD", "GAT", "BST"}  # access areas: GTFS location_type 1
ENTRANCE_TYPES = {"RSE", "TMU", "FER", "AIR", "BCE", "LSE"}  # entrances: location_type 2
REQUIRED = ("ATCOCode", "CommonName", "StopType", "Status")
BNG_EASTING = (-100_000.0, 1_000_000.0)
BNG_NORTHING = (-100_000.0, 1_500_000.0)
FAR_FROM_LOCALITY_M = 10_000.0
EARTH_RADIUS_M = 6_371_008.8

_to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


class NotInNameOrder(Exception):
    """A tar archive whose stop files are not in name order: it is read again, then sorted."""


def open_sources(
    paths: list[Path], stack: ExitStack, in_archive_order: bool = False
) -> Iterator[tuple[str, IO[bytes]]]:
    """(label, binary stream) for each CSV in the paths (files, folders, .tgz/.tar or .zip),
    in name order (see _tar_members for `in_archive_order`)."""
    for path in paths:
        if not path.exists():
            raise ImportDataError(str(path), "no such file or folder")
        if path.is_dir():
            for csv_path in sorted(p for p in path.rglob("*") if _is_stops_csv(p.name)):
                yield str(csv_path), stack.enter_context(open(csv_path, "rb"))
        elif path.name.endswith((".tgz", ".tar.gz", ".tar")):
            yield from _tar_members(path, in_archive_order)
        elif path.suffix == ".zip":
            yield from _zip_members(path, stack)
        else:
            yield str(path), stack.enter_context(open(path, "rb"))


def _is_stops_csv(name: str) -> bool:
    """Folders and archives may hold other CSVs; NaPTAN's stop files end in Stops.csv."""
    return name.lower().endswith("stops.csv")


def _tar_members(path: Path, in_archive_order: bool) -> Iterator[tuple[str, IO[bytes]]]:
    """The archive's stop files in name order, read in one pass over its compressed stream.

    With `in_archive_order` each file is yielded as soon as it is read, so the COPY starts
    at once, and NotInNameOrder is raised at the first name that sorts before the previous
    one; without, every file is read, then all are yielded sorted. (Listing a .tgz first
    and then reading its members decompressed it twice, 0.23 s each for the 146 GB areas.)
    """
    files: list[tuple[str, bytes]] = []
    try:
        with ExitStack() as stack:
            archive = _open_tar(path, stack)
            for member in archive:
                if not (member.isfile() and _is_stops_csv(member.name)):
                    continue
                data = archive.extractfile(member).read()  # type: ignore[union-attr]
                if not in_archive_order:
                    files.append((member.name, data))
                elif files and member.name < files[-1][0]:
                    raise NotInNameOrder(str(path))
                else:
                    files.append((member.name, b""))
                    yield f"{path}:{member.name}", io.BytesIO(data)
    except (tarfile.TarError, OSError, EOFError, zlib.error, isal_zlib.error) as exc:
        raise ImportDataError(str(path), f"not a readable archive ({exc})") from None
    for name, data in sorted(files, key=lambda file: file[0]) if not in_archive_order else ():
        yield f"{path}:{name}", io.BytesIO(data)


def _open_tar(path: Path, stack: ExitStack) -> tarfile.TarFile:
    """The archive as a stream of members; a gzipped one inflated by ISA-L (isal), which
    takes 0.10 s of CPU for GB NaPTAN's 88 MB where zlib takes 0.21 s."""
    raw = stack.enter_context(open(path, "rb"))
    if raw.read(2) != b"\x1f\x8b":
        raw.seek(0)
        return stack.enter_context(tarfile.open(fileobj=raw, mode="r|*"))
    raw.seek(0)
    inflated = stack.enter_context(igzip.open(raw))
    return stack.enter_context(tarfile.open(fileobj=inflated, mode="r|"))


def _zip_members(path: Path, stack: ExitStack) -> Iterator[tuple[str, IO[bytes]]]:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
        names = sorted(n for n in archive.namelist() if _is_stops_csv(n))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportDataError(str(path), f"not a readable zip file ({exc})") from None
    for name in names:
        yield f"{path}:{name}", archive.open(name)


STOPS_SEEN = pa.schema([("id", pa.string()), ("locality", pa.string()),
                        ("lon", pa.float64()), ("lat", pa.float64())])  # fmt: skip


@dataclass
class NaptanState:
    """What the stream has seen so far: codes, skips, and each stop's locality and position
    (`written`, in COPY order; the row path's stops wait in the lists until `stops`)."""

    feed: str
    seen: set[str] = field(default_factory=set)
    skipped: Counter = field(default_factory=Counter)
    written: list[pa.Table] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    localities: list[str] = field(default_factory=list)
    lons: list[float] = field(default_factory=list)
    lats: list[float] = field(default_factory=list)

    def remember(self, *columns: pa.Array | pa.ChunkedArray | list) -> None:
        """Stops written after the ones before (id, locality, lon, lat columns)."""
        self._keep_rows()
        self.written.append(pa.Table.from_arrays(list(columns), schema=STOPS_SEEN))

    def stops(self) -> pa.Table:
        """Every stop written so far: id, locality, lon, lat."""
        self._keep_rows()
        return pa.concat_tables([STOPS_SEEN.empty_table(), *self.written])

    def _keep_rows(self) -> None:
        if self.ids:
            ids, localities, lons, lats = self.ids, self.localities, self.lons, self.lats
            self.ids, self.localities, self.lons, self.lats = [], [], [], []
            self.remember(ids, localities, lons, lats)


# The columns the import reads, in the order `_picker` returns them.
COLUMNS = ("ATCOCode", "CommonName", "StopType", "Status", "LocalityName", "NptgLocalityCode",
           "Longitude", "Latitude", "Easting", "Northing", "NaptanCode")  # fmt: skip
SIGN_CODE = COLUMNS.index("NaptanCode")  # the SMS code printed on the stop, for stop search
LOCATION_TYPES = {**dict.fromkeys(STATION_TYPES, 1), **dict.fromkeys(ENTRANCE_TYPES, 2)}
# A point as hex EWKB (little endian, type Point with an SRID, 4326): exact, like the EWKT
# it replaces, and cheaper for both ends of the COPY to write and read.
_EWKB_POINT = struct.Struct("<BIIdd")
_EWKB_POINT_SRID = 0x20000001


def point_ewkb(lon: float, lat: float) -> str:
    """Hex EWKB of a WGS84 point, as the geometry type reads it in COPY."""
    return _EWKB_POINT.pack(1, _EWKB_POINT_SRID, 4326, lon, lat).hex()


def _picker(positions: dict[str, int]) -> Callable[[list[str]], list[str]]:
    """A fast row -> the stripped values of COLUMNS ("" for a column the file lacks)."""
    present = [(i, positions[name]) for i, name in enumerate(COLUMNS) if name in positions]
    width = max(index for _, index in present) + 1
    get = itemgetter(*(index for _, index in present))

    def pick(row: list[str]) -> list[str]:
        if len(row) < width:
            row = row + [""] * (width - len(row))
        return [value.strip() for value in get(row)]

    if len(present) == len(COLUMNS):
        return pick

    def pick_some(row: list[str]) -> list[str]:
        values = [""] * len(COLUMNS)
        for (i, _), value in zip(present, pick(row), strict=True):
            values[i] = value
        return values

    return pick_some


def stop_row(values: list[str], lon: float, lat: float, state: NaptanState) -> tuple:
    """One COPY row for `stops`, remembering the stop for the locality check."""
    atco, name, stop_type, _, locality, code = values[:6]
    stop_type = stop_type.upper()
    state.ids.append(atco)
    state.localities.append(f"{locality} ({code})" if locality and code else locality or code)
    state.lons.append(lon)
    state.lats.append(lat)
    return (
        f"{state.feed}:{atco}", atco, name or atco, STOP_TYPE_MODES.get(stop_type, "other"),
        LOCATION_TYPES.get(stop_type, 0), locality or None, values[SIGN_CODE] or None,
        point_ewkb(lon, lat),
    )  # fmt: skip


def _grid(values: list[str], label: str, line: int) -> tuple[float, float]:
    """Easting and northing of a row without longitude/latitude."""
    coordinates = []
    for name, raw, (low, high) in (("Easting", values[8], BNG_EASTING),
                                   ("Northing", values[9], BNG_NORTHING)):  # fmt: skip
        if not raw:
            raise ImportDataError(label, "no Longitude/Latitude and no Easting/Northing", line,
                                  name)  # fmt: skip
        try:
            value = float(raw)
        except ValueError:
            raise ImportDataError(label, f"{raw!r} is not a number", line, name) from None
        if not low <= value <= high:
            raise ImportDataError(label, f"{value} is outside the British National Grid", line,
                                  name)  # fmt: skip
        coordinates.append(value)
    return coordinates[0], coordinates[1]


def _lon_lat(values: list[str], label: str, line: int) -> tuple[float, float]:
    """Longitude and latitude of a row that has both (parse_coordinate names a bad one)."""
    try:
        lon, lat = float(values[6]), float(values[7])
    except ValueError:
        lon = lat = float("nan")
    if MIN_LON <= lon <= MAX_LON and MIN_LAT <= lat <= MAX_LAT:  # false for NaN
        return lon, lat
    return (parse_coordinate(values[6], "Longitude", MIN_LON, MAX_LON, label, line),
            parse_coordinate(values[7], "Latitude", MIN_LAT, MAX_LAT, label, line))  # fmt: skip


def file_rows(label: str, stream: IO[bytes], state: NaptanState) -> Iterator[tuple]:
    """COPY rows for the active, first-seen stops of one Stops.csv."""
    seen, skipped = state.seen, state.skipped
    try:
        reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
        pick = _picker(require_columns(next(reader, []), REQUIRED, label))
        pending: list[tuple[list[str], float, float]] = []
        for row in reader:
            if not row:
                continue
            values = pick(row)
            atco, status = values[0], values[3]
            if status.lower() != "active":
                skipped[f"status {status or 'empty'}"] += 1
            elif not atco:
                raise ImportDataError(label, "ATCOCode is empty", reader.line_num, "ATCOCode")
            elif atco in seen:
                skipped["duplicate ATCO codes"] += 1
            elif values[6] and values[7]:
                seen.add(atco)
                yield stop_row(values, *_lon_lat(values, label, reader.line_num), state)
            else:
                seen.add(atco)
                pending.append((values, *_grid(values, label, reader.line_num)))
    except (csv.Error, UnicodeDecodeError, OSError, EOFError, zipfile.BadZipFile,
            tarfile.TarError) as exc:  # fmt: skip
        raise ImportDataError(label, f"cannot be read ({exc})", reader.line_num) from None
    yield from converted_rows(pending, state)


def converted_rows(
    pending: list[tuple[list[str], float, float]], state: NaptanState
) -> Iterator[tuple]:
    """Rows whose position comes from Easting/Northing, converted in one pyproj call."""
    if not pending:
        return
    eastings = np.fromiter((p[1] for p in pending), float, len(pending))
    northings = np.fromiter((p[2] for p in pending), float, len(pending))
    lons, lats = _to_wgs84.transform(eastings, northings)
    for (values, _, _), lon, lat in zip(pending, lons.tolist(), lats.tolist(), strict=True):
        yield stop_row(values, lon, lat, state)


def all_text(paths: list[Path], state: NaptanState, feed_id: int, quiet: bool,
             in_archive_order: bool = False) -> Iterator[str]:  # fmt: skip
    """COPY text for every file, a block per file, with a progress bar over the files."""
    with ExitStack() as stack:
        sources = open_sources(paths, stack, in_archive_order)
        for label, stream in progress(sources, quiet, desc="NaPTAN files", unit=" files"):
            data = read_source(label, stream, state)
            text = columns_text(label, data, state, feed_id)
            if text is None:
                text = "".join(copy_line((feed_id, *row))
                               for row in file_rows(label, io.BytesIO(data), state))  # fmt: skip
            yield text


def text_then(paths: list[Path], state: NaptanState, feed_id: int, quiet: bool,
              in_archive_order: bool, then: Callable[[], object]
              ) -> Iterator[str | bytes]:  # fmt: skip
    """all_text, then `then()` once the last block is out."""
    yield from all_text(paths, state, feed_id, quiet, in_archive_order)
    then()


def read_source(label: str, stream: IO[bytes], state: NaptanState) -> bytes:
    """A file's bytes; if reading fails, its rows up to there are checked, then it is named."""
    parts: list[bytes] = []
    try:
        while part := stream.read(1 << 20):
            parts.append(part)
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, tarfile.TarError) as exc:
        data = b"".join(parts)
        for _ in file_rows(label, io.BytesIO(data), state):
            pass  # a bad row before the unreadable part is reported first, as before
        raise ImportDataError(label, f"cannot be read ({exc})", line_count(data)) from None
    return b"".join(parts)


def column_stops(label: str, data: bytes, state: NaptanState) -> pa.Table | None:
    """A file's stops through the column path, in the order the row path writes them (state
    updated: seen codes, skips), or None for the row path."""
    columns = read_table(label, data, COLUMNS, REQUIRED)
    kept = columns and kept_rows(columns, state.seen)
    if not kept:
        return None
    rows, skipped, codes = kept
    cell = {name: values.take(rows) for name, values in columns.items()}
    direct = pc.and_(pc.not_equal(cell["Longitude"], ""), pc.not_equal(cell["Latitude"], ""))
    direct = direct.to_numpy(zero_copy_only=False)
    lons = floats(cell["Longitude"].filter(direct), MIN_LON, MAX_LON)
    lats = floats(cell["Latitude"].filter(direct), MIN_LAT, MAX_LAT)
    eastings = floats(cell["Easting"].filter(~direct), *BNG_EASTING)
    northings = floats(cell["Northing"].filter(~direct), *BNG_NORTHING)
    if lons is None or lats is None or eastings is None or northings is None:
        return None
    if len(eastings):
        grid_lons, grid_lats = _to_wgs84.transform(eastings, northings)
        lons, lats = np.concatenate([lons, grid_lons]), np.concatenate([lats, grid_lats])
    order = np.concatenate([np.flatnonzero(direct), np.flatnonzero(~direct)])
    state.seen.update(codes)
    state.skipped.update(skipped)
    picked = {name: cell[name].take(order) for name in (*COLUMNS[:6], "NaptanCode")}
    return pa.table({**picked, "lon": lons, "lat": lats})


def columns_text(label: str, data: bytes, state: NaptanState, feed_id: int) -> bytes | None:
    """COPY text for one file through the column path, or None for the row path.

    Built on whole Arrow columns (joins, escapes, hex points), never row by row in Python:
    the same bytes as copy_line gives the row path's rows (tests/transit/test_naptan_columns).
    """
    stops = column_stops(label, data, state)
    if stops is None:
        return None
    place, code = stops["LocalityName"], stops["NptgLocalityCode"]
    both = pc.and_(pc.not_equal(place, ""), pc.not_equal(code, ""))
    either = pc.if_else(pc.equal(place, ""), code, place)
    state.remember(stops["ATCOCode"], pc.if_else(both, _joined(place, " (", code, ")"), either),
                   stops["lon"], stops["lat"])  # fmt: skip
    kinds = stop_kinds(stops["StopType"])
    needed = needs_escapes(data)  # looked for once, not once per column
    atco = escaped(stops["ATCOCode"].combine_chunks(), needed)
    name = escaped(stops["CommonName"].combine_chunks(), needed)
    place = escaped(place.combine_chunks(), needed)
    sign = escaped(stops["NaptanCode"].combine_chunks(), needed)
    points = point_lines(stops["lon"].to_numpy(), stops["lat"].to_numpy())
    lines = pc.binary_join_element_wise(
        str(feed_id), _joined(f"{copy_escape(state.feed)}:", atco), atco,
        pc.if_else(pc.equal(name, ""), atco, name), *kinds,
        pc.if_else(pc.equal(place, ""), "\\N", place),
        pc.if_else(pc.equal(sign, ""), "\\N", sign), points, "\t")  # fmt: skip
    return joined_text(lines)


def _joined(*parts: pa.Array | str) -> pa.Array:
    """The parts' values end to end, row by row (a str is the same in every row)."""
    return pc.binary_join_element_wise(*parts, "")


def stop_kinds(stop_types: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Each stop's mode and location type (as COPY text), looked up as stop_row does, once
    per distinct stop type."""
    distinct = pc.unique(stop_types)
    upper = [stop_type.upper() for stop_type in distinct.to_pylist()]
    at = pc.index_in(stop_types, value_set=distinct)
    modes = pa.array([STOP_TYPE_MODES.get(stop_type, "other") for stop_type in upper], pa.string())
    kinds = pa.array([str(LOCATION_TYPES.get(stop_type, 0)) for stop_type in upper], pa.string())
    return modes.take(at).combine_chunks(), kinds.take(at).combine_chunks()


def locality_warnings(state: NaptanState) -> list[ImportWarning]:
    """Stops more than FAR_FROM_LOCALITY_M from their locality's median position."""
    stops = state.stops()
    stops = stops.filter(pc.not_equal(stops["locality"], ""))
    # Grouped by the locality's number in a dictionary, not its text: the same groups.
    frame = pd.DataFrame({
        "group": pc.dictionary_encode(stops["locality"].combine_chunks()).indices.to_numpy(),
        "lon": stops["lon"].to_numpy(), "lat": stops["lat"].to_numpy()})  # fmt: skip
    grouped = frame.groupby("group")
    frame = frame.assign(
        n=grouped["group"].transform("size"),
        mlon=grouped["lon"].transform("median"),
        mlat=grouped["lat"].transform("median"),
    )
    frame = frame[frame["n"] >= 3]
    lon1, lat1, lon2, lat2 = (np.radians(frame[c].to_numpy()) for c in ("lon", "lat", "mlon",
                                                                         "mlat"))  # fmt: skip
    haversine = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(
        (lon2 - lon1) / 2) ** 2  # fmt: skip
    distance_m = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(haversine))
    far = distance_m > FAR_FROM_LOCALITY_M
    rows = frame.index.to_numpy()[far]
    found = zip(stops["id"].take(rows).to_pylist(), stops["locality"].take(rows).to_pylist(),
                distance_m[far].tolist(), strict=True)  # fmt: skip
    return [
        ImportWarning(
            f"{state.feed}:{stop_id}",
            f"{distance / 1000:,.1f} km from the median of its locality {locality}",
        )  # fmt: skip
        for stop_id, locality, distance in sorted(found)
    ]


def import_naptan(
    connection: sa.Connection,
    paths: list[Path | str],
    feed: str = "naptan",
    quiet: bool = True,
    bulk: bool = False,
) -> ImportResult:
    """Import (or atomically replace) NaPTAN stops; raises ImportDataError, changing nothing.

    Archives are read optimistically in their own order (most list their files sorted);
    one that is not is read again after the savepoint's rollback. `bulk` rebuilds the stops
    indexes after the load instead of keeping them up to date (loader.indexes_rebuilt); it
    is chosen by itself when the stops table is empty.
    """
    name = check_feed_name(feed)
    sources = [Path(p) for p in paths]
    bulk = bulk or table_is_empty(connection, "stops")
    try:
        return _import_naptan(connection, name, sources, quiet, bulk, in_archive_order=True)
    except NotInNameOrder:
        return _import_naptan(connection, name, sources, quiet, bulk, in_archive_order=False)


def _import_naptan(connection: sa.Connection, name: str, sources: list[Path], quiet: bool,
                   bulk: bool, in_archive_order: bool) -> ImportResult:  # fmt: skip
    state = NaptanState(feed=name)
    source = " ".join(map(str, sources))
    with ExitStack() as stack:
        feed_id = stack.enter_context(replacing_feed(connection, name, "naptan", source,
                                                     keep_stops=not bulk))  # fmt: skip
        columns = ("feed_id", "public_id", "source_id", "name", "mode", "location_type",
                   "locality", "code", "geom")  # fmt: skip
        result = ImportResult(feed=name)
        # The locality warnings are worked out in a thread once the text is out, while the
        # server ends the COPY and builds the indexes or merges (Python only waits for it
        # then, without the GIL): 0.07-0.12 s off the import's critical path.
        pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="warnings"))
        warnings: list[Future[list[ImportWarning]]] = []
        text = text_then(sources, state, feed_id, quiet, in_archive_order,
                         lambda: warnings.append(pool.submit(locality_warnings, state)))
        if bulk:  # a first load, or a maintenance window: every row anew, indexes after
            with indexes_rebuilt(connection, "stops", True):
                copy_text(connection, "stops", columns, text)
            # The planner's count of the feed's stops, for the statements that follow: with
            # the figures from before the load it took the feed for one stop, and relinking
            # reports looped over all 336,000 of them to find none (0.12 s). ANALYZE of
            # feed_id alone costs 0.04 s; autovacuum does the rest later.
            connection.execute(sa.text("ANALYZE stops (feed_id)"))
        else:  # live: only the stops that changed are written
            result.changes = merge_stops(connection, feed_id, columns, text)
        result.warnings = warnings[0].result()
        result.counts = {"stops": state.stops().num_rows}
        result.skipped = dict(state.skipped)
        record_stats(connection, feed_id, result)
    return result
