"""Shared import plumbing: validation errors, warnings, COPY, and the atomic feed replace.

Every importer parses its files in Python, streams rows into PostgreSQL with COPY (psycopg 3)
and lets PostGIS build geometry. A feed is replaced inside one transaction: readers see the
old feed until the new one is committed, and reports keep their links by public id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.copy import QueuedLibpqWriter
from tqdm import tqdm

from ..hotspots.publication import hold_publication
from .places import resolve_places
from .planner import planner_settings

MIN_LON, MAX_LON = -180.0, 180.0
MIN_LAT, MAX_LAT = -90.0, 90.0


class ImportDataError(Exception):
    """Bad input: names the file, line and column so the user can fix it."""

    def __init__(
        self,
        file: str,
        message: str,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


@dataclass(frozen=True)
class ImportWarning:
    """A suspicious but importable row, named by its public id, and what kind of fault."""

    public_id: str
    message: str
    kind: str = "suspicious rows"

    def __str__(self) -> str:
        return f"{self.public_id}: {self.message}"


@dataclass(frozen=True)
class StopChanges:
    """What a re-import changed in a feed's stops: the rest were left as they were."""

    added: int
    updated: int
    removed: int
    unchanged: int

    def __str__(self) -> str:
        return (f"{self.added:,} added, {self.updated:,} changed, {self.removed:,} removed, "
                f"{self.unchanged:,} unchanged")  # fmt: skip


@dataclass
class ImportResult:
    """What an import wrote (counts by kind), what it skipped and why, and its warnings."""

    feed: str
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[ImportWarning] = field(default_factory=list)
    changes: StopChanges | None = None  # a re-import merged into the stops already there

    def summary(self) -> str:
        """One line for the command's output."""
        counts = ", ".join(f"{count:,} {kind}" for kind, count in self.counts.items())
        text = f"{self.feed}: imported {counts}"
        if self.changes is not None:
            text += f" ({self.changes})"
        if self.skipped:
            reasons = ", ".join(f"{count:,} {why}" for why, count in self.skipped.items())
            text += f"; skipped {sum(self.skipped.values()):,} ({reasons})"
        if self.warnings:
            kinds = ", ".join(f"{n:,} {kind}" for kind, n in self.warning_counts().items())
            text += f"; warnings: {kinds}"
        return text

    def warning_counts(self) -> dict[str, int]:
        """How many warnings of each kind, in the order first seen."""
        counts: dict[str, int] = {}
        for warning in self.warnings:
            counts[warning.kind] = counts.get(warning.kind, 0) + 1
        return counts


def parse_coordinate(raw: str, name: str, low: float, high: float, file: str, line: int) -> float:
    """A longitude or latitude from text, within [low, high], or an ImportDataError."""
    try:
        value = float(raw)
    except ValueError:
        raise ImportDataError(file, f"{raw!r} is not a number", line, name) from None
    if not low <= value <= high:  # also rejects NaN
        raise ImportDataError(file, f"{value} is outside the WGS84 range {low}..{high}", line, name)
    return value


def require_columns(header: Sequence[str], required: Iterable[str], file: str) -> dict[str, int]:
    """Column positions by name; an ImportDataError names the first missing required column."""
    positions = {name.strip().lstrip("\ufeff"): i for i, name in enumerate(header)}
    for name in required:
        if name not in positions:
            raise ImportDataError(file, f"required column {name!r} is missing", 1, name)
    return positions


def driver_connection(connection: sa.Connection) -> psycopg.Connection:
    """The psycopg 3 connection under a SQLAlchemy connection (same transaction)."""
    return connection.connection.driver_connection  # type: ignore[return-value]


def copy_rows(
    connection: sa.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY rows into `table` (trusted identifiers only); returns how many were written."""
    written = 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver_connection(connection).cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


# COPY's text format: these characters are written as escapes (as psycopg does), NULL as \N.
COPY_ESCAPED = "\\\b\t\n\v\f\r"
_COPY_ESCAPES = str.maketrans({c: "\\" + "\\btnvfr"[i] for i, c in enumerate(COPY_ESCAPED)})


def copy_escape(value: str) -> str:
    """A text value as COPY's text format writes it."""
    return value.translate(_COPY_ESCAPES)


def copy_line(row: Sequence[str | int | None]) -> str:
    """One row of COPY text (str, int or None values), as psycopg's write_row writes it."""
    fields = ("\\N" if v is None else copy_escape(v) if isinstance(v, str) else str(v)
              for v in row)  # fmt: skip
    return "\t".join(fields) + "\n"


def copy_text(
    connection: sa.Connection,
    table: str,
    columns: Sequence[str],
    chunks: Iterable[str] | Iterable[bytes],
    queued: bool = True,
    binary: bool = False,
) -> int:
    """COPY blocks of ready COPY text (or binary COPY data, from its signature to its trailer)
    into `table` (trusted identifiers only); returns how many rows the server loaded.

    Queued, a psycopg writer thread sends each block while the caller prepares the next one:
    the server loads one file's rows while Python reads the next file. A caller that already
    runs in a thread beside other Python work sends them itself (one thread less for the GIL).
    """
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    statement += " (FORMAT BINARY)" if binary else ""
    with driver_connection(connection).cursor() as cursor:
        writer = QueuedLibpqWriter(cursor) if queued else None
        with cursor.copy(statement, writer=writer) as copy:
            for chunk in chunks:
                copy.write(chunk)
        return cursor.rowcount


def merge_stops(
    connection: sa.Connection, feed_id: int, columns: Sequence[str], chunks: Iterable[str]
) -> StopChanges:
    """Make feed `feed_id`'s stops the rows of the COPY text `chunks`, writing only what
    differs: stops gone are deleted, changed ones updated in place, new ones inserted (in
    the order of the text).

    A re-import of a national feed (NaPTAN's monthly refresh) changes a few percent of its
    stops. Deleting and COPYing all of them again kept every index up to date row by row,
    twice (docs/BENCHMARKS.md); staging the text in a temporary table and comparing costs
    a COPY without indexes and one join. An unchanged stop keeps its row and id, so
    route stops and reports that point at it are not touched, and readers only ever wait
    for the rows that change. `columns` start with feed_id and public_id (the key).
    """
    assert tuple(columns[:2]) == ("feed_id", "public_id")
    listed = ", ".join(columns)
    connection.execute(sa.text("DROP TABLE IF EXISTS pg_temp.staged_stops"))
    connection.execute(sa.text(f"CREATE TEMP TABLE staged_stops ON COMMIT DROP AS "
                               f"SELECT {listed} FROM stops WITH NO DATA"))  # fmt: skip
    staged = copy_text(connection, "staged_stops", columns, chunks)
    connection.execute(sa.text("DROP TABLE IF EXISTS pg_temp.stop_changes"))
    with planner_settings(connection, enable_nestloop="off", enable_mergejoin="off"):
        # One hash join, whatever the statistics say (the staged rows have none: ANALYZE
        # cost 0.2 s and changed no plan): right after a first load, before autovacuum has
        # analysed stops, the planner took it for empty and ran an anti join as a nested
        # loop over the staged rows (minutes for GB NaPTAN, not a second).
        connection.execute(sa.text(_STOP_CHANGES.format(
            values=", ".join(f"n.{c}" for c in columns),
            distinct=_distinct(columns[2:]))), {"f": feed_id})  # fmt: skip
    return _merged(connection, columns, staged)


# The stops of the feed that differ from the staged rows, found in one full join: a stop
# gone (no staged row), a new one (no stop) or a changed one (both), with the staged values
# and the staged row's place in the text (its ctid: one COPY fills the table in order).
_STOP_CHANGES = """
CREATE TEMP TABLE stop_changes ON COMMIT DROP AS
SELECT s.id AS stop_id, n.ctid AS position, {values}
FROM (SELECT * FROM stops WHERE feed_id = :f) s
FULL JOIN staged_stops n ON n.public_id = s.public_id
WHERE s.id IS NULL OR n.public_id IS NULL OR {distinct}
"""


def _distinct(values: Sequence[str]) -> str:
    """SQL: the stop `s` and the staged row `n` differ in one of `values`."""
    return f"({', '.join(f's.{c}' for c in values)}) IS DISTINCT FROM " \
           f"({', '.join(f'n.{c}' for c in values)})"  # fmt: skip


def _merged(connection: sa.Connection, columns: Sequence[str], staged: int) -> StopChanges:
    """Write the changes found by _STOP_CHANGES; what was done, counted."""
    listed = ", ".join(columns)
    values = columns[2:]
    removed = connection.execute(sa.text(
        "DELETE FROM stops s USING stop_changes c "
        "WHERE s.id = c.stop_id AND c.position IS NULL")).rowcount  # fmt: skip
    updated = connection.execute(sa.text(
        f"UPDATE stops s SET ({', '.join(values)}) = ({', '.join(f'c.{c}' for c in values)}) "
        f"FROM stop_changes c WHERE s.id = c.stop_id AND c.position IS NOT NULL")
    ).rowcount  # fmt: skip
    added = connection.execute(sa.text(
        f"INSERT INTO stops ({listed}) SELECT {listed} FROM stop_changes "
        f"WHERE stop_id IS NULL ORDER BY position")).rowcount  # fmt: skip
    connection.execute(sa.text("DROP TABLE staged_stops, stop_changes"))
    return StopChanges(added, updated, removed, staged - added - updated)


def temp_table(connection: sa.Connection, name: str, columns: str) -> None:
    """A fresh temporary staging table, dropped at commit."""
    connection.execute(sa.text(f"DROP TABLE IF EXISTS pg_temp.{name}"))
    connection.execute(sa.text(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP"))


def progress(items: Iterable[Any], quiet: bool, **options: Any) -> Iterable[Any]:
    """A tqdm bar on stderr around `items`, or the items themselves when quiet."""
    if quiet:
        return items
    return tqdm(items, leave=False, dynamic_ncols=True, **options)


@contextmanager
def replacing_feed(
    connection: sa.Connection, name: str, kind: str, source: str, keep_stops: bool = False
) -> Iterator[int]:
    """Within a savepoint: empty (or create) feed `name`, yield its id, then set the stops'
    places (transit/places.py) and re-link reports. `keep_stops` leaves the feed's stops
    for the caller to merge into (merge_stops).

    Any exception rolls the savepoint back, so the database is left exactly as it was.
    """
    with connection.begin_nested(), planner_settings(connection, jit="off", work_mem="128MB"):
        hold_publication(connection)
        feed_id = connection.scalar(
            sa.text(
                "INSERT INTO feeds (name, kind, source) VALUES (:name, :kind, :source) "
                "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, "
                "source = excluded.source, imported_at = now() RETURNING id"
            ),
            {"name": name, "kind": kind, "source": source},
        )
        connection.execute(sa.text("DELETE FROM routes WHERE feed_id = :f"), {"f": feed_id})
        if not keep_stops:
            connection.execute(sa.text("DELETE FROM stops WHERE feed_id = :f"), {"f": feed_id})
        yield feed_id
        resolve_places(connection)
        relink_reports(connection, feed_id)


def delete_feed(connection: sa.Connection, name: str) -> bool:
    """Delete feed `name` with its stops, routes and shapes; the other feeds' stops take
    their places again (transit/places.py). False if there is no such feed."""
    with connection.begin_nested(), planner_settings(connection, jit="off"):
        hold_publication(connection)
        deleted = connection.scalar(
            sa.text("DELETE FROM feeds WHERE name = :name RETURNING id"), {"name": name}
        )
        if deleted is not None:
            resolve_places(connection)
    return deleted is not None


@contextmanager
def indexes_rebuilt(connection: sa.Connection, table: str, enabled: bool) -> Iterator[None]:
    """Drop `table`'s secondary indexes, yield for a bulk load, then build them again.

    PostgreSQL's own advice for populating a table: one sort per index after the load costs
    far less than keeping every index up to date row by row (GB NaPTAN: docs/BENCHMARKS.md;
    the spatial one too, now that the server waits for Python's text during the COPY).
    Indexes behind constraints (primary key, unique public id) stay. DROP INDEX takes an
    exclusive lock on the table until the import commits, so readers of `table` wait
    meanwhile: the importers enable this only for a first load into an empty table, or when
    asked (`--bulk`, for a maintenance window). Use inside the import's savepoint: a failure
    rolls the drops back with everything else.
    """
    if not enabled:
        yield
        return
    definitions = connection.execute(
        sa.text(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = CAST(:t AS regclass) "
            "AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
            "ORDER BY i.relname"
        ),
        {"t": table},
    ).all()
    for name, _ in definitions:
        connection.execute(sa.text(f'DROP INDEX "{name}"'))
    yield
    for _, definition in definitions:
        connection.execute(sa.text(definition))
    # No ANALYZE here: 0.3-0.5 s of a 4 s GB NaPTAN load, and autovacuum analyses the new
    # rows within its naptime; merge_stops does not rely on the figures (hash joins).


def table_is_empty(connection: sa.Connection, table: str) -> bool:
    """True when `table` (a trusted identifier) holds no rows."""
    return not connection.scalar(sa.text(f"SELECT EXISTS (SELECT FROM {table})"))


def relink_reports(connection: sa.Connection, feed_id: int) -> None:
    """Point reports whose stop/route went with the old feed at the new rows, by public id."""
    connection.execute(
        sa.text(
            "UPDATE reports r SET stop_id = s.id FROM stops s "
            "WHERE r.stop_id IS NULL AND r.stop_public_id = s.public_id AND s.feed_id = :f"
        ),
        {"f": feed_id},
    )
    connection.execute(
        sa.text(
            "UPDATE reports r SET route_id = t.id FROM routes t "
            "WHERE r.route_id IS NULL AND r.route_public_id = t.public_id AND t.feed_id = :f"
        ),
        {"f": feed_id},
    )


def record_stats(connection: sa.Connection, feed_id: int, result: ImportResult) -> None:
    """Store the import's counts and skips on the feed row."""
    stats = {"counts": result.counts, "skipped": result.skipped, "warnings": len(result.warnings),
             "warnings_by_kind": result.warning_counts()}  # fmt: skip
    connection.execute(
        sa.text("UPDATE feeds SET stats = CAST(:stats AS jsonb) WHERE id = :f"),
        {"stats": json.dumps(stats), "f": feed_id},
    )


def check_feed_name(name: str) -> str:
    """A feed name usable as a public id prefix: 1-64 characters, no colon or whitespace."""
    if not name or len(name) > 64 or ":" in name or any(c.isspace() for c in name):
        raise ImportDataError(
            "--feed", f"feed name {name!r} must be 1-64 characters without ':' or spaces"
        )
    return name
