"""What a public layer computes once for all its pages: its published ids and (cells) Gi*.

A page needs the id order of every published feature of the study area (to cut the page and
count `numberMatched`) and, for cells, Gi* over all of them: reading every feature's count
and folding Gi* is most of a request at national scale, and it is the same for every page.
So it is kept, per worker, under the question (layer, filters, study area, disclosure rules)
and the data's version: the `hotspot_layer_version` sequence, which every statement changing
reports, rollups or sites advances (migration 0019), and on a standby the replayed WAL
position. An entry also expires after `ttl_s`: a read that meets a writer between its
statement and its commit may keep the layer as it was until the next write or `ttl_s` (the
layers' own max-age lets any cache in front do as much).

Only published things are kept: the ids of features that are published anyway, and Gi* of
the perturbed, rounded counts (the same values every page shows). Never an exact count.
Cells are kept as numpy arrays (24 bytes a cell), so a 50,000-cell area costs about 1 MB.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import h3
import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from .gistar import GiResult


@dataclass(frozen=True)
class LayerIndex:
    """Published ids in id order, and Gi* (z, adjusted p) per id for cells (else None)."""

    ids: np.ndarray | tuple[str, ...]
    z: np.ndarray | None = None
    p: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def page(self, offset: int, limit: int) -> list[str]:
        """The ids of one page."""
        chosen = self.ids[offset : offset + limit]
        if isinstance(chosen, np.ndarray):
            return [h3.int_to_str(int(c)) for c in chosen]
        return list(chosen)

    def gi_of(self, ids: list[str]) -> dict[str, GiResult]:
        """Gi* of some of the ids (cells only; ids not in the index have none)."""
        if self.z is None or self.p is None or not len(self.ids):
            return {}
        wanted = np.array([h3.str_to_int(c) for c in ids], dtype=np.uint64)
        at = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        found = {}
        for cell, i, ok in zip(ids, at.tolist(), (self.ids[at] == wanted).tolist(), strict=True):
            if ok and not np.isnan(self.z[i]):
                found[cell] = GiResult(float(self.z[i]), float(self.p[i]))
        return found

    @property
    def nbytes(self) -> int:
        """About how much memory the index holds."""
        if isinstance(self.ids, np.ndarray):
            return self.ids.nbytes * 3
        return sum(len(i) + 56 for i in self.ids)


BUILD_WAIT_S = 5.0  # longer than any build within the public read timeout


class Kept(Protocol):
    """Anything the cache can weigh."""

    @property
    def nbytes(self) -> int: ...


T = TypeVar("T", bound=Kept)


class LayerCache(Generic[T]):
    """An LRU of layer indexes (or any T with nbytes), at most `max_bytes` in all, each kept
    at most `ttl_s`."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024, ttl_s: float = 60.0) -> None:
        self.max_bytes, self.ttl_s = max_bytes, ttl_s
        self._entries: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Event] = {}

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The kept index for `key`, or a freshly built one (kept for next time). Threads
        asking for a key another thread is building wait for it rather than build it too."""
        while True:
            with self._lock:
                found = self._fresh(key)
                if found is not None:
                    return found
                building = self._building.get(key)
                if building is None:
                    building = self._building[key] = threading.Event()
                    break
            if not building.wait(BUILD_WAIT_S):
                return build()  # the builder is stuck: answer on our own
        try:
            index = build()
            self._put(key, index)
        finally:
            with self._lock:
                self._building.pop(key, None)
            building.set()
        return index

    def peek(self, key: Hashable) -> T | None:
        """The kept index for `key`, or None (nothing is built)."""
        with self._lock:
            return self._fresh(key)

    def _fresh(self, key: Hashable) -> T | None:
        found = self._entries.get(key)
        if found and time.monotonic() - found[0] < self.ttl_s:
            self._entries.move_to_end(key)
            return found[1]
        return None

    def _put(self, key: Hashable, index: T) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old:
                self._bytes -= old[1].nbytes
            if index.nbytes <= self.max_bytes // 4:
                self._entries[key] = (time.monotonic(), index)
                self._bytes += index.nbytes
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped.nbytes

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def layer_version(session: Session) -> int | None:
    """The data's version, or None when this transaction has written: its own uncommitted
    rows must not be kept for other requests.

    The one row of `hotspot_layer_state`, moved by every statement that changes what the
    public layers show (migration 0030), and by nothing else: a report queued for the next
    publication leaves it, so layers stay warm between boundaries. Being a row, a standby
    reads it exactly, with the data it goes with.
    """
    version, clean = session.execute(sa.text(
        "SELECT version, pg_current_xact_id_if_assigned() IS NULL FROM hotspot_layer_state"
    )).one()  # fmt: skip
    return int(version) if clean else None
