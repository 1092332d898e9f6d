"""The chain's custom messages and queries (DESIGN.md "Chain <-> contract messages").

Messages are the powers of privileged contracts; each names the privilege it needs and is
refused, with that name, for any contract that does not hold it — which is also how a direct
attempt to store code is refused: only a gov_executor may send store_code, and only for a
blob that a code proposal put in the pending area. Queries are open to every contract.

    store_code {checksum}                      gov_executor   pending blob -> code id
    migrate_contract {contract, checksum, msg} gov_executor   migrate as governance
    set_privilege {contract, privilege, grant} gov_executor
    update_params {...}                        gov_executor
    pin_code / unpin_code {checksum}           gov_executor
    mint {to, amount}                          token_minter
"""
from __future__ import annotations

import json

from typing import Any, Callable

from ..codec import DecodeError, b64decode, compact_json
from . import bank
from . import code_proposals
from . import params as chain_params
from . import privileges
from .coins import parse_coins
from .context import Context
from .errors import InvalidRequest, NotFound
from .events import Event
from .wasm import state as wasm_state

COMPILE_GAS_PER_BYTE = 3          # wasmd DefaultCompileCost: SDK gas per byte compiled by store_code

MESSAGE_PRIVILEGES = {
    "store_code": privileges.GOV_EXECUTOR,
    "migrate_contract": privileges.GOV_EXECUTOR,
    "set_privilege": privileges.GOV_EXECUTOR,
    "update_params": privileges.GOV_EXECUTOR,
    "pin_code": privileges.GOV_EXECUTOR,
    "unpin_code": privileges.GOV_EXECUTOR,
    "mint": privileges.TOKEN_MINTER,
}
CODE_ONLY_BY_PROPOSAL = "new code enters the chain only through a passed code proposal"

Result = tuple[list[Event], bytes | None]


def _single_key(value: Any, what: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(value, dict) or len(value) != 1:
        raise InvalidRequest(f"invalid {what}: expected an object with exactly one key")
    (key, body), = value.items()
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise InvalidRequest(f"invalid {what} {key}: expected an object")
    return key, body


def _fields(body: dict[str, Any], kind: str, required: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(required))
    if unknown:
        raise InvalidRequest(f"invalid {kind}: unknown field {unknown[0]!r} (expected {', '.join(required)})")
    missing = [name for name in required if name not in body]
    if missing:
        raise InvalidRequest(f"invalid {kind}: missing field {missing[0]!r}")


LAST_COMMIT_VOTES_KEY = b"app/last_commit_votes"   # written by App.finalize_block each block


class ChainMessages:
    """The keeper's CustomMessageHandler and CustomQueryHandler, bound to it."""

    def __init__(self, keeper):
        self.keeper = keeper
        self._messages: dict[str, Callable[[Context, str, dict[str, Any]], Result]] = {
            "store_code": self._store_code, "migrate_contract": self._migrate_contract,
            "set_privilege": self._set_privilege, "update_params": self._update_params,
            "pin_code": self._pin_code, "unpin_code": self._unpin_code, "mint": self._mint,
        }
        self._queries: dict[str, Callable[[Context, dict[str, Any]], Any]] = {
            "params": self._params, "privileged": self._privileged,
            "pending_code": self._pending_code, "last_commit_votes": self._last_commit_votes,
        }

    def install(self) -> "ChainMessages":
        self.keeper.custom_message = self.handle_message
        self.keeper.custom_query = self.handle_query
        return self

    # --- messages ------------------------------------------------------------------------------
    def handle_message(self, ctx: Context, contract: str, msg: Any) -> Result:
        kind, body = _single_key(msg, "custom message")
        needed = MESSAGE_PRIVILEGES.get(kind)
        if needed is None:
            raise InvalidRequest(f"unknown custom message {kind!r}; the chain accepts: "
                                 f"{', '.join(MESSAGE_PRIVILEGES)}")
        if not privileges.has(ctx.store, contract, needed):
            why = f"; {CODE_ONLY_BY_PROPOSAL}" if kind == "store_code" else ""
            raise InvalidRequest(f"custom message {kind} refused: contract {contract} holds no privilege "
                                 f"{needed} (custom messages are not accepted from contracts without it){why}")
        try:
            return self._messages[kind](ctx, contract, body)
        except DecodeError as exc:
            raise InvalidRequest(f"invalid {kind}: {exc}") from None

    def _store_code(self, ctx: Context, contract: str, body: dict[str, Any]) -> Result:
        _fields(body, "store_code", ("checksum",))
        checksum = code_proposals.parse_checksum(body["checksum"])
        record = code_proposals.pending(ctx.store, checksum)
        wasm = code_proposals.pending_wasm(ctx.store, checksum)
        if record is None or wasm is None:
            raise NotFound(f"store_code: no pending code with checksum {checksum.hex()} (never proposed, "
                           f"already stored, or pruned after its proposal failed or expired); {CODE_ONLY_BY_PROPOSAL}")
        ctx.meter.consume_sdk(COMPILE_GAS_PER_BYTE * len(wasm))
        info, events = self.keeper.store_code(ctx, record.proposer, wasm)
        code_proposals.remove_pending(ctx.store, checksum)
        events[0].attributes.append(("proposal_id", str(record.proposal_id)))
        return events, compact_json({"code_id": info.code_id, "checksum": info.checksum})

    def _migrate_contract(self, ctx: Context, contract: str, body: dict[str, Any]) -> Result:
        _fields(body, "migrate_contract", ("contract", "checksum", "msg"))
        target = self.keeper.api.validate(body["contract"], "migrate_contract.contract")
        checksum = code_proposals.parse_checksum(body["checksum"])
        code_id = wasm_state.code_id_for_checksum(ctx.store, checksum)
        if code_id is None:
            raise NotFound(f"migrate_contract: no stored code has checksum {checksum.hex()}; store it first "
                           "(store_code before migrate_contract in the same proposal)")
        msg = b64decode(body["msg"])
        outcome = self.keeper.migrate(ctx, None, target, code_id, msg)
        return outcome.events, outcome.data

    def _set_privilege(self, ctx: Context, contract: str, body: dict[str, Any]) -> Result:
        _fields(body, "set_privilege", ("contract", "privilege", "grant"))
        target = self.keeper.api.validate(body["contract"], "set_privilege.contract")
        name = privileges.validate_privilege(body["privilege"])
        if not isinstance(body["grant"], bool):
            raise InvalidRequest("invalid set_privilege: grant must be true or false")
        if body["grant"]:
            return privileges.grant(self.keeper, ctx, target, name), None
        return privileges.revoke(self.keeper, ctx, target, name), None

    def _update_params(self, ctx: Context, contract: str, body: dict[str, Any]) -> Result:
        new = chain_params.updated(chain_params.load(ctx.store), body, self.keeper.api)
        if new.governance_contract is not None and wasm_state.load_contract(ctx.store, new.governance_contract) is None:
            raise NotFound(f"invalid governance_contract: no such contract {new.governance_contract}")
        chain_params.save(ctx.store, new)
        return [Event("update_params", [(name, compact_json(body[name]).decode()) for name in sorted(body)])], None

    def _pin_code(self, ctx: Context, contract: str, body: dict[str, Any]) -> Result:
        return self._set_pinned(ctx, body, "pin_code", True)

    def _unpin_code(self, ctx: Context, contract: str, body: dict[str, Any]) -> Result:
        return self._set_pinned(ctx, body, "unpin_code", False)

    def _set_pinned(self, ctx: Context, body: dict[str, Any], kind: str, pinned: bool) -> Result:
        _fields(body, kind, ("checksum",))
        checksum = code_proposals.parse_checksum(body["checksum"])
        code_id = wasm_state.code_id_for_checksum(ctx.store, checksum)
        if code_id is None:
            raise NotFound(f"{kind}: no stored code has checksum {checksum.hex()}")
        code_proposals.set_pinned(ctx.store, checksum, pinned)
        return [Event(kind, [("code_checksum", checksum.hex()), ("code_id", str(code_id))])], None

    def _mint(self, ctx: Context, contract: str, body: dict[str, Any]) -> Result:
        _fields(body, "mint", ("to", "amount"))
        recipient = self.keeper.api.validate(body["to"], "mint.to")
        coins = parse_coins(body["amount"], allow_empty=False)
        return bank.mint(ctx.store, recipient, coins), None

    # --- queries -------------------------------------------------------------------------------
    def handle_query(self, ctx: Context, request: Any) -> Any:
        kind, body = _single_key(request, "custom query")
        handler = self._queries.get(kind)
        if handler is None:
            raise InvalidRequest(f"unknown custom query {kind!r}; the chain answers: {', '.join(self._queries)}")
        return handler(ctx, body)

    def _params(self, ctx: Context, body: dict[str, Any]) -> Any:
        _fields(body, "params", ())
        return chain_params.load(ctx.store).to_json()

    def _privileged(self, ctx: Context, body: dict[str, Any]) -> Any:
        _fields(body, "privileged", ("privilege",))
        return {"contracts": privileges.holders(ctx.store, privileges.validate_privilege(body["privilege"]))}

    def _pending_code(self, ctx: Context, body: dict[str, Any]) -> Any:
        _fields(body, "pending_code", ("checksum",))
        record = code_proposals.pending(ctx.store, code_proposals.parse_checksum(body["checksum"]))
        return None if record is None else record.to_query()

    def _last_commit_votes(self, ctx: Context, body: dict[str, Any]) -> Any:
        """Who signed the previous block, as finalize_block recorded it from the block's LastCommit:
        [{"validator": {"ed25519": b64}, "power": n, "signed": bool}] ([] before the second block)."""
        _fields(body, "last_commit_votes", ())
        raw = ctx.store.get(LAST_COMMIT_VOTES_KEY)
        return {"votes": json.loads(raw) if raw else []}


def install_chain_messages(keeper) -> ChainMessages:
    """Make ``keeper`` answer custom messages and queries with the chain's real handlers."""
    return ChainMessages(keeper).install()
