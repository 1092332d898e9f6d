"""A byzantine validator that double-prevotes and double-precommits on a real 4-node network.

Safety holds (identical chains), its duplicate votes become evidence that is committed exactly
once, the chain hands it to the valset contract in begin_block, the contract jails the operator,
and the validator leaves the active set: the valset's diff removing it is returned at some height
H (an epoch end) and is in force from H+2, after which no block's LastCommit carries its signature.
"""
from __future__ import annotations

import base64
import time

import pytest

from chain.crypto import sha256
from cluster import Cluster
from support import devnet_genesis, devnet_key

pytestmark = pytest.mark.timeout(600)
BYZANTINE = 3                      # node index; devnet validator 4
WAIT_S = 120


def test_double_voter_is_caught_jailed_and_removed(tmp_path):
    genesis, contracts = devnet_genesis(4, equal_power=True, epoch_length=2)
    net = Cluster(tmp_path, validators=4, genesis=genesis, overrides={BYZANTINE: {"byzantine": True}}).start()
    try:
        byz_pub = devnet_key("consensus", BYZANTINE + 1).pubkey
        byz_b64, byz_addr = base64.b64encode(byz_pub).decode(), sha256(byz_pub)[:20].hex()
        honest = [0, 1, 2]
        removal = evidence_heights = None
        deadline = time.monotonic() + WAIT_S
        checked = 0
        while time.monotonic() < deadline and removal is None:
            top = net.heights(honest)[0] or 0
            for height in range(checked + 1, top + 1):
                block = net.block(0, height)
                if block["block"]["evidence"]:
                    evidence_heights = (evidence_heights or []) + [height]
                for update in block["results"]["validator_updates"]:
                    if update["pubkey"]["ed25519"] == byz_b64 and update["power"] == 0:
                        removal = (height, update["effective_height"])
            checked = top
            time.sleep(0.2)
        assert evidence_heights, "no evidence was committed"
        assert removal is not None, "the byzantine validator never left the active set"
        returned_at, effective = removal
        assert effective == returned_at + 2                       # CometBFT: updates of H apply at H+2
        assert evidence_heights[0] <= returned_at                  # jailed in begin_block, removed at epoch end

        # every evidence committed names the byzantine validator, and each duplicate pair only once
        seen = set()
        for height in evidence_heights:
            for ev in net.block(0, height)["block"]["evidence"]:
                assert ev["vote_a"]["validator"] == ev["vote_b"]["validator"] == byz_addr
                key = (ev["vote_a"]["height"], ev["vote_a"]["round"], ev["vote_a"]["type"])
                assert key not in seen
                seen.add(key)

        jailed = net.nodes[0].client.smart(contracts["valset"], {"list_jailed": {}})
        assert devnet_key("operator", BYZANTINE + 1).address() in str(jailed)

        net.wait_height(effective + 3, among=honest)
        # the commit for `effective` (carried by block effective+1) is signed by the new set only
        sigs = net.block(0, effective + 1)["block"]["last_commit"]["signatures"]
        assert byz_addr not in {s["validator"] for s in sigs}
        assert sigs, "the remaining validators sign"
        assert len(net.nodes[0].status()["validators"]) == 3
        net.assert_consistent(honest)
    finally:
        net.stop()
