"""Group commit for report intake: concurrent requests share their statements and commit.

Each report costs PostgreSQL a snapping statement, an INSERT, a run of the hotspot triggers
and a commit; most of that is per statement, not per row (1.4 ms for one report stored
alone, 0.45 ms each in a statement of eight, on the benchmark database). So a request
thread validates its report and hands it to its process's writer thread, which takes every
report waiting at that moment and submits them together (`intake.submit_batch`: keys
claimed in one statement, two snapping statements, one INSERT, responses recorded in one
statement). Nothing waits for a batch to fill: a lone request is written at once, as a
batch of one; under load the reports that arrive while one batch is being written form the
next. A batch without Idempotency-Keys runs in autocommit (its only write is the INSERT);
one with keys in a transaction, so a key is claimed in the same transaction as its report.

Each request still gets its own answer: a report that does not snap gets its own 422; a
batch that fails on one report's data (a stop deleted by a re-import in between, say) is
retried report by report, so only that request sees the error. A lost database fails the
whole batch with the same error (a 503).

The app owns its writer: `intake.init_app` makes one per app (so one per gunicorn worker),
and its thread starts with the first report.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..errors import ServiceUnavailable
from ..i18n import lazy_gettext as _l
from .schema import Intake

# More reports than a worker has request threads: every waiting one fits in the next batch.
MAX_BATCH = 64
# A request gives up waiting after this long (503); its report is dropped if not yet taken.
WAIT_TIMEOUT_S = 20.0

# Submits a batch on a connection: one result (or exception) per intake, in order.
Process = Callable[[sa.Connection, Sequence[Intake]], Sequence[Any]]


def _held_lock() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass
class _Job:
    intake: Intake
    # Released by the writer when the result is in: a bare lock, cheaper than an Event.
    done: threading.Lock = field(default_factory=_held_lock)
    result: Any = None
    abandoned: bool = False


class BatchWriter:
    """A writer thread (started by the first report) submitting queued reports in batches."""

    def __init__(
        self, engine: sa.Engine, process: Process, always_transaction: bool = False
    ) -> None:
        self.engine = engine
        self.process = process
        # Keyless batches run in autocommit unless their reports are queued for publication,
        # which takes a setting local to a transaction (intake.insert_reports).
        self.always_transaction = always_transaction
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # batches written and the reports in them, for tests and tuning
        self.reports = 0

    def submit(self, intake: Intake) -> Any:
        """The intake's result once its batch is committed (exceptions are returned)."""
        job = _Job(intake)
        self._start()
        self._queue.put(job)
        if not job.done.acquire(timeout=WAIT_TIMEOUT_S):
            job.abandoned = True
            if not job.done.acquire(blocking=False):
                return ServiceUnavailable(
                    _l("the report could not be stored in time; retry shortly"),
                    headers={"Retry-After": "5"},
                )
        return job.result

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="streetsafe-report-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            jobs = [self._queue.get()]
            while len(jobs) < MAX_BATCH:
                try:
                    jobs.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            jobs = [job for job in jobs if not job.abandoned]
            if not jobs:
                continue
            results = self.write_batch([job.intake for job in jobs])
            for job, result in zip(jobs, results, strict=True):
                job.result = result
                job.done.release()
            self.batches += 1
            self.reports += len(jobs)

    def write_batch(self, intakes: list[Intake]) -> list[Any]:
        """Submit the intakes together and commit; each one's result or exception."""
        try:
            with self.engine.connect() as connection:
                if self.always_transaction or any(i.key is not None for i in intakes):
                    with connection.begin():
                        return list(self.process(connection, intakes))
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                return list(self.process(connection, intakes))
        except (sa.exc.OperationalError, sa.exc.TimeoutError) as error:  # the database's fault
            return [error] * len(intakes)
        except Exception as error:
            if len(intakes) == 1:
                return [error]
            return [self.write_batch([intake])[0] for intake in intakes]

