"""A real node (`python -m chain.cli start`) on the one-validator devnet genesis, for the API tests,
and the real txs that give its routes something to show: a send, two governance proposals, votes."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

from chain.api.client import ApiClientError, Client
from chain.app.tx import Execute, Send, build_tx
from chain.crypto.keys import PrivateKey
from support import ROOT, devnet_genesis, make_validator_home

BLOCK_TIME = "0.2"
START_DEADLINE_S = 90.0        # bounds, never assertions on speed
POLL_S = 0.05
HTTP_TIMEOUT_S = 30.0


def member_key(n: int) -> PrivateKey:
    """Devnet member N (1-based), from the public seed genesis/README.md names."""
    return PrivateKey.from_seed(sha256(f"devnet/member/{n}".encode()).digest())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, method: str = "GET", body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    """(status, JSON body or None if the body is not JSON, headers) of one request."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as response:
            status, raw, got = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        status, raw, got = exc.code, exc.read(), dict(exc.headers)
    try:
        return status, json.loads(raw), got
    except ValueError:
        return status, None, got


class NodeProcess:
    """`conclave start` in a subprocess on a fresh home; ``stop`` is kill -9."""

    def __init__(self, home: Path):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = Client(self.url, timeout=HTTP_TIMEOUT_S)
        self.proc: subprocess.Popen | None = None

    def start(self) -> "NodeProcess":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chain.cli", "start", "--home", str(self.home), "--api",
             f"127.0.0.1:{self.port}", "--block-time", BLOCK_TIME],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(self.home / "node.log").open("ab"))
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def log(self) -> str:
        return (self.home / "node.log").read_text(errors="replace")[-4000:]

    def wait_height(self, height: int) -> dict:
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log()
            try:
                status = self.client.status()
                if status["height"] >= height:
                    return status
            except ApiClientError:
                pass
            time.sleep(POLL_S)
        raise AssertionError(f"node did not reach height {height}: {self.log()}")


@dataclass
class ChainData:
    """What the fixture did on the chain, for the tests to look up."""

    contracts: dict[str, str]
    send_hash: str = ""
    send_height: int = 0
    vote_hashes: list[str] = field(default_factory=list)
    open_proposal: int = 0
    passed_proposal: int = 0


class Signer:
    """A devnet member that signs and submits txs through the API (sequence from GET /accounts)."""

    def __init__(self, node: NodeProcess, n: int):
        self.node, self.key = node, member_key(n)
        self.address = self.key.address()

    def submit(self, *msgs) -> dict[str, Any]:
        status = self.node.client.status()
        sequence = self.node.client.account(self.address)["sequence"]
        tx = build_tx(self.key, status["chain_id"], sequence, list(msgs))
        answer = self.node.client.submit_tx(tx.raw, wait_commit=True)
        assert answer["result"]["code"] == 0, answer
        return answer


def populate(node: NodeProcess, contracts: dict[str, str]) -> ChainData:
    """A send, then proposal 1 (member 1 proposes, member 2 votes no: stays open) and proposal 2
    (member 2 proposes, member 3 votes yes: passes early)."""
    data = ChainData(contracts)
    m1, m2, m3 = Signer(node, 1), Signer(node, 2), Signer(node, 3)
    sent = m1.submit(Send(m2.address, (("ucnv", 777),)))
    data.send_hash, data.send_height = sent["hash"], sent["height"]
    voting = contracts["voting"]

    def propose(signer: Signer, title: str) -> int:
        answer = signer.submit(Execute(voting, {"propose": {"title": title, "description": "an API test",
                                                            "msgs": []}}, ()))
        return int(_attribute(answer, "proposal_id"))

    data.open_proposal = propose(m1, "stays open")
    data.vote_hashes.append(m2.submit(Execute(voting, {"vote": {"proposal_id": data.open_proposal, "vote": "no"}},
                                              ()))["hash"])
    data.passed_proposal = propose(m2, "passes")
    data.vote_hashes.append(m3.submit(Execute(voting, {"vote": {"proposal_id": data.passed_proposal,
                                                                "vote": "yes"}}, ()))["hash"])
    return data


def _attribute(answer: dict[str, Any], key: str) -> str:
    for event in answer["result"]["events"]:
        for attribute in event["attributes"]:
            if attribute["key"] == key:
                return attribute["value"]
    raise AssertionError(f"no {key} attribute in {answer}")


def start_populated_node(home: Path) -> tuple[NodeProcess, ChainData]:
    genesis, contracts = devnet_genesis(validators=1)
    node = NodeProcess(make_validator_home(home, genesis)).start()
    try:
        node.wait_height(2)
        return node, populate(node, contracts)
    except BaseException:
        node.stop()
        raise
