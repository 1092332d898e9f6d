"""Admin upgrades over HTTP: code proposals arrive as signed txs, and their wasm is judged first.

    POST /gov/code-proposals[?wait=commit]   a signed propose_code tx: {"tx": base64}, or multipart
                                             with parts signed_tx (base64 or the tx JSON) and wasm
                                             (the file; it must be the wasm the tx carries)
    POST /gov/code-proposals/check           static checks only: multipart wasm, {"wasm": base64},
                                             or the file itself as application/wasm
    GET  /gov/pending-code                   code held for proposals that have not stored it yet

No endpoint holds a private key: the admin signs the propose_code tx on their side (``conclave gov
propose-upgrade`` does, and ``--signed-tx-out FILE`` writes it for curl). Before the tx reaches the
mempool the server decodes it, checks the signature, runs the chain's static wasm checks and the
``max_code_proposal_bytes`` limit, then dry-runs the proposal against the latest state (admins group
membership, migrate target, code already pending). Every refusal answers at once, with the reason and
nothing spent: 422 for a proposal the chain would refuse, 400 for a malformed request. Only then is
the tx submitted like POST /txs; with ``?wait=commit`` the answer links the opened proposal
(GET /gov/proposals/{id}); the upgraded contract's code history is GET /contracts/{address}/history.

A route module as server.py describes: ``register(app)`` and ``OPENAPI_PATHS``.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from aiohttp import web

from ..app import code_proposals
from ..app import params as chain_params
from ..app.block import SIG_VERIFY_GAS_ED25519, TX_SIZE_GAS_PER_BYTE
from ..app.context import BlockInfo, Context
from ..app.errors import AppError
from ..app.kv import CacheKV, KVStore
from ..app.messages import PROPOSE_CODE_EVENT
from ..app.tx import MAX_TX_BYTES, ProposeCode, Tx, TxError, decode_tx
from ..app.wasm import state as wasm_state
from ..codec import DecodeError, b64decode
from ..crypto import sha256
from ..crypto.keys import verify
from ..node import TxRefused
from ..vm.errors import CompileError, VmError
from ..vm.gas import GasMeter
from ..vm.validation import MAX_WASM_SIZE, WasmReport
from . import openapi as oa
from .context import node_of
from .errors import ApiError
from .inputs import json_body, params

COMMIT_WAIT_BLOCKS = 30            # ?wait=commit gives up after this many block times...
MIN_COMMIT_WAIT_S = 10.0           # ...but never sooner than this
MAX_SIGNED_TX_PART_BYTES = 4 * (MAX_TX_BYTES + 2) // 3 + 64   # base64 of the largest tx, and a newline
MAX_WASM_PART_BYTES = MAX_WASM_SIZE + 1                        # one byte more than allowed: enough to say "too large"
MAX_MULTIPART_PARTS = 8
READ_CHUNK_BYTES = 64 * 1024
DRY_RUN_GAS = 100_000_000         # the default block gas: a proposal cannot need more
WASM_CONTENT_TYPES = ("application/wasm", "application/octet-stream")
PROPOSAL_LINK = "/gov/proposals/{id}"


def _view(node: Any) -> KVStore:
    """The latest committed state, read-only in effect: writes stay in this throwaway branch."""
    return CacheKV(node.store)


# --- reading the request -------------------------------------------------------------------------

async def _read_part(part: Any, limit: int, what: str) -> bytes:
    """A multipart part's bytes, refusing (413) past ``limit`` without reading the rest."""
    chunks, size = [], 0
    while True:
        chunk = await part.read_chunk(READ_CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "body_too_large", f"the {what} part is larger than {limit} bytes")
        chunks.append(chunk)


async def _multipart(request: web.Request, limits: dict[str, int]) -> dict[str, bytes]:
    """The named parts of a multipart/form-data body (only the names in ``limits``, each at most once)."""
    parts: dict[str, bytes] = {}
    try:
        reader = await request.multipart()
        count = 0
        while True:
            part = await reader.next()
            if part is None:
                return parts
            count += 1
            if count > MAX_MULTIPART_PARTS:
                raise ApiError(400, "invalid_multipart", f"more than {MAX_MULTIPART_PARTS} parts")
            name = getattr(part, "name", None)
            if name not in limits:
                raise ApiError(400, "invalid_multipart",
                               f"unexpected part {str(name)[:40]!r}: expected {', '.join(limits)}")
            if name in parts:
                raise ApiError(400, "invalid_multipart", f"the {name} part is given twice")
            parts[name] = await _read_part(part, limits[name], name)
    except ApiError:
        raise
    except (ValueError, AssertionError, KeyError, TypeError, RuntimeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_multipart",
                       f"the multipart body cannot be read ({type(exc).__name__}): send it as "
                       "curl -F does (multipart/form-data with a boundary)") from None


def _base64_field(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ApiError(400, "invalid_request", f"{what} must be a base64 string")
    try:
        return b64decode(value.strip())
    except DecodeError as exc:
        raise ApiError(400, "invalid_base64", f"{what}: {exc}") from None


def _signed_tx_bytes(part: bytes) -> bytes:
    """The signed_tx part: base64 of the tx bytes, or the tx JSON itself; surrounding whitespace is ignored."""
    text = part.strip()
    if text.startswith(b"{"):
        return text
    try:
        return _base64_field(text.decode("ascii"), "signed_tx")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_base64", "signed_tx must be base64 of the signed tx, "
                       "or the signed tx JSON") from None


def _content_type(request: web.Request) -> str:
    return request.content_type.lower()


# --- judging the proposal ------------------------------------------------------------------------

def _proposed_wasm_size(raw: bytes) -> int | None:
    """The size of the wasm a tx proposes, read loosely: a too-large file gets its own answer
    before the strict decoding refuses the tx as a whole."""
    try:
        doc = json.loads(raw)
        wasm = doc["body"]["msgs"][0]["propose_code"]["wasm"]
    except (ValueError, UnicodeDecodeError, KeyError, IndexError, TypeError, RecursionError):
        return None
    if not isinstance(wasm, str):
        return None
    try:
        return len(b64decode(wasm))
    except DecodeError:
        return None


def _size_limit(node: Any) -> int:
    return min(MAX_WASM_SIZE, chain_params.load(_view(node)).max_code_proposal_bytes)


def _refuse_size(size: int, limit: int) -> None:
    if size > limit:
        raise ApiError(422, "invalid_wasm",
                       f"code proposal refused: the wasm is {size} bytes; the limit is {limit} bytes "
                       "(param max_code_proposal_bytes, at most 800 KiB): gzip it or make it smaller",
                       size=size, limit=limit)


def _check_wasm(node: Any, wasm: bytes) -> WasmReport:
    """The chain's own static checks and size limit; 422 with the reason for a bad file."""
    _refuse_size(len(wasm), _size_limit(node))
    try:
        return node.app.keeper.vm.check(wasm)
    except CompileError as exc:
        raise ApiError(422, "invalid_wasm", f"code proposal refused: invalid wasm: {exc}",
                       size=len(wasm)) from None


def _decode_proposal(node: Any, raw: bytes) -> tuple[Tx, ProposeCode]:
    """The signed tx, which must carry exactly one propose_code message for this chain, validly signed."""
    size = _proposed_wasm_size(raw)
    if size is not None:
        _refuse_size(size, _size_limit(node))
    try:
        tx = decode_tx(raw)
    except TxError as exc:
        raise ApiError(400, "invalid_tx", f"the signed tx cannot be decoded: {exc}", abci_code=exc.code) from None
    msgs = tx.body.msgs
    if len(msgs) != 1 or not isinstance(msgs[0], ProposeCode):
        kinds = ", ".join(type(m).KIND for m in msgs)
        raise ApiError(400, "not_a_code_proposal",
                       f"the tx must carry exactly one propose_code message, it carries: {kinds}; "
                       "send other txs to POST /txs")
    if tx.body.chain_id != node.chain_id:
        raise ApiError(400, "wrong_chain", f"the tx is for chain {tx.body.chain_id!r}, this node runs "
                       f"{node.chain_id!r}: sign it for {node.chain_id!r}")
    if not verify(tx.body.pubkey, tx.sign_bytes, tx.signature):
        raise ApiError(400, "invalid_signature", "the tx signature does not verify against body.pubkey: "
                       "sign the canonical body bytes (chain.app.tx.sign_doc) with the admin's key")
    return tx, msgs[0]


def _dry_run(node: Any, tx: Tx, msg: ProposeCode) -> int:
    """Open the proposal on a throwaway branch of the latest state, as the block will; the gas it used.

    Refusals the chain would give in the block (not an admin, migrate target unknown, code already
    pending, gas limit too low) come back now, before anything is spent.
    """
    keeper = node.app.keeper
    sender = tx.sender(node.prefix)
    limit = tx.body.gas_limit
    meter = GasMeter.with_sdk_gas(max(limit, DRY_RUN_GAS))      # room to tell how much it needs
    ctx = Context(store=_view(node), block=BlockInfo(node.height + 1, node.last_block_time_ns(), node.chain_id),
                  meter=meter)
    try:
        meter.consume_sdk(TX_SIZE_GAS_PER_BYTE * tx.size + SIG_VERIFY_GAS_ED25519)     # as deliver_tx charges
        migrate = None if msg.migrate is None else code_proposals.parse_migrate(
            keeper.api, {"contract": msg.migrate.contract, "msg": msg.migrate.msg})
        code_proposals.propose_code(keeper, ctx, sender, msg.wasm, msg.title, msg.description, migrate)
    except (AppError, VmError) as exc:
        raise ApiError(422, "proposal_refused", f"code proposal refused for {sender}: {exc}") from None
    if meter.gas_used > limit:
        raise ApiError(422, "proposal_refused", f"code proposal refused for {sender}: out of gas: it needs "
                       f"about {meter.gas_used} gas and the tx's gas_limit is {limit}; sign it again with "
                       "more gas (conclave gov propose-upgrade --gas)", gas_needed=meter.gas_used)
    return meter.gas_used


def _proposal_id(result: dict[str, Any]) -> int | None:
    for event in result.get("events", []):
        if event.get("type") == PROPOSE_CODE_EVENT:
            for attribute in event.get("attributes", []):
                if attribute.get("key") == "proposal_id" and str(attribute.get("value", "")).isdigit():
                    return int(attribute["value"])
    return None


async def _submit(node: Any, tx: Tx, checksum: str, dry_gas: int, wait: str | None) -> web.Response:
    try:
        node.submit(tx.raw)
    except TxRefused as exc:
        raise ApiError(422, "tx_refused", str(exc), abci_code=exc.code) from None
    links = {"tx": f"/txs/{tx.hash}"}
    if wait is None:
        return web.json_response({"hash": tx.hash, "status": "pending", "proposal_id": None, "checksum": checksum,
                                  "simulated_gas": dry_gas, "links": links}, status=202)
    timeout = max(MIN_COMMIT_WAIT_S, COMMIT_WAIT_BLOCKS * node.block_time)
    record = await node.wait_committed(tx.hash, timeout)
    if record is None:
        raise ApiError(504, "not_committed", f"tx {tx.hash} is not in a block after {timeout:.0f} s; "
                       f"ask GET /txs/{tx.hash} later", hash=tx.hash)
    result = json.loads(record.result)
    if result.get("code", 0) != 0:
        raise ApiError(422, "proposal_refused", f"the tx was committed at height {record.height} but the "
                       f"proposal was refused (code {result.get('code')}): {result.get('log', '')}",
                       hash=tx.hash, height=record.height)
    proposal_id = _proposal_id(result)
    if proposal_id is not None:
        links["proposal"] = PROPOSAL_LINK.format(id=proposal_id)
    return web.json_response({"hash": tx.hash, "status": "committed", "height": record.height,
                              "proposal_id": proposal_id, "checksum": checksum,
                              "gas_used": result.get("gas_used"), "links": links})


# --- handlers ------------------------------------------------------------------------------------

async def post_code_proposal(request: web.Request) -> web.Response:
    """A signed propose_code tx: judged here, then submitted (202), or committed with ?wait=commit (200)."""
    node = node_of(request)
    wait = params(request, "wait").get("wait")
    if wait not in (None, "commit"):
        raise ApiError(400, "invalid_param", f"wait must be 'commit', got {wait[:20]!r}")
    kind = _content_type(request)
    file: bytes | None = None
    if kind == "multipart/form-data":
        parts = await _multipart(request, {"signed_tx": MAX_SIGNED_TX_PART_BYTES, "wasm": MAX_WASM_PART_BYTES})
        if "signed_tx" not in parts:
            raise ApiError(400, "invalid_request", "the signed_tx part is missing: sign the propose_code tx "
                           "(conclave gov propose-upgrade ... --signed-tx-out FILE) and send "
                           "-F signed_tx=<FILE -F wasm=@CODE.wasm")
        raw, file = _signed_tx_bytes(parts["signed_tx"]), parts.get("wasm")
        if file is not None:
            _refuse_size(len(file), _size_limit(node))
    elif kind == "application/json":
        body = await json_body(request)
        if not isinstance(body, dict) or set(body) != {"tx"}:
            raise ApiError(400, "invalid_request", 'the body must be {"tx": "<base64 of the signed '
                           'propose_code tx>"}, or multipart with signed_tx and wasm parts')
        raw = _base64_field(body["tx"], "tx")
    else:
        raise ApiError(415, "unsupported_media_type", f"send application/json ({{\"tx\": base64}}) or "
                       f"multipart/form-data (signed_tx, wasm), not {kind or 'no content type'}")
    tx, msg = _decode_proposal(node, raw)
    if file is not None and file != msg.wasm:
        raise ApiError(400, "wasm_mismatch", f"the wasm part (sha256 {sha256(file).hex()}) is not the wasm "
                       f"the signed tx proposes (sha256 {sha256(msg.wasm).hex()}): sign the same file")
    report = _check_wasm(node, msg.wasm)
    gas = _dry_run(node, tx, msg)
    return await _submit(node, tx, report.checksum, gas, wait)


async def check_code(request: web.Request) -> web.Response:
    """The static checks alone, to run before signing: {"ok": true, ...} or {"ok": false, "error"}."""
    node = node_of(request)
    params(request)
    kind = _content_type(request)
    if kind == "multipart/form-data":
        wasm = (await _multipart(request, {"wasm": MAX_WASM_PART_BYTES})).get("wasm")
        if wasm is None:
            raise ApiError(400, "invalid_request", "the wasm part is missing: -F wasm=@CODE.wasm")
    elif kind == "application/json":
        body = await json_body(request)
        if not isinstance(body, dict) or set(body) != {"wasm"}:
            raise ApiError(400, "invalid_request", 'the body must be {"wasm": "<base64 of the file>"}')
        wasm = _base64_field(body["wasm"], "wasm")
    elif kind in WASM_CONTENT_TYPES:
        wasm = await request.read()
    else:
        raise ApiError(415, "unsupported_media_type", "send the file as multipart (-F wasm=@FILE), as "
                       f"application/wasm, or as {{\"wasm\": base64}} JSON, not {kind or 'no content type'}")
    answer: dict[str, Any] = {"size": len(wasm), "upload_checksum": sha256(wasm).hex()}
    try:
        report = _check_wasm(node, wasm)
    except ApiError as exc:
        return web.json_response({"ok": False, "error": str(exc), **answer})
    view = _view(node)
    checksum = bytes.fromhex(report.checksum)
    pending = code_proposals.pending(view, checksum)
    return web.json_response({
        "ok": True, **answer, "checksum": report.checksum, "wasm_size": len(report.wasm),
        "capabilities": sorted(report.required_capabilities), "entry_points": sorted(report.entry_points),
        "stored_code_id": wasm_state.code_id_for_checksum(view, checksum),
        "pending_in_proposal": None if pending is None else pending.proposal_id})


async def pending_code(request: web.Request) -> web.Response:
    """Code held for proposals not yet executed (pruned when rejected, expired or past their TTL)."""
    params(request)
    records = code_proposals.all_pending(_view(node_of(request)))
    return web.json_response({"pending": [asdict(r) for r in records]})


# --- wiring --------------------------------------------------------------------------------------

def register(app: web.Application) -> None:
    app.router.add_post("/gov/code-proposals", post_code_proposal)
    app.router.add_post("/gov/code-proposals/check", check_code)
    app.router.add_get("/gov/pending-code", pending_code)


# --- OpenAPI -------------------------------------------------------------------------------------

_ERROR = {"$ref": "#/components/responses/Error"}
_BINARY = {"type": "string", "contentMediaType": "application/wasm"}
_SUBMITTED = oa.obj({
    "hash": oa.STRING, "status": {"type": "string", "enum": ["pending", "committed"]}, "height": oa.INTEGER,
    "proposal_id": oa.nullable(oa.INTEGER), "checksum": oa.HEX32, "gas_used": oa.INTEGER,
    "simulated_gas": oa.INTEGER, "links": oa.obj({"proposal": oa.STRING, "tx": oa.STRING}, required=["tx"])},
    required=["hash", "status", "proposal_id", "checksum", "links"])
_CHECKED = oa.obj({
    "ok": oa.BOOLEAN, "error": oa.STRING, "size": oa.INTEGER, "upload_checksum": oa.HEX32, "checksum": oa.HEX32,
    "wasm_size": oa.INTEGER, "capabilities": oa.array(oa.STRING), "entry_points": oa.array(oa.STRING),
    "stored_code_id": oa.nullable(oa.INTEGER), "pending_in_proposal": oa.nullable(oa.INTEGER)},
    required=["ok", "size", "upload_checksum"])
_PENDING = oa.obj({"checksum": oa.HEX32, "size": oa.INTEGER, "proposer": oa.ADDRESS, "expires_at": oa.INTEGER,
                   "proposal_id": oa.INTEGER, "governance": oa.ADDRESS})


def _responses(ok: dict[str, Any], *errors: int, **more: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": {"schema": ok}}}, **more}
    out.update({str(status): _ERROR for status in sorted({*errors, 405})})
    out["default"] = _ERROR
    return out


OPENAPI_PATHS: dict[str, dict[str, Any]] = {
    "/gov/code-proposals": {"post": {
        "tags": ["governance"], "operationId": "postCodeProposal",
        "summary": "Admins: submit a signed propose_code tx (new wasm, optional migration)",
        "description": "The tx carries exactly one propose_code message, signed by a member of the admins group "
                       "(no key ever reaches the node: `conclave gov propose-upgrade --signed-tx-out FILE` signs "
                       "for curl). Before it reaches the mempool the wasm is checked statically and against "
                       "max_code_proposal_bytes, and the proposal is dry-run on the latest state: a bad file, a "
                       "non-admin, an unknown migrate target or too little gas is refused at once (422) with the "
                       "reason and nothing spent. In multipart form the wasm part, if given, must be the file "
                       "the tx proposes: `curl -F signed_tx=<tx.b64 -F wasm=@code.wasm "
                       "'.../gov/code-proposals?wait=commit'`.",
        "parameters": [oa.query_param("wait", {"type": "string", "enum": ["commit"]},
                                      "wait for the block: 200 with the opened proposal's id and link")],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": oa.obj({"tx": {**oa.BASE64, "description": "the signed tx bytes"}})},
            "multipart/form-data": {"schema": oa.obj({
                "signed_tx": {"type": "string", "description": "base64 of the signed tx, or the tx JSON itself"},
                "wasm": _BINARY}, required=["signed_tx"])}}},
        "responses": _responses(_SUBMITTED, 400, 413, 415, 422, 504, **{"202": {
            "description": "admitted to the mempool (without ?wait=commit): follow links.tx",
            "content": {"application/json": {"schema": _SUBMITTED}}}})}},
    "/gov/code-proposals/check": {"post": {
        "tags": ["governance"], "operationId": "postCodeProposalsCheck",
        "summary": "The chain's static wasm checks on a file, to run before signing a proposal",
        "description": "Answers ok with the checksum (of the inflated code, for gzip), capabilities and entry "
                       "points, and whether the code is already stored or pending; or ok false with the reason "
                       "a proposal of this file would be refused.",
        "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": oa.obj({"wasm": _BINARY})},
            "application/wasm": {"schema": _BINARY},
            "application/octet-stream": {"schema": _BINARY},
            "application/json": {"schema": oa.obj({"wasm": {**oa.BASE64, "description": "the file"}})}}},
        "responses": _responses(_CHECKED, 400, 413, 415)}},
    "/gov/pending-code": {"get": {
        "tags": ["governance"], "operationId": "getGovPendingCode",
        "summary": "Code held for code proposals that have not stored it yet",
        "description": "A blob goes when its proposal is executed (it becomes a code id), rejected or expired, "
                       "or when pending_code_ttl_seconds pass.",
        "responses": _responses(oa.obj({"pending": oa.array(_PENDING)}), 400)}},
}
