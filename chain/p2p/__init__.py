"""Peer transport: authenticated websockets between Conclave nodes, gossip and request/response.

    address.py     node ids and "<node_id>@host:port" peer strings
    handshake.py   the signed hello exchange that proves each side's node key
    frames.py      the JSON frame format after the handshake
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
from .transport import P2P, PeerInfo

__all__ = [
    "P2P", "PeerInfo", "PeerAddress", "parse_peer", "parse_peers", "parse_listen", "node_id_of", "is_node_id",
    "Handler", "RequestHandler", "prefer_new_connection",
    "P2PError", "PeerAddressError", "PeerUnavailable", "RequestTimeout", "RequestError", "HandshakeError",
    "CloseCode", "Gossip", "SeenCache", "message_key",
]
