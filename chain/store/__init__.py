"""The node's storage: versioned state with a Merkle app hash, proofs, blocks and the tx index.

    store = StateStore.open(home / "data", keep_recent=100)
    branch = CacheKV(store)              # the app writes here during a block
    ...
    app_hash = store.commit(branch.pending_writes(), block=block_json, txs=records)
    proof = store.prove(key)             # verify_proof(app_hash, key, value, proof) on a client

The hashing a client needs is in proofs.py; the tree's storage in smt.py; the database
layout, history and pruning in db.py; block and tx records in records.py.
"""
from .db import FORMAT, HeightUnavailable, ReadOnlyState, StateStore, StoreError
from .proofs import EMPTY_HASH, Proof, ProofFormatError, verify_proof
from .records import RecordError, TxRecord
from .smt import TreeCorrupt

__all__ = ["StateStore", "StoreError", "HeightUnavailable", "ReadOnlyState", "FORMAT",
           "Proof", "ProofFormatError", "verify_proof", "EMPTY_HASH", "TxRecord", "RecordError",
           "TreeCorrupt"]
