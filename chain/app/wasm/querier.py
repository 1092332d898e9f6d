"""Answers the QueryRequests contracts send through query_chain.

The answer is a SystemResult<ContractResult<Binary>> in JSON: ``{"ok":{"ok":"<b64>"}}`` for an
answer, ``{"ok":{"error":"..."}}`` when the queried contract (or module) refused, and
``{"error":{<SystemError>}}`` when the request itself could not be routed — the shapes
cosmwasm-std's querier unpacks. Nested smart queries share the caller's gas meter.
"""
from __future__ import annotations

import json
from typing import Any

from ...codec import b64decode, b64encode, json_error_position
from ...vm.errors import OutOfGas, VmError
from ...vm.gas import GasMeter
from .. import bank
from ..coins import validate_denom
from ..context import Context
from ..errors import AppError, NotFound
from . import state

UNSUPPORTED_QUERY_KINDS = ("staking", "distribution", "ibc", "stargate", "grpc")


def _ok(answer: Any) -> bytes:
    return json.dumps({"ok": {"ok": b64encode(json.dumps(answer, separators=(",", ":")).encode())}}).encode()


def _ok_bytes(data: bytes) -> bytes:
    return json.dumps({"ok": {"ok": b64encode(data)}}).encode()


def _contract_error(message: str) -> bytes:
    return json.dumps({"ok": {"error": message}}).encode()


def _system_error(kind: str, body: dict[str, Any]) -> bytes:
    return json.dumps({"error": {kind: body}}).encode()


class ChainQuerier:
    def __init__(self, keeper, ctx: Context):
        self.keeper = keeper
        self.ctx = ctx

    def query(self, request: bytes, meter: GasMeter, depth: int) -> bytes:
        try:
            parsed = json.loads(request)
        except (ValueError, UnicodeDecodeError) as exc:
            return _system_error("invalid_request", {"error": f"invalid JSON ({json_error_position(exc)})", "request": b64encode(request)})
        if not isinstance(parsed, dict) or len(parsed) != 1:
            return _system_error("invalid_request", {"error": "expected one query kind", "request": b64encode(request)})
        (kind, body), = parsed.items()
        try:
            if kind == "bank":
                return self._bank(body)
            if kind == "wasm":
                return self._wasm(body, meter, depth)
            if kind == "custom":
                return _ok(self.keeper.custom_query(self.ctx, body))
        except OutOfGas:
            raise
        except (AppError, VmError) as exc:
            return _contract_error(str(exc))
        except (ValueError, KeyError, TypeError, AttributeError):
            # A request of the wrong shape. Python's own exception texts differ between Python
            # versions, so they must never reach a contract: the answer names only the kind.
            return _system_error("invalid_request", {"error": f"malformed {kind} query", "request": b64encode(request)})
        if kind in UNSUPPORTED_QUERY_KINDS:
            return _system_error("unsupported_request", {"kind": kind})
        return _system_error("unsupported_request", {"kind": str(kind)})

    def _bank(self, body: dict[str, Any]) -> bytes:
        (action, args), = body.items()
        store = self.ctx.store
        if action == "balance":
            denom = validate_denom(args["denom"])
            amount = bank.balance(store, self.keeper.api.validate(args["address"]), denom)
            return _ok({"amount": {"denom": denom, "amount": str(amount)}})
        if action == "all_balances":
            coins = bank.all_balances(store, self.keeper.api.validate(args["address"]))
            return _ok({"amount": [{"denom": d, "amount": str(a)} for d, a in coins]})
        if action == "supply":
            denom = validate_denom(args["denom"])
            return _ok({"amount": {"denom": denom, "amount": str(bank.supply(store, denom))}})
        return _system_error("unsupported_request", {"kind": f"bank.{action}"})

    def _wasm(self, body: dict[str, Any], meter: GasMeter, depth: int) -> bytes:
        (action, args), = body.items()
        ctx, keeper = self.ctx, self.keeper
        if action in ("smart", "raw", "contract_info"):
            address = args["contract_addr"]
            info = state.load_contract(ctx.store, address) if isinstance(address, str) else None
            if info is None:
                return _system_error("no_such_contract", {"addr": str(address)})
            if action == "smart":
                result = keeper.query_smart_raw(ctx, address, b64decode(args["msg"]), meter, depth)
                return json.dumps({"ok": result}).encode()
            if action == "raw":
                value = keeper.query_raw(ctx, address, b64decode(args["key"]))
                return _ok_bytes(value or b"")
            return _ok({"code_id": info.code_id, "creator": info.creator, "admin": info.admin,
                        "pinned": False, "ibc_port": None})
        if action == "code_info":
            code_id = args["code_id"]
            if not isinstance(code_id, int) or isinstance(code_id, bool) or not 0 <= code_id < 1 << 64:
                raise ValueError("code_id must be a u64")
            try:
                code = keeper.code_info(ctx, code_id)
            except NotFound:
                return _system_error("no_such_code", {"code_id": code_id})
            return _ok({"code_id": code.code_id, "creator": code.creator, "checksum": code.checksum})
        return _system_error("unsupported_request", {"kind": f"wasm.{action}"})
