"""The host survives every misbehaviour of test-hostile (contracts/test/hostile).

Each hostile execute must fail (or succeed) as exactly that one call, with a clear message and
with its gas charged; afterwards the VM's call stack is empty, the whole store is byte-for-byte
what it was, and the counter contract still executes. Real wasmtime, real artifacts.
"""
from __future__ import annotations

import json
import re

import pytest
import wasmtime

from chain.app.context import BlockInfo, Context
from chain.app.kv import CacheKV, iterate
from chain.app.wasm import state
from chain.app.wasm.keeper import InvalidContractResult
from chain.testing import ContractError, OutOfGas, TestApp, VmError
from chain.vm import ContractTrap, GasMeter
from chain.vm.host import MAX_LENGTH_DB_KEY, MAX_OPEN_ITERATORS
from chain.vm.vm import MAX_RESULT_LENGTH, MEMORY_LIMIT_BYTES

MIB = 1024 * 1024
PAGE = 64 * 1024


def snapshot(app: TestApp) -> list[tuple[bytes, bytes]]:
    """Every key and value of the app's committed state, in order."""
    return list(iterate(app.store))


def contract_state(app: TestApp, address: str) -> list[tuple[bytes, bytes]]:
    return list(iterate(state.contract_storage(app.store, address)))


def assert_unharmed(app: TestApp, before: list[tuple[bytes, bytes]], counter: str, sender: str,
                    expected_count: int = 6) -> None:
    """Nothing leaked: no call context left behind, state untouched, the counter still works."""
    assert app.vm._stack == []
    assert snapshot(app) == before
    result = app.execute(counter, {"increment": {}}, sender=sender)
    assert result.wasm_attribute("count") == str(expected_count)
    assert result.data_json == {"count": expected_count}
    assert app.query(counter, {"count": {}}) == {"count": expected_count}
    assert app.vm._stack == []


# (message, error type, exact message pattern, gas limit or None)
FAILURES = [
    pytest.param({"loop": {}}, OutOfGas, r"^out of gas$", 200_000, id="loop"),
    # The allocator cannot grow memory past 32 MiB; Rust's OOM handler ends in `unreachable`.
    pytest.param({"allocate_bytes": {"bytes": 100_000_000}}, ContractTrap,
                 r"^wasm trap: unreachable executed \(the contract panicked\)$", None, id="allocate_100mb"),
    # Rust keeps its stack in linear memory (1 MiB, below the data): with 256-byte frames that
    # shadow stack runs out long before wasmtime's native stack, and the stack pointer wraps
    # below address 0. See test_native_stack_exhaustion for the native-stack case.
    pytest.param({"recurse": {"depth": 10_000_000}}, ContractTrap,
                 r"^wasm trap: out-of-bounds memory access$", None, id="recurse_deep"),
    # 40 MiB of attribute cannot even be built inside a 32 MiB memory.
    pytest.param({"huge_response": {"bytes": 40 * MIB}}, ContractTrap,
                 r"^wasm trap: unreachable executed \(the contract panicked\)$", None, id="huge_response_40mib"),
    pytest.param({"abort": {"msg": "bye now"}}, ContractTrap, r"^aborted: bye now$", None, id="abort"),
    pytest.param({"panic": {}}, ContractTrap,
                 r"^aborted: panicked at 'hostile panic', test/hostile/src/contract\.rs:\d+:\d+$", None, id="panic"),
    pytest.param({"unreachable": {}}, ContractTrap,
                 r"^wasm trap: unreachable executed \(the contract panicked\)$", None, id="unreachable"),
    pytest.param({"invalid_json": {}}, InvalidContractResult, r"returned invalid JSON", None, id="invalid_json"),
    pytest.param({"bad_region": {}}, VmError, r"^region pointer 0xfffffff0 is outside guest memory$", None,
                 id="bad_region"),
    pytest.param({"region_100mb": {}}, VmError,
                 rf"^region length {100 * MIB} exceeds the limit of {MAX_RESULT_LENGTH} bytes$", None,
                 id="region_100mb"),
    pytest.param({"db_read_huge_key": {}}, VmError,
                 rf"^region length {100 * 1024} exceeds the limit of {MAX_LENGTH_DB_KEY} bytes$", None,
                 id="db_read_huge_key"),
    pytest.param({"scan_leak": {"count": 2000}}, VmError,
                 rf"^too many open iterators \(limit {MAX_OPEN_ITERATORS}\)$", None, id="scan_leak_2000"),
]


@pytest.mark.parametrize("msg, error, pattern, gas_limit", FAILURES)
def test_hostile_call_fails_alone(app, alice, counter, hostile, msg, error, pattern, gas_limit):
    before = snapshot(app)
    hostile_before = contract_state(app, hostile)
    with pytest.raises(error, match=pattern) as info:
        app.execute(hostile, msg, sender=alice, gas_limit=gas_limit)
    # gas is charged on failure as on success
    assert info.value.gas_used > 0
    if gas_limit is not None:
        assert info.value.gas_used <= gas_limit
    assert contract_state(app, hostile) == hostile_before
    assert_unharmed(app, before, counter, alice)


def test_loop_burns_exactly_its_gas_limit(app, alice, counter, hostile):
    before = snapshot(app)
    for limit in (50_000, 200_000):
        with pytest.raises(OutOfGas) as info:
            app.execute(hostile, {"loop": {}}, sender=alice, gas_limit=limit)
        assert info.value.gas_used == limit
    assert_unharmed(app, before, counter, alice)


def test_failed_call_charges_the_gas_meter_it_was_given(app, alice, counter, hostile):
    """Through the keeper with our own Context: the meter keeps what the failed call burnt."""
    before = snapshot(app)
    for msg, error in (({"abort": {"msg": "m"}}, ContractTrap), ({"loop": {}}, OutOfGas),
                       ({"scan_leak": {"count": 2000}}, VmError)):
        meter = GasMeter.with_sdk_gas(300_000)
        branch = CacheKV(app.store)
        ctx = Context(store=branch, block=BlockInfo(app.height, app.block.time_ns, app.chain_id), meter=meter,
                      tx_index=0)
        with pytest.raises(error):
            app.keeper.execute(ctx, alice, hostile, json.dumps(msg).encode(), [])
        assert meter.used > 0
        assert meter.used <= meter.limit
        if error is OutOfGas:
            assert meter.used == meter.limit
        else:
            assert meter.used < meter.limit
        # the branch holds no contract write (only what the keeper itself touched, never written back)
        assert not any(key.startswith(b"wasm/store/") for key, _ in branch.pending_writes())
    assert_unharmed(app, before, counter, alice)


@pytest.mark.parametrize("pages", [MEMORY_LIMIT_BYTES // PAGE, 600, 65_536, 0xFFFF_FFFF])
def test_grow_memory_past_the_limit_returns_minus_one(app, alice, counter, hostile, pages):
    before = snapshot(app)
    # growing by the whole 32 MiB limit (or more) always exceeds it
    result = app.execute(hostile, {"grow_memory": {"pages": pages}}, sender=alice)
    assert result.wasm_attribute("grow_result") == "-1"
    assert result.gas_used > 0
    # a small growth is granted: the answer is the previous size in pages
    result = app.execute(hostile, {"grow_memory": {"pages": 10}}, sender=alice)
    previous = int(result.wasm_attribute("grow_result"))
    assert 0 < previous < MEMORY_LIMIT_BYTES // PAGE
    # the hostile contract writes nothing
    assert snapshot(app) == before
    assert_unharmed(app, before, counter, alice)


def test_each_call_gets_a_fresh_memory(app, alice, hostile):
    """Growth in one call does not carry into the next (fresh instance per call)."""
    first = int(app.execute(hostile, {"grow_memory": {"pages": 100}}, sender=alice).wasm_attribute("grow_result"))
    second = int(app.execute(hostile, {"grow_memory": {"pages": 100}}, sender=alice).wasm_attribute("grow_result"))
    assert first == second
    # 100 more pages, repeatedly, would pass 512 pages if memory were kept across calls
    for _ in range(5):
        assert app.execute(hostile, {"grow_memory": {"pages": 100}}, sender=alice).wasm_attribute("grow_result") \
            == str(first)


def test_allocation_within_the_limit_succeeds(app, alice, hostile):
    result = app.execute(hostile, {"allocate_bytes": {"bytes": 16 * MIB}}, sender=alice)
    assert result.wasm_attribute("allocated") == str(16 * MIB)


def test_moderate_recursion_succeeds(app, alice, hostile):
    result = app.execute(hostile, {"recurse": {"depth": 100}}, sender=alice)
    # each frame adds (depth as u8) + 1: sum(d + 1 for d in 1..=100)
    assert result.wasm_attribute("recurse_result") == str(sum(d + 1 for d in range(1, 101)))


def test_huge_response_of_one_mib_succeeds(app, alice, counter, hostile):
    before = snapshot(app)
    result = app.execute(hostile, {"huge_response": {"bytes": MIB}}, sender=alice)
    huge = result.wasm_attribute("huge")
    assert huge is not None and len(huge) == MIB and huge == "x" * MIB
    # reading a 1 MiB result region is paid per byte
    small = app.execute(hostile, {"huge_response": {"bytes": 10}}, sender=alice)
    assert small.wasm_attribute("huge") == "x" * 10
    assert result.gas_used > small.gas_used
    assert_unharmed(app, before, counter, alice)


@pytest.mark.parametrize("a", ["0", "1.5", "-3", "-0", "inf"])
def test_nan_results_are_canonical(app, alice, hostile, a):
    result = app.execute(hostile, {"nan": {"a": a}}, sender=alice)
    assert result.wasm_attribute("bits") == "7fc00000"
    assert result.wasm_attribute("bits64") == "7ff8000000000000"
    assert result.wasm_attribute("neg_bits") == "7fc00000"
    assert result.wasm_attribute("neg_bits64") == "7ff8000000000000"


def test_iterators_belong_to_one_call(app, alice, hostile):
    """Iterator ids restart at 1 in every call: nothing is kept between calls."""
    for _ in range(3):
        result = app.execute(hostile, {"scan_leak": {"count": 5}}, sender=alice)
        assert result.wasm_attribute("opened") == "5"
        assert result.wasm_attribute("last_iterator_id") == "5"
    # exactly at the limit is allowed
    result = app.execute(hostile, {"scan_leak": {"count": MAX_OPEN_ITERATORS}}, sender=alice)
    assert result.wasm_attribute("last_iterator_id") == str(MAX_OPEN_ITERATORS)
    with pytest.raises(VmError, match="too many open iterators"):
        app.execute(hostile, {"scan_leak": {"count": MAX_OPEN_ITERATORS + 1}}, sender=alice)


def test_unknown_hostile_message_is_a_contract_error(app, alice, hostile):
    with pytest.raises(ContractError, match=r"^Error parsing into type test_hostile::msg::ExecuteMsg"):
        app.execute(hostile, {"no_such_thing": {}}, sender=alice)


def test_query_cannot_write(app, alice, counter, reflect):
    before = snapshot(app)
    with pytest.raises(VmError, match=r"^db_write is not allowed: storage is read-only during a query$"):
        app.query(reflect, {"try_write": {}})
    assert app.query(reflect, {"read": {"key": "try_write"}}) == {"value": None}
    assert app.query_raw(reflect, b"try_write") is None
    assert_unharmed(app, before, counter, alice)


def test_fifty_hostile_calls_then_a_normal_one(app, alice, counter, hostile, reflect):
    before = snapshot(app)
    cases = [(p.values[0], p.values[1], p.values[3]) for p in FAILURES]
    for i in range(50):
        msg, error, gas_limit = cases[i % len(cases)]
        with pytest.raises(error):
            app.execute(hostile, msg, sender=alice, gas_limit=gas_limit)
        assert app.vm._stack == []
    with pytest.raises(VmError):
        app.query(reflect, {"try_write": {}})
    assert app.vm._stack == []
    assert_unharmed(app, before, counter, alice)
    # and the hostile contract itself still answers normally
    assert app.execute(hostile, {"recurse": {"depth": 3}}, sender=alice).wasm_attribute("recurse_result") == "9"


# --- the native wasm stack -----------------------------------------------------------------
# Rust contracts exhaust their shadow stack first (above), so a purpose-built module recursing
# with no linear-memory frames is the way to reach wasmtime's own stack limit.

_NATIVE_RECURSION_WAT = """
(module
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "interface_version_8"))
  ;; a bump allocator handing out {offset, capacity, length} regions
  (func (export "allocate") (param $n i32) (result i32)
    (local $r i32)
    (local.set $r (global.get $heap))
    (i32.store (local.get $r) (i32.add (local.get $r) (i32.const 12)))
    (i32.store offset=4 (local.get $r) (local.get $n))
    (i32.store offset=8 (local.get $r) (i32.const 0))
    (global.set $heap (i32.add (i32.add (local.get $r) (local.get $n)) (i32.const 12)))
    (local.get $r))
  (func (export "deallocate") (param i32))
  (func $down (param i32) (result i32)
    (i32.add (call $down (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "instantiate") (param i32 i32 i32) (result i32)
    (call $down (i32.const 0)))
)
"""


def test_native_stack_exhaustion(app, alice, counter):
    code_id = app.store_code(wasmtime.wat2wasm(_NATIVE_RECURSION_WAT))
    before = snapshot(app)
    with pytest.raises(ContractTrap, match=r"^wasm trap: call stack exhausted$") as info:
        app.instantiate(code_id, {}, sender=alice, label="deep")
    assert info.value.gas_used > 0
    assert_unharmed(app, before, counter, alice)
    # the module itself is fine to call again: the same clean failure
    with pytest.raises(ContractTrap, match=re.escape("call stack exhausted")):
        app.instantiate(code_id, {}, sender=alice, label="deep")


def test_empty_storage_keys_are_refused(app, alice, reflect):
    """cosmos-sdk stores refuse empty keys; so do we, failing only that call."""
    with pytest.raises(VmError, match="storage key must not be empty"):
        app.execute(reflect, {"write": {"key": "", "value": "v"}}, sender=alice)
    with pytest.raises(VmError, match="storage key must not be empty"):
        app.query(reflect, {"read": {"key": ""}})
