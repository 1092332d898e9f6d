"""Transaction routes: submit a signed tx, read one, search by sender or contract, and get the sign bytes.

    POST /txs[?wait=commit]      {"tx": base64}      check_tx -> mempool; {"hash"} (or, waited, its result)
    GET  /txs/{hash}                                 the committed record, or {"status": "pending"}
    GET  /txs?sender=ADDR | ?contract=ADDR           committed txs, newest first (limit, start_after=<hash>)
    POST /txs/sign-doc           unsigned tx body    the exact bytes to sign, so any language can submit

Signing happens on the client: this node never sees a private key. The sign-doc route only
validates the body as the chain will and returns canonical_json(body), the bytes ed25519 signs.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from ..app.tx import TxError, decode_tx
from ..codec import DecodeError, b64decode, b64encode, canonical_json
from ..crypto.keys import SIGNATURE_BYTES
from ..node import TxRefused
from ..store import TxRecord
from .context import node_of
from .errors import ApiError
from .inputs import address, json_body, limit as parse_limit, params, tx_hash
from .openapi import (ADDRESS, ANY_OBJECT, BASE64, COIN, HEX32, INTEGER, STRING, array, obj, operation, page,
                      path_param, query_param)

TAG = "txs"
COMMIT_WAIT_BLOCKS = 30          # ?wait=commit gives up after this many block times...
MIN_COMMIT_WAIT_S = 10.0         # ...but never sooner than this
DEFAULT_SEARCH = 30
MAX_SEARCH = 100
BODY_FIELDS = ("chain_id", "pubkey", "sequence", "gas_limit", "fee", "msgs", "memo")


def record_json(record: TxRecord) -> dict[str, Any]:
    return {"hash": record.hash.hex().upper(), "status": "committed", "height": record.height,
            "index": record.index, "sender": record.sender, "result": json.loads(record.result)}


async def post_tx(request: web.Request) -> web.Response:
    node = node_of(request)
    query = params(request, "wait")
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("tx"), str):
        raise ApiError(400, "invalid_request", 'the body must be {"tx": "<base64 of the signed tx bytes>"}')
    try:
        raw = b64decode(body["tx"])
    except DecodeError as exc:
        raise ApiError(400, "invalid_base64", f"tx: {exc}") from None
    try:
        decode_tx(raw)              # a malformed tx is refused as such before anything else is looked at
    except TxError as exc:
        raise ApiError(422, "tx_refused", str(exc), abci_code=exc.code) from None
    wait = query.get("wait")
    if wait not in (None, "commit"):
        raise ApiError(400, "invalid_param", f"wait must be 'commit' (or absent), got {wait[:32]!r}; "
                                             "the tx was not submitted")
    try:
        tx = node.submit(raw)
    except TxRefused as exc:
        raise ApiError(422, "tx_refused", str(exc), abci_code=exc.code) from None
    if wait is None:
        return web.json_response({"hash": tx.hash})
    timeout = max(MIN_COMMIT_WAIT_S, COMMIT_WAIT_BLOCKS * node.block_time)
    record = await node.wait_committed(tx.hash, timeout)
    if record is None:
        raise ApiError(504, "not_committed", f"tx {tx.hash} is not in a block after {timeout:.0f} s; "
                       f"ask GET /txs/{tx.hash} later", hash=tx.hash)
    return web.json_response(record_json(record))


async def get_tx(request: web.Request) -> web.Response:
    params(request)
    node, text = node_of(request), tx_hash(request.match_info["hash"])
    record = node.committed(text)
    if record is not None:
        return web.json_response(record_json(record))
    if text in node.mempool:
        return web.json_response({"hash": text, "status": "pending"})
    raise ApiError(404, "not_found", f"no tx {text} in a block or the mempool")


async def search_txs(request: web.Request) -> web.Response:
    node = node_of(request)
    query = params(request, "sender", "contract", "limit", "start_after")
    if ("sender" in query) == ("contract" in query):
        raise ApiError(400, "invalid_param", "give exactly one of ?sender=<address> or ?contract=<address>")
    limit = parse_limit(query, MAX_SEARCH, DEFAULT_SEARCH)
    before = None
    if "start_after" in query:
        last = node.committed(tx_hash(query["start_after"]))
        if last is None:
            raise ApiError(400, "invalid_param", "start_after must be the hash of a committed tx: the `next` of "
                                                 "the previous page")
        before = (last.height, last.index)
    if "sender" in query:
        found = node.store.txs_by_sender(address(request, query["sender"], "sender"), limit + 1, before)
    else:
        found = node.store.txs_by_contract(address(request, query["contract"], "contract"), limit + 1, before)
    more = len(found) > limit
    found = found[:limit]
    return web.json_response({"txs": [record_json(r) for r in found],
                              "next": found[-1].hash.hex().upper() if more else None})


async def sign_doc(request: web.Request) -> web.Response:
    node = node_of(request)
    params(request)
    doc = await json_body(request, integers_only=True)
    if isinstance(doc, dict) and set(doc) == {"body"}:
        doc = doc["body"]
    if not isinstance(doc, dict):
        raise ApiError(400, "invalid_request", f"the body is the unsigned tx body: an object with "
                                               f"{', '.join(BODY_FIELDS)} (or {{\"body\": {{...}}}})")
    try:
        # decoded exactly as the chain will decode the signed tx (a placeholder signature)
        tx = decode_tx(canonical_json({"body": doc, "signature": b64encode(bytes(SIGNATURE_BYTES))}))
    except TxError as exc:
        raise ApiError(400, "invalid_tx", f"{exc}: fix the body and ask again", abci_code=exc.code) from None
    except (TypeError, ValueError, RecursionError):
        raise ApiError(400, "invalid_tx", "the body holds values canonical JSON cannot encode") from None
    if tx.body.chain_id != node.chain_id:
        raise ApiError(400, "wrong_chain", f"body.chain_id is {tx.body.chain_id!r} but this node runs "
                                           f"{node.chain_id!r}: a tx for another chain is refused")
    sign_bytes = tx.sign_bytes
    return web.json_response({
        "sign_bytes": b64encode(sign_bytes),
        "sign_bytes_sha256": hashlib.sha256(sign_bytes).hexdigest(),
        "signer": tx.sender(node.prefix),
        "tx_template": {"body": doc, "signature": "<base64 of the 64-byte ed25519 signature of sign_bytes>"},
    })


def register(app: web.Application) -> None:
    app.router.add_post("/txs", post_tx)
    app.router.add_get("/txs", search_txs)
    app.router.add_post("/txs/sign-doc", sign_doc)      # before /txs/{hash}: a literal wins
    app.router.add_get("/txs/{hash}", get_tx)


# --- documentation ---------------------------------------------------------------------------------
RECORD = obj({"hash": HEX32, "status": {"const": "committed"}, "height": INTEGER, "index": INTEGER,
              "sender": STRING, "result": ANY_OBJECT})
PENDING = obj({"hash": HEX32, "status": {"const": "pending"}})
UNSIGNED_BODY = obj({"chain_id": STRING, "pubkey": BASE64, "sequence": {"type": "integer", "minimum": 0},
                     "gas_limit": {"type": "integer", "minimum": 1}, "fee": array(COIN),
                     "msgs": array(ANY_OBJECT), "memo": STRING})
SIGN_DOC_HOWTO = """\
Returns the exact bytes to sign for an unsigned tx body, so a client in any language can
submit. The body has exactly the fields chain_id, pubkey (base64 of the 32-byte ed25519 key),
sequence (the account's next: GET /accounts/{address}), gas_limit, fee ([{denom, amount}]),
msgs (1..32 messages, e.g. {"send": {"to_address", "amount"}}, {"execute": {"contract", "msg",
"funds"}}) and memo; it may also be wrapped as {"body": {...}}. Integers only: no floats.

To submit:
1. signature = ed25519_sign(private_key, base64_decode(sign_bytes))  (64 bytes; sign_bytes is
   canonical JSON of the body: keys sorted, no whitespace, UTF-8 — you may also build it yourself
   and compare sign_bytes_sha256).
2. tx = canonical JSON of {"body": <the same body>, "signature": base64(signature)} — keys
   sorted, no whitespace, non-ASCII kept as UTF-8 (`tx_template` shows the shape). The chain
   refuses any other encoding of the same content.
3. POST /txs with {"tx": base64(tx)} (add ?wait=commit to wait for the block).
The private key never leaves the client: no route accepts one."""

OPENAPI_PATHS = {
    "/txs": {
        "post": operation(
            "Submit a signed tx: check_tx, then the mempool; ?wait=commit waits for its block",
            {"anyOf": [obj({"hash": HEX32}), RECORD]}, tag=TAG, errors=(400, 413, 422, 504),
            parameters=[query_param("wait", {"enum": ["commit"]}, "commit: answer with the committed result "
                                                                    "(504 not_committed if no block holds it in time)")],
            body=obj({"tx": BASE64}),
            description="422 tx_refused carries the app's abci_code (cosmos-sdk's codes). See POST /txs/sign-doc "
                        "for how to build and sign the tx bytes."),
        "get": operation(
            "Search committed txs by sender or by contract (a contract's txs: those whose events name it)",
            page("txs", RECORD, HEX32), tag=TAG,
            parameters=[query_param("sender", ADDRESS, "txs signed by this account"),
                        query_param("contract", ADDRESS, "txs that called this contract (directly or by submessage)"),
                        query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH,
                                              "default": DEFAULT_SEARCH}, f"page size, 1..{MAX_SEARCH}"),
                        query_param("start_after", HEX32, "the hash of the last tx already seen: the previous "
                                                          "page's `next`")],
            description="Exactly one of sender or contract. Newest first."),
    },
    "/txs/sign-doc": {"post": operation(
        "The exact bytes to sign for an unsigned tx body (and how to assemble the signed tx)",
        obj({"sign_bytes": BASE64, "sign_bytes_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
             "signer": ADDRESS, "tx_template": ANY_OBJECT}),
        tag=TAG, body={"anyOf": [UNSIGNED_BODY, obj({"body": UNSIGNED_BODY})]}, errors=(400, 413),
        description=SIGN_DOC_HOWTO)},
    "/txs/{hash}": {"get": operation(
        "A tx by hash: its committed record, or pending while it waits in the mempool",
        {"anyOf": [RECORD, PENDING]}, tag=TAG, errors=(400, 404),
        parameters=[path_param("hash", HEX32, "sha256 of the tx bytes, 64 hex characters")])},
}
