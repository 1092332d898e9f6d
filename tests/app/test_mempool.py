"""The mempool's rules: bounds, per-sender order, duplicates, reaping and the recheck after a block."""
from __future__ import annotations

import pytest

from chain.app import bank
from chain.app import tx as T
from chain.app.kv import CacheKV, MemoryKV
from chain.app.mempool import CODE_MEMPOOL_FULL, CODE_TX_IN_MEMPOOL, CODE_WRONG_SEQUENCE, Mempool, MempoolError
from chain.crypto.keys import PrivateKey

CHAIN = "conclave-test"
PREFIX = "conclave"
PARAMS = T.TxParams(prefix=PREFIX)
KEYS = [PrivateKey.from_seed(bytes([i]) * 32) for i in range(1, 5)]
A, B, C, D = KEYS
TO = PrivateKey.from_seed(b"z" * 32).address(PREFIX)


def tx(key: PrivateKey, sequence: int, *, gas: int = 100_000, memo: str = "") -> T.Tx:
    return T.build_tx(key, CHAIN, sequence, [T.Send(TO, (("ucnv", 1),))], gas_limit=gas, memo=memo)


def addr(key: PrivateKey) -> str:
    return key.address(PREFIX)


def pool(**kw) -> Mempool:
    return Mempool(PREFIX, **kw)


def refused(mempool: Mempool, t: T.Tx, code: int, message: str) -> None:
    with pytest.raises(MempoolError) as err:
        mempool.add(t)
    assert err.value.code == code and message in str(err.value), str(err.value)


def test_fifo_across_senders_and_sequence_order_per_sender() -> None:
    m = pool()
    order = [tx(A, 0), tx(B, 0), tx(A, 1), tx(C, 0), tx(B, 1), tx(A, 2)]
    for t in order:
        m.add(t)
    assert m.reap() == order
    assert [t.body.sequence for t in m.sender_txs(addr(A))] == [0, 1, 2]
    assert m.next_sequence(addr(A), 0) == 3 and m.next_sequence(addr(D), 7) == 7


def test_duplicate_hash_refused() -> None:
    m = pool()
    t = tx(A, 0)
    m.add(t)
    refused(m, t, CODE_TX_IN_MEMPOOL, f"tx {t.hash} is already in the mempool")
    assert len(m) == 1


def test_sequence_gap_and_repeat_refused() -> None:
    m = pool()
    m.add(tx(A, 0))
    refused(m, tx(A, 2), CODE_WRONG_SEQUENCE, "expected 1")
    refused(m, tx(A, 0, memo="same sequence, other tx"), CODE_WRONG_SEQUENCE, "expected 1")


def test_count_limit() -> None:
    m = pool(max_txs=2)
    m.add(tx(A, 0))
    m.add(tx(B, 0))
    refused(m, tx(C, 0), CODE_MEMPOOL_FULL, "mempool is full (2 txs")
    assert [t.hash for t in m.txs()] == [tx(A, 0).hash, tx(B, 0).hash]  # nothing evicted


def test_byte_limit() -> None:
    first = tx(A, 0)
    m = pool(max_bytes=first.size * 2 + 10)
    m.add(first)
    m.add(tx(B, 0))
    refused(m, tx(C, 0), CODE_MEMPOOL_FULL, "bytes")
    assert m.size_bytes == first.size + tx(B, 0).size
    m.remove(first.hash)
    m.add(tx(C, 0))  # space freed


def test_per_sender_limit() -> None:
    m = pool(max_per_sender=3)
    for seq in range(3):
        m.add(tx(A, seq))
    refused(m, tx(A, 3), CODE_MEMPOOL_FULL, "already has 3 pending txs")
    m.add(tx(B, 0))  # other senders unaffected


def test_reap_respects_byte_and_gas_budgets_without_gaps() -> None:
    m = pool()
    a0, a1, b0, c0 = tx(A, 0, gas=400), tx(A, 1, gas=400), tx(B, 0, gas=700), tx(C, 0, gas=100)
    for t in (a0, b0, a1, c0):
        m.add(t)
    assert m.reap(max_gas=800) == [a0, a1]            # b0 skipped; c0 would exceed after a1
    assert m.reap(max_gas=500) == [a0, c0]            # a1 skipped, so is nothing else of A's
    assert m.reap(max_gas=300) == [c0]                # A skipped entirely: a1 cannot come without a0
    assert m.reap(max_bytes=a0.size) == [a0]
    assert m.reap(max_bytes=0, max_gas=0) == []
    assert len(m) == 4                                # reaping does not remove


def test_update_removes_committed_and_stale_txs() -> None:
    m = pool()
    a = [tx(A, s) for s in range(3)]
    b = [tx(B, s) for s in range(2)]
    for t in a + b:
        m.add(t)
    sequences = {addr(A): 2, addr(B): 0}
    # the block included a0 only; a1 was consumed elsewhere (e.g. a tx with the same sequence
    # that reached the proposer through another node): it is stale now
    dropped = m.update([a[0].hash], sequences.__getitem__)
    assert dropped == [a[1]]
    assert m.txs() == m.reap() == [a[2], b[0], b[1]]
    assert m.size_bytes == sum(t.size for t in m.txs())


def test_update_drops_a_sender_left_with_a_gap() -> None:
    m = pool()
    for s in range(3):
        m.add(tx(A, s))
    m.add(tx(B, 0))
    dropped = m.update([], {addr(A): 5, addr(B): 0}.__getitem__)  # all of A's are stale
    assert [t.body.sequence for t in dropped] == [0, 1, 2]
    m2 = pool()
    for s in range(3):
        m2.add(tx(A, s))
    dropped = m2.update([], {addr(A): 0}.__getitem__, recheck=lambda t: t.body.sequence != 1)
    assert [t.body.sequence for t in dropped] == [1, 2] and [t.body.sequence for t in m2.txs()] == [0]


def test_recheck_with_check_tx_on_a_fresh_check_state() -> None:
    """The node's loop: admit through ante on a check state; after a block, recheck on a new one."""
    committed = MemoryKV()
    for key in (A, B):
        bank.mint(committed, addr(key), [("ucnv", 100)])
    check_state = CacheKV(committed)
    m = pool()
    fee = (("ucnv", 40),)
    txs = [T.build_tx(A, CHAIN, s, [T.Send(TO, (("ucnv", 1),))], fee=fee) for s in range(3)]
    admitted = []
    for t in txs:
        result = T.ante(check_state, t, CHAIN, PARAMS)
        if result.ok:
            m.add(t)
            admitted.append(t)
    assert admitted == txs[:2]                        # the third cannot pay its fee: 100 < 3 * 40
    # A block executes a0 on the committed state; A's balance then drops further elsewhere.
    assert T.ante(committed, txs[0], CHAIN, PARAMS).ok
    bank.send(committed, addr(A), TO, [("ucnv", 30)])
    fresh = CacheKV(committed)
    dropped = m.update([txs[0].hash], lambda s: T.account_sequence(committed, s),
                       recheck=lambda t: T.ante(fresh, t, CHAIN, PARAMS).ok)
    assert dropped == [txs[1]] and len(m) == 0       # 30 left, fee 40: no longer affordable
