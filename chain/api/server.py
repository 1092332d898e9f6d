"""The node's HTTP API (aiohttp): served by every node, described at GET /openapi.json.

Routes live in route modules, one concern each:

    routes_chain.py      /status, /blocks/{height}[/results], /accounts/{address}
    routes_txs.py        POST /txs[?wait=commit], GET /txs/{hash}, GET /txs?sender=|contract=, POST /txs/sign-doc
    routes_contracts.py  /codes..., /contracts/{address}[/history|/raw/{key}|/smart], /genesis/contracts
    routes_gov.py        /gov/proposals..., /circle/..., /poe/..., /validators...
    openapi.py           /openapi.json, built from the modules that are served

The convention: **a route module exposes ``register(app)`` and ``OPENAPI_PATHS``**.
``register`` adds its routes to the application (make_app calls it with one line);
``OPENAPI_PATHS`` ({path: {method: operation}}, openapi.py has helpers) documents them, and
/openapi.json merges the OPENAPI_PATHS of every module whose handlers the router holds, so a
route is documented exactly when its module is registered. tests/api checks that every route
is documented and every documented route exists. Route modules import what they share from
errors.py (ApiError), context.py (NODE_KEY, node_of, app_query) and inputs.py (request
parsing), never from this module, which imports them.

JSON everywhere; every error is ``{"error": {"code": <short name>, "message": <what to do>}}``
with a 4xx status for bad input (a 500 would be our bug). Bodies are capped at MAX_BODY_BYTES;
no CORS headers are sent (a browser page of another origin cannot read the API); the server
binds to loopback unless told otherwise; no route holds or accepts a private key.
"""
from __future__ import annotations

from aiohttp import web

from .context import GENESIS_CONTRACTS_KEY, NODE_KEY
from .errors import MAX_BODY_BYTES, ApiError, errors_middleware
from . import gov, openapi, routes_chain, routes_contracts, routes_gov, routes_txs
from . import events, metrics
from ..node import Node

__all__ = ["make_app", "serve", "parse_listen", "ApiError", "NODE_KEY", "MAX_BODY_BYTES"]


def make_app(node: Node) -> web.Application:
    """The application: the node, the error middleware, then one ``register`` line per route module."""
    app = web.Application(middlewares=[errors_middleware], client_max_size=MAX_BODY_BYTES)
    app[NODE_KEY] = node
    app[GENESIS_CONTRACTS_KEY] = {}
    routes_chain.register(app)
    routes_txs.register(app)
    routes_contracts.register(app)
    routes_gov.register(app)
    gov.register(app)                  # admins: POST /gov/code-proposals (chain/api/gov.py)
    events.register(app)               # GET /events websocket stream (chain/api/events.py)
    metrics.register(app)              # GET /metrics, GET /healthz (chain/api/metrics.py)
    openapi.register(app)
    return app


def parse_listen(text: str) -> tuple[str, int]:
    """host:port (host defaults to 127.0.0.1: the API is reachable from this machine only unless told)."""
    host, _, port = text.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--api must be HOST:PORT, got {text!r}")
    return host or "127.0.0.1", int(port)


async def serve(node: Node, listen: str) -> None:
    """Run the API and the block loop together until the node stops."""
    host, port = parse_listen(listen)
    runner = web.AppRunner(make_app(node), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        await node.run()
    finally:
        await runner.cleanup()
