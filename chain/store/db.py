"""StateStore: the committed, versioned state of the chain in one RocksDB database (rocksdict).

One block = one ``commit``: its state writes, the new Merkle nodes, the value history, the
block, its results, its tx index entries, the new height and app hash go into ONE RocksDB
WriteBatch. A crash leaves the previous version or the new one, never a mix.

Layout (one-byte prefixes; heights are 8-byte big-endian, ``lk`` = 4-byte key length):

    M name                       metadata: format, height, earliest kept height
    S key                        latest value: height written (8) || value   (reads, iteration)
    V lk key height              value history: 0x01 || value, or 0x00 for a deletion
    P height'                    the value versions (lk key height, concatenated) that block
                                 height' superseded
    N node_key                   Merkle tree node (smt.py), never overwritten
    O height'                    the tree nodes (node keys, concatenated) height' orphaned
    R height                     root of that height's tree: hash || version (empty: empty tree)
    B height / E height          block JSON / block results JSON
    C name                       the consensus engine's records (commits, chain state), written in
                                 the commit batch of the height they belong to (``save_record``)
    T tx_hash, A sender ...      tx records and the by-sender index (records.py)
    K contract ...               the by-contract tx index (records.py)

Queries at height h read the newest V entry at or below h. Pruning (``keep_recent`` = N)
keeps heights [H - N + 1, H] queryable: a value version or tree node superseded at a height
<= H - N + 1 is not visible from any kept height and is deleted, in its own batch after the
commit (so a crash between the two only delays pruning). Blocks and txs are never pruned.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from rocksdict import Options, Rdict, WriteBatch, WriteOptions

from .proofs import EMPTY_HASH, Proof
from .records import TxRecord, RecordError, contracts_of, decode_tx, encode_tx, sender_key, sender_prefix
from .smt import NodeRef, TreeUpdate, apply_writes, build_proof

__all__ = ["StateStore", "StoreError", "HeightUnavailable", "ReadOnlyState", "FORMAT"]

FORMAT = b"conclave-store/1"
MAX_KEY_BYTES = 0xFFFFFFFF
MAX_TX_PAGE = 1000
NODE_CACHE_ENTRIES = 200_000  # ~40 MB: the top of the tree, read by every block, stays in memory
# Latest-state values recently read or committed: a tx's account is read at admission and again in its
# block, a contract's records at every call. Bounded: when full it starts over; large values (code
# blobs) are never kept. Only commit changes the latest state, and it updates the cache as it writes.
READ_CACHE_ENTRIES = 65_536
READ_CACHE_BYTES = 32 * 1024 * 1024     # keys and values held (counted as added: an overwrite counts again)
READ_CACHE_MAX_VALUE = 16 * 1024
DEFAULT_TX_PAGE = 100

_META_FORMAT, _META_HEIGHT, _META_EARLIEST = b"Mformat", b"Mheight", b"Mearliest"
_STATE, _HISTORY, _SUPERSEDED = b"S", b"V", b"P"
_NODE, _ORPHAN, _ROOT = b"N", b"O", b"R"
_BLOCK, _RESULTS, _TX, _BY_SENDER, _BY_CONTRACT = b"B", b"E", b"T", b"A", b"K"
_RECORD = b"C"
_STATE_END = b"T"  # the byte after b"S": no state key sorts at or above it
_PRESENT, _DELETED = b"\x01", b"\x00"


class StoreError(Exception):
    """The store was used wrongly or holds something it cannot read; the message says what to do."""


class HeightUnavailable(StoreError):
    """A query at a height that was pruned or is not committed yet."""


class ReadOnlyState(StoreError):
    """Committed state changes only through ``commit``."""


def _h(height: int) -> bytes:
    return height.to_bytes(8, "big")


def _lk(key: bytes) -> bytes:
    return len(key).to_bytes(4, "big") + key


@dataclass
class _Preview:
    """A block's tree update worked out ahead of its commit (``preview_app_hash``), for the commit to reuse."""

    height: int
    base_root: NodeRef | None          # the root it was computed on: any other commit makes it stale
    latest: dict[bytes, bytes | None]  # the writes, last value per key
    olds: dict[bytes, bytes | None]    # each key's S entry (height || value) before the block
    update: TreeUpdate


class StateStore:
    """Committed state, readable as a ``KVStore`` (the latest version) for a ``CacheKV`` on top."""

    def __init__(self, db: Rdict, path: Path, keep_recent: int | None, sync: bool):
        self._db = db
        self.path = path
        self.keep_recent = keep_recent
        self._write_options = WriteOptions()
        self._write_options.sync = sync
        self._staged_blocks: dict[int, tuple[bytes | None, bytes | None]] = {}
        self._staged_txs: list[TxRecord] = []
        self._staged_records: dict[bytes, bytes] = {}
        self._nodes: OrderedDict[bytes, bytes] = OrderedDict()
        self._preview: _Preview | None = None
        self._reads: dict[bytes, bytes | None] = {}
        self._read_bytes = 0
        fmt = db.get(_META_FORMAT)
        if fmt is None:
            if db.get(_META_HEIGHT) is not None or _any_key(db):
                db.close()
                raise StoreError(f"{path} holds a RocksDB database that is not a Conclave state "
                                 "store; point --home at an empty directory")
            db.put(_META_FORMAT, FORMAT, self._write_options)
        elif fmt != FORMAT:
            db.close()
            raise StoreError(f"{path} is a state store of format {fmt!r}, this node reads "
                             f"{FORMAT!r}; migrate it or use a new home directory")
        raw = db.get(_META_HEIGHT)
        self.height = int.from_bytes(raw, "big") if raw else 0
        raw = db.get(_META_EARLIEST)
        self.earliest = int.from_bytes(raw, "big") if raw else 0
        self._root = NodeRef.decode(db.get(_ROOT + _h(self.height)) or b"") if self.height else None

    @classmethod
    def open(cls, path: str | Path, keep_recent: int | None = None, sync: bool = True) -> "StateStore":
        """Open (or create) the store at ``path``.

        ``keep_recent``: how many recent heights stay queryable (None keeps all). ``sync``:
        fsync each commit (a node must not forget a block it voted on after a power cut).
        """
        if keep_recent is not None and (not isinstance(keep_recent, int) or keep_recent < 1):
            raise StoreError(f"keep_recent must be a positive number of heights or None, got {keep_recent!r}")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        return cls(Rdict(str(path), options), path, keep_recent, sync)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def app_hash(self) -> bytes:
        """The Merkle root of the last committed state (32 zero bytes when it is empty)."""
        return self._root.hash if self._root is not None else EMPTY_HASH

    # -- the KVStore interface: the latest committed state ------------------------------------

    def get(self, key: bytes, height: int | None = None) -> bytes | None:
        if height is None or height == self.height:
            reads = self._reads
            if type(key) is bytes and key in reads:
                return reads[key]
            raw = self._db.get(_STATE + key)
            value = None if raw is None else raw[8:]
            if type(key) is bytes:
                self._remember(key, value)
            return value
        self._check_height(height)
        prefix = _HISTORY + _lk(key)
        it = self._db.iter()
        it.seek_for_prev(prefix + _h(height))
        if not it.valid():
            return None
        found = it.key()
        if len(found) != len(prefix) + 8 or not found.startswith(prefix):
            return None
        raw = it.value()
        return raw[1:] if raw[:1] == _PRESENT else None

    def set(self, key: bytes, value: bytes) -> None:
        raise ReadOnlyState("committed state is read-only: write through a CacheKV branch and "
                            "pass its pending_writes() to commit()")

    def delete(self, key: bytes) -> None:
        self.set(key, b"")

    def next_item(self, start: bytes | None, end: bytes | None, descending: bool,
                  after: bytes | None) -> tuple[bytes, bytes] | None:
        """The next key of the latest state in [start, end) strictly past ``after`` (bytewise)."""
        it = self._db.iter()
        if not descending:
            lower = start if start is not None else b""
            if after is not None and after >= lower:
                lower = after + b"\x00"
            it.seek(_STATE + lower)
            if not it.valid():
                return None
            found = it.key()
            if found[:1] != _STATE or (end is not None and found[1:] >= end):
                return None
            return found[1:], it.value()[8:]
        upper = _STATE + end if end is not None else _STATE_END
        if after is not None and _STATE + after < upper:
            upper = _STATE + after
        it.seek_for_prev(upper)
        if it.valid() and it.key() == upper:
            it.prev()
        if not it.valid():
            return None
        found = it.key()
        if found[:1] != _STATE or (start is not None and found[1:] < start):
            return None
        return found[1:], it.value()[8:]

    # -- commit ---------------------------------------------------------------------------------

    def commit(self, writes: Iterable[tuple[bytes, bytes | None]], *, height: int | None = None,
               block: bytes | None = None, block_results: bytes | None = None,
               txs: Iterable[TxRecord] = ()) -> bytes:
        """Commit one block's writes (key, value | None to delete) as the next height; its app hash.

        ``height`` defaults to the next one; the first commit may start anywhere >= 1 (a
        chain's initial height). Blocks and txs staged with ``save_block``/``save_tx`` for this
        height are written in the same batch, as are ``block``, ``block_results`` and ``txs``.
        """
        blocks, staged_txs, staged_records = self._staged_blocks, self._staged_txs, self._staged_records
        self._staged_blocks, self._staged_txs, self._staged_records = {}, [], {}
        preview, self._preview = self._preview, None
        new_height = self._next_height(height, "commit")
        if block is not None or block_results is not None:
            blocks[new_height] = (block, block_results)
        records = staged_txs + list(txs)
        for h in blocks:
            if h != new_height:
                raise StoreError(f"a block was saved for height {h} but the commit is for {new_height}")
        for record in records:
            record.validate()
            if record.height != new_height:
                raise StoreError(f"tx {record.hash.hex()} was saved for height {record.height} "
                                 f"but the commit is for {new_height}")

        latest = _latest_writes(writes)
        if (preview is not None and preview.height == new_height and preview.base_root == self._root
                and preview.latest == latest):
            olds, update = preview.olds, preview.update   # preview_app_hash already did the tree update
        else:
            olds, update = self._old_entries(latest), None

        db, batch, hb = self._db, WriteBatch(raw_mode=True), _h(new_height)
        effective: list[tuple[bytes, bytes | None]] = []
        superseded: list[bytes] = []
        for key, value in latest.items():
            old = olds[key]
            if value is None:
                if old is None:
                    continue  # deleting an absent key changes nothing
                batch.delete(_STATE + key)
                batch.put(_HISTORY + _lk(key) + hb, _DELETED)
                superseded.append(_lk(key) + hb)  # the deletion marker itself
            else:
                batch.put(_STATE + key, hb + value)
                batch.put(_HISTORY + _lk(key) + hb, _PRESENT + value)
            if old is not None:
                superseded.append(_lk(key) + old[:8])
            effective.append((key, value))

        if update is None:
            update = apply_writes(self._load_node, self._root, effective, new_height)
        for nkey, node in update.nodes.items():
            batch.put(_NODE + nkey, node)
        if superseded:
            batch.put(_SUPERSEDED + hb, b"".join(superseded))
        if update.orphans:
            batch.put(_ORPHAN + hb, b"".join(update.orphans))
        batch.put(_ROOT + hb, update.root.encode() if update.root is not None else b"")
        for h, (body, results) in blocks.items():
            if body is not None:
                batch.put(_BLOCK + _h(h), _ensure_bytes(body, "block"))
            if results is not None:
                batch.put(_RESULTS + _h(h), _ensure_bytes(results, "block results"))
        for record in records:
            batch.put(_TX + record.hash, encode_tx(record))
            batch.put(_BY_SENDER + sender_key(record.sender, record.height, record.index), record.hash)
            for contract in contracts_of(record.result):
                batch.put(_BY_CONTRACT + sender_key(contract, record.height, record.index), record.hash)
        for name, value in staged_records.items():
            batch.put(_RECORD + name, value)
        batch.put(_META_HEIGHT, hb)
        first = not self.height
        if first:
            batch.put(_META_EARLIEST, hb)
        db.write(batch, self._write_options)

        for key, value in latest.items():
            self._remember(key, value)
        self.height, self._root = new_height, update.root
        self._cache_nodes(update.nodes)
        if first:
            self.earliest = new_height
        if self.keep_recent is not None:
            self.prune(self.height - self.keep_recent + 1)
        return self.app_hash

    def preview_app_hash(self, writes: Iterable[tuple[bytes, bytes | None]], height: int | None = None) -> bytes:
        """The app hash ``commit(writes, height=height)`` will return, computed without writing anything.

        A block's app hash is needed when it is finalized, before it is committed. The tree update
        done here is kept, and the next commit reuses it if it commits the same writes at the same
        height on the same state (any other commit discards it), so the Merkle work is done once.
        """
        new_height = self._next_height(height, "preview")
        latest = _latest_writes(writes)
        olds = self._old_entries(latest)
        effective = [(k, v) for k, v in latest.items() if v is not None or olds[k] is not None]
        update = apply_writes(self._load_node, self._root, effective, new_height)
        self._preview = _Preview(new_height, self._root, latest, olds, update)
        return update.root.hash if update.root is not None else EMPTY_HASH

    def _next_height(self, height: int | None, what: str) -> int:
        new_height = self.height + 1 if height is None else height
        if not isinstance(new_height, int) or new_height < 1 or (self.height and new_height != self.height + 1):
            raise StoreError(f"cannot {what} height {new_height!r}: the last committed height is "
                             f"{self.height}, so the next must be {self.height + 1}")
        return new_height

    def _remember(self, key: bytes, value: bytes | None) -> None:
        reads = self._reads
        if value is not None and len(value) > READ_CACHE_MAX_VALUE:
            reads.pop(key, None)
            return
        if len(reads) >= READ_CACHE_ENTRIES or self._read_bytes >= READ_CACHE_BYTES:
            reads.clear()
            self._read_bytes = 0
        reads[key] = value
        self._read_bytes += len(key) + (len(value) if value is not None else 0)

    def _old_entries(self, latest: dict[bytes, bytes | None]) -> dict[bytes, bytes | None]:
        """Each written key's current S entry (height || value), None if absent."""
        get = self._db.get
        return {key: get(_STATE + key) for key in latest}

    # -- history ----------------------------------------------------------------------------------

    def _check_height(self, height: int) -> None:
        if not isinstance(height, int) or height < 1:
            raise HeightUnavailable(f"height must be a positive integer, got {height!r}")
        if height > self.height:
            raise HeightUnavailable(f"height {height} is not committed yet (latest is {self.height})")
        if height < self.earliest:
            raise HeightUnavailable(f"height {height} was pruned: this node keeps heights "
                                    f"{self.earliest}..{self.height}; ask an archive node")

    def app_hash_at(self, height: int) -> bytes:
        """The app hash committed at ``height`` (a kept one)."""
        self._check_height(height)
        ref = NodeRef.decode(self._db.get(_ROOT + _h(height)) or b"")
        return ref.hash if ref is not None else EMPTY_HASH

    def prove(self, key: bytes, height: int | None = None) -> Proof:
        """A proof of ``key``'s value (or absence) against the app hash of ``height`` (default latest)."""
        if height is None or height == self.height:
            root = self._root
        else:
            self._check_height(height)
            root = NodeRef.decode(self._db.get(_ROOT + _h(height)) or b"")
        return build_proof(self._load_node, root, key)

    def _load_node(self, nkey: bytes) -> bytes | None:
        node = self._nodes.get(nkey)
        if node is None:
            node = self._db.get(_NODE + nkey)
            if node is not None:
                self._cache_nodes({nkey: node})
        return node

    def _cache_nodes(self, nodes: dict[bytes, bytes]) -> None:
        """Remember nodes, forgetting the oldest first (nodes never change, so no invalidation)."""
        cache = self._nodes
        cache.update(nodes)
        for _ in range(len(cache) - NODE_CACHE_ENTRIES):
            cache.popitem(last=False)

    def prune(self, keep_from: int) -> None:
        """Forget every height below ``keep_from`` (one batch); a no-op if they already are."""
        keep_from = min(keep_from, self.height)
        if keep_from <= self.earliest:
            return
        db, batch = self._db, WriteBatch(raw_mode=True)
        # Entries superseded at height' <= keep_from are invisible from every kept height.
        it = db.iter()
        for table, target, split in ((_SUPERSEDED, _HISTORY, _split_versions),
                                     (_ORPHAN, _NODE, _split_node_keys)):
            it.seek(table + _h(self.earliest))
            while it.valid():
                k = it.key()
                if k[:1] != table or int.from_bytes(k[1:9], "big") > keep_from:
                    break
                for entry in split(it.value()):
                    batch.delete(target + entry)
                batch.delete(k)
                it.next()
        batch.delete_range(_ROOT + _h(0), _ROOT + _h(keep_from))
        batch.put(_META_EARLIEST, _h(keep_from))
        db.write(batch, self._write_options)
        self.earliest = keep_from

    # -- blocks and txs -----------------------------------------------------------------------

    def save_block(self, height: int, block_json: bytes, results_json: bytes | None = None) -> None:
        """Stage a block (and its results) for the commit of ``height``: same batch as its state."""
        self._staged_blocks[height] = (_ensure_bytes(block_json, "block"),
                                       None if results_json is None else _ensure_bytes(results_json, "block results"))

    def save_tx(self, tx_hash: bytes, height: int, index: int, sender: str, result_json: bytes) -> None:
        """Stage a tx record for the commit of ``height``."""
        record = TxRecord(tx_hash, height, index, sender, result_json)
        record.validate()
        self._staged_txs.append(record)

    def save_record(self, name: bytes, value: bytes) -> None:
        """Stage a consensus record (a commit, the chain state) for the next commit's batch.

        Consensus state must never be ahead of or behind the app state it describes: writing both
        in one batch makes a crash leave either both or neither.
        """
        self._staged_records[_ensure_bytes(name, "record name")] = _ensure_bytes(value, "record")

    def record(self, name: bytes) -> bytes | None:
        return self._db.get(_RECORD + name) if isinstance(name, bytes) else None

    def block(self, height: int) -> bytes | None:
        return self._db.get(_BLOCK + _h(height)) if _valid_height(height) else None

    def block_results(self, height: int) -> bytes | None:
        return self._db.get(_RESULTS + _h(height)) if _valid_height(height) else None

    def tx(self, tx_hash: bytes) -> TxRecord | None:
        if not isinstance(tx_hash, bytes):
            return None
        raw = self._db.get(_TX + tx_hash)
        return None if raw is None else decode_tx(tx_hash, raw)

    def txs_by_sender(self, sender: str, limit: int = DEFAULT_TX_PAGE,
                      before: tuple[int, int] | None = None) -> list[TxRecord]:
        """``sender``'s txs, newest first; ``before`` = (height, index) of the last one already seen."""
        return self._txs_by(_BY_SENDER, sender, limit, before)

    def txs_by_contract(self, contract: str, limit: int = DEFAULT_TX_PAGE,
                        before: tuple[int, int] | None = None) -> list[TxRecord]:
        """Txs whose events name ``contract`` (records.py), newest first; ``before`` as for txs_by_sender."""
        return self._txs_by(_BY_CONTRACT, contract, limit, before)

    def _txs_by(self, table: bytes, owner: str, limit: int, before: tuple[int, int] | None) -> list[TxRecord]:
        if not isinstance(limit, int) or not 1 <= limit <= MAX_TX_PAGE:
            raise StoreError(f"limit must be 1..{MAX_TX_PAGE}, got {limit!r}")
        if not isinstance(owner, str):
            raise StoreError("the sender or contract must be an address string")
        try:
            prefix = table + sender_prefix(owner)
            start = (table + sender_key(owner, *before) if before is not None
                     else prefix + b"\xff" * 12)
        except (TypeError, ValueError, OverflowError):
            raise StoreError(f"before must be (height, index) of a tx, got {before!r}") from None
        it = self._db.iter()
        it.seek_for_prev(start)
        if before is not None and it.valid() and it.key() == start:
            it.prev()
        out: list[TxRecord] = []
        while it.valid() and len(out) < limit:
            k = it.key()
            if not k.startswith(prefix):
                break
            record = self.tx(it.value())
            if record is not None:
                out.append(record)
            it.prev()
        return out


def _latest_writes(writes: Iterable[tuple[bytes, bytes | None]]) -> dict[bytes, bytes | None]:
    """key -> its last value (None deletes), refusing anything but bytes."""
    latest: dict[bytes, bytes | None] = {}
    for key, value in writes:
        if not isinstance(key, bytes) or not (value is None or isinstance(value, bytes)):
            raise StoreError(f"writes must be (bytes, bytes | None) pairs, got ({type(key).__name__}, "
                             f"{type(value).__name__})")
        latest[key] = value
    return latest


def _split_versions(data: bytes) -> Iterator[bytes]:
    """The (lk key height) entries of a P record."""
    i = 0
    while i < len(data):
        end = i + 4 + int.from_bytes(data[i:i + 4], "big") + 8
        yield data[i:end]
        i = end


def _split_node_keys(data: bytes) -> Iterator[bytes]:
    """The node keys of an O record (each: depth (2) || ceil(depth/8) path bytes || version (8))."""
    i = 0
    while i < len(data):
        end = i + 2 + ((int.from_bytes(data[i:i + 2], "big") + 7) >> 3) + 8
        yield data[i:end]
        i = end


def _valid_height(height: object) -> bool:
    return isinstance(height, int) and 0 <= height < 1 << 64


def _ensure_bytes(value: object, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise RecordError(f"{what} must be JSON bytes, got {type(value).__name__}")
    return value


def _any_key(db: Rdict) -> bool:
    it = db.iter()
    it.seek_to_first()
    return it.valid()
