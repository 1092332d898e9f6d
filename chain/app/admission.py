"""Signature checks of incoming txs on a second core, ahead of their (serial) admission.

Admission (``App.check_tx``) runs on the check state, one tx after the other, in arrival order:
that order decides sequences, so it stays serial. The ed25519 check inside it is the costly part
(~45 µs), needs no state, and PyNaCl releases the GIL while libsodium verifies. So a batch of txs
is first pre-verified: the calling thread decodes every tx (memoized by its bytes; decoding is
Python and holds the GIL, so more threads would only queue for it), then the signatures are
checked in equal shares by the calling thread and the pool's workers (a passed check is memoized
by what it verified, tx.signature_valid). The serial check_tx that follows finds both answers
ready. Measured on the project machine: decode-and-verify on one thread 88 µs a tx, this way 78.

Not overlapped with block execution: a block makes hundreds of ctypes calls per tx (wasmtime),
each of which hands the GIL to any other runnable thread, and a worker decoding txs meanwhile then
holds it for tens of µs. Measured: pre-verifying the next block's txs on a worker during execution
cost execution ~160 µs a tx and saved admission ~55.

Pre-verification changes no outcome: a tx it could not decode or whose signature failed is simply
left for check_tx to refuse with its usual answer.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from .tx import Tx, TxError, decode_tx, signature_valid

DEFAULT_THREADS = 2            # the project machine has 2 cores
MIN_BATCH = 16                 # below this, the pool's hand-off costs more than it saves

__all__ = ["SignatureVerifier", "preverify"]


def preverify(raw: bytes) -> bool:
    """Decode ``raw`` and check its signature, touching no state: safe on any thread.

    True if the signature is valid (the answer is then memoized for check_tx and execution);
    False for bytes that do not decode or a bad signature (check_tx will say why).
    """
    try:
        tx = decode_tx(raw)
    except TxError:
        return False
    return signature_valid(tx.body.pubkey, tx.sign_bytes, tx.signature)


def _decoded(raw: bytes) -> Tx | None:
    try:
        return decode_tx(raw)
    except TxError:
        return None


def _verify_chunk(txs: Sequence[Tx]) -> None:
    for tx in txs:
        signature_valid(tx.body.pubkey, tx.sign_bytes, tx.signature)


class SignatureVerifier:
    """Pre-verifies batches of txs on ``threads`` threads: the caller's and a lazily started pool of the rest."""

    def __init__(self, threads: int = DEFAULT_THREADS):
        if threads < 1:
            raise ValueError(f"signature verification needs at least one thread, got {threads}")
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def preverify_all(self, raws: Sequence[bytes]) -> None:
        """Pre-verify every tx of ``raws`` (in ``threads`` chunks, in parallel); returns when all are done."""
        txs = [tx for tx in map(_decoded, raws) if tx is not None]
        if len(txs) < MIN_BATCH or self.threads == 1:
            _verify_chunk(txs)
            return
        size = -(-len(txs) // self.threads)
        own, *rest = [txs[i:i + size] for i in range(0, len(txs), size)]
        futures = [self._executor().submit(_verify_chunk, chunk) for chunk in rest]
        _verify_chunk(own)                 # the calling thread takes the first share itself
        for future in futures:
            future.result()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="conclave-sigverify")
            return self._pool

    def close(self) -> None:
        """Stop the workers (they are started again if needed)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
