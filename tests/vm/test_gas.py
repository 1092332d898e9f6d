"""Gas: deterministic metering of real contract calls, and the unit conversions of chain/vm/gas.py."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain.testing import ContractError, OutOfGas, TestApp
from chain.vm import GasMeter
from chain.vm.gas import (
    GAS_MULTIPLIER,
    WASM_GAS_PER_FUEL,
    fuel_for_sdk_gas,
    fuel_for_wasm_gas,
    fuel_limit_for_sdk_gas,
    sdk_gas_for_fuel,
)
from support import artifact


def _fresh(cache_dir) -> tuple[TestApp, str, str]:
    app = TestApp(cache_dir=cache_dir)
    alice = app.create_account("alice", {"ucnv": 1000})
    counter = app.instantiate(app.store_code(artifact("test_counter")), {"count": 5}, sender=alice, label="c")
    return app, alice, counter


# --- metering real calls -------------------------------------------------------------------

def test_same_call_same_gas_across_apps(module_cache_dir, tmp_path):
    """Two independent apps (one with a warm shared cache, one compiling afresh) agree exactly."""
    used = []
    for cache_dir in (module_cache_dir, tmp_path):
        app, alice, counter = _fresh(cache_dir)
        first = app.execute(counter, {"increment": {}}, sender=alice).gas_used
        second = app.execute(counter, {"increment": {}}, sender=alice).gas_used
        used.append((first, second))
    assert used[0] == used[1]
    first, second = used[0]
    assert first > 0
    assert first == second          # the same work on the same sized state costs the same


def test_instantiate_gas_is_deterministic(module_cache_dir):
    results = []
    for _ in range(2):
        app = TestApp(cache_dir=module_cache_dir)
        alice = app.create_account("alice")
        code_id = app.store_code(artifact("test_counter"))
        results.append(app.instantiate_full(code_id, {"count": 1}, sender=alice, label="c").gas_used)
    assert results[0] == results[1] > 0


def test_failed_calls_charge_deterministically(module_cache_dir):
    used = []
    for _ in range(2):
        app, alice, counter = _fresh(module_cache_dir)
        with pytest.raises(ContractError, match="^boom$") as info:
            app.execute(counter, {"fail": {"msg": "boom"}}, sender=alice)
        used.append(info.value.gas_used)
    assert used[0] == used[1] > 0


def test_heavier_call_uses_more_gas(app, alice, reflect):
    small = app.execute(reflect, {"write": {"key": "k", "value": "v"}}, sender=alice).gas_used
    large = app.execute(reflect, {"write": {"key": "k", "value": "v" * 10_000}}, sender=alice).gas_used
    larger = app.execute(reflect, {"write": {"key": "k", "value": "v" * 20_000}}, sender=alice).gas_used
    assert 0 < small < large < larger
    # storage writes alone are priced at 30 SDK gas per byte (cosmos-sdk KVGasConfig)
    assert large - small >= 30 * 9_999
    assert larger - large >= 30 * 10_000


def test_out_of_gas_leaves_state_untouched(app, alice, counter):
    assert app.query(counter, {"count": {}}) == {"count": 5}
    with pytest.raises(OutOfGas) as info:
        app.execute(counter, {"increment": {}}, sender=alice, gas_limit=100)
    assert info.value.gas_used == 100       # the whole limit is charged
    assert app.query(counter, {"count": {}}) == {"count": 5}
    assert app.execute(counter, {"increment": {}}, sender=alice).data_json == {"count": 6}


def test_gas_limit_boundary_is_exact(module_cache_dir):
    """A call succeeds with exactly the gas it reports using, and fails with one less."""
    app, alice, counter = _fresh(module_cache_dir)
    needed = app.execute(counter, {"increment": {}}, sender=alice).gas_used   # count 6
    assert app.execute(counter, {"increment": {}}, sender=alice, gas_limit=needed).gas_used == needed  # 7
    with pytest.raises(OutOfGas) as info:
        app.execute(counter, {"increment": {}}, sender=alice, gas_limit=needed - 1)
    assert info.value.gas_used == needed - 1
    assert app.query(counter, {"count": {}}) == {"count": 7}


# --- conversions ---------------------------------------------------------------------------

def test_constants():
    assert WASM_GAS_PER_FUEL == 115
    assert GAS_MULTIPLIER == 140_000


def test_fuel_for_wasm_gas_rounds_up():
    assert fuel_for_wasm_gas(0) == 0
    assert fuel_for_wasm_gas(1) == 1
    assert fuel_for_wasm_gas(115) == 1
    assert fuel_for_wasm_gas(116) == 2
    assert fuel_for_wasm_gas(18_000) == 157     # a host call: 156.52... fuel


def test_fuel_for_sdk_gas_rounds_up():
    assert fuel_for_sdk_gas(0) == 0
    assert fuel_for_sdk_gas(1) == 1218          # 140000 / 115 = 1217.39...
    assert fuel_for_sdk_gas(23) == 28_000       # exact: 23 * 140000 / 115
    assert fuel_for_sdk_gas(1_000) == 1_217_392  # 1217391.3...


def test_sdk_gas_for_fuel_rounds_up():
    assert sdk_gas_for_fuel(0) == 0
    assert sdk_gas_for_fuel(1) == 1             # no work is free
    assert sdk_gas_for_fuel(1217) == 1          # 139955 wasm gas
    assert sdk_gas_for_fuel(1218) == 2          # 140070 wasm gas
    assert sdk_gas_for_fuel(28_000) == 23       # exact


def test_fuel_limit_rounds_down():
    assert fuel_limit_for_sdk_gas(0) == 0
    assert fuel_limit_for_sdk_gas(1) == 1217
    assert fuel_limit_for_sdk_gas(23) == 28_000
    assert GasMeter.with_sdk_gas(1).limit == 1217


@given(st.integers(min_value=0, max_value=10**15))
def test_conversion_properties(n):
    # fuel_for_sdk_gas: the least fuel worth at least n SDK gas
    fuel = fuel_for_sdk_gas(n)
    assert fuel * WASM_GAS_PER_FUEL >= n * GAS_MULTIPLIER
    assert fuel == 0 or (fuel - 1) * WASM_GAS_PER_FUEL < n * GAS_MULTIPLIER
    # sdk_gas_for_fuel: the least SDK gas that pays for n fuel
    sdk = sdk_gas_for_fuel(n)
    assert sdk * GAS_MULTIPLIER >= n * WASM_GAS_PER_FUEL
    assert sdk == 0 or (sdk - 1) * GAS_MULTIPLIER < n * WASM_GAS_PER_FUEL
    # a limit of n SDK gas never buys more than n SDK gas of fuel, and reports at most n
    limit = fuel_limit_for_sdk_gas(n)
    assert limit * WASM_GAS_PER_FUEL <= n * GAS_MULTIPLIER < (limit + 1) * WASM_GAS_PER_FUEL
    assert sdk_gas_for_fuel(limit) <= n
    assert sdk_gas_for_fuel(fuel_for_sdk_gas(n)) >= n
    assert fuel_for_wasm_gas(n) * WASM_GAS_PER_FUEL >= n


# --- GasMeter ------------------------------------------------------------------------------

def test_meter_consumes_up_to_its_limit():
    meter = GasMeter(1000)
    meter.consume(400)
    assert (meter.used, meter.remaining) == (400, 600)
    meter.consume(600)                          # exactly the limit is fine
    assert (meter.used, meter.remaining) == (1000, 0)
    meter.consume(0)
    assert meter.used == 1000


def test_meter_out_of_gas_pins_used_to_limit():
    meter = GasMeter(1000)
    meter.consume(999)
    with pytest.raises(OutOfGas, match="^out of gas$"):
        meter.consume(2)
    assert meter.used == meter.limit == 1000
    assert meter.remaining == 0
    with pytest.raises(OutOfGas):
        meter.consume(1)
    assert meter.used == 1000


def test_meter_sdk_helpers():
    meter = GasMeter.with_sdk_gas(10)
    assert meter.limit == fuel_limit_for_sdk_gas(10) == 12_173
    meter.consume_sdk(5)
    assert meter.used == fuel_for_sdk_gas(5) == 6087
    assert meter.gas_used == 6                  # 6087 fuel is a little over 5 SDK gas: rounds up
    with pytest.raises(OutOfGas):
        meter.consume_sdk(5)                    # 2 * 6087 fuel > 12173
    assert meter.gas_used == 10                 # pinned: reports exactly the limit


def test_meter_gas_used_reports_sdk_gas():
    meter = GasMeter(10**9)
    assert meter.gas_used == 0
    meter.consume(1)
    assert meter.gas_used == 1
    meter.consume(1216)
    assert meter.gas_used == 1
    meter.consume(1)
    assert meter.gas_used == 2


# --- nested calls share one meter ----------------------------------------------------------

def _nested_read(reflect: str, levels: int) -> bytes:
    msg: dict = {"read": {"key": "x"}}
    for _ in range(levels):
        msg = {"smart": {"contract": reflect, "msg": msg}}
    return json.dumps(msg).encode()


def _query_with(app: TestApp, reflect: str, msg: bytes, meter: GasMeter) -> bytes:
    return app.keeper.query_smart(app._context(meter, app.store), reflect, msg, meter)


def test_nested_queries_are_charged_to_the_callers_meter(app, reflect):
    used = []
    for levels in (0, 1, 3):
        meter = GasMeter(10**12)
        assert json.loads(_query_with(app, reflect, _nested_read(reflect, levels), meter)) == {"value": None}
        used.append(meter.used)
        # the same query on a fresh meter costs exactly the same
        again = GasMeter(10**12)
        _query_with(app, reflect, _nested_read(reflect, levels), again)
        assert again.used == meter.used
    assert 0 < used[0] < used[1] < used[2]


def test_out_of_gas_inside_a_nested_query(app, reflect):
    msg = _nested_read(reflect, 3)
    full = GasMeter(10**12)
    _query_with(app, reflect, msg, full)
    # exactly enough gas: succeeds and uses all of it
    exact = GasMeter(full.used)
    _query_with(app, reflect, msg, exact)
    assert exact.used == full.used
    # well short (the limit falls somewhere inside the nested calls): out of gas, meter pinned
    for fraction in (0.2, 0.5, 0.9):
        meter = GasMeter(int(full.used * fraction))
        with pytest.raises(OutOfGas):
            _query_with(app, reflect, msg, meter)
        assert meter.used == meter.limit
        assert app.vm._stack == []
    assert json.loads(_query_with(app, reflect, msg, GasMeter(10**12))) == {"value": None}
