"""The authenticated handshake that opens every peer connection, in both directions.

Right after the websocket opens each side sends a hello::

    {"node_id": hex40, "pubkey": b64, "chain_id": str, "nonce": b64 of 32 random bytes,
     "listen": "host:port" | null}

checks the other's (pubkey hashes to node_id, same chain, not ourselves, the node we dialed, a
node we admit), and then sends ``{"sig": b64}``: its ed25519 signature over the canonical JSON of
``["conclave-p2p-handshake", chain_id, <the OTHER side's nonce>, <own node_id>]``. Signing the
peer's fresh nonce proves the key is live on this connection, not replayed from an old one.

This authenticates who is at the other end; it does not encrypt or bind the later frames to
the handshake (run the websocket over TLS or a private network where that matters).
"""
from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from aiohttp import WSMsgType

from ..codec import DecodeError, b64decode, b64encode, canonical_json
from ..crypto.keys import PUBKEY_BYTES, SIGNATURE_BYTES, PrivateKey, verify
from .address import is_node_id, node_id_of, parse_listen
from .errors import CloseCode, HandshakeError, PeerAddressError

__all__ = ["DOMAIN_TAG", "NONCE_BYTES", "Hello", "make_hello", "auth_message", "sign_auth", "check_auth",
           "perform_handshake", "Admit"]

DOMAIN_TAG = "conclave-p2p-handshake"
NONCE_BYTES = 32
MAX_CHAIN_ID_CHARS = 128
MAX_HANDSHAKE_FRAME_CHARS = 4096
_HELLO_KEYS = frozenset(("node_id", "pubkey", "chain_id", "nonce", "listen"))

# Called with the remote's verified-shape hello; returns None to admit, or (code, reason) to refuse.
Admit = Callable[["Hello"], "tuple[CloseCode, str] | None"]


class WebSocketLike(Protocol):
    async def send_str(self, data: str) -> None: ...
    async def receive(self, timeout: float | None = None) -> Any: ...


@dataclass(frozen=True)
class Hello:
    node_id: str
    pubkey: bytes
    chain_id: str
    nonce: bytes
    listen: str | None

    def to_json(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "pubkey": b64encode(self.pubkey), "chain_id": self.chain_id,
                "nonce": b64encode(self.nonce), "listen": self.listen}

    @classmethod
    def from_json(cls, obj: Any) -> Hello:
        """Check the shape of a received hello (not yet who sent it)."""
        if not isinstance(obj, dict) or frozenset(obj) != _HELLO_KEYS:
            keys = sorted(obj)[:8] if isinstance(obj, dict) else type(obj).__name__
            raise HandshakeError(f"malformed hello: expected keys {sorted(_HELLO_KEYS)}, got {keys}")
        if not is_node_id(obj["node_id"]):
            raise HandshakeError("malformed hello: node_id is not 40 lowercase hex characters")
        chain_id = obj["chain_id"]
        if not isinstance(chain_id, str) or not 0 < len(chain_id) <= MAX_CHAIN_ID_CHARS:
            raise HandshakeError("malformed hello: chain_id is not a short non-empty string")
        try:
            pubkey, nonce = b64decode(obj["pubkey"]), b64decode(obj["nonce"])
        except DecodeError as exc:
            raise HandshakeError(f"malformed hello: {exc}") from None
        if len(pubkey) != PUBKEY_BYTES or len(nonce) != NONCE_BYTES:
            raise HandshakeError(f"malformed hello: pubkey must be {PUBKEY_BYTES} bytes and nonce "
                                 f"{NONCE_BYTES} bytes")
        listen = obj["listen"]
        if listen is not None:
            try:
                parse_listen(listen)
            except PeerAddressError as exc:
                raise HandshakeError(f"malformed hello: {exc}") from None
        return cls(obj["node_id"], pubkey, chain_id, nonce, listen)


def make_hello(key: PrivateKey, chain_id: str, listen: str | None) -> Hello:
    """Our hello for one connection, with a fresh random nonce."""
    return Hello(node_id_of(key.pubkey), key.pubkey, chain_id, os.urandom(NONCE_BYTES), listen)


def auth_message(chain_id: str, their_nonce: bytes, own_node_id: str) -> bytes:
    """The bytes a node signs to prove its key on this connection."""
    return canonical_json([DOMAIN_TAG, chain_id, b64encode(their_nonce), own_node_id])


def sign_auth(key: PrivateKey, chain_id: str, their_nonce: bytes) -> dict[str, str]:
    return {"sig": b64encode(key.sign(auth_message(chain_id, their_nonce, node_id_of(key.pubkey))))}


def check_auth(remote: Hello, our_nonce: bytes, obj: Any) -> None:
    """Verify the remote's signature message; HandshakeError if it is malformed or wrong."""
    if not isinstance(obj, dict) or frozenset(obj) != {"sig"}:
        raise HandshakeError('malformed signature message: expected {"sig": base64}')
    try:
        sig = b64decode(obj["sig"])
    except DecodeError as exc:
        raise HandshakeError(f"malformed signature message: {exc}") from None
    if len(sig) != SIGNATURE_BYTES or not verify(remote.pubkey, auth_message(remote.chain_id, our_nonce,
                                                                               remote.node_id), sig):
        raise HandshakeError(f"node {remote.node_id} sent an invalid handshake signature: it does not hold "
                             "the key of its node id", CloseCode.BAD_IDENTITY)


async def perform_handshake(ws: WebSocketLike, key: PrivateKey, chain_id: str, listen: str | None, *,
                            expected_node_id: str | None, admit: Admit, timeout: float) -> Hello:
    """Run both halves of the handshake on an open websocket; return the authenticated remote hello.

    ``expected_node_id`` is the id we dialed (None for inbound). Raises HandshakeError; the
    caller closes the websocket with its code and reason.
    """
    own = make_hello(key, chain_id, listen)
    try:
        async with asyncio.timeout(timeout):
            await ws.send_str(json.dumps(own.to_json(), separators=(",", ":")))
            remote = Hello.from_json(await _receive_json(ws, "hello"))
            _check_remote(own, remote, expected_node_id, admit)
            await ws.send_str(json.dumps(sign_auth(key, chain_id, remote.nonce), separators=(",", ":")))
            check_auth(remote, own.nonce, await _receive_json(ws, "signature"))
    except TimeoutError:
        raise HandshakeError(f"handshake did not complete within {timeout:g} s") from None
    except HandshakeError:
        raise
    except (ConnectionError, RuntimeError, OSError) as exc:      # the socket went away mid-handshake
        raise HandshakeError(f"connection lost during the handshake ({type(exc).__name__}: {exc})",
                             remote=True) from None
    return remote


def _check_remote(own: Hello, remote: Hello, expected_node_id: str | None, admit: Admit) -> None:
    if remote.chain_id != own.chain_id:
        raise HandshakeError(f"peer is on chain {remote.chain_id!r}, we are on {own.chain_id!r}: "
                             "check the peer list", CloseCode.WRONG_CHAIN)
    if node_id_of(remote.pubkey) != remote.node_id:
        raise HandshakeError(f"peer claims node id {remote.node_id} but its pubkey hashes to "
                             f"{node_id_of(remote.pubkey)}", CloseCode.BAD_IDENTITY)
    if remote.node_id == own.node_id:
        raise HandshakeError("connected to ourselves: remove our own address from the peer list",
                             CloseCode.SELF)
    if expected_node_id is not None and remote.node_id != expected_node_id:
        raise HandshakeError(f"dialed node {expected_node_id} but reached node {remote.node_id}: the node id "
                             "or the address in persistent_peers is wrong", CloseCode.UNEXPECTED_PEER)
    refusal = admit(remote)
    if refusal is not None:
        raise HandshakeError(refusal[1], refusal[0])


async def _receive_json(ws: WebSocketLike, what: str) -> Any:
    msg = await ws.receive()
    if msg.type is WSMsgType.TEXT:
        if len(msg.data) > MAX_HANDSHAKE_FRAME_CHARS:
            raise HandshakeError(f"handshake {what} is larger than {MAX_HANDSHAKE_FRAME_CHARS} characters")
        try:
            return json.loads(msg.data)
        except (ValueError, RecursionError):
            raise HandshakeError(f"handshake {what} is not JSON") from None
    if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
        reason = msg.extra if isinstance(msg.extra, str) and msg.extra else "no reason given"
        code = f" (code {msg.data})" if isinstance(msg.data, int) else ""
        raise HandshakeError(f"peer closed the connection during the handshake{code}: {reason}", remote=True)
    if msg.type is WSMsgType.ERROR:
        raise HandshakeError(f"connection failed during the handshake: {msg.data}", remote=True)
    raise HandshakeError(f"expected a text frame with the handshake {what}, got {msg.type.name}")
