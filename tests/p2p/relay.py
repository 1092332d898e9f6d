"""A websocket relay between two P2P nodes: a passive observer, or a man in the middle.

Node A dials the relay (as if it were node B); for each such connection the relay dials B and
copies every websocket message both ways, recording what it saw. With ``swap_ephemerals`` it
is an active attacker: it replaces the X25519 key in each hello with its own, which would let
it read the link if the handshake did not bind the ephemeral keys to the node keys.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import aiohttp
from aiohttp import WSMsgType, web

from chain.codec import b64encode
from chain.p2p.secure import new_ephemeral
from p2p.harness import LOCALHOST


@dataclass
class Seen:
    """One websocket message the relay forwarded: which way, text or binary, and its payload."""

    direction: str                  # "a>b" (from the dialer) or "b>a"
    kind: WSMsgType
    data: bytes


@dataclass
class Closed:
    direction: str                  # who closed: "a>b" means the dialer closed towards the target
    code: int | None
    reason: str


@dataclass
class Relay:
    target_port: int
    swap_ephemerals: bool = False
    seen: list[Seen] = field(default_factory=list)
    closes: list[Closed] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None
    _links: set[asyncio.Task] = field(default_factory=set)

    async def start(self) -> Relay:
        app = web.Application()
        app.router.add_get("/p2p", self._accept)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, LOCALHOST, 0).start()
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        for task in list(self._links):
            task.cancel()
        await asyncio.gather(*self._links, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    @property
    def port(self) -> int:
        assert self._runner is not None
        return int(self._runner.addresses[0][1])

    def payloads(self, direction: str | None = None) -> list[bytes]:
        return [s.data for s in self.seen if direction is None or s.direction == direction]

    async def _accept(self, request: web.Request) -> web.WebSocketResponse:
        inbound = web.WebSocketResponse(max_msg_size=0, compress=False)
        await inbound.prepare(request)
        assert self._session is not None
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        try:
            outbound = await self._session.ws_connect(f"ws://{LOCALHOST}:{self.target_port}/p2p", max_msg_size=0,
                                                      compress=0)
        except (aiohttp.ClientError, OSError):
            await inbound.close()
            self._links.discard(task)
            return inbound
        try:
            await asyncio.gather(self._pump(inbound, outbound, "a>b"), self._pump(outbound, inbound, "b>a"))
        finally:
            await asyncio.gather(inbound.close(), outbound.close(), return_exceptions=True)
            self._links.discard(task)
        return inbound

    async def _pump(self, src: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
                    dst: web.WebSocketResponse | aiohttp.ClientWebSocketResponse, direction: str) -> None:
        """Copy src's messages to dst until src closes; then close dst with the same code and reason."""
        while True:
            msg = await src.receive()
            if msg.type is WSMsgType.TEXT:
                text = self._rewrite(msg.data)
                self.seen.append(Seen(direction, msg.type, text.encode()))
                await dst.send_str(text)
            elif msg.type is WSMsgType.BINARY:
                self.seen.append(Seen(direction, msg.type, msg.data))
                await dst.send_bytes(msg.data)
            else:
                code = msg.data if msg.type is WSMsgType.CLOSE else src.close_code
                reason = msg.extra if isinstance(msg.extra, str) else ""
                self.closes.append(Closed(direction, code, reason))
                if not dst.closed:                        # pass the close on (1006 and the like cannot be sent)
                    sendable = code is not None and (code >= 3000 or code in (1000, 1001, 1008, 1009, 1011, 1013))
                    await dst.close(code=code if sendable else 1000, message=reason.encode()[:120])
                return

    def _rewrite(self, text: str) -> str:
        if not self.swap_ephemerals:
            return text
        message = json.loads(text)
        if isinstance(message, dict) and "ephemeral" in message:
            message["ephemeral"] = b64encode(new_ephemeral()[1])       # the attacker's own key
        return json.dumps(message)
