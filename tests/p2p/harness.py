"""Running real P2P nodes in tests: seeded keys, bounded waits, meshes, and a hand-driven raw peer.

The raw peer speaks the wire itself: the handshake's JSON text frames, then frames sealed with
the link's SecureChannel (or deliberately not), so hostile input reaches the node's parser.

Every wait is bounded; ``run`` fails a scenario that leaves tasks behind after its nodes stop.
"""
from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable

import aiohttp

from chain.crypto import sha256
from chain.crypto.keys import PrivateKey
from chain.p2p import P2P, PeerAddress, node_id_of
from chain.codec import b64encode
from chain.p2p.handshake import make_hello, perform_handshake
from chain.p2p.secure import SecureChannel, new_ephemeral

CHAIN = "conclave-p2p-test"
WAIT = 10.0                      # generous bound for anything that should happen "soon"
LOCALHOST = "127.0.0.1"


def node_key(index: int) -> PrivateKey:
    """The test key of node ``index``: the same on every run."""
    return PrivateKey.from_seed(sha256(b"p2p-test-node-%d" % index))


def node_id(index: int) -> str:
    return node_id_of(node_key(index).pubkey)


def run(scenario: Callable[[], Awaitable[None]], timeout: float = 30.0) -> None:
    """Run an async scenario to completion on a fresh loop; no task may outlive it."""
    async def main() -> None:
        task = asyncio.ensure_future(scenario())
        done, _ = await asyncio.wait([task], timeout=timeout)
        if not done:
            stacks = "\n".join(f"{t.get_name()}: {t.get_stack(limit=3)}" for t in asyncio.all_tasks()
                                if t is not asyncio.current_task())
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise AssertionError(f"scenario did not finish within {timeout} s; tasks:\n{stacks}")
        task.result()
        await asyncio.sleep(0)
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not leftover, f"tasks still pending after the scenario: {leftover}"
    asyncio.run(main())


async def eventually(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.005)
    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


def make_node(index: int, *, listen: str | None = f"{LOCALHOST}:0", peers: list[PeerAddress] | None = None,
              chain_id: str = CHAIN, key: PrivateKey | None = None, **options: Any) -> P2P:
    options.setdefault("reconnect_max", 0.5)
    options.setdefault("handshake_timeout", 2.0)
    return P2P(key or node_key(index), chain_id, listen, peers or [], **options)


def address_of(node: P2P, as_id: str | None = None, port: int | None = None) -> PeerAddress:
    """Where to dial ``node`` (optionally claiming another node id, or through another port)."""
    return PeerAddress(as_id or node.node_id, LOCALHOST, port or node.listen_port)


class Inbox:
    """Records what a node's message handlers receive, in arrival order."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, dict]] = []

    async def handler(self, peer_id: str, channel: str, payload: dict) -> None:
        self.items.append((peer_id, channel, payload))

    def payloads(self, peer_id: str | None = None, channel: str | None = None) -> list[dict]:
        return [p for (peer, ch, p) in self.items
                if (peer_id is None or peer == peer_id) and (channel is None or ch == channel)]


def connect_all(nodes: list[P2P]) -> None:
    """Tell every node about every other (each pair then ends with exactly one connection)."""
    for node in nodes:
        for other in nodes:
            if other is not node:
                node.add_peer(address_of(other))


def settled(node: P2P) -> bool:
    """No dial, handshake or duplicate handover under way: the connections in use are final."""
    stats = node.stats()
    return stats["connecting"] == 0 and stats["connections"] == stats["peers"]


async def fully_connected(nodes: list[P2P]) -> None:
    """Every node connected to every other, and nothing more going on (so tests are deterministic)."""
    want = {node.node_id for node in nodes}
    await eventually(lambda: all(set(n.peers()) == want - {n.node_id} and settled(n) for n in nodes),
                     "a settled full mesh")


@asynccontextmanager
async def running(*nodes: P2P) -> AsyncIterator[None]:
    """Start the nodes; stop them all however the block ends."""
    try:
        for node in nodes:
            await node.start()
        yield
    finally:
        await asyncio.gather(*(node.stop() for node in nodes))


def hello(key: PrivateKey, *, chain_id: str = CHAIN, claim_id: str | None = None,
          claim_pubkey: bytes | None = None, ephemeral: bytes | None = None, legacy: bool = False) -> dict:
    """A hand-made handshake hello from ``key``'s holder, possibly claiming another identity.

    ``ephemeral`` replaces the fresh X25519 public key; ``legacy`` makes it the unencrypted
    protocol's v1 hello (no version, no ephemeral key).
    """
    message = make_hello(key, chain_id, None, ephemeral if ephemeral is not None else new_ephemeral()[1]).to_json()
    if claim_id is not None:
        message["node_id"] = claim_id
    if claim_pubkey is not None:
        message["pubkey"] = b64encode(claim_pubkey)
    if legacy:
        del message["version"], message["ephemeral"]
    return message


class RawPeer:
    """A websocket client we drive by hand: a misbehaving or impostor node.

    ``connect`` performs the real handshake with ``key`` unless ``handshake=False``, after
    which the test speaks the handshake (or anything else) itself. After a real handshake
    ``channel`` seals what ``send_frame`` sends, in order, as the node expects.
    """

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self.session, self.ws = session, ws
        self.channel: SecureChannel | None = None

    @classmethod
    async def connect(cls, port: int, key: PrivateKey, *, chain_id: str = CHAIN, handshake: bool = True) -> RawPeer:
        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(f"ws://{LOCALHOST}:{port}/p2p", max_msg_size=64 << 20)
            peer = cls(session, ws)
            if handshake:
                _, peer.channel = await asyncio.wait_for(perform_handshake(
                    ws, key, chain_id, None, expected_node_id=None, admit=lambda hello: None, timeout=WAIT,
                    max_message_bytes=64 << 20), WAIT)
        except BaseException:
            await session.close()
            raise
        return peer

    async def send_json(self, obj: Any) -> None:
        """A handshake message: JSON in a text frame, in the clear."""
        await self.ws.send_str(json.dumps(obj))

    async def receive_json(self) -> Any:
        """The node's next handshake message."""
        msg = await asyncio.wait_for(self.ws.receive(), WAIT)
        assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg.type.name}: {msg.extra}"
        return json.loads(msg.data)

    def seal(self, frame: Any) -> bytes:
        """The next sealed frame for ``frame`` (JSON-encoded unless already text), without sending it."""
        assert self.channel is not None, "connect with handshake=True to get the link's keys"
        return self.channel.seal(frame if isinstance(frame, str) else json.dumps(frame))

    async def send_frame(self, frame: Any) -> bytes:
        """Seal and send one frame, as a real peer would; returns the bytes sent (to replay them)."""
        data = self.seal(frame)
        await self.ws.send_bytes(data)
        return data

    async def receive_frame(self) -> Any:
        """Open the node's next sealed frame and parse its JSON."""
        assert self.channel is not None, "connect with handshake=True to get the link's keys"
        msg = await asyncio.wait_for(self.ws.receive(), WAIT)
        assert msg.type is aiohttp.WSMsgType.BINARY, f"expected a sealed frame, got {msg.type.name}: {msg.extra}"
        return json.loads(self.channel.open(msg.data))

    async def closed_with(self) -> tuple[int | None, str]:
        """Read until the node closes the connection; return its close code and reason."""
        async def until_closed() -> tuple[int | None, str]:
            while True:
                msg = await self.ws.receive()
                if msg.type is aiohttp.WSMsgType.CLOSE:
                    return msg.data, msg.extra or ""
                if msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    return self.ws.close_code, ""
        return await asyncio.wait_for(until_closed(), WAIT)

    async def close(self) -> None:
        await self.ws.close()
        await self.session.close()
