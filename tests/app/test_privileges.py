"""The privilege registry and the chain's custom messages and queries, driven through test-reflect.

test-reflect sends whatever messages it is given, so granting it a privilege makes it a stand-in
for the governance contract; without one it is any other contract trying its luck.
"""
from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chain.app import code_proposals, privileges
from chain.app.params import MAX_WASM_SIZE, Params
from chain.app.privileges import PrivilegeRefused
from chain.testing import AppError, InvalidRequest, NotFound
from support import artifact

GOV = "gov_executor"


def b64(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.b64encode(raw).decode()


def send_custom(app, reflect, sender, custom: dict):
    msg = {"id": 0, "payload": "", "msg": {"custom": custom}, "gas_limit": None, "reply_on": "never"}
    return app.execute(reflect, {"dispatch": {"msgs": [msg]}}, sender=sender)


def chain_query(app, reflect, request: dict):
    """A custom query as a contract makes it; the answer JSON or the error text."""
    result = app.query(reflect, {"chain": {"request": {"custom": request}}})["result"]
    inner = result["ok"]
    if "error" in inner:
        return {"error": inner["error"]}
    return json.loads(base64.b64decode(inner["ok"]))


@pytest.fixture
def voting_like(app, alice):
    """A real voting contract (it accepts privilege_change) over a one-member group."""
    group = app.instantiate(app.store_code(artifact("group")), {"admin": None, "members": [{"addr": alice, "points": 1}]},
                            sender=alice, label="group")
    return app.instantiate(app.store_code(artifact("voting")), {
        "rules": {"voting_period": 100, "quorum": "0.3", "threshold": "0.51", "allow_end_early": True},
        "electorate": group, "admins_group": group, "proposers": "members"}, sender=alice, label="voting")


# --- registry --------------------------------------------------------------------------------------

def test_grant_tells_the_contract_and_registers_it(app, voting_like):
    events = app.grant_privilege(voting_like, GOV)
    assert app.privileged(GOV) == [voting_like]
    assert privileges.has(app.store, voting_like, GOV)
    assert events[0].type == "privilege" and events[0].get("change") == "promoted"
    sudo = [e for e in events if e.type == "wasm"]
    assert sudo and sudo[0].get("action") == "privilege_change"     # the contract's sudo ran
    assert app.grant_privilege(voting_like, GOV) == []                 # granting again: a no-op
    events = app.revoke_privilege(voting_like, GOV)
    assert events[0].get("change") == "demoted" and app.privileged(GOV) == []


def test_contract_without_sudo_is_granted_silently(app, reflect):
    events = app.grant_privilege(reflect, "end_blocker")
    assert [e.type for e in events] == ["privilege"]
    assert app.privileged("end_blocker") == [reflect]


def test_contract_whose_sudo_refuses_is_not_granted(app, counter):
    # test-counter's sudo knows only set_count: the promotion fails, and so does the grant
    with pytest.raises(PrivilegeRefused, match="granting privilege begin_blocker failed: contract .* refused"):
        app.grant_privilege(counter, "begin_blocker")
    assert app.privileged("begin_blocker") == []


def test_validator_set_updater_has_exactly_one_holder(app, alice, reflect, voting_like):
    app.grant_privilege(reflect, "validator_set_updater")
    events = app.grant_privilege(voting_like, "validator_set_updater")   # moves it
    assert app.privileged("validator_set_updater") == [voting_like]
    assert [(e.get("contract"), e.get("change")) for e in events if e.type == "privilege"] == [
        (reflect, "demoted"), (voting_like, "promoted")]
    with pytest.raises(InvalidRequest, match="exactly one holder"):
        app.revoke_privilege(voting_like, "validator_set_updater")
    assert app.privileged("validator_set_updater") == [voting_like]


def test_other_privileges_have_many_holders_in_address_order(app, reflect, voting_like):
    app.grant_privilege(voting_like, "end_blocker")
    app.grant_privilege(reflect, "end_blocker")
    assert app.privileged("end_blocker") == sorted([reflect, voting_like])


@pytest.mark.parametrize("name", ["", "root", "GOV_EXECUTOR", None, 3])
def test_unknown_privileges_are_refused(app, reflect, name):
    with pytest.raises(InvalidRequest, match="unknown privilege"):
        app.grant_privilege(reflect, name)


def test_only_contracts_hold_privileges(app, alice, reflect):
    with pytest.raises(NotFound, match="no such contract"):
        app.grant_privilege(alice, GOV)
    with pytest.raises(NotFound, match="does not hold privilege"):
        app.revoke_privilege(reflect, GOV)


# --- custom messages: refused without the privilege ----------------------------------------------

@pytest.mark.parametrize("custom,needed", [
    ({"store_code": {"checksum": "00" * 32}}, GOV),
    ({"migrate_contract": {"contract": "x", "checksum": "00" * 32, "msg": "e30="}}, GOV),
    ({"set_privilege": {"contract": "x", "privilege": GOV, "grant": True}}, GOV),
    ({"update_params": {"pending_code_ttl_seconds": 100}}, GOV),
    ({"pin_code": {"checksum": "00" * 32}}, GOV),
    ({"unpin_code": {"checksum": "00" * 32}}, GOV),
    ({"mint": {"to": "x", "amount": [{"denom": "ucnv", "amount": "1"}]}}, "token_minter"),
])
def test_custom_messages_need_their_privilege(app, alice, reflect, custom, needed):
    kind = next(iter(custom))
    with pytest.raises(AppError, match=f"custom message {kind} refused: contract {reflect} holds no privilege {needed}"):
        send_custom(app, reflect, alice, custom)


def test_direct_store_code_says_code_comes_only_by_proposal(app, alice, reflect):
    with pytest.raises(AppError, match="only through a passed code proposal"):
        send_custom(app, reflect, alice, {"store_code": {"checksum": "00" * 32}})


def test_a_privilege_for_one_message_is_not_one_for_another(app, alice, reflect):
    app.grant_privilege(reflect, "token_minter")
    with pytest.raises(AppError, match="holds no privilege gov_executor"):
        send_custom(app, reflect, alice, {"update_params": {"pending_code_ttl_seconds": 100}})


# --- custom messages: what they do ----------------------------------------------------------------

@pytest.fixture
def gov(app, reflect):
    app.grant_privilege(reflect, GOV)
    return reflect


def test_set_privilege_grants_and_revokes(app, alice, gov, voting_like):
    send_custom(app, gov, alice, {"set_privilege": {"contract": voting_like, "privilege": "token_minter", "grant": True}})
    assert app.privileged("token_minter") == [voting_like]
    send_custom(app, gov, alice, {"set_privilege": {"contract": voting_like, "privilege": "token_minter", "grant": False}})
    assert app.privileged("token_minter") == []


def test_mint_by_the_token_minter(app, alice, reflect, bob):
    app.grant_privilege(reflect, "token_minter")
    before = app.balance(bob, "ucnv")
    send_custom(app, reflect, alice, {"mint": {"to": bob, "amount": [{"denom": "ucnv", "amount": "250"}]}})
    assert app.balance(bob, "ucnv") == before + 250


def test_update_params_validates_and_is_visible_to_contracts(app, alice, gov, voting_like):
    assert chain_query(app, gov, {"params": {}}) == Params().to_json()
    send_custom(app, gov, alice, {"update_params": {"pending_code_ttl_seconds": 3600,
                                                     "min_fee": [{"denom": "ucnv", "amount": "5"}],
                                                     "governance_contract": voting_like}})
    params = chain_query(app, gov, {"params": {}})
    assert params["pending_code_ttl_seconds"] == 3600 and params["min_fee"] == [{"denom": "ucnv", "amount": "5"}]
    assert params["governance_contract"] == voting_like
    assert params["max_code_proposal_bytes"] == MAX_WASM_SIZE


@pytest.mark.parametrize("changes,reason", [
    ({}, "at least one"),
    ({"block_size": 1}, "unknown param 'block_size'"),
    ({"pending_code_ttl_seconds": 0}, "invalid pending_code_ttl_seconds"),
    ({"pending_code_ttl_seconds": True}, "invalid pending_code_ttl_seconds"),
    ({"max_code_proposal_bytes": MAX_WASM_SIZE + 1}, "invalid max_code_proposal_bytes"),
    ({"max_code_proposal_bytes": "1000"}, "invalid max_code_proposal_bytes"),
    ({"min_fee": [{"denom": "ucnv", "amount": "0"}]}, "zero amount"),
    ({"min_fee": "5ucnv"}, "coins must be a list"),
    ({"governance_contract": "cosmos1xyz"}, "invalid governance_contract"),
])
def test_bad_params_are_refused_and_nothing_changes(app, alice, gov, changes, reason):
    with pytest.raises(AppError, match=reason):
        send_custom(app, gov, alice, {"update_params": changes})
    assert chain_query(app, gov, {"params": {}}) == Params().to_json()


def test_governance_contract_param_must_be_a_contract(app, alice, gov, bob):
    with pytest.raises(NotFound, match="no such contract"):
        send_custom(app, gov, alice, {"update_params": {"governance_contract": bob}})


def test_pin_and_unpin_stored_code(app, alice, gov):
    checksum = hashlib.sha256(artifact("test_counter")).hexdigest()
    app.store_code(artifact("test_counter"))
    send_custom(app, gov, alice, {"pin_code": {"checksum": checksum}})
    assert code_proposals.is_pinned(app.store, bytes.fromhex(checksum))
    send_custom(app, gov, alice, {"unpin_code": {"checksum": checksum}})
    assert not code_proposals.is_pinned(app.store, bytes.fromhex(checksum))
    with pytest.raises(NotFound, match="no stored code has checksum"):
        send_custom(app, gov, alice, {"pin_code": {"checksum": "ab" * 32}})


def test_store_code_needs_a_pending_blob(app, alice, gov):
    before = len(app.codes())
    with pytest.raises(NotFound, match="no pending code with checksum"):
        send_custom(app, gov, alice, {"store_code": {"checksum": "ab" * 32}})
    assert len(app.codes()) == before


def test_migrate_contract_to_missing_code_is_a_clear_error(app, alice, gov, counter):
    with pytest.raises(NotFound, match="no stored code has checksum .*store it first"):
        send_custom(app, gov, alice, {"migrate_contract": {"contract": counter, "checksum": "ab" * 32, "msg": b64({})}})


def test_migrate_contract_as_governance(app, alice, gov, counter):
    v2 = app.store_code(artifact("test_counter_v2"))
    checksum = app.code_info(v2).checksum
    send_custom(app, gov, alice, {"migrate_contract": {"contract": counter, "checksum": checksum, "msg": b64({})}})
    assert app.contract_info(counter).code_id == v2       # counter's admin is alice, not gov: governance may
    assert app.query(counter, {"version": {}}) == {"version": 2}


@pytest.mark.parametrize("custom,reason", [
    ({"store_code": {"checksum": "AB" * 32}}, "64 lowercase hex"),
    ({"store_code": {"checksum": "ab" * 31}}, "64 lowercase hex"),
    ({"store_code": {"checksum": 5}}, "64 lowercase hex"),
    ({"store_code": {}}, "missing field 'checksum'"),
    ({"store_code": {"checksum": "ab" * 32, "code_id": 1}}, "unknown field 'code_id'"),
    ({"store_code": "now"}, "expected an object"),
    ({"migrate_contract": {"contract": "nope", "checksum": "ab" * 32, "msg": "e30="}}, "invalid migrate_contract.contract"),
    ({"set_privilege": {"contract": "nope", "privilege": GOV, "grant": True}}, "invalid set_privilege.contract"),
    ({"teleport": {}}, "unknown custom message 'teleport'"),
    ({"store_code": {}, "mint": {}}, "exactly one key"),
])
def test_malformed_custom_messages_are_refused(app, alice, gov, custom, reason):
    with pytest.raises(AppError, match=reason):
        send_custom(app, gov, alice, custom)


def test_set_privilege_grant_must_be_a_bool(app, alice, gov, voting_like):
    with pytest.raises(AppError, match="grant must be true or false"):
        send_custom(app, gov, alice, {"set_privilege": {"contract": voting_like, "privilege": GOV, "grant": "yes"}})


def test_bad_migrate_message_base64_is_refused(app, alice, gov, counter):
    checksum = app.code_info(app.contract_info(counter).code_id).checksum
    with pytest.raises(AppError, match="invalid migrate_contract"):
        send_custom(app, gov, alice, {"migrate_contract": {"contract": counter, "checksum": checksum, "msg": "%%%"}})


# --- custom queries ---------------------------------------------------------------------------------

def test_custom_queries(app, reflect, voting_like):
    app.grant_privilege(voting_like, GOV)
    assert chain_query(app, reflect, {"privileged": {"privilege": GOV}}) == {"contracts": [voting_like]}
    assert chain_query(app, reflect, {"privileged": {"privilege": "token_minter"}}) == {"contracts": []}
    assert chain_query(app, reflect, {"pending_code": {"checksum": "ab" * 32}}) is None
    assert chain_query(app, reflect, {"last_commit_votes": {}}) == {"votes": []}
    assert "unknown privilege" in chain_query(app, reflect, {"privileged": {"privilege": "root"}})["error"]
    assert "unknown custom query" in chain_query(app, reflect, {"secrets": {}})["error"]
    assert "unknown field" in chain_query(app, reflect, {"params": {"x": 1}})["error"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
                    max_leaves=8))
def test_arbitrary_custom_messages_fail_cleanly_or_do_nothing_harmful(app, alice, gov, body):
    """Whatever a privileged contract sends, the answer is an AppError or a valid effect, never a crash."""
    before = privileges.snapshot(app.store)
    try:
        send_custom(app, gov, alice, body)
    except AppError:
        assert privileges.snapshot(app.store) == before
