"""Keep a worker's memory bounded: few malloc arenas, and freed memory given back to the OS.

A gthread worker builds large layers on up to 16 threads at once; glibc gives each thread an
arena of its own and keeps freed pages, so a worker that once answered eight 5 MB layers at
the same time kept 700 MB while idle. Two arenas, and a trim every TRIM_EVERY_S, return it.
Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading

TRIM_EVERY_S = 10.0
_M_ARENA_MAX = -8
log = logging.getLogger(__name__)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def bound_memory() -> None:
    """Limit malloc arenas and start the trimming thread (once per process)."""
    libc = _libc()
    if libc is None or getattr(bound_memory, "_started", False):
        return
    bound_memory._started = True  # type: ignore[attr-defined]
    libc.mallopt(_M_ARENA_MAX, 2)
    stop = threading.Event()

    def trim() -> None:
        while not stop.wait(TRIM_EVERY_S):
            libc.malloc_trim(0)

    threading.Thread(target=trim, name="streetsafe-malloc-trim", daemon=True).start()
