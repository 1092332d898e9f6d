"""GET /events: a websocket stream of committed blocks, txs and contract events, filtered and resumable.

A client opens the socket and sends one subscribe message (a JSON text frame):

    {"subscribe": {"kinds": ["block", "tx", "event"], "contract": ADDR|null, "event_type": STR|null,
                   "proposal_id": INT|null, "from_height": INT|null}}

The node answers {"subscribed": {...the filter..., "latest_height": H}}, then sends the stored heights
from ``from_height`` to H (a replay of at most MAX_REPLAY_HEIGHTS) and after them every height it
commits, each as messages {"height", "kind", ...} (chain/api/event_feed.py has their shapes and the
filter rules). Without ``from_height`` the stream starts after H. A message the node cannot accept
is answered with {"error": {"code", "message"}} and the socket stays open, ready for a correct one.

The node never waits for a client. Its commit hands each height to every live subscriber's queue
(a few list appends); a per-socket task writes from that queue. A subscriber whose queue holds
MAX_QUEUED_HEIGHTS heights (or MAX_QUEUED_BYTES) is too slow: it is closed with code 1008 and a
reason naming the height to resume from. The kernel's send buffer of an events socket is kept small
so that a stalled client shows up in its queue rather than in megabytes of socket memory.

Limits against hostile clients: frames up to MAX_CLIENT_MESSAGE_BYTES are read (larger ones are
answered with an error; beyond MAX_FRAME_BYTES aiohttp closes the socket with 1009), at most
MAX_SUBSCRIBERS_PER_IP sockets per client address (429) and MAX_SUBSCRIBERS in all (503).
"""
from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from .context import NODE_KEY
from .event_feed import HeightFeed, SubscribeError, Subscription, parse_subscribe

log = logging.getLogger("conclave.api.events")

MAX_CLIENT_MESSAGE_BYTES = 64 * 1024       # a subscribe message is tiny: larger ones get an error
MAX_FRAME_BYTES = 1024 * 1024              # past this aiohttp closes the socket (1009) without reading on
MAX_SUBSCRIBERS_PER_IP = 8
MAX_SUBSCRIBERS = 256
MAX_REPLAY_HEIGHTS = 1000
MAX_QUEUED_HEIGHTS = 32                    # a client this many heights behind is disconnected...
MAX_QUEUED_BYTES = 8 * 1024 * 1024         # ...or this many bytes behind (one height is always accepted)
SEND_BUFFER_BYTES = 32 * 1024              # SO_SNDBUF of an events socket (the kernel doubles it)
WRITER_LIMIT_BYTES = 16 * 1024             # aiohttp waits for the socket after this much written
HEARTBEAT_S = 30.0                         # pings find clients that vanished without a close
CLOSE_GRACE_S = 10.0                       # how long a closing client may take to answer the close
SHUTDOWN_GRACE_S = 1.0
CLOSE_SLOW = WSCloseCode.POLICY_VIOLATION  # 1008
CLOSE_SHUTDOWN = WSCloseCode.GOING_AWAY    # 1001


@dataclass(frozen=True)
class StreamLimits:
    per_ip: int = MAX_SUBSCRIBERS_PER_IP
    total: int = MAX_SUBSCRIBERS
    replay_heights: int = MAX_REPLAY_HEIGHTS
    queued_heights: int = MAX_QUEUED_HEIGHTS
    queued_bytes: int = MAX_QUEUED_BYTES
    client_message_bytes: int = MAX_CLIENT_MESSAGE_BYTES


class Refused(Exception):
    """The node will not open another events socket for this client now."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code


class Subscriber:
    """One events socket: its filter, its bounded queue of heights, and why it was closed, if it was."""

    def __init__(self, ip: str, limits: StreamLimits):
        self.ip, self.limits = ip, limits
        self.subscription: Subscription | None = None
        self.delivered = 0                      # the last height whose messages were all written
        self.kicked: tuple[int, str] | None = None
        self.ended = asyncio.Event()            # kicked, or the socket's reader or writer stopped
        self._queue: deque[HeightFeed] = deque()
        self._bytes = 0
        self._ready = asyncio.Event()

    def offer(self, feed: HeightFeed) -> bool:
        """Queue a committed height; False if the queue is full (the subscriber is too slow)."""
        if self._queue and (len(self._queue) >= self.limits.queued_heights
                            or self._bytes + feed.size > self.limits.queued_bytes):
            return False
        self._queue.append(feed)
        self._bytes += feed.size
        self._ready.set()
        return True

    async def next_feed(self) -> HeightFeed:
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
        feed = self._queue.popleft()
        self._bytes -= feed.size
        return feed

    def kick(self, code: int, reason: str) -> None:
        if self.kicked is None:
            self.kicked = (code, reason)
        self.ended.set()


class EventHub:
    """The node side of the stream: admits sockets, and fans each commit out to the live subscribers."""

    def __init__(self, node: Any, limits: StreamLimits = StreamLimits()):
        self.node, self.limits = node, limits
        self._open: set[Subscriber] = set()
        self._live: set[Subscriber] = set()
        self._per_ip: Counter[str] = Counter()
        self.slow_disconnects = 0
        self.refused = 0

    def admit(self, ip: str) -> Subscriber:
        if self._per_ip[ip] >= self.limits.per_ip:
            self.refused += 1
            raise Refused(429, "too_many_subscribers", f"{ip} already has {self.limits.per_ip} event sockets open, "
                          "the limit per address: close one, or combine filters in one subscription")
        if len(self._open) >= self.limits.total:
            self.refused += 1
            raise Refused(503, "too_many_subscribers", f"this node serves {self.limits.total} event sockets, its "
                          "limit: try again later or use another node")
        subscriber = Subscriber(ip, self.limits)
        self._open.add(subscriber)
        self._per_ip[ip] += 1
        return subscriber

    def release(self, subscriber: Subscriber) -> None:
        if subscriber in self._open:
            self._open.discard(subscriber)
            self._per_ip[subscriber.ip] -= 1
            if self._per_ip[subscriber.ip] <= 0:
                del self._per_ip[subscriber.ip]
        self._live.discard(subscriber)

    def start_live(self, subscriber: Subscriber, subscription: Subscription) -> int:
        """Every height committed from now on goes to ``subscriber``; the latest height before it.

        Synchronous on purpose: no commit can slip between reading the height and registering,
        so a replay up to the returned height followed by the queue has no gap and no repeat.
        """
        latest = self.node.height
        subscriber.subscription = subscription
        start = subscription.from_height if subscription.from_height is not None else latest + 1
        subscriber.delivered = min(start, latest + 1) - 1
        self._live.add(subscriber)
        return latest

    def publish(self, block: Any, response: dict[str, Any]) -> None:
        """The node's on-commit hook: build the height's messages once, queue them for every subscriber."""
        if not self._live:
            return
        header = block.header
        feed = HeightFeed.build(header.height, header.to_json(), list(block.txs), response)
        for subscriber in list(self._live):
            if not subscriber.offer(feed):
                self._live.discard(subscriber)
                self.slow_disconnects += 1
                subscriber.kick(CLOSE_SLOW, f"slow consumer: resume with from_height={subscriber.delivered + 1}")
                log.info("disconnecting a slow /events client at %s: %d heights behind", subscriber.ip,
                         self.node.height - subscriber.delivered)

    def feed_at(self, height: int) -> HeightFeed | None:
        """A stored height's messages, for replay; None if the store does not have it (pruned)."""
        store = self.node.store
        raw = store.block(height)
        if raw is None:
            return None
        return HeightFeed.from_store(height, raw, store.block_results(height))

    def close_all(self, code: int, reason: str) -> None:
        for subscriber in list(self._open):
            subscriber.kick(code, reason)

    def stats(self) -> dict[str, int]:
        return {"subscribers": len(self._open), "live": len(self._live),
                "slow_disconnects": self.slow_disconnects, "refused": self.refused}


HUB_KEY = web.AppKey("event_hub", EventHub)


class _Session:
    """One accepted socket: a reader task for client messages, a writer task for the stream."""

    def __init__(self, hub: EventHub, subscriber: Subscriber, request: web.Request, ws: web.WebSocketResponse):
        self.hub, self.subscriber, self.request, self.ws = hub, subscriber, request, ws
        self._send_lock = asyncio.Lock()
        self._writer: asyncio.Task | None = None

    async def run(self) -> None:
        reader = asyncio.create_task(self._read(), name="events-reader")
        try:
            await self.subscriber.ended.wait()
        finally:
            tasks = [t for t in (reader, self._writer) if t is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._close()

    async def _close(self) -> None:
        """Close with the kick's code and reason; a client that does not answer loses the connection."""
        code, reason = self.subscriber.kicked or (WSCloseCode.OK, "")
        grace = SHUTDOWN_GRACE_S if code == CLOSE_SHUTDOWN else CLOSE_GRACE_S
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode(), drain=False), grace)
        except (TimeoutError, ConnectionError, RuntimeError):
            pass
        transport = self.request.transport
        if transport is not None and transport.get_write_buffer_size() > 0:
            transport.abort()               # it stopped reading: do not keep its unsent bytes forever

    async def _send(self, text: str) -> None:
        async with self._send_lock:
            await self.ws.send_str(text)

    async def _error(self, code: str, message: str) -> None:
        await self._send(json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":")))

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_text(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await self._error("invalid_request", "send the subscribe message as a JSON text frame")
                elif msg.type is WSMsgType.ERROR:
                    break
        except (ConnectionError, RuntimeError):
            pass
        except Exception:  # noqa: BLE001 - our bug: close this socket, keep the node serving
            log.exception("reading /events messages from %s failed", self.subscriber.ip)
            self.subscriber.kick(WSCloseCode.INTERNAL_ERROR, "internal error: please report it with the node log")
        finally:
            self.subscriber.ended.set()

    async def _on_text(self, text: str) -> None:
        limit = self.hub.limits.client_message_bytes
        if len(text) > limit or len(text.encode()) > limit:
            await self._error("message_too_large", f"messages to /events are at most {limit} bytes; "
                              "a subscribe message needs far less")
            return
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            await self._error("invalid_json", "the message must be JSON: "
                              '{"subscribe": {"kinds": ["block", "tx", "event"], "from_height": null}}')
            return
        if self.subscriber.subscription is not None:
            await self._error("already_subscribed", "this socket already has a subscription; "
                              "open another socket for another filter")
            return
        try:
            subscription = parse_subscribe(doc, self.hub.node.prefix)
            self._check_replay(subscription)
        except SubscribeError as exc:
            await self._error(exc.code, str(exc))
            return
        latest = self.hub.start_live(self.subscriber, subscription)
        self._writer = asyncio.create_task(self._stream(subscription, latest), name="events-writer")

    def _check_replay(self, subscription: Subscription) -> None:
        start, store = subscription.from_height, self.hub.node.store
        latest = store.height
        if start is None or start > latest:
            return
        oldest = max(1, latest - self.hub.limits.replay_heights + 1)
        if start < oldest:
            raise SubscribeError("replay_too_long", f"from_height {start} is more than "
                                 f"{self.hub.limits.replay_heights} heights back (the latest is {latest}): resume "
                                 f"from {oldest} or later, and read older heights with GET /blocks/{{height}}")
        if start < store.earliest:
            raise SubscribeError("pruned", f"this node keeps heights from {store.earliest} (it pruned the older "
                                 f"ones): resume from {store.earliest} or ask an archive node")

    async def _stream(self, subscription: Subscription, latest: int) -> None:
        subscriber = self.subscriber
        try:
            await self._send(json.dumps({"subscribed": {**subscription.to_json(), "latest_height": latest}},
                                        separators=(",", ":")))
            if subscription.from_height is not None:
                for height in range(subscription.from_height, latest + 1):
                    feed = self.hub.feed_at(height)
                    if feed is None:
                        subscriber.kick(CLOSE_SLOW, f"height {height} was pruned during the replay")
                        return
                    await self._send_feed(subscription, feed)
                    await asyncio.sleep(0)      # a long replay must not hold the event loop (consensus runs there)
            first = subscription.from_height or 0
            while True:
                feed = await subscriber.next_feed()
                if feed.height < first:
                    subscriber.delivered = feed.height      # before the asked height: nothing to send
                elif feed.height > subscriber.delivered:
                    await self._send_feed(subscription, feed)
        except (ConnectionError, RuntimeError):
            subscriber.ended.set()              # the client went away mid-write
        except Exception:  # noqa: BLE001 - our bug: tell the client, keep the node serving
            log.exception("the /events stream to %s failed", subscriber.ip)
            subscriber.kick(WSCloseCode.INTERNAL_ERROR, "internal error: please report it with the node log")

    async def _send_feed(self, subscription: Subscription, feed: HeightFeed) -> None:
        for text in feed.select(subscription):
            await self._send(text)
        self.subscriber.delivered = feed.height


def _shrink_send_buffer(request: web.Request) -> None:
    sock = request.transport.get_extra_info("socket") if request.transport is not None else None
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        except OSError:
            pass


def _refusal(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


async def events_socket(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB_KEY]
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME_BYTES, heartbeat=HEARTBEAT_S, compress=False,
                               writer_limit=WRITER_LIMIT_BYTES, timeout=CLOSE_GRACE_S)
    if not ws.can_prepare(request).ok:
        return _refusal(400, "websocket_required", "GET /events is a websocket: connect with a websocket client "
                        'and send {"subscribe": {...}}')
    try:
        subscriber = hub.admit(request.remote or "unknown")
    except Refused as exc:
        return _refusal(exc.status, exc.code, str(exc))
    try:
        await ws.prepare(request)
        _shrink_send_buffer(request)
        await _Session(hub, subscriber, request, ws).run()
    finally:
        hub.release(subscriber)
    return ws


def register(app: web.Application, limits: StreamLimits | None = None) -> None:
    """Add GET /events and hook the hub to the node's commits (and off them when the app stops)."""
    node = app[NODE_KEY]
    hub = EventHub(node, limits or StreamLimits())
    app[HUB_KEY] = hub
    node.on_block_listeners.append(hub.publish)

    async def on_shutdown(_app: web.Application) -> None:
        hub.close_all(CLOSE_SHUTDOWN, "node shutting down")

    async def on_cleanup(_app: web.Application) -> None:
        if hub.publish in node.on_block_listeners:
            node.on_block_listeners.remove(hub.publish)

    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    app.router.add_get("/events", events_socket)


_ERROR = {"$ref": "#/components/responses/Error"}
_STREAM_MESSAGE = {"type": "object", "required": ["height", "kind"], "additionalProperties": True, "properties": {
    "height": {"type": "integer"}, "kind": {"type": "string", "enum": ["block", "tx", "event"]}},
    "description": "also {\"subscribed\": {...}} once, and {\"error\": {\"code\", \"message\"}} for a bad message"}

OPENAPI_PATHS: dict[str, Any] = {"/events": {"get": {
    "summary": "Websocket stream of committed blocks, txs and contract events (filters, resume from a height)",
    "tags": ["events"], "operationId": "",
    "description": (
        "Upgrade to a websocket and send a JSON text frame "
        '{"subscribe": {"kinds": ["block","tx","event"], "contract": ADDR|null, "event_type": STR|null, '
        '"proposal_id": INT|null, "from_height": INT|null}}. The node answers {"subscribed": {..., "latest_height"}}, '
        f"replays the stored heights from from_height (at most {MAX_REPLAY_HEIGHTS}), then sends each committed "
        'height as messages {"height", "kind": "block"|"tx"|"event", ...}. Filters apply to tx and event messages '
        "(an event must match every filter set: contract = its _contract_address, event_type = its type, "
        "proposal_id = its proposal_id attribute; a tx matches if one of its events does); block messages always "
        'pass. A bad message is answered with {"error": {"code", "message"}} and the socket stays open. A client '
        f"{MAX_QUEUED_HEIGHTS} heights behind is closed with code 1008 and a reason naming the height to resume "
        f"from. Client messages are at most {MAX_CLIENT_MESSAGE_BYTES} bytes."),
    "responses": {
        "101": {"description": "switched to the websocket protocol; the stream's messages",
                "content": {"application/json": {"schema": _STREAM_MESSAGE}}},
        "400": _ERROR, "405": _ERROR,
        "429": _ERROR | {"description": f"more than {MAX_SUBSCRIBERS_PER_IP} event sockets from this address"},
        "503": _ERROR | {"description": f"the node already serves {MAX_SUBSCRIBERS} event sockets"},
        "default": _ERROR}}}}
