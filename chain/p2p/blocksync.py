"""Block sync: a node that is behind fetches committed blocks with their commits from its peers.

Every node gossips its committed height on the "status" channel (chain/node.py). When a peer
has committed heights this node has not, BlockSync asks that peer for them (at most
``MAX_BLOCKS_PER_REQUEST`` per request, on the "sync" request channel) and hands each block and
commit to the consensus driver, which verifies the block against the chain state and the commit
against the validator set it knows for that height (+2/3 of the power signed) before executing
it. A peer only one height ahead is given ``stall_s`` first: the node is usually deciding that
height through consensus at that very moment. A peer that serves something that does not verify
is skipped for a while. Progress is logged as "block sync: height X of Y".
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from ..codec import b64decode, b64encode
from ..consensus.blocks import Block
from ..consensus.driver import Driver, commit_record
from ..consensus.types import Commit, ConsensusMessageError
from ..store import StateStore

log = logging.getLogger("conclave.blocksync")

SYNC_CHANNEL = "sync"
STATUS_CHANNEL = "status"
MAX_BLOCKS_PER_REQUEST = 20
MAX_RESPONSE_BYTES = 3 << 20            # below the p2p frame limit
POLL_S = 0.1
BAD_PEER_PAUSE_S = 10.0


class BlockSync:
    def __init__(self, p2p: Any, driver: Driver, store: StateStore, *, request_timeout: float = 10.0,
                 stall_s: float = 1.5, max_block_bytes: int = 22_020_096):
        self.p2p, self.driver, self.store = p2p, driver, store
        self.request_timeout, self.stall_s, self.max_block_bytes = request_timeout, stall_s, max_block_bytes
        self.peer_heights: dict[str, int] = {}
        self.catching_up = False
        self.synced_blocks = 0
        self._bad_until: dict[str, float] = {}
        p2p.on_request(SYNC_CHANNEL, self._serve)
        p2p.on_message(STATUS_CHANNEL, self._on_status)

    async def _on_status(self, peer: str, _channel: str, payload: dict[str, Any]) -> None:
        height = payload.get("height") if isinstance(payload, dict) else None
        if type(height) is int and height >= 0:
            self.peer_heights[peer] = height

    async def _serve(self, _peer: str, request: dict[str, Any]) -> dict[str, Any]:
        """{"from": h, "to": h2} -> {"blocks": [{"block": b64, "commit": {...}}], "height": latest}."""
        start, end = request.get("from"), request.get("to")
        if type(start) is not int or type(end) is not int or not 1 <= start <= end:
            return {"error": 'ask for {"from": h, "to": h2} with 1 <= h <= h2'}
        end = min(end, start + MAX_BLOCKS_PER_REQUEST - 1, self.store.height)
        blocks, size = [], 0
        for height in range(max(start, self.store.earliest or 1), end + 1):
            raw, commit = self.store.block(height), self.store.record(commit_record(height))
            if raw is None or commit is None:
                break
            size += len(raw) + len(commit)
            if blocks and size > MAX_RESPONSE_BYTES:
                break
            blocks.append({"block": b64encode(raw), "commit": json.loads(commit)})
        return {"blocks": blocks, "height": self.store.height}

    def _best_peer(self) -> tuple[str, int] | None:
        now = time.monotonic()
        candidates = [(h, p) for p, h in self.peer_heights.items()
                      if self._bad_until.get(p, 0.0) <= now and p in self.p2p.peers()]
        if not candidates:
            return None
        height, peer = max(candidates)
        return peer, height

    async def run(self) -> None:
        behind_since: float | None = None
        while True:
            await asyncio.sleep(POLL_S)
            best = self._best_peer()
            mine = self.store.height
            if best is None or best[1] <= mine:
                behind_since, self.catching_up = None, False
                continue
            peer, target = best
            now = time.monotonic()
            if target == mine + 1:
                behind_since = behind_since or now
                if now - behind_since < self.stall_s:
                    continue                        # consensus is probably deciding it right now
            self.catching_up = target > mine + 1
            await self._fetch(peer, mine + 1, target)
            behind_since = None

    async def _fetch(self, peer: str, start: int, target: int) -> None:
        end = min(target, start + MAX_BLOCKS_PER_REQUEST - 1)
        try:
            answer = await self.p2p.request(peer, SYNC_CHANNEL, {"from": start, "to": end}, self.request_timeout)
        except Exception as exc:  # noqa: BLE001 - P2PError or a dropped connection: try another peer later
            log.info("block sync from %s failed: %s", peer[:12], exc)
            self._bad_until[peer] = time.monotonic() + BAD_PEER_PAUSE_S / 5
            return
        items = answer.get("blocks") if isinstance(answer, dict) else None
        if not isinstance(items, list):
            self._bad_until[peer] = time.monotonic() + BAD_PEER_PAUSE_S
            return
        for item in items:
            height = self.store.height + 1
            try:
                if not isinstance(item, dict):
                    raise ConsensusMessageError("a sync item must be {block, commit}")
                block = Block.decode(b64decode(item.get("block")), self.max_block_bytes)
                commit = Commit.from_json(item.get("commit"))
                if block.header.height < height:
                    continue                        # consensus committed it meanwhile
                await self.driver.apply_synced(block, commit)
            except (ConsensusMessageError, ValueError, TypeError) as exc:
                log.warning("peer %s served height %d that does not verify: %s", peer[:12], height, exc)
                self._bad_until[peer] = time.monotonic() + BAD_PEER_PAUSE_S
                return
            self.synced_blocks += 1
            if self.catching_up:
                log.info("block sync: height %d of %d", block.header.height, target)
