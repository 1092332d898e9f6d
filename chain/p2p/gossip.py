"""Flooding gossip over P2P: a message seen for the first time is handled, then relayed onward.

Nodes that are not directly connected (a partial mesh, a follower behind a sentry) still hear
every message: each node relays what it accepts to its other peers, and a bounded memory of
message ids stops the flood from echoing back and forth.
"""
from __future__ import annotations

import inspect
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Hashable

from ..codec import canonical_json
from ..crypto import sha256
from .transport import P2P

__all__ = ["SeenCache", "message_key", "Gossip"]

# (peer_id, payload) -> False to neither accept nor relay it; None/True relays it.
GossipHandler = Callable[[str, dict], "Awaitable[bool | None] | bool | None"]


def message_key(channel: str, payload: dict[str, Any]) -> str:
    """A message's identity for de-duplication: sha256 of the canonical JSON of channel and payload."""
    return sha256(canonical_json([channel, payload])).hex()


class SeenCache:
    """The most recent ``capacity`` keys; old ones are forgotten first."""

    def __init__(self, capacity: int = 10_000):
        if capacity < 1:
            raise ValueError("SeenCache capacity must be at least 1")
        self.capacity = capacity
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; True if it was new."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return False
        self._keys[key] = None
        if len(self._keys) > self.capacity:
            self._keys.popitem(last=False)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)


class Gossip:
    """One gossiped channel on a P2P instance (register before ``p2p.start()``)."""

    def __init__(self, p2p: P2P, channel: str, handler: GossipHandler, *, capacity: int = 10_000):
        self.p2p, self.channel, self._handler = p2p, channel, handler
        self.seen = SeenCache(capacity)
        p2p.on_message(channel, self._on_message)

    def publish(self, payload: dict[str, Any]) -> bool:
        """Send our own message to every peer; False if this exact message was already seen."""
        if not self.seen.add(message_key(self.channel, payload)):
            return False
        self.p2p.broadcast(self.channel, payload)
        return True

    async def _on_message(self, peer_id: str, channel: str, payload: dict[str, Any]) -> None:
        if not self.seen.add(message_key(channel, payload)):
            return
        verdict = self._handler(peer_id, payload)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if verdict is not False:
            self.p2p.broadcast(channel, payload, exclude=peer_id)
