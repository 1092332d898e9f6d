"""Canonical encodings shared by every layer: JSON bytes that hash the same on every node, base64."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

__all__ = ["canonical_json", "compact_json", "b64encode", "b64decode", "DecodeError", "json_error_position"]


class DecodeError(ValueError):
    """Input bytes are not in the expected encoding; the message says what was wrong."""


def canonical_json(obj: Any) -> bytes:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8. Used for anything hashed or signed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def compact_json(obj: Any) -> bytes:
    """JSON in insertion order without whitespace: what we hand to contracts (as serde would)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64decode(text: str | None) -> bytes:
    """Strict standard base64 (padding required), as cosmwasm-std's Binary deserialises it."""
    if text is None:
        return b""
    if not isinstance(text, str):
        raise DecodeError(f"expected a base64 string, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        # Our own words, not binascii's: error texts can reach contracts and must be the
        # same on every node whatever its Python version.
        raise DecodeError(f"invalid base64 ({len(text)} characters)") from None


def json_error_position(exc: Exception) -> str:
    """Where JSON parsing failed, in words that do not depend on the Python version."""
    pos = getattr(exc, "pos", None)
    return f"at byte {pos}" if isinstance(pos, int) else "not UTF-8"
