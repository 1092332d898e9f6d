"""Query depth and call depth are bounded; exceeding them fails cleanly with the limit named."""
from __future__ import annotations

import base64
import json

import pytest

from chain.app.wasm import dispatch
from chain.testing import AppError, ContractError
from chain.vm import host


def nested_smart_query(contract: str, levels: int) -> dict:
    msg: dict = {"read": {"key": "k"}}
    for _ in range(levels):
        msg = {"smart": {"contract": contract, "msg": msg}}
    return msg


def test_nested_queries_within_the_limit_work(app, alice, reflect):
    app.execute(reflect, {"write": {"key": "k", "value": "v"}}, sender=alice)
    assert app.query(reflect, nested_smart_query(reflect, host.MAX_QUERY_DEPTH - 1)) == {"value": "v"}


def test_query_depth_limit(app, alice, reflect):
    with pytest.raises(ContractError, match=f"query depth limit \\({host.MAX_QUERY_DEPTH}\\) exceeded"):
        app.query(reflect, nested_smart_query(reflect, host.MAX_QUERY_DEPTH + 2))


def _b64(obj) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


def test_call_depth_limit(app, alice, reflect, counter, monkeypatch):
    monkeypatch.setattr(dispatch, "MAX_CALL_DEPTH", 3)
    msg = {"wasm": {"execute": {"contract_addr": counter, "msg": _b64({"increment": {}}), "funds": []}}}
    for _ in range(5):
        inner = {"dispatch": {"msgs": [{"id": 0, "msg": msg, "gas_limit": None, "reply_on": "never"}]}}
        msg = {"wasm": {"execute": {"contract_addr": reflect, "msg": _b64(inner), "funds": []}}}
    with pytest.raises(AppError, match=r"maximum call depth \(3\) exceeded"):
        app.execute(reflect, {"dispatch": {"msgs": [{"id": 0, "msg": msg, "gas_limit": None, "reply_on": "never"}]}},
                    sender=alice)
    assert app.query(counter, {"count": {}}) == {"count": 5}
