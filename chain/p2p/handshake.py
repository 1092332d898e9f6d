"""The authenticated key exchange that opens every peer connection, in both directions.

Right after the websocket opens each side sends a hello (one JSON text frame)::

    {"version": 2, "node_id": hex40, "pubkey": b64, "chain_id": str, "nonce": b64 of 32 random bytes,
     "ephemeral": b64 of a fresh X25519 public key, "listen": "host:port" | null}

checks the other's (same protocol version, pubkey hashes to node_id, same chain, not ourselves,
the node we dialed, a node we admit, a usable ephemeral key), and then sends ``{"sig": b64}``:
its ed25519 node-key signature over the canonical JSON of::

    ["conclave-p2p-handshake-v2", chain_id, <the OTHER side's nonce>, <own node_id>,
     <own ephemeral>, <the OTHER side's ephemeral>]

Signing the peer's fresh nonce proves the key is live on this connection, not replayed from an
old one; signing both ephemeral keys ties them to the node keys, so a man in the middle who
swaps in its own ephemeral keys (to read the link) fails the other side's signature check.
After the signatures, both sides hold the X25519 secret of the two ephemerals and derive the
link's session keys from it and the transcript (chain/p2p/secure.py); every later frame is a
sealed binary frame. A node of the older, unencrypted protocol (v1: no version, no ephemeral
key) is refused with a reason that says so.
"""
from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Protocol

from aiohttp import WSMsgType

from ..codec import DecodeError, b64decode, b64encode, canonical_json
from ..crypto.keys import PUBKEY_BYTES, SIGNATURE_BYTES, PrivateKey, verify
from .address import is_node_id, node_id_of, parse_listen
from .errors import CloseCode, HandshakeError, PeerAddressError
from .secure import KEY_BYTES, KeyAgreementError, SecureChannel, agree, new_ephemeral, session_keys

__all__ = ["PROTOCOL_VERSION", "DOMAIN_TAG", "NONCE_BYTES", "Hello", "Authenticated", "make_hello", "auth_message",
           "sign_auth", "check_auth", "transcript", "perform_handshake", "Admit"]

PROTOCOL_VERSION = 2
DOMAIN_TAG = "conclave-p2p-handshake-v2"
NONCE_BYTES = 32
MAX_CHAIN_ID_CHARS = 128
MAX_HANDSHAKE_FRAME_CHARS = 4096
_HELLO_KEYS = frozenset(("version", "node_id", "pubkey", "chain_id", "nonce", "ephemeral", "listen"))

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
    ephemeral: bytes                # X25519 public key, fresh for this connection
    listen: str | None

    def to_json(self) -> dict[str, Any]:
        return {"version": PROTOCOL_VERSION, "node_id": self.node_id, "pubkey": b64encode(self.pubkey),
                "chain_id": self.chain_id, "nonce": b64encode(self.nonce), "ephemeral": b64encode(self.ephemeral),
                "listen": self.listen}

    @classmethod
    def from_json(cls, obj: Any) -> Hello:
        """Check the shape of a received hello (not yet who sent it)."""
        _check_version(obj)
        if frozenset(obj) != _HELLO_KEYS:
            raise HandshakeError(f"malformed hello: expected keys {sorted(_HELLO_KEYS)}, got {sorted(obj)[:10]}")
        if not is_node_id(obj["node_id"]):
            raise HandshakeError("malformed hello: node_id is not 40 lowercase hex characters")
        chain_id = obj["chain_id"]
        if not isinstance(chain_id, str) or not 0 < len(chain_id) <= MAX_CHAIN_ID_CHARS:
            raise HandshakeError("malformed hello: chain_id is not a short non-empty string")
        try:
            pubkey, nonce, ephemeral = b64decode(obj["pubkey"]), b64decode(obj["nonce"]), b64decode(obj["ephemeral"])
        except DecodeError as exc:
            raise HandshakeError(f"malformed hello: {exc}") from None
        if len(pubkey) != PUBKEY_BYTES or len(nonce) != NONCE_BYTES or len(ephemeral) != KEY_BYTES:
            raise HandshakeError(f"malformed hello: pubkey must be {PUBKEY_BYTES} bytes, nonce {NONCE_BYTES} bytes "
                                 f"and ephemeral {KEY_BYTES} bytes")
        listen = obj["listen"]
        if listen is not None:
            try:
                parse_listen(listen)
            except PeerAddressError as exc:
                raise HandshakeError(f"malformed hello: {exc}") from None
        return cls(obj["node_id"], pubkey, chain_id, nonce, ephemeral, listen)


def _check_version(obj: Any) -> None:
    """Refuse another protocol version by name, before its other fields can confuse the shape check."""
    if not isinstance(obj, dict):
        raise HandshakeError(f"malformed hello: expected a JSON object, got {type(obj).__name__}")
    if "version" not in obj:
        if "ephemeral" in obj:
            raise HandshakeError("malformed hello: no protocol version")
        raise HandshakeError(f"peer speaks the old unencrypted p2p protocol v1 (no ephemeral key), we speak "
                             f"v{PROTOCOL_VERSION}: upgrade the peer", CloseCode.INCOMPATIBLE)
    version = obj["version"]
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise HandshakeError(f"peer speaks p2p protocol version {json.dumps(version)[:20]}, we speak "
                             f"v{PROTOCOL_VERSION}: run the same release on both", CloseCode.INCOMPATIBLE)


class Authenticated(NamedTuple):
    """What a completed handshake yields: who the peer is, and the link's cipher."""

    remote: Hello
    channel: SecureChannel


def make_hello(key: PrivateKey, chain_id: str, listen: str | None, ephemeral: bytes) -> Hello:
    """Our hello for one connection, with a fresh random nonce and our ephemeral public key."""
    return Hello(node_id_of(key.pubkey), key.pubkey, chain_id, os.urandom(NONCE_BYTES), ephemeral, listen)


def auth_message(chain_id: str, their_nonce: bytes, own_node_id: str, own_ephemeral: bytes,
                 their_ephemeral: bytes) -> bytes:
    """The bytes a node signs to prove its key on this connection and vouch for both ephemerals."""
    return canonical_json([DOMAIN_TAG, chain_id, b64encode(their_nonce), own_node_id, b64encode(own_ephemeral),
                           b64encode(their_ephemeral)])


def sign_auth(key: PrivateKey, own: Hello, remote: Hello) -> dict[str, str]:
    """Our signature message for this connection (``own`` is our hello, ``remote`` the peer's)."""
    message = auth_message(own.chain_id, remote.nonce, node_id_of(key.pubkey), own.ephemeral, remote.ephemeral)
    return {"sig": b64encode(key.sign(message))}


def check_auth(remote: Hello, own: Hello, obj: Any) -> None:
    """Verify the remote's signature message; HandshakeError if it is malformed or wrong.

    The remote signed with the roles reversed: our nonce, its node id, its ephemeral, then ours.
    """
    if not isinstance(obj, dict) or frozenset(obj) != {"sig"}:
        raise HandshakeError('malformed signature message: expected {"sig": base64}')
    try:
        sig = b64decode(obj["sig"])
    except DecodeError as exc:
        raise HandshakeError(f"malformed signature message: {exc}") from None
    message = auth_message(remote.chain_id, own.nonce, remote.node_id, remote.ephemeral, own.ephemeral)
    if len(sig) != SIGNATURE_BYTES or not verify(remote.pubkey, message, sig):
        raise HandshakeError(f"node {remote.node_id} sent an invalid handshake signature: it does not hold the "
                             "key of its node id, or someone in between replaced the ephemeral keys",
                             CloseCode.BAD_IDENTITY)


def transcript(a: Hello, b: Hello) -> bytes:
    """Both hellos in an order both sides agree on (by ephemeral key): salt for the session keys."""
    low, high = (a, b) if a.ephemeral < b.ephemeral else (b, a)
    return canonical_json([DOMAIN_TAG, low.to_json(), high.to_json()])


async def perform_handshake(ws: WebSocketLike, key: PrivateKey, chain_id: str, listen: str | None, *,
                            expected_node_id: str | None, admit: Admit, timeout: float,
                            max_message_bytes: int) -> Authenticated:
    """Run both halves of the handshake on an open websocket; return the peer's hello and the cipher.

    ``expected_node_id`` is the id we dialed (None for inbound); ``max_message_bytes`` is the
    largest frame the returned channel opens. Raises HandshakeError; the caller closes the
    websocket with its code and reason.
    """
    secret, public = new_ephemeral()
    own = make_hello(key, chain_id, listen, public)
    try:
        async with asyncio.timeout(timeout):
            await ws.send_str(json.dumps(own.to_json(), separators=(",", ":")))
            remote = Hello.from_json(await _receive_json(ws, "hello"))
            _check_remote(own, remote, expected_node_id, admit)
            try:
                shared = agree(secret, public, remote.ephemeral)
            except KeyAgreementError as exc:
                raise HandshakeError(f"node {remote.node_id}: {exc}") from None
            await ws.send_str(json.dumps(sign_auth(key, own, remote), separators=(",", ":")))
            check_auth(remote, own, await _receive_json(ws, "signature"))
    except TimeoutError:
        raise HandshakeError(f"handshake did not complete within {timeout:g} s") from None
    except HandshakeError:
        raise
    except (ConnectionError, RuntimeError, OSError) as exc:      # the socket went away mid-handshake
        raise HandshakeError(f"connection lost during the handshake ({type(exc).__name__}: {exc})",
                             remote=True) from None
    send_key, recv_key = session_keys(shared, public, remote.ephemeral, transcript(own, remote))
    return Authenticated(remote, SecureChannel(send_key, recv_key, max_message_bytes))


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
