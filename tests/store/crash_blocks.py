"""A deterministic chain of blocks for the crash tests: writes, deletes and txs per height."""
from __future__ import annotations

import random

from chain.store import TxRecord

KEYS = 400


def block_writes(height: int) -> list[tuple[bytes, bytes | None]]:
    rnd = random.Random(height)
    writes = {}
    for _ in range(rnd.randint(1, 60)):
        key = b"key/%d" % rnd.randrange(KEYS)
        writes[key] = None if rnd.random() < 0.2 else rnd.randbytes(rnd.randint(0, 40))
    return list(writes.items())


def block_txs(height: int) -> list[TxRecord]:
    return [TxRecord(height.to_bytes(16, "big") + i.to_bytes(16, "big"), height, i, f"sender{i % 3}",
                     b'{"height":%d}' % height) for i in range(3)]
