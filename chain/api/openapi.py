"""The OpenAPI 3.1 document at /openapi.json, assembled from the route modules that are served.

Each route module keeps the documentation of its routes next to them, in ``OPENAPI_PATHS``
({path: {method: operation}}). The document is built from the modules whose handlers the
application's router actually holds, so registering a module documents it, and a route
without documentation (or documentation without a route) shows up in the OpenAPI test.
The helpers below keep the operations short and alike; schemas are JSON Schema 2020-12.
"""
from __future__ import annotations

import sys
from typing import Any, Iterable

from aiohttp import web

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
DOCUMENT_KEY = web.AppKey("openapi_document", dict)

ERROR_SCHEMA = {
    "type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string", "description": "short machine-readable name, e.g. invalid_address"},
                       "message": {"type": "string", "description": "what was wrong and what to do"}},
        "description": "some errors add fields, e.g. tx_refused adds abci_code, not_committed adds hash"}},
}
COMPONENTS = {
    "schemas": {"Error": ERROR_SCHEMA},
    "responses": {"Error": {"description": "refused: the error shape says why and what to do",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
}

# --- schema shorthands ---------------------------------------------------------------------------
STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
ADDRESS = {"type": "string", "description": "bech32 address of this chain (prefix1...)"}
HEX32 = {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}
BASE64 = {"type": "string", "contentEncoding": "base64"}
DECIMAL = {"type": "string", "pattern": "^[0-9]+$", "description": "an integer amount as a decimal string"}
COIN = {"type": "object", "required": ["denom", "amount"], "properties": {"denom": STRING, "amount": DECIMAL}}
ANY_OBJECT = {"type": "object"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def obj(properties: dict[str, Any], required: Iterable[str] | None = None, **extra: Any) -> dict[str, Any]:
    """An object schema; every property is required unless ``required`` says otherwise."""
    return {"type": "object", "required": list(properties if required is None else required),
            "properties": properties, **extra}


def page(item_name: str, item: dict[str, Any], cursor: dict[str, Any]) -> dict[str, Any]:
    """A list page: the items, and ``next`` (pass it as start_after) or null at the end."""
    return obj({item_name: array(item), "next": nullable(cursor)})


# --- parameters ----------------------------------------------------------------------------------
def path_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def query_param(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def limit_param(maximum: int, default: int) -> dict[str, Any]:
    return query_param("limit", {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
                       f"page size, 1..{maximum} (default {default})")


def start_after_param(schema: dict[str, Any], what: str) -> dict[str, Any]:
    return query_param("start_after", schema, f"{what}: the previous page's `next`")


# --- operations ----------------------------------------------------------------------------------
def operation(summary: str, ok: dict[str, Any], *, tag: str, description: str = "",
              parameters: Iterable[dict[str, Any]] = (), body: dict[str, Any] | None = None,
              errors: Iterable[int] = (400,), ok_description: str = "OK") -> dict[str, Any]:
    """One documented operation: JSON in (``body`` schema), JSON out (``ok`` schema), the error shape otherwise."""
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "operationId": "",
                          "responses": {"200": {"description": ok_description,
                                                "content": {"application/json": {"schema": ok}}}}}
    if description:
        op["description"] = description
    if parameters:
        op["parameters"] = list(parameters)
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    for status in sorted({*errors, 405}):
        op["responses"][str(status)] = {"$ref": "#/components/responses/Error"}
    op["responses"]["default"] = {"$ref": "#/components/responses/Error"}
    return op


# --- the document --------------------------------------------------------------------------------
def route_modules(app: web.Application) -> list[Any]:
    """The modules whose handlers ``app`` serves (each documents its own routes), in routing order."""
    seen: dict[str, Any] = {}
    for route in app.router.routes():
        handler = route.handler
        handler = getattr(handler, "func", handler)          # functools.partial
        name = getattr(handler, "__module__", None)
        if name and name not in seen and name in sys.modules:
            seen[name] = sys.modules[name]
    return list(seen.values())


def build_document(app: web.Application) -> dict[str, Any]:
    """Merge the OPENAPI_PATHS of every served module into one OpenAPI document."""
    paths: dict[str, dict[str, Any]] = {}
    for module in route_modules(app):
        for path, methods in getattr(module, "OPENAPI_PATHS", {}).items():
            paths.setdefault(path, {}).update(methods)
    for path, methods in paths.items():
        for method, op in methods.items():
            if isinstance(op, dict) and not op.get("operationId"):
                words = "".join(c if c.isalnum() else " " for c in path).split()
                op["operationId"] = method + "".join(word.title() for word in words)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Conclave node API", "version": API_VERSION,
                 "description": "JSON over HTTP, served by every node. Every error is "
                                '{"error": {"code", "message"}} with a 4xx status for bad input. Lists take '
                                "`limit` and `start_after` and answer `next` (the next page's start_after, or "
                                "null at the end). No endpoint holds or accepts private keys: sign on the "
                                "client (POST /txs/sign-doc gives the exact bytes)."},
        "paths": dict(sorted(paths.items())),
        "components": COMPONENTS,
    }


async def get_openapi(request: web.Request) -> web.Response:
    cache = request.app[DOCUMENT_KEY]
    if "document" not in cache:     # the router is frozen once serving: build once
        cache["document"] = build_document(request.app)
    return web.json_response(cache["document"])


OPENAPI_PATHS = {"/openapi.json": {"get": operation(
    "This document: every route, its parameters and answers", {"type": "object", "required": ["openapi", "paths"]},
    tag="meta", errors=())}}


def register(app: web.Application) -> None:
    app[DOCUMENT_KEY] = {}
    app.router.add_get("/openapi.json", get_openapi)
