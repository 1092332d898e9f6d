"""A bounded, thread-safe memo: what the node already worked out about exact bytes.

A transaction travels through one node several times (admission, the proposal, execution), each
time as the same bytes. Work that is a pure function of those bytes (the strict decode, the
ed25519 check) need not be repeated: remembering the answer under the exact bytes (or their
sha256) cannot change any outcome, only its cost. The memo forgets its oldest answers beyond its
bounds, so hostile input can cost memory only up to them. Oldest by insertion (FIFO), not by
use: a tx's answers are needed within a block or two of being worked out, and a lookup that
moves nothing stays cheap (~0.1 µs).

Admission may run on a thread pool: a lookup is one dict read (atomic under the GIL); changes
take a lock.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, Hashable, TypeVar

V = TypeVar("V")

__all__ = ["BoundedMemo"]


class BoundedMemo(Generic[V]):
    """A map of at most ``max_entries`` entries whose sizes add up to at most ``max_size``; oldest out first."""

    __slots__ = ("max_entries", "max_size", "_items", "_size", "_lock")

    def __init__(self, max_entries: int, max_size: int | None = None):
        if max_entries < 1:
            raise ValueError(f"a memo needs room for at least one entry, got max_entries={max_entries}")
        self.max_entries = max_entries
        self.max_size = max_size
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        """The summed sizes of the entries held now."""
        return self._size

    def get(self, key: Hashable) -> V | None:
        item = self._items.get(key)
        return None if item is None else item[0]

    def __contains__(self, key: Hashable) -> bool:
        return self.get(key) is not None

    def put(self, key: Hashable, value: V, size: int = 1) -> None:
        """Remember ``value`` under ``key``; an entry larger than ``max_size`` is not kept at all."""
        if self.max_size is not None and size > self.max_size:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._items[key] = (value, size)
            self._size += size
            while len(self._items) > self.max_entries or (self.max_size is not None and self._size > self.max_size):
                _, (_, dropped) = self._items.popitem(last=False)
                self._size -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0
