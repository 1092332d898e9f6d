"""The API's one error shape, and the middleware that gives every failure that shape.

    {"error": {"code": "<short name>", "message": "<what was wrong and what to do>", ...}}

A handler raises ApiError(status, code, message); aiohttp's own refusals (404 no route, 405,
413 body too large) are rewritten into the same shape; anything else is our bug and still
answers as the shape (500 "internal") so the node keeps serving.
"""
from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

log = logging.getLogger("conclave.api")

MAX_BODY_BYTES = 2 * 1024 * 1024
_AIOHTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


class ApiError(Exception):
    """A refusal: the HTTP status, a short machine-readable code, a message saying what to do."""

    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.extra = status, code, extra


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, **extra}}, status=status)


@web.middleware
async def errors_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Every failure as the error shape: ours, aiohttp's (404, 405, 413) and, last, our bugs."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, str(exc), **exc.extra)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = {404: f"no route {request.method} {request.path[:200]}: GET /openapi.json lists every route",
                   405: f"{request.method} is not allowed on {request.path[:200]}: GET /openapi.json lists the "
                        "methods of every route",
                   413: f"request body is larger than {MAX_BODY_BYTES} bytes"}.get(exc.status, exc.reason)
        return error_response(exc.status, _AIOHTTP_CODES.get(exc.status, "bad_request"), message)
    except Exception as exc:  # noqa: BLE001 - a bug of ours: still the error shape, and the node keeps serving
        log.exception("API handler failed on %s %s", request.method, request.path[:200])
        return error_response(500, "internal", f"internal error ({type(exc).__name__}): please report it")
