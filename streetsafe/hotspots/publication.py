"""Publication on the boundary: reports reach the hotspot layers together, on the hour.

A report stored with publication batched (`Settings.publish_every_s`, default 3600) is in
`reports` at once (its receipt, the team's lists) but is only queued for the rollups that
every layer, tile and count is read from (migration 0029). On each boundary of the period
(the seconds since the epoch divisible by it: 14:00:00, 15:00:00 ...) one statement rolls
up everything queued. So the public layers change on the hour only, with the reports of the
hour before, and no one polling them learns when within the hour a report arrived: the
time the database already truncates to the hour (docs/PRIVACY.md, "Publication on the hour").

Each gunicorn worker runs a `Publisher` thread; they all wake on the boundary, the first
publishes (an advisory lock in the database orders them) and the others find the queue
empty. `streetsafe publish` does the same by hand, or from cron where no worker runs.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# After a failed publication (the database away), try again this often until it succeeds.
RETRY_S = 30.0


def publish_pending(connection: sa.Connection) -> int:
    """Roll up every queued report, in the connection's transaction; how many there were."""
    return int(connection.scalar(sa.text("SELECT hotspot_publish_pending()")) or 0)


def hold_publication(connection: sa.Connection | Session) -> None:
    """Wait for a publication in progress, and keep the next one waiting, until this
    transaction ends (a shared hold on its lock). For writers of the rows a publication
    rewrites (migration 0031: reports, their descriptions), and of the stops and routes those
    rows reference: an update that waited for the rewrite would find its row gone and change
    nothing, and an import and a publication would wait on each other."""
    connection.execute(sa.text("SELECT hotspot_hold_publication()"))


def next_boundary(now_s: float, every_s: int) -> float:
    """The first boundary of the period after `now_s` (seconds since the epoch)."""
    return (math.floor(now_s / every_s) + 1) * every_s


class Publisher:
    """A daemon thread that publishes the queue on every boundary of `every_s`."""

    def __init__(self, engine: sa.Engine, every_s: int) -> None:
        self.engine, self.every_s = engine, every_s
        self.stopped = threading.Event()
        self.published = 0  # reports this thread published, for tests and logs
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)

    def start(self) -> Publisher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self.stopped.wait(max(0.0, next_boundary(time.time(), self.every_s)
                                        - time.time())):  # fmt: skip
            while not self._publish() and not self.stopped.wait(RETRY_S):
                pass

    def _publish(self) -> bool:
        try:
            with self.engine.begin() as connection:
                self.published += publish_pending(connection)
            return True
        except sa.exc.SQLAlchemyError as error:
            log.warning("publication failed (%s); trying again in %.0f s",
                        type(error).__name__, RETRY_S)  # fmt: skip
            return False


def start_publisher(engine: sa.Engine, every_s: int) -> Publisher | None:
    """The publishing thread of a worker whose reports are queued (None when at once)."""
    return Publisher(engine, every_s).start() if every_s > 0 else None
