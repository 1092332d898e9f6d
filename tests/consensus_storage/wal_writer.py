"""Child process of test_wal.py: performs a seeded plan of WAL writes until killed or done,
printing the index of every operation once it is durable (write_sync and mark_height)."""
from __future__ import annotations

import itertools
import sys
from pathlib import Path

from chain.consensus.wal import WAL

from consensus_storage.wal_plan import iter_plan

path, seed, count, max_file_bytes = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
wal = WAL.open(path, max_file_bytes=max_file_bytes)
print("ready", flush=True)
for op in itertools.islice(iter_plan(seed), count):
    if op.kind == "write":
        wal.write(op.payload)
    elif op.kind == "write_sync":
        wal.write_sync(op.payload)
        print(op.index, flush=True)
    else:
        wal.mark_height(op.height)
        print(op.index, flush=True)
wal.close()
print("done", flush=True)
