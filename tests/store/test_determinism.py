"""The app hash is a function of the committed state: same blocks, same hash, on every node."""
from __future__ import annotations

import tempfile

from hypothesis import HealthCheck, given, settings, strategies as st

from chain.store import StateStore

from store.smt_reference import reference_app_hash

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
block = st.lists(st.tuples(st.binary(max_size=4), st.one_of(st.none(), st.binary(max_size=6))),
                 max_size=25)


def run(blocks, path) -> list[bytes]:
    with StateStore.open(path) as store:
        return [store.commit(writes) for writes in blocks]


def last_writes_win(writes):
    return {k: v for k, v in writes}


@SETTINGS
@given(st.lists(block, min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_same_blocks_same_hashes_whatever_the_order_inside_a_block(blocks, rnd):
    # A block's writes are a mapping (a CacheKV's pending writes): shuffle its distinct keys.
    blocks = [list(last_writes_win(b).items()) for b in blocks]
    shuffled = []
    for writes in blocks:
        writes = list(writes)
        rnd.shuffle(writes)
        shuffled.append(writes)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        hashes = run(blocks, a)
        assert run(shuffled, b) == hashes
    state: dict[bytes, bytes] = {}
    for writes, expected in zip(blocks, hashes):
        for k, v in writes:
            state.pop(k, None) if v is None else state.__setitem__(k, v)
        assert expected == reference_app_hash(state)


@SETTINGS
@given(st.lists(block, min_size=1, max_size=6))
def test_grouping_into_blocks_does_not_change_the_final_hash(blocks):
    everything = [w for b in blocks for w in b]
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        assert run(blocks, a)[-1] == run([everything], b)[-1]
