"""Dispatch of the messages a contract returns, with wasmd's submessage and reply semantics.

Every submessage runs in its own branch of the caller's state: on success the branch is
written and its events kept; on failure it is dropped. Then reply_on decides: ``never`` and
``success`` let a failure fail the caller; ``error`` and ``always`` hand the failure to the
caller's ``reply`` instead and carry on. A reply runs in the caller's context; its error fails
the caller; its data, when not null, replaces the caller's data. A submessage with a gas_limit
runs on a meter of its own, so running out there is an ordinary, catchable failure.
"""
from __future__ import annotations

import json
from typing import Any

from ...codec import b64decode, b64encode
from ...vm.errors import OutOfGas, VmError
from ...vm.gas import GasMeter, fuel_limit_for_sdk_gas
from .. import bank
from ..coins import parse_coins
from ..context import Context
from ..errors import AppError, InvalidRequest
from ..events import Event
from . import proto

MAX_CALL_DEPTH = 100
REPLY_ON = ("always", "success", "error", "never")
MAX_REPLY_PAYLOAD = 128 * 1024
UNSUPPORTED_KINDS = ("staking", "distribution", "ibc", "gov", "stargate", "any", "ibc2")


def dispatch_submessages(keeper, ctx: Context, contract: str, messages: list[Any]) -> tuple[list[Event], bytes | None]:
    """Run ``messages`` in order; return their events and the data of the last reply that set some."""
    events: list[Event] = []
    data: bytes | None = None
    for sub in messages:
        sub_id, payload, msg, gas_limit, reply_on = _parse_submsg(sub)
        failure, outcome, gas_used = _run_in_branch(keeper, ctx, contract, msg, gas_limit)
        if outcome is not None:
            events.extend(outcome.events)
        if failure is not None and reply_on in ("success", "never"):
            raise failure
        if failure is None and reply_on in ("error", "never"):
            continue
        if failure is not None:
            result: dict[str, Any] = {"error": str(failure)}
        else:
            result = {"ok": {
                "events": [e.to_json() for e in outcome.events],
                "data": b64encode(outcome.msg_responses[0]["value_bytes"]) if outcome.msg_responses and outcome.msg_responses[0]["value_bytes"] else None,
                "msg_responses": [{"type_url": r["type_url"], "value": b64encode(r["value_bytes"])} for r in outcome.msg_responses],
            }}
        reply = {"id": sub_id, "payload": b64encode(payload), "gas_used": gas_used, "result": result}
        replied = keeper.reply(ctx, contract, reply)
        events.extend(replied.events)
        if replied.data is not None:
            data = replied.data
    return events, data


def _parse_submsg(sub: Any) -> tuple[int, bytes, Any, int | None, str]:
    if not isinstance(sub, dict) or "msg" not in sub:
        raise InvalidRequest(f"invalid submessage: {str(sub)[:200]}")
    sub_id = sub.get("id", 0)
    if not isinstance(sub_id, int) or isinstance(sub_id, bool) or not 0 <= sub_id < 1 << 64:
        raise InvalidRequest("submessage id must be a u64")
    reply_on = sub.get("reply_on", "never")
    if reply_on not in REPLY_ON:
        raise InvalidRequest(f"invalid reply_on: {reply_on!r}")
    gas_limit = sub.get("gas_limit")
    if gas_limit is not None and (not isinstance(gas_limit, int) or isinstance(gas_limit, bool) or gas_limit < 0):
        raise InvalidRequest("submessage gas_limit must be a u64 or null")
    payload = b64decode(sub.get("payload") or "")
    if len(payload) > MAX_REPLY_PAYLOAD:
        raise InvalidRequest(f"reply payload larger than {MAX_REPLY_PAYLOAD} bytes")
    return sub_id, payload, sub["msg"], gas_limit, reply_on


def _run_in_branch(keeper, ctx: Context, contract: str, msg: Any, gas_limit: int | None):
    """Run one message in a branch; return (failure or None, outcome or None, gas used in SDK gas)."""
    if gas_limit is None:
        meter = ctx.meter
        start = meter.used
    else:
        meter = GasMeter(min(fuel_limit_for_sdk_gas(gas_limit), ctx.meter.remaining))
        start = 0
    branch, commit = ctx.branch(meter)
    try:
        outcome = dispatch_message(keeper, branch, contract, msg)
    except OutOfGas as exc:
        if gas_limit is None:
            raise                                      # the whole transaction is out of gas
        ctx.meter.consume(meter.used)
        return exc, None, meter.gas_used
    except (AppError, VmError) as exc:
        if gas_limit is not None:
            ctx.meter.consume(meter.used)
        return exc, None, _used(meter, start)
    commit()
    if gas_limit is not None:
        ctx.meter.consume(meter.used)
    return None, outcome, _used(meter, start)


def _used(meter: GasMeter, start: int) -> int:
    probe = GasMeter(meter.limit)
    probe.used = meter.used - start
    return probe.gas_used


def dispatch_message(keeper, ctx: Context, contract: str, msg: Any):
    """Execute one CosmosMsg sent by ``contract``."""
    from .keeper import Outcome

    if ctx.depth > MAX_CALL_DEPTH:
        raise AppError(f"maximum call depth ({MAX_CALL_DEPTH}) exceeded")
    kind, body = _single_key(msg, "CosmosMsg")
    if kind == "bank":
        action, args = _single_key(body, "BankMsg")
        if action == "send":
            to = keeper.api.validate(args.get("to_address"), "to_address")
            coins = parse_coins(args.get("amount"), allow_empty=False)
            return Outcome(events=bank.send(ctx.store, contract, to, coins),
                           msg_responses=[_response(proto.SEND_RESPONSE_TYPE, b"")])
        if action == "burn":
            coins = parse_coins(args.get("amount"), allow_empty=False)
            return Outcome(events=bank.burn(ctx.store, contract, coins),
                           msg_responses=[_response(proto.BURN_RESPONSE_TYPE, b"")])
        raise InvalidRequest(f"unsupported bank message: {action}")
    if kind == "wasm":
        return _dispatch_wasm(keeper, ctx, contract, body)
    if kind == "custom":
        events, data = keeper.custom_message(ctx, contract, body)
        return Outcome(events=events, data=data)
    if kind in UNSUPPORTED_KINDS:
        raise InvalidRequest(f"unsupported message: {kind} (this chain has no {kind} module)")
    raise InvalidRequest(f"unknown message kind: {kind}")


def _dispatch_wasm(keeper, ctx: Context, contract: str, body: Any):
    action, args = _single_key(body, "WasmMsg")
    if action == "execute":
        target = keeper.api.validate(args.get("contract_addr"), "contract_addr")
        out = keeper.execute(ctx, contract, target, b64decode(args.get("msg")), parse_coins(args.get("funds")))
        out.msg_responses = [_response(proto.EXECUTE_RESPONSE_TYPE, proto.execute_response(out.data))]
        return out
    if action in ("instantiate", "instantiate2"):
        admin = args.get("admin")
        salt = b64decode(args.get("salt")) if action == "instantiate2" else None
        if action == "instantiate2" and args.get("fix_msg"):
            raise InvalidRequest("instantiate2 with fix_msg is not supported")
        out = keeper.instantiate(ctx, contract, _code_id(args.get("code_id")), b64decode(args.get("msg")),
                                 parse_coins(args.get("funds")), args.get("label"), admin, salt)
        type_url = proto.INSTANTIATE2_RESPONSE_TYPE if salt is not None else proto.INSTANTIATE_RESPONSE_TYPE
        out.msg_responses = [_response(type_url, proto.instantiate_response(out.address, out.data))]
        return out
    if action == "migrate":
        target = keeper.api.validate(args.get("contract_addr"), "contract_addr")
        out = keeper.migrate(ctx, contract, target, _code_id(args.get("new_code_id")), b64decode(args.get("msg")))
        out.msg_responses = [_response(proto.MIGRATE_RESPONSE_TYPE, proto.migrate_response(out.data))]
        return out
    if action == "update_admin":
        target = keeper.api.validate(args.get("contract_addr"), "contract_addr")
        out = keeper.update_admin(ctx, contract, target, keeper.api.validate(args.get("admin"), "admin"))
        out.msg_responses = [_response(proto.UPDATE_ADMIN_RESPONSE_TYPE, b"")]
        return out
    if action == "clear_admin":
        target = keeper.api.validate(args.get("contract_addr"), "contract_addr")
        out = keeper.update_admin(ctx, contract, target, None)
        out.msg_responses = [_response(proto.CLEAR_ADMIN_RESPONSE_TYPE, b"")]
        return out
    raise InvalidRequest(f"unsupported wasm message: {action}")


def _response(type_url: str, value: bytes) -> dict[str, Any]:
    return {"type_url": type_url, "value_bytes": value}


def _code_id(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidRequest(f"invalid code_id: {value!r}")
    return value


def _single_key(value: Any, what: str) -> tuple[str, Any]:
    """Externally tagged serde enums: exactly one key whose value is an object (unit variants aside)."""
    if isinstance(value, str):
        return value, {}
    if not isinstance(value, dict) or len(value) != 1:
        raise InvalidRequest(f"invalid {what}: {json.dumps(value)[:200] if _jsonable(value) else value!r}")
    (key, body), = value.items()
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise InvalidRequest(f"invalid {what}.{key}: expected an object")
    return key, body


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False
