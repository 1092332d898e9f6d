"""kill -9 of a real node (`conclave start` subprocess on the devnet genesis) at random moments of its
block loop, then restart from its data: it ends with the same blocks, block results, app hash at
every height and tx index as an uninterrupted run, and never loses a block it had reported.

Runs are comparable because the node runs in its test mode: ``--deterministic-time`` (block time
from the height) and ``--txs-file`` (each block's txs fixed in a file, sends and failing txs of three
senders). The app hash is the Merkle root of the whole state, so equal app hashes are equal states.
"""
from __future__ import annotations

import base64
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from hashlib import sha256
from pathlib import Path

import pytest

from chain.api.client import ApiClientError, Client
from chain.app.tx import Execute, Send, build_tx
from chain.crypto.keys import PrivateKey
from chain.node import NodeConfig, NodeError, load_txs_file
from chain.store import StateStore
from ports import free_port
from support import ROOT, devnet_genesis, make_validator_home

CHAIN_ID = "conclave-devnet"
LAST = 20                      # the height every run reaches and is compared up to
TXS_PER_SENDER = 4             # per block, so that executing and committing a block takes a good
BLOCK_TIME = "0.01"            # share of each block time (the minimum) and kills often land there
RUNS = 20
KILLS_PER_RUN = 3
EARLY_KILL_CHANCE = 0.2        # some kills land in startup / genesis instead of the block loop
EARLY_KILL_WINDOW_S = 1.0
BLOCK_PERIOD_S = 0.02          # block time + a block's execution, roughly: a kill anywhere in one
DEADLINE_S = 60.0              # bounds, never assertions on speed
POLL_S = 0.005

pytestmark = pytest.mark.timeout(300)


def member_key(n: int) -> PrivateKey:
    """Devnet member N (1-based), from the public seed genesis/README.md names."""
    return PrivateKey.from_seed(sha256(f"devnet/member/{n}".encode()).digest())


def plan_txs(voting: str) -> dict[str, list[str]]:
    """Every block: from each of members 1-3, sends, sends beyond the balance and bad contract calls
    (the last two fail, are recorded with their error and consume their sequence)."""
    keys = [member_key(n) for n in (1, 2, 3)]
    sequence = [0, 0, 0]
    plan: dict[str, list[str]] = {}
    for height in range(1, LAST + 1):
        txs = []
        for i, key in enumerate(keys):
            to = keys[(i + 1) % 3].address()
            for j in range(TXS_PER_SENDER):
                msg = {0: Send(to, (("ucnv", height * 10 + j),)),
                       1: Send(to, (("ucnv", 10 ** 12),)),
                       2: Execute(voting, {"no_such_message": {}}, ())}[(height + i + j) % 3]
                txs.append(base64.b64encode(build_tx(key, CHAIN_ID, sequence[i], [msg]).raw).decode())
                sequence[i] += 1
        plan[str(height)] = txs
    return plan


@pytest.fixture(scope="module")
def chain_files(tmp_path_factory) -> tuple[bytes, Path]:
    """The devnet genesis and the txs file every run uses."""
    genesis, contracts = devnet_genesis(validators=1)
    txs_file = tmp_path_factory.mktemp("plan") / "txs.json"
    txs_file.write_text(json.dumps(plan_txs(contracts["voting"])))
    return genesis, txs_file


class Node:
    """`conclave start` in its deterministic test mode; ``kill`` is kill -9."""

    def __init__(self, home: Path, txs_file: Path):
        self.home, self.txs_file = home, txs_file
        self.proc: subprocess.Popen | None = None
        self.client: Client | None = None

    def start(self) -> "Node":
        port = free_port()
        self.client = Client(f"http://127.0.0.1:{port}", timeout=10)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chain.cli", "start", "--home", str(self.home), "--api", f"127.0.0.1:{port}",
             "--block-time", BLOCK_TIME, "--deterministic-time", "--txs-file", str(self.txs_file)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(self.home / "node.log").open("ab"))
        return self

    def height(self) -> int | None:
        """The height the node reports, None while its API is not up."""
        assert self.proc is not None and self.proc.poll() is None, (self.home / "node.log").read_text()
        try:
            return self.client.status()["height"]
        except ApiClientError:
            return None

    def wait_height(self, height: int) -> int:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            seen = self.height()
            if seen is not None and seen >= height:
                return seen
            time.sleep(POLL_S)
        raise AssertionError(f"node did not reach height {height}: {(self.home / 'node.log').read_text()}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)


def new_home(tmp_path_factory, genesis: bytes, name: str) -> Path:
    return make_validator_home(tmp_path_factory.mktemp(name), genesis)


@pytest.fixture
def new_node(tmp_path_factory, chain_files, reference_home, request):
    """A node on a fresh home (with the reference's compiled-module cache, so that it starts in well
    under a second); its process is killed at teardown whatever happens."""
    genesis, txs_file = chain_files
    nodes: list[Node] = []

    def make() -> Node:
        home = new_home(tmp_path_factory, genesis, "crash-node")
        shutil.copytree(reference_home / "wasm", home / "wasm")
        nodes.append(Node(home, txs_file))
        return nodes[-1]

    request.addfinalizer(lambda: [n.kill() for n in nodes])
    return make


def snapshot(home: Path, upto: int) -> dict:
    """Everything a run committed up to ``upto``: app hashes, blocks, results, the tx index."""
    with StateStore.open(home / "data") as store:
        assert store.height >= upto
        out = {"app_hash": {}, "block": {}, "results": {}, "txs": {}, "by_sender": {}}
        for h in range(1, upto + 1):
            out["app_hash"][h] = store.app_hash_at(h)
            out["block"][h] = store.block(h)
            out["results"][h] = store.block_results(h)
            for raw in json.loads(store.block(h))["txs"]:
                tx_hash = sha256(base64.b64decode(raw)).digest()
                out["txs"][tx_hash] = store.tx(tx_hash)
        for n in (1, 2, 3):
            sender = member_key(n).address()
            out["by_sender"][sender] = [r for r in store.txs_by_sender(sender, limit=200) if r.height <= upto]
        return out


@pytest.fixture(scope="module")
def reference_home(tmp_path_factory, chain_files) -> Path:
    """The uninterrupted run, to LAST (the first start compiles the contracts into HOME/wasm)."""
    home = new_home(tmp_path_factory, chain_files[0], "reference")
    node = Node(home, chain_files[1]).start()
    try:
        node.wait_height(LAST)
    finally:
        node.kill()
    return home


@pytest.fixture(scope="module")
def reference(reference_home, chain_files) -> dict:
    ref = snapshot(reference_home, LAST)
    planned = sum(len(txs) for txs in json.loads(chain_files[1].read_text()).values())
    assert len(ref["txs"]) == planned and all(ref["txs"].values())      # every planned tx is in a block
    results = [r.result for r in ref["txs"].values()]
    assert any(b'"code":0' in r for r in results) and any(b'"code":0' not in r for r in results)
    return ref


def test_deterministic_mode_reproduces_the_reference(new_node, reference):
    """Two uninterrupted runs agree: what the crash runs are compared with is reproducible."""
    node = new_node().start()
    node.wait_height(LAST)
    node.kill()
    assert snapshot(node.home, LAST) == reference


def test_node_in_txs_file_mode_refuses_submitted_txs(new_node):
    node = new_node().start()
    node.wait_height(1)
    tx = build_tx(member_key(1), CHAIN_ID, 0, [Send(member_key(2).address(), (("ucnv", 1),))])
    with pytest.raises(ApiClientError, match="txs file"):
        node.client.submit_tx(tx.raw)


@pytest.mark.parametrize("seed", range(RUNS))
def test_kill_9_at_random_moments_then_restart(seed, new_node, reference):
    rnd = random.Random(seed)
    node = new_node()
    reported = 0                              # the highest height the node said it had committed
    for _ in range(KILLS_PER_RUN):
        node.start()
        if rnd.random() < EARLY_KILL_CHANCE:
            time.sleep(rnd.uniform(0.0, EARLY_KILL_WINDOW_S))     # in startup, genesis or the first blocks
        else:
            reported = max(reported, node.wait_height(rnd.randint(min(reported, LAST - 1), LAST - 1)))
            time.sleep(rnd.uniform(0.0, BLOCK_PERIOD_S))   # waiting, executing or committing
        node.kill()
        with StateStore.open(node.home / "data") as store:
            height = store.height
            assert height >= reported, f"seed {seed}: the node reported height {reported}, restarts at {height}"
            for h in range(1, min(height, LAST) + 1):
                assert store.app_hash_at(h) == reference["app_hash"][h], f"seed {seed}: height {h}"
    node.start()
    node.wait_height(LAST)
    node.kill()
    got = snapshot(node.home, LAST)
    for part in ("app_hash", "block", "results", "txs", "by_sender"):
        assert got[part] == reference[part], f"seed {seed}: {part} differs from the uninterrupted run"


def test_test_mode_from_node_json(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "node.json").write_text('{"deterministic_time": true, "txs_file": "/x/txs.json"}')
    config = NodeConfig.load(tmp_path)
    assert config.deterministic_time is True and config.txs_file == "/x/txs.json"
    (tmp_path / "config" / "node.json").write_text('{"deterministic_time": "yes"}')
    with pytest.raises(NodeError, match="deterministic_time must be true or false"):
        NodeConfig.load(tmp_path)


@pytest.mark.parametrize("text,words", [
    ("{not json", "not JSON"),
    ("[]", "must be an object"),
    ('{"0": []}', "height >= 1"),
    ('{"one": []}', "height >= 1"),
    ('{"1": "AAAA"}', "height >= 1"),
    ('{"1": ["!!not base64"]}', "not base64"),
    ('{"1": [7]}', "not base64"),
])
def test_bad_txs_file_is_a_clear_error(tmp_path, text, words):
    path = tmp_path / "txs.json"
    path.write_text(text)
    with pytest.raises(NodeError, match=words):
        load_txs_file(path)
    with pytest.raises(NodeError, match="cannot read"):
        load_txs_file(tmp_path / "missing.json")
