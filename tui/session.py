"""What the UI knows about its node and its signer, and the signed actions a member takes.

Everything here is synchronous (chain/api/client.py is urllib): the app runs these calls in worker
threads, never on the event loop, so a slow or absent node cannot freeze the screen.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chain.api.client import ApiClientError, Client
from chain.app.tx import Execute, build_tx
from chain.crypto.keys import PrivateKey

VOTES = ("yes", "no", "abstain", "veto")
VOTE_GAS = 500_000
EXECUTE_GAS = 5_000_000
MEMBER_GAS = 500_000
ESCROW_DENOM = "ucnv"


class ActionError(Exception):
    """A signed action the chain refused (or could not be sent): the message says why and what to do."""


@dataclass
class Session:
    """The node's client, the genesis contracts (fetched once it answers) and the optional signer."""

    client: Client
    signer: PrivateKey | None = None
    key_name: str | None = None
    prefix: str = "conclave"
    contracts: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str | None:
        return self.signer.address(self.prefix) if self.signer else None

    @property
    def read_only(self) -> bool:
        return self.signer is None

    def contract(self, name: str) -> str:
        """A genesis contract's address, asked of the node the first time it is needed."""
        if name not in self.contracts:
            self.contracts.update(self.client.genesis_contracts())
        if name not in self.contracts:
            raise ActionError(f"the node at {self.client.url} reports no genesis {name} contract")
        return self.contracts[name]

    def need_signer(self, what: str) -> None:
        if self.signer is None:
            raise ActionError(f"{what}: read-only mode — restart with `conclave tui --key NAME` to sign")

    # --- signed actions (thread only) ---------------------------------------------------------
    def execute(self, contract: str, msg: dict[str, Any], gas: int, what: str,
                funds: tuple[tuple[str, int], ...] = ()) -> dict[str, Any]:
        """Sign, submit and wait for the block; the committed answer, or ActionError with the chain's reason."""
        self.need_signer(what)
        try:
            status = self.client.status()
            sequence = self.client.account(self.signer.address(self.prefix))["sequence"]
            tx = build_tx(self.signer, status["chain_id"], sequence, [Execute(contract, msg, funds)], gas_limit=gas)
            answer = self.client.submit_tx(tx.raw, wait_commit=True)
        except ApiClientError as exc:
            raise ActionError(f"{what}: {exc}") from None
        result = answer.get("result", {})
        if result.get("code", 0) != 0:
            raise ActionError(f"{what} failed in block {answer.get('height')} (code {result.get('code')}): "
                              f"{result.get('log', '')}")
        return answer

    def vote(self, proposal_id: int, vote: str) -> dict[str, Any]:
        if vote not in VOTES:
            raise ActionError(f"unknown vote {vote!r}: choose one of {', '.join(VOTES)}")
        self.need_signer("voting")
        return self.execute(self.contract("voting"), {"vote": {"proposal_id": proposal_id, "vote": vote}},
                            VOTE_GAS, f"voting {vote} on proposal {proposal_id}")

    def execute_proposal(self, proposal_id: int) -> dict[str, Any]:
        self.need_signer("executing")
        return self.execute(self.contract("voting"), {"execute": {"proposal_id": proposal_id}}, EXECUTE_GAS,
                            f"executing proposal {proposal_id}")

    def propose(self, title: str, description: str, msgs: list[dict[str, Any]]) -> dict[str, Any]:
        self.need_signer("proposing")
        return self.execute(self.contract("voting"), {"propose": {"title": title, "description": description,
                                                                  "msgs": msgs}}, VOTE_GAS, "proposing")

    def deposit_escrow(self, amount: int) -> dict[str, Any]:
        if amount <= 0:
            raise ActionError("the escrow deposit must be a positive amount of " + ESCROW_DENOM)
        self.need_signer("depositing escrow")
        return self.execute(self.contract("membership"), {"deposit_escrow": {}}, MEMBER_GAS,
                            "depositing escrow", ((ESCROW_DENOM, amount),))

    def leave(self) -> dict[str, Any]:
        self.need_signer("leaving the circle")
        return self.execute(self.contract("membership"), {"leave": {}}, MEMBER_GAS, "leaving the circle")


def proposal_msgs(kind: str, argument: str, contracts: dict[str, str]) -> list[dict[str, Any]]:
    """The messages of a new proposal of ``kind`` (text, add-members, remove-members, grant-engagement).

    ``argument`` is space-separated addresses, or "ADDRESS POINTS" for grant-engagement."""
    import base64
    import json

    def wasm(contract: str, msg: dict[str, Any]) -> dict[str, Any]:
        encoded = base64.b64encode(json.dumps(msg, separators=(",", ":")).encode()).decode()
        return {"wasm": {"execute": {"contract_addr": contract, "msg": encoded, "funds": []}}}

    words = argument.split()
    if kind == "text":
        return []
    if kind in ("add-members", "remove-members"):
        if not words:
            raise ActionError(f"{kind}: give one or more member addresses, separated by spaces")
        if kind == "add-members":
            return [wasm(contracts["membership"], {"add_voting_members": {"addrs": words}})]
        return [wasm(contracts["membership"], {"punish_members": {"punishments": [
            {"member": a, "slash_ratio": "0", "distribution": {"burn": {}}, "kick_out": True}
            for a in words]}})]
    if kind == "grant-engagement":
        if len(words) != 2 or not words[1].isdigit():
            raise ActionError("grant-engagement: give ADDRESS POINTS, e.g. conclave1... 10")
        return [wasm(contracts["engagement"], {"update_members": {"add": [{"addr": words[0],
                                                                           "points": int(words[1])}],
                                                                  "remove": []}})]
    raise ActionError(f"unknown proposal kind {kind!r}")
