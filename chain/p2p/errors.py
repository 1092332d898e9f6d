"""What can go wrong in the peer layer, and the websocket close codes that tell a peer why.

Every failure a caller can see is a P2PError; the subclasses let block sync and consensus tell
"try another peer" (PeerUnavailable, RequestTimeout) from "the peer said no" (RequestError).
"""
from __future__ import annotations

from enum import IntEnum

__all__ = ["P2PError", "PeerAddressError", "PeerUnavailable", "RequestTimeout", "RequestError",
           "HandshakeError", "CloseCode"]


class P2PError(Exception):
    """A peer-layer operation failed; the message says which peer, what happened and what to do."""


class PeerAddressError(P2PError, ValueError):
    """A peer string or listen address from the config is malformed."""


class PeerUnavailable(P2PError):
    """The peer is not connected, disconnected mid-request, or its send queue is full."""


class RequestTimeout(P2PError):
    """The peer did not answer a request in time."""


class RequestError(P2PError):
    """The peer answered a request with an error.

    A request handler may raise it too: its message is sent back to the asking peer verbatim
    (any other exception is logged locally and answered with a generic message).
    """


class CloseCode(IntEnum):
    """Websocket close codes: 1000-1013 are RFC 6455's, 4000-4999 are ours (application range)."""

    NORMAL = 1000
    GOING_AWAY = 1001          # the node is shutting down
    TRY_AGAIN_LATER = 1013     # too many inbound connections
    HANDSHAKE_FAILED = 4000    # malformed hello/signature, timeout, transport error
    WRONG_CHAIN = 4001
    BAD_IDENTITY = 4002        # node_id does not match pubkey, or bad signature
    SELF = 4003                # dialed our own address
    UNEXPECTED_PEER = 4004     # dialed node_id X but reached Y
    NOT_ALLOWED = 4005         # not in allow_inbound_from
    BANNED = 4006
    DUPLICATE = 4007           # a second connection between the same pair
    MISBEHAVING = 4008         # too many malformed frames
    INCOMPATIBLE = 4009        # the peer speaks another p2p protocol version
    TAMPERED = 4010            # a frame failed decryption (altered, replayed, reordered, forged) or came unsealed


class HandshakeError(P2PError):
    """The authenticated handshake failed; ``code`` is what we close the websocket with.

    ``remote`` is True when the peer closed the connection itself (then its reason is in the
    message and there is nothing left for us to close).
    """

    def __init__(self, message: str, code: CloseCode = CloseCode.HANDSHAKE_FAILED, *, remote: bool = False):
        super().__init__(message)
        self.code = code
        self.remote = remote
