"""Submessages, replies, rollback, data and events, as wasmd dispatches them (via test-reflect)."""
from __future__ import annotations

import base64
import json

import pytest

from chain.testing import AppError, ContractError, TestApp
from support import artifact


def b64(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.b64encode(raw).decode()


def execute_msg(contract: str, msg: dict, funds=None) -> dict:
    return {"wasm": {"execute": {"contract_addr": contract, "msg": b64(msg), "funds": funds or []}}}


def submsg(msg: dict, reply_on: str = "never", sub_id: int = 0, payload: bytes = b"", gas_limit=None) -> dict:
    return {"id": sub_id, "payload": base64.b64encode(payload).decode(), "msg": msg,
            "gas_limit": gas_limit, "reply_on": reply_on}


def dispatch(app: TestApp, reflect: str, sender: str, msgs: list, **extra):
    return app.execute(reflect, {"dispatch": {"msgs": msgs, **extra}}, sender=sender)


def count(app: TestApp, counter: str) -> int:
    return app.query(counter, {"count": {}})["count"]


def test_reply_never_runs_message_without_reply(app, alice, reflect, counter):
    result = dispatch(app, reflect, alice, [submsg(execute_msg(counter, {"increment": {}}))])
    assert count(app, counter) == 6
    assert app.query(reflect, {"reply_order": {}}) == {"ids": []}
    types = [e.type for e in result.events]
    assert types == ["execute", "execute", "wasm"]  # reflect's execute, then the counter's
    assert result.events[1].get("_contract_address") == counter


def test_reply_on_success_gets_events_data_and_payload(app, alice, reflect, counter):
    dispatch(app, reflect, alice, [submsg(execute_msg(counter, {"increment": {}}), "success", 7, b"ctx")])
    reply = app.query(reflect, {"reply": {"id": 7}})
    assert reply["id"] == 7 and base64.b64decode(reply["payload"]) == b"ctx"
    assert reply["gas_used"] > 0
    ok = reply["result"]["ok"]
    assert [e["type"] for e in ok["events"]] == ["execute", "wasm"]
    # data is the protobuf MsgExecuteContractResponse{data} wasmd puts there: field 1, bytes
    inner = b'{"count":6}'
    expected = bytes([0x0A, len(inner)]) + inner
    assert base64.b64decode(ok["data"]) == expected
    assert ok["msg_responses"] == [{"type_url": "/cosmwasm.wasm.v1.MsgExecuteContractResponse",
                                    "value": base64.b64encode(expected).decode()}]


def test_reply_data_overrides_the_callers_data(app, alice, reflect, counter):
    result = dispatch(app, reflect, alice, [submsg(execute_msg(counter, {"increment": {}}), "always", 1)],
                      data=b64(b"mine"), reply_data=b64(b"from-reply"))
    assert result.data == b"from-reply"
    result = dispatch(app, reflect, alice, [submsg(execute_msg(counter, {"increment": {}}), "never")],
                      data=b64(b"mine"))
    assert result.data == b"mine"


def test_failed_submessage_with_reply_on_error_is_caught_and_rolled_back(app, alice, reflect, counter):
    target = app.instantiate(app.store_code(artifact("test_reflect")), {}, sender=alice, label="target")
    result = dispatch(app, reflect, alice, [
        submsg(execute_msg(target, {"write_then_fail": {"key": "k", "value": "v", "msg": "nope"}}), "error", 3),
    ])
    reply = app.query(reflect, {"reply": {"id": 3}})
    assert reply["result"] == {"error": "nope"}
    assert app.query(target, {"read": {"key": "k"}}) == {"value": None}   # the write was undone
    assert "reply" in [e.type for e in result.events]


@pytest.mark.parametrize("reply_on", ["never", "success"])
def test_failed_submessage_without_error_reply_fails_everything(app, alice, reflect, counter, reply_on):
    before = count(app, counter)
    with pytest.raises(ContractError, match="boom"):
        dispatch(app, reflect, alice, [
            submsg(execute_msg(counter, {"increment": {}})),                 # succeeds first …
            submsg(execute_msg(counter, {"fail": {"msg": "boom"}}), reply_on),  # … then this fails
        ])
    assert count(app, counter) == before                                     # … so the first is undone too


def test_successful_submessage_with_reply_on_error_skips_reply(app, alice, reflect, counter):
    dispatch(app, reflect, alice, [submsg(execute_msg(counter, {"increment": {}}), "error", 9)])
    assert app.query(reflect, {"reply": {"id": 9}}) is None
    assert count(app, counter) == 6


def test_failing_reply_fails_the_caller(app, alice, reflect, counter):
    with pytest.raises(ContractError, match="reply failed"):
        dispatch(app, reflect, alice, [submsg(execute_msg(counter, {"increment": {}}), "always", 2)],
                 fail_reply=True)
    assert count(app, counter) == 5


def test_replies_arrive_in_order(app, alice, reflect, counter):
    dispatch(app, reflect, alice, [
        submsg(execute_msg(counter, {"increment": {}}), "always", 5),
        submsg(execute_msg(counter, {"fail": {"msg": "x"}}), "error", 4),
        submsg(execute_msg(counter, {"increment": {}}), "success", 6),
    ])
    assert app.query(reflect, {"reply_order": {}}) == {"ids": [5, 4, 6]}
    assert count(app, counter) == 7


def test_bank_send_and_burn_from_a_contract(app, alice, bob, reflect):
    app.execute(reflect, {"write": {"key": "a", "value": "b"}}, sender=alice, funds={"ucnv": 100})
    assert app.balance(reflect, "ucnv") == 100
    result = dispatch(app, reflect, alice, [
        submsg({"bank": {"send": {"to_address": bob, "amount": [{"denom": "ucnv", "amount": "30"}]}}}),
        submsg({"bank": {"burn": {"amount": [{"denom": "ucnv", "amount": "20"}]}}}),
    ])
    assert app.balance(bob, "ucnv") == 1_030 and app.balance(reflect, "ucnv") == 50
    transfer = next(e for e in result.events if e.type == "transfer")
    assert transfer.attributes == [("recipient", bob), ("sender", reflect), ("amount", "30ucnv")]
    assert any(e.type == "burn" for e in result.events)


def test_insufficient_funds_reply_on_error(app, alice, bob, reflect):
    dispatch(app, reflect, alice, [
        submsg({"bank": {"send": {"to_address": bob, "amount": [{"denom": "ucnv", "amount": "5"}]}}}, "error", 1)])
    error = app.query(reflect, {"reply": {"id": 1}})["result"]["error"]
    assert "insufficient funds" in error


def test_funds_move_before_the_call_and_back_on_failure(app, alice, counter):
    before = app.balance(alice, "ucnv")
    result = app.execute(counter, {"deposit": {}}, sender=alice, funds={"ucnv": 100, "uatom": 5})
    assert result.wasm_attribute("funds") == "5uatom,100ucnv"
    assert app.balance(counter, "ucnv") == 100 and app.balance(alice, "ucnv") == before - 100
    with pytest.raises(ContractError):
        app.execute(counter, {"fail": {"msg": "no"}}, sender=alice, funds={"ucnv": 100})
    assert app.balance(counter, "ucnv") == 100 and app.balance(alice, "ucnv") == before - 100


def test_submessage_gas_limit_makes_out_of_gas_catchable(app, alice, reflect, hostile):
    result = dispatch(app, reflect, alice, [submsg(execute_msg(hostile, {"loop": {}}), "error", 11, gas_limit=20_000)])
    reply = app.query(reflect, {"reply": {"id": 11}})
    assert reply["result"] == {"error": "out of gas"}
    assert result.gas_used >= 20_000


def test_instantiate_submessage_reply_carries_the_address(app, alice, reflect):
    code_id = app.store_code(artifact("test_counter"))
    msg = {"wasm": {"instantiate": {"admin": alice, "code_id": code_id, "msg": b64({"count": 3}),
                                    "funds": [], "label": "child"}}}
    dispatch(app, reflect, alice, [submsg(msg, "success", 12)])
    data = base64.b64decode(app.query(reflect, {"reply": {"id": 12}})["result"]["ok"]["data"])
    assert data[0] == 0x0A                                   # field 1: the address string
    address = data[2:2 + data[1]].decode()
    assert app.query(address, {"count": {}}) == {"count": 3}
    info = app.contract_info(address)
    assert info.creator == reflect and info.admin == alice and info.label == "child"


def test_instantiate2_gives_a_predictable_address(app, alice, reflect):
    code_id = app.store_code(artifact("test_counter"))
    msg = {"wasm": {"instantiate2": {"admin": None, "code_id": code_id, "msg": b64({}), "funds": [],
                                     "label": "salted", "salt": b64(b"salt-1")}}}
    dispatch(app, reflect, alice, [submsg(msg, "success", 1)])
    with pytest.raises(AppError, match="already in use"):
        dispatch(app, reflect, alice, [submsg(msg, "success", 1)])


def test_events_follow_wasmd_naming(app, alice, reflect):
    result = app.execute(reflect, {"emit": {
        "attributes": [{"key": "action", "value": "go"}],
        "events": [{"type": "transfer", "attributes": [{"key": "to", "value": "x"}]}],
        "data": b64(b"d")}}, sender=alice)
    wasm = next(e for e in result.events if e.type == "wasm")
    assert wasm.attributes == [("_contract_address", reflect), ("action", "go")]
    custom = next(e for e in result.events if e.type == "wasm-transfer")
    assert custom.attributes[0] == ("_contract_address", reflect)
    assert result.data == b"d"


@pytest.mark.parametrize("emit,reason", [
    ({"attributes": [{"key": "_hidden", "value": "v"}]}, "reserved prefix"),
    ({"attributes": [{"key": " ", "value": "v"}]}, "must not be empty"),
    ({"events": [{"type": "x", "attributes": []}]}, "too short"),
])
def test_invalid_contract_events_fail_the_call(app, alice, reflect, emit, reason):
    with pytest.raises(AppError, match=reason):
        app.execute(reflect, {"emit": emit}, sender=alice)


@pytest.mark.parametrize("msg,reason", [
    ({"staking": {"delegate": {"validator": "v", "amount": {"denom": "ucnv", "amount": "1"}}}}, "unsupported message: staking"),
    ({"custom": {"mint": {}}}, "holds no privilege"),
    ({"wasm": {"execute": {"contract_addr": "cosmos1xyz", "msg": "e30=", "funds": []}}}, "invalid contract_addr"),
    ({"bank": {"send": {"to_address": "conclave1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqcxsv5r", "amount": [{"denom": "ucnv", "amount": "0"}]}}}, "zero amount|invalid"),
])
def test_bad_messages_from_contracts_are_refused(app, alice, reflect, msg, reason):
    with pytest.raises(AppError, match=reason):
        dispatch(app, reflect, alice, [submsg(msg)])


def test_nested_dispatch_through_three_levels(app, alice, reflect, counter):
    inner = execute_msg(counter, {"increment": {}})
    for _ in range(3):
        inner = execute_msg(reflect, {"dispatch": {"msgs": [submsg(inner)]}})
    dispatch(app, reflect, alice, [submsg(inner)])
    assert count(app, counter) == 6
