"""The pooled instance allocator: slots come back after every call, start clean, and running out stops the node.

vm.py closes each call's store when the call ends, so a slot is never held by a lingering Python
reference; a slot is reset before reuse (a call never sees an earlier call's memory); an exhausted
pool raises ResourceExhausted, which is not a VmError (a tx must never fail for it on one node only).
"""
from __future__ import annotations

import ctypes

import pytest
import wasmtime

from chain.testing import TestApp, VmError
from chain.vm import rawcall
from chain.vm.engine import POOL_SETTINGS, POOL_SLOTS, engine_fingerprint, shared_engine
from chain.vm.errors import ResourceExhausted
from support import artifact


def test_every_vm_shares_the_process_engine(app: TestApp, module_cache_dir):
    other = TestApp(cache_dir=module_cache_dir)
    assert app.vm.engine is other.vm.engine is shared_engine()


def test_the_fingerprint_names_the_pool(monkeypatch):
    assert POOL_SLOTS > 0 and ("total_memories", POOL_SLOTS) in POOL_SETTINGS
    before = engine_fingerprint()
    monkeypatch.setattr("chain.vm.engine.POOL_SETTINGS", POOL_SETTINGS + (("total_stacks", 1),))
    assert engine_fingerprint() != before      # a serialized module of another pool shape is not loaded


def test_many_more_calls_than_slots_succeed(app, alice, counter, hostile):
    """Successes, contract errors and traps all give their slot back."""
    for i in range(POOL_SLOTS // 2 + 10):
        app.execute(counter, {"increment": {}}, sender=alice)
        with pytest.raises(VmError):
            app.execute(hostile, {"unreachable": {}}, sender=alice)
        with pytest.raises(VmError):
            app.execute(hostile, {"abort": {"msg": "again"}}, sender=alice)
    assert app.query(counter, {"count": {}}) == {"count": 5 + POOL_SLOTS // 2 + 10}
    assert app.vm._stack == []


def test_a_reused_slot_starts_afresh(app, alice, counter):
    """Scribble over the memory of one instance, drop it: every later instance sees the module's own bytes."""
    engine = app.vm.engine
    module = wasmtime.Module(engine, artifact("test_counter"))
    linker = wasmtime.Linker(engine)
    linker.define_unknown_imports_as_traps(module)

    def memory_of(store: wasmtime.Store) -> tuple[int, int]:
        instance = linker.instantiate(store, module)
        exports = rawcall.instance_exports(store, instance, ())
        return rawcall.memory_view(store, exports.memory)

    store = wasmtime.Store(engine)
    base, size = memory_of(store)
    pristine = ctypes.string_at(base, size)
    ctypes.memset(base, 0xA5, size)            # stack, data and heap alike
    store.close()
    for _ in range(8):                         # whichever slot the pool hands out next
        store = wasmtime.Store(engine)
        base, again = memory_of(store)
        assert again == size and ctypes.string_at(base, size) == pristine
        store.close()
    assert app.execute(counter, {"increment": {}}, sender=alice).data_json == {"count": 6}


def test_an_exhausted_pool_stops_the_call_and_is_not_a_contract_error(app, alice, counter):
    engine = app.vm.engine
    module = wasmtime.Module(engine, artifact("test_counter"))
    linker = wasmtime.Linker(engine)
    linker.define_unknown_imports_as_traps(module)
    held: list[wasmtime.Store] = []
    try:
        while True:                            # take every free slot
            store = wasmtime.Store(engine)
            try:
                linker.instantiate(store, module)
            except wasmtime.WasmtimeError:
                store.close()
                break
            held.append(store)
            assert len(held) <= POOL_SLOTS
        with pytest.raises(ResourceExhausted, match="instance pool is exhausted"):
            app.execute(counter, {"increment": {}}, sender=alice)
        assert not issubclass(ResourceExhausted, VmError)
        assert app.vm._stack == []
    finally:
        for store in held:
            store.close()
    assert app.execute(counter, {"increment": {}}, sender=alice).data_json == {"count": 6}
