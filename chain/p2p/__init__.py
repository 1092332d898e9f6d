"""Peer transport: authenticated, encrypted websockets between Conclave nodes, gossip and requests.

    address.py     node ids and "<node_id>@host:port" peer strings
    handshake.py   the signed hello exchange that proves each side's node key and agrees on session keys
    secure.py      X25519 key agreement, HKDF session keys, ChaCha20-Poly1305 sealed frames
    frames.py      the JSON frame format inside the sealed frames
    connection.py  one peer connection: ordered bounded send queue, reader, dispatch, requests
    transport.py   P2P: listening, dialing with backoff, duplicates, bans, broadcast, stats
    gossip.py      flooding with de-duplication on top of P2P
"""
from __future__ import annotations

from .address import PeerAddress, is_node_id, node_id_of, parse_listen, parse_peer, parse_peers
from .connection import Handler, RequestHandler, prefer_new_connection
from .errors import (CloseCode, HandshakeError, P2PError, PeerAddressError, PeerUnavailable, RequestError,
                     RequestTimeout)
from .gossip import Gossip, SeenCache, message_key
from .secure import SecureChannel, SecureChannelError
from .transport import P2P, PeerInfo

__all__ = [
    "P2P", "PeerInfo", "PeerAddress", "parse_peer", "parse_peers", "parse_listen", "node_id_of", "is_node_id",
    "Handler", "RequestHandler", "prefer_new_connection",
    "P2PError", "PeerAddressError", "PeerUnavailable", "RequestTimeout", "RequestError", "HandshakeError",
    "CloseCode", "Gossip", "SeenCache", "message_key", "SecureChannel", "SecureChannelError",
]
