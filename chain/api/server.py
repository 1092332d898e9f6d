"""The node's minimal HTTP API (aiohttp): status, submit and get txs, blocks, accounts, smart queries.

    GET  /status                                  chain_id, height, app_hash, latest block time
    POST /txs[?wait=commit]      {"tx": base64}   check_tx -> mempool; {"hash"} (or its result)
    GET  /txs/{hash}                              committed record, or {"status": "pending"}
    GET  /blocks/{height}                         block and results JSON
    GET  /accounts/{address}                      sequence and balances
    GET  /contracts/{address}/smart?msg=<base64 JSON>, or POST with the JSON as the body

JSON everywhere; every error is ``{"error": {"code": <short name>, "message": <what to do>}}``
with a 4xx status for bad input (a 500 would be our bug). Bodies are capped at MAX_BODY_BYTES,
and the server binds to loopback unless told otherwise. The full API is its own issue.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aiohttp import web

from ..app.address import Bech32Api
from ..app.errors import InvalidRequest
from ..codec import b64decode, DecodeError
from ..node import Node, TxRefused

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_HEIGHT = (1 << 63) - 1
COMMIT_WAIT_BLOCKS = 30          # ?wait=commit gives up after this many block times...
MIN_COMMIT_WAIT_S = 10.0         # ...but never sooner than this
HEX_HASH_CHARS = 64

NODE_KEY = web.AppKey("node", Node)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.extra = status, code, extra


def _error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, **extra}}, status=status)


@web.middleware
async def _errors(request: web.Request, handler) -> web.StreamResponse:
    """Every failure as the error shape: ours, aiohttp's (404, 405, 413) and, last, our bugs."""
    try:
        return await handler(request)
    except ApiError as exc:
        return _error_response(exc.status, exc.code, str(exc), **exc.extra)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        names = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
        message = {404: f"no route {request.method} {request.path}: see GET /status, /txs, /blocks, "
                        "/accounts, /contracts",
                   413: f"request body is larger than {MAX_BODY_BYTES} bytes"}.get(exc.status, exc.reason)
        return _error_response(exc.status, names.get(exc.status, "bad_request"), message)
    except Exception as exc:  # noqa: BLE001 - a bug of ours: still the error shape, and the node keeps serving
        return _error_response(500, "internal", f"internal error ({type(exc).__name__}): please report it")


def _node(request: web.Request) -> Node:
    return request.app[NODE_KEY]


async def _json_body(request: web.Request) -> Any:
    raw = await request.read()      # raises HTTPRequestEntityTooLarge past client_max_size
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "the request body must be JSON") from None


def _address(request: web.Request) -> str:
    node, address = _node(request), request.match_info["address"]
    try:
        return Bech32Api(node.prefix).validate(address)
    except InvalidRequest as exc:
        raise ApiError(400, "invalid_address", f"{exc}: expected a {node.prefix}1... address") from None


def _query(node: Node, path: str, data: bytes = b"") -> Any:
    answer = node.app.query(path, data)
    if answer["code"] != 0:
        raise ApiError(400, "query_failed", answer["log"])
    return answer["value"]


async def status(request: web.Request) -> web.Response:
    return web.json_response(_node(request).status())


async def post_tx(request: web.Request) -> web.Response:
    node = _node(request)
    body = await _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("tx"), str):
        raise ApiError(400, "invalid_request", 'the body must be {"tx": "<base64 of the signed tx bytes>"}')
    try:
        raw = b64decode(body["tx"])
    except DecodeError as exc:
        raise ApiError(400, "invalid_base64", f"tx: {exc}") from None
    try:
        tx = node.submit(raw)
    except TxRefused as exc:
        raise ApiError(422, "tx_refused", str(exc), abci_code=exc.code) from None
    wait = request.query.get("wait")
    if wait is None:
        return web.json_response({"hash": tx.hash})
    if wait != "commit":
        raise ApiError(400, "invalid_request", f"wait must be 'commit', got {wait!r} (the tx {tx.hash} was admitted)")
    timeout = max(MIN_COMMIT_WAIT_S, COMMIT_WAIT_BLOCKS * node.block_time)
    record = await node.wait_committed(tx.hash, timeout)
    if record is None:
        raise ApiError(504, "not_committed", f"tx {tx.hash} is not in a block after {timeout:.0f} s; "
                       f"ask GET /txs/{tx.hash} later", hash=tx.hash)
    return web.json_response(_record_json(record))


def _record_json(record) -> dict[str, Any]:
    return {"hash": record.hash.hex().upper(), "status": "committed", "height": record.height,
            "index": record.index, "sender": record.sender, "result": json.loads(record.result)}


async def get_tx(request: web.Request) -> web.Response:
    node, text = _node(request), request.match_info["hash"]
    try:
        ok = len(text) == HEX_HASH_CHARS and len(bytes.fromhex(text)) == 32
    except ValueError:
        ok = False
    if not ok:
        raise ApiError(400, "invalid_hash", "a tx hash is 64 hex characters (sha256 of the tx bytes)")
    record = node.committed(text)
    if record is not None:
        return web.json_response(_record_json(record))
    if text.upper() in node.mempool:
        return web.json_response({"hash": text.upper(), "status": "pending"})
    raise ApiError(404, "not_found", f"no tx {text.upper()} in a block or the mempool")


async def get_block(request: web.Request) -> web.Response:
    node, text = _node(request), request.match_info["height"]
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_HEIGHT:
        raise ApiError(400, "invalid_height", f"height must be a positive integer, got {text[:32]!r}")
    height = int(text)
    raw = node.store.block(height) if height <= node.height else None
    if raw is None:
        raise ApiError(404, "not_found", f"no block at height {height}: the latest is {node.height}")
    results = node.store.block_results(height)
    return web.json_response({"height": height, "block": json.loads(raw),
                              "results": json.loads(results) if results else None})


async def get_account(request: web.Request) -> web.Response:
    node = _node(request)
    return web.json_response(_query(node, f"/auth/account/{_address(request)}"))


async def smart_query(request: web.Request) -> web.Response:
    node, address = _node(request), _address(request)
    if request.method == "POST":
        msg = await _json_body(request)
    else:
        text = request.query.get("msg")
        if text is None:
            raise ApiError(400, "invalid_request", "give the query as ?msg=<base64 of the JSON> or POST it as JSON")
        try:
            msg = json.loads(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise ApiError(400, "invalid_query", "msg must be base64 of a JSON query") from None
    if not isinstance(msg, dict):
        raise ApiError(400, "invalid_query", 'a smart query is a JSON object, e.g. {"config": {}}')
    answer = _query(node, f"/wasm/smart/{address}", json.dumps(msg, separators=(",", ":")).encode())
    return web.json_response({"data": answer})


def make_app(node: Node) -> web.Application:
    app = web.Application(middlewares=[_errors], client_max_size=MAX_BODY_BYTES)
    app[NODE_KEY] = node
    app.router.add_get("/status", status)
    app.router.add_post("/txs", post_tx)
    app.router.add_get("/txs/{hash}", get_tx)
    app.router.add_get("/blocks/{height}", get_block)
    app.router.add_get("/accounts/{address}", get_account)
    app.router.add_get("/contracts/{address}/smart", smart_query)
    app.router.add_post("/contracts/{address}/smart", smart_query)
    return app


def parse_listen(text: str) -> tuple[str, int]:
    """host:port (host defaults to 127.0.0.1)."""
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
