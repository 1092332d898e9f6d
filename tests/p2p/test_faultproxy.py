"""The fault-injecting proxy itself, and P2P behind it: a partition stops delivery, healing restores it."""
from __future__ import annotations

import asyncio
import socket

import pytest

from chain.p2p import Gossip, PeerAddress
from faultproxy import FaultProxy, Mesh
from p2p.harness import LOCALHOST, WAIT, Inbox, eventually, fully_connected, make_node, run, running


class EchoServer:
    """A TCP echo server on the test's loop that counts the connections it accepts."""

    def __init__(self) -> None:
        self.accepted = 0
        self.server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> EchoServer:
        self.server = await asyncio.start_server(self._echo, LOCALHOST, 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def _echo(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the peer sends until it closes (or resets) the connection."""
    data = b""
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), WAIT):
            data += chunk
    except ConnectionError:
        pass
    return data


async def roundtrip(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(LOCALHOST, port)
    try:
        writer.write(payload)
        return await asyncio.wait_for(reader.readexactly(len(payload)), WAIT)
    finally:
        writer.close()


def test_proxy_forwards_cuts_blackholes_heals_and_delays():
    async def scenario():
        async with EchoServer() as echo:
            proxy = FaultProxy(LOCALHOST, echo.port).start()
            try:
                assert await roundtrip(proxy.port, b"hello") == b"hello"

                reader, writer = await asyncio.open_connection(LOCALHOST, proxy.port)
                writer.write(b"ping")
                assert await asyncio.wait_for(reader.readexactly(4), WAIT) == b"ping"
                proxy.cut()                                              # drops the live connection
                assert await read_until_closed(reader) == b""
                writer.close()

                reader, writer = await asyncio.open_connection(LOCALHOST, proxy.port)   # accepted...
                writer.write(b"into the void")
                await eventually(lambda: proxy.swallowed == 1, "the proxy to swallow it")
                accepted = echo.accepted
                proxy.heal()                                             # ...closed unanswered on heal
                assert await read_until_closed(reader) == b""
                writer.close()
                assert echo.accepted == accepted                         # never reached the target

                proxy.cut(mode="reset")
                reader, writer = await asyncio.open_connection(LOCALHOST, proxy.port)
                assert await read_until_closed(reader) == b""            # closed at once
                writer.close()
                proxy.heal()

                proxy.delay(0.01)
                reader, writer = await asyncio.open_connection(LOCALHOST, proxy.port)
                chunks = [b"%04d;" % i for i in range(100)]
                for chunk in chunks:
                    writer.write(chunk)
                assert await asyncio.wait_for(reader.readexactly(500), WAIT) == b"".join(chunks)
                writer.close()
                assert proxy.forwarded == 3 and proxy.accepted == 5
                with pytest.raises(ValueError, match="cut mode"):
                    proxy.cut(mode="sometimes")
                with pytest.raises(ValueError):
                    proxy.delay(-1)
            finally:
                proxy.stop()
            with pytest.raises(ConnectionError):
                await roundtrip(proxy.port, b"gone")
    run(scenario)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return sock.getsockname()[1]


def test_mesh_links_follow_partitions():
    with Mesh(3, [_closed_port() for _ in range(3)]) as mesh:
        assert len({mesh.peer_port(i, j) for i in range(3) for j in range(3) if i != j}) == 6
        cut = lambda: {(i, j) for i in range(3) for j in range(3) if i != j and mesh.proxy(i, j).is_cut}  # noqa: E731
        mesh.partition([{0, 1}, {2}])
        assert cut() == {(0, 2), (2, 0), (1, 2), (2, 1)}
        mesh.partition([{0, 1, 2}])
        assert cut() == set()
        mesh.isolate(1)
        assert cut() == {(0, 1), (1, 0), (1, 2), (2, 1)}
        mesh.partition([{0, 2}])                                  # unlisted node 1 stays isolated
        assert cut() == {(0, 1), (1, 0), (1, 2), (2, 1)}
        mesh.heal_all()
        assert cut() == set()
        with pytest.raises(ValueError, match="two partition groups"):
            mesh.partition([{0, 1}, {1, 2}])
        with pytest.raises(ValueError, match="not in 0..2"):
            mesh.isolate(3)
        with pytest.raises(ValueError, match="to itself"):
            mesh.peer_port(1, 1)
    with pytest.raises(ValueError, match="one port per node"):
        Mesh(3, [1, 2])


def test_partition_stops_delivery_and_heal_restores_it():
    async def scenario():
        nodes = [make_node(i, handshake_timeout=0.5, reconnect_max=0.3) for i in range(4)]
        inboxes = [Inbox() for _ in nodes]
        gossips = [Gossip(node, "tx", lambda peer, payload, inbox=inbox: inbox.items.append((peer, "tx", payload)))
                   for node, inbox in zip(nodes, inboxes)]
        async with running(*nodes):
            mesh = Mesh(4, [node.listen_port for node in nodes]).start()
            try:
                for i, node in enumerate(nodes):
                    for j, other in enumerate(nodes):
                        if i != j:
                            node.add_peer(PeerAddress(other.node_id, LOCALHOST, mesh.peer_port(i, j)))
                await fully_connected(nodes)

                mesh.partition([{0, 1}, {2, 3}])
                await eventually(lambda: [set(n.peers()) for n in nodes] == [
                    {nodes[1].node_id}, {nodes[0].node_id}, {nodes[3].node_id}, {nodes[2].node_id}], "the split")
                assert nodes[0].send(nodes[2].node_id, "tx", {"direct": True}) is False
                gossips[0].publish({"during": "partition"})               # relayed, but only so far
                gossips[3].publish({"other": "side"})
                await eventually(lambda: len(inboxes[1].items) == 1 and len(inboxes[2].items) == 1,
                                 "same-side delivery")
                assert inboxes[1].payloads() == [{"during": "partition"}]
                assert inboxes[2].payloads() == [{"other": "side"}]
                assert inboxes[3].items == [] and inboxes[0].items == []     # nothing crossed

                mesh.heal_all()
                await fully_connected(nodes)
                gossips[0].publish({"after": "heal"})
                await eventually(lambda: all(inbox.payloads()[-1:] == [{"after": "heal"}]
                                             for inbox in inboxes[1:]), "delivery after the heal")
                assert {"during": "partition"} not in inboxes[2].payloads() + inboxes[3].payloads()

                mesh.isolate(3)
                await eventually(lambda: all(nodes[3].node_id not in n.peers() for n in nodes[:3])
                                 and nodes[3].peers() == [], "node 3 alone")
                mesh.heal_all()
                await fully_connected(nodes)
            finally:
                mesh.stop()
    run(scenario, timeout=40)
