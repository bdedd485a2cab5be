"""Historic import: an NDJSON file of reports through intake's own pipeline, in bulk.

Each line is one `POST /api/v1/reports` body with `occurred_at` required. The steps are
intake's own (intake.py): parse_report -> snap_reports -> to_rows -> insert_reports, on
batches of thousands of lines, so snapping is two statements per batch and the insert (with
its hotspot rollup triggers) one. There are no Idempotency-Keys and no receipts.
Everything runs in the caller's transaction: a refused line raises `LoadRefused` naming the
file, the line and the field, and the caller's rollback stores nothing. With `refused_to`,
refused lines are written there verbatim instead and the rest is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
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
    snapper: sa.Connection | None = None,
    batch_size: int = BATCH_SIZE,
) -> LoadResult:
    """Validate, snap and store every line of `path` in the connection's transaction.

    Not committed. Raises LoadRefused at the first bad line unless `refused_to` is given,
    which then receives each refused line as it was. With a second connection `snapper`,
    the next batch is parsed and snapped on it while this one is inserted (snapping only
    reads transit, which must then be committed). `progress` gets each batch's line count.
    """
    stored, refused = 0, []
    with path.open("rb") as handle, ThreadPoolExecutor(1) as ahead:
        batches = _batches(handle, batch_size)
        prepare = partial(prepare_batch, snapper or connection, settings, source)
        pending = ahead.submit(prepare, next(batches, []))
        while (batch := pending.result()).lines:
            pending = ahead.submit(prepare, next(batches, [])) if snapper else None
            for number, raw, error in batch.refused:
                refused.append(_refuse(path, number, raw, error, refused_to))
            insert_reports(connection, batch.rows)
            stored += len(batch.rows)
            if progress is not None:
                progress(batch.lines)
            if pending is None:
                pending = ahead.submit(prepare, next(batches, []))
    return LoadResult(stored, refused)


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
