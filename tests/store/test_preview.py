"""StateStore.preview_app_hash: the app hash of a commit before it happens, and its reuse by that commit."""
from __future__ import annotations

import tempfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from rocksdict import Options, Rdict

from chain.store import StateStore, StoreError

from store.smt_reference import reference_app_hash

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
writes_strategy = st.dictionaries(st.binary(min_size=1, max_size=3), st.one_of(st.none(), st.binary(max_size=4)),
                                  max_size=12)


def everything(store: StateStore) -> dict[bytes, bytes]:
    """Every RocksDB entry of a (closed) store: two stores that did the same are byte-identical."""
    db = Rdict(str(store.path), Options(raw_mode=True))
    try:
        return {k: v for k, v in db.items()}
    finally:
        db.close()


@SETTINGS
@given(st.lists(writes_strategy, min_size=1, max_size=4))
def test_preview_predicts_commit_and_leaves_the_same_database(blocks):
    """A store that previews every block ends byte-identical to one that never previews."""
    with tempfile.TemporaryDirectory() as a_dir, tempfile.TemporaryDirectory() as b_dir:
        model: dict[bytes, bytes] = {}
        with StateStore.open(a_dir, sync=False) as plain, StateStore.open(b_dir, sync=False) as previewing:
            for writes in blocks:
                items = list(writes.items())
                height, before = previewing.height, previewing.app_hash
                predicted = previewing.preview_app_hash(items)
                assert (previewing.height, previewing.app_hash) == (height, before)   # nothing written
                assert previewing.commit(items) == predicted == plain.commit(items)
                for k, v in items:
                    model.pop(k, None) if v is None else model.__setitem__(k, v)
                assert predicted == reference_app_hash(model)
        assert everything(previewing) == everything(plain)


def test_a_commit_of_other_writes_ignores_the_preview(tmp_path):
    with StateStore.open(tmp_path / "s") as store:
        store.commit([(b"a", b"1")])
        stale = store.preview_app_hash([(b"a", b"2")])
        real = store.commit([(b"a", b"3"), (b"b", b"4")])
        assert real != stale and real == reference_app_hash({b"a": b"3", b"b": b"4"})
        assert store.get(b"a") == b"3"


def test_a_preview_made_before_another_commit_is_stale(tmp_path):
    """Preview at height 2, then something else commits height 2: the preview must not leak into height 3."""
    with StateStore.open(tmp_path / "s") as store:
        store.commit([(b"k", b"0")])
        store.preview_app_hash([(b"k", b"1")], height=2)
        store.commit([(b"other", b"x")], height=2)
        h3 = store.commit([(b"k", b"1")])
        assert h3 == reference_app_hash({b"k": b"1", b"other": b"x"})


def test_the_latest_preview_wins_and_a_repeat_finalize_is_fine(tmp_path):
    with StateStore.open(tmp_path / "s") as store:
        first = store.preview_app_hash([(b"k", b"1")])
        second = store.preview_app_hash([(b"k", b"2")])
        assert first != second
        assert store.commit([(b"k", b"2")]) == second
        assert store.commit([(b"k", b"1")]) == first  # content equal to the first state again, at height 2


def test_deleting_absent_keys_previews_the_unchanged_hash(tmp_path):
    with StateStore.open(tmp_path / "s") as store:
        base = store.commit([(b"a", b"1")])
        assert store.preview_app_hash([(b"missing", None)]) == base
        assert store.commit([(b"missing", None)]) == base


def test_bad_previews_are_refused_with_the_reason(tmp_path):
    with StateStore.open(tmp_path / "s") as store:
        store.commit([(b"a", b"1")])
        with pytest.raises(StoreError, match="cannot preview height 5: the last committed height is 1"):
            store.preview_app_hash([(b"a", b"2")], height=5)
        with pytest.raises(StoreError, match="pairs"):
            store.preview_app_hash([("text key", b"2")])
        with pytest.raises(StoreError, match="pairs"):
            store.preview_app_hash([(b"k", "text value")])
        assert store.commit([(b"a", b"2")]) == reference_app_hash({b"a": b"2"})


# --- the latest-state read cache -----------------------------------------------------------------

def test_reads_follow_every_commit(tmp_path, monkeypatch):
    monkeypatch.setattr("chain.store.db.READ_CACHE_ENTRIES", 4)       # force it to start over often
    monkeypatch.setattr("chain.store.db.READ_CACHE_BYTES", 40)
    big = b"x" * (16 * 1024 + 1)                                       # never cached
    with StateStore.open(tmp_path / "s", sync=False) as store:
        model: dict[bytes, bytes] = {}
        for height in range(1, 13):
            writes = [(b"k%d" % (i % 7), b"v%d.%d" % (height, i)) for i in range(height % 5)]
            writes += [(b"gone%d" % (height - 1), None), (b"gone%d" % height, b"here"), (b"big", big + b"%d" % height)]
            for key in [b"k%d" % i for i in range(7)] + [b"missing", b"big", b"gone%d" % height]:
                store.get(key)                                         # fill the cache before the commit
            store.commit(writes)
            for key, value in writes:
                model.pop(key, None) if value is None else model.__setitem__(key, value)
            for key in [b"k%d" % i for i in range(7)] + [b"missing", b"big", b"gone%d" % height,
                                                         b"gone%d" % (height - 1)]:
                assert store.get(key) == model.get(key), key
                assert store.get(key, height=height) == model.get(key)
            assert store.get(b"big", height=1) == big + b"1"           # history is read from RocksDB
    with StateStore.open(tmp_path / "s") as reopened:                  # and the database agrees
        assert all(reopened.get(k) == v for k, v in model.items())
