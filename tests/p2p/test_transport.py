"""P2P over real websockets on loopback: delivery, order, requests, reconnects and who gets in."""
from __future__ import annotations

import asyncio
import logging

import pytest

from chain.p2p import P2P, P2PError, PeerUnavailable, RequestError, RequestTimeout
from chain.p2p.errors import CloseCode
from chain.p2p.handshake import Hello, make_hello, sign_auth
from chain.p2p.secure import new_ephemeral
from p2p.harness import (CHAIN, Inbox, RawPeer, address_of, connect_all, eventually, fully_connected, hello,
                         make_node, node_id, node_key, run, running, settled)


# -- delivery -----------------------------------------------------------------------------------

def test_broadcast_reaches_every_peer_in_send_order():
    async def scenario():
        nodes = [make_node(i) for i in range(4)]
        inboxes = [Inbox() for _ in nodes]
        for node, inbox in zip(nodes, inboxes):
            node.on_message("gossip", inbox.handler)
        async with running(*nodes):
            connect_all(nodes)
            await fully_connected(nodes)
            for seq in range(200):                   # all four talk at once, interleaved
                for index, node in enumerate(nodes):
                    node.broadcast("gossip", {"from": index, "seq": seq})
            await eventually(lambda: all(len(inbox.items) == 3 * 200 for inbox in inboxes), "every message")
            for index, inbox in enumerate(inboxes):
                for other in range(4):
                    if other != index:
                        got = inbox.payloads(nodes[other].node_id)
                        assert [p["seq"] for p in got] == list(range(200))
                        assert {p["from"] for p in got} == {other}
            stats = nodes[0].stats()
            assert stats["peers"] == 3 and stats["frames_out"] >= 600 and stats["frames_in"] >= 600
            assert stats["dropped"] == stats["bad_frames"] == 0
    run(scenario)


def test_broadcast_exclude_and_send_to_one_peer():
    async def scenario():
        nodes = [make_node(i) for i in range(3)]
        inboxes = [Inbox() for _ in nodes]
        for node, inbox in zip(nodes, inboxes):
            node.on_message("x", inbox.handler)
        async with running(*nodes):
            connect_all(nodes)
            await fully_connected(nodes)
            a, b, c = nodes
            a.broadcast("x", {"n": "not for b"}, exclude=b.node_id)
            assert a.send(b.node_id, "x", {"n": "only b"}) is True
            a.broadcast("x", {"n": "everyone"})
            await eventually(lambda: len(inboxes[1].items) == 2 and len(inboxes[2].items) == 2, "deliveries")
            # In-order delivery means anything excluded would have arrived before "everyone".
            assert [p["n"] for p in inboxes[1].payloads()] == ["only b", "everyone"]
            assert [p["n"] for p in inboxes[2].payloads()] == ["not for b", "everyone"]
            assert a.send(node_id(99), "x", {}) is False            # not connected
            with pytest.raises(P2PError, match="must be a dict"):
                a.send(b.node_id, "x", ["no"])                   # type: ignore[arg-type]
            with pytest.raises(P2PError, match="not JSON-serialisable"):
                a.broadcast("x", {"bytes": b"\x00"})
    run(scenario)


def test_handler_errors_are_logged_and_the_connection_survives(caplog):
    async def scenario():
        a, b = make_node(0), make_node(1)
        seen: list[int] = []

        async def fragile(peer_id, channel, payload):
            if payload["n"] == 0:
                raise ValueError("handler bug")
            seen.append(payload["n"])
        b.on_message("x", fragile)
        async with running(a, b):
            connect_all([a, b])
            await fully_connected([a, b])
            for n in range(3):
                a.broadcast("x", {"n": n})
            a.broadcast("nobody-listens", {})
            await eventually(lambda: seen == [1, 2] and b.stats()["unhandled"] == 1, "later messages")
            assert b.peers() == [a.node_id]
            assert b.stats()["handler_errors"] == 1
    with caplog.at_level(logging.ERROR, logger="chain.p2p"):
        run(scenario)
    assert "handler for channel 'x' failed" in caplog.text and "handler bug" in caplog.text


# -- request / response ---------------------------------------------------------------------------

def test_request_response_errors_and_timeouts():
    async def scenario():
        a, b = make_node(0), make_node(1)
        never = asyncio.Event()

        async def echo(peer_id, request):
            return {"echo": request, "asker": peer_id}

        async def refuse(peer_id, request):
            raise RequestError(f"no block at height {request['height']}")

        async def buggy(peer_id, request):
            raise KeyError("internal detail")

        async def not_a_dict(peer_id, request):
            return ["list"]

        async def stall(peer_id, request):
            await never.wait()
            return {}

        async def ask_back(peer_id, request):       # a handler may request from the asker in turn
            inner = await b.request(peer_id, "echo", {"inner": True}, timeout=5)
            return {"inner": inner["echo"]}

        for channel, handler in [("echo", echo), ("refuse", refuse), ("buggy", buggy),
                                 ("not-a-dict", not_a_dict), ("stall", stall), ("ask-back", ask_back)]:
            b.on_request(channel, handler)
        a.on_request("echo", echo)
        async with running(a, b):
            connect_all([a, b])
            await fully_connected([a, b])
            assert await a.request(b.node_id, "echo", {"q": 1}, timeout=5) == {"echo": {"q": 1}, "asker": a.node_id}
            many = await asyncio.gather(*(a.request(b.node_id, "echo", {"i": i}, timeout=5) for i in range(30)))
            assert [r["echo"]["i"] for r in many] == list(range(30))
            with pytest.raises(RequestError, match="no block at height 7"):
                await a.request(b.node_id, "refuse", {"height": 7}, timeout=5)
            with pytest.raises(RequestError, match=r"internal error in the handler for 'buggy' \(KeyError\)") as err:
                await a.request(b.node_id, "buggy", {}, timeout=5)
            assert "internal detail" not in str(err.value)          # details stay in the server's log
            with pytest.raises(RequestError, match="returned list, not a dict"):
                await a.request(b.node_id, "not-a-dict", {}, timeout=5)
            with pytest.raises(RequestError, match="no handler for request channel 'unknown'"):
                await a.request(b.node_id, "unknown", {}, timeout=5)
            with pytest.raises(RequestTimeout, match="did not answer request 'stall' within 0.2 s"):
                await a.request(b.node_id, "stall", {}, timeout=0.2)

            assert await a.request(b.node_id, "ask-back", {}, timeout=5) == {"inner": {"inner": True}}
            with pytest.raises(PeerUnavailable, match="not connected"):
                await a.request(node_id(99), "echo", {}, timeout=5)
            assert a.peers() == [b.node_id]                          # errors never cost the connection
    run(scenario)


def test_a_peer_may_not_keep_too_many_requests_open():
    async def scenario():
        a, b = make_node(0), make_node(1, max_concurrent_requests=2)
        release = asyncio.Event()

        async def stall(peer_id, request):
            await release.wait()
            return {"n": request["n"]}
        b.on_request("stall", stall)
        async with running(a, b):
            connect_all([a, b])
            await fully_connected([a, b])
            first = [asyncio.ensure_future(a.request(b.node_id, "stall", {"n": n}, timeout=10)) for n in range(2)]
            await asyncio.sleep(0)                   # both are queued before the third; b serves in order
            with pytest.raises(RequestError, match="busy: too many concurrent requests, retry later"):
                await a.request(b.node_id, "stall", {"n": 2}, timeout=10)
            release.set()
            assert await asyncio.gather(*first) == [{"n": 0}, {"n": 1}]
            assert await a.request(b.node_id, "stall", {"n": 3}, timeout=10) == {"n": 3}
    run(scenario)


def test_pending_request_fails_when_the_peer_goes_away():
    async def scenario():
        a, b = make_node(0), make_node(1)
        started = asyncio.Event()

        async def stall(peer_id, request):
            started.set()
            await asyncio.Event().wait()
            return {}
        b.on_request("stall", stall)
        async with running(a):
            async with running(b):
                a.add_peer(address_of(b))
                await fully_connected([a, b])
                pending = asyncio.ensure_future(a.request(b.node_id, "stall", {}, timeout=30))
                await asyncio.wait_for(started.wait(), 10)
            with pytest.raises(PeerUnavailable, match="disconnected before answering"):
                await asyncio.wait_for(pending, 10)
    run(scenario)


# -- reconnecting -----------------------------------------------------------------------------------

def test_reconnects_after_a_peer_restarts_on_the_same_port():
    async def scenario():
        a = make_node(0)
        events: list[tuple[str, str]] = []
        a.on_peer(lambda peer: events.append(("up", peer)), lambda peer: events.append(("down", peer)))
        inbox = Inbox()
        a.on_message("x", inbox.handler)
        async with running(a):
            b1 = make_node(1, peers=[address_of(a)])
            async with running(b1):
                port = b1.listen_port
                a.add_peer(address_of(b1))
                await fully_connected([a, b1])
                b1.broadcast("x", {"life": 1})
                await eventually(lambda: len(inbox.items) == 1, "first message")
            await eventually(lambda: a.peers() == [] and ("down", b1.node_id) in events, "the disconnect")
            b2 = make_node(1, listen=f"127.0.0.1:{port}")           # same key, same port, no peers of its own
            async with running(b2):
                await eventually(lambda: a.peers() == [b2.node_id], "a's redial", timeout=10)
                assert a.peer_info(b2.node_id).outbound
                b2.broadcast("x", {"life": 2})
                await eventually(lambda: len(inbox.items) == 2, "message after restart")
            await eventually(lambda: len(events) == 4, "the second disconnect event")
        assert events == [("up", node_id(1)), ("down", node_id(1))] * 2
    run(scenario)


# -- who may connect ---------------------------------------------------------------------------------

def test_wrong_chain_is_refused_with_a_logged_reason(caplog):
    async def scenario():
        a = make_node(0)
        other = make_node(1, chain_id="another-chain")
        async with running(a, other):
            other.add_peer(address_of(a))
            await eventually(lambda: a.stats()["handshake_failures"] >= 1
                             and other.stats()["handshake_failures"] >= 1, "both sides to refuse")
            assert a.peers() == [] and other.peers() == []
            raw = await RawPeer.connect(a.listen_port, node_key(2), chain_id="another-chain", handshake=False)
            try:
                await raw.send_json(hello(node_key(2), chain_id="another-chain"))
                await raw.receive_json()                            # a's hello
                code, reason = await raw.closed_with()
                assert code == CloseCode.WRONG_CHAIN and "we are on 'conclave-p2p-test'" in reason
            finally:
                await raw.close()
    with caplog.at_level(logging.INFO, logger="chain.p2p"):
        run(scenario)
    assert "peer is on chain 'another-chain', we are on 'conclave-p2p-test'" in caplog.text
    assert "peer is on chain 'conclave-p2p-test', we are on 'another-chain'" in caplog.text


def test_impostors_are_refused(caplog):
    async def scenario():
        a, b, c = make_node(0), make_node(1), make_node(2)
        async with running(a, b, c):
            # a's peer list says node 1 lives at c's address: c answers with its own key.
            a.add_peer(address_of(c, as_id=b.node_id))
            await eventually(lambda: a.stats()["handshake_failures"] >= 1, "a to refuse c")
            assert a.peers() == [] and c.peers() == []

            # Someone claims node 1's id and public key but cannot sign with its key.
            raw = await RawPeer.connect(a.listen_port, node_key(3), handshake=False)
            try:
                mine = make_hello(node_key(3), CHAIN, None, new_ephemeral()[1])
                await raw.send_json({**mine.to_json(), "node_id": b.node_id,
                                     "pubkey": hello(node_key(1))["pubkey"]})
                theirs = Hello.from_json(await raw.receive_json())
                await raw.send_json(sign_auth(node_key(3), mine, theirs))
                await raw.receive_json()                                # a's own signature
                code, reason = await raw.closed_with()
                assert code == CloseCode.BAD_IDENTITY and "invalid handshake signature" in reason
            finally:
                await raw.close()

            # Someone claims node 1's id with a public key that does not hash to it.
            raw = await RawPeer.connect(a.listen_port, node_key(3), handshake=False)
            try:
                await raw.send_json(hello(node_key(3), claim_id=b.node_id))
                code, reason = await raw.closed_with()
                assert code == CloseCode.BAD_IDENTITY and "pubkey hashes to" in reason
            finally:
                await raw.close()
            assert a.peers() == []
    with caplog.at_level(logging.INFO, logger="chain.p2p"):
        run(scenario)
    assert f"dialed node {node_id(1)} but reached node {node_id(2)}" in caplog.text


def test_allow_list_refuses_unknown_nodes_but_admits_configured_ones():
    async def scenario():
        b, c, d = make_node(1), make_node(2), make_node(3)
        async with running(b, c, d):
            a = make_node(0, allow_inbound_from={b.node_id}, peers=[address_of(d)])
            async with running(a):
                for node in (b, c, d):
                    node.add_peer(address_of(a))
                await eventually(lambda: a.peers() == sorted([b.node_id, d.node_id]), "b and d to connect")
                await eventually(lambda: c.stats()["handshake_failures"] >= 1, "c to be refused")
                assert c.peers() == []
                raw = await RawPeer.connect(a.listen_port, node_key(4), handshake=False)
                try:
                    await raw.send_json(hello(node_key(4)))
                    await raw.receive_json()
                    code, reason = await raw.closed_with()
                    assert code == CloseCode.NOT_ALLOWED and "not allowed to connect" in reason
                finally:
                    await raw.close()
    run(scenario)


def test_never_connects_to_itself(caplog):
    async def scenario():
        a = make_node(0)
        async with running(a):
            a.add_peer(address_of(a))                          # our own id: skipped outright
            a.add_peer(address_of(a, as_id=node_id(5)))        # someone else's id at our own address
            await eventually(lambda: a.stats()["handshake_failures"] >= 2, "the self-dial to be refused")
            assert a.peers() == []
    with caplog.at_level(logging.INFO, logger="chain.p2p"):
        run(scenario)
    assert "skipping our own address" in caplog.text and "connected to ourselves" in caplog.text


# -- hostile and slow peers ----------------------------------------------------------------------------

def test_oversized_frame_drops_that_peer_and_the_node_keeps_serving():
    async def scenario():
        limit = 64 * 1024
        a, b = make_node(0, max_message_bytes=limit), make_node(1, max_message_bytes=limit)
        inbox = Inbox()
        b.on_message("x", inbox.handler)

        async def echo(peer_id, request):
            return request
        a.on_request("echo", echo)
        async with running(a, b):
            connect_all([a, b])
            await fully_connected([a, b])
            raw = await RawPeer.connect(a.listen_port, node_key(2))
            try:
                await eventually(lambda: node_id(2) in a.peers(), "the raw peer to join")
                await raw.send_frame({"ch": "x", "p": {"blob": "z" * (limit + 1)}})
                code, _ = await raw.closed_with()
                assert code == 1009                                # RFC 6455 "message too big"
            finally:
                await raw.close()
            await eventually(lambda: node_id(2) not in a.peers(), "a to drop the raw peer")
            assert a.stats()["bad_frames"] == 1
            a.broadcast("x", {"still": "serving"})
            await eventually(lambda: inbox.payloads() == [{"still": "serving"}], "b to be served")
            assert await b.request(a.node_id, "echo", {"ok": 1}, timeout=5) == {"ok": 1}
            with pytest.raises(P2PError, match="over max_message_bytes"):
                a.broadcast("x", {"blob": "z" * limit})           # never sent: peers would drop us
            with pytest.raises(P2PError, match="over max_message_bytes"):
                await a.request(b.node_id, "echo", {"blob": "z" * limit}, timeout=5)
            assert a.peers() == [b.node_id]
    run(scenario)


GARBAGE = [
    "not json", "[1, 2, 3]", '"a string"', "{}", '{"ch": "x"}', '{"ch": "x", "p": [1]}',
    '{"ch": "x", "p": {}, "id": "seven"}', '{"ch": 7, "p": {}}', '{"kind": "unknown"}',
    "[" * 50_000 + "]" * 50_000,
]


def test_garbage_frames_are_counted_then_the_peer_is_disconnected_and_banned():
    async def scenario():
        a = make_node(0, max_bad_frames=len(GARBAGE) + 1, ban_seconds=60)
        inbox = Inbox()
        a.on_message("x", inbox.handler)
        async with running(a):
            raw = await RawPeer.connect(a.listen_port, node_key(2))
            try:
                for text in GARBAGE:                                     # sealed properly: they reach the parser
                    await raw.send_frame(text)
                await raw.send_frame({"ch": "x", "p": {"after": "garbage"}})
                await eventually(lambda: len(inbox.items) == 1, "the good frame after the garbage")
                assert a.stats()["bad_frames"] == len(GARBAGE)
                assert a.stats()["per_peer"][node_id(2)]["bad_frames"] == len(GARBAGE)
                assert a.peers() == [node_id(2)]                        # tolerated so far
                await raw.send_frame("one too many")
                code, reason = await raw.closed_with()
                assert code == CloseCode.MISBEHAVING and "too many malformed frames" in reason
            finally:
                await raw.close()
            await eventually(lambda: a.peers() == [] and a.stats()["banned"] == 1, "the ban")
            raw = await RawPeer.connect(a.listen_port, node_key(2), handshake=False)
            try:                                                          # banned: refused at the handshake
                await raw.send_json(hello(node_key(2)))
                await raw.receive_json()
                code, reason = await raw.closed_with()
                assert code == CloseCode.BANNED and "banned" in reason
            finally:
                await raw.close()
    run(scenario)


async def _flip_last_bit(raw: RawPeer) -> None:
    sealed = bytearray(raw.seal({"ch": "x", "p": {"n": 1}}))
    sealed[-1] ^= 1
    await raw.ws.send_bytes(bytes(sealed))


async def _replay(raw: RawPeer) -> None:
    await raw.ws.send_bytes(await raw.send_frame({"ch": "x", "p": {"n": 1}}))


async def _skip_one(raw: RawPeer) -> None:
    raw.seal({"ch": "x", "p": {"lost": True}})                            # never sent: a dropped frame
    await raw.send_frame({"ch": "x", "p": {"n": 1}})


TAMPERING = {
    "garbage binary frame": (lambda raw: raw.ws.send_bytes(b"\x00garbage" * 10), "failed authentication"),
    "tiny binary frame": (lambda raw: raw.ws.send_bytes(b"\x01"), "shorter than its 16-byte tag"),
    "text frame after the handshake": (lambda raw: raw.ws.send_str('{"ch":"x","p":{}}'), "unsealed text frame"),
    "altered frame": (_flip_last_bit, "failed authentication"),
    "replayed frame": (_replay, "frame #1 failed authentication"),
    "frame after a dropped one": (_skip_one, "frame #0 failed authentication"),
}


def test_tampered_or_unsealed_frames_close_the_link_without_a_ban():
    async def scenario():
        a = make_node(0, max_bad_frames=100)
        inbox = Inbox()
        a.on_message("x", inbox.handler)
        async with running(a):
            for count, (what, (attack, complaint)) in enumerate(TAMPERING.items(), start=1):
                raw = await RawPeer.connect(a.listen_port, node_key(2))
                try:
                    await eventually(lambda: a.peers() == [node_id(2)], f"the raw peer to join before: {what}")
                    await attack(raw)
                    code, reason = await raw.closed_with()
                    assert code == CloseCode.TAMPERED and complaint in reason, (what, code, reason)
                finally:
                    await raw.close()
                await eventually(lambda: a.peers() == [], f"a to drop the link after: {what}")
                assert a.stats()["bad_frames"] == count
            assert a.stats()["banned"] == 0                              # anyone on the path could have done it
            assert all(p == {"n": 1} for p in inbox.payloads())          # only the one good frame, if any
            raw = await RawPeer.connect(a.listen_port, node_key(2))      # and the peer may come back
            try:
                await raw.send_frame({"ch": "x", "p": {"back": True}})
                await eventually(lambda: {"back": True} in inbox.payloads(), "a frame on the new link")
            finally:
                await raw.close()
    run(scenario)


def test_a_slow_peer_does_not_hold_up_the_others():
    async def scenario():
        options = dict(send_queue=8, recv_queue=8, heartbeat=None)
        a, fast, slow = (make_node(i, **options) for i in range(3))
        fast_inbox = Inbox()
        fast.on_message("block", fast_inbox.handler)
        release = asyncio.Event()

        async def stuck(peer_id, channel, payload):
            await release.wait()
        slow.on_message("block", stuck)
        async with running(a, fast, slow):
            connect_all([a, fast, slow])
            await fully_connected([a, fast, slow])
            part = "b" * (256 * 1024)
            total = 200                                                   # ~50 MB: more than loopback buffers hold
            for seq in range(total):
                a.broadcast("block", {"seq": seq, "part": part})          # never waits for anyone
                await eventually(lambda: len(fast_inbox.items) == seq + 1, f"fast peer to get {seq}")
            per_peer = a.stats()["per_peer"]
            assert [p["seq"] for p in fast_inbox.payloads()] == list(range(total))
            assert per_peer[fast.node_id]["dropped"] == 0
            assert per_peer[slow.node_id]["dropped"] > 0                 # the oldest frames went first
            assert per_peer[slow.node_id]["queued"] <= 8
            assert a.stats()["dropped"] == per_peer[slow.node_id]["dropped"]
            release.set()
    run(scenario)


def test_send_queue_drops_oldest_gossip_but_keeps_requests():
    async def scenario():
        a, b = make_node(0, send_queue=4, heartbeat=None), make_node(1, heartbeat=None)
        inbox = Inbox()
        b.on_message("x", inbox.handler)

        async def echo(peer_id, request):
            return request
        b.on_request("echo", echo)
        async with running(a, b):
            connect_all([a, b])
            await fully_connected([a, b])
            # Queued without yielding, so little can leave meanwhile: the queue of 4 keeps the
            # newest gossip, and the request queued among it is never the one dropped.
            a.send(b.node_id, "x", {"n": 0})
            answer = asyncio.ensure_future(a.request(b.node_id, "echo", {"r": 1}, timeout=5))
            await asyncio.sleep(0)                                     # the request is now queued
            for n in range(1, 10):
                assert a.send(b.node_id, "x", {"n": n}) is True
            assert a.stats()["per_peer"][b.node_id]["queued"] == 4
            assert await answer == {"r": 1}
            dropped = a.stats()["dropped"]
            assert dropped >= 5
            await eventually(lambda: len(inbox.items) == 10 - dropped, "the surviving gossip")
            got = [p["n"] for p in inbox.payloads()]
            assert got == sorted(got) and got[-3:] == [7, 8, 9]        # oldest went first, order kept
    run(scenario)


# -- duplicates, followers, lifecycle ------------------------------------------------------------------

def test_simultaneous_dials_end_with_one_connection_dialed_by_the_smaller_id():
    async def scenario():
        a, b = make_node(0), make_node(1)
        inbox_a, inbox_b = Inbox(), Inbox()
        a.on_message("x", inbox_a.handler)
        b.on_message("x", inbox_b.handler)
        async with running(a, b):
            a.add_peer(address_of(b))          # both dialers start in the same tick: two sockets
            b.add_peer(address_of(a))
            await fully_connected([a, b])
            await eventually(lambda: a.stats()["duplicates_resolved"] >= 1 and b.stats()["duplicates_resolved"] >= 1,
                             "both ends to see the duplicate")
            smaller = min(a.node_id, b.node_id)
            await eventually(lambda: a.peer_info(b.node_id) is not None and b.peer_info(a.node_id) is not None
                             and a.peer_info(b.node_id).outbound == (a.node_id == smaller)
                             and b.peer_info(a.node_id).outbound == (b.node_id == smaller), "the winner on both ends")
            info_a, info_b = a.peer_info(b.node_id), b.peer_info(a.node_id)
            assert info_a.local_address == info_b.remote_address          # the very same socket
            assert info_a.remote_address == info_b.local_address
            a.broadcast("x", {"from": "a"})
            b.broadcast("x", {"from": "b"})
            await eventually(lambda: len(inbox_a.items) == 1 and len(inbox_b.items) == 1, "traffic both ways")
            assert a.peer_info(b.node_id) == info_a                       # and it stays put
    run(scenario)


def test_outbound_only_follower():
    async def scenario():
        a = make_node(0)
        inbox = Inbox()
        follower = make_node(1, listen=None)
        follower.on_message("blocks", inbox.handler)

        async def status(peer_id, request):
            return {"height": 42}
        a.on_request("status", status)
        async with running(a, follower):
            follower.add_peer(address_of(a))
            await fully_connected([a, follower])
            assert not a.peer_info(follower.node_id).outbound
            assert a.peer_info(follower.node_id).listen is None
            assert follower.peer_info(a.node_id).listen == f"127.0.0.1:{a.listen_port}"
            assert await follower.request(a.node_id, "status", {}, timeout=5) == {"height": 42}
            a.broadcast("blocks", {"h": 42})
            await eventually(lambda: len(inbox.items) == 1, "the follower to hear broadcasts")
            with pytest.raises(P2PError, match="not listening"):
                follower.listen_port
    run(scenario)


def test_configuration_and_lifecycle_errors():
    with pytest.raises(P2PError, match="PrivateKey"):
        P2P(b"seed", CHAIN, None, [])                                      # type: ignore[arg-type]
    with pytest.raises(P2PError, match="chain_id"):
        P2P(node_key(0), "", None, [])
    with pytest.raises(P2PError, match="listen address"):
        P2P(node_key(0), CHAIN, "nowhere", [])
    with pytest.raises(P2PError, match="PeerAddress"):
        P2P(node_key(0), CHAIN, None, ["abc@host:1"])                      # type: ignore[list-item]
    with pytest.raises(P2PError, match="send_queue"):
        P2P(node_key(0), CHAIN, None, [], send_queue=0)
    with pytest.raises(P2PError, match="reconnect_min"):
        P2P(node_key(0), CHAIN, None, [], reconnect_min=3, reconnect_max=1)
    node = P2P(node_key(0), CHAIN, None, [])
    node.on_message("x", Inbox().handler)
    with pytest.raises(P2PError, match="already has a handler"):
        node.on_message("x", Inbox().handler)
    with pytest.raises(P2PError, match="channel name"):
        node.on_request("", Inbox().handler)                              # type: ignore[arg-type]

    async def scenario():
        a = make_node(0)
        async with running(a):
            with pytest.raises(P2PError, match="started once"):
                await a.start()
            clash = make_node(1, listen=f"127.0.0.1:{a.listen_port}")
            with pytest.raises(P2PError, match="cannot listen on 127.0.0.1:.*choose another listen address"):
                await clash.start()
        await a.stop()                                                     # twice is fine
    run(scenario)


def test_duplicate_handover_loses_nothing():
    async def scenario():
        a, b = make_node(0), make_node(1)
        inbox_a, inbox_b = Inbox(), Inbox()
        a.on_message("x", inbox_a.handler)
        b.on_message("x", inbox_b.handler)
        sent = {a.node_id: [], b.node_id: []}

        async def echo(peer_id, request):
            await asyncio.sleep(0.01)                    # still being answered while sockets swap
            return request
        b.on_request("echo", echo)
        requests = []
        async with running(a, b):
            a.add_peer(address_of(b))
            b.add_peer(address_of(a))
            seq = 0
            # Talk all through the race: whatever send() accepted must arrive, whichever socket
            # took it, and every request asked must be answered.
            while not (a.peers() and b.peers() and settled(a) and settled(b)) or seq < 50:
                seq += 1
                for sender, receiver in ((a, b), (b, a)):
                    if sender.send(receiver.node_id, "x", {"seq": seq}):
                        sent[sender.node_id].append(seq)
                if b.node_id in a.peers():
                    requests.append(asyncio.ensure_future(a.request(b.node_id, "echo", {"seq": seq}, timeout=10)))
                await asyncio.sleep(0.001)
                assert seq < 20_000, "the duplicate never settled"
            assert a.stats()["duplicates_resolved"] >= 1 and b.stats()["duplicates_resolved"] >= 1
            answers = await asyncio.gather(*requests)
            assert len(answers) >= 10 and all(answer == {"seq": answer["seq"]} for answer in answers)
            await eventually(lambda: sorted(p["seq"] for p in inbox_b.payloads()) == sent[a.node_id]
                             and sorted(p["seq"] for p in inbox_a.payloads()) == sent[b.node_id], "every message")
            assert a.stats()["dropped"] == b.stats()["dropped"] == 0
    run(scenario)


def test_stop_is_prompt_even_when_a_peer_stopped_reading():
    async def scenario():
        a = make_node(0, heartbeat=None, send_queue=4)
        await a.start()
        raw = await RawPeer.connect(a.listen_port, node_key(1))       # handshakes, then never reads
        try:
            await eventually(lambda: a.peers() == [node_id(1)], "the raw peer to join")
            blob = "s" * (1 << 20)
            for _ in range(64):                                           # far more than socket buffers hold
                a.broadcast("x", {"blob": blob})
                await asyncio.sleep(0)
            await eventually(lambda: a.stats()["dropped"] > 0, "a's queue to the stuck peer to overflow")
            await asyncio.wait_for(a.stop(), 10)
            assert a.peers() == []
        finally:
            await raw.close()
            await a.stop()
    run(scenario)
