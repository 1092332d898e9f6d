"""GET /metrics (Prometheus text exposition format 0.0.4) and GET /healthz.

/metrics reports what an operator graphs and alerts on: height and round, peers, mempool size,
throughput (tx/s over the last RATE_WINDOW_BLOCKS blocks, by block time), the last block interval,
the wasm compile cache, dropped consensus messages, p2p frames, and the event stream's subscribers.
Every family has its HELP and TYPE lines; counters end in _total.

/healthz answers 200 {"status": "ok", ...} while consensus runs and this node committed a block
recently — within max(MIN_STALL_S, STALL_BLOCK_TIMES block intervals) — and 503
{"status": "unhealthy", "reason": ...} otherwise, so a load balancer or an orchestrator can take a
stuck node out (a lone node whose peers are gone, a follower that stopped syncing).
"""
from __future__ import annotations

import json
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable

from aiohttp import web

from .context import NODE_KEY, node_of
from .events import HUB_KEY

RATE_WINDOW_BLOCKS = 20                 # tx/s and the typical block interval over this many blocks
MIN_STALL_S = 30.0                      # /healthz tolerates at least this long without a commit...
STALL_BLOCK_TIMES = 20                  # ...or this many block intervals, if longer
NS_PER_S = 1_000_000_000
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class _Commit:
    height: int
    time_ns: int                        # the block's time (consensus time)
    txs: int


class CommitHistory:
    """The last blocks' times and sizes (from the store at start, then from each commit), and when
    this process last committed: what throughput and stall detection need, without reading blocks."""

    def __init__(self, node: Any, window: int = RATE_WINDOW_BLOCKS):
        self.node = node
        self._blocks: deque[_Commit] = deque(maxlen=window + 1)
        self.started_at = time.monotonic()
        self.last_commit_at: float | None = None
        self._load(window + 1)

    def _load(self, count: int) -> None:
        store = self.node.store
        top = store.height
        for height in range(max(1, top - count + 1, store.earliest), top + 1):
            raw = store.block(height)
            if raw is None:
                continue
            try:
                doc = json.loads(raw)
                self._blocks.append(_Commit(height, int(doc["header"]["time_ns"]), len(doc.get("txs", []))))
            except (ValueError, KeyError, TypeError):
                continue                # a block in another shape (a test app's): no rate from it

    def on_commit(self, block: Any, _response: dict[str, Any]) -> None:
        now = time.monotonic()
        self.last_commit_at = now
        self._blocks.append(_Commit(block.header.height, block.header.time_ns, len(block.txs)))

    def tx_rate(self) -> float:
        """Txs per second of block time over the window (the first block's txs are before the window)."""
        if len(self._blocks) < 2:
            return 0.0
        span = (self._blocks[-1].time_ns - self._blocks[0].time_ns) / NS_PER_S
        txs = sum(c.txs for c in list(self._blocks)[1:])
        return txs / span if span > 0 else 0.0

    def last_interval(self) -> float | None:
        if len(self._blocks) < 2:
            return None
        return max(0.0, (self._blocks[-1].time_ns - self._blocks[-2].time_ns) / NS_PER_S)

    def typical_interval(self) -> float | None:
        """The median block interval of the window: a restart's gap or one slow round does not move it."""
        blocks = list(self._blocks)
        gaps = sorted(max(0, b.time_ns - a.time_ns) for a, b in zip(blocks, blocks[1:]))
        return gaps[len(gaps) // 2] / NS_PER_S if gaps else None

    def commit_age(self) -> float:
        """Seconds since this process last committed (since it started, before its first commit)."""
        return time.monotonic() - (self.last_commit_at if self.last_commit_at is not None else self.started_at)

    def max_age(self) -> float:
        interval = max(self.typical_interval() or 0.0, float(self.node.block_time))
        return max(MIN_STALL_S, STALL_BLOCK_TIMES * interval)


HISTORY_KEY = web.AppKey("commit_history", CommitHistory)


# --- the text format ---------------------------------------------------------------------------

def _value(number: float | int) -> str:
    if isinstance(number, bool):
        return "1" if number else "0"
    if isinstance(number, int):
        return str(number)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return repr(float(number))


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    escaped = (k + '="' + str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
               for k, v in labels.items())
    return "{" + ",".join(escaped) + "}"


def family(name: str, kind: str, help_text: str,
           samples: Iterable[tuple[dict[str, str], float | int]]) -> list[str]:
    """One metric family: HELP, TYPE, then ``name{labels} value`` lines."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{_labels(labels)} {_value(value)}" for labels, value in samples]
    return lines


def render(node: Any, history: CommitHistory, events: dict[str, int] | None) -> str:
    """The node's metrics as Prometheus text."""
    driver = node.driver
    status = driver.status() if driver is not None else {"round": 0}
    p2p = node.p2p.stats() if node.p2p is not None else {}
    cache = _cache_stats(node)
    interval = history.last_interval()
    lines: list[str] = []

    def gauge(name: str, help_text: str, value: float | int, **labels: str) -> None:
        lines.extend(family(name, "gauge", help_text, [(labels, value)]))

    def counter(name: str, help_text: str, samples: list[tuple[dict[str, str], int]]) -> None:
        lines.extend(family(name, "counter", help_text, samples))

    gauge("conclave_height", "Latest committed block height.", node.height)
    gauge("conclave_round", "Consensus round of the height in progress.", int(status.get("round", 0)))
    gauge("conclave_peers", "Connected, authenticated p2p peers.", int(p2p.get("peers", 0)))
    gauge("conclave_catching_up", "1 while block sync is catching up with peers.",
          bool(node.sync.catching_up) if node.sync is not None else False)
    gauge("conclave_mempool_txs", "Transactions waiting in the mempool.", len(node.mempool))
    gauge("conclave_mempool_bytes", "Bytes of the transactions waiting in the mempool.", node.mempool.size_bytes)
    gauge("conclave_tx_per_second", f"Transactions per second of block time over the last {RATE_WINDOW_BLOCKS} "
          "blocks.", history.tx_rate())
    gauge("conclave_block_interval_seconds", "Block time between the last two blocks.",
          interval if interval is not None else float("nan"))
    gauge("conclave_last_commit_age_seconds", "Seconds since this node last committed a block (since start, "
          "before its first).", history.commit_age())
    counter("conclave_wasm_cache_hits_total", "Contract modules found in the compile cache, by tier.",
            [({"tier": "memory"}, cache.get("memory_hits", 0)), ({"tier": "disk"}, cache.get("disk_hits", 0))])
    counter("conclave_wasm_cache_misses_total", "Contract modules compiled because no cache tier had them.",
            [({}, cache.get("compiles", 0))])
    counter("conclave_wasm_cache_rejected_files_total", "Serialized modules discarded as corrupt or foreign.",
            [({}, cache.get("rejected_files", 0))])
    counter("conclave_consensus_dropped_messages_total", "Consensus messages dropped as malformed or stale.",
            [({}, int(getattr(driver, "dropped", 0)) if driver is not None else 0)])
    counter("conclave_p2p_frames_total", "P2P frames received and sent since start.",
            [({"direction": "in"}, int(p2p.get("frames_in", 0))),
             ({"direction": "out"}, int(p2p.get("frames_out", 0)))])
    counter("conclave_p2p_dropped_frames_total", "P2P frames dropped (full queues) since start.",
            [({}, int(p2p.get("dropped", 0)))])
    if events is not None:
        gauge("conclave_event_subscribers", "Open /events websockets.", events["subscribers"])
        counter("conclave_event_slow_disconnects_total", "/events clients disconnected for reading too slowly.",
                [({}, events["slow_disconnects"])])
        counter("conclave_event_refused_total", "/events sockets refused by the per-address or total limit.",
                [({}, events["refused"])])
    return "\n".join(lines) + "\n"


def _cache_stats(node: Any) -> dict[str, int]:
    keeper = getattr(node.app, "keeper", None)
    cache = getattr(getattr(keeper, "vm", None), "cache", None)
    stats = getattr(cache, "stats", None)
    if stats is None:
        return {}
    return {name: int(getattr(stats, name)) for name in ("memory_hits", "disk_hits", "compiles", "rejected_files")}


# --- handlers ----------------------------------------------------------------------------------

def _event_stats(request: web.Request) -> dict[str, int] | None:
    hub = request.app.get(HUB_KEY)
    return hub.stats() if hub is not None else None


async def metrics(request: web.Request) -> web.Response:
    text = render(node_of(request), request.app[HISTORY_KEY], _event_stats(request))
    return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})


def health(node: Any, history: CommitHistory) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of /healthz."""
    age, limit = history.commit_age(), history.max_age()
    body: dict[str, Any] = {"height": node.height, "last_commit_age_s": round(age, 3), "max_age_s": round(limit, 3),
                            "catching_up": bool(node.sync.catching_up) if node.sync is not None else False,
                            "peers": len(node.p2p.peers()) if node.p2p is not None else 0}
    if node.driver is None:
        return 503, {"status": "unhealthy", "reason": "consensus is not running (the node is starting or "
                     "stopping)", **body}
    if age > limit:
        return 503, {"status": "unhealthy", "reason": f"no block committed for {age:.0f} s (the limit is "
                     f"{limit:.0f} s): the node is stuck; check its peers and its log", **body}
    return 200, {"status": "ok", **body}


async def healthz(request: web.Request) -> web.Response:
    status, body = health(node_of(request), request.app[HISTORY_KEY])
    return web.json_response(body, status=status)


def register(app: web.Application) -> None:
    """Add GET /metrics and GET /healthz, and follow the node's commits for rates and stalls."""
    node = app[NODE_KEY]
    history = CommitHistory(node)
    app[HISTORY_KEY] = history
    node.on_block_listeners.append(history.on_commit)

    async def on_cleanup(_app: web.Application) -> None:
        if history.on_commit in node.on_block_listeners:
            node.on_block_listeners.remove(history.on_commit)

    app.on_cleanup.append(on_cleanup)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)


_ERROR = {"$ref": "#/components/responses/Error"}
_HEALTH = {"type": "object", "required": ["status", "height", "last_commit_age_s", "max_age_s"], "properties": {
    "status": {"type": "string", "enum": ["ok", "unhealthy"]},
    "reason": {"type": "string", "description": "why the node is unhealthy (503 only)"},
    "height": {"type": "integer"}, "last_commit_age_s": {"type": "number"}, "max_age_s": {"type": "number"},
    "catching_up": {"type": "boolean"}, "peers": {"type": "integer"}}}

OPENAPI_PATHS: dict[str, Any] = {
    "/metrics": {"get": {
        "summary": "Node metrics in the Prometheus text exposition format (0.0.4)",
        "tags": ["meta"], "operationId": "",
        "description": ("conclave_height, conclave_round, conclave_peers, conclave_catching_up, conclave_mempool_txs, "
                        "conclave_mempool_bytes, conclave_tx_per_second, conclave_block_interval_seconds, "
                        "conclave_last_commit_age_seconds, conclave_wasm_cache_hits_total{tier}, "
                        "conclave_wasm_cache_misses_total, conclave_consensus_dropped_messages_total, "
                        "conclave_p2p_frames_total{direction}, conclave_event_subscribers and more, each with its "
                        "HELP and TYPE lines."),
        "responses": {"200": {"description": "the metrics", "content": {"text/plain": {"schema": {"type": "string"}}}},
                      "405": _ERROR, "default": _ERROR}}},
    "/healthz": {"get": {
        "summary": "Liveness: 200 while the node commits blocks, 503 with the reason when it is stuck",
        "tags": ["meta"], "operationId": "",
        "description": (f"Healthy while consensus runs and this node's last commit is at most max({MIN_STALL_S:.0f} s, "
                        f"{STALL_BLOCK_TIMES} block intervals) old."),
        "responses": {"200": {"description": "healthy", "content": {"application/json": {"schema": _HEALTH}}},
                      "503": {"description": "unhealthy: reason says why",
                              "content": {"application/json": {"schema": _HEALTH}}},
                      "405": _ERROR, "default": _ERROR}}},
}
