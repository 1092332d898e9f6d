"""Contracts built with the real cosmwasm-std (cw-plus 1.0.1 builds shipped on npm) run unmodified."""
from __future__ import annotations


import pytest

from chain.testing import ContractError, TestApp
from real_contracts import fetch_real_contract


@pytest.fixture(scope="module")
def wasm() -> dict[str, bytes]:
    return {name: fetch_real_contract(name) for name in ("cw20_base", "cw4_group", "cw3_flex_multisig")}


def test_cw20_base_transfer_send_and_allowance(app: TestApp, wasm):
    alice, bob = app.create_account("alice"), app.create_account("bob")
    token = app.instantiate(app.store_code(wasm["cw20_base"]), {
        "name": "Conclave Token", "symbol": "CNCL", "decimals": 6,
        "initial_balances": [{"address": alice, "amount": "1000"}],
        "mint": {"minter": alice, "cap": "5000"}, "marketing": None}, sender=alice, label="cw20")
    result = app.execute(token, {"transfer": {"recipient": bob, "amount": "300"}}, sender=alice)
    assert result.wasm_attribute("action") == "transfer"
    assert app.query(token, {"balance": {"address": bob}}) == {"balance": "300"}
    app.execute(token, {"mint": {"recipient": bob, "amount": "50"}}, sender=alice)
    assert app.query(token, {"token_info": {}})["total_supply"] == "1050"
    app.execute(token, {"increase_allowance": {"spender": bob, "amount": "100", "expires": None}}, sender=alice)
    app.execute(token, {"transfer_from": {"owner": alice, "recipient": bob, "amount": "60"}}, sender=bob)
    assert app.query(token, {"balance": {"address": alice}}) == {"balance": "640"}
    with pytest.raises(ContractError, match="Cannot Sub"):
        app.execute(token, {"transfer": {"recipient": alice, "amount": "100000"}}, sender=bob)
    with pytest.raises(ContractError, match="Unauthorized"):
        app.execute(token, {"mint": {"recipient": bob, "amount": "1"}}, sender=bob)
    accounts = app.query(token, {"all_accounts": {}})["accounts"]   # uses db_scan/db_next
    assert sorted(accounts) == sorted([alice, bob])


def test_cw3_flex_multisig_over_cw4_group_passes_and_executes_a_proposal(app: TestApp, wasm):
    voters = [app.create_account(name) for name in ("v1", "v2", "v3")]
    outsider = app.create_account("outsider")
    group = app.instantiate(app.store_code(wasm["cw4_group"]), {
        "admin": voters[0], "members": [{"addr": v, "weight": 1} for v in voters]}, sender=voters[0], label="group")
    assert app.query(group, {"total_weight": {}}) == {"weight": 3}
    app.next_block()   # cw4 snapshots: members written at height H count from H+1
    multisig = app.instantiate(app.store_code(wasm["cw3_flex_multisig"]), {
        "group_addr": group, "threshold": {"absolute_count": {"weight": 2}},
        "max_voting_period": {"height": 100}, "executor": None, "proposal_deposit": None},
        sender=voters[0], label="multisig", funds=None)
    app.create_account("treasury-funder", {"ucnv": 500})
    # fund the multisig through the bank module
    funder = app.address("treasury-funder")
    send = {"bank": {"send": {"to_address": outsider, "amount": [{"denom": "ucnv", "amount": "40"}]}}}
    from chain.app import bank
    bank.send(app.store, funder, multisig, [("ucnv", 100)])

    with pytest.raises(ContractError, match="Unauthorized"):
        app.execute(multisig, {"propose": {"title": "t", "description": "d", "msgs": [send], "latest": None}},
                    sender=outsider)
    app.execute(multisig, {"propose": {"title": "pay", "description": "pay outsider", "msgs": [send],
                                       "latest": None}}, sender=voters[0])
    assert app.query(multisig, {"proposal": {"proposal_id": 1}})["status"] == "open"
    app.execute(multisig, {"vote": {"proposal_id": 1, "vote": "yes"}}, sender=voters[1])
    assert app.query(multisig, {"proposal": {"proposal_id": 1}})["status"] == "passed"
    app.execute(multisig, {"execute": {"proposal_id": 1}}, sender=outsider)
    assert app.balance(outsider, "ucnv") == 40 and app.balance(multisig, "ucnv") == 60
    assert app.query(multisig, {"proposal": {"proposal_id": 1}})["status"] == "executed"


def test_cw4_group_hooks_reach_another_contract(app: TestApp, wasm):
    from support import artifact
    admin = app.create_account("admin")
    group = app.instantiate(app.store_code(wasm["cw4_group"]), {"admin": admin, "members": []}, sender=admin)
    listener = app.instantiate(app.store_code(artifact("test_reflect")), {}, sender=admin)
    app.execute(group, {"add_hook": {"addr": listener}}, sender=admin)
    # test-reflect refuses unknown messages (deny_unknown_fields), so the hook's failure fails the update:
    with pytest.raises(ContractError):
        app.execute(group, {"update_members": {"add": [{"addr": admin, "weight": 5}], "remove": []}}, sender=admin)
    assert app.query(group, {"total_weight": {}}) == {"weight": 0}
    app.execute(group, {"remove_hook": {"addr": listener}}, sender=admin)
    app.execute(group, {"update_members": {"add": [{"addr": admin, "weight": 5}], "remove": []}}, sender=admin)
    assert app.query(group, {"member": {"addr": admin, "at_height": None}}) == {"weight": 5}
