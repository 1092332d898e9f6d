"""The mempool: checked transactions waiting for a block. Pure bookkeeping, no I/O, no clock.

Rules (each one a test):
- Admission: a tx is admitted after ``check_tx`` passed (the caller runs it against its check
  state, where admitted txs have already consumed their sequences, as cosmos-sdk does). The pool
  refuses a tx whose hash it already holds, and a tx whose sequence is not the sender's next:
  the sender's txs form a gap-free run of sequences.
- Bounds: at most ``max_txs`` txs and ``max_bytes`` bytes in total, at most ``max_per_sender``
  txs per sender. A full pool refuses new txs; it never evicts admitted ones (evicting one would
  leave its sender's later txs unexecutable, and a chain with zero fees has no fee market to
  rank by). Space frees as blocks include txs or rechecks drop them.
- Order: first come, first served across senders; per sender by sequence (which, with gap-free
  admission, is also arrival order).
- Reap: the longest prefix-respecting selection in that order within ``max_bytes`` and
  ``max_gas`` (gas counted as each tx's gas_limit); a tx that does not fit is skipped together
  with its sender's later txs, and smaller txs of other senders may still fill the space.
- After a block (``update``): txs the block included are removed, then txs whose sequence the
  account has passed (stale) are dropped; if a sender's first remaining tx is then not at the
  account's sequence (a gap), all that sender's txs are dropped, as they could never execute.
  An optional ``recheck`` callback runs each remaining tx in order; one it refuses is dropped
  with that sender's later txs.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterable

from .errors import AppError
from .tx import Tx

DEFAULT_MAX_TXS = 5_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_PER_SENDER = 64

CODE_TX_IN_MEMPOOL = 19       # cosmos-sdk ErrTxInMempoolCache
CODE_MEMPOOL_FULL = 20        # cosmos-sdk ErrMempoolIsFull
CODE_WRONG_SEQUENCE = 32


class MempoolError(AppError):
    """The mempool refused a tx; ``code`` is cosmos-sdk's."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Entry:
    tx: Tx
    sender: str


class Mempool:
    def __init__(self, prefix: str, *, max_txs: int = DEFAULT_MAX_TXS, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_per_sender: int = DEFAULT_MAX_PER_SENDER):
        self.prefix = prefix
        self.max_txs = max_txs
        self.max_bytes = max_bytes
        self.max_per_sender = max_per_sender
        self._by_hash: OrderedDict[str, Entry] = OrderedDict()   # arrival order
        self._by_sender: dict[str, list[Tx]] = {}                # sequence order
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: str) -> bool:
        return tx_hash in self._by_hash

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def txs(self) -> list[Tx]:
        """Every tx, in arrival order."""
        return [e.tx for e in self._by_hash.values()]

    def sender_txs(self, sender: str) -> list[Tx]:
        return list(self._by_sender.get(sender, ()))

    def next_sequence(self, sender: str, account_sequence: int) -> int:
        """The sequence the sender's next tx must carry, counting the txs already pending."""
        pending = self._by_sender.get(sender)
        return pending[-1].body.sequence + 1 if pending else account_sequence

    def add(self, tx: Tx) -> None:
        """Admit a checked tx, or raise MempoolError saying why not."""
        if tx.hash in self._by_hash:
            raise MempoolError(f"tx {tx.hash} is already in the mempool", CODE_TX_IN_MEMPOOL)
        sender = tx.sender(self.prefix)
        pending = self._by_sender.get(sender, [])
        if pending and tx.body.sequence != pending[-1].body.sequence + 1:
            raise MempoolError(f"sequence {tx.body.sequence} does not follow the pending txs of {sender}: "
                               f"expected {pending[-1].body.sequence + 1}", CODE_WRONG_SEQUENCE)
        if len(pending) >= self.max_per_sender:
            raise MempoolError(f"{sender} already has {len(pending)} pending txs, the limit: wait for a block",
                               CODE_MEMPOOL_FULL)
        if len(self._by_hash) >= self.max_txs or self._bytes + tx.size > self.max_bytes:
            raise MempoolError(f"mempool is full ({len(self._by_hash)} txs, {self._bytes} bytes; limits "
                               f"{self.max_txs} txs, {self.max_bytes} bytes): try again later", CODE_MEMPOOL_FULL)
        self._by_hash[tx.hash] = Entry(tx, sender)
        self._by_sender.setdefault(sender, []).append(tx)
        self._bytes += tx.size

    def reap(self, max_bytes: int | None = None, max_gas: int | None = None) -> list[Tx]:
        """Txs for the next block, in order, within the byte and gas budgets (None: unbounded)."""
        chosen: list[Tx] = []
        skipped: set[str] = set()
        total_bytes = total_gas = 0
        for entry in self._by_hash.values():
            if entry.sender in skipped:
                continue
            tx = entry.tx
            if (max_bytes is not None and total_bytes + tx.size > max_bytes) or \
                    (max_gas is not None and total_gas + tx.body.gas_limit > max_gas):
                skipped.add(entry.sender)   # its later txs would run out of sequence
                continue
            chosen.append(tx)
            total_bytes += tx.size
            total_gas += tx.body.gas_limit
        return chosen

    def remove(self, tx_hash: str) -> None:
        entry = self._by_hash.pop(tx_hash, None)
        if entry is None:
            return
        pending = self._by_sender[entry.sender]
        pending.remove(entry.tx)
        if not pending:
            del self._by_sender[entry.sender]
        self._bytes -= entry.tx.size

    def update(self, committed: Iterable[str], sequence_of: Callable[[str], int],
               recheck: Callable[[Tx], bool] | None = None) -> list[Tx]:
        """After a block: drop what it included and what can no longer execute; returns the dropped."""
        for tx_hash in committed:
            self.remove(tx_hash)
        dropped: list[Tx] = []
        for sender in list(self._by_sender):
            pending = self._by_sender[sender]
            account = expected = sequence_of(sender)
            cut = len(pending)
            for i, tx in enumerate(pending):
                if tx.body.sequence < expected:
                    continue                                # stale: the sequence was consumed
                if tx.body.sequence != expected or (recheck is not None and not recheck(tx)):
                    cut = i                                 # a gap or a refusal: nothing later can run
                    break
                expected += 1
            gone = [tx for i, tx in enumerate(pending) if i >= cut or tx.body.sequence < account]
            for tx in gone:
                self.remove(tx.hash)
            dropped.extend(gone)
        return dropped
