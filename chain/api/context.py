"""What a route handler reads: the node behind the app, its app queries, the genesis contracts.

Handlers never reach into the app's state directly: they ask ``App.query`` (the ABCI query
path, the same answers an ABCI adapter would give) or the store's block and tx records.
Everything runs on the node's event loop, between blocks, so a handler sees one committed
height throughout.
"""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..node import Node
from .errors import ApiError

NODE_KEY = web.AppKey("node", Node)
GENESIS_CONTRACTS_KEY = web.AppKey("genesis_contracts", dict)


def node_of(request: web.Request) -> Node:
    return request.app[NODE_KEY]


def app_query(node: Node, path: str, data: bytes = b"", height: int | None = None) -> Any:
    """The app's answer to ``path``, or a 400 query_failed with the app's reason."""
    answer = node.app.query(path, data, height)
    if answer["code"] != 0:
        raise ApiError(400, "query_failed", answer["log"])
    return answer["value"]


def smart_query(node: Node, contract: str, msg: dict[str, Any]) -> Any:
    """A contract's answer to a JSON query (400 query_failed with the contract's error)."""
    return app_query(node, f"/wasm/smart/{contract}", json.dumps(msg, separators=(",", ":")).encode())


def genesis_contract(request: web.Request, name: str) -> str:
    """The address of genesis contract ``name`` (voting, membership, ...), remembered once known.

    The addresses never change (a migration keeps the address), so the first answer is kept.
    """
    known: dict[str, str] = request.app[GENESIS_CONTRACTS_KEY]
    if name not in known:
        known.update(app_query(node_of(request), "/genesis/contracts"))
    if name not in known:
        raise ApiError(404, "not_found", f"this chain has no genesis {name} contract (GET /genesis/contracts "
                                         "lists the ones it has)")
    return known[name]
