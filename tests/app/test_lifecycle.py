"""Code store, instantiate, execute, migrate, sudo, admin — and bad input at each of them."""
from __future__ import annotations

import gzip

import pytest

from chain.testing import AppError, ContractError, InvalidRequest, NotFound, OutOfGas, TestApp, Unauthorized, VmError
from chain.vm import CompileError
from support import artifact


def test_readme_example(app: TestApp):
    alice = app.create_account("alice", coins={"ucnv": 1_000})
    code_id = app.store_code(artifact("test_counter"))
    counter = app.instantiate(code_id, {"count": 1}, sender=alice, label="counter")
    result = app.execute(counter, {"increment": {}}, sender=alice)
    assert app.query(counter, {"count": {}}) == {"count": 2}
    assert result.data_json == {"count": 2} and result.gas_used > 0
    assert result.wasm_attribute("count") == "2"


def test_code_ids_and_addresses_are_sequential_and_wasmd_compatible(app, alice):
    first = app.store_code(artifact("test_counter"))
    second = app.store_code(artifact("test_reflect"))
    assert (first, second) == (1, 2)
    info = app.code_info(first)
    assert len(info.checksum) == 64 and info.size == len(artifact("test_counter"))
    address = app.instantiate(first, {}, sender=alice)
    # wasmd BuildContractAddressClassic(1, 1): the same 32 bytes every wasmd chain derives
    assert address == "conclave14hj2tavq8fpesdwxxcu44rty3hh90vhujrvcmstl4zr3txmfvw9sn6y6tt"


def test_gzip_upload_is_accepted(app):
    assert app.store_code(gzip.compress(artifact("test_counter"))) == 1


def test_instantiate_records_creator_admin_label_and_history(app, alice, counter):
    info = app.contract_info(counter)
    assert (info.creator, info.admin, info.label, info.code_id) == (alice, alice, "counter", 1)
    assert [h.operation for h in app.contract_history(counter)] == ["init"]
    assert app.query(counter, {"owner": {}}) == {"owner": alice}


def test_migrate_keeps_state_and_switches_code(app, alice, counter):
    app.execute(counter, {"increment": {}}, sender=alice)
    v2 = app.store_code(artifact("test_counter_v2"))
    result = app.migrate(counter, v2, {}, sender=alice)
    assert any(e.type == "migrate" and e.get("code_id") == str(v2) for e in result.events)
    assert app.query(counter, {"version": {}}) == {"version": 2}
    assert app.query(counter, {"count": {}}) == {"count": 6}          # state preserved
    app.execute(counter, {"increment": {}}, sender=alice)
    assert app.query(counter, {"count": {}}) == {"count": 8}          # new behaviour: +2
    assert [h.operation for h in app.contract_history(counter)] == ["init", "migrate"]
    assert app.contract_info(counter).code_id == v2


def test_only_the_admin_may_migrate(app, alice, bob, counter):
    v2 = app.store_code(artifact("test_counter_v2"))
    with pytest.raises(Unauthorized, match="only the contract admin"):
        app.migrate(counter, v2, {}, sender=bob)
    app.update_admin(counter, bob, sender=alice)
    app.migrate(counter, v2, {"count": 42}, sender=bob)
    assert app.query(counter, {"count": {}}) == {"count": 42}
    app.update_admin(counter, None, sender=bob)
    with pytest.raises(Unauthorized):
        app.migrate(counter, 1, {}, sender=bob)


def test_failed_migration_leaves_the_old_code(app, alice, counter):
    hostile = app.store_code(artifact("test_hostile"))       # has no migrate entry point
    with pytest.raises(VmError, match="no migrate entry point"):
        app.migrate(counter, hostile, {}, sender=alice)
    assert app.contract_info(counter).code_id == 1
    assert app.query(counter, {"version": {}}) == {"version": 1}
    assert [h.operation for h in app.contract_history(counter)] == ["init"]


def test_sudo_reaches_the_contract(app, counter):
    app.sudo(counter, {"set_count": {"count": 9}})
    assert app.query(counter, {"count": {}}) == {"count": 9}


def test_contract_errors_carry_the_contracts_message(app, alice, bob, counter):
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(counter, {"reset": {"count": 0}}, sender=bob)
    with pytest.raises(ContractError) as err:
        app.execute(counter, {"fail": {"msg": "custom failure text"}}, sender=alice)
    assert str(err.value) == "custom failure text" and err.value.contract == counter


def test_out_of_gas_rolls_back_and_charges_the_whole_limit(app, alice, counter):
    with pytest.raises(OutOfGas) as err:
        app.execute(counter, {"increment": {}}, sender=alice, gas_limit=100)
    assert err.value.gas_used == 100
    assert app.query(counter, {"count": {}}) == {"count": 5}


def test_failed_calls_are_charged_gas(app, alice, counter):
    with pytest.raises(ContractError) as err:
        app.execute(counter, {"fail": {"msg": "x"}}, sender=alice)
    assert err.value.gas_used > 0


@pytest.mark.parametrize("msg", [b"not json", b"{}", b'{"increment": 5}', b'{"nope": {}}', b"\xff\xfe", b"[" * 5000])
def test_malformed_execute_messages_fail_cleanly(app, alice, counter, msg):
    with pytest.raises(ContractError):
        app.execute(counter, msg, sender=alice)
    assert app.query(counter, {"count": {}}) == {"count": 5}


@pytest.mark.parametrize("funds,reason", [
    ([{"denom": "ucnv", "amount": "-1"}], "invalid amount"),
    ([{"denom": "ucnv", "amount": "0"}], "zero amount"),
    ([{"denom": "u", "amount": "1"}], "invalid denom"),
    ([{"denom": "ucnv", "amount": "1"}, {"denom": "ucnv", "amount": "2"}], "duplicate"),
    ([{"denom": "ucnv", "amount": str(1 << 128)}], "Uint128"),
    ([{"denom": "ucnv", "amount": "999999999999"}], "insufficient funds"),
])
def test_bad_funds_are_refused(app, alice, counter, funds, reason):
    with pytest.raises(AppError, match=reason):
        app.execute(counter, {"deposit": {}}, sender=alice, funds=funds)


def test_unknown_things_are_named_in_errors(app, alice):
    with pytest.raises(NotFound, match="no such code: 99"):
        app.instantiate(99, {}, sender=alice)
    with pytest.raises(NotFound, match="no such contract"):
        app.execute("conclave1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqcxsv5r", {}, sender=alice)
    code_id = app.store_code(artifact("test_counter"))
    with pytest.raises(InvalidRequest, match="label"):
        app.instantiate(code_id, {}, sender=alice, label="x" * 200)
    with pytest.raises(InvalidRequest, match="invalid admin"):
        app.instantiate(code_id, {}, sender=alice, admin="cosmos1notours")


@pytest.mark.parametrize("blob,reason", [
    (b"", "empty"),
    (b"\x00asm\x01\x00\x00\x00garbage", "WebAssembly|section|malformed|truncated"),
    (b"garbage bytes that are not wasm", "not a WebAssembly module"),
    (b"\x00" * (10 * 1024 * 1024), "exceeds|too large|limit"),
])
def test_bad_uploads_are_refused_and_store_nothing(app, blob, reason):
    with pytest.raises(CompileError, match=reason):
        app.store_code(blob)
    assert app.store_code(artifact("test_counter")) == 1   # no code id was consumed


def test_blocks_advance_env(app, alice, counter):
    height, time_ns = app.block.height, app.block.time_ns
    app.next_block(seconds=6)
    assert (app.block.height, app.block.time_ns) == (height + 1, time_ns + 6 * 10**9)
