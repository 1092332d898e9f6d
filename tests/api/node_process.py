"""A real node (`python -m chain.cli start`) on the one-validator devnet genesis, for the API tests,
and the real txs that give its routes something to show: a send, two governance proposals, votes."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chain.app.tx import Execute, Send, build_tx
from chain.crypto.keys import PrivateKey
from nodeproc import BLOCK_TIME, START_DEADLINE_S, NodeProcess, free_port  # noqa: F401 - re-exported
from support import devnet_genesis, devnet_key, make_validator_home

HTTP_TIMEOUT_S = 30.0


def member_key(n: int) -> PrivateKey:
    """Devnet member N (1-based), from the public seed genesis/README.md names."""
    return devnet_key("member", n)


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
