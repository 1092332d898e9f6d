"""Key-value state with ordered iteration and cache branches.

Everything the app writes goes through a ``KVStore``. A ``CacheKV`` branches a store: reads
fall through to the parent, writes stay in the branch until ``write()`` pushes them down, and
dropping the branch discards them. Blocks, transactions and (sub)messages each run in their
own branch, which is how a failed message rolls back everything it did.

Iteration is cursor-based (``next_item`` seeks strictly past the last key), so writing while a
contract iterates is safe and every node sees the same order: bytewise, as RocksDB sorts.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from typing import Iterator, Protocol


class KVStore(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def set(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def next_item(self, start: bytes | None, end: bytes | None, descending: bool,
                  after: bytes | None) -> tuple[bytes, bytes] | None: ...


def _seek(keys: list[bytes], start: bytes | None, end: bytes | None, descending: bool,
          after: bytes | None) -> int | None:
    """Index of the next key of sorted ``keys`` in [start, end) past ``after``, or None."""
    if not descending:
        i = bisect_left(keys, start) if start is not None else 0
        if after is not None:
            i = max(i, bisect_right(keys, after))
        if i < len(keys) and (end is None or keys[i] < end):
            return i
        return None
    i = bisect_left(keys, end) - 1 if end is not None else len(keys) - 1
    if after is not None:
        i = min(i, bisect_left(keys, after) - 1)
    if i >= 0 and (start is None or keys[i] >= start):
        return i
    return None


class MemoryKV:
    """The committed state kept in memory (tests and TestApp; the node uses RocksDB)."""

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._keys: list[bytes] = []

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        if key not in self._data:
            insort(self._keys, key)
        self._data[key] = value

    def delete(self, key: bytes) -> None:
        if self._data.pop(key, None) is not None:
            del self._keys[bisect_left(self._keys, key)]

    def next_item(self, start, end, descending, after):
        i = _seek(self._keys, start, end, descending, after)
        if i is None:
            return None
        key = self._keys[i]
        return key, self._data[key]

    def __len__(self) -> int:
        return len(self._data)


class CacheKV:
    """A branch of ``parent``: writes are buffered (None marks a deletion) until ``write()``."""

    __slots__ = ("parent", "_writes", "_keys")

    def __init__(self, parent: KVStore):
        self.parent = parent
        self._writes: dict[bytes, bytes | None] = {}
        self._keys: list[bytes] = []

    def get(self, key: bytes) -> bytes | None:
        if key in self._writes:
            return self._writes[key]
        return self.parent.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        if key not in self._writes:
            insort(self._keys, key)
        self._writes[key] = value

    def delete(self, key: bytes) -> None:
        if key not in self._writes:
            insort(self._keys, key)
        self._writes[key] = None

    def next_item(self, start, end, descending, after):
        cursor = after
        while True:
            below = self.parent.next_item(start, end, descending, cursor)
            i = _seek(self._keys, start, end, descending, cursor)
            own = self._keys[i] if i is not None else None
            if own is None:
                return below
            if below is not None and (below[0] > own if descending else below[0] < own):
                return below
            value = self._writes[own]
            if value is not None:
                return own, value
            cursor = own  # a deletion hides the parent's key; look past it

    def write(self) -> None:
        """Push buffered writes into the parent, in key order, and empty the branch."""
        parent = self.parent
        for key in self._keys:
            value = self._writes[key]
            if value is None:
                parent.delete(key)
            else:
                parent.set(key, value)
        self._writes.clear()
        self._keys.clear()

    def pending_writes(self) -> Iterator[tuple[bytes, bytes | None]]:
        for key in self._keys:
            yield key, self._writes[key]


class PrefixKV:
    """A view of ``parent`` under ``prefix``: a contract's own key space."""

    __slots__ = ("parent", "prefix", "_end")

    def __init__(self, parent: KVStore, prefix: bytes):
        self.parent = parent
        self.prefix = prefix
        self._end = _prefix_end(prefix)

    def get(self, key: bytes) -> bytes | None:
        return self.parent.get(self.prefix + key)

    def set(self, key: bytes, value: bytes) -> None:
        self.parent.set(self.prefix + key, value)

    def delete(self, key: bytes) -> None:
        self.parent.delete(self.prefix + key)

    def next_item(self, start, end, descending, after):
        p = self.prefix
        item = self.parent.next_item(
            p + start if start is not None else p,
            p + end if end is not None else self._end,
            descending,
            p + after if after is not None else None)
        if item is None:
            return None
        return item[0][len(p):], item[1]


def _prefix_end(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix``."""
    data = bytearray(prefix)
    while data:
        if data[-1] < 0xFF:
            data[-1] += 1
            return bytes(data)
        data.pop()
    return None


def iterate(store: KVStore, start: bytes | None = None, end: bytes | None = None,
            descending: bool = False) -> Iterator[tuple[bytes, bytes]]:
    """Convenience generator over ``next_item`` (safe against writes between steps)."""
    after = None
    while True:
        item = store.next_item(start, end, descending, after)
        if item is None:
            return
        yield item
        after = item[0]


def iterate_prefix(store: KVStore, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
    return iterate(store, prefix, _prefix_end(prefix))


def prefix_page(store: KVStore, prefix: bytes, after: bytes | None, limit: int) -> list[tuple[bytes, bytes]]:
    """Up to ``limit`` (suffix, value) pairs under ``prefix``, in key order, strictly after ``prefix + after``:
    one page of a listing, read without walking the pages before it."""
    cursor = None if after is None else prefix + after
    out: list[tuple[bytes, bytes]] = []
    for key, value in iterate(store, cursor or prefix, _prefix_end(prefix)):
        if key == cursor:
            continue
        out.append((key[len(prefix):], value))
        if len(out) == limit:
            break
    return out
