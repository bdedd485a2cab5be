"""Historic import: an NDJSON file of reports through intake's own pipeline, in bulk.

Each line is one `POST /api/v1/reports` body with `occurred_at` required. The steps are
intake's own (intake.py): parse_report -> snap_reports -> to_rows -> insert_reports, on
batches of thousands of lines, so snapping is two statements per batch and the insert one.
Batches are parsed and snapped ahead on other connections while the current one is inserted.
The hotspot rollups wait for the last batch: the load sets `streetsafe.defer_rollups` for its
transaction, so its reports are queued for publication as intake's are between two
boundaries (migration 0029), and then the rollup triggers' own bodies run once over all of
them (migration 0027), which stores what a run per batch would. There are no Idempotency-Keys
and no receipts. Everything runs in the caller's transaction: a refused line raises
`LoadRefused` naming the file, the line and the field, and the caller's rollback stores
nothing. With `refused_to`, refused lines are written there verbatim instead and the rest
is stored.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa

from ..config import Settings
from ..errors import ApiError, InvalidRequest, Unprocessable
from ..i18n import gettext
from ..i18n import lazy_gettext as _l
from .intake import ReportRow, insert_reports, parse_report, to_rows
from .schema import ReportIn
from .snapping import snap_reports

BATCH_SIZE = 20_000
# Connections snapping batches ahead of the insert: snapping is most of a batch's database
# time once the rollups wait for the end of the load, and it only reads.
SNAPPERS = 2
MAX_SOURCE_CHARS = 64


@dataclass(frozen=True)
class Refusal:
    """Why one line of the file was not stored."""

    path: Path
    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        field = f", field {self.field}" if self.field else ""
        return f"{self.path}, line {self.line}{field}: {self.message}"


class LoadRefused(Exception):
    """A line was refused and nothing may be stored: roll the transaction back."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(str(refusal))
        self.refusal = refusal


@dataclass(frozen=True)
class LoadResult:
    """What a load stored and refused."""

    stored: int
    refused: list[Refusal]


def load_reports(
    connection: sa.Connection,
    path: Path,
    settings: Settings,
    source: str | None = None,
    refused_to: BinaryIO | None = None,
    progress: Callable[[int], object] | None = None,
    snappers: Sequence[sa.Connection] = (),
    batch_size: int = BATCH_SIZE,
    per_batch_rollups: bool = False,
    rolling_up: Callable[[int], object] | None = None,
) -> LoadResult:
    """Validate, snap and store every line of `path` in the connection's transaction.

    Not committed. Raises LoadRefused at the first bad line unless `refused_to` is given,
    which then receives each refused line as it was. With other connections `snappers`,
    the next batches are parsed and snapped on them while this one is inserted (snapping
    only reads transit, which must then be committed). `progress` gets each batch's line
    count. The rollups are applied once, after the last batch (`rolling_up` is told how
    many reports they take in, as they start; `per_batch_rollups`: by every batch's insert,
    as intake does, the slower path, kept as the oracle's).
    """
    stored, refused = 0, []
    for each in (connection, *snappers):
        # A batch's snapping statement is planned for thousands of LATERAL rows, and JIT
        # compiled it for longer than it then ran (0.7 of 1.6 s for 3,000 route snaps).
        each.exec_driver_sql("SET LOCAL jit = off")
    if not per_batch_rollups:
        _defer_rollups(connection)
    with path.open("rb") as handle:
        for batch in _prepared(handle, connection, snappers, settings, source, batch_size):
            for number, raw, error in batch.refused:
                refused.append(_refuse(path, number, raw, error, refused_to))
            insert_reports(connection, batch.rows)
            stored += len(batch.rows)
            if progress is not None:
                progress(batch.lines)
    if not per_batch_rollups:
        if rolling_up is not None:
            rolling_up(stored)
        _apply_rollups(connection)
    return LoadResult(stored, refused)


def _prepared(
    handle: BinaryIO, connection: sa.Connection, snappers: Sequence[sa.Connection],
    settings: Settings, source: str | None, batch_size: int,
) -> Iterator[PreparedBatch]:  # fmt: skip
    """The file's batches, parsed and snapped, in order. With `snappers`, the next batches
    are prepared on them while the caller inserts this one; else on `connection`, after."""
    with ThreadPoolExecutor(max(1, len(snappers))) as ahead:
        batches = _batches(handle, batch_size)
        on = [*snappers] or [connection]
        pending = deque(
            ahead.submit(prepare_batch, on[i], settings, source, next(batches, []))
            for i in range(len(snappers) or 1)
        )
        turn = 0
        while (batch := pending.popleft().result()).lines:
            if snappers:  # its connection is free again: it snaps the batch after the others
                pending.append(ahead.submit(prepare_batch, on[turn], settings, source,
                                            next(batches, [])))  # fmt: skip
                turn = (turn + 1) % len(on)
            yield batch
            if not snappers:  # the caller has inserted this batch: the connection is free
                pending.append(ahead.submit(prepare_batch, connection, settings, source,
                                            next(batches, [])))  # fmt: skip


def _defer_rollups(connection: sa.Connection) -> None:
    """Store reports without their rollups, queued for _apply_rollups (migrations 0027,
    0029: intake's own publication queue, which the insert fills while this is on)."""
    connection.exec_driver_sql("SET LOCAL streetsafe.defer_rollups = on")


def _apply_rollups(connection: sa.Connection) -> None:
    """Publish what is queued (the load's reports, and any intake queued meanwhile): the
    rollup triggers' bodies once over all of them, in key order.

    The memory sorts a few hundred thousand reports' cell rows by rollup key in memory
    (100,000 reports: 47 MB); for a million, 1 GB was measured no faster than this.
    """
    connection.exec_driver_sql(
        "SET LOCAL work_mem = '256MB'; SELECT hotspot_publish_pending()"
    )


@dataclass(frozen=True)
class PreparedBatch:
    """A batch of lines, parsed and snapped: the rows to insert and the refused lines."""

    lines: int
    rows: list[ReportRow]
    refused: list[tuple[int, bytes, ApiError]]


def prepare_batch(
    connection: sa.Connection,
    settings: Settings,
    source: str | None,
    batch: list[tuple[int, bytes]],
) -> PreparedBatch:
    """Parse, snap and turn into rows (intake's steps) a batch of (line number, line)."""
    reports, kept, refused = [], [], []
    for number, raw in batch:
        parsed = parse_line(raw)
        if isinstance(parsed, ReportIn):
            reports.append(parsed)
            kept.append((number, raw))
        else:
            refused.append((number, raw, parsed))
    rows = []
    snaps = snap_reports(connection, reports, settings)
    for (number, raw), row in zip(kept, to_rows(reports, snaps, settings, source=source),
                                  strict=True):  # fmt: skip
        if isinstance(row, Unprocessable):
            refused.append((number, raw, row))
        else:
            rows.append(row)
    refused.sort(key=lambda item: item[0])
    return PreparedBatch(len(batch), rows, refused)


def parse_line(raw: bytes) -> ReportIn | ApiError:
    """One line as a report (the POST body's validation, occurred_at required), or why not."""
    try:
        report_in = parse_report(raw)
    except InvalidRequest as error:
        return error
    if report_in.occurred_at is None:
        return ApiError(_l("occurred_at is required in a historic load"), "occurred_at")
    return report_in


def check_source(source: str) -> str:
    """A source name as stored on reports: 1 to 64 characters, not 'public' (intake's)."""
    if not 1 <= len(source) <= MAX_SOURCE_CHARS or not source.isprintable():
        raise ValueError(
            gettext("must be 1 to %(most)s printable characters", most=MAX_SOURCE_CHARS)
        )
    if source.strip().lower() == "public":
        raise ValueError(
            gettext("'public' means reports sent to the service; name where these came from")
        )
    return source


def count_lines(path: Path) -> int:
    """The number of lines in the file (for the progress bar), reading it in 1 MiB blocks."""
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def _batches(handle: BinaryIO, size: int) -> Iterator[list[tuple[int, bytes]]]:
    """(line number, line) pairs in batches of `size` lines, blank lines left out."""
    batch: list[tuple[int, bytes]] = []
    for number, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        batch.append((number, raw))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _refuse(
    path: Path, number: int, raw: bytes, error: ApiError, refused_to: BinaryIO | None
) -> Refusal:
    """Record a refused line (or raise LoadRefused when nothing may be stored)."""
    message = error.message
    if error.field and message.startswith(f"{error.field}: "):  # the field is named once
        message = message[len(error.field) + 2 :]
    refusal = Refusal(path, number, error.field, message)
    if refused_to is None:
        raise LoadRefused(refusal)
    refused_to.write(raw if raw.endswith(b"\n") else raw + b"\n")
    return refusal
