"""Loopback ports for the nodes tests start, chosen so nothing else takes them before the node binds.

A port the OS picked (bind to 0) is in the ephemeral range (32768-60999 on Linux), where the kernel
also picks the source port of every outgoing connection: between our check and the node's bind,
any test's client connection may take it ("address already in use", seen in CI). So ports come
from below that range, from a block of its own for each pytest-xdist worker, handed out in turn.
"""
from __future__ import annotations

import os
import socket

FIRST_PORT = 20000               # free_port's blocks: 20000-23999 for gw0, 24000-27999 for gw1, ...
PORTS_PER_WORKER = 4000
_next: dict[str, int] = {}


def _worker() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) % 3 if worker[2:].isdigit() else 0


def port_block_is_free(base: int, count: int) -> bool:
    """True if nothing listens on BASE..BASE+count-1 (loopback) right now."""
    for port in range(base, base + count):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port() -> int:
    """A free loopback port from this worker's block, never the same one twice in a run (until it wraps)."""
    low = FIRST_PORT + _worker() * PORTS_PER_WORKER
    key = str(low)
    offset = _next.get(key, os.getpid() % PORTS_PER_WORKER)
    for _ in range(PORTS_PER_WORKER):
        port = low + offset % PORTS_PER_WORKER
        offset += 1
        if port_block_is_free(port, 1):
            _next[key] = offset
            return port
    raise RuntimeError(f"no free loopback port in {low}..{low + PORTS_PER_WORKER - 1}")


def free_port_base(count: int, start: int = 10000) -> int:
    """The first BASE >= start (offset per pytest-xdist worker) with BASE..BASE+count-1 free on loopback."""
    base = start + 100 * _worker()    # below the ephemeral range and below free_port's blocks
    while base + count < FIRST_PORT:
        if port_block_is_free(base, count):
            return base
        base += count + 7
    raise RuntimeError("no free block of loopback ports")
