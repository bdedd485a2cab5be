"""Run the app under gunicorn from Python, with per-request access logs off."""

from __future__ import annotations

import gc
import logging
import sys
import threading
from typing import Any

import sqlalchemy as sa
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from sqlalchemy.orm import Session

from .config import Settings

log = logging.getLogger(__name__)


class StreetSafeServer(BaseApplication):
    """A gunicorn application that builds one StreetSafe app per worker from given settings."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app
        from .db import get_database
        from .hotspots.publication import start_publisher
        from .memory import bound_memory

        bound_memory()
        app = create_app(self.settings)
        warm_worker(get_database(app).read_engine, self.settings)
        start_publisher(get_database(app).engine, self.settings.publish_every_s)
        # Everything loaded so far (modules, the app, SQLAlchemy's and Babel's tables) lives
        # as long as the worker: left to the collector, each full collection walked all of
        # it again, 50-60 ms every other request of a large layer (docs/BENCHMARKS.md,
        # "National reads", round 4). Frozen, the collector walks only what requests made.
        gc.freeze()
        return app


def warm_worker(engine: sa.Engine, settings: Settings) -> None:
    """A new worker reads, in the background, what its first public requests would wait
    for: the service's extent (a bbox-less layer's study area, 70-130 ms over GB's stops)
    and, with the tile cache on, the low-zoom tiles' parents."""
    from .hotspots.service import service_extent
    from .hotspots.tiles import warm_coarse_layers

    def extent() -> None:
        try:
            with Session(engine) as session:
                service_extent(session)
        except sa.exc.SQLAlchemyError:
            log.warning("service extent not read ahead: the database did not answer")

    threading.Thread(target=extent, name="warm-extent", daemon=True).start()
    if settings.tile_cache_s > 0:
        warm_coarse_layers(engine, settings)


SWITCH_INTERVAL_S = 0.001


class NoAccessLogger(Logger):
    """gunicorn's logger without an access log: no client address is ever even formatted.

    gunicorn builds every access-log line's fields (client address included) whenever a
    logging config is given, even with the access logger silenced: about 3% of a worker's
    CPU under load, and a privacy hazard one config change away from a file.
    """

    @property
    def access_log_enabled(self) -> bool:
        return False

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


# gunicorn's own messages as JSON lines too, any address in them withheld (it names the client
# of a malformed request); its access log (client addresses) stays off.
GUNICORN_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "filters": {"no_addresses": {"()": "streetsafe.logs.NoClientAddresses"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["no_addresses"],
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "WARNING", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
}


def run_gunicorn(
    settings: Settings, host: str, port: int, workers: int = 2, threads: int = 16
) -> None:
    """Serve until interrupted.

    Sixteen threads per worker: a request thread spends most of its time waiting (on Redis,
    on its report's batch), and the more reports wait together, the bigger the writer's
    batches (reports/writer.py). A keyless report holds no database connection while it
    waits; the pool (10 + 20 overflow) covers the threads of keyed ones.
    """
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        # A listening socket per worker (SO_REUSEPORT): the kernel spreads connections over
        # the workers. With one shared socket a gthread worker keeps every keep-alive
        # connection it accepts, and one worker ended up serving all 32 of a load test.
        "reuse_port": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 30,
        # A worker is replaced after about this many requests (jittered, so not all at once):
        # whatever memory a burst of large layers left behind goes with it.
        "max_requests": 5000,
        "max_requests_jitter": 500,
        "graceful_timeout": 10,
        "forwarded_allow_ips": "127.0.0.1",
        "logconfig_dict": GUNICORN_LOGGING,
        "logger_class": NoAccessLogger,
    }
    # Forked workers inherit this. A thread whose database reply has arrived waits for the
    # GIL until the running thread is told to give it up: 5 ms by default, which the report
    # writer paid on each of its statements while 16 request threads ran Python (its batches
    # took 15-22 ms; 1 ms raised throughput at 32 connections by a fifth).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    StreetSafeServer(settings, options).run()
