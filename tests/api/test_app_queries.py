"""The app query paths the API reads (chain/app/app.py): the genesis contracts by name, codes,
contracts by code, contract info and history, raw contract state with a proof; list paging and
bad input answered as query errors, never raised."""
from __future__ import annotations

import json
import shutil

import pytest

from chain.app.app import App, MAX_QUERY_PAGE
from chain.app.genesis import rfc3339_to_ns
from chain.store import Proof, StateStore, verify_proof
from support import devnet_genesis


@pytest.fixture(scope="module")
def booted(node, tmp_path_factory):
    """The devnet genesis (one validator) in-process, block 1 committed; compiled modules from the live node."""
    genesis, contracts = devnet_genesis(validators=1)
    root = tmp_path_factory.mktemp("app")
    shutil.copytree(node.home / "wasm", root / "wasm")
    app = App(StateStore.open(root / "data"), vm_cache_dir=root / "wasm")
    doc = json.loads(genesis)
    time_ns = rfc3339_to_ns(doc["genesis_time"])
    app.init_chain(genesis, time_ns)
    app.finalize_block(1, time_ns + 10**9, [])
    app.commit()
    try:
        yield app, contracts
    finally:
        app.store.close()


def value(app: App, path: str, data: bytes = b"", height: int | None = None):
    answer = app.query(path, data, height)
    assert answer["code"] == 0, answer["log"]
    return answer["value"]


def test_genesis_contracts_are_found_where_genesis_put_them(booted):
    app, contracts = booted
    assert value(app, "/genesis/contracts") == contracts


def test_codes_contracts_and_history(booted):
    app, contracts = booted
    codes = value(app, "/wasm/codes")["codes"]
    assert [c["code_id"] for c in codes] == list(range(1, 8))
    assert value(app, "/wasm/codes", b'{"start_after": 5, "limit": 5}')["codes"] == codes[5:]
    assert value(app, "/wasm/codes", b'{"start_after": 7}')["codes"] == []
    info = value(app, f"/wasm/contract/{contracts['valset']}")
    assert info["label"] == "valset" and info["admin"] == contracts["voting"]
    assert value(app, f"/wasm/code/{info['code_id']}")["checksum"] == codes[info["code_id"] - 1]["checksum"]
    assert value(app, f"/wasm/code/{info['code_id']}/contracts")["contracts"] == [contracts["valset"]]
    assert value(app, f"/wasm/code/{info['code_id']}/contracts",
                 json.dumps({"start_after": contracts["valset"]}).encode())["contracts"] == []
    assert value(app, "/wasm/code/99") is None and value(app, f"/wasm/contract/{codes[0]['creator']}") is None
    history = value(app, f"/wasm/contract/{contracts['valset']}/history")["entries"]
    assert [(e["seq"], e["operation"], e["height"]) for e in history] == [(1, "init", 0)]
    assert value(app, f"/wasm/contract/{contracts['valset']}/history", b'{"start_after": 1}')["entries"] == []


def test_raw_contract_state_with_a_proof(booted):
    app, contracts = booted
    raw = value(app, f"/wasm/contract/{contracts['voting']}/raw/{b'config'.hex()}", height=1)
    assert raw["contract_key"] == b"config".hex()
    stored = bytes.fromhex(raw["key"])
    proven = __import__("base64").b64decode(raw["value"])
    assert verify_proof(app.store.app_hash_at(1), stored, proven, Proof.from_json(raw["proof"]))
    assert json.loads(proven)["electorate"] == contracts["membership"]


@pytest.mark.parametrize("path,data,words", [
    ("/wasm/codes", b"{", "JSON"),
    ("/wasm/codes", b'{"limit": 0}', "limit"),
    ("/wasm/codes", b'{"limit": %d}' % (MAX_QUERY_PAGE + 1), "limit"),
    ("/wasm/codes", b'{"limit": true}', "limit"),
    ("/wasm/codes", b'{"start_after": "1"}', "start_after"),
    ("/wasm/codes", b'{"start_after": -1}', "start_after"),
    ("/wasm/codes", b'{"page": 2}', "only"),
    ("/wasm/codes", b"[1]", "only"),
    ("/wasm/code/abc", b"", "code id"),
    ("/wasm/code/0", b"", "code id"),
    ("/wasm/code/99999999999999999999999", b"", "code id"),
    ("/wasm/code/1/contracts", b'{"start_after": 5}', "start_after"),
    ("/wasm/contract/nope", b"", "invalid contract"),
    ("/wasm/contract/nope/raw/00", b"", "invalid contract"),
    ("/wasm/nothing", b"", "unknown query path"),
    ("/genesis/else", b"", "unknown query path"),
])
def test_bad_queries_are_errors_not_exceptions(booted, path, data, words):
    app, contracts = booted
    answer = app.query(path, data)
    assert answer["code"] != 0 and words.lower() in answer["log"].lower(), answer


def test_raw_key_must_be_hex(booted):
    app, contracts = booted
    answer = app.query(f"/wasm/contract/{contracts['voting']}/raw/xyz")
    assert answer["code"] != 0 and "hex" in answer["log"]
