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

from .errors import ActionError
from .validator_key import check_moniker, check_pubkey_b64

VOTES = ("yes", "no", "abstain", "veto")
VOTE_GAS = 500_000
EXECUTE_GAS = 5_000_000
MEMBER_GAS = 500_000
MAX_UINT128 = 2 ** 128 - 1   # the contract's Uint128: a larger amount can never be an escrow
VALIDATOR_GAS = 1_000_000    # register_validator_key asks the mixer for my points: more than a vote


@dataclass(frozen=True)
class CircleRules:
    """The membership contract's ``rules``: the escrow a voting member holds and the voting period.

    Leaving freezes the escrow for two voting periods (``freeze_s``), so governance can still punish."""

    denom: str
    escrow_amount: int
    voting_period: int

    @property
    def freeze_s(self) -> int:
        return 2 * self.voting_period

    @classmethod
    def parse(cls, answer: Any) -> "CircleRules":
        """The contract's JSON ({"denom", "escrow_amount": "1000", "voting_period": 3600}), checked."""
        try:
            denom, amount, period = answer["denom"], answer["escrow_amount"], answer["voting_period"]
            if not (isinstance(denom, str) and denom and isinstance(amount, str) and amount.isdigit()
                    and isinstance(period, int) and not isinstance(period, bool) and period > 0):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise ActionError(f"the membership contract answered its rules in an unexpected shape: "
                              f"{str(answer)[:120]}") from None
        return cls(denom, int(amount), period)


@dataclass
class Session:
    """The node's client, the genesis contracts (fetched once it answers) and the optional signer."""

    client: Client
    signer: PrivateKey | None = None
    key_name: str | None = None
    prefix: str = "conclave"
    contracts: dict[str, str] = field(default_factory=dict)
    circle_rules: CircleRules | None = None          # asked of the membership contract once (rules())

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
            raise ActionError(f"{what}: read-only mode — press s to sign in with a key (or start with --key NAME)")

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

    def rules(self) -> CircleRules:
        """The circle's escrow denom, amount and voting period, asked once per session (thread only).

        Governance can change them (edit_rules) but rarely does; a restarted UI sees the change."""
        if self.circle_rules is None:
            try:
                answer = self.client.smart(self.contract("membership"), {"rules": {}})
            except ApiClientError as exc:
                if exc.code == "unreachable" or exc.status == 0:
                    raise                    # the app's reconnect loop reports an absent node
                raise ActionError(f"reading the circle's rules: {exc}") from None
            self.circle_rules = CircleRules.parse(answer)
        return self.circle_rules

    def deposit_escrow(self, amount: int) -> dict[str, Any]:
        """Pay ``amount`` of the circle's escrow denom into my escrow (pending members pay in, voting ones top up)."""
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_UINT128:
            raise ActionError(f"the escrow deposit must be a positive whole amount (at most {MAX_UINT128}), "
                              f"got {str(amount)[:40]}")
        self.need_signer("depositing escrow")
        denom = self.rules().denom
        return self.execute(self.contract("membership"), {"deposit_escrow": {}}, MEMBER_GAS,
                            f"depositing {amount}{denom} escrow", ((denom, amount),))

    def leave(self) -> dict[str, Any]:
        """Leave the circle: a voting member's escrow is frozen for two voting periods, anyone else's returned."""
        self.need_signer("leaving the circle")
        return self.execute(self.contract("membership"), {"leave": {}}, MEMBER_GAS, "leaving the circle")

    def claim_escrow(self) -> dict[str, Any]:
        """Take back a leaving member's escrow once its freeze is over (the chain refuses it earlier)."""
        self.need_signer("claiming escrow")
        return self.execute(self.contract("membership"), {"claim_escrow": {}}, MEMBER_GAS, "claiming escrow")

    def register_validator_key(self, pubkey_b64: str, moniker: str) -> dict[str, Any]:
        """Register my consensus key (base64 ed25519) with the valset under ``moniker``.

        The valset takes one key per operator, forever, and only from members with PoE points: both are
        asked first, so the member reads why in words rather than in a failed transaction."""
        what = "registering a validator key"
        self.need_signer(what)
        pubkey, moniker = check_pubkey_b64(pubkey_b64), check_moniker(moniker)
        valset, me = self.contract("valset"), self.signer.address(self.prefix)
        try:
            known = self.client.smart(valset, {"validator": {"operator": me}}).get("validator")
            poe = self.client.points(me).get("poe")
        except ApiClientError as exc:
            raise ActionError(f"{what}: {exc}") from None
        if isinstance(known, dict):
            mine = (known.get("validator_pubkey") or {}).get("ed25519")
            name = (known.get("metadata") or {}).get("moniker")
            raise ActionError(f"{what}: {me} already registered key {mine} (moniker \"{name}\"); the valset keeps "
                              "one key per operator and it cannot be changed")
        if not isinstance(poe, int) or poe <= 0:
            raise ActionError(f"{what}: {me} has no PoE points, and the valset takes keys only from members with "
                              "points: bond stake and earn engagement first")
        msg = {"register_validator_key": {"pubkey": {"ed25519": pubkey}, "metadata": {"moniker": moniker}}}
        return self.execute(valset, msg, VALIDATOR_GAS, f'{what} as "{moniker}"')


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
