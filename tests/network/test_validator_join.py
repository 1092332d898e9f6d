"""A validator-set change through governance on a real network: engagement granted by vote.

Circle member 3 bonds stake, the members vote to grant it engagement, it registers a consensus
key in the valset contract; at the next epoch end (height H) the valset returns the diff adding
it, the diff is in force from H+2, and from then on the fifth node — which was running as a
follower with that key — signs blocks: its precommits appear in the LastCommits after H+2 and
never before.
"""
from __future__ import annotations

import base64
import time

import pytest

from chain.app.tx import Execute, build_tx
from chain.crypto import sha256
from cluster import Cluster
from support import devnet_genesis, devnet_key, make_validator_home

pytestmark = pytest.mark.timeout(600)
CHAIN = "conclave-devnet"
NEW = 4                                    # node index of the joining validator (devnet consensus key 5)


def send(node, key, msg: Execute) -> dict:
    sequence = node.client.account(key.address())["sequence"]
    answer = node.client.submit_tx(build_tx(key, CHAIN, sequence, [msg], gas_limit=2_000_000).raw, wait_commit=True)
    assert answer["result"]["code"] == 0, answer
    return answer


def wasm_attr(answer: dict, name: str) -> str:
    for event in answer["result"]["events"]:
        for attr in event["attributes"]:
            if attr["key"] == name:
                return attr["value"]
    raise AssertionError(f"no {name} in {answer}")


def test_engagement_granted_by_vote_makes_a_new_validator_that_signs(tmp_path):
    genesis, contracts = devnet_genesis(4, equal_power=True, epoch_length=2, member_stake=1_000_000)
    net = Cluster(tmp_path, validators=4, nodes=5, genesis=genesis)
    make_validator_home(net.nodes[NEW].home, genesis, NEW + 1)     # holds key 5, not in the set yet
    net.start()
    try:
        net.wait_height(2)
        node = net.nodes[0]
        m1, m2, m3 = (devnet_key("member", n) for n in (1, 2, 3))
        send(node, m3, Execute(contracts["stake"], {"bond": {}}, (("ustake", 100_000),)))
        proposed = send(node, m1, Execute(contracts["voting"], {"propose": {
            "title": "engage member3", "description": "member3 runs a validator",
            "msgs": [{"wasm": {"execute": {"contract_addr": contracts["engagement"], "funds": [],
                                           "msg": base64.b64encode(
                                               b'{"add_points":{"addr":"%s","points":400}}' % m3.address().encode()
                                           ).decode()}}}]}}, ()))
        proposal_id = int(wasm_attr(proposed, "proposal_id"))
        send(node, m2, Execute(contracts["voting"], {"vote": {"proposal_id": proposal_id, "vote": "yes"}}, ()))
        send(node, m1, Execute(contracts["voting"], {"execute": {"proposal_id": proposal_id}}, ()))
        new_pub = devnet_key("consensus", NEW + 1).pubkey
        new_b64, new_addr = base64.b64encode(new_pub).decode(), sha256(new_pub)[:20].hex()
        registered = send(node, m3, Execute(contracts["valset"], {"register_validator_key": {
            "pubkey": {"ed25519": new_b64}, "metadata": {"moniker": "member3", "details": None}}}, ()))

        added = None
        checked = registered["height"] - 1
        deadline = time.monotonic() + 120
        while added is None and time.monotonic() < deadline:
            top = net.heights([0])[0] or 0
            for height in range(checked + 1, top + 1):
                for update in net.block(0, height)["results"]["validator_updates"]:
                    if update["pubkey"]["ed25519"] == new_b64 and update["power"] > 0:
                        added = (height, update["effective_height"])
            checked = top
            time.sleep(0.2)
        assert added is not None, "the valset never added the new validator"
        returned_at, effective = added
        assert effective == returned_at + 2

        net.wait_height(effective + 2)
        signers = {h: {s["validator"] for s in net.block(0, h + 1)["block"]["last_commit"]["signatures"]}
                   for h in range(2, effective + 1)}
        assert all(new_addr not in signers[h] for h in signers if h < effective)
        # from `effective` on it is in the set; its precommits make it into a LastCommit once it keeps up
        signed_at, height, deadline = None, effective, time.monotonic() + 120
        while signed_at is None and time.monotonic() < deadline:
            net.wait_height(height + 1, among=[0])
            if new_addr in {s["validator"] for s in net.block(0, height + 1)["block"]["last_commit"]["signatures"]}:
                signed_at = height
            height += 1
        assert signed_at is not None, "the new validator never signed a block"
        assert net.nodes[NEW].status()["is_validator"] is True
        net.assert_consistent()
    finally:
        net.stop()
