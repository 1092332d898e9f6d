"""One block's state transition: begin_block -> txs -> end_block, on a block branch.

    begin_block   sudo {"begin_block":{"evidence":[...]}} to every begin_blocker
    txs           ante (sequence, fee: kept even if the tx fails) -> messages in a tx branch
    end_block     sudo {"end_block":{}} to every end_blocker, prune expired pending code,
                  sudo {"end_with_validator_update":{}} to the validator_set_updater

Each privileged call runs in its own cache branch under ``HOOK_GAS_LIMIT``: an error (the
contract's, the VM's, out of gas, a malformed answer) discards that branch and is recorded in
the block results; it never halts the chain. A tx's failure rolls back its messages and is
recorded with its error, its sequence and fee stay consumed. The validator-set diff returned
at height H takes effect at H + ``VALIDATOR_UPDATE_DELAY`` (CometBFT: H+2).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from ..codec import DecodeError, b64decode, b64encode, canonical_json, compact_json
from ..crypto.keys import PUBKEY_BYTES
from ..vm.errors import OutOfGas, VmError
from ..vm.gas import GasMeter
from . import bank, code_proposals, privileges
from .context import Context
from .errors import AppError, InvalidRequest, NotFound, Unauthorized
from .events import Event
from .kv import CacheKV
from .messages import deliver_msg
from .tx import (CODE_INSUFFICIENT_FUNDS, CODE_INVALID_REQUEST, CODE_OK, CODE_UNAUTHORIZED, Tx, TxError,
                 TxParams, ante)
from .wasm.keeper import WasmKeeper

HOOK_GAS_LIMIT = 10_000_000          # SDK gas for one privileged begin/end-block call
VALIDATOR_UPDATE_DELAY = 2           # a diff from height H applies at H+2 (CometBFT)
MAX_VALIDATOR_POWER = (1 << 63) // 8  # CometBFT MaxTotalVotingPower: one validator can't exceed it
TX_SIZE_GAS_PER_BYTE = 10            # cosmos-sdk auth TxSizeCostPerByte
SIG_VERIFY_GAS_ED25519 = 590         # cosmos-sdk auth SigVerifyCostED25519

BEGIN_BLOCK_MSG = "begin_block"
END_BLOCK_MSG = b'{"end_block":{}}'
VALSET_UPDATE_MSG = b'{"end_with_validator_update":{}}'

# cosmos-sdk root codes not in tx.py, and wasmd's codespace for contract failures
CODESPACE_SDK = "sdk"
CODESPACE_WASM = "wasm"
CODE_OUT_OF_GAS = 11                 # sdk ErrOutOfGas
CODE_NOT_FOUND = 38                  # sdk ErrNotFound
CODE_EXECUTE_FAILED = 5              # wasm ErrExecuteFailed


@dataclass(frozen=True)
class ValidatorUpdate:
    """A change of one validator's power (0 removes it), effective from ``effective_height``."""

    pubkey: bytes
    power: int
    effective_height: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"pubkey": {"ed25519": b64encode(self.pubkey)}, "power": self.power,
                "effective_height": self.effective_height}


@dataclass
class TxResult:
    """What one tx did, as finalize_block reports it and the tx index stores it."""

    code: int
    log: str = ""
    gas_used: int = 0
    gas_wanted: int = 0
    events: list[Event] = field(default_factory=list)
    codespace: str = ""
    data: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "codespace": self.codespace, "log": self.log, "gas_used": self.gas_used,
                "gas_wanted": self.gas_wanted, "events": [e.to_json() for e in self.events],
                "data": None if self.data is None else b64encode(self.data)}

    def canonical_bytes(self) -> bytes:
        """Exactly canonical_json(self.to_json()), written out directly: a block encodes one per tx.

        Keys in sorted order, strings through the encoder canonical_json itself uses; anything but
        plain str/int fields falls back to canonical_json (tests compare the two on arbitrary text).
        """
        ints, strs = (self.code, self.gas_used, self.gas_wanted), (self.codespace, self.log)
        if not (all(type(i) is int for i in ints) and all(type(t) is str for t in strs)
                and all(_plain_event(e) for e in self.events)):
            return canonical_json(self.to_json())
        data = "null" if self.data is None else _json_str(b64encode(self.data))
        events = ",".join('{"attributes":[%s],"type":%s}' % (
            ",".join('{"key":%s,"value":%s}' % (_json_str(k), _json_str(v)) for k, v in e.attributes),
            _json_str(e.type)) for e in self.events)
        return ('{"code":%d,"codespace":%s,"data":%s,"events":[%s],"gas_used":%d,"gas_wanted":%d,"log":%s}' % (
            self.code, _json_str(self.codespace), data, events, self.gas_used, self.gas_wanted,
            _json_str(self.log))).encode()


_json_str = json.encoder.encode_basestring   # what json.dumps(ensure_ascii=False), so canonical_json, uses


def _plain_event(event: Event) -> bool:
    return type(event.type) is str and all(type(k) is str and type(v) is str for k, v in event.attributes)


@dataclass
class HookReport:
    """The events of the privileged calls of one phase, and the errors that were discarded."""

    events: list[Event] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)


def error_code(exc: Exception) -> tuple[str, int]:
    """(codespace, code) for why a tx failed: cosmos-sdk's root codes, wasmd's for contract failures."""
    if isinstance(exc, TxError):
        return CODESPACE_SDK, exc.code
    if isinstance(exc, OutOfGas):
        return CODESPACE_SDK, CODE_OUT_OF_GAS
    if isinstance(exc, bank.InsufficientFunds):
        return CODESPACE_SDK, CODE_INSUFFICIENT_FUNDS
    if isinstance(exc, Unauthorized):
        return CODESPACE_SDK, CODE_UNAUTHORIZED
    if isinstance(exc, NotFound):
        return CODESPACE_SDK, CODE_NOT_FOUND
    if isinstance(exc, InvalidRequest):
        return CODESPACE_SDK, CODE_INVALID_REQUEST
    return CODESPACE_WASM, CODE_EXECUTE_FAILED


# --- privileged block hooks -----------------------------------------------------------------

def run_hook(keeper: WasmKeeper, ctx: Context, phase: str, contract: str, msg: bytes, report: HookReport,
             answer: Callable[[bytes | None], Any] | None = None) -> Any:
    """Sudo ``contract`` in its own branch under the hook gas cap; keep its effects only if all went well.

    ``answer`` parses the call's data (raising AppError on a malformed one, which discards the call
    too); its value is returned, or None when the call failed.
    """
    child = Context(store=CacheKV(ctx.store), block=ctx.block, meter=GasMeter.with_sdk_gas(HOOK_GAS_LIMIT))
    try:
        outcome = keeper.sudo(child, contract, msg)
        value = answer(outcome.data) if answer is not None else None
    except (AppError, VmError) as exc:
        report.errors.append({"phase": phase, "contract": contract, "error": str(exc) or type(exc).__name__})
        return None
    child.store.write()
    report.events.extend(outcome.events)
    return value


def begin_block(keeper: WasmKeeper, ctx: Context, evidence: list[Any]) -> HookReport:
    """Tell every begin_blocker about the block (and its misbehaviour evidence)."""
    report = HookReport()
    msg = compact_json({BEGIN_BLOCK_MSG: {"evidence": evidence}})
    for contract in privileges.holders(ctx.store, privileges.BEGIN_BLOCKER):
        run_hook(keeper, ctx, "begin_block", contract, msg, report)
    return report


def end_block(keeper: WasmKeeper, ctx: Context) -> tuple[HookReport, list[ValidatorUpdate]]:
    """end_blockers, pending-code pruning, then the validator-set updater's diff."""
    report = HookReport()
    for contract in privileges.holders(ctx.store, privileges.END_BLOCKER):
        run_hook(keeper, ctx, "end_block", contract, END_BLOCK_MSG, report)
    pruning, commit = ctx.branch(GasMeter.with_sdk_gas(HOOK_GAS_LIMIT))
    try:
        report.events.extend(code_proposals.prune_expired_code(keeper, pruning))
        commit()
    except (AppError, VmError) as exc:
        report.errors.append({"phase": "end_block", "contract": "", "error": f"pruning pending code: {exc}"})
    updates: list[ValidatorUpdate] = []
    for contract in privileges.holders(ctx.store, privileges.VALIDATOR_SET_UPDATER):
        found = run_hook(keeper, ctx, "end_with_validator_update", contract, VALSET_UPDATE_MSG, report,
                         parse_validator_diffs)
        updates.extend(found or [])
    return report, updates


def parse_validator_diffs(data: bytes | None) -> list[ValidatorUpdate]:
    """The valset's answer {"diffs":[{"pubkey":{"ed25519":B64},"power":N}]}; null data: no change."""
    if data is None:
        return []
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("validator update data is not JSON") from None
    if doc is None:
        return []
    if not isinstance(doc, dict) or set(doc) != {"diffs"} or not isinstance(doc["diffs"], list):
        raise InvalidRequest('validator update data must be {"diffs":[{"pubkey":{"ed25519":B64},"power":N}]}')
    updates: dict[bytes, ValidatorUpdate] = {}
    for i, diff in enumerate(doc["diffs"]):
        if not isinstance(diff, dict) or set(diff) != {"pubkey", "power"}:
            raise InvalidRequest(f"diffs[{i}] must be {{pubkey, power}}")
        pubkey, power = diff["pubkey"], diff["power"]
        if not isinstance(pubkey, dict) or set(pubkey) != {"ed25519"}:
            raise InvalidRequest(f'diffs[{i}].pubkey must be {{"ed25519": B64}}')
        try:
            raw = b64decode(pubkey["ed25519"])
        except DecodeError as exc:
            raise InvalidRequest(f"diffs[{i}].pubkey: {exc}") from None
        if len(raw) != PUBKEY_BYTES:
            raise InvalidRequest(f"diffs[{i}].pubkey must be {PUBKEY_BYTES} bytes, got {len(raw)}")
        if type(power) is not int or not 0 <= power <= MAX_VALIDATOR_POWER:
            raise InvalidRequest(f"diffs[{i}].power must be an integer in 0..{MAX_VALIDATOR_POWER}")
        if raw in updates:
            raise InvalidRequest(f"diffs[{i}]: the same pubkey appears twice")
        updates[raw] = ValidatorUpdate(raw, power)
    return list(updates.values())


# --- transactions ---------------------------------------------------------------------------

def deliver_tx(keeper: WasmKeeper, ctx: Context, tx: Tx, chain_id: str, params: TxParams) -> TxResult:
    """Ante on the block branch (kept), then the messages in a tx branch (kept only if all succeed)."""
    wanted = tx.body.gas_limit
    checked = ante(ctx.store, tx, chain_id, params)
    if not checked.ok:
        return TxResult(checked.code, checked.log, 0, wanted, codespace=CODESPACE_SDK)
    sender = checked.sender
    fee_events = [Event("tx", [("fee", ",".join(f"{a}{d}" for d, a in tx.body.fee)), ("fee_payer", sender)]),
                  Event("tx", [("acc_seq", f"{sender}/{tx.body.sequence}")])]
    meter = GasMeter.with_sdk_gas(wanted)
    tx_ctx = Context(store=CacheKV(ctx.store), block=ctx.block, meter=meter, tx_index=ctx.tx_index)
    events: list[Event] = list(fee_events)
    data: bytes | None = None
    failed_at = ""
    try:
        meter.consume_sdk(TX_SIZE_GAS_PER_BYTE * tx.size + SIG_VERIFY_GAS_ED25519)
        for index, msg in enumerate(tx.body.msgs):
            failed_at = f"message {index} ({msg.KIND}): "
            outcome = deliver_msg(keeper, tx_ctx, sender, msg)
            events.append(Event("message", [("action", msg.KIND), ("sender", sender), ("msg_index", str(index))]))
            events.extend(outcome.events)
            data = outcome.data if outcome.data is not None else data
    except (AppError, VmError) as exc:
        codespace, code = error_code(exc)
        return TxResult(code, f"{failed_at}{exc}", min(meter.gas_used, wanted), wanted, fee_events, codespace)
    tx_ctx.store.write()
    return TxResult(CODE_OK, "", min(meter.gas_used, wanted), wanted, events, "", data)
