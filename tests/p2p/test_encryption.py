"""The encrypted link on real websockets: what an observer on the path sees, and what an attacker can't do."""
from __future__ import annotations

import asyncio
import logging

import aiohttp

from chain.p2p import PeerAddress
from chain.p2p.errors import CloseCode
from chain.p2p.frames import encode_message
from chain.p2p.secure import TAG_BYTES
from p2p.harness import (CHAIN, LOCALHOST, WAIT, Inbox, RawPeer, address_of, eventually, fully_connected, hello,
                         make_node, node_key, run, running)
from p2p.relay import Relay

MARKER = "tx-marker-5f0c9d2e-visible-only-to-the-two-nodes"


def test_an_observer_on_the_path_sees_only_sealed_frames():
    async def scenario():
        a, b = make_node(0), make_node(1)
        inbox_a, inbox_b = Inbox(), Inbox()
        a.on_message("tx", inbox_a.handler)
        b.on_message("tx", inbox_b.handler)

        async def echo(peer_id, request):
            return {"echo": request["q"] + "-answered"}
        b.on_request("echo", echo)
        a.on_request("echo", echo)
        async with running(a, b):
            relay = await Relay(b.listen_port).start()
            try:
                a.add_peer(PeerAddress(b.node_id, LOCALHOST, relay.port))      # a reaches b only through the relay
                await fully_connected([a, b])
                for n in range(20):
                    a.broadcast("tx", {"tx": f"{MARKER}-{n}"})
                    b.broadcast("tx", {"tx": f"{MARKER}-{n}"})
                assert await a.request(b.node_id, "echo", {"q": MARKER}, timeout=WAIT) == {
                    "echo": f"{MARKER}-answered"}
                assert await b.request(a.node_id, "echo", {"q": MARKER}, timeout=WAIT) == {
                    "echo": f"{MARKER}-answered"}
                await eventually(lambda: len(inbox_a.items) == len(inbox_b.items) == 20, "every tx both ways")
                assert [p["tx"] for p in inbox_b.payloads()] == [f"{MARKER}-{n}" for n in range(20)]
            finally:
                await relay.stop()
        for direction in ("a>b", "b>a"):
            seen = [s for s in relay.seen if s.direction == direction]
            handshake, after = seen[:2], seen[2:]
            assert [s.kind for s in handshake] == [aiohttp.WSMsgType.TEXT] * 2         # hello, signature
            assert CHAIN.encode() in handshake[0].data                                  # the observer can read
            assert len(after) >= 21 and all(s.kind is aiohttp.WSMsgType.BINARY for s in after)
            assert not any(MARKER.encode() in s.data or b'"ch"' in s.data for s in seen)
    run(scenario)


def test_a_man_in_the_middle_swapping_ephemeral_keys_is_refused(caplog):
    async def scenario():
        a, b = make_node(0), make_node(1)
        async with running(a, b):
            relay = await Relay(b.listen_port, swap_ephemerals=True).start()
            try:
                a.add_peer(PeerAddress(b.node_id, LOCALHOST, relay.port))
                await eventually(lambda: a.stats()["handshake_failures"] >= 1
                                 and b.stats()["handshake_failures"] >= 1, "both ends to refuse the relay")
                assert a.peers() == [] and b.peers() == []
                await eventually(lambda: {c.direction for c in relay.closes} >= {"a>b", "b>a"}, "both closes")
            finally:
                await relay.stop()
        first_attempt = {}
        for closed in relay.closes:
            first_attempt.setdefault(closed.direction, closed)
        for closed in first_attempt.values():                    # each side refused the other's signature
            assert closed.code == CloseCode.BAD_IDENTITY and "invalid handshake signature" in closed.reason
        assert all(s.kind is aiohttp.WSMsgType.TEXT for s in relay.seen)            # no frame ever flowed
    with caplog.at_level(logging.WARNING, logger="chain.p2p"):
        run(scenario)
    assert "someone in between replaced the ephemeral keys" in caplog.text


def test_an_old_protocol_hello_is_refused_with_the_reason():
    async def scenario():
        a = make_node(0)
        async with running(a):
            raw = await RawPeer.connect(a.listen_port, node_key(2), handshake=False)
            try:
                await raw.send_json(hello(node_key(2), legacy=True))
                await raw.receive_json()                                # a's own hello
                code, reason = await raw.closed_with()
                assert code == CloseCode.INCOMPATIBLE
                assert "old unencrypted p2p protocol v1" in reason and "upgrade the peer" in reason
            finally:
                await raw.close()
            assert a.stats()["handshake_failures"] == 1 and a.peers() == []
    run(scenario)


def test_a_low_order_ephemeral_key_is_refused_before_signing():
    async def scenario():
        a = make_node(0)
        async with running(a):
            for point in (bytes(32), (1).to_bytes(32, "little")):
                raw = await RawPeer.connect(a.listen_port, node_key(2), handshake=False)
                try:
                    await raw.send_json(hello(node_key(2), ephemeral=point))
                    await raw.receive_json()                            # a's hello
                    msg = await asyncio.wait_for(raw.ws.receive(), WAIT)
                    assert msg.type is aiohttp.WSMsgType.CLOSE, "a signed a handshake with a low-order key"
                    assert msg.data == CloseCode.HANDSHAKE_FAILED and "low-order point" in msg.extra
                finally:
                    await raw.close()
            assert a.stats()["handshake_failures"] == 2 and a.peers() == []
    run(scenario)


def test_a_frame_of_exactly_max_message_bytes_gets_through():
    async def scenario():
        limit = 64 * 1024
        a, b = make_node(0, max_message_bytes=limit), make_node(1, max_message_bytes=limit)
        inbox = Inbox()
        b.on_message("x", inbox.handler)
        async with running(a, b):
            a.add_peer(address_of(b))
            await fully_connected([a, b])
            blob = "z" * (limit - len(encode_message("x", {"b": ""})))
            assert len(encode_message("x", {"b": blob})) == limit          # sealed: limit + TAG_BYTES on the wire
            a.broadcast("x", {"b": blob})
            await eventually(lambda: len(inbox.items) == 1, "the full-size frame")
            assert inbox.payloads()[0]["b"] == blob and b.stats()["bad_frames"] == 0
            assert TAG_BYTES == 16
    run(scenario)
