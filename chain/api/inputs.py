"""Reading a request's path, query string and body strictly: anything unexpected is a 400 that says what to send.

Query strings are checked against the parameters a route declares: an unknown or repeated
parameter is refused, so a typo (``?statu=open``) is an error rather than a silently
ignored filter. Lists take ``limit`` (bounded per route) and ``start_after`` (the ``next``
cursor of the previous page).
"""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..app.address import Bech32Api
from ..app.errors import InvalidRequest
from .context import node_of
from .errors import ApiError

MAX_HEIGHT = (1 << 63) - 1
MAX_U64 = (1 << 64) - 1
HEX_HASH_CHARS = 64
MAX_ADDRESS_CHARS = 256


def params(request: web.Request, *allowed: str) -> dict[str, str]:
    """The query parameters, refusing any not in ``allowed`` and any given twice."""
    out: dict[str, str] = {}
    for name, value in request.query.items():
        if name not in allowed:
            known = ", ".join(allowed) if allowed else "none"
            raise ApiError(400, "invalid_param", f"unknown query parameter {name[:40]!r}: this route takes {known}")
        if name in out:
            raise ApiError(400, "invalid_param", f"query parameter {name!r} is given twice")
        out[name] = value
    return out


def integer(text: str, what: str, low: int, high: int, code: str = "invalid_param") -> int:
    """A decimal integer in [low, high] (digits only: no sign, no spaces, no exponent)."""
    if not (isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 20) \
            or not low <= int(text) <= high:
        raise ApiError(400, code, f"{what} must be an integer in {low}..{high}, got {str(text)[:32]!r}")
    return int(text)


def limit(query: dict[str, str], maximum: int, default: int) -> int:
    return default if "limit" not in query else integer(query["limit"], "limit", 1, maximum)


def address(request: web.Request, text: str, what: str = "address") -> str:
    """A normalized bech32 address of this chain (400 invalid_address otherwise)."""
    prefix = node_of(request).prefix
    if len(text) > MAX_ADDRESS_CHARS:
        raise ApiError(400, "invalid_address", f"invalid {what}: longer than {MAX_ADDRESS_CHARS} characters")
    try:
        return Bech32Api(prefix).validate(text, what)
    except InvalidRequest as exc:
        raise ApiError(400, "invalid_address", f"{exc}: expected a {prefix}1... address") from None


def path_address(request: web.Request, name: str = "address") -> str:
    return address(request, request.match_info[name], name)


def height(text: str) -> int:
    return integer(text, "height", 1, MAX_HEIGHT, "invalid_height")


def tx_hash(text: str) -> str:
    """A tx hash: 64 hex characters, returned in uppercase as the chain writes it."""
    try:
        ok = len(text) == HEX_HASH_CHARS and len(bytes.fromhex(text)) == 32
    except ValueError:
        ok = False
    if not ok:
        raise ApiError(400, "invalid_hash", "a tx hash is 64 hex characters (sha256 of the tx bytes)")
    return text.upper()


def _refuse_float(text: str) -> Any:
    raise ApiError(400, "invalid_json", f"numbers must be integers, got {text[:32]}")


def _refuse_constant(text: str) -> Any:
    raise ApiError(400, "invalid_json", f"{text} is not JSON")


async def json_body(request: web.Request, *, integers_only: bool = False) -> Any:
    """The body as JSON (413 past the size limit); ``integers_only`` refuses floats as the chain does."""
    raw = await request.read()      # raises HTTPRequestEntityTooLarge past client_max_size
    try:
        if integers_only:
            return json.loads(raw, parse_float=_refuse_float, parse_constant=_refuse_constant)
        return json.loads(raw)
    except ApiError:
        raise
    except RecursionError:
        raise ApiError(400, "invalid_json", "the request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "the request body must be JSON") from None
