"""A follower node, and a hostile peer sending bad consensus messages, on a real 4-validator network.

The hostile peer is an authenticated p2p node (it may connect: the chain is permissioned at the
validator set, not at the socket) that first listens to the validators' real gossip, then sends
malformed, oversized, wrongly signed, wrong-height and replayed consensus messages, all properly
sealed so they reach the node's parsers. They are dropped: the validators keep committing, and
the chains stay identical. Raw links then send what no honest peer sends on an encrypted link
(malformed JSON in a valid box, a garbage binary frame, a text frame, a replayed sealed frame):
each is refused, the links that break the cipher are closed at once.
"""
from __future__ import annotations

import asyncio
import base64
import copy
import random

import pytest

from chain.app.tx import Send, build_tx
from chain.crypto import sha256
from chain.crypto.keys import PrivateKey
from chain.p2p import P2P, PeerAddress
from chain.p2p.errors import CloseCode
from cluster import Cluster
from p2p.harness import RawPeer
from support import devnet_genesis, devnet_key

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    genesis, _ = devnet_genesis(4, equal_power=True)
    cluster = Cluster(tmp_path_factory.mktemp("hostile"), validators=4, nodes=5, genesis=genesis).start()
    cluster.wait_height(2)
    yield cluster
    cluster.stop()


def test_full_node_follows_and_serves_the_api(net):
    follower = net.nodes[4]
    status = follower.status()
    assert status["is_validator"] is False and status["validator"] is None
    # a tx submitted to the follower is gossiped to the validators and committed
    key = devnet_key("member", 2)
    sequence = follower.client.account(key.address())["sequence"]
    tx = build_tx(key, "conclave-devnet", sequence, [Send(devnet_key("member", 1).address(), (("ucnv", 5),))])
    answer = follower.client.submit_tx(tx.raw, wait_commit=True)
    assert answer["status"] == "committed" and answer["result"]["code"] == 0
    net.wait_progress(1)
    net.assert_consistent()


def _mutations(real: list[dict], rnd: random.Random) -> list[dict]:
    """Bad variants of real consensus messages, each of a kind the issue names."""
    bad: list[dict] = [{}, {"kind": "vote"}, {"kind": "nonsense"}, {"kind": "vote", "vote": "x" * 100},
                       {"kind": "proposal", "proposal": {}, "block": "!!"}, {"kind": "vote", "vote": {"type": 1}}]
    for message in real:
        bad.append(copy.deepcopy(message))                                   # replayed as is
        if message["kind"] == "vote":
            vote = message["vote"]
            forged = copy.deepcopy(message)
            sig = bytearray(base64.b64decode(vote["signature"]))
            sig[rnd.randrange(len(sig))] ^= 0xFF
            forged["vote"]["signature"] = base64.b64encode(bytes(sig)).decode()
            bad.append(forged)                                               # wrongly signed
            far = copy.deepcopy(message)
            far["vote"]["height"] = vote["height"] + 1000
            bad.append(far)                                                  # wrong height
            old = copy.deepcopy(message)
            old["vote"]["height"] = max(1, vote["height"] - 1)
            bad.append(old)                                                  # older height, signature now wrong
            nil = copy.deepcopy(message)
            nil["vote"]["block_hash"] = None if vote["block_hash"] else sha256(b"x").hex()
            bad.append(nil)                                                  # changed value, old signature
        else:
            moved = copy.deepcopy(message)
            moved["proposal"]["round"] = message["proposal"]["round"] + 3
            bad.append(moved)                                                # another round, old signature
    return bad


BAD_TX_BATCHES = [{"txs": 5}, {"txs": [None, 7, "!!not base64", "e30=", "A" * 1000]}, {"txs": ["e30="] * 5000},
                  {"tx": "e30="}, {"txs": {"a": "b"}}, {}]


def test_bad_consensus_messages_are_dropped_and_do_not_stall(net):
    target = net.nodes[0]

    async def attack() -> int:
        heard: list[dict] = []
        attacker = P2P(PrivateKey.from_seed(sha256(b"hostile")), "conclave-devnet", None,
                       [PeerAddress(target.node_id, "127.0.0.1", target.p2p_port)])

        async def listen(_peer, _channel, payload):
            if len(heard) < 60:
                heard.append(payload)

        attacker.on_message("consensus", listen)
        await attacker.start()
        try:
            for _ in range(300):
                if len(heard) >= 20:
                    break
                await asyncio.sleep(0.05)
            bad = _mutations(heard, random.Random(7))
            for message in bad:
                attacker.broadcast("consensus", message)
            for batch in BAD_TX_BATCHES:                # ignored whole or item by item; the chain goes on
                attacker.broadcast("txs", batch)
            # oversized: our P2P refuses to send it, so a raw websocket peer does; the node drops that peer
            raw = await RawPeer.connect(target.p2p_port, PrivateKey.from_seed(sha256(b"hostile-raw")),
                                        chain_id="conclave-devnet")
            try:
                try:
                    await raw.send_frame({"ch": "consensus", "p": {"kind": "vote", "vote": {"pad": "x" * (5 << 20)}}})
                    code, _ = await raw.closed_with()
                    assert code is not None
                except ConnectionError:
                    pass                            # the node cut the connection mid-frame: dropped too
            finally:
                await raw.close()
            await _break_the_cipher(target.p2p_port)
            await asyncio.sleep(1.0)
            return len(bad)
        finally:
            await attacker.stop()

    sent = asyncio.run(attack())
    assert sent > 40
    net.wait_progress(3)                     # the round was not stalled
    net.assert_consistent()


async def _break_the_cipher(port: int) -> None:
    """Malformed JSON inside valid boxes is dropped; frames that are not the peer's next box close the link."""
    async def attacker(name: bytes) -> RawPeer:
        return await RawPeer.connect(port, PrivateKey.from_seed(sha256(b"hostile-raw-" + name)),
                                     chain_id="conclave-devnet")

    raw = await attacker(b"json")
    try:
        for text in ("{not json", "[]", '{"ch":"consensus","p":"not an object"}', '{"ch":"consensus","p":{}}'):
            await raw.send_frame(text)                   # authentic but malformed: counted, link kept
        sealed = await raw.send_frame({"ch": "consensus", "p": {"kind": "nonsense"}})
        await raw.ws.send_bytes(sealed)                  # replayed: not the next box
        code, reason = await raw.closed_with()
        assert code == CloseCode.TAMPERED and "frame #5 failed authentication" in reason
    finally:
        await raw.close()
    for name, attack, complaint in [
        (b"binary", lambda peer: peer.ws.send_bytes(bytes(range(256)) * 4), "failed authentication"),
        (b"text", lambda peer: peer.ws.send_str('{"ch":"consensus","p":{"kind":"vote"}}'), "unsealed text frame"),
    ]:
        raw = await attacker(name)
        try:
            await attack(raw)
            code, reason = await raw.closed_with()
            assert code == CloseCode.TAMPERED and complaint in reason
        finally:
            await raw.close()
