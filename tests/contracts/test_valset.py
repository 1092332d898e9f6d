"""The valset contract on the in-process chain: validator keys, the per-epoch validator set
and its diff, cut-offs, jailing, double-sign evidence slashing through the mixer, queries
and bad input. The membership is a group contract (tg4) or a mixer over two groups."""
from __future__ import annotations

import base64
import json

import pytest
from nacl.signing import SigningKey

from chain.testing import ContractError, TestApp
from support import artifact

EPOCH = 60
OFF_CURVE = bytes.fromhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")


def new_key(seed: int) -> bytes:
    return SigningKey(bytes([seed]) * 32).verify_key.encode()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def pk(raw: bytes) -> dict:
    return {"ed25519": b64(raw)}


@pytest.fixture
def admin(app: TestApp) -> str:
    return app.create_account("admin")


@pytest.fixture
def people(app: TestApp) -> dict[str, str]:
    return {name: app.create_account(name) for name in ("alice", "bob", "carol", "dave", "erin")}


@pytest.fixture
def keys(people) -> dict[str, bytes]:
    return {name: new_key(i + 1) for i, name in enumerate(people)}


@pytest.fixture
def group_code(app):
    return app.store_code(artifact("group"))


@pytest.fixture
def valset_code(app):
    return app.store_code(artifact("valset"))


@pytest.fixture
def membership(app, group_code, admin, people) -> str:
    """alice 50, bob 40, carol 30, dave 20 (erin: not a member)."""
    return app.instantiate(group_code, {"admin": admin, "members": [
        {"addr": people[n], "points": p} for n, p in [("alice", 50), ("bob", 40), ("carol", 30), ("dave", 20)]
    ]}, sender=admin, label="membership")


def instantiate_msg(membership, admin, **overrides):
    msg = {"membership": membership, "min_points": 1, "max_validators": 100, "epoch_length": EPOCH,
           "scaling": None, "admin": admin, "initial_keys": []}
    msg.update(overrides)
    return msg


@pytest.fixture
def valset(app, valset_code, membership, admin) -> str:
    return app.instantiate(valset_code, instantiate_msg(membership, admin), sender=admin, label="valset",
                           admin=admin)


def register(app, valset, sender, key, moniker="node"):
    return app.execute(valset, {"register_validator_key": {"pubkey": pk(key), "metadata": {"moniker": moniker}}},
                       sender=sender)


def register_all(app, valset, people, keys, names=("alice", "bob", "carol", "dave")):
    for name in names:
        register(app, valset, people[name], keys[name], moniker=name)


def end_block(app, valset):
    return app.sudo(valset, {"end_with_validator_update": {}}).data_json


def diff(*pairs):
    """Expected diff: (key, power) pairs; additions/updates then removals, each by key bytes."""
    ups = sorted((k, p) for k, p in pairs if p)
    downs = sorted((k, p) for k, p in pairs if not p)
    return {"diffs": [{"pubkey": pk(k), "power": p} for k, p in ups + downs]}


def active(app, valset, query="list_active_validators"):
    return [(v["operator"], v["power"]) for v in app.query(valset, {query: {}})["validators"]]


def set_points(app, membership, admin, add=(), remove=()):
    app.execute(membership, {"update_members": {"add": [{"addr": a, "points": p} for a, p in add],
                                                "remove": list(remove)}}, sender=admin)


# --- keys ----------------------------------------------------------------------------------

def test_register_validator_key(app, valset, people, keys):
    register(app, valset, people["alice"], keys["alice"], moniker="Alice's node")
    v = app.query(valset, {"validator": {"operator": people["alice"]}})["validator"]
    assert v == {"operator": people["alice"], "validator_pubkey": pk(keys["alice"]),
                 "metadata": {"moniker": "Alice's node", "identity": None, "website": None,
                              "security_contact": None, "details": None},
                 "jailed_until": None, "active_validator": False}
    assert app.query(valset, {"validator": {"operator": people["bob"]}}) == {"validator": None}


@pytest.mark.parametrize("key, error", [
    (OFF_CURVE, "not a point on the curve"),
    (bytes(31), "31 bytes, expected 32"),
    (bytes(33), "33 bytes, expected 32"),
    (b"", "0 bytes, expected 32"),
    (bytes(32), "small-order"),
    (b"\x01" + bytes(31), "small-order"),
    (b"\xff" * 32, "non-canonical"),
])
def test_register_refuses_garbage_keys(app, valset, people, key, error):
    with pytest.raises(ContractError, match=error):
        register(app, valset, people["alice"], key)
    assert app.query(valset, {"validator": {"operator": people["alice"]}}) == {"validator": None}


def test_register_refuses_bad_base64(app, valset, people):
    with pytest.raises(ContractError, match="(?i)base64"):
        app.execute(valset, {"register_validator_key": {"pubkey": {"ed25519": "not base64!"},
                                                        "metadata": {"moniker": "x"}}}, sender=people["alice"])
    with pytest.raises(ContractError, match="unknown variant"):
        app.execute(valset, {"register_validator_key": {"pubkey": {"secp256k1": b64(bytes(33))},
                                                        "metadata": {"moniker": "x"}}}, sender=people["alice"])


def test_register_refuses_duplicates_and_non_members(app, valset, people, keys):
    register(app, valset, people["alice"], keys["alice"])
    with pytest.raises(ContractError, match="already registered by another operator"):
        register(app, valset, people["bob"], keys["alice"])
    with pytest.raises(ContractError, match="already registered a validator key"):
        register(app, valset, people["alice"], keys["bob"])
    with pytest.raises(ContractError, match="has no points in the membership"):
        register(app, valset, people["erin"], keys["erin"])
    listed = app.query(valset, {"list_validators": {}})["validators"]
    assert [v["operator"] for v in listed] == [people["alice"]]


def test_register_refuses_a_member_with_zero_points(app, valset, membership, admin, people, keys):
    set_points(app, membership, admin, add=[(people["erin"], 0)])
    with pytest.raises(ContractError, match="has no points"):
        register(app, valset, people["erin"], keys["erin"])


@pytest.mark.parametrize("metadata, error", [
    ({"moniker": ""}, "moniker must have 1 to 70 bytes"),
    ({"moniker": "x" * 71}, "moniker must have 1 to 70 bytes"),
    ({"moniker": "x", "details": "d" * 281}, "details longer than 280"),
    ({"moniker": "x", "website": "w" * 141}, "website longer than 140"),
    ({"moniker": "x", "identity": "i" * 65}, "identity longer than 64"),
    ({"moniker": "x", "color": "red"}, "unknown field"),
    ({}, "missing field `moniker`"),
])
def test_register_refuses_bad_metadata(app, valset, people, keys, metadata, error):
    with pytest.raises(ContractError, match=error):
        app.execute(valset, {"register_validator_key": {"pubkey": pk(keys["alice"]), "metadata": metadata}},
                    sender=people["alice"])
    assert app.query(valset, {"validator": {"operator": people["alice"]}}) == {"validator": None}


def test_update_metadata(app, valset, people, keys):
    with pytest.raises(ContractError, match="No validator key registered"):
        app.execute(valset, {"update_metadata": {"moniker": "x"}}, sender=people["alice"])
    register(app, valset, people["alice"], keys["alice"])
    app.execute(valset, {"update_metadata": {"moniker": "new", "details": "hello"}}, sender=people["alice"])
    meta = app.query(valset, {"validator": {"operator": people["alice"]}})["validator"]["metadata"]
    assert meta["moniker"] == "new" and meta["details"] == "hello"
    with pytest.raises(ContractError, match="moniker"):
        app.execute(valset, {"update_metadata": {"moniker": "y" * 100}}, sender=people["alice"])


def test_initial_keys(app, valset_code, membership, admin, people, keys):
    msg = instantiate_msg(membership, admin, initial_keys=[
        {"operator": people["alice"], "validator_pubkey": pk(keys["alice"])},
        {"operator": people["erin"], "validator_pubkey": pk(keys["erin"]), "metadata": {"moniker": "erin"}},
    ])
    valset = app.instantiate(valset_code, msg, sender=admin)
    assert end_block(app, valset) == diff((keys["alice"], 50))     # erin has a key but no points
    for bad, error in [
        ([{"operator": people["alice"], "validator_pubkey": pk(OFF_CURVE)}], "not a point"),
        ([{"operator": people["alice"], "validator_pubkey": pk(keys["alice"])},
          {"operator": people["bob"], "validator_pubkey": pk(keys["alice"])}], "another operator"),
        ([{"operator": people["alice"], "validator_pubkey": pk(keys["alice"])},
          {"operator": people["alice"], "validator_pubkey": pk(keys["bob"])}], "already registered"),
        ([{"operator": "nope", "validator_pubkey": pk(keys["alice"])}], "addr_validate"),
    ]:
        with pytest.raises(ContractError, match=error):
            app.instantiate(valset_code, instantiate_msg(membership, admin, initial_keys=bad), sender=admin)


# --- the validator set ---------------------------------------------------------------------

def test_first_update_then_null_within_the_epoch_then_exact_diff(app, valset, membership, admin, people, keys):
    register_all(app, valset, people, keys)
    result = app.sudo(valset, {"end_with_validator_update": {}})
    assert result.data_json == diff((keys["alice"], 50), (keys["bob"], 40), (keys["carol"], 30), (keys["dave"], 20))
    assert app.sudo(valset, {"end_with_validator_update": {}}).data is None
    set_points(app, membership, admin, add=[(people["alice"], 55)])
    app.next_block(seconds=5)
    assert app.sudo(valset, {"end_with_validator_update": {}}).data is None    # same epoch
    app.next_block(seconds=EPOCH)
    set_points(app, membership, admin, add=[(people["bob"], 41), (people["erin"], 99)],
               remove=[people["carol"]])
    # erin has no key: not chosen; carol is gone; alice and bob changed; dave unchanged
    assert end_block(app, valset) == diff((keys["alice"], 55), (keys["bob"], 41), (keys["carol"], 0))
    assert end_block(app, valset) is None
    app.next_block(seconds=EPOCH)
    assert end_block(app, valset) == {"diffs": []}
    assert active(app, valset) == [(people["alice"], 55), (people["bob"], 41), (people["dave"], 20)]


def test_diff_order_is_by_pubkey_bytes(app, valset, membership, admin, people, keys):
    register_all(app, valset, people, keys)
    data = end_block(app, valset)
    raw = [base64.b64decode(d["pubkey"]["ed25519"]) for d in data["diffs"]]
    assert raw == sorted(raw)
    app.next_block(seconds=EPOCH)
    set_points(app, membership, admin, remove=[people["alice"], people["bob"]],
               add=[(people["carol"], 31), (people["dave"], 21)])
    data = end_block(app, valset)
    powers = [d["power"] for d in data["diffs"]]
    assert powers[:2] != [0, 0] and powers[2:] == [0, 0]
    ups = [base64.b64decode(d["pubkey"]["ed25519"]) for d in data["diffs"][:2]]
    downs = [base64.b64decode(d["pubkey"]["ed25519"]) for d in data["diffs"][2:]]
    assert ups == sorted(ups) and downs == sorted(downs)


def test_min_points_max_validators_and_scaling(app, valset_code, membership, admin, people, keys):
    valset = app.instantiate(valset_code, instantiate_msg(membership, admin, min_points=25, max_validators=2,
                                                          scaling=3), sender=admin)
    register_all(app, valset, people, keys)
    assert end_block(app, valset) == diff((keys["alice"], 150), (keys["bob"], 120))
    assert active(app, valset, "simulate_active_validators") == [(people["alice"], 150), (people["bob"], 120)]
    app.execute(valset, {"update_config": {"max_validators": 10}}, sender=admin)
    assert active(app, valset, "simulate_active_validators") == [
        (people["alice"], 150), (people["bob"], 120), (people["carol"], 90)]      # dave 20 < 25
    app.execute(valset, {"update_config": {"min_points": 0}}, sender=admin)    # still at least 1
    set_points(app, membership, admin, add=[(people["dave"], 0)])
    assert [o for o, _ in active(app, valset, "simulate_active_validators")] == [
        people["alice"], people["bob"], people["carol"]]


def test_paging_through_many_members_stops_at_max_validators(app, group_code, valset_code, admin):
    members = [app.create_account(f"v{i}") for i in range(70)]
    membership = app.instantiate(group_code, {"admin": admin, "members": [
        {"addr": a, "points": 1000 - i} for i, a in enumerate(members)]}, sender=admin)
    valset = app.instantiate(valset_code, instantiate_msg(membership, admin, max_validators=45), sender=admin)
    # every third member has no key
    for i, a in enumerate(members):
        if i % 3:
            register(app, valset, a, new_key(100 + i))
    chosen = active(app, valset, "simulate_active_validators")
    assert len(chosen) == 45
    assert chosen == [(a, 1000 - i) for i, a in enumerate(members) if i % 3][:45]
    result = app.sudo(valset, {"end_with_validator_update": {}})
    assert len(result.data_json["diffs"]) == 45
    app.execute(valset, {"update_config": {"max_validators": 1000}}, sender=admin)
    assert len(active(app, valset, "simulate_active_validators")) == 46


def test_jailed_and_keyless_members_are_skipped(app, valset, membership, admin, people, keys):
    register_all(app, valset, people, keys, names=("alice", "bob", "carol"))     # dave has no key
    app.execute(valset, {"jail": {"operator": people["bob"], "duration": None}}, sender=admin)
    app.execute(valset, {"jail": {"operator": people["carol"], "duration": 100}}, sender=admin)
    assert end_block(app, valset) == diff((keys["alice"], 50))
    assert app.query(valset, {"list_jailed": {}}) == {"validators": [
        {"operator": o, "jailed_until": j} for o, j in sorted([
            (people["bob"], {"forever": {}}),
            (people["carol"], {"until": app.block.time_ns // 10**9 + 100})])]}
    app.next_block(seconds=EPOCH)                                             # carol: 40 s left
    assert end_block(app, valset) == {"diffs": []}
    app.next_block(seconds=EPOCH)                                             # carol's jail expired
    assert [v["operator"] for v in app.query(valset, {"list_jailed": {}})["validators"]] == [people["bob"]]
    assert end_block(app, valset) == diff((keys["carol"], 30))
    assert active(app, valset) == [(people["alice"], 50), (people["carol"], 30)]
    app.execute(valset, {"unjail": {"operator": people["bob"]}}, sender=admin)
    app.next_block(seconds=EPOCH)
    assert end_block(app, valset) == diff((keys["bob"], 40))
    assert app.query(valset, {"list_jailed": {}}) == {"validators": []}


def test_jail_and_unjail_are_admin_only(app, valset, admin, people, keys):
    register(app, valset, people["alice"], keys["alice"])
    for msg in [{"jail": {"operator": people["alice"]}}, {"unjail": {"operator": people["alice"]}}]:
        with pytest.raises(ContractError, match="^Unauthorized$"):
            app.execute(valset, msg, sender=people["alice"])
    assert app.query(valset, {"list_jailed": {}}) == {"validators": []}
    with pytest.raises(ContractError, match="is not jailed"):
        app.execute(valset, {"unjail": {"operator": people["alice"]}}, sender=admin)
    with pytest.raises(ContractError, match="No validator key registered"):
        app.execute(valset, {"jail": {"operator": people["bob"]}}, sender=admin)
    app.execute(valset, {"jail": {"operator": people["alice"]}}, sender=admin)
    v = app.query(valset, {"validator": {"operator": people["alice"]}})["validator"]
    assert v["jailed_until"] == {"forever": {}}


def test_queries_epoch_and_active_flag(app, valset, people, keys):
    assert app.query(valset, {"epoch": {}}) == {
        "epoch_length": EPOCH, "current_epoch": 0, "last_update_time": 0, "last_update_height": 0,
        "next_update_time": app.block.time_ns // 10**9}
    register_all(app, valset, people, keys)
    end_block(app, valset)
    now = app.block.time_ns // 10**9
    assert app.query(valset, {"epoch": {}}) == {
        "epoch_length": EPOCH, "current_epoch": now // EPOCH, "last_update_time": now,
        "last_update_height": app.height, "next_update_time": (now // EPOCH + 1) * EPOCH}
    listed = app.query(valset, {"list_validators": {"limit": 2}})["validators"]
    assert len(listed) == 2 and all(v["active_validator"] for v in listed)
    rest = app.query(valset, {"list_validators": {"start_after": listed[-1]["operator"], "limit": 30}})
    ops = [v["operator"] for v in listed + rest["validators"]]
    assert ops == sorted(people[n] for n in ("alice", "bob", "carol", "dave"))
    assert app.query(valset, {"config": {}}) == {
        "membership": app.query(valset, {"config": {}})["membership"], "min_points": 1, "max_validators": 100,
        "epoch_length": EPOCH, "scaling": 1, "double_sign_slash_ratio": "0.5",
        "admin": app.query(valset, {"config": {}})["admin"]}


def test_update_config_and_admin(app, valset, admin, people):
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(valset, {"update_config": {"min_points": 5}}, sender=people["alice"])
    for bad, error in [({"epoch_length": 0}, "epoch_length"), ({"max_validators": 0}, "max_validators"),
                       ({"max_validators": 1001}, "max_validators"), ({"scaling": 0}, "scaling"),
                       ({"double_sign_slash_ratio": "1.5"}, "double_sign_slash_ratio"),
                       ({"min_points": -1}, "Error parsing"), ({"colour": 1}, "unknown field")]:
        with pytest.raises(ContractError, match=error):
            app.execute(valset, {"update_config": bad}, sender=admin)
    app.execute(valset, {"update_config": {"min_points": 5, "epoch_length": 120,
                                           "double_sign_slash_ratio": "0.25"}}, sender=admin)
    config = app.query(valset, {"config": {}})
    assert (config["min_points"], config["epoch_length"], config["double_sign_slash_ratio"]) == (5, 120, "0.25")
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(valset, {"update_admin": {"admin": people["alice"]}}, sender=people["alice"])
    app.execute(valset, {"update_admin": {"admin": people["alice"]}}, sender=admin)
    assert app.query(valset, {"config": {}})["admin"] == people["alice"]
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(valset, {"update_config": {"min_points": 6}}, sender=admin)


def test_epoch_length_change_moves_the_next_update(app, valset, admin, people, keys):
    register(app, valset, people["alice"], keys["alice"])
    end_block(app, valset)
    last = app.block.time_ns // 10**9
    app.execute(valset, {"update_config": {"epoch_length": 600}}, sender=admin)
    assert app.query(valset, {"epoch": {}})["next_update_time"] == (last // 600 + 1) * 600


# --- evidence and slashing through the mixer ---------------------------------------------

@pytest.fixture
def mixed(app, group_code, valset_code, admin, people, keys):
    """engagement and stake groups (same points), a mixer over them, a valset over the mixer."""
    pts = [(people[n], p) for n, p in [("alice", 50), ("bob", 40), ("carol", 30)]]
    eng = app.instantiate(group_code, {"admin": admin, "members": [{"addr": a, "points": p} for a, p in pts]},
                          sender=admin)
    stk = app.instantiate(group_code, {"admin": admin, "members": [{"addr": a, "points": p} for a, p in pts]},
                          sender=admin)
    mixer = app.instantiate(app.store_code(artifact("mixer")), {
        "left_group": eng, "right_group": stk, "function": {"geometric_mean": {}}, "admin": admin}, sender=admin)
    for g in (eng, stk):
        app.execute(g, {"add_hook": {"addr": mixer}}, sender=admin)
    valset = app.instantiate(valset_code, instantiate_msg(mixer, admin), sender=admin)
    register_all(app, valset, people, keys, names=("alice", "bob", "carol"))
    return {"eng": eng, "stk": stk, "mixer": mixer, "valset": valset}


def evidence(key, kind="duplicate_vote"):
    return {"begin_block": {"evidence": [{"validator": pk(key), "height": 3, "time_ns": "1000", "kind": kind}]}}


def test_mixer_points_drive_the_set(app, mixed, admin, people, keys):
    valset = mixed["valset"]
    assert end_block(app, valset) == diff((keys["alice"], 50), (keys["bob"], 40), (keys["carol"], 30))
    app.next_block(seconds=EPOCH)
    app.execute(mixed["stk"], {"update_members": {"add": [{"addr": people["alice"], "points": 2}],
                                                  "remove": [people["bob"]]}}, sender=admin)
    assert end_block(app, valset) == diff((keys["alice"], 10), (keys["bob"], 0))


def test_evidence_jails_forever_even_when_the_slash_fails(app, mixed, admin, people, keys):
    valset = mixed["valset"]
    end_block(app, valset)
    # valset is no slasher of the mixer: the slash fails, is recorded, the jail stands
    result = app.sudo(valset, evidence(keys["bob"]))
    assert result.wasm_attribute("jailed") == people["bob"]
    failed = [e for e in result.events if e.type == "wasm" and e.get("action") == "slash_failed"]
    assert failed and failed[0].get("operator") == people["bob"] and "Unauthorized" in failed[0].get("error")
    assert app.query(valset, {"list_jailed": {}}) == {"validators": [
        {"operator": people["bob"], "jailed_until": {"forever": {}}}]}
    # as slasher, the mixer forwards to the stake group, which (a plain group) has no slash
    app.execute(mixed["mixer"], {"add_slasher": {"addr": valset}}, sender=admin)
    result = app.sudo(valset, evidence(keys["carol"]))
    failed = [e for e in result.events if e.type == "wasm" and e.get("action") == "slash_failed"]
    assert failed and failed[0].get("operator") == people["carol"]
    app.next_block(seconds=EPOCH)
    assert end_block(app, valset) == diff((keys["bob"], 0), (keys["carol"], 0))
    # evidence again for a forever-jailed operator: nothing more happens
    result = app.sudo(valset, evidence(keys["bob"]))
    assert result.wasm_attribute("jailed") is None


def test_evidence_slashes_through_the_mixer_into_stake(app, group_code, valset_code, admin, people, keys):
    for name in ("alice", "bob"):
        app.create_account(name, {"ustake": 100_000})
    stake = app.instantiate(app.store_code(artifact("stake")), {
        "denom": "ustake", "tokens_per_point": "1000", "min_bond": "1", "unbonding_period": 100,
        "admin": admin, "preauths_slashing": 0}, sender=admin)
    app.execute(stake, {"bond": {}}, sender=people["alice"], funds={"ustake": 64_000})
    app.execute(stake, {"bond": {}}, sender=people["bob"], funds={"ustake": 36_000})
    eng = app.instantiate(group_code, {"admin": admin, "members": [
        {"addr": people["alice"], "points": 64}, {"addr": people["bob"], "points": 36}]}, sender=admin)
    mixer = app.instantiate(app.store_code(artifact("mixer")), {
        "left_group": eng, "right_group": stake, "function": {"geometric_mean": {}}, "admin": admin}, sender=admin)
    app.execute(eng, {"add_hook": {"addr": mixer}}, sender=admin)
    app.execute(stake, {"add_hook": {"addr": mixer}}, sender=admin)
    app.execute(stake, {"add_slasher": {"addr": mixer}}, sender=admin)
    valset = app.instantiate(valset_code, instantiate_msg(mixer, admin), sender=admin)
    app.execute(mixer, {"add_slasher": {"addr": valset}}, sender=admin)
    register_all(app, valset, people, keys, names=("alice", "bob"))
    assert end_block(app, valset) == diff((keys["alice"], 64), (keys["bob"], 36))
    result = app.sudo(valset, evidence(keys["alice"]))
    assert not [e for e in result.events if e.type == "wasm" and e.get("action") == "slash_failed"]
    assert app.query(stake, {"staked": {"address": people["alice"]}})["stake"]["amount"] == "32000"
    assert app.query(mixer, {"member": {"addr": people["alice"]}})["points"] == 45   # isqrt(32 * 64)
    app.next_block(seconds=EPOCH)
    assert end_block(app, valset) == diff((keys["alice"], 0))


def test_evidence_of_unknown_keys_and_other_kinds_is_ignored(app, valset, people, keys):
    register(app, valset, people["alice"], keys["alice"])
    app.sudo(valset, evidence(keys["erin"]))
    app.sudo(valset, evidence(keys["alice"], kind="something_else"))
    app.sudo(valset, {"begin_block": {"evidence": []}})
    app.sudo(valset, {"begin_block": {}})
    assert app.query(valset, {"list_jailed": {}}) == {"validators": []}
    app.sudo(valset, evidence(keys["alice"], kind="light_client_attack"))
    assert len(app.query(valset, {"list_jailed": {}})["validators"]) == 1


def test_zero_slash_ratio_only_jails(app, valset_code, membership, admin, people, keys):
    valset = app.instantiate(valset_code, instantiate_msg(membership, admin, double_sign_slash_ratio="0"),
                             sender=admin)
    register(app, valset, people["alice"], keys["alice"])
    result = app.sudo(valset, evidence(keys["alice"]))
    assert not [e for e in result.events if e.type == "wasm" and e.get("action") == "slash_failed"]
    assert len(app.query(valset, {"list_jailed": {}})["validators"]) == 1


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, error", [
    ({"epoch_length": 0}, "epoch_length must be > 0"),
    ({"max_validators": 0}, "max_validators"),
    ({"scaling": 0}, "scaling"),
    ({"double_sign_slash_ratio": "0.5x"}, "double_sign_slash_ratio"),
    ({"double_sign_slash_ratio": "0.1234567891"}, "double_sign_slash_ratio"),
    ({"membership_addr": "Nope"}, "unknown field"),
    ({"min_points": "1"}, "Error parsing"),
    ({"extra": True}, "unknown field"),
    ({"initial_keys": [{"operator": "x"}]}, "missing field `validator_pubkey`"),
])
def test_instantiate_refuses_bad_input(app, valset_code, membership, admin, overrides, error):
    with pytest.raises(ContractError, match=error):
        app.instantiate(valset_code, instantiate_msg(membership, admin, **overrides), sender=admin)


def test_instantiate_refuses_a_bad_membership_address(app, valset_code, admin):
    with pytest.raises(ContractError, match="addr_validate"):
        app.instantiate(valset_code, instantiate_msg("Nope", admin), sender=admin)


def test_instantiate_refuses_too_many_initial_keys(app, valset_code, membership, admin):
    keys = [{"operator": "x", "validator_pubkey": pk(bytes(32))}] * 1001
    with pytest.raises(ContractError, match="too many initial_keys"):
        app.instantiate(valset_code, instantiate_msg(membership, admin, initial_keys=keys), sender=admin)


@pytest.mark.parametrize("msg, error", [
    ({"poke": {}}, "unknown variant"),
    ({"register_validator_key": {"pubkey": {"ed25519": ""}}}, "missing field `metadata`"),
    ({"jail": {}}, "missing field `operator`"),
    ({"jail": {"operator": "x", "duration": "forever"}}, "Error parsing"),
    ({"unjail": {"operator": "conclave1" + "q" * 5000}}, "addr_validate"),
    ({"update_metadata": {"moniker": "x", "nick": "y"}}, "unknown field"),
])
def test_execute_refuses_bad_input(app, valset, admin, msg, error):
    with pytest.raises(ContractError, match=error):
        app.execute(valset, msg, sender=admin)
    assert app.query(valset, {"list_validators": {}}) == {"validators": []}


@pytest.mark.parametrize("msg, error", [
    ({"poke": {}}, "unknown variant"),
    ({"end_with_validator_update": {"x": 1}}, "unknown field"),
    ({"begin_block": {"evidence": [{"validator": {"ed25519": ""}}]}}, "missing field"),
    ({"begin_block": {"evidence": "all"}}, "Error parsing"),
    ({"begin_block": {"evidence": [{"validator": {"ed25519": "AA=="}, "height": 1, "time_ns": 5,
                                    "kind": "duplicate_vote"}]}}, "Error parsing"),
])
def test_sudo_refuses_bad_input(app, valset, msg, error):
    with pytest.raises(ContractError, match=error):
        app.sudo(valset, msg)
    assert app.query(valset, {"epoch": {}})["last_update_time"] == 0


def test_privilege_change_is_accepted(app, valset):
    app.sudo(valset, {"privilege_change": {"promoted": {}}})
    app.sudo(valset, {"privilege_change": {"demoted": {}}})


@pytest.mark.parametrize("msg", [{"poke": {}}, {"validator": {}}, {"list_validators": {"limit": -1}},
                                 {"list_jailed": {"x": 1}}, {"epoch": {"now": 1}}])
def test_query_refuses_bad_input(app, valset, msg):
    with pytest.raises(Exception):
        app.query(valset, msg)


def test_migrate_records_version(app, valset, valset_code, admin):
    app.migrate(valset, valset_code, {}, sender=admin)
    assert json.loads(app.query_raw(valset, b"contract_info")) == {"contract": "valset", "version": "0.1.0"}
