"""Contract routes: codes, contracts, their history, smart queries and raw state with Merkle proofs.

    GET  /codes                                 code infos (id, checksum, size, creator), by id
    GET  /codes/{code_id}                       one code's info
    GET  /codes/{code_id}/contracts             the contracts running that code
    GET  /contracts/{address}                   contract info (code id, admin, label, creator, created)
    GET  /contracts/{address}/history           its instantiate and migrate entries
    GET  /contracts/{address}/raw/{key}         a raw storage value (hex key) + proof against an app hash
    GET  /contracts/{address}/smart?msg=<b64>   a smart query (or POST the query JSON)
    GET  /genesis/contracts                     the genesis contracts by name

A raw value's proof verifies with chain/store/proofs.py ``verify_proof(app_hash, store_key,
value, proof)``; ``app_hash`` is the state root after block ``height``, which block results
report and the header of block ``height + 1`` carries, so a client that trusts that header
(signed by +2/3 of the validators) needs to trust nothing else.
"""
from __future__ import annotations

import base64
import binascii
import json

from aiohttp import web

from .context import app_query, node_of, smart_query as run_smart_query
from .errors import ApiError
from .inputs import MAX_HEIGHT, MAX_U64, integer, json_body, limit as parse_limit, params, path_address
from .openapi import (ADDRESS, ANY_OBJECT, BASE64, HEX32, INTEGER, STRING, array, limit_param, nullable, obj,
                      operation, page, path_param, query_param, start_after_param)

TAG = "contracts"
DEFAULT_PAGE = 30
MAX_PAGE = 50                # the app answers up to MAX_QUERY_PAGE (100); one more is asked for
MAX_RAW_KEY_BYTES = 1024     # contract storage keys are short (cw-storage-plus: a namespace and a key)


def _page_data(start_after: object, limit: int) -> bytes:
    return json.dumps({"start_after": start_after, "limit": limit + 1}).encode()


def _paged(items: list, limit: int, cursor) -> dict:
    """The first ``limit`` items (one more was asked for to know if there is a next page)."""
    return {"items": items[:limit], "next": cursor(items[limit - 1]) if len(items) > limit else None}


def _code_id(request: web.Request) -> int:
    return integer(request.match_info["code_id"], "code_id", 1, MAX_U64)


async def list_codes(request: web.Request) -> web.Response:
    query = params(request, "limit", "start_after")
    limit = parse_limit(query, MAX_PAGE, DEFAULT_PAGE)
    after = integer(query["start_after"], "start_after", 0, MAX_U64) if "start_after" in query else None
    codes = app_query(node_of(request), "/wasm/codes", _page_data(after, limit))["codes"]
    got = _paged(codes, limit, lambda c: c["code_id"])
    return web.json_response({"codes": got["items"], "next": got["next"]})


async def get_code(request: web.Request) -> web.Response:
    params(request)
    code_id = _code_id(request)
    info = app_query(node_of(request), f"/wasm/code/{code_id}")
    if info is None:
        raise ApiError(404, "not_found", f"no code {code_id}: GET /codes lists them")
    return web.json_response(info)


async def code_contracts(request: web.Request) -> web.Response:
    query = params(request, "limit", "start_after")
    limit = parse_limit(query, MAX_PAGE, DEFAULT_PAGE)
    code_id, node = _code_id(request), node_of(request)
    if app_query(node, f"/wasm/code/{code_id}") is None:
        raise ApiError(404, "not_found", f"no code {code_id}: GET /codes lists them")
    after = query.get("start_after")
    if after is not None and not 0 < len(after) <= 256:
        raise ApiError(400, "invalid_param", "start_after must be a contract address: the previous page's `next`")
    found = app_query(node, f"/wasm/code/{code_id}/contracts", _page_data(after, limit))["contracts"]
    got = _paged(found, limit, lambda a: a)
    return web.json_response({"code_id": code_id, "contracts": got["items"], "next": got["next"]})


def _contract_info(request: web.Request) -> dict:
    address = path_address(request)
    info = app_query(node_of(request), f"/wasm/contract/{address}")
    if info is None:
        raise ApiError(404, "not_found", f"no contract at {address}")
    return info


async def get_contract(request: web.Request) -> web.Response:
    params(request)
    return web.json_response(_contract_info(request))


async def contract_history(request: web.Request) -> web.Response:
    query = params(request, "limit", "start_after")
    limit = parse_limit(query, MAX_PAGE, DEFAULT_PAGE)
    after = integer(query["start_after"], "start_after", 0, MAX_U64) if "start_after" in query else None
    info = _contract_info(request)
    entries = app_query(node_of(request), f"/wasm/contract/{info['address']}/history",
                        _page_data(after, limit))["entries"]
    got = _paged(entries, limit, lambda e: e["seq"])
    return web.json_response({"address": info["address"], "entries": got["items"], "next": got["next"]})


async def raw_state(request: web.Request) -> web.Response:
    node = node_of(request)
    query = params(request, "height")
    address, key = path_address(request), request.match_info["key"]
    try:
        ok = len(key) <= 2 * MAX_RAW_KEY_BYTES and bytes.fromhex(key) is not None
    except ValueError:
        ok = False
    if not ok:
        raise ApiError(400, "invalid_key", f"the key is hex of at most {MAX_RAW_KEY_BYTES} bytes, e.g. "
                                           f"{b'config'.hex()} for b\"config\"")
    height = node.height
    if "height" in query:
        height = integer(query["height"], "height", 1, MAX_HEIGHT, "invalid_height")
        if not node.store.earliest <= height <= node.height:
            raise ApiError(404, "not_found", f"height {height} is not kept here: this node answers heights "
                                             f"{node.store.earliest}..{node.height}")
    if height < 1:
        raise ApiError(404, "not_found", "no block is committed yet: raw state is proven against a block")
    answer = app_query(node, f"/wasm/contract/{address}/raw/{key.lower()}", height=height)
    return web.json_response({"contract": address, "height": height, "key": answer["contract_key"],
                              "store_key": answer["key"], "value": answer["value"], "proof": answer["proof"],
                              "app_hash": answer["app_hash"]})


async def smart(request: web.Request) -> web.Response:
    node, address = node_of(request), path_address(request)
    if request.method == "POST":
        params(request)
        msg = await json_body(request)
    else:
        text = params(request, "msg").get("msg")
        if text is None:
            raise ApiError(400, "invalid_request", "give the query as ?msg=<base64 of the JSON> or POST it as JSON")
        try:
            msg = json.loads(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
            raise ApiError(400, "invalid_query", "msg must be base64 of a JSON query") from None
    if not isinstance(msg, dict):
        raise ApiError(400, "invalid_query", 'a smart query is a JSON object, e.g. {"config": {}}')
    return web.json_response({"data": run_smart_query(node, address, msg)})


async def genesis_contracts(request: web.Request) -> web.Response:
    params(request)
    return web.json_response(app_query(node_of(request), "/genesis/contracts"))


def register(app: web.Application) -> None:
    app.router.add_get("/codes", list_codes)
    app.router.add_get("/codes/{code_id}", get_code)
    app.router.add_get("/codes/{code_id}/contracts", code_contracts)
    app.router.add_get("/contracts/{address}", get_contract)
    app.router.add_get("/contracts/{address}/history", contract_history)
    app.router.add_get("/contracts/{address}/raw/{key}", raw_state)
    app.router.add_get("/contracts/{address}/smart", smart)
    app.router.add_post("/contracts/{address}/smart", smart)
    app.router.add_get("/genesis/contracts", genesis_contracts)


# --- documentation ---------------------------------------------------------------------------------
CODE = obj({"code_id": INTEGER, "checksum": HEX32, "size": INTEGER, "creator": ADDRESS})
CONTRACT = obj({"address": ADDRESS, "code_id": INTEGER, "creator": ADDRESS, "admin": nullable(ADDRESS),
                "label": STRING, "created_height": INTEGER, "created_tx_index": nullable(INTEGER)})
HISTORY_ENTRY = obj({"seq": INTEGER, "operation": {"enum": ["init", "migrate", "genesis"]}, "code_id": INTEGER,
                     "height": INTEGER, "msg": {}})
PROOF = obj({"siblings": array(HEX32), "leaf": nullable(obj({"key_hash": HEX32, "value_hash": HEX32}))})
ADDRESS_PARAM = path_param("address", ADDRESS, "the contract")
CODE_ID_PARAM = path_param("code_id", {"type": "integer", "minimum": 1}, "a code id")
PAGE_PARAMS = [limit_param(MAX_PAGE, DEFAULT_PAGE)]
SMART_DESCRIPTION = "The contract's answer to a JSON query (its own query messages: contracts/INTERFACES.md)."

OPENAPI_PATHS = {
    "/codes": {"get": operation(
        "Stored codes (id, sha256 checksum, size), by code id", page("codes", CODE, INTEGER), tag=TAG,
        parameters=PAGE_PARAMS + [start_after_param({"type": "integer", "minimum": 0}, "a code id")])},
    "/codes/{code_id}": {"get": operation(
        "One stored code", CODE, tag=TAG, parameters=[CODE_ID_PARAM], errors=(400, 404))},
    "/codes/{code_id}/contracts": {"get": operation(
        "The contracts whose current code is this one, by address",
        obj({"code_id": INTEGER, "contracts": array(ADDRESS), "next": nullable(ADDRESS)}), tag=TAG,
        parameters=[CODE_ID_PARAM, *PAGE_PARAMS, start_after_param(ADDRESS, "a contract address")],
        errors=(400, 404))},
    "/contracts/{address}": {"get": operation(
        "A contract: code id, admin, label, creator, creation height", CONTRACT, tag=TAG,
        parameters=[ADDRESS_PARAM], errors=(400, 404))},
    "/contracts/{address}/history": {"get": operation(
        "The contract's code history: instantiate (init) and migrate entries, oldest first",
        obj({"address": ADDRESS, "entries": array(HISTORY_ENTRY), "next": nullable(INTEGER)}), tag=TAG,
        parameters=[ADDRESS_PARAM, *PAGE_PARAMS, start_after_param({"type": "integer", "minimum": 0},
                                                                   "an entry's seq")],
        errors=(400, 404))},
    "/contracts/{address}/raw/{key}": {"get": operation(
        "A raw storage value of the contract, with a Merkle proof against the app hash of a height",
        obj({"contract": ADDRESS, "height": INTEGER, "key": STRING, "store_key": STRING, "value": nullable(BASE64),
             "proof": PROOF, "app_hash": HEX32}),
        tag=TAG, errors=(400, 404),
        parameters=[ADDRESS_PARAM, path_param("key", {"type": "string", "pattern": "^([0-9a-fA-F]{2})*$"},
                                              "the storage key in hex (the contract's own key)"),
                    query_param("height", {"type": "integer", "minimum": 1}, "a kept height (default latest)")],
        description="value is null (and the proof shows absence) when the key is not set. Verify: "
                    "chain/store/proofs.py verify_proof(bytes.fromhex(app_hash), bytes.fromhex(store_key), "
                    "value bytes or None, Proof.from_json(proof)); app_hash is the root after block `height` "
                    "(GET /blocks/{height}/results; the header of block height+1 carries it).")},
    "/contracts/{address}/smart": {
        "get": operation("Smart query, the query as ?msg=<base64 of its JSON>", obj({"data": {}}), tag=TAG,
                         parameters=[ADDRESS_PARAM, query_param("msg", BASE64, "base64 of the JSON query",
                                                                required=True)],
                         description=SMART_DESCRIPTION),
        "post": operation("Smart query, the query JSON as the body", obj({"data": {}}), tag=TAG,
                          parameters=[ADDRESS_PARAM], body=ANY_OBJECT, errors=(400, 413),
                          description=SMART_DESCRIPTION),
    },
    "/genesis/contracts": {"get": operation(
        "The genesis contracts' addresses by name (group, membership, voting, engagement, stake, mixer, valset)",
        {"type": "object", "additionalProperties": ADDRESS}, tag=TAG)},
}
