"""One authenticated connection to a peer: ordered send queue, reader, handler dispatch, requests.

Three tasks serve a connection. The writer sends the outbox in order, so frames to a peer leave
in send order; the outbox is bounded and, when full, drops its OLDEST gossip frame (requests and
responses are never dropped) so a slow peer costs memory, never the caller's time. The reader
parses frames, settles request futures at once, and queues everything else for the dispatcher,
which calls message handlers one at a time in arrival order and starts each request handler in
its own task (a handler may then await requests of its own without deadlocking the peer).
Malformed frames are counted; past ``max_bad_frames`` the peer is disconnected as misbehaving.

Every frame travels sealed by the link's SecureChannel (chain/p2p/secure.py) as a binary
websocket message: the writer seals in send order, the reader opens in arrival order. A frame
that does not open (altered, replayed, reordered, forged, oversized) or that arrives unsealed as
text ends the connection at once with TAMPERED: the link can no longer be trusted. It is counted
as a bad frame but does not ban the peer, since anyone on the path could have injected it.

When two connections to the same peer meet (both sides dialed), the loser is *retired*, not cut:
its unsent frames, open requests and request ids move to the winner, it sends a final ``bye``
frame and keeps reading (and delivering) until the peer's ``bye`` arrives, so nothing sent on it
is lost; the winner delivers nothing until the loser has drained, so order holds too. (One
corner stays unordered: when the loser is the newer connection, frames the peer sent on it
before switching may be delivered after some it sent on the winner.)
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import WSCloseCode, WSMsgType
from aiohttp.http_websocket import WebSocketError

from . import frames
from .errors import CloseCode, P2PError, PeerUnavailable, RequestError, RequestTimeout
from .frames import Frame, FrameError, Kind
from .handshake import Hello
from .secure import SecureChannel, SecureChannelError

__all__ = ["Handler", "RequestHandler", "Routes", "Settings", "Counters", "PeerConnection", "prefer_new_connection"]

Handler = Callable[[str, str, dict], Awaitable[None]]          # (peer_id, channel, payload)
RequestHandler = Callable[[str, dict], Awaitable[dict]]       # (peer_id, request) -> response

log = logging.getLogger("chain.p2p")

MAX_CLOSE_REASON_BYTES = 120      # a close frame carries at most 123 bytes of reason


@dataclass
class Routes:
    """The handlers registered on a P2P instance, shared by all its connections."""

    messages: dict[str, Handler] = field(default_factory=dict)
    requests: dict[str, RequestHandler] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    max_message_bytes: int
    send_queue: int
    recv_queue: int
    max_bad_frames: int
    max_concurrent_requests: int
    close_timeout: float
    handover_timeout: float          # how long a retired duplicate waits for the peer's bye


@dataclass
class Counters:
    frames_in: int = 0
    frames_out: int = 0
    dropped: int = 0
    bad_frames: int = 0
    unhandled: int = 0
    handler_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def prefer_new_connection(own_id: str, peer_id: str, new_outbound: bool, old_outbound: bool) -> bool:
    """Which of two live connections between the same pair to keep: True keeps the new one.

    Both ends must pick the same socket without talking, so the rule depends only on who dialed:
    keep the one dialed by the smaller node id. If the same side dialed both, it redialed because
    it saw the old one die, so the old one is stale: keep the new one.
    """
    new_dialer = own_id if new_outbound else peer_id
    old_dialer = own_id if old_outbound else peer_id
    if new_dialer == old_dialer:
        return True
    return new_dialer == min(own_id, peer_id)


class PeerConnection:
    """A live, authenticated websocket to one peer. Create, then ``await run()`` until it closes."""

    def __init__(self, ws: Any, transport: asyncio.BaseTransport | None, remote: Hello, channel: SecureChannel, *,
                 outbound: bool, routes: Routes, settings: Settings, totals: Counters, log_prefix: str):
        self.ws = ws
        self._channel = channel
        self.transport = transport
        self.remote = remote
        self.peer_id = remote.node_id
        self.outbound = outbound
        self.stats = Counters()
        self.misbehaved = False
        self.closed = asyncio.Event()            # set when fully torn down
        self.close_reason = ""
        self._routes, self._settings, self._totals = routes, settings, totals
        self._prefix = f"{log_prefix} peer {self.peer_id[:12]}"
        self._outbox: deque[tuple[str, bool]] = deque()          # (frame text, droppable)
        self._outbox_ready = asyncio.Event()
        self._inbox: asyncio.Queue[Frame] = asyncio.Queue(settings.recv_queue)
        self._pending: dict[int, asyncio.Future[dict]] = {}
        self._next_request_id = 1
        self._closing = asyncio.Event()
        self._close_code: int = CloseCode.NORMAL
        self._closed_locally = False
        self._tasks: list[asyncio.Task] = []
        self._request_tasks: set[asyncio.Task] = set()
        # Duplicate handover (see the module docstring).
        self.successor: PeerConnection | None = None
        self.drained = asyncio.Event()           # everything received here has been dispatched
        self._predecessor: PeerConnection | None = None
        self._bye_sent = self._bye_received = False
        self._retire_timer: asyncio.TimerHandle | None = None

    # -- state ------------------------------------------------------------------------------

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    @property
    def queued(self) -> int:
        return len(self._outbox)

    @property
    def retiring(self) -> bool:
        return self.successor is not None

    def _count(self, name: str, n: int = 1) -> None:
        setattr(self.stats, name, getattr(self.stats, name) + n)
        setattr(self._totals, name, getattr(self._totals, name) + n)

    # -- sending ----------------------------------------------------------------------------

    def enqueue(self, text: str, *, droppable: bool = True) -> bool:
        """Queue one encoded frame; False if closing or no room (a dropped gossip frame is counted)."""
        if self.successor is not None:           # retired: late answers of our handlers go the new way
            return self.successor.enqueue(text, droppable=droppable)
        if self.closing:
            return False
        if len(self._outbox) >= self._settings.send_queue and not self._drop_oldest_gossip():
            if droppable:
                self._count("dropped")
            return False
        self._outbox.append((text, droppable))
        self._outbox_ready.set()
        return True

    def _drop_oldest_gossip(self) -> bool:
        for index, (_, droppable) in enumerate(self._outbox):
            if droppable:
                del self._outbox[index]
                self._count("dropped")
                return True
        return False

    def check_size(self, text: str, channel: str) -> None:
        frames.check_size(text, channel, self._settings.max_message_bytes)

    async def request(self, channel: str, payload: dict, timeout: float) -> dict:
        request_id = self._next_request_id
        self._next_request_id += 1
        text = frames.encode_request(channel, payload, request_id)
        self.check_size(text, channel)
        future: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            if not self.enqueue(text, droppable=False):
                raise PeerUnavailable(f"cannot send request {channel!r} to peer {self.peer_id}: "
                                      + ("it is disconnecting" if self.closing else "its send queue is full"))
            try:
                async with asyncio.timeout(timeout):    # not wait_for: it can swallow a cancel on 3.11
                    return await future
            except TimeoutError:
                raise RequestTimeout(f"peer {self.peer_id} did not answer request {channel!r} within "
                                     f"{timeout:g} s") from None
        finally:
            self._pending.pop(request_id, None)

    # -- lifecycle --------------------------------------------------------------------------

    def close(self, code: int, reason: str) -> None:
        """Ask the connection to close (from any task); ``run()`` returns once it has."""
        if not self.closing:
            self._close_code, self.close_reason, self._closed_locally = code, reason, True
            self._closing.set()

    def _finish(self, reason: str) -> None:
        """The peer or the socket ended the connection (or a retirement completed)."""
        if not self.closing:
            self.close_reason = reason
            self._closing.set()

    def retire(self, successor: PeerConnection, *, hand_over: bool) -> None:
        """Stop sending here in favour of ``successor`` and close once the peer agrees.

        ``hand_over`` moves our unsent frames and open requests to the successor (we were the
        connection in use); without it the successor keeps its own (we were the newcomer).
        """
        if hand_over:
            successor._outbox, self._outbox = self._outbox, deque()
            successor._pending = self._pending
            successor._next_request_id = self._next_request_id
            successor._request_tasks = self._request_tasks
            successor._predecessor = self
            if successor._outbox:
                successor._outbox_ready.set()
        else:
            # Requests the peer sent here before it switched are still answered (via the successor).
            successor._request_tasks |= self._request_tasks
            self._request_tasks = successor._request_tasks
        self.successor = successor
        self._close_code, self.close_reason = CloseCode.DUPLICATE, "duplicate connection retired"
        self._outbox.append((frames.BYE, False))
        self._outbox_ready.set()
        self._retire_timer = asyncio.get_running_loop().call_later(
            self._settings.handover_timeout, self._finish, "duplicate connection retired (no bye from the peer)")

    def _on_bye(self) -> None:
        self._bye_received = True
        if self._bye_sent:
            self._finish("duplicate connection retired")

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        name = f"p2p-{self.peer_id[:8]}"
        self._tasks = [loop.create_task(self._read_loop(), name=f"{name}-read"),
                       loop.create_task(self._write_loop(), name=f"{name}-write"),
                       loop.create_task(self._dispatch_loop(), name=f"{name}-dispatch")]
        try:
            await self._closing.wait()
        finally:
            await self._teardown()

    async def _teardown(self) -> None:
        if self._retire_timer is not None:
            self._retire_timer.cancel()
        reader, writer, dispatcher = self._tasks
        reader.cancel()
        writer.cancel()
        if not self._closed_locally and not dispatcher.done():
            # The peer hung up or we retired: still hand on what it sent before, but not for long.
            try:
                async with asyncio.timeout(self._settings.close_timeout):
                    await self._inbox.join()
            except TimeoutError:
                pass
        dispatcher.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.drained.set()
        if self.successor is None:               # else the successor owns requests both ways now
            for task in self._request_tasks:
                task.cancel()
            await asyncio.gather(*self._request_tasks, return_exceptions=True)
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(PeerUnavailable(f"peer {self.peer_id} disconnected before answering "
                                                         f"({self.close_reason or 'connection closed'})"))
            self._pending.clear()
        self._outbox.clear()
        try:
            reason = self.close_reason.encode()[:MAX_CLOSE_REASON_BYTES]
            async with asyncio.timeout(self._settings.close_timeout):
                await self.ws.close(code=self._close_code, message=reason)
        except (TimeoutError, Exception):  # noqa: BLE001 - a dead socket: abort below
            pass
        finally:
            if self.transport is not None:
                self.transport.abort()      # no-op if already closed; frees a peer that stopped reading
            self.drained.set()
            self.closed.set()

    # -- the three tasks --------------------------------------------------------------------

    async def _write_loop(self) -> None:
        try:
            while True:
                if not self._outbox:
                    self._outbox_ready.clear()
                    await self._outbox_ready.wait()
                    continue
                text, _ = self._outbox.popleft()
                await self.ws.send_bytes(self._channel.seal(text))
                if text is frames.BYE:
                    self._bye_sent = True
                    if self._bye_received:
                        self._finish("duplicate connection retired")
                    return
                self._count("frames_out")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any send failure ends this connection
            log.info("%s: send failed (%s: %s), disconnecting", self._prefix, type(exc).__name__, exc)
            self._finish(f"send failed: {type(exc).__name__}")

    async def _read_loop(self) -> None:
        try:
            while not self.closing:
                msg = await self.ws.receive()
                if msg.type is WSMsgType.BINARY:
                    self._count("frames_in")
                    await self._on_sealed(msg.data)
                elif msg.type is WSMsgType.TEXT:
                    self._count("frames_in")
                    self._tampered("unsealed text frame after the handshake")
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                    reason = msg.extra if isinstance(msg.extra, str) and msg.extra else "connection closed"
                    log.debug("%s: disconnected by the peer: %s", self._prefix, reason)
                    self._finish(f"closed by peer: {reason}")
                elif msg.type is WSMsgType.ERROR:
                    self._on_receive_error(msg.data)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken socket or our bug: drop this peer, keep the node
            log.warning("%s: receive failed (%s: %s), disconnecting", self._prefix, type(exc).__name__, exc)
            self._finish(f"receive failed: {type(exc).__name__}")

    def _on_receive_error(self, exc: object) -> None:
        if isinstance(exc, WebSocketError) and exc.code == WSCloseCode.MESSAGE_TOO_BIG:
            log.warning("%s: sent a frame larger than max_message_bytes=%d; dropped the connection",
                        self._prefix, self._settings.max_message_bytes)
            self._count("bad_frames")
            self._finish("frame too large")
        else:
            log.info("%s: connection error (%s), disconnecting", self._prefix, exc)
            self._finish(f"connection error: {exc}")

    async def _on_sealed(self, data: bytes) -> None:
        try:
            frame = frames.decode(self._channel.open(data))
        except SecureChannelError as exc:
            self._tampered(str(exc))
            return
        except FrameError as exc:
            self._bad_frame(str(exc))
            return
        if frame.kind is Kind.BYE:
            self._on_bye()
        elif frame.kind is Kind.RESPONSE or frame.kind is Kind.ERROR:
            self._settle(frame)
        else:
            await self._inbox.put(frame)     # a full inbox stops reading: TCP pushes back on the peer

    def _settle(self, frame: Frame) -> None:
        future = self._pending.get(frame.request_id)        # type: ignore[arg-type]
        if future is None or future.done():
            log.debug("%s: answer to unknown or expired request %s ignored", self._prefix, frame.request_id)
            return
        if frame.kind is Kind.ERROR:
            future.set_exception(RequestError(f"peer {self.peer_id} refused request {frame.channel!r}: "
                                              f"{frame.error}"))
        else:
            future.set_result(frame.payload)                # type: ignore[arg-type]

    def _tampered(self, why: str) -> None:
        """The link is compromised (or the peer broken): count it and close without waiting for more."""
        self._count("bad_frames")
        log.warning("%s: %s; closing the connection", self._prefix, why)
        self.close(CloseCode.TAMPERED, why)

    def _bad_frame(self, why: str) -> None:
        self._count("bad_frames")
        level = logging.WARNING if self.stats.bad_frames == 1 else logging.DEBUG
        log.log(level, "%s: malformed frame dropped (%s); %d so far", self._prefix, why, self.stats.bad_frames)
        if self.stats.bad_frames >= self._settings.max_bad_frames:
            log.warning("%s: %d malformed frames, disconnecting and banning it", self._prefix,
                        self.stats.bad_frames)
            self.misbehaved = True
            self.close(CloseCode.MISBEHAVING, f"too many malformed frames ({self.stats.bad_frames})")

    async def _dispatch_loop(self) -> None:
        if self._predecessor is not None:        # what the peer sent on the retired connection comes first
            await self._predecessor.drained.wait()
            self._predecessor = None
        while True:
            frame = await self._inbox.get()
            try:
                if frame.kind is Kind.MESSAGE:
                    await self._deliver(frame)
                else:
                    self._start_request(frame)
            finally:
                self._inbox.task_done()

    async def _deliver(self, frame: Frame) -> None:
        handler = self._routes.messages.get(frame.channel)
        if handler is None:
            self._count("unhandled")
            log.debug("%s: no handler for channel %r, message ignored", self._prefix, frame.channel)
            return
        try:
            result = handler(self.peer_id, frame.channel, frame.payload)   # type: ignore[arg-type]
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a handler bug must not kill the connection
            self._count("handler_errors")
            log.exception("%s: handler for channel %r failed", self._prefix, frame.channel)

    def _start_request(self, frame: Frame) -> None:
        if len(self._request_tasks) >= self._settings.max_concurrent_requests:
            self.enqueue(frames.encode_error(frame.channel, frame.request_id,    # type: ignore[arg-type]
                                             "busy: too many concurrent requests, retry later"), droppable=False)
            return
        task = asyncio.get_running_loop().create_task(self._serve_request(frame))
        self._request_tasks.add(task)
        task.add_done_callback(lambda done: self._request_tasks.discard(done))   # the set may be shared later

    async def _serve_request(self, frame: Frame) -> None:
        self.enqueue(await self._answer(frame), droppable=False)

    async def _answer(self, frame: Frame) -> str:
        """The response or error frame for one request."""
        channel, request_id = frame.channel, frame.request_id
        assert request_id is not None
        handler = self._routes.requests.get(channel)
        if handler is None:
            self._count("unhandled")
            return frames.encode_error(channel, request_id, f"no handler for request channel {channel!r}")
        try:
            result = handler(self.peer_id, frame.payload)               # type: ignore[arg-type]
            if inspect.isawaitable(result):
                result = await result
        except asyncio.CancelledError:
            raise
        except RequestError as exc:
            return frames.encode_error(channel, request_id, str(exc))
        except Exception as exc:  # noqa: BLE001 - answer, log, keep serving
            self._count("handler_errors")
            log.exception("%s: request handler for channel %r failed", self._prefix, channel)
            return frames.encode_error(channel, request_id,
                                       f"internal error in the handler for {channel!r} ({type(exc).__name__})")
        problem = None
        if not isinstance(result, dict):
            problem = f"the handler for {channel!r} returned {type(result).__name__}, not a dict"
        else:
            try:
                text = frames.encode_response(channel, request_id, result)
                self.check_size(text, channel)
                return text
            except P2PError as exc:
                problem = f"the handler for {channel!r} gave an answer that cannot be sent: {exc}"
        self._count("handler_errors")
        log.error("%s: %s", self._prefix, problem)
        return frames.encode_error(channel, request_id, problem)
