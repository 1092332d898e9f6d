"""A real network for tests: N `conclave start` processes on loopback, each link through a FaultProxy.

    cluster = Cluster(tmp_path, validators=4).start()
    cluster.wait_height(5)
    cluster.kill(2); cluster.restart(2)            # kill -9 and start again on the same home
    cluster.pause(1); cluster.resume(1)            # SIGSTOP / SIGCONT
    cluster.mesh.partition([{0, 1}, {2, 3}]); cluster.mesh.heal_all()
    cluster.assert_consistent()                    # identical block and app hashes at every height
    cluster.stop()

Nodes use the devnet genesis with its first N validators and their demo consensus keys; node i
dials node j through proxy (i, j), so tests cut and heal links without touching the nodes.
Every wait is bounded; nothing here asserts on speed.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from chain.api.client import ApiClientError, Client
from chain.crypto.keyfiles import node_id, write_node_key
from faultproxy import Mesh
from ports import free_port
from support import ROOT, devnet_genesis, devnet_key, make_validator_home

FAST_TIMEOUTS = {"propose": 1.0, "propose_delta": 0.5, "prevote": 0.4, "prevote_delta": 0.2,
                 "precommit": 0.4, "precommit_delta": 0.2, "commit": 0.1}
WAIT_S = 90.0
POLL_S = 0.1


class ClusterNode:
    def __init__(self, index: int, home: Path, api_port: int, p2p_port: int):
        self.index, self.home, self.api_port, self.p2p_port = index, home, api_port, p2p_port
        self.url = f"http://127.0.0.1:{api_port}"
        self.client = Client(self.url, timeout=10)
        self.proc: subprocess.Popen | None = None
        self.node_key = devnet_key("node", index + 1)
        self.node_id = node_id(self.node_key.pubkey)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        log = (self.home / "node.log").open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "chain.cli", "start", "--home", str(self.home)],
                                     cwd=ROOT, stdout=log, stderr=log)

    def signal(self, sig: int) -> None:
        if self.alive:
            self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def status(self) -> dict[str, Any] | None:
        try:
            return self.client.status()
        except (ApiClientError, OSError, ValueError):
            return None

    def log_tail(self, lines: int = 40) -> str:
        path = self.home / "node.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- node{self.index} ---\n" + "\n".join(text.splitlines()[-lines:])


class Cluster:
    def __init__(self, tmp: Path, validators: int = 4, *, nodes: int | None = None,
                 timeouts: dict[str, float] | None = None, genesis: bytes | None = None,
                 overrides: dict[int, dict[str, Any]] | None = None):
        """``nodes`` >= ``validators``: the extra ones are full nodes without a validator key.
        ``overrides``: extra node.json keys per node index (e.g. {3: {"byzantine": True}})."""
        count = nodes or validators
        self.genesis = genesis if genesis is not None else devnet_genesis(validators)[0]
        self.nodes = [ClusterNode(i, tmp / f"node{i}", free_port(), free_port()) for i in range(count)]
        self.mesh = Mesh(count, [n.p2p_port for n in self.nodes])
        self.mesh.start()
        for node in self.nodes:
            peers = [f"{other.node_id}@127.0.0.1:{self.mesh.peer_port(node.index, other.index)}"
                     for other in self.nodes if other is not node]
            config = {"moniker": f"node{node.index}", "api": f"127.0.0.1:{node.api_port}",
                      "p2p": f"127.0.0.1:{node.p2p_port}", "peers": peers, "timeouts": timeouts or FAST_TIMEOUTS,
                      **(overrides or {}).get(node.index, {})}
            if node.index < validators:
                make_validator_home(node.home, self.genesis, node.index + 1, config)
            else:
                node.home.mkdir(parents=True, exist_ok=True)
                (node.home / "config").mkdir(exist_ok=True)
                (node.home / "config" / "genesis.json").write_bytes(self.genesis)
                (node.home / "config" / "node.json").write_text(json.dumps(config))
            write_node_key(node.home / "config" / "node_key.json", node.node_key)

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "Cluster":
        for node in self.nodes:
            node.start()
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.mesh.stop()

    def kill(self, i: int) -> None:
        self.nodes[i].kill()

    def restart(self, i: int) -> None:
        self.nodes[i].stop()
        self.nodes[i].start()

    def pause(self, i: int) -> None:
        self.nodes[i].signal(signal.SIGSTOP)

    def resume(self, i: int) -> None:
        self.nodes[i].signal(signal.SIGCONT)

    # --- observation -----------------------------------------------------------------------------
    def heights(self, among: list[int] | None = None) -> dict[int, int | None]:
        out = {}
        for i in among if among is not None else range(len(self.nodes)):
            status = self.nodes[i].status() if self.nodes[i].alive else None
            out[i] = status["height"] if status else None
        return out

    def wait_height(self, height: int, among: list[int] | None = None, timeout: float = WAIT_S) -> None:
        """Until every node in ``among`` (default all) has committed ``height``; bounded."""
        deadline = time.monotonic() + timeout
        seen: dict[int, int | None] = {}
        while time.monotonic() < deadline:
            seen = self.heights(among)
            if all(h is not None and h >= height for h in seen.values()):
                return
            for i in seen:
                node = self.nodes[i]
                if node.proc is not None and node.proc.poll() is not None and node.proc.returncode not in (-9, -15):
                    raise AssertionError(f"node{i} exited with {node.proc.returncode}\n{node.log_tail()}")
            time.sleep(POLL_S)
        raise AssertionError(f"not all of {among} reached height {height} in {timeout} s: {seen}\n"
                             + "\n".join(self.nodes[i].log_tail() for i in seen))

    def wait_progress(self, blocks: int, among: list[int] | None = None, timeout: float = WAIT_S) -> int:
        """Wait until ``among`` advanced ``blocks`` past the current maximum; the height reached."""
        current = max(h or 0 for h in self.heights(among).values())
        self.wait_height(current + blocks, among, timeout)
        return current + blocks

    def block(self, i: int, height: int) -> dict[str, Any]:
        return self.nodes[i].client.block(height)

    def assert_consistent(self, among: list[int] | None = None) -> int:
        """Identical blocks and app hashes at every height all of ``among`` have; the height checked."""
        among = among if among is not None else list(range(len(self.nodes)))
        top = min(self.heights(among)[i] or 0 for i in among)
        for height in range(1, top + 1):
            blocks = {i: self.block(i, height) for i in among}
            headers = {i: json.dumps(b["block"]["header"], sort_keys=True) for i, b in blocks.items()}
            assert len(set(headers.values())) == 1, f"height {height}: different blocks {headers}"
            app_hashes = {i: b["results"]["app_hash"] for i, b in blocks.items()}
            assert len(set(app_hashes.values())) == 1, f"height {height}: different app hashes {app_hashes}"
        return top


class TxLoad:
    """Signed sends from the devnet members to random live nodes, in a background thread.

    ``acknowledged`` holds the hashes a node answered "committed" for (``?wait=commit``): after a
    fault run every one of them must be in every node's chain. Refusals and timeouts are expected
    while nodes are down or cut off; the sender then re-reads its sequence and goes on.
    """

    def __init__(self, cluster: Cluster, seed: int, members: tuple[int, ...] = (1, 2, 3)):
        import random
        import threading

        from chain.app.tx import Send
        self.cluster, self.rnd = cluster, random.Random(seed)
        self.keys = [devnet_key("member", n) for n in members]
        self.sequences: dict[str, int | None] = {k.address(): None for k in self.keys}
        self.acknowledged: list[str] = []
        self.errors = 0
        self._send = Send
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(key,), daemon=True) for key in self.keys]

    def start(self) -> "TxLoad":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _live(self) -> list[ClusterNode]:
        return [n for n in self.cluster.nodes if n.alive]

    def _run(self, key) -> None:
        from chain.app.tx import build_tx
        sequence: int | None = None
        while not self._stop.is_set():
            nodes = self._live()
            if not nodes:
                time.sleep(0.2)
                continue
            node = nodes[self.rnd.randrange(len(nodes))]
            client = Client(node.url, timeout=20)
            try:
                if sequence is None:
                    sequence = client.account(key.address())["sequence"]
                tx = build_tx(key, "conclave-devnet", sequence, [self._send(self.keys[0].address(), (("ucnv", 1),))])
                answer = client.submit_tx(tx.raw, wait_commit=True)
                if answer.get("status") == "committed":
                    self.acknowledged.append(answer["hash"])
                sequence += 1
            except (ApiClientError, OSError, ValueError, KeyError, TypeError):
                self.errors += 1
                sequence = None
                time.sleep(0.2)

    def assert_all_committed(self, among: list[int] | None = None) -> None:
        """Every acknowledged tx is in every node's chain (queried on each node)."""
        among = among if among is not None else list(range(len(self.cluster.nodes)))
        for i in among:
            client = self.cluster.nodes[i].client
            for tx_hash in self.acknowledged:
                answer = client.tx(tx_hash)
                assert answer.get("status") == "committed", f"node{i} lost acknowledged tx {tx_hash}: {answer}"
