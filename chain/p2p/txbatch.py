"""Tx gossip in batches: txs admitted within a few milliseconds travel to each peer as one frame.

Under load a node admits hundreds of txs a second and used to send each to every peer as its own
frame: per frame, JSON encoding, a seal, a websocket write, and on the other side a read, an open,
JSON decoding and a dispatch. Collecting txs for ``window_s`` (far below a block's time) and sending
each peer one ``{"txs": [...]}`` frame pays those costs once per batch. A tx is never sent back to
the peer it came from.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from .errors import P2PError
from .transport import P2P

log = logging.getLogger(__name__)

__all__ = ["TxBatcher", "batch_items", "WINDOW_S", "MAX_BATCH_CHARS", "MAX_BATCH_TXS"]

WINDOW_S = 0.01                # how long txs gather before a batch goes out
MAX_BATCH_CHARS = 256 * 1024   # a batch this large goes out at once (a bigger tx goes alone)
MAX_BATCH_TXS = 4096           # a received batch with more items is refused whole


class TxBatcher:
    """Collects (base64 tx, peer it came from) pairs and sends each peer its batch after ``window_s``."""

    def __init__(self, p2p: P2P, channel: str, *, window_s: float = WINDOW_S, max_chars: int = MAX_BATCH_CHARS):
        self.p2p, self.channel = p2p, channel
        self.window_s, self.max_chars = window_s, max_chars
        self._pending: list[tuple[str, str | None]] = []
        self._chars = 0
        self._timer: asyncio.TimerHandle | None = None
        self.batches_sent = 0

    def add(self, tx_b64: str, exclude: str | None = None) -> None:
        """Queue a tx for every peer but ``exclude``; it leaves within ``window_s`` (at once if the batch is full)."""
        self._pending.append((tx_b64, exclude))
        self._chars += len(tx_b64)
        if self._chars >= self.max_chars or len(self._pending) >= MAX_BATCH_TXS:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.window_s, self.flush)

    def flush(self) -> None:
        """Send what is queued: each connected peer gets the txs it did not send us, in frames of at most
        ``max_chars`` (a larger tx alone in its frame)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending, self._chars = self._pending, [], 0
        if not pending:
            return
        for peer in self.p2p.peers():
            chunk: list[str] = []
            chars = 0
            for tx, came_from in pending:
                if came_from == peer:
                    continue
                if chunk and chars + len(tx) > self.max_chars:
                    self._send(peer, chunk)
                    chunk, chars = [], 0
                chunk.append(tx)
                chars += len(tx)
            if chunk:
                self._send(peer, chunk)

    def _send(self, peer: str, txs: list[str]) -> None:
        try:
            self.p2p.send(peer, self.channel, {"txs": txs})
            self.batches_sent += 1
        except P2PError as exc:      # a tx larger than a frame: it still reaches blocks from our mempool
            log.warning("tx gossip to %s skipped: %s", peer[:12], exc)


def batch_items(payload: Any) -> list[str]:
    """The base64 txs of a received batch; [] for anything else (a peer's malformed batch is ignored whole)."""
    txs = payload.get("txs") if isinstance(payload, dict) else None
    if not isinstance(txs, list) or len(txs) > MAX_BATCH_TXS:
        return []
    return [tx for tx in txs if isinstance(tx, str)]
