"""State store benchmark: prints one JSON object.

- commits_per_s / commit_ms: blocks of 1,000 writes (800 updates of existing keys, 200 new
  keys; 32-byte keys, 100-byte values) committed to a RocksDB store already holding 100,000
  keys: app hash, Merkle nodes, value history, one WriteBatch (fsync on, keep_recent 100).
- prove_us / verify_us: an inclusion proof from that store, and its verification with
  proofs.verify_proof (hashlib only).
- depth: mean number of siblings in those proofs (log2 of the key count, plus a little).
"""
from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chain.store import StateStore, verify_proof  # noqa: E402

KEYS = 100_000
BLOCK_WRITES = 1_000
NEW_PER_BLOCK = 200
BLOCKS = 30
PROOFS = 2_000
VALUE_BYTES = 100


def key(i: int) -> bytes:
    return b"bench/%026d" % i


def main() -> None:
    rnd = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        store = StateStore.open(tmp, keep_recent=100)
        fill_start = time.perf_counter()
        for start in range(0, KEYS, 10_000):
            store.commit((key(i), rnd.randbytes(VALUE_BYTES)) for i in range(start, start + 10_000))
        fill_s = time.perf_counter() - fill_start
        count = KEYS
        times = []
        for _ in range(BLOCKS):
            writes = [(key(rnd.randrange(count)), rnd.randbytes(VALUE_BYTES))
                      for _ in range(BLOCK_WRITES - NEW_PER_BLOCK)]
            writes += [(key(count + j), rnd.randbytes(VALUE_BYTES)) for j in range(NEW_PER_BLOCK)]
            count += NEW_PER_BLOCK
            start = time.perf_counter()
            store.commit(writes)
            times.append(time.perf_counter() - start)
        times.sort()
        median = times[len(times) // 2]

        targets = [key(rnd.randrange(count)) for _ in range(PROOFS)]
        start = time.perf_counter()
        proofs = [store.prove(k) for k in targets]
        prove_s = (time.perf_counter() - start) / PROOFS
        app_hash = store.app_hash
        values = [store.get(k) for k in targets]
        start = time.perf_counter()
        ok = all(verify_proof(app_hash, k, v, p) for k, v, p in zip(targets, values, proofs))
        verify_s = (time.perf_counter() - start) / PROOFS
        store.close()
    assert ok, "a proof failed to verify"
    print(json.dumps({
        "keys": count,
        "block_writes": BLOCK_WRITES,
        "commits_per_s": round(1 / median, 1),
        "commit_ms": round(median * 1000, 1),
        "commit_ms_best": round(times[0] * 1000, 1),
        "prove_us": round(prove_s * 1e6, 1),
        "verify_us": round(verify_s * 1e6, 1),
        "depth": round(sum(len(p.siblings) for p in proofs) / PROOFS, 1),
        "fill_100k_s": round(fill_s, 1),
    }))


if __name__ == "__main__":
    main()
