"""The stream's messages for one height and the filter rules, from a finalize_block-shaped answer."""
from __future__ import annotations

import json
from hashlib import sha256

import pytest

from chain.api.event_feed import HeightFeed, SubscribeError, Subscription, parse_subscribe
from chain.codec import canonical_json

VOTING = "conclave17p9rzwnnfxcjp32un9ug7yhhzgtkhvl9jfksztgw5uh69wac2pgs85laqf"
OTHER = "conclave10qt8wg0n7z740ssvf3urmvgtjhxpyp74hxqvqt7z226gykuus7eq4zdnkr"
HEADER = {"chain_id": "c", "height": 9, "time_ns": 5, "proposer": "ab" * 20, "app_hash": "00" * 32}


def event(type_: str, contract: str | None = None, **attrs: str) -> dict:
    pairs = ([("_contract_address", contract)] if contract else []) + list(attrs.items())
    return {"type": type_, "attributes": [{"key": k, "value": v} for k, v in pairs]}


def result(*events: dict) -> dict:
    return {"code": 0, "codespace": "", "log": "", "gas_used": 1, "gas_wanted": 2, "data": None, "events": list(events)}


FEED = HeightFeed.build(9, HEADER, [b"tx-a", b"tx-b"], {
    "app_hash": b"\x01" * 32, "validator_updates": [],
    "begin_block": {"events": [event("sudo", OTHER)], "errors": []},
    "tx_results": [result(event("execute", VOTING), event("wasm", VOTING, action="propose", proposal_id="4")),
                   result(event("transfer", recipient="x", amount="1ucnv"))],
    "end_block": {"events": [event("wasm", OTHER, action="end_block")], "errors": []},
})


def kinds_and_types(subscription: Subscription) -> list[tuple[str, str | None]]:
    out = []
    for text in FEED.select(subscription):
        message = json.loads(text)
        out.append((message["kind"], message.get("type") or message.get("hash")))
    return out


def test_a_height_in_reading_order():
    messages = [json.loads(t) for t in FEED.select(Subscription(frozenset({"block", "tx", "event"})))]
    assert [(m["kind"], m.get("source")) for m in messages] == [
        ("block", None), ("event", "begin_block"), ("tx", None), ("tx", None),
        ("event", "tx"), ("event", "tx"), ("event", "tx"), ("event", "end_block")]
    block = messages[0]
    assert block["hash"] == sha256(canonical_json(HEADER)).hexdigest() and block["app_hash"] == "01" * 32
    assert block["num_txs"] == 2 and all(m["height"] == 9 for m in messages)
    assert messages[2]["hash"] == sha256(b"tx-a").hexdigest().upper() and messages[3]["index"] == 1
    assert messages[4]["tx_hash"] == messages[2]["hash"] and messages[6]["tx_index"] == 1
    assert FEED.size == sum(len(t) for t in FEED.select(Subscription(frozenset({"block", "tx", "event"}))))


def test_filters_need_every_condition_on_one_event_and_never_hide_blocks():
    tx_a = sha256(b"tx-a").hexdigest().upper()
    everything = frozenset({"block", "tx", "event"})
    assert kinds_and_types(Subscription(everything, proposal_id=4)) == [
        ("block", sha256(canonical_json(HEADER)).hexdigest()), ("tx", tx_a), ("event", "wasm")]
    assert [k for k, _ in kinds_and_types(Subscription(everything, contract=VOTING))] == ["block", "tx", "event",
                                                                                          "event"]
    assert kinds_and_types(Subscription(frozenset({"event"}), contract=OTHER, event_type="wasm")) == [
        ("event", "wasm")]                                       # the end_block one, not the sudo one
    assert kinds_and_types(Subscription(frozenset({"event"}), contract=VOTING, event_type="transfer")) == []
    assert kinds_and_types(Subscription(frozenset({"event"}), proposal_id=5)) == []
    assert [k for k, _ in kinds_and_types(Subscription(frozenset({"block"}), proposal_id=5))] == ["block"]


def test_parse_subscribe_defaults_and_normal_form():
    parsed = parse_subscribe({"subscribe": {}}, "conclave")
    assert parsed.kinds == frozenset({"block", "tx", "event"}) and parsed.from_height is None
    parsed = parse_subscribe({"subscribe": {"kinds": ["event", "block"], "contract": VOTING, "proposal_id": 0,
                                            "from_height": 3, "event_type": None}}, "conclave")
    assert parsed.to_json() == {"kinds": ["block", "event"], "contract": VOTING, "event_type": None,
                                "proposal_id": 0, "from_height": 3}


@pytest.mark.parametrize("doc,code", [
    (None, "invalid_request"), ({"subscribe": None}, "invalid_request"), ({"unsubscribe": {}}, "invalid_request"),
    ({"subscribe": {"kinds": ["block", 1]}}, "invalid_kinds"),
    ({"subscribe": {"contract": VOTING.replace("conclave", "cosmos")}}, "invalid_address"),
    ({"subscribe": {"contract": VOTING.upper()}}, "invalid_address"),
    ({"subscribe": {"event_type": ["wasm"]}}, "invalid_event_type"),
    ({"subscribe": {"proposal_id": 1 << 64}}, "invalid_proposal_id"),
    ({"subscribe": {"from_height": 1 << 63}}, "invalid_from_height"),
])
def test_parse_subscribe_refuses_with_a_code(doc, code):
    with pytest.raises(SubscribeError) as refused:
        parse_subscribe(doc, "conclave")
    assert refused.value.code == code and str(refused.value)
