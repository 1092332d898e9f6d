"""An independent, naive computation of the app hash from a key set (the spec in proofs.py)."""
from __future__ import annotations

import hashlib

EMPTY = bytes(32)


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _bit(kh: bytes, depth: int) -> int:
    return (kh[depth // 8] >> (7 - depth % 8)) & 1


def _root(leaves: list[tuple[bytes, bytes]], depth: int) -> bytes:
    if not leaves:
        return EMPTY
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0][0] + leaves[0][1])
    left = [leaf for leaf in leaves if _bit(leaf[0], depth) == 0]
    right = [leaf for leaf in leaves if _bit(leaf[0], depth) == 1]
    return _h(b"\x01" + _root(left, depth + 1) + _root(right, depth + 1))


def reference_app_hash(state: dict[bytes, bytes]) -> bytes:
    return _root([(_h(k), _h(v)) for k, v in state.items()], 0)
