"""Node identities and peer addresses as CometBFT writes them: ``<node_id>@host:port``.

A node id is the first 20 bytes of sha256(node pubkey) as 40 lowercase hex characters, so
an operator can write the peer list from the public keys alone and the handshake can prove
that whoever answers at an address holds the key the id was derived from.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ..crypto import sha256
from .errors import PeerAddressError

__all__ = ["NODE_ID_CHARS", "PeerAddress", "node_id_of", "is_node_id", "parse_peer", "parse_peers",
           "parse_listen", "format_hostport"]

NODE_ID_CHARS = 40
_NODE_ID_RE = re.compile(r"^[0-9a-f]{40}$")
# A DNS name or IPv4 literal: letters, digits, dots, hyphens, underscores (docker service names).
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?$")
_PORT_RE = re.compile(r"^[0-9]{1,5}$")
MAX_ADDRESS_CHARS = 300


def node_id_of(pubkey: bytes) -> str:
    """The node id of an ed25519 public key: sha256(pubkey)[:20] in lowercase hex."""
    return sha256(pubkey)[:20].hex()


def is_node_id(text: object) -> bool:
    return isinstance(text, str) and _NODE_ID_RE.match(text) is not None


@dataclass(frozen=True)
class PeerAddress:
    """Where to dial a peer and which node we expect to find there."""

    node_id: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.node_id}@{format_hostport(self.host, self.port)}"

    @property
    def url(self) -> str:
        """The websocket URL of the peer's transport endpoint."""
        return f"ws://{format_hostport(self.host, self.port)}/p2p"


def format_hostport(host: str, port: int) -> str:
    """``host:port``, with brackets around IPv6 literals."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_peer(text: str) -> PeerAddress:
    """Parse one ``<node_id>@host:port`` entry of persistent_peers."""
    if not isinstance(text, str):
        raise PeerAddressError(f"a peer address must be a string like '<node_id>@host:port', got {type(text).__name__}")
    entry = text.strip()
    if not entry:
        raise PeerAddressError("empty peer address: expected '<node_id>@host:port'")
    if len(entry) > MAX_ADDRESS_CHARS:
        raise PeerAddressError(f"peer address longer than {MAX_ADDRESS_CHARS} characters")
    node_id, at, hostport = entry.partition("@")
    if not at:
        raise PeerAddressError(f"peer address {entry!r} has no node id: write it as '<node_id>@host:port' "
                               "(the node id is shown by `conclave keys show-node-id` or in the node's logs)")
    if not is_node_id(node_id):
        raise PeerAddressError(f"peer address {entry!r}: the node id must be {NODE_ID_CHARS} lowercase hex "
                               f"characters (sha256(node pubkey)[:20]), got {node_id!r}")
    host, port = _split_hostport(hostport, what=f"peer address {entry!r}", allow_zero=False)
    return PeerAddress(node_id, host, port)


def parse_peers(text: str) -> list[PeerAddress]:
    """Parse a comma-separated persistent_peers value; blanks between commas are skipped."""
    if not isinstance(text, str):
        raise PeerAddressError(f"persistent_peers must be a string, got {type(text).__name__}")
    return [parse_peer(part) for part in text.split(",") if part.strip()]


def parse_listen(text: str) -> tuple[str, int]:
    """Parse a listen address ``host:port``; port 0 asks the OS for a free port."""
    if not isinstance(text, str):
        raise PeerAddressError(f"a listen address must be a string like '0.0.0.0:26656', got {type(text).__name__}")
    return _split_hostport(text.strip(), what=f"listen address {text!r}", allow_zero=True)


def _split_hostport(text: str, *, what: str, allow_zero: bool) -> tuple[str, int]:
    if text.startswith("["):
        close = text.find("]")
        if close < 0 or text[close + 1:close + 2] != ":":
            raise PeerAddressError(f"{what}: write an IPv6 host as '[addr]:port'")
        host, port_text = text[1:close], text[close + 2:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise PeerAddressError(f"{what}: {host!r} is not an IPv6 address") from None
    else:
        host, colon, port_text = text.rpartition(":")
        if not colon:
            raise PeerAddressError(f"{what} has no port: expected host:port")
        if not _HOSTNAME_RE.match(host):
            raise PeerAddressError(f"{what}: {host!r} is not a valid host name or IP address "
                                   "(IPv6 literals go in brackets: [::1]:26656)")
    if not _PORT_RE.match(port_text):
        raise PeerAddressError(f"{what}: port {port_text!r} is not a number")
    port = int(port_text)
    lowest = 0 if allow_zero else 1
    if not lowest <= port <= 65535:
        raise PeerAddressError(f"{what}: port must be in {lowest}..65535, got {port}")
    return host, port
