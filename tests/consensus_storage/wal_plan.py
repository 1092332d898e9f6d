"""A deterministic sequence of WAL operations, shared by the kill test and its child writer."""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class Op:
    index: int
    kind: str           # "write", "write_sync" or "mark"
    height: int         # the height the message belongs to, or the height a mark ends
    payload: bytes = b""


def iter_plan(seed: int) -> Iterator[Op]:
    """Endless operations: messages of varied size (a few large enough to be torn by a kill
    inside one write), about a third synced, and a height marker every few dozen messages.
    Lazy, so the writer starts at once and the checker generates only what it compares."""
    rnd = random.Random(seed)
    height = 1
    for index in itertools.count():
        if rnd.random() < 0.03:
            yield Op(index, "mark", height)
            height += 1
            continue
        size = rnd.randint(100_000, 300_000) if rnd.random() < 0.02 else rnd.randint(0, 400)
        payload = b'{"i":%d,"h":%d,"fill":"%s"}' % (index, height, rnd.randbytes(size // 2).hex().encode())
        yield Op(index, "write_sync" if rnd.random() < 0.3 else "write", height, payload)


def plan_up_to(seed: int, last_height: int) -> list[Op]:
    """The operations of heights 1..last_height."""
    return list(itertools.takewhile(lambda op: op.height <= last_height, iter_plan(seed)))


def messages_by_height(ops: list[Op]) -> dict[int, list[bytes]]:
    out: dict[int, list[bytes]] = {}
    for op in ops:
        out.setdefault(op.height, [])
        if op.kind != "mark":
            out[op.height].append(op.payload)
    return out
