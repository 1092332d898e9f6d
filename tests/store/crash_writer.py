"""Child process of test_crash.py: commits deterministic blocks until killed or done."""
from __future__ import annotations

import sys

from chain.store import StateStore

from store.crash_blocks import block_writes, block_txs

path, last = sys.argv[1], int(sys.argv[2])
store = StateStore.open(path, keep_recent=4)
print("ready", flush=True)
while store.height < last:
    h = store.height + 1
    store.commit(block_writes(h), block=b'{"height":%d}' % h, txs=block_txs(h))
store.close()
