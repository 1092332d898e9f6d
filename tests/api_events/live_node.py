"""Helpers for the event stream tests: a real node process (JSON logs on), signed txs, websocket clients.

Two websocket clients: aiohttp's for ordinary subscribers, and ``RawWebSocket``, a few lines of
RFC 6455 over a plain socket with a tiny receive buffer, for a client that never reads (aiohttp's
client keeps reading into memory in the background, so it cannot play a stalled reader).
"""
from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from chain.app.tx import build_tx
from chain.crypto.keys import PrivateKey

import nodeproc
from nodeproc import START_DEADLINE_S, free_port  # noqa: F401 - re-exported for the tests

CHAIN_ID = "conclave-devnet"
WAIT_S = 60.0                  # the longest any single wait in these tests may take


class NodeProcess(nodeproc.NodeProcess):
    """`conclave start --log-format json`; stderr (the log) goes to HOME/node.log."""

    def __init__(self, home: Path):
        super().__init__(home, extra_args=["--log-format", "json"], client_timeout=WAIT_S)
        self.ws_url = f"{self.url}/events"

    def height(self) -> int:
        return self.client.status()["height"]

    def wait_height(self, height: int, deadline_s: float = START_DEADLINE_S) -> int:
        return super().wait_height(height, deadline_s)["height"]

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=WAIT_S) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def metric(self, name: str) -> float:
        for line in self.get("/metrics")[2].decode().splitlines():
            if line.split(" ")[0] == name:
                return float(line.split(" ")[1])
        raise AssertionError(f"no sample {name} in /metrics")

    def send(self, key: PrivateKey, msg: Any, gas_limit: int = 2_000_000) -> dict[str, Any]:
        """Sign ``msg`` with ``key`` and wait for its block; the committed record."""
        sequence = self.client.account(key.address())["sequence"]
        tx = build_tx(key, CHAIN_ID, sequence, [msg], gas_limit=gas_limit)
        return self.client.submit_tx(tx.raw, wait_commit=True)


# --- aiohttp subscribers ---------------------------------------------------------------------

async def receive_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = WAIT_S) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.receive(), timeout)
    assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a text frame, got {msg.type} {msg.data!r} {msg.extra!r}"
    return json.loads(msg.data)


async def subscribe(session: aiohttp.ClientSession, url: str, **fields: Any) -> tuple[aiohttp.ClientWebSocketResponse,
                                                                                      dict[str, Any]]:
    """A socket with the subscription ``fields``, and the node's {"subscribed": ...} answer."""
    ws = await session.ws_connect(url)
    await ws.send_str(json.dumps({"subscribe": fields}))
    answer = await receive_json(ws)
    assert "subscribed" in answer, answer
    return ws, answer["subscribed"]


async def read_until(ws: aiohttp.ClientWebSocketResponse, done, timeout: float = WAIT_S) -> list[dict[str, Any]]:
    """Messages until ``done(message)`` is true for one (included); fails after ``timeout`` seconds."""
    got: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"no end message within {timeout} s; got {len(got)}: {got[-3:]}"
        message = await receive_json(ws, left)
        got.append(message)
        if done(message):
            return got


# --- a client that stops reading ---------------------------------------------------------------

class RawWebSocket:
    """The client side of RFC 6455 on a blocking socket whose receive buffer is tiny."""

    def __init__(self, port: int, path: str = "/events", receive_buffer: int = 4096):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(WAIT_S)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           ).encode())
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            byte = self.sock.recv(1)
            assert byte, "the server closed during the handshake"
            head += byte
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_text(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        if len(payload) < 126:
            header = struct.pack("!BB", 0x81, 0x80 | len(payload))
        else:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the server closed the connection without a close frame")
            data += chunk
        return data

    def read_frame(self) -> tuple[int, bytes]:
        first, second = self._exact(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._exact(8))[0]
        return first & 0x0F, self._exact(length)

    def read_until_close(self) -> tuple[list[str], int, str]:
        """Every text message still buffered, then the close frame's code and reason."""
        texts: list[str] = []
        while True:
            opcode, payload = self.read_frame()
            if opcode == 0x1:
                texts.append(payload.decode())
            elif opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                return texts, code, payload[2:].decode()

    def close(self) -> None:
        self.sock.close()
