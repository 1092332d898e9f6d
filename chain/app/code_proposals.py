"""Governance-gated upload: code proposals, the pending-code area, and its pruning.

New code never enters the chain directly. An admin submits a code proposal: the chain checks
the wasm statically, keeps it as a *pending blob* keyed by its checksum (with the proposer,
the proposal id and an expiry), and opens a proposal in the governance (voting) contract on
the admin's behalf whose messages are ``store_code {checksum}`` and, optionally,
``migrate_contract {contract, checksum, msg}``. The voting contract accepts such proposals
only from members of the admins group. When members pass it, the gov_executor contract sends
those messages (chain_messages.py): store_code turns the pending blob into a code id and
removes it from the pending area.

Pruning (end_block): a pending blob goes when its expiry passes (block time >= expires_at),
or when its proposal can no longer store it: the pending record keeps the proposal id and the
governance contract, and prune asks that contract for the proposal's status — ``rejected`` or
``expired`` (or a proposal that no longer exists) prunes the blob. A passed proposal keeps its
blob until it is executed or the blob expires, so pending_code_ttl_seconds should exceed the
voting period. Pending blobs are few (only admins can create them), so prune visits them all.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ..codec import b64encode, compact_json
from ..vm.errors import CompileError, VmError
from ..vm.gas import GasMeter
from . import params as chain_params
from . import privileges
from .context import Context
from .errors import AppError, InvalidRequest, NotFound
from .events import CONTRACT_ADDRESS_KEY, Event
from .kv import KVStore, iterate_prefix
from .wasm import state as wasm_state

_PENDING = b"gov/pending/"        # checksum (32 bytes) -> PendingCode JSON
_PENDING_WASM = b"gov/pending_wasm/"  # checksum -> the wasm bytes as uploaded
_PINNED = b"gov/pinned/"          # checksum -> b""
CHECK_GAS_PER_BYTE = 1            # SDK gas per uploaded byte for the static check and holding the blob
PRUNE_QUERY_GAS = 1_000_000       # SDK gas for one proposal-status query during pruning
FINAL_UNSTORED_STATUSES = ("rejected", "expired")   # the proposal can never store its blob
PRUNE_EVENT = "prune_code"


@dataclass(frozen=True)
class PendingCode:
    checksum: str          # hex sha256 of the (inflated) wasm; the store_code message names it
    size: int              # bytes held
    proposer: str
    expires_at: int        # block time in seconds at which prune drops it
    proposal_id: int
    governance: str        # the contract the proposal lives in

    def to_query(self) -> dict[str, Any]:
        """The pending_code custom query's answer."""
        return {"checksum": self.checksum, "size": self.size, "proposer": self.proposer,
                "expires_at": self.expires_at}


@dataclass(frozen=True)
class MigrateRequest:
    contract: str
    msg: bytes             # the migrate message, JSON bytes


# --- pending area ------------------------------------------------------------------------------
def parse_checksum(value: object, what: str = "checksum") -> bytes:
    """A checksum as the messages write it: 64 lowercase hex digits."""
    if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidRequest(f"invalid {what}: expected 64 lowercase hex digits (sha256 of the wasm)")
    return bytes.fromhex(value)


def pending(store: KVStore, checksum: bytes) -> PendingCode | None:
    raw = store.get(_PENDING + checksum)
    return PendingCode(**json.loads(raw)) if raw else None


def pending_wasm(store: KVStore, checksum: bytes) -> bytes | None:
    return store.get(_PENDING_WASM + checksum)


def all_pending(store: KVStore) -> list[PendingCode]:
    return [PendingCode(**json.loads(v)) for _, v in iterate_prefix(store, _PENDING)]


def _save_pending(store: KVStore, record: PendingCode, wasm: bytes) -> None:
    checksum = bytes.fromhex(record.checksum)
    store.set(_PENDING + checksum, json.dumps(asdict(record), sort_keys=True).encode())
    store.set(_PENDING_WASM + checksum, wasm)


def remove_pending(store: KVStore, checksum: bytes) -> None:
    store.delete(_PENDING + checksum)
    store.delete(_PENDING_WASM + checksum)


# --- pinned flags ------------------------------------------------------------------------------
# TODO(node): pinned modules should stay in the VM's in-memory cache (exempt from LRU eviction)
# and be loaded at start; today only the flag is kept in state.
def is_pinned(store: KVStore, checksum: bytes) -> bool:
    return store.get(_PINNED + checksum) is not None


def set_pinned(store: KVStore, checksum: bytes, pinned: bool) -> None:
    if pinned:
        store.set(_PINNED + checksum, b"")
    else:
        store.delete(_PINNED + checksum)


# --- proposing ---------------------------------------------------------------------------------
def governance_contract(store: KVStore) -> str:
    """The contract code proposals go to: the governance_contract param, else the one gov_executor."""
    configured = chain_params.load(store).governance_contract
    if configured is not None:
        return configured
    executors = privileges.holders(store, privileges.GOV_EXECUTOR)
    if not executors:
        raise NotFound("no governance contract: grant gov_executor to the voting contract "
                       "(or set the governance_contract param)")
    if len(executors) > 1:
        raise InvalidRequest(f"{len(executors)} contracts hold gov_executor; set the governance_contract "
                             "param to say which one takes code proposals")
    return executors[0]


def parse_migrate(api, raw: Any) -> MigrateRequest | None:
    """The optional ``migrate {contract, msg}`` of a code proposal; msg is any JSON value."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"contract", "msg"}:
        raise InvalidRequest('invalid migrate: expected {"contract": ADDR, "msg": JSON} or null')
    msg = raw["msg"]
    try:
        msg_bytes = bytes(msg) if isinstance(msg, (bytes, bytearray)) else compact_json(msg)
    except (TypeError, ValueError):
        raise InvalidRequest("invalid migrate.msg: not JSON") from None
    return MigrateRequest(api.validate(raw["contract"], "migrate.contract"), msg_bytes)


def propose_code(keeper, ctx: Context, sender: str, wasm: bytes, title: str, description: str,
                 migrate: MigrateRequest | None = None) -> int:
    """Check ``wasm``, hold it as pending and open the governance proposal; return its id.

    Atomic: on any refusal (bad wasm, not an admin, ...) nothing is kept.
    """
    keeper.api.validate(sender, "proposer")
    if not isinstance(title, str) or not isinstance(description, str):
        raise InvalidRequest("title and description must be strings")
    if not isinstance(wasm, (bytes, bytearray)):
        raise InvalidRequest("wasm must be bytes")
    wasm = bytes(wasm)
    limits = chain_params.load(ctx.store)
    if len(wasm) > limits.max_code_proposal_bytes:
        raise InvalidRequest(f"code proposal refused: the wasm is {len(wasm)} bytes; the limit is "
                             f"{limits.max_code_proposal_bytes} bytes (param max_code_proposal_bytes)")
    ctx.meter.consume_sdk(CHECK_GAS_PER_BYTE * len(wasm))
    try:
        report = keeper.vm.check(wasm)
    except CompileError as exc:
        raise InvalidRequest(f"code proposal refused: invalid wasm: {exc}") from None
    checksum = bytes.fromhex(report.checksum)
    existing = pending(ctx.store, checksum)
    if existing is not None:
        raise InvalidRequest(f"code proposal refused: code {report.checksum} is already pending "
                             f"in proposal {existing.proposal_id}; vote on that one")
    already_stored = wasm_state.code_id_for_checksum(ctx.store, checksum)
    if already_stored is not None and migrate is None:
        raise InvalidRequest(f"code proposal refused: code {report.checksum} is already stored as "
                             f"code id {already_stored}; nothing to propose")
    if migrate is not None:
        keeper.contract_info(ctx, migrate.contract)      # a clear error now rather than at execution
    governance = governance_contract(ctx.store)

    msgs: list[dict[str, Any]] = []
    if already_stored is None:
        msgs.append({"custom": {"store_code": {"checksum": report.checksum}}})
    if migrate is not None:
        msgs.append({"custom": {"migrate_contract": {
            "contract": migrate.contract, "checksum": report.checksum, "msg": b64encode(migrate.msg)}}})
    sudo = {"propose_on_behalf": {"proposer": sender, "title": title, "description": description, "msgs": msgs}}

    branch, commit = ctx.branch()
    outcome = keeper.sudo(branch, governance, compact_json(sudo))
    proposal_id = _proposal_id(outcome.events, governance)
    if already_stored is None:
        record = PendingCode(checksum=report.checksum, size=len(report.wasm), proposer=sender,
                             expires_at=ctx.block.time_ns // 10**9 + limits.pending_code_ttl_seconds,
                             proposal_id=proposal_id, governance=governance)
        _save_pending(branch.store, record, report.wasm)
    commit()
    return proposal_id


def _proposal_id(events: list[Event], governance: str) -> int:
    for event in events:
        if event.type == "wasm" and event.get(CONTRACT_ADDRESS_KEY) == governance:
            value = event.get("proposal_id")
            if value is not None and value.isdigit():
                return int(value)
    raise InvalidRequest(f"governance contract {governance} opened no proposal (no proposal_id attribute); "
                         "is it the voting contract?")


# --- pruning -----------------------------------------------------------------------------------
def prune_expired_code(keeper, ctx: Context) -> list[Event]:
    """Drop pending blobs whose time is up or whose proposal was rejected or expired (end_block)."""
    now = ctx.block.time_ns // 10**9
    events = []
    for record in all_pending(ctx.store):
        reason = "expired" if now >= record.expires_at else _proposal_closed(keeper, ctx, record)
        if reason is None:
            continue
        remove_pending(ctx.store, bytes.fromhex(record.checksum))
        events.append(Event(PRUNE_EVENT, [("code_checksum", record.checksum),
                                          ("proposal_id", str(record.proposal_id)), ("reason", reason)]))
    return events


def _proposal_closed(keeper, ctx: Context, record: PendingCode) -> str | None:
    """``proposal_<status>`` when the proposal can never store the blob; None while it still might."""
    query = compact_json({"proposal": {"proposal_id": record.proposal_id}})
    try:
        answer = json.loads(keeper.query_smart(ctx, record.governance, query,
                                               GasMeter.with_sdk_gas(PRUNE_QUERY_GAS)))
    except NotFound:
        return "governance_contract_gone"
    except (AppError, VmError, ValueError):
        return None                      # cannot tell now (query failed): the expiry will prune it
    status = answer.get("status") if isinstance(answer, dict) else None
    return f"proposal_{status}" if status in FINAL_UNSTORED_STATUSES else None
