"""StateStore: the KVStore interface over RocksDB, atomic commits, history, pruning, records."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from rocksdict import Options, Rdict

from chain.app.kv import CacheKV, MemoryKV, iterate
from chain.store import (HeightUnavailable, ReadOnlyState, RecordError, StateStore, StoreError,
                         TxRecord, verify_proof)

from store.smt_reference import reference_app_hash

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
small_keys = st.binary(min_size=0, max_size=3)


def commit(store: StateStore, writes: dict, **kwargs) -> bytes:
    branch = CacheKV(store)
    for k, v in writes.items():
        branch.delete(k) if v is None else branch.set(k, v)
    return store.commit(branch.pending_writes(), **kwargs)


@SETTINGS
@given(st.lists(st.dictionaries(small_keys, st.one_of(st.none(), st.binary(max_size=4)), max_size=20),
                min_size=1, max_size=4),
       st.lists(st.tuples(st.one_of(st.none(), small_keys), st.one_of(st.none(), small_keys),
                          st.booleans(), st.one_of(st.none(), small_keys)), max_size=20))
def test_reads_and_iteration_match_memory_kv(blocks, scans):
    model = MemoryKV()
    with tempfile.TemporaryDirectory() as tmp, StateStore.open(tmp) as store:
        for block in blocks:
            commit(store, block)
            for k, v in block.items():
                model.delete(k) if v is None else model.set(k, v)
        assert store.app_hash == reference_app_hash(dict(iterate(model)))
        for key in {k for b in blocks for k in b}:
            assert store.get(key) == model.get(key)
        for start, end, descending, after in scans:
            assert store.next_item(start, end, descending, after) == \
                model.next_item(start, end, descending, after)
            assert list(iterate(store, start, end, descending)) == list(iterate(model, start, end, descending))
        # a branch over the store sees the same as a branch over the model
        mine, theirs = CacheKV(store), CacheKV(model)
        for branch in (mine, theirs):
            branch.set(b"\x01", b"new")
            branch.delete(b"\x00")
        assert list(iterate(mine)) == list(iterate(theirs))


def test_committed_state_is_read_only(tmp_path):
    with StateStore.open(tmp_path) as store:
        with pytest.raises(ReadOnlyState, match="CacheKV"):
            store.set(b"k", b"v")
        with pytest.raises(ReadOnlyState):
            store.delete(b"k")
        branch = CacheKV(store)
        branch.set(b"k", b"v")
        with pytest.raises(ReadOnlyState):
            branch.write()


def test_close_without_commit_keeps_the_old_version(tmp_path):
    with StateStore.open(tmp_path) as store:
        first = commit(store, {b"a": b"1", b"b": b"2"})
        branch = CacheKV(store)
        branch.set(b"a", b"changed")
        branch.set(b"c", b"3")
        # the node dies here: the branch is never committed
    with StateStore.open(tmp_path) as store:
        assert (store.height, store.app_hash) == (1, first)
        assert store.get(b"a") == b"1" and store.get(b"c") is None
        second = commit(store, {b"c": b"3"})
    with StateStore.open(tmp_path) as store:
        assert (store.height, store.app_hash) == (2, second)
        assert store.get(b"c") == b"3"
        assert verify_proof(second, b"c", b"3", store.prove(b"c"))


def test_a_failed_commit_writes_nothing(tmp_path):
    with StateStore.open(tmp_path) as store:
        first = commit(store, {b"a": b"1"})
        with pytest.raises(StoreError, match=r"\(bytes, bytes \| None\)"):
            store.commit([(b"b", b"2"), ("text", b"3")])
        with pytest.raises(StoreError, match="next must be 2"):
            store.commit([(b"b", b"2")], height=5)
        with pytest.raises(StoreError, match="saved for height 3"):
            store.commit([(b"b", b"2")], txs=[TxRecord(b"\x01" * 32, 3, 0, "alice", b"{}")])
        with pytest.raises(RecordError, match="32 bytes"):
            store.commit([(b"b", b"2")], txs=[TxRecord(b"short", 2, 0, "alice", b"{}")])
    with StateStore.open(tmp_path) as store:
        assert (store.height, store.app_hash) == (1, first)
        assert store.get(b"b") is None and store.tx(b"\x01" * 32) is None


def test_first_commit_may_start_at_an_initial_height(tmp_path):
    with StateStore.open(tmp_path) as store:
        commit(store, {b"a": b"1"}, height=100)
        assert store.height == 100 and store.get(b"a", height=100) == b"1"
        with pytest.raises(HeightUnavailable, match="pruned"):
            store.get(b"a", height=99)
        commit(store, {b"a": b"2"})
        assert store.height == 101


def test_history_and_pruning(tmp_path):
    with StateStore.open(tmp_path, keep_recent=3) as store:
        hashes = {}
        for h in range(1, 9):
            writes = {b"counter": str(h).encode(), f"k{h}".encode(): b"x"}
            if h % 3 == 0:
                writes[f"k{h - 1}".encode()] = None
            hashes[h] = commit(store, writes)
        assert store.earliest == 6
        for h in (6, 7, 8):
            assert store.get(b"counter", height=h) == str(h).encode()
            assert store.app_hash_at(h) == hashes[h]
            assert store.get(b"k5", height=h) is None  # deleted at 6
            for key in (b"counter", b"k4", b"k5", b"k7", b"nope"):
                value = store.get(key, height=h)
                assert verify_proof(hashes[h], key, value, store.prove(key, height=h))
        assert store.get(b"k7", height=7) == b"x" and store.get(b"k8", height=7) is None
        for h in (1, 5):
            with pytest.raises(HeightUnavailable, match=r"was pruned: this node keeps heights 6\.\.8"):
                store.get(b"counter", height=h)
            with pytest.raises(HeightUnavailable, match="pruned"):
                store.prove(b"counter", height=h)
        with pytest.raises(HeightUnavailable, match="not committed yet"):
            store.get(b"counter", height=9)
        with pytest.raises(HeightUnavailable, match="positive integer"):
            store.get(b"counter", height=0)
    # pruning deleted the superseded versions and nodes, not just the metadata
    with StateStore.open(tmp_path, keep_recent=3) as store:
        assert store.earliest == 6 and store.app_hash == hashes[8]
        for h in range(9, 30):
            commit(store, {b"counter": str(h).encode()})
    db = Rdict(str(tmp_path), Options(raw_mode=True))
    try:
        history = [k for k in db.keys(from_key=b"V") if k[:1] == b"V" and b"counter" in k]
        roots = [k for k in db.keys(from_key=b"R") if k[:1] == b"R"]
        assert len(history) == 3 and len(roots) == 3
    finally:
        db.close()


def test_archive_keeps_every_height(tmp_path):
    with StateStore.open(tmp_path) as store:
        hashes = [commit(store, {b"k": bytes([h])}) for h in range(1, 21)]
        for h in range(1, 21):
            assert store.get(b"k", height=h) == bytes([h])
            assert verify_proof(hashes[h - 1], b"k", bytes([h]), store.prove(b"k", height=h))


def test_blocks_and_tx_index(tmp_path):
    alice, bob = "conclave1alice", "conclave1bob"
    with StateStore.open(tmp_path) as store:
        for h in range(1, 6):
            store.save_block(h, b'{"height":%d}' % h, b'{"ok":true}')
            for i in range(3):
                sender = alice if i < 2 else bob
                store.save_tx(bytes([h, i]) * 16, h, i, sender, b'{"code":0}')
            commit(store, {b"h": bytes([h])})
        commit(store, {}, block=b'{"height":6}', txs=[TxRecord(b"\x06" * 32, 6, 0, bob, b"{}")])
    with StateStore.open(tmp_path) as store:
        assert store.block(3) == b'{"height":3}' and store.block_results(3) == b'{"ok":true}'
        assert store.block(6) == b'{"height":6}' and store.block_results(6) is None
        assert store.block(7) is None and store.block(-1) is None and store.block("3") is None
        record = store.tx(bytes([2, 1]) * 16)
        assert (record.height, record.index, record.sender, record.result) == (2, 1, alice, b'{"code":0}')
        assert store.tx(b"\x00" * 32) is None and store.tx("hash") is None
        page = store.txs_by_sender(alice, limit=4)
        assert [(r.height, r.index) for r in page] == [(5, 1), (5, 0), (4, 1), (4, 0)]
        page = store.txs_by_sender(alice, limit=4, before=(page[-1].height, page[-1].index))
        assert [(r.height, r.index) for r in page] == [(3, 1), (3, 0), (2, 1), (2, 0)]
        assert [r.height for r in store.txs_by_sender(bob)] == [6, 5, 4, 3, 2, 1]
        assert store.txs_by_sender("conclave1ali") == []  # a prefix of an address is not it
        with pytest.raises(StoreError, match="limit"):
            store.txs_by_sender(alice, limit=0)
        with pytest.raises(StoreError, match="before"):
            store.txs_by_sender(alice, before=(-1, 0))
        with pytest.raises(RecordError, match="sender"):
            store.save_tx(b"\x01" * 32, 7, 0, b"bytes", b"{}")
        with pytest.raises(RecordError, match="JSON bytes"):
            store.save_block(7, {"height": 7})


def test_refuses_a_foreign_database(tmp_path):
    db = Rdict(str(tmp_path / "other"), Options(raw_mode=True))
    db[b"something"] = b"else"
    db.close()
    with pytest.raises(StoreError, match="not a Conclave state store"):
        StateStore.open(tmp_path / "other")
    with pytest.raises(StoreError, match="keep_recent"):
        StateStore.open(tmp_path / "x", keep_recent=0)


def test_refuses_another_format(tmp_path):
    StateStore.open(tmp_path).close()
    db = Rdict(str(tmp_path), Options(raw_mode=True))
    db[b"Mformat"] = b"conclave-store/999"
    db.close()
    with pytest.raises(StoreError, match="format"):
        StateStore.open(tmp_path)


def test_large_values_and_keys(tmp_path):
    big_key, big_value = b"k" * 65_536, b"v" * 5_000_000
    with StateStore.open(tmp_path) as store:
        app_hash = commit(store, {big_key: big_value, b"": b"empty key"})
        assert store.get(big_key) == big_value and store.get(b"") == b"empty key"
        assert verify_proof(app_hash, big_key, big_value, store.prove(big_key))
        assert verify_proof(app_hash, b"", b"empty key", store.prove(b""))
