"""The frame format after the handshake: one compact JSON object per frame (sealed by secure.py).

    message   {"ch": channel, "p": payload}
    request   {"ch": channel, "p": payload, "id": n}
    response  {"ch": channel, "re": n, "p": payload}
    error     {"ch": channel, "re": n, "err": "what went wrong"}
    bye       {"ctl": "bye"}     nothing more will be sent on this (duplicate) connection

Payloads are JSON objects. Anything else (not JSON, not an object, other keys, wrong types) is
a malformed frame: the connection drops it and counts it against the peer.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .errors import P2PError

__all__ = ["Kind", "Frame", "FrameError", "MAX_CHANNEL_CHARS", "MAX_REQUEST_ID", "MAX_ERROR_CHARS",
           "encode_message", "encode_request", "encode_response", "encode_error", "decode", "dumps",
           "check_size", "BYE"]

MAX_CHANNEL_CHARS = 64
MAX_REQUEST_ID = (1 << 53) - 1     # stays exact in every JSON implementation
MAX_ERROR_CHARS = 1000


class Kind(Enum):
    MESSAGE = "message"
    REQUEST = "request"
    RESPONSE = "response"
    ERROR = "error"
    BYE = "bye"


_KINDS_BY_KEYS = {
    frozenset(("ch", "p")): Kind.MESSAGE,
    frozenset(("ch", "p", "id")): Kind.REQUEST,
    frozenset(("ch", "re", "p")): Kind.RESPONSE,
    frozenset(("ch", "re", "err")): Kind.ERROR,
}
BYE = '{"ctl":"bye"}'


class FrameError(ValueError):
    """A received frame is malformed; the message says how (for the log, never sent back)."""


@dataclass(frozen=True, slots=True)
class Frame:
    kind: Kind
    channel: str
    payload: dict[str, Any] | None = None
    request_id: int | None = None
    error: str | None = None


_BYE_FRAME = Frame(Kind.BYE, "")


def dumps(obj: Any) -> str:
    """Compact JSON text; P2PError (not TypeError) for what JSON cannot carry."""
    try:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise P2PError(f"payload is not JSON-serialisable ({exc}): send only dicts, lists, str, int, "
                       "float, bool and None") from None


def check_size(text: str, channel: str, limit: int) -> None:
    """Refuse to send a frame the peer would drop us for (its max_message_bytes is assumed ours)."""
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        raise P2PError(f"frame for channel {channel!r} holds text that is not valid Unicode (a lone surrogate): "
                       "it cannot be sent as UTF-8") from None
    if size > limit:
        raise P2PError(f"frame for channel {channel!r} is {size} bytes, over max_message_bytes={limit}: "
                       "split the payload (peers would drop the connection)")


def _check_channel(channel: str) -> None:
    if not isinstance(channel, str) or not 0 < len(channel) <= MAX_CHANNEL_CHARS:
        raise P2PError(f"a channel name must be a non-empty string of at most {MAX_CHANNEL_CHARS} "
                       f"characters, got {channel!r}")


def _check_payload(channel: str, payload: dict[str, Any]) -> None:
    if not isinstance(payload, dict):
        raise P2PError(f"payload for channel {channel!r} must be a dict, got {type(payload).__name__}")


def encode_message(channel: str, payload: dict[str, Any]) -> str:
    _check_channel(channel)
    _check_payload(channel, payload)
    return dumps({"ch": channel, "p": payload})


def encode_request(channel: str, payload: dict[str, Any], request_id: int) -> str:
    _check_channel(channel)
    _check_payload(channel, payload)
    return dumps({"ch": channel, "p": payload, "id": request_id})


def encode_response(channel: str, request_id: int, payload: dict[str, Any]) -> str:
    _check_payload(channel, payload)
    return dumps({"ch": channel, "re": request_id, "p": payload})


def encode_error(channel: str, request_id: int, message: str) -> str:
    return dumps({"ch": channel, "re": request_id, "err": message[:MAX_ERROR_CHARS]})


def decode(text: str) -> Frame:
    """Parse and check one received frame."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:      # RecursionError: hostile nesting depth
        raise FrameError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(obj, dict):
        raise FrameError(f"not a JSON object but {type(obj).__name__}")
    if obj == {"ctl": "bye"}:
        return _BYE_FRAME
    kind = _KINDS_BY_KEYS.get(frozenset(obj))
    if kind is None:
        raise FrameError(f"unknown frame kind with keys {sorted(obj)[:8]}")
    channel = obj["ch"]
    if not isinstance(channel, str) or not 0 < len(channel) <= MAX_CHANNEL_CHARS:
        raise FrameError("channel is not a short non-empty string")
    if kind in (Kind.MESSAGE, Kind.REQUEST, Kind.RESPONSE) and not isinstance(obj["p"], dict):
        raise FrameError(f"payload is {type(obj['p']).__name__}, not an object")
    if kind is Kind.MESSAGE:
        return Frame(kind, channel, obj["p"])
    request_id = obj["id"] if kind is Kind.REQUEST else obj["re"]
    if type(request_id) is not int or not 0 <= request_id <= MAX_REQUEST_ID:
        raise FrameError("request id is not an integer in 0..2^53-1")
    if kind is Kind.ERROR:
        if not isinstance(obj["err"], str):
            raise FrameError("error text is not a string")
        return Frame(kind, channel, None, request_id, obj["err"][:MAX_ERROR_CHARS])
    return Frame(kind, channel, obj["p"], request_id)
