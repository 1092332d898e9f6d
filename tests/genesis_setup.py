"""Instantiates the seven genesis contracts on a TestApp the way genesis will wire them.

Order (as Tgrade's bootstrap): admins group, membership (trusted circle), voting over the
circle, engagement, stake, mixer (over engagement and stake, registered as their hook), valset
over the mixer; then governance (the voting contract) becomes the admin of every contract.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from chain.testing import TestApp
from support import artifact

DENOM = "ucnv"
STAKE_DENOM = "ustake"
ESCROW = 1_000
VOTING_PERIOD = 3_600
EPOCH = 60


@dataclass
class Genesis:
    app: TestApp
    deployer: str
    admins: str
    membership: str
    voting: str
    engagement: str
    stake: str
    mixer: str
    valset: str


def b64json(obj) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


def wasm_execute(contract: str, msg: dict, funds=None) -> dict:
    return {"wasm": {"execute": {"contract_addr": contract, "msg": b64json(msg), "funds": funds or []}}}


def build_genesis(app: TestApp, members: list[str], admins: list[str], deployer: str) -> Genesis:
    code = {name: app.store_code(artifact(name))
            for name in ("group", "membership", "voting", "engagement", "stake", "mixer", "valset")}
    admins_group = app.instantiate(code["group"], {"admin": deployer, "members": [
        {"addr": a, "points": 1} for a in admins]}, sender=deployer, label="admins")
    membership = app.instantiate(code["membership"], {
        "denom": DENOM, "escrow_amount": str(ESCROW), "voting_period": VOTING_PERIOD, "admin": deployer,
        "initial_members": members, "deny_list": []}, sender=deployer, label="trusted-circle",
        funds={DENOM: ESCROW * len(members)})
    voting = app.instantiate(code["voting"], {
        "rules": {"voting_period": VOTING_PERIOD, "quorum": "0.3", "threshold": "0.51", "allow_end_early": True},
        "electorate": membership, "admins_group": admins_group, "proposers": "members"},
        sender=deployer, label="governance")
    engagement = app.instantiate(code["engagement"], {"admin": deployer, "members": [], "halflife": None},
                                 sender=deployer, label="engagement")
    stake = app.instantiate(code["stake"], {
        "denom": STAKE_DENOM, "tokens_per_point": "1000", "min_bond": "1000", "unbonding_period": 3_600,
        "admin": deployer, "preauths_slashing": 1}, sender=deployer, label="stake")
    mixer = app.instantiate(code["mixer"], {"left_group": engagement, "right_group": stake,
                                            "function": {"geometric_mean": {}}, "admin": deployer},
                            sender=deployer, label="mixer")
    for group in (engagement, stake):
        app.execute(group, {"add_hook": {"addr": mixer}}, sender=deployer)
    app.execute(stake, {"add_slasher": {"addr": mixer}}, sender=deployer)
    valset = app.instantiate(code["valset"], {
        "membership": mixer, "min_points": 1, "max_validators": 100, "epoch_length": EPOCH, "scaling": None,
        "admin": deployer, "initial_keys": []}, sender=deployer, label="valset")
    app.execute(mixer, {"add_slasher": {"addr": valset}}, sender=deployer)
    for contract in (admins_group, membership, engagement, stake, mixer, valset):
        app.execute(contract, {"update_admin": {"admin": voting}}, sender=deployer)
    app.next_block()
    return Genesis(app, deployer, admins_group, membership, voting, engagement, stake, mixer, valset)
