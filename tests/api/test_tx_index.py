"""The by-contract tx index (chain/store): a tx is listed under every contract its result events
name in ``_contract_address``, written in the block's commit batch, newest first, paged like the
by-sender index; results that name no contract (or only look like they do) add nothing."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from chain.app.block import TxResult
from chain.app.events import Event
from chain.store import StateStore, StoreError, TxRecord
from chain.store.records import MAX_CONTRACTS_PER_TX, contracts_of

A, B, ALICE = "conclave1contracta", "conclave1contractb", "conclave1alice"


def result(*contracts: str, code: int = 0) -> bytes:
    """A tx result as the app encodes it: an execute event per contract, plus a wasm event for the first."""
    events = [Event("execute", [("_contract_address", c)]) for c in contracts]
    if contracts:
        events.append(Event("wasm", [("_contract_address", contracts[0]), ("action", "vote")]))
    return TxResult(code, events=events).canonical_bytes()


def test_contracts_of_reads_the_contract_address_attributes():
    assert contracts_of(result(A, B, A)) == [A, B]
    assert contracts_of(result()) == []
    assert contracts_of(TxResult(5, log="out of gas").canonical_bytes()) == []
    # a contract cannot write the attribute itself (reserved "_" keys), and look-alikes elsewhere do not count
    fake = TxResult(0, log='{"key":"_contract_address","value":"conclave1fake"}').canonical_bytes()
    assert contracts_of(fake) == [] and contracts_of(b"not json at all") == []
    many = result(*[f"conclave1c{i:03d}" for i in range(MAX_CONTRACTS_PER_TX + 10)])
    assert len(contracts_of(many)) == MAX_CONTRACTS_PER_TX


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.text(max_size=30), max_size=4), st.text(max_size=60))
def test_contracts_of_never_fails_on_arbitrary_results(values, log):
    raw = TxResult(1, log=log, events=[Event("x" + v, [("k", v)]) for v in values]).canonical_bytes()
    assert contracts_of(raw) == []
    assert isinstance(contracts_of(json.dumps(values).encode() + log.encode("utf-8", "surrogatepass")), list)


def test_txs_by_contract_newest_first_in_pages_and_durable(tmp_path):
    with StateStore.open(tmp_path) as store:
        for h in range(1, 5):
            store.save_tx(bytes([h, 0]) * 16, h, 0, ALICE, result(A))
            store.save_tx(bytes([h, 1]) * 16, h, 1, ALICE, result(B, A))
            store.save_tx(bytes([h, 2]) * 16, h, 2, ALICE, result())          # a send: no contract
            store.commit([(b"h", bytes([h]))])
        store.commit([], txs=[TxRecord(b"\x05" * 32, 5, 0, ALICE, result(B, code=0))])
    with StateStore.open(tmp_path) as store:                                    # reopened: it was committed
        page = store.txs_by_contract(A, limit=3)
        assert [(r.height, r.index) for r in page] == [(4, 1), (4, 0), (3, 1)]
        page = store.txs_by_contract(A, limit=10, before=(page[-1].height, page[-1].index))
        assert [(r.height, r.index) for r in page] == [(3, 0), (2, 1), (2, 0), (1, 1), (1, 0)]
        assert [(r.height, r.index) for r in store.txs_by_contract(B)] == [(5, 0), (4, 1), (3, 1), (2, 1), (1, 1)]
        assert store.txs_by_contract("conclave1contract") == []     # a prefix of an address is not it
        assert len(store.txs_by_sender(ALICE, limit=100)) == 13      # the sender index is unchanged
        with pytest.raises(StoreError, match="limit"):
            store.txs_by_contract(A, limit=0)
        with pytest.raises(StoreError, match="before"):
            store.txs_by_contract(A, before=(-1, 0))
        with pytest.raises(StoreError, match="address string"):
            store.txs_by_contract(b"bytes")
