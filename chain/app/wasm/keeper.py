"""Contract lifecycle and calls: store code, instantiate, execute, migrate, sudo, reply, query.

Each call follows wasmd's keeper: funds move first, the VM runs the entry point against the
contract's storage in the current branch, the Response's attributes and events become
"wasm"/"wasm-*" events, and its submessages are dispatched (see dispatch.py). An error anywhere
raises and the caller's branch is dropped, so nothing the call did survives.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from ...codec import b64decode, b64encode, json_error_position
from ...crypto import classic_contract_address, predictable_contract_address
from ...vm import VM
from ...vm.errors import VmError
from ...vm.gas import GasMeter
from .. import bank
from ..address import Bech32Api
from ..coins import coins_json
from ..context import Context
from ..errors import AppError, ContractError, InvalidRequest, NotFound, Unauthorized
from ..events import CONTRACT_ADDRESS_KEY, Event, contract_events
from . import state
from .dispatch import dispatch_submessages
from .querier import ChainQuerier
from .state import CodeInfo, ContractInfo, HistoryEntry

MAX_LABEL_LENGTH = 128          # wasmd MaxLabelSize
MAX_SALT_LENGTH = 64            # wasmd MaxSaltSize
DEFAULT_QUERY_GAS_LIMIT = 3_000_000   # wasmd smart-query gas limit, SDK gas

CustomMessageHandler = Callable[[Context, str, Any], tuple[list[Event], bytes | None]]
CustomQueryHandler = Callable[[Context, Any], Any]


class InvalidContractResult(AppError):
    """The contract answered with something that is not a valid ContractResult."""


@dataclass
class Outcome:
    """What a message produced: its events, its data, and for instantiation the new address."""

    events: list[Event] = field(default_factory=list)
    data: bytes | None = None
    address: str | None = None
    msg_responses: list[dict[str, str]] = field(default_factory=list)


def _refuse_custom_message(ctx: Context, contract: str, msg: Any) -> tuple[list[Event], bytes | None]:
    raise InvalidRequest("custom messages are not accepted from this contract (it holds no privilege)")


def _refuse_custom_query(ctx: Context, request: Any) -> Any:
    raise InvalidRequest("custom queries are not supported")


class WasmKeeper:
    def __init__(self, vm: VM, api: Bech32Api,
                 custom_message: CustomMessageHandler = _refuse_custom_message,
                 custom_query: CustomQueryHandler = _refuse_custom_query,
                 query_gas_limit: int = DEFAULT_QUERY_GAS_LIMIT):
        self.vm = vm
        self.api = api
        self.custom_message = custom_message
        self.custom_query = custom_query
        self.query_gas_limit = query_gas_limit

    # --- code ------------------------------------------------------------------------------
    def store_code(self, ctx: Context, creator: str, wasm: bytes) -> tuple[CodeInfo, list[Event]]:
        """Validate, compile and register code. Only governance may reach this on a live chain."""
        report = self.vm.check(wasm)
        self.vm.compile(report)
        info = CodeInfo(code_id=state.next_sequence(ctx.store, "code"), checksum=report.checksum,
                        creator=creator, size=len(report.wasm))
        state.save_code(ctx.store, info, report.wasm)
        return info, [Event("store_code", [("code_checksum", info.checksum), ("code_id", str(info.code_id))])]

    def code_info(self, ctx: Context, code_id: int) -> CodeInfo:
        info = state.load_code(ctx.store, code_id)
        if info is None:
            raise NotFound(f"no such code: {code_id}")
        return info

    def contract_info(self, ctx: Context, address: str) -> ContractInfo:
        info = state.load_contract(ctx.store, address)
        if info is None:
            raise NotFound(f"no such contract: {address}")
        return info

    # --- lifecycle -------------------------------------------------------------------------
    def instantiate(self, ctx: Context, creator: str, code_id: int, msg: bytes, funds: list[tuple[str, int]],
                    label: str, admin: str | None, salt: bytes | None = None) -> Outcome:
        code = self.code_info(ctx, code_id)
        if not isinstance(label, str) or not label.strip():
            raise InvalidRequest("label is required")
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidRequest(f"label longer than {MAX_LABEL_LENGTH} bytes")
        if admin is not None:
            self.api.validate(admin, "admin")
        if salt is None:
            raw_address = classic_contract_address(code_id, state.next_sequence(ctx.store, "instance"))
        else:
            if not 1 <= len(salt) <= MAX_SALT_LENGTH:
                raise InvalidRequest(f"salt must be 1..{MAX_SALT_LENGTH} bytes")
            raw_address = predictable_contract_address(
                bytes.fromhex(code.checksum), self.api.canonicalize(creator), salt)
        address = self.api.humanize(raw_address)
        if state.load_contract(ctx.store, address) is not None:
            raise InvalidRequest(f"contract address {address} is already in use (same salt twice?)")
        info = ContractInfo(address=address, code_id=code_id, creator=creator, admin=admin, label=label,
                            created_height=ctx.block.height, created_tx_index=ctx.tx_index)
        state.save_contract(ctx.store, info)
        state.append_history(ctx.store, address, HistoryEntry("init", code_id, ctx.block.height, _json_or_text(msg)))
        events = bank.send(ctx.store, creator, address, funds)
        events.append(Event("instantiate", [(CONTRACT_ADDRESS_KEY, address), ("code_id", str(code_id))]))
        response = self._call(ctx, code, address, "instantiate", [self._env(ctx, address), _info(creator, funds), msg])
        out = self._handle_response(ctx, address, response, events)
        out.address = address
        return out

    def execute(self, ctx: Context, sender: str, contract: str, msg: bytes,
                funds: list[tuple[str, int]]) -> Outcome:
        info = self.contract_info(ctx, contract)
        events = bank.send(ctx.store, sender, contract, funds)
        events.append(Event("execute", [(CONTRACT_ADDRESS_KEY, contract)]))
        response = self._call(ctx, self.code_info(ctx, info.code_id), contract, "execute",
                              [self._env(ctx, contract), _info(sender, funds), msg])
        return self._handle_response(ctx, contract, response, events)

    def migrate(self, ctx: Context, sender: str | None, contract: str, new_code_id: int, msg: bytes) -> Outcome:
        """Switch ``contract`` to ``new_code_id`` and run its migrate. ``sender`` None: governance."""
        info = self.contract_info(ctx, contract)
        if sender is not None and info.admin != sender:
            raise Unauthorized(f"unauthorized: only the contract admin may migrate {contract}")
        code = self.code_info(ctx, new_code_id)
        previous = info.code_id
        info.code_id = new_code_id
        state.save_contract(ctx.store, info, previous_code_id=previous)
        state.append_history(ctx.store, contract, HistoryEntry("migrate", new_code_id, ctx.block.height, _json_or_text(msg)))
        events = [Event("migrate", [(CONTRACT_ADDRESS_KEY, contract), ("code_id", str(new_code_id))])]
        migrate_info = json.dumps({"sender": sender or "", "old_migrate_version": None}).encode()
        response = self._call(ctx, code, contract, "migrate", [self._env(ctx, contract), msg, migrate_info])
        return self._handle_response(ctx, contract, response, events)

    def sudo(self, ctx: Context, contract: str, msg: bytes) -> Outcome:
        """Privileged call from the chain itself (never reachable by a transaction)."""
        info = self.contract_info(ctx, contract)
        events = [Event("sudo", [(CONTRACT_ADDRESS_KEY, contract)])]
        response = self._call(ctx, self.code_info(ctx, info.code_id), contract, "sudo", [self._env(ctx, contract), msg])
        return self._handle_response(ctx, contract, response, events)

    def reply(self, ctx: Context, contract: str, reply: dict[str, Any]) -> Outcome:
        info = self.contract_info(ctx, contract)
        events = [Event("reply", [(CONTRACT_ADDRESS_KEY, contract)])]
        response = self._call(ctx, self.code_info(ctx, info.code_id), contract, "reply",
                              [self._env(ctx, contract), json.dumps(reply, separators=(",", ":")).encode()])
        return self._handle_response(ctx, contract, response, events)

    def update_admin(self, ctx: Context, sender: str | None, contract: str, new_admin: str | None) -> Outcome:
        info = self.contract_info(ctx, contract)
        if sender is not None and info.admin != sender:
            raise Unauthorized(f"unauthorized: only the contract admin may change the admin of {contract}")
        if new_admin is not None:
            self.api.validate(new_admin, "new admin")
        info.admin = new_admin
        state.save_contract(ctx.store, info)
        kind = "update_contract_admin" if new_admin is not None else "clear_contract_admin"
        attrs = [(CONTRACT_ADDRESS_KEY, contract)] + ([("new_admin_address", new_admin)] if new_admin else [])
        return Outcome(events=[Event(kind, attrs)])

    # --- queries ---------------------------------------------------------------------------
    def query_smart(self, ctx: Context, contract: str, msg: bytes, meter: GasMeter | None = None) -> bytes:
        """The contract's answer (decoded from base64), or ContractError with its message."""
        result = self.query_smart_raw(ctx, contract, msg, meter or GasMeter.with_sdk_gas(self.query_gas_limit), 0)
        if "ok" in result:
            return _b64(result["ok"], "query result")
        raise ContractError(result["error"], contract)

    def query_smart_raw(self, ctx: Context, contract: str, msg: bytes, meter: GasMeter, depth: int) -> dict[str, Any]:
        info = self.contract_info(ctx, contract)
        code = self.code_info(ctx, info.code_id)
        raw = self._vm_call(ctx, code, contract, "query", [self._env(ctx, contract), msg],
                            meter=meter, read_only=True, depth=depth)
        return _contract_result(raw, contract, query=True)

    def query_raw(self, ctx: Context, contract: str, key: bytes) -> bytes | None:
        self.contract_info(ctx, contract)
        return state.contract_storage(ctx.store, contract).get(key)

    # --- internals -------------------------------------------------------------------------
    def _env(self, ctx: Context, contract: str) -> bytes:
        block = ctx.block
        tx = "null" if ctx.tx_index is None else f'{{"index":{ctx.tx_index}}}'
        return (f'{{"block":{{"height":{block.height},"time":"{block.time_ns}","chain_id":{json.dumps(block.chain_id)}}},'
                f'"transaction":{tx},"contract":{{"address":"{contract}"}}}}').encode()

    def _vm_call(self, ctx: Context, code: CodeInfo, contract: str, entry: str, args: list[bytes], *,
                 meter: GasMeter, read_only: bool, depth: int = 0) -> bytes:
        checksum = bytes.fromhex(code.checksum)
        store = ctx.store
        return self.vm.call(
            checksum, lambda: state.load_wasm(store, checksum) or b"", entry, args,
            storage=state.contract_storage(store, contract), querier=ChainQuerier(self, ctx),
            meter=meter, read_only=read_only, query_depth=depth)

    def _call(self, ctx: Context, code: CodeInfo, contract: str, entry: str, args: list[bytes]) -> dict[str, Any]:
        raw = self._vm_call(ctx, code, contract, entry, args, meter=ctx.meter, read_only=False)
        result = _contract_result(raw, contract, query=False)
        if "error" in result:
            raise ContractError(result["error"], contract)
        response = result["ok"]
        if not isinstance(response, dict):
            raise InvalidContractResult(f"contract {contract} returned a Response that is not an object")
        return response

    def _handle_response(self, ctx: Context, contract: str, response: dict[str, Any], events: list[Event]) -> Outcome:
        try:
            events.extend(contract_events(contract, response.get("attributes"), response.get("events")))
        except InvalidRequest as exc:
            raise InvalidContractResult(f"contract {contract} returned invalid events: {exc}") from None
        data = response.get("data")
        data_bytes = _b64(data, "response data") if data is not None else None
        messages = response.get("messages") or []
        if not isinstance(messages, list):
            raise InvalidContractResult(f"contract {contract} returned messages that are not a list")
        sub_events, reply_data = dispatch_submessages(self, ctx, contract, messages)
        events.extend(sub_events)
        return Outcome(events=events, data=reply_data if reply_data is not None else data_bytes)


def _info(sender: str, funds: list[tuple[str, int]]) -> bytes:
    if not funds and sender.isascii() and sender.isalnum():   # the common case, the same bytes as below
        return b'{"sender":"%s","funds":[]}' % sender.encode()
    return json.dumps({"sender": sender, "funds": coins_json(funds)}, separators=(",", ":")).encode()


def _json_or_text(msg: bytes) -> object:
    try:
        return json.loads(msg)
    except ValueError:
        return b64encode(msg)


def _b64(value: Any, what: str) -> bytes:
    try:
        return b64decode(value)
    except ValueError as exc:
        raise InvalidContractResult(f"invalid base64 in {what}: {exc}") from None


def _contract_result(raw: bytes, contract: str, query: bool) -> dict[str, Any]:
    """Parse a ContractResult: {"ok": ...} or {"error": "..."}; anything else is the contract's fault."""
    try:
        result = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidContractResult(f"contract {contract} returned invalid JSON ({json_error_position(exc)})") from None
    if not isinstance(result, dict) or len(result) != 1 or not ({"ok", "error"} & result.keys()):
        raise InvalidContractResult(f"contract {contract} returned something that is not a ContractResult")
    if "error" in result and not isinstance(result["error"], str):
        raise InvalidContractResult(f"contract {contract} returned a non-string error")
    if query and "ok" in result and not isinstance(result["ok"], str):
        raise InvalidContractResult(f"contract {contract} returned a query result that is not base64")
    return result
