"""Merkle proofs of the app hash, and their verification with nothing but hashlib.

The app hash is the root of a compressed sparse Merkle tree over sha256(key). A client that
trusts a block's app hash (it was signed by +2/3 of the validators) checks an answer with
``verify_proof(app_hash, key, value_or_None, proof)``. The exact hashing:

    key_hash   = sha256(key)                               256-bit path, bit 0 = MSB of byte 0
    leaf       = sha256(0x00 || key_hash || sha256(value))
    inner      = sha256(0x01 || left || right)             bit 0 of the path goes left, 1 right
    empty      = 32 zero bytes                             an empty subtree, at any depth
    app_hash   = the root; an empty state has app_hash = 32 zero bytes

Compressed: a subtree holding a single leaf is that leaf, placed where the subtree starts, so
a leaf sits at depth d (0..256) with d = the length of the prefix it needs to be alone.

A proof is the list of sibling hashes from the root down to where the key's path ends, and
what the path ends in: the key's own leaf (inclusion), an empty subtree, or another key's leaf
whose hash shares the first d bits (non-inclusion). The verifier recomputes the root from the
bottom up along the bits of sha256(key).

This module imports only hashlib and dataclasses so a client can copy it as it is.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["Proof", "ProofFormatError", "verify_proof", "EMPTY_HASH", "LEAF_PREFIX",
           "INNER_PREFIX", "HASH_BYTES", "MAX_DEPTH", "key_hash", "leaf_hash", "inner_hash",
           "bit"]

HASH_BYTES = 32
MAX_DEPTH = 256  # a leaf may sit at most this deep: the key hash has 256 bits
LEAF_PREFIX = b"\x00"
INNER_PREFIX = b"\x01"
EMPTY_HASH = bytes(HASH_BYTES)


class ProofFormatError(ValueError):
    """A proof given as JSON is malformed; the message names the field."""


def key_hash(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


def leaf_hash(khash: bytes, vhash: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + khash + vhash).digest()


def inner_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(INNER_PREFIX + left + right).digest()


def bit(khash: bytes, depth: int) -> int:
    """The path bit at ``depth``: 0 goes left, 1 goes right (most significant bit first)."""
    return (khash[depth >> 3] >> (7 - (depth & 7))) & 1


@dataclass(frozen=True)
class Proof:
    """Siblings from the root down, and the leaf the path ends in (None: an empty subtree).

    ``leaf`` is (key_hash, value_hash) of the leaf found at depth ``len(siblings)``: the
    queried key's own leaf proves inclusion, another key's leaf proves non-inclusion.
    """

    siblings: tuple[bytes, ...]
    leaf: tuple[bytes, bytes] | None

    def to_json(self) -> dict:
        """Hex strings, for the HTTP API."""
        return {"siblings": [s.hex() for s in self.siblings],
                "leaf": None if self.leaf is None else
                {"key_hash": self.leaf[0].hex(), "value_hash": self.leaf[1].hex()}}

    @classmethod
    def from_json(cls, obj: object) -> "Proof":
        if not isinstance(obj, dict) or set(obj) != {"siblings", "leaf"}:
            raise ProofFormatError("proof must be an object with exactly 'siblings' and 'leaf'")
        sibs = obj["siblings"]
        if not isinstance(sibs, list) or len(sibs) > MAX_DEPTH:
            raise ProofFormatError(f"'siblings' must be a list of at most {MAX_DEPTH} hashes")
        leaf = obj["leaf"]
        if leaf is not None:
            if not isinstance(leaf, dict) or set(leaf) != {"key_hash", "value_hash"}:
                raise ProofFormatError("'leaf' must be null or {key_hash, value_hash}")
            leaf = (_hash_from_hex(leaf["key_hash"], "leaf.key_hash"),
                    _hash_from_hex(leaf["value_hash"], "leaf.value_hash"))
        return cls(tuple(_hash_from_hex(s, f"siblings[{i}]") for i, s in enumerate(sibs)), leaf)


def _hash_from_hex(text: object, field: str) -> bytes:
    if not isinstance(text, str) or len(text) != 2 * HASH_BYTES:
        raise ProofFormatError(f"{field} must be {2 * HASH_BYTES} hex characters")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ProofFormatError(f"{field} is not hex") from None


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_BYTES


def verify_proof(app_hash: bytes, key: bytes, value: bytes | None, proof: Proof) -> bool:
    """True iff ``proof`` shows that ``key`` maps to ``value`` (None: is absent) under ``app_hash``.

    Never raises on a malformed proof: anything that is not a well-formed, matching proof is
    simply False.
    """
    if not (_is_hash(app_hash) and isinstance(key, bytes) and isinstance(proof, Proof)):
        return False
    if value is not None and not isinstance(value, bytes):
        return False
    siblings, leaf = proof.siblings, proof.leaf
    if not isinstance(siblings, tuple) or len(siblings) > MAX_DEPTH:
        return False
    if not all(_is_hash(s) for s in siblings):
        return False
    depth = len(siblings)
    khash = key_hash(key)
    if leaf is not None:
        if not (isinstance(leaf, tuple) and len(leaf) == 2 and _is_hash(leaf[0]) and _is_hash(leaf[1])):
            return False
    if value is not None:
        # Inclusion: the path must end in this key's leaf holding this value.
        if leaf != (khash, hashlib.sha256(value).digest()):
            return False
    elif leaf is not None:
        # Non-inclusion by another leaf: it must lie on our path, and not be our key.
        other = leaf[0]
        if other == khash or any(bit(other, d) != bit(khash, d) for d in range(depth)):
            return False
    node = EMPTY_HASH if leaf is None else leaf_hash(*leaf)
    for d in range(depth - 1, -1, -1):
        sibling = siblings[d]
        node = inner_hash(sibling, node) if bit(khash, d) else inner_hash(node, sibling)
    return node == app_hash
