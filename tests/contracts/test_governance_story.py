"""The scripted governance story of the genesis contracts, end to end on TestApp.

Members join the circle by proposal and escrow, engagement is granted by vote, stake is
bonded, the valset returns the expected diff, and a member leaves and gets the escrow back
after the freeze.
"""
from __future__ import annotations

import base64
import json

from nacl.signing import SigningKey

from genesis_setup import DENOM, ESCROW, STAKE_DENOM, VOTING_PERIOD, EPOCH, build_genesis, wasm_execute


def propose_and_pass(g, proposer: str, voters: list[str], title: str, msgs: list[dict]) -> int:
    result = g.app.execute(g.voting, {"propose": {"title": title, "description": title, "msgs": msgs}}, sender=proposer)
    proposal_id = int(result.wasm_attribute("proposal_id"))
    for voter in voters:   # the proposer's own points already count as yes (cw3)
        if g.app.query(g.voting, {"proposal": {"proposal_id": proposal_id}})["status"] == "passed":
            break          # passed early: further votes are refused
        g.app.execute(g.voting, {"vote": {"proposal_id": proposal_id, "vote": "yes"}}, sender=voter)
    assert g.app.query(g.voting, {"proposal": {"proposal_id": proposal_id}})["status"] == "passed"
    g.app.execute(g.voting, {"execute": {"proposal_id": proposal_id}}, sender=proposer)
    g.app.next_block()
    return proposal_id


def test_governance_story(app):
    m1 = app.create_account("m1", {DENOM: 10_000})
    m2 = app.create_account("m2", {DENOM: 10_000})
    newcomer = app.create_account("newcomer", {DENOM: 10_000, STAKE_DENOM: 1_000_000})
    deployer = app.create_account("deployer", {DENOM: 10_000})
    g = build_genesis(app, members=[m1, m2], admins=[m1], deployer=deployer)
    assert app.query(g.membership, {"total_points": {"at_height": None}}) == {"points": 2}

    # 1. the newcomer joins the circle: proposal, votes, escrow, promotion
    propose_and_pass(g, m1, [m2], "admit newcomer",
                     [wasm_execute(g.membership, {"add_voting_members": {"addrs": [newcomer]}})])
    assert app.query(g.membership, {"member_status": {"addr": newcomer}})["status"] == "pending"
    app.execute(g.membership, {"deposit_escrow": {}}, sender=newcomer, funds={DENOM: ESCROW})
    app.sudo(g.membership, {"end_block": {}})
    assert app.query(g.membership, {"member_status": {"addr": newcomer}})["status"] == "voting"
    app.next_block()
    assert app.query(g.membership, {"total_points": {"at_height": None}}) == {"points": 3}

    # 2. engagement granted by vote
    propose_and_pass(g, m1, [m2, newcomer], "engage newcomer",
                     [wasm_execute(g.engagement, {"add_points": {"addr": newcomer, "points": 400}})])
    assert app.query(g.engagement, {"member": {"addr": newcomer, "at_height": None}})["points"] == 400

    # 3. stake bonded: 100,000 ustake at 1,000 per point = 100 points; mixer: isqrt(400 * 100) = 200
    app.execute(g.stake, {"bond": {}}, sender=newcomer, funds={STAKE_DENOM: 100_000})
    assert app.query(g.mixer, {"member": {"addr": newcomer, "at_height": None}})["points"] == 200

    # 4. the valset returns the expected diff once the key is registered
    pubkey = bytes(SigningKey(b"\x07" * 32).verify_key)
    pubkey_b64 = base64.b64encode(pubkey).decode()
    app.execute(g.valset, {"register_validator_key": {"pubkey": {"ed25519": pubkey_b64},
                                                      "metadata": {"moniker": "newcomer", "details": None}}},
                sender=newcomer)
    result = app.sudo(g.valset, {"end_with_validator_update": {}})
    assert json.loads(result.data) == {"diffs": [{"pubkey": {"ed25519": pubkey_b64}, "power": 200}]}
    assert app.sudo(g.valset, {"end_with_validator_update": {}}).data is None   # same epoch: no update

    # 5. a member leaves and gets the escrow back after the freeze
    before = app.balance(m2, DENOM)
    app.execute(g.membership, {"leave": {}}, sender=m2)
    assert app.query(g.membership, {"member_status": {"addr": m2}})["status"] == "leaving"
    app.next_block(seconds=2 * VOTING_PERIOD + 1)
    app.sudo(g.membership, {"end_block": {}})
    assert app.balance(m2, DENOM) == before + ESCROW
    app.next_block(seconds=EPOCH)
    assert app.query(g.membership, {"total_points": {"at_height": None}}) == {"points": 2}
