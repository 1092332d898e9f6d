"""P2P: the node's authenticated, encrypted peer transport over aiohttp websockets.

    p2p = P2P(node_key, chain_id, "0.0.0.0:26656", parse_peers(config.persistent_peers))
    p2p.on_message("consensus", handler)          # async (peer_id, channel, payload) -> None
    p2p.on_request("blocks", serve_blocks)        # async (peer_id, request) -> response dict
    await p2p.start()
    p2p.broadcast("consensus", {...})             # never blocks
    reply = await p2p.request(peer_id, "blocks", {"from": 5}, timeout=2.0)
    await p2p.stop()

Each node listens on ws://host:port/p2p and dials every configured peer for ever, backing off
exponentially between reconnect_min and reconnect_max. Every connection starts with the
handshake of chain/p2p/handshake.py, so a peer id here is always proven by a signature, and
every frame after it is sealed with the link's session keys (chain/p2p/secure.py). Two nodes
dialing each other at once end with the single connection prefer_new_connection picks.
A peer that keeps sending malformed frames is disconnected and banned for ban_seconds.

All methods must be called on the event loop the instance was started on.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import aiohttp
from aiohttp import web

from ..crypto.keys import PrivateKey
from . import frames
from .address import PeerAddress, format_hostport, node_id_of, parse_listen
from .connection import (Counters, Handler, PeerConnection, RequestHandler, Routes, Settings,
                         prefer_new_connection)
from .errors import CloseCode, HandshakeError, P2PError, PeerUnavailable
from .handshake import Hello, perform_handshake
from .secure import TAG_BYTES

__all__ = ["P2P", "PeerInfo", "PATH"]

log = logging.getLogger("chain.p2p")

PATH = "/p2p"
PeerCallback = Callable[[str], "Awaitable[None] | None"]


@dataclass(frozen=True)
class PeerInfo:
    """What we know about a connected peer (for /net_info-style reports)."""

    node_id: str
    outbound: bool
    listen: str | None              # the address the peer says it listens on
    remote_address: str | None      # the socket's far end
    local_address: str | None       # the socket's near end


class P2P:
    """Authenticated peer connections, gossip broadcast and request/response for one node."""

    def __init__(self, node_key: PrivateKey, chain_id: str, listen: str | None, peers: list[PeerAddress], *,
                 allow_inbound_from: set[str] | None = None, max_message_bytes: int = 4 << 20,
                 send_queue: int = 1000, reconnect_min: float = 0.05, reconnect_max: float = 2.0,
                 recv_queue: int = 1000, handshake_timeout: float = 5.0, heartbeat: float | None = 5.0,
                 close_timeout: float = 1.0, max_bad_frames: int = 100, ban_seconds: float = 60.0,
                 max_inbound: int = 64, max_concurrent_requests: int = 32):
        if not isinstance(node_key, PrivateKey):
            raise P2PError(f"node_key must be a chain.crypto.keys.PrivateKey, got {type(node_key).__name__}")
        if not isinstance(chain_id, str) or not chain_id:
            raise P2PError("chain_id must be a non-empty string")
        if not 0 < reconnect_min <= reconnect_max:
            raise P2PError(f"need 0 < reconnect_min <= reconnect_max, got {reconnect_min} and {reconnect_max}")
        for name, value in (("max_message_bytes", max_message_bytes), ("send_queue", send_queue),
                            ("recv_queue", recv_queue), ("max_bad_frames", max_bad_frames),
                            ("max_inbound", max_inbound), ("max_concurrent_requests", max_concurrent_requests)):
            if not isinstance(value, int) or value < 1:
                raise P2PError(f"{name} must be a positive integer, got {value!r}")
        self.key = node_key
        self.node_id = node_id_of(node_key.pubkey)
        self.chain_id = chain_id
        self._listen = parse_listen(listen) if listen is not None else None
        self._allow = None if allow_inbound_from is None else set(allow_inbound_from)
        self._settings = Settings(max_message_bytes, send_queue, recv_queue, max_bad_frames,
                                  max_concurrent_requests, close_timeout, handover_timeout=handshake_timeout)
        # The websocket's own cap on a received message: a full-size frame plus its tag passes
        # (aiohttp refuses a message of exactly max_msg_size bytes, hence the + 1).
        self._wire_limit = max_message_bytes + TAG_BYTES + 1
        self._reconnect = (reconnect_min, reconnect_max)
        self._handshake_timeout = handshake_timeout
        self._heartbeat = heartbeat
        self._ban_seconds = ban_seconds
        self._max_inbound = max_inbound
        self._log = f"p2p {self.node_id[:12]}"
        self._routes = Routes()
        self._peer_callbacks: list[tuple[PeerCallback | None, PeerCallback | None]] = []
        self._totals = Counters()
        self._handshake_failures = 0
        self._duplicates = 0
        self._addresses: dict[str, PeerAddress] = {}
        self._conns: dict[str, PeerConnection] = {}
        self._all_conns: set[PeerConnection] = set()
        self._handshaking: set[asyncio.BaseTransport] = set()
        self._connecting = 0                    # dials and handshakes under way
        self._inbound = 0
        self._banned: dict[str, float] = {}
        self._dialers: dict[str, asyncio.Task] = {}
        self._events: asyncio.Queue[tuple[PeerCallback, str]] | None = None
        self._events_task: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._state = "new"                     # new -> running -> stopped
        for address in peers:
            self._remember(address)

    # -- configuration ----------------------------------------------------------------------

    def on_message(self, channel: str, handler: Handler) -> None:
        """Call ``handler(peer_id, channel, payload)`` for each message on ``channel``, in arrival order."""
        self._register(self._routes.messages, channel, handler)

    def on_request(self, channel: str, handler: RequestHandler) -> None:
        """Answer requests on ``channel`` with ``handler(peer_id, request) -> dict``.

        Raise RequestError to answer with an error message; other exceptions are logged and
        answered with a generic error.
        """
        self._register(self._routes.requests, channel, handler)

    def on_peer(self, connected: PeerCallback | None, disconnected: PeerCallback | None = None) -> None:
        """Be told when a peer connects or disconnects; callbacks run in order on one task."""
        self._peer_callbacks.append((connected, disconnected))

    @staticmethod
    def _register(table: dict[str, Any], channel: str, handler: Any) -> None:
        frames.encode_message(channel, {})          # validates the channel name
        if not callable(handler):
            raise P2PError(f"handler for channel {channel!r} is not callable")
        if channel in table:
            raise P2PError(f"channel {channel!r} already has a handler")
        table[channel] = handler

    def add_peer(self, address: PeerAddress) -> None:
        """Dial one more peer (persistently), e.g. one learned at runtime; an update replaces its address."""
        if self._remember(address) and self._state == "running":
            self._start_dialer(address.node_id)

    def _remember(self, address: PeerAddress) -> bool:
        """Record a peer's address; True if the peer is new."""
        if not isinstance(address, PeerAddress):
            raise P2PError(f"peers must be PeerAddress values (see parse_peer), got {type(address).__name__}")
        if address.node_id == self.node_id:
            log.info("%s: skipping our own address %s in the peer list", self._log, address)
            return False
        new = address.node_id not in self._addresses
        self._addresses[address.node_id] = address
        return new

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen (if configured) and start dialing every configured peer."""
        if self._state != "new":
            raise P2PError(f"P2P can be started once (it is {self._state}); make a new instance")
        self._state = "running"
        self._session = aiohttp.ClientSession()
        self._events = asyncio.Queue()
        self._events_task = asyncio.get_running_loop().create_task(self._run_events(), name="p2p-peer-events")
        if self._listen is not None:
            try:
                await self._start_server(*self._listen)
            except BaseException:
                await self.stop()
                raise
        for peer_id in self._addresses:
            self._start_dialer(peer_id)
        log.info("%s: started (listening on %s, %d peers configured)", self._log,
                 self._advertised() or "nothing", len(self._addresses))

    async def _start_server(self, host: str, port: int) -> None:
        app = web.Application()
        app.router.add_get(PATH, self._accept)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None,
                                     shutdown_timeout=self._settings.close_timeout)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, host, port).start()
        except OSError as exc:
            raise P2PError(f"cannot listen on {format_hostport(host, port)}: {exc.strerror or exc}; "
                           "is another node using that port? choose another listen address") from None

    async def stop(self) -> None:
        """Close every connection and task promptly; safe to call twice."""
        if self._state != "running":
            self._state = "stopped"
            return
        self._state = "stopped"
        dialers = list(self._dialers.values())
        for task in dialers:
            task.cancel()
        for conn in list(self._all_conns):
            conn.close(CloseCode.GOING_AWAY, "node is shutting down")
        for transport in list(self._handshaking):
            transport.abort()
        await _cancel_and_wait(dialers)
        closing = [asyncio.ensure_future(conn.closed.wait()) for conn in list(self._all_conns)]
        if closing:
            await asyncio.wait(closing, timeout=4 * self._settings.close_timeout + 1)
            await _cancel_and_wait(closing)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()
        if self._events_task is not None:
            await _cancel_and_wait([self._events_task])
        log.info("%s: stopped", self._log)

    @property
    def listen_port(self) -> int:
        """The port actually bound (the listen address may ask for port 0)."""
        if self._runner is None or not self._runner.addresses:
            raise P2PError("this node is not listening: give a listen address and call start() first")
        return int(self._runner.addresses[0][1])

    def _advertised(self) -> str | None:
        if self._listen is None or self._runner is None:
            return None
        return format_hostport(self._listen[0], self.listen_port)

    # -- queries ----------------------------------------------------------------------------

    def peers(self) -> list[str]:
        """Node ids of the connected, authenticated peers, sorted."""
        return sorted(pid for pid, conn in self._conns.items() if not conn.closing)

    def peer_info(self, peer_id: str) -> PeerInfo | None:
        conn = self._conns.get(peer_id)
        if conn is None:
            return None

        def hostport(name: str) -> str | None:
            address = conn.ws.get_extra_info(name)
            return format_hostport(str(address[0]), int(address[1])) if address else None
        return PeerInfo(peer_id, conn.outbound, conn.remote.listen, hostport("peername"), hostport("sockname"))

    def stats(self) -> dict[str, Any]:
        """Counters for /metrics: totals since start plus each connected peer's own."""
        now = time.monotonic()
        return {"node_id": self.node_id, "peers": len(self.peers()), "connections": len(self._all_conns),
                "connecting": self._connecting, **self._totals.as_dict(),
                "handshake_failures": self._handshake_failures, "duplicates_resolved": self._duplicates,
                "banned": sum(1 for until in self._banned.values() if until > now),
                "per_peer": {pid: {**conn.stats.as_dict(), "queued": conn.queued, "outbound": conn.outbound}
                             for pid, conn in sorted(self._conns.items())}}

    # -- sending ----------------------------------------------------------------------------

    def broadcast(self, channel: str, payload: dict, exclude: str | None = None) -> None:
        """Queue a message to every connected peer (but ``exclude``); never blocks."""
        text = frames.encode_message(channel, payload)
        frames.check_size(text, channel, self._settings.max_message_bytes)
        for peer_id, conn in list(self._conns.items()):
            if peer_id != exclude:
                conn.enqueue(text)

    def send(self, peer_id: str, channel: str, payload: dict) -> bool:
        """Queue a message to one peer; False if it is not connected or its queue cannot take it."""
        text = frames.encode_message(channel, payload)
        frames.check_size(text, channel, self._settings.max_message_bytes)
        conn = self._conns.get(peer_id)
        return conn is not None and conn.enqueue(text)

    async def request(self, peer_id: str, channel: str, payload: dict, timeout: float) -> dict:
        """Ask one peer and await its answer.

        Raises PeerUnavailable (not connected, or it disconnected), RequestTimeout, or
        RequestError (its handler refused or failed) — all P2PError.
        """
        conn = self._conns.get(peer_id)
        if conn is None or conn.closing:
            frames.encode_request(channel, payload, 0)      # bad arguments first, as when connected
            raise PeerUnavailable(f"peer {peer_id} is not connected")
        return await conn.request(channel, payload, timeout)

    # -- connections ------------------------------------------------------------------------

    def _start_dialer(self, peer_id: str) -> None:
        if peer_id not in self._dialers:
            self._dialers[peer_id] = asyncio.get_running_loop().create_task(
                self._dial_forever(peer_id), name=f"p2p-dial-{peer_id[:8]}")

    async def _dial_forever(self, peer_id: str) -> None:
        rng = random.Random(f"{self.node_id}>{peer_id}")       # jitter, reproducible per link
        low, high = self._reconnect
        delay = low
        failures = 0
        while self._state == "running":
            wait = self._ban_remaining(peer_id)
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            conn = self._conns.get(peer_id)
            if conn is not None:
                await conn.closed.wait()
                delay = low
                await asyncio.sleep(low * rng.uniform(0.5, 1.0))
                continue
            address = self._addresses[peer_id]
            try:
                reached = await self._dial(address, quiet=failures > 0)
            except Exception:  # noqa: BLE001 - our bug: log it, keep dialing this peer
                log.exception("%s: dialing %s failed unexpectedly", self._log, address)
                reached = False
            failures = 0 if reached else failures + 1
            delay = low if reached else delay
            await asyncio.sleep(delay * rng.uniform(0.5, 1.0))
            if not reached:
                delay = min(delay * 2, high)

    async def _dial(self, address: PeerAddress, *, quiet: bool) -> bool:
        """One attempt: connect, handshake, serve until closed. True if the peer authenticated."""
        assert self._session is not None
        self._connecting += 1
        try:
            async with asyncio.timeout(self._handshake_timeout):
                ws = await self._session.ws_connect(
                    address.url, max_msg_size=self._wire_limit, heartbeat=self._heartbeat,
                    autoping=True, compress=0, timeout=aiohttp.ClientWSTimeout(ws_close=self._settings.close_timeout))
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.log(logging.DEBUG if quiet else logging.INFO, "%s: cannot reach peer %s: %s", self._log,
                    address, str(exc) or type(exc).__name__)
            return False
        finally:
            self._connecting -= 1
        # aiohttp gives no public handle on a client websocket's transport; we need it to abort
        # a socket whose peer stopped reading (a clean close would wait for it for ever).
        response = getattr(ws, "_response", None)
        connection = getattr(response, "connection", None)
        transport = getattr(connection, "transport", None)
        return await self._serve(ws, transport, outbound=True, expected=address.node_id, where=str(address))

    async def _accept(self, request: web.Request) -> web.StreamResponse:
        """The /p2p endpoint: upgrade, handshake, serve (inbound)."""
        ws = web.WebSocketResponse(max_msg_size=self._wire_limit, heartbeat=self._heartbeat,
                                   compress=False, timeout=self._settings.close_timeout)
        await ws.prepare(request)
        if self._state != "running" or self._inbound >= self._max_inbound:
            why = "node is shutting down" if self._state != "running" else "too many inbound connections"
            await ws.close(code=CloseCode.TRY_AGAIN_LATER, message=why.encode())
            return ws
        self._inbound += 1
        try:
            await self._serve(ws, request.transport, outbound=False, expected=None,
                              where=f"inbound from {request.remote}")
        finally:
            self._inbound -= 1
        return ws

    async def _serve(self, ws: Any, transport: asyncio.BaseTransport | None, *, outbound: bool,
                     expected: str | None, where: str) -> bool:
        if transport is not None:
            self._handshaking.add(transport)
        self._connecting += 1
        try:
            remote, channel = await perform_handshake(
                ws, self.key, self.chain_id, self._advertised(), expected_node_id=expected,
                admit=self._admit(outbound), timeout=self._handshake_timeout,
                max_message_bytes=self._settings.max_message_bytes)
        except HandshakeError as exc:
            self._handshake_failures += 1
            log.warning("%s: handshake with %s failed: %s", self._log, where, exc)
            if not exc.remote:
                await self._close_quietly(ws, transport, exc.code, str(exc))
            else:
                await self._close_quietly(ws, transport, CloseCode.HANDSHAKE_FAILED, "")
            return False
        finally:
            self._connecting -= 1
            if transport is not None:
                self._handshaking.discard(transport)
        if self._state != "running":
            await self._close_quietly(ws, transport, CloseCode.GOING_AWAY, "node is shutting down")
            return True
        conn = PeerConnection(ws, transport, remote, channel, outbound=outbound, routes=self._routes,
                              settings=self._settings, totals=self._totals, log_prefix=self._log)
        self._adopt(conn)
        if not conn.retiring:
            log.info("%s: connected to %s (%s)", self._log, remote.node_id, where)
        self._all_conns.add(conn)
        try:
            await conn.run()
        finally:
            self._all_conns.discard(conn)
            self._release(conn)
        return True

    def _admit(self, outbound: bool) -> Callable[[Hello], tuple[CloseCode, str] | None]:
        def admit(remote: Hello) -> tuple[CloseCode, str] | None:
            remaining = self._ban_remaining(remote.node_id)
            if remaining > 0:
                return CloseCode.BANNED, f"node {remote.node_id} is banned for {remaining:.0f} more s after misbehaving"
            if (not outbound and self._allow is not None and remote.node_id not in self._allow
                    and remote.node_id not in self._addresses):
                return CloseCode.NOT_ALLOWED, (f"node {remote.node_id} is not allowed to connect: add it to "
                                               "allow_inbound_from or persistent_peers")
            return None
        return admit

    def _adopt(self, conn: PeerConnection) -> None:
        """Make ``conn`` the connection to its peer, or retire it if it loses to the existing one."""
        existing = self._conns.get(conn.peer_id)
        if existing is not None and not existing.closing:
            self._duplicates += 1
            if not prefer_new_connection(self.node_id, conn.peer_id, conn.outbound, existing.outbound):
                log.info("%s: duplicate connection to %s: retiring the new one", self._log, conn.peer_id)
                conn.retire(existing, hand_over=False)
                return
            log.info("%s: duplicate connection to %s: retiring the existing one", self._log, conn.peer_id)
            existing.retire(conn, hand_over=True)
        self._conns[conn.peer_id] = conn
        if existing is None:
            self._notify(0, conn.peer_id)

    def _release(self, conn: PeerConnection) -> None:
        if conn.misbehaved:
            self._banned[conn.peer_id] = time.monotonic() + self._ban_seconds
        if self._conns.get(conn.peer_id) is conn:
            del self._conns[conn.peer_id]
            log.info("%s: disconnected from %s (%s)", self._log, conn.peer_id, conn.close_reason or "closed")
            self._notify(1, conn.peer_id)

    def _ban_remaining(self, peer_id: str) -> float:
        until = self._banned.get(peer_id)
        if until is None:
            return 0.0
        remaining = until - time.monotonic()
        if remaining <= 0:
            del self._banned[peer_id]
        return remaining

    @staticmethod
    async def _close_quietly(ws: Any, transport: asyncio.BaseTransport | None, code: int, reason: str) -> None:
        try:
            async with asyncio.timeout(1.0):
                await ws.close(code=code, message=reason.encode()[:120])
        except (TimeoutError, Exception):  # noqa: BLE001 - it is going away either way
            pass
        finally:
            if transport is not None:
                transport.abort()

    # -- peer events ------------------------------------------------------------------------

    def _notify(self, which: int, peer_id: str) -> None:
        if self._state != "running" or self._events is None:
            return
        for pair in self._peer_callbacks:
            if pair[which] is not None:
                self._events.put_nowait((pair[which], peer_id))     # type: ignore[arg-type]

    async def _run_events(self) -> None:
        assert self._events is not None
        while True:
            callback, peer_id = await self._events.get()
            try:
                result = callback(peer_id)
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a consumer's bug must not stop peer events
                log.exception("%s: peer callback %r failed for %s", self._log, callback, peer_id)


async def _cancel_and_wait(tasks: list[asyncio.Future]) -> None:
    """Cancel tasks and wait until they are done, cancelling again if one swallowed it."""
    pending = [task for task in tasks if not task.done()]
    while pending:
        for task in pending:
            task.cancel()
        _, still = await asyncio.wait(pending, timeout=0.5)
        pending = list(still)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            log.error("task %s ended with %r", getattr(task, "get_name", lambda: "?")(), task.exception())
