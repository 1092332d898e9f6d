"""The compressed sparse Merkle tree behind the app hash: batch updates, versioned nodes, proofs.

Hashing is defined in proofs.py (the half a client needs). This half keeps the tree in a
key-value store so that every committed version stays readable until pruned:

- A node lives at its *position* (depth, the first ``depth`` bits of the path) and the
  *version* (block height) that wrote it: node key = depth (2 bytes) || path prefix
  (ceil(depth / 8) bytes, unused bits zero) || version (8 bytes, big-endian). A node is never
  overwritten; a block writes new nodes under its own height.
- Encodings: leaf = 0x00 || key_hash || value_hash (65 bytes);
  inner = 0x01 || left_hash || left_version || right_hash || right_version (81 bytes), an
  empty child being 32 zero bytes with version 0.
- When a block replaces or moves a node, the old node key is reported as an *orphan* of that
  block: it is still needed by the versions before it, and may be deleted once they are pruned.

A block's writes are applied in one pass sorted by key hash, so the nodes shared by several
writes near the root are rewritten once: about log2(n) hashes per write, plus the shared top.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from .proofs import EMPTY_HASH, HASH_BYTES, MAX_DEPTH, Proof, bit, inner_hash, key_hash, leaf_hash

__all__ = ["NodeRef", "TreeUpdate", "apply_writes", "build_proof", "node_key", "TreeCorrupt",
           "LEAF_NODE_BYTES", "INNER_NODE_BYTES"]

VERSION_BYTES = 8
LEAF_NODE_BYTES = 1 + 2 * HASH_BYTES
INNER_NODE_BYTES = 1 + 2 * (HASH_BYTES + VERSION_BYTES)
_LEAF, _INNER = 0, 1
_FULL = (1 << 256) - 1


class TreeCorrupt(RuntimeError):
    """A node the tree refers to is missing or malformed: the database is damaged or was pruned."""


@dataclass(frozen=True)
class NodeRef:
    """Where the root (or a child) lives: its hash and the version that wrote it."""

    hash: bytes
    version: int

    def encode(self) -> bytes:
        return self.hash + self.version.to_bytes(VERSION_BYTES, "big")

    @classmethod
    def decode(cls, data: bytes) -> "NodeRef | None":
        if not data:
            return None
        return cls(data[:HASH_BYTES], int.from_bytes(data[HASH_BYTES:], "big"))


_DEPTH_BYTES = [d.to_bytes(2, "big") for d in range(MAX_DEPTH + 1)]
_LAST_BYTE_MASK = [(0xFF << (8 - r)) & 0xFF for r in range(8)]


def node_key(depth: int, path: bytes, version: int | bytes) -> bytes:
    """The storage key of the node at ``depth`` on ``path`` (any hash sharing the prefix)."""
    if not isinstance(version, bytes):
        version = version.to_bytes(VERSION_BYTES, "big")
    full, rest = depth >> 3, depth & 7
    if rest:
        return (_DEPTH_BYTES[depth] + path[:full]
                + bytes((path[full] & _LAST_BYTE_MASK[rest],)) + version)
    return _DEPTH_BYTES[depth] + path[:full] + version


def _with_bit(path: bytes, depth: int, b: int) -> bytes:
    """A path sharing ``path``'s first ``depth`` bits, then ``b``: names a child's position."""
    value = int.from_bytes(path, "big") & (_FULL ^ (_FULL >> depth))
    if b:
        value |= 1 << (255 - depth)
    return value.to_bytes(HASH_BYTES, "big")


def _encode_inner(lh: bytes, lv: int, rh: bytes, rv: int) -> bytes:
    return (b"\x01" + lh + lv.to_bytes(VERSION_BYTES, "big")
            + rh + rv.to_bytes(VERSION_BYTES, "big"))


@dataclass
class TreeUpdate:
    """What one block did to the tree: the new root, the nodes to write, the keys orphaned."""

    root: NodeRef | None
    nodes: dict[bytes, bytes] = field(default_factory=dict)
    orphans: list[bytes] = field(default_factory=list)


# Subtree descriptors during an update (tuples for speed):
#   None                      empty
#   ("S", hash, version)      a stored node left where it is
#   ("L", kh, vh, origin)     a leaf not yet placed; origin = its old node key if it moves
#   ("I", hash, version)      an inner node written by this update at its position


class _Updater:
    def __init__(self, load: Callable[[bytes], bytes | None], version: int):
        self.load_raw = load
        self.version = version
        self.vbytes = version.to_bytes(VERSION_BYTES, "big")
        self.out = TreeUpdate(None)

    def load(self, nkey: bytes) -> bytes:
        raw = self.load_raw(nkey)
        if raw is None or len(raw) not in (LEAF_NODE_BYTES, INNER_NODE_BYTES):
            raise TreeCorrupt(f"tree node {nkey.hex()} is missing or malformed")
        return raw

    def update(self, depth: int, ref_hash: bytes | None, ref_version: int, items: list) -> tuple | None:
        """Apply ``items`` (sorted (key_hash, value_hash | None), sharing ``depth`` bits) below the node
        (ref_hash, ref_version) (ref_hash None: an empty subtree)."""
        if ref_hash is None:
            return self.build(depth, [(k, v) for k, v in items if v is not None])
        nkey = node_key(depth, items[0][0], ref_version)
        raw = self.load(nkey)
        if raw[0] == _LEAF:
            okh, ovh = raw[1:33], raw[33:65]
            leaves = {okh: ovh}
            for kh, vh in items:
                if vh is None:
                    leaves.pop(kh, None)
                else:
                    leaves[kh] = vh
            if len(leaves) == 1 and leaves.get(okh) == ovh:
                return ("S", ref_hash, ref_version)
            self.out.orphans.append(nkey)
            return self.build(depth, sorted(leaves.items()))
        lh, lv = raw[1:33], int.from_bytes(raw[33:41], "big")
        rh, rv = raw[41:73], int.from_bytes(raw[73:81], "big")
        split = _split(items, depth)
        left = self._child(depth, lh, lv, items[:split])
        right = self._child(depth, rh, rv, items[split:])
        if _unchanged(left, lh, lv) and _unchanged(right, rh, rv):
            return ("S", ref_hash, ref_version)
        self.out.orphans.append(nkey)
        return self.combine(depth, items[0][0], left, right)

    def _child(self, depth: int, h: bytes, v: int, items: list) -> tuple | None:
        empty = h == EMPTY_HASH
        if items:
            return self.update(depth + 1, None if empty else h, v, items)
        return None if empty else ("S", h, v)

    def build(self, depth: int, leaves: list) -> tuple | None:
        """A fresh subtree over sorted (key_hash, value_hash) leaves."""
        if not leaves:
            return None
        if len(leaves) == 1:
            return ("L", leaves[0][0], leaves[0][1], None)
        split = _split(leaves, depth)
        return self.combine(depth, leaves[0][0],
                            self.build(depth + 1, leaves[:split]),
                            self.build(depth + 1, leaves[split:]))

    def combine(self, depth: int, path: bytes, left, right) -> tuple | None:
        """The subtree at ``depth`` with these children: compressed if it holds a single leaf."""
        if left is None or right is None:
            only, side = (right, 1) if left is None else (left, 0)
            if only is None:
                return None
            if only[0] == "L":
                return only
            if only[0] == "S":  # a stored child whose sibling vanished: lift it if it is a leaf
                ckey = node_key(depth + 1, _with_bit(path, depth, side), only[2])
                raw = self.load(ckey)
                if raw[0] == _LEAF:
                    return ("L", raw[1:33], raw[33:65], ckey)
        lh, lv = self.place(depth + 1, left)
        rh, rv = self.place(depth + 1, right)
        digest = inner_hash(lh, rh)
        self.out.nodes[node_key(depth, path, self.vbytes)] = _encode_inner(lh, lv, rh, rv)
        return ("I", digest, self.version)

    def place(self, depth: int, desc) -> tuple[bytes, int]:
        """Write ``desc`` at this position if it is a leaf on the move; return (hash, version)."""
        if desc is None:
            return EMPTY_HASH, 0
        if desc[0] != "L":
            return desc[1], desc[2]
        _, kh, vh, origin = desc
        self.out.nodes[node_key(depth, kh, self.vbytes)] = b"\x00" + kh + vh
        if origin is not None:
            self.out.orphans.append(origin)
        return leaf_hash(kh, vh), self.version


def _split(items: list, depth: int) -> int:
    """Index of the first item whose path bit at ``depth`` is 1 (items are sorted): ``bit`` inlined."""
    byte, shift = depth >> 3, 7 - (depth & 7)
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) >> 1
        if (items[mid][0][byte] >> shift) & 1:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _unchanged(desc, h: bytes, v: int) -> bool:
    if desc is None:
        return h == EMPTY_HASH
    return desc[0] == "S" and desc[1] == h and desc[2] == v


def apply_writes(load: Callable[[bytes], bytes | None], root: NodeRef | None,
                 writes: Iterable[tuple[bytes, bytes | None]], version: int) -> TreeUpdate:
    """The tree after one block's writes (key -> value, None deletes), as nodes to store.

    ``load`` reads a node by node key; ``version`` (the block height) must exceed every
    version already in the tree. Grouping and order of the writes do not matter: they are
    applied by key hash, and a key written twice keeps its last value.
    """
    latest: dict[bytes, bytes | None] = {}
    for key, value in writes:
        latest[key_hash(key)] = None if value is None else key_hash(value)
    updater = _Updater(load, version)
    if not latest:
        updater.out.root = root
        return updater.out
    items = sorted(latest.items())
    desc = updater.update(0, None if root is None else root.hash, 0 if root is None else root.version, items)
    if desc is None:
        updater.out.root = None
    else:
        digest, ver = updater.place(0, desc)
        updater.out.root = NodeRef(digest, ver)
    return updater.out


def build_proof(load: Callable[[bytes], bytes | None], root: NodeRef | None, key: bytes) -> Proof:
    """Walk sha256(key)'s path from ``root``, collecting siblings, to a leaf or an empty subtree."""
    khash = key_hash(key)
    siblings: list[bytes] = []
    ref = root
    depth = 0
    while ref is not None:
        nkey = node_key(depth, khash, ref.version)
        raw = load(nkey)
        if raw is None or len(raw) not in (LEAF_NODE_BYTES, INNER_NODE_BYTES):
            raise TreeCorrupt(f"tree node {nkey.hex()} is missing or malformed")
        if raw[0] == _LEAF:
            return Proof(tuple(siblings), (raw[1:33], raw[33:65]))
        if depth >= MAX_DEPTH:
            raise TreeCorrupt(f"inner node at depth {depth}: the tree is deeper than a hash")
        if bit(khash, depth):
            siblings.append(raw[1:33])
            child, ver = raw[41:73], raw[73:81]
        else:
            siblings.append(raw[41:73])
            child, ver = raw[1:33], raw[33:41]
        ref = None if child == EMPTY_HASH else NodeRef(child, int.from_bytes(ver, "big"))
        depth += 1
    return Proof(tuple(siblings), None)
