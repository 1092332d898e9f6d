"""Executing a transaction's messages: each native message kind mapped to the module that owns it.

A message runs in the tx's branch with the tx's gas meter; it raises on any refusal and the
block executor then drops the branch (nothing the tx's messages did survives). There is no
message that stores code: ``propose_code`` opens a governance proposal and nothing more.
"""
from __future__ import annotations

from ..codec import compact_json
from . import bank, code_proposals
from .context import Context
from .events import Event
from .tx import (ClearAdmin, Execute, Instantiate, Migrate, Msg, ProposeCode, Send, UpdateAdmin,
                 contract_msg_bytes)
from .wasm.keeper import Outcome, WasmKeeper

PROPOSE_CODE_EVENT = "propose_code"


def deliver_msg(keeper: WasmKeeper, ctx: Context, sender: str, msg: Msg) -> Outcome:
    """Run one message for ``sender`` (the tx's signer); its events and data, or an AppError/VmError."""
    if isinstance(msg, Send):
        return Outcome(events=bank.send(ctx.store, sender, msg.to_address, list(msg.amount)))
    if isinstance(msg, Instantiate):
        return keeper.instantiate(ctx, sender, msg.code_id, contract_msg_bytes(msg.msg), list(msg.funds),
                                  msg.label, msg.admin)
    if isinstance(msg, Execute):
        return keeper.execute(ctx, sender, msg.contract, contract_msg_bytes(msg.msg), list(msg.funds))
    if isinstance(msg, Migrate):
        return keeper.migrate(ctx, sender, msg.contract, msg.code_id, contract_msg_bytes(msg.msg))
    if isinstance(msg, UpdateAdmin):
        return keeper.update_admin(ctx, sender, msg.contract, msg.new_admin)
    if isinstance(msg, ClearAdmin):
        return keeper.update_admin(ctx, sender, msg.contract, None)
    if isinstance(msg, ProposeCode):
        return _propose_code(keeper, ctx, sender, msg)
    raise TypeError(f"no executor for message {type(msg).__name__}")  # decode_tx admits no other kind


def _propose_code(keeper: WasmKeeper, ctx: Context, sender: str, msg: ProposeCode) -> Outcome:
    migrate = None
    if msg.migrate is not None:
        migrate = code_proposals.parse_migrate(keeper.api, {"contract": msg.migrate.contract,
                                                            "msg": msg.migrate.msg})
    proposal_id = code_proposals.propose_code(keeper, ctx, sender, msg.wasm, msg.title, msg.description, migrate)
    event = Event(PROPOSE_CODE_EVENT, [("proposer", sender), ("proposal_id", str(proposal_id))])
    return Outcome(events=[event], data=compact_json({"proposal_id": proposal_id}))
