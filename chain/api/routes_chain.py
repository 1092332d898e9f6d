"""Chain routes: the node's status, blocks with their commit and results, accounts.

    GET /status                       height, app hash, validators, catching_up, ...
    GET /blocks/{height}              the block, the commit that decided it, its results ("latest" works)
    GET /blocks/{height}/results      what executing it did: tx results, events, validator updates
    GET /accounts/{address}           sequence and balances
"""
from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..consensus.driver import commit_record
from ..node import Node
from .context import app_query, node_of
from .errors import ApiError
from .inputs import height as parse_height, params, path_address
from .openapi import (ADDRESS, ANY_OBJECT, BASE64, BOOLEAN, COIN, HEX32, INTEGER, STRING, array, nullable, obj,
                      operation, path_param)

TAG = "chain"


async def status(request: web.Request) -> web.Response:
    params(request)
    return web.json_response(node_of(request).status())


def _height(request: web.Request) -> tuple[Node, int]:
    """The committed height the path names ("latest" is the newest), or 404 if there is no such block."""
    node, text = node_of(request), request.match_info["height"]
    height = node.height if text == "latest" else parse_height(text)
    if height < 1 or height > node.height or node.store.block(height) is None:
        latest = f"the latest is {node.height}" if node.height else "no block is committed yet"
        raise ApiError(404, "not_found", f"no block at height {text[:32]}: {latest}")
    return node, height


def _json_or_none(raw: bytes | None) -> Any:
    return json.loads(raw) if raw else None


async def get_block(request: web.Request) -> web.Response:
    params(request)
    node, height = _height(request)
    return web.json_response({
        "height": height,
        "block": json.loads(node.store.block(height)),
        "commit": _json_or_none(node.store.record(commit_record(height))),
        "results": _json_or_none(node.store.block_results(height)),
    })


async def get_block_results(request: web.Request) -> web.Response:
    params(request)
    node, height = _height(request)
    results = node.store.block_results(height)
    if results is None:
        raise ApiError(404, "not_found", f"this node keeps no results for height {height} (it synced the block)")
    return web.json_response(json.loads(results))


async def get_account(request: web.Request) -> web.Response:
    params(request)
    return web.json_response(app_query(node_of(request), f"/auth/account/{path_address(request)}"))


def register(app: web.Application) -> None:
    app.router.add_get("/status", status)
    app.router.add_get("/blocks/{height}", get_block)
    app.router.add_get("/blocks/{height}/results", get_block_results)
    app.router.add_get("/accounts/{address}", get_account)


# --- documentation ---------------------------------------------------------------------------------
VALIDATOR = obj({"pubkey": BASE64, "power": INTEGER})
STATUS = obj({"chain_id": STRING, "height": INTEGER, "app_hash": STRING, "latest_block_time_ns": INTEGER,
              "validators": array(VALIDATOR), "catching_up": BOOLEAN, "node_id": STRING, "moniker": STRING,
              "mempool_txs": INTEGER, "peers": INTEGER, "is_validator": BOOLEAN, "validator": nullable(BASE64),
              "round": INTEGER, "step": STRING},
             required=["chain_id", "height", "app_hash", "latest_block_time_ns", "validators", "catching_up"])
COMMIT = obj({"height": INTEGER, "round": INTEGER, "block_hash": HEX32, "signatures": array(
    obj({"validator": STRING, "timestamp_ns": INTEGER, "signature": BASE64}))})
BLOCK = obj({"header": obj({"chain_id": STRING, "height": INTEGER, "time_ns": INTEGER, "app_hash": STRING,
                            "proposer": STRING}),
             "txs": array(BASE64), "evidence": array(ANY_OBJECT), "last_commit": nullable(COMMIT)})
EVENT = obj({"type": STRING, "attributes": array(obj({"key": STRING, "value": STRING}))})
TX_RESULT = obj({"code": INTEGER, "codespace": STRING, "log": STRING, "gas_used": INTEGER, "gas_wanted": INTEGER,
                 "events": array(EVENT), "data": nullable(BASE64)})
RESULTS = obj({"height": INTEGER, "app_hash": HEX32, "tx_results": array(TX_RESULT),
               "begin_block": ANY_OBJECT, "end_block": ANY_OBJECT, "validator_updates": array(ANY_OBJECT),
               "validators_in_effect": array(ANY_OBJECT)},
              required=["height", "app_hash", "tx_results"],
              description="app_hash is the state root after this block; the next block's header carries it")
HEIGHT_PARAM = path_param("height", {"anyOf": [{"type": "integer", "minimum": 1}, {"const": "latest"}]},
                          'a block height, or "latest"')

OPENAPI_PATHS = {
    "/status": {"get": operation(
        "The node: chain id, height, app hash, validators in effect, whether it is catching up", STATUS, tag=TAG)},
    "/blocks/{height}": {"get": operation(
        "A committed block with the commit (+2/3 precommits) that decided it, and its results",
        obj({"height": INTEGER, "block": BLOCK, "commit": nullable(COMMIT), "results": nullable(RESULTS)}),
        tag=TAG, parameters=[HEIGHT_PARAM], errors=(400, 404),
        description="`commit` is the commit this node saw for the block (the next block carries one as "
                    "`last_commit`); null only on a node that synced the block without keeping it.")},
    "/blocks/{height}/results": {"get": operation(
        "What executing a block did: each tx's result and events, begin/end block events, validator updates",
        RESULTS, tag=TAG, parameters=[HEIGHT_PARAM], errors=(400, 404))},
    "/accounts/{address}": {"get": operation(
        "An account: its sequence (the next tx's) and balances",
        obj({"address": ADDRESS, "sequence": INTEGER, "balances": array(COIN)}), tag=TAG,
        parameters=[path_param("address", ADDRESS, "the account")])},
}
