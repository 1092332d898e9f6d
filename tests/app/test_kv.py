"""Cache branches over the KV store behave like a plain sorted dict, whatever the write pattern."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from chain.app.kv import CacheKV, MemoryKV, PrefixKV, iterate, prefix_page

keys = st.binary(min_size=0, max_size=4)
ops = st.lists(st.tuples(st.sampled_from(["set", "delete"]), keys, st.binary(max_size=3)), max_size=40)


def model_range(model: dict[bytes, bytes], start, end, descending):
    items = sorted((k, v) for k, v in model.items() if (start is None or k >= start) and (end is None or k < end))
    return items[::-1] if descending else items


def apply(store, model, operations):
    for op, key, value in operations:
        if op == "set":
            store.set(key, value)
            model[key] = value
        else:
            store.delete(key)
            model.pop(key, None)


@settings(max_examples=150, deadline=None)
@given(base_ops=ops, branch_ops=ops, start=st.none() | keys, end=st.none() | keys, descending=st.booleans())
def test_branch_reads_and_iterates_like_a_dict(base_ops, branch_ops, start, end, descending):
    base, model = MemoryKV(), {}
    apply(base, model, base_ops)
    committed = dict(model)
    branch = CacheKV(base)
    apply(branch, model, branch_ops)
    assert list(iterate(branch, start, end, descending)) == model_range(model, start, end, descending)
    for _, key, _ in branch_ops:
        assert branch.get(key) == model.get(key)
    # the parent is untouched until the branch is written
    assert list(iterate(base)) == model_range(committed, None, None, False)
    branch.write()
    assert list(iterate(base, start, end, descending)) == model_range(model, start, end, descending)


@settings(max_examples=60, deadline=None)
@given(outer=ops, inner=ops, keep_inner=st.booleans())
def test_nested_branches_commit_or_discard_atomically(outer, inner, keep_inner):
    base = MemoryKV()
    tx = CacheKV(base)
    model: dict[bytes, bytes] = {}
    apply(tx, model, outer)
    snapshot = dict(model)
    msg = CacheKV(tx)
    apply(msg, model, inner)
    if keep_inner:
        msg.write()
    else:
        model = snapshot
    tx.write()
    assert list(iterate(base)) == model_range(model, None, None, False)


def test_iteration_survives_writes_between_steps():
    store = CacheKV(MemoryKV())
    for k in (b"a", b"b", b"c"):
        store.set(k, b"1")
    seen = []
    for key, _ in iterate(store):
        seen.append(key)
        store.delete(b"b")          # deleting ahead of the cursor hides the key
        store.set(b"d", b"2")       # adding ahead of the cursor shows it
    assert seen == [b"a", b"c", b"d"]


def test_prefix_view_stays_inside_its_prefix():
    base = MemoryKV()
    base.set(b"x/a", b"1")
    base.set(b"x/b", b"2")
    base.set(b"x0", b"outside")
    base.set(b"w", b"outside")
    view = PrefixKV(base, b"x/")
    assert list(iterate(view)) == [(b"a", b"1"), (b"b", b"2")]
    assert list(iterate(view, descending=True)) == [(b"b", b"2"), (b"a", b"1")]
    assert list(iterate(view, b"b")) == [(b"b", b"2")]
    prefix_ff = PrefixKV(base, b"\xff")
    base.set(b"\xff\xff", b"z")
    assert list(iterate(prefix_ff)) == [(b"\xff", b"z")]


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.binary(max_size=4), st.binary(max_size=2), max_size=30), st.binary(max_size=2),
       st.integers(min_value=1, max_value=7))
def test_prefix_pages_cover_the_prefix_exactly_once_in_order(model, prefix, limit):
    """Walking prefix_page by its last suffix yields every key under the prefix once, in order, and nothing else."""
    store = MemoryKV()
    for key, value in model.items():
        store.set(key, value)
    want = sorted((k[len(prefix):], v) for k, v in model.items() if k.startswith(prefix))
    got, after = [], None
    while True:
        page = prefix_page(store, prefix, after, limit)
        assert len(page) <= limit
        got += page
        if len(page) < limit:
            break
        after = page[-1][0]
    assert got == want
