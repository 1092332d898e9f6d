"""The node's state machine from the devnet genesis: App.init_chain boots the seven genesis
contracts from a built genesis.json, blocks with signed transactions commit on RocksDB, and
two nodes (and a restarted one) agree on every app hash."""
from __future__ import annotations

import json
from hashlib import sha256
from pathlib import Path

import pytest

from chain import genesis_builder
from chain.app.app import App
from chain.app.tx import Send, build_tx
from chain.crypto.keys import PrivateKey, address_of
from chain.store import StateStore
from support import ARTIFACTS, ROOT

DEVNET = ROOT / "genesis" / "devnet.json"


@pytest.fixture(scope="module")
def genesis_json(tmp_path_factory) -> bytes:
    config = json.loads(DEVNET.read_text())
    doc, _ = genesis_builder.build_doc(config, ARTIFACTS)
    return doc.canonical_bytes()


def boot(path: Path, genesis_json: bytes, cache: Path) -> tuple[App, dict]:
    app = App(StateStore.open(path), vm_cache_dir=cache)
    doc = json.loads(genesis_json)
    from chain.app.genesis import rfc3339_to_ns
    answer = app.init_chain(genesis_json, rfc3339_to_ns(doc["genesis_time"]))
    return app, answer


def member_key(n: int) -> PrivateKey:
    """Devnet member N (1-based), from the public seed genesis/README.md names."""
    return PrivateKey.from_seed(sha256(f"devnet/member/{n}".encode()).digest())


def test_devnet_genesis_boots_and_blocks_commit_identically_on_two_nodes(tmp_path, genesis_json):
    cache = tmp_path / "cache"
    node_a, answer_a = boot(tmp_path / "a", genesis_json, cache)
    node_b, answer_b = boot(tmp_path / "b", genesis_json, cache)
    assert answer_a["app_hash"] == answer_b["app_hash"]
    powers = sorted(v.power if hasattr(v, "power") else v["power"] for v in answer_a["validators"])
    assert len(powers) == 4 and powers == sorted(powers) and powers[0] > 0

    sender = member_key(1)
    sender_address = address_of(sender.pubkey)
    recipient = address_of(member_key(2).pubkey)
    from chain.app.genesis import rfc3339_to_ns
    time_ns = rfc3339_to_ns(json.loads(genesis_json)["genesis_time"])
    hashes = []
    for height in (1, 2, 3):
        tx = build_tx(sender, "conclave-devnet", height - 1, [Send(recipient, (("ucnv", 10),))])
        results = []
        for node in (node_a, node_b):
            assert node.check_tx(tx.raw)["code"] == 0
            finalized = node.finalize_block(height, time_ns + height * 5 * 10**9, [tx.raw])
            results.append([r["code"] if isinstance(r, dict) else r.code for r in finalized["tx_results"]])
            node.commit()
        assert results == [[0], [0]], results
        assert node_a.info() == node_b.info()
        hashes.append(node_a.info()["app_hash"])
    assert len(set(hashes)) == 3

    # restart node a from its data: same height and app hash, and it keeps going in step
    node_a.store.close()
    restarted = App(StateStore.open(tmp_path / "a"), vm_cache_dir=cache)
    assert restarted.info() == node_b.info()
    tx = build_tx(sender, "conclave-devnet", 3, [Send(recipient, (("ucnv", 1),))])
    for node in (restarted, node_b):
        node.finalize_block(4, time_ns + 20 * 10**9, [tx.raw])
        node.commit()
    assert restarted.info() == node_b.info()
    account = restarted.query(f"/auth/account/{sender_address}", b"", None)["value"]
    assert account["sequence"] == 4
