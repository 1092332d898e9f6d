"""Genesis: from genesis/devnet.json to a booted chain, the same on every node; bad configs refused."""
from __future__ import annotations

import base64
import json
import shutil
from dataclasses import replace
from math import isqrt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chain import genesis_builder
from chain.app import params as chain_params, privileges
from chain.app.genesis import (GENESIS_CONTRACTS, MAX_GENESIS_BYTES, TG4_ADMINISTERED, GenesisDoc,
                               InvalidGenesis, apply_genesis, genesis_context, parse_genesis)
from chain.app.kv import CacheKV, iterate
from chain.cli import main
from chain.testing import TestApp
from support import ARTIFACTS, ROOT

DEVNET = ROOT / "genesis" / "devnet.json"


def devnet_config() -> dict:
    return json.loads(DEVNET.read_text())


@pytest.fixture(scope="module")
def devnet_doc() -> GenesisDoc:
    doc, _ = genesis_builder.build_doc(devnet_config(), ARTIFACTS)
    return doc


def boot(doc: GenesisDoc, cache_dir: Path) -> tuple[TestApp, object]:
    """What a node does with genesis: apply it on a branch of fresh state, then commit the branch."""
    app = TestApp(chain_id=doc.chain_id, prefix=doc.bech32_prefix, cache_dir=cache_dir)
    branch = CacheKV(app.store)
    result = apply_genesis(genesis_context(branch, doc), app.keeper, doc)
    branch.write()
    app.next_block()
    return app, result


def test_devnet_boots_with_four_validators_at_the_expected_powers(devnet_doc, module_cache_dir):
    app, result = boot(devnet_doc, module_cache_dir)
    tokens_per_point = devnet_doc.contracts.tokens_per_point
    expected = sorted((v.pubkey, isqrt((v.stake // tokens_per_point) * v.engagement)) for v in devnet_doc.validators)
    assert sorted(result.validators) == expected
    assert len(expected) == 4 and [p for _, p in sorted(expected, key=lambda e: -e[1])] == [1264, 948, 632, 316]
    active = app.query(result.contracts["valset"], {"list_active_validators": {}})["validators"]
    assert sorted(v["power"] for v in active) == sorted(p for _, p in expected)
    registered = app.query(result.contracts["valset"], {"list_validators": {}})["validators"]
    assert sorted(v["metadata"]["moniker"] for v in registered) == ["node0", "node1", "node2", "node3"]


def test_privileges_admins_and_params_are_wired(devnet_doc, module_cache_dir):
    app, result = boot(devnet_doc, module_cache_dir)
    c = result.contracts
    voting = c["voting"]
    assert app.privileged(privileges.GOV_EXECUTOR) == [voting]
    assert app.privileged(privileges.VALIDATOR_SET_UPDATER) == [c["valset"]]
    assert app.privileged(privileges.BEGIN_BLOCKER) == [c["valset"]]
    assert sorted(app.privileged(privileges.END_BLOCKER)) == sorted(c[n] for n in ("engagement", "stake", "membership"))
    assert app.privileged(privileges.TOKEN_MINTER) == []
    for name in GENESIS_CONTRACTS:
        assert app.contract_info(c[name]).admin == voting, name
    for name in TG4_ADMINISTERED:
        query = {"config": {}} if name == "valset" else {"admin": {}}   # valset keeps its admin in config
        assert app.query(c[name], query)["admin"] == voting, name
    assert chain_params.load(app.store).governance_contract == voting
    # the circle: 3 voting members with escrow; one admin; the genesis account keeps nothing
    assert app.query(c["membership"], {"total_points": {"at_height": None}}) == {"points": 3}
    assert app.query(c["group"], {"list_members": {}})["members"][0]["addr"] == devnet_doc.admins[0]
    assert app.balance(c["membership"], "ucnv") == 3 * devnet_doc.contracts.escrow_amount
    assert app.balance(result.genesis_account, "ucnv") == 0
    for v in devnet_doc.validators:       # bonded stake is in the stake contract, spare balance untouched
        assert app.query(c["stake"], {"staked": {"address": v.operator}})["stake"]["amount"] == str(v.stake)
        assert app.balance(v.operator, "ustake") == 1_000_000


def test_every_node_computes_the_same_state(devnet_doc, module_cache_dir, tmp_path):
    first, r1 = boot(devnet_doc, module_cache_dir)
    second, r2 = boot(parse_genesis(devnet_doc.canonical_bytes()), tmp_path)   # reparsed, cold compile cache
    assert list(iterate(first.store)) == list(iterate(second.store))
    assert r1.validators == r2.validators and r1.contracts == r2.contracts


def test_document_round_trips(devnet_doc):
    assert parse_genesis(devnet_doc.canonical_bytes()) == devnet_doc


def test_governance_runs_on_the_booted_chain(devnet_doc, module_cache_dir):
    """The voting contract really is in charge: a passed proposal grants engagement."""
    app, result = boot(devnet_doc, module_cache_dir)
    c, m1, m2, _ = result.contracts, *devnet_doc.members
    operator = devnet_doc.validators[3].operator
    msg = {"wasm": {"execute": {"contract_addr": c["engagement"], "funds": [], "msg": base64.b64encode(
        json.dumps({"add_points": {"addr": operator, "points": 300}}).encode()).decode()}}}
    out = app.execute(c["voting"], {"propose": {"title": "t", "description": "d", "msgs": [msg]}}, sender=m1)
    pid = int(out.wasm_attribute("proposal_id"))
    app.execute(c["voting"], {"vote": {"proposal_id": pid, "vote": "yes"}}, sender=m2)
    app.execute(c["voting"], {"execute": {"proposal_id": pid}}, sender=m1)
    assert app.query(c["engagement"], {"member": {"addr": operator, "at_height": None}})["points"] == 400


# --- bad configs: each refused with a message that names the problem ------------------------------
def mutated(change) -> dict:
    config = devnet_config()
    change(config)
    return config


BAD_CONFIGS = {
    "no validators": (lambda c: c.update(validators=[]), "at least one validator"),
    "validator without stake": (lambda c: c["validators"][0].pop("stake"), "validators[0]: no stake"),
    "stake below one point": (lambda c: c["validators"][0].update(stake="999"), "gives no stake points"),
    "bad pubkey base64": (lambda c: c["validators"][1].update(pubkey="not base64!"), "validators[1].pubkey"),
    "short pubkey": (lambda c: c["validators"][1].update(pubkey=base64.b64encode(b"k" * 31).decode()), "31 bytes"),
    "duplicate pubkey": (lambda c: c["validators"][1].update(pubkey=c["validators"][0]["pubkey"]), "already used"),
    "duplicate operator": (lambda c: c["validators"][1].update(operator=c["validators"][0]["operator"]),
                           "duplicate validator operator"),
    "duplicate member": (lambda c: c["members"].append(c["members"][0]), "duplicate member"),
    "no members": (lambda c: c.update(members=[]), "at least one circle member"),
    "unknown denom": (lambda c: c["accounts"][0]["coins"].append({"denom": "uatom", "amount": "5"}),
                      "unknown denom 'uatom'"),
    "fee in unknown denom": (lambda c: c["params"].update(min_fee=[{"denom": "uatom", "amount": "1"}]),
                             "unknown denom 'uatom'"),
    "wrong prefix": (lambda c: c["members"].append(c["members"][0].replace("conclave", "wasm", 1)), "members[3]"),
    "bad time": (lambda c: c.update(genesis_time="yesterday"), "not RFC 3339"),
    "unknown field": (lambda c: c.update(validator_set=[]), "unknown field 'validator_set'"),
    "oversized chain id": (lambda c: c.update(chain_id="x" * 51), "chain_id: longer than 50"),
    "too many members": (lambda c: c.update(members=c["members"] * 40), "at most 100"),
    "quorum above 1": (lambda c: c["contract_params"]["voting_rules"].update(quorum="1.5"), "(0, 1]"),
    "unknown mixer": (lambda c: c["contract_params"].update(mixer_function={"max": {}}), "mixer_function"),
    "blank moniker": (lambda c: c["validators"][0].update(moniker="  "), "validators[0].moniker: expected a non-blank"),
    "long moniker": (lambda c: c["validators"][0].update(moniker="é" * 36), "longer than 70 bytes"),
    "moniker with a bell": (lambda c: c["validators"][2].update(moniker="node\a"), "control characters"),
    "numeric moniker": (lambda c: c["validators"][3].update(moniker=7), "validators[3].moniker"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_is_refused(case):
    change, message = BAD_CONFIGS[case]
    with pytest.raises(InvalidGenesis) as err:
        parse_genesis(mutated(change), require_code=False)
    assert message in str(err.value)


def test_empty_validator_set_is_a_clear_error_at_build(module_cache_dir):
    config = mutated(lambda c: c["contract_params"]["valset"].update(min_points=10**9))
    with pytest.raises(genesis_builder.GenesisBuildError, match="genesis produced no validators: .*min_points"):
        genesis_builder.build_doc(config, ARTIFACTS)


def test_missing_code_is_refused(devnet_doc):
    doc = devnet_doc.to_json()
    doc["code"] = [c for c in doc["code"] if c["name"] != "valset"]
    with pytest.raises(InvalidGenesis, match="missing wasm for valset"):
        parse_genesis(doc)


def test_tampered_code_is_refused(devnet_doc):
    doc = devnet_doc.to_json()
    doc["code"][0]["wasm"] = base64.b64encode(b"\0asm\1\0\0\0").decode()
    with pytest.raises(InvalidGenesis, match="checksum mismatch for group"):
        parse_genesis(doc)


def test_missing_artifact_or_checksum_mismatch(tmp_path):
    artifacts = tmp_path / "artifacts"
    shutil.copytree(ARTIFACTS, artifacts)
    (artifacts / "mixer.wasm").write_bytes((artifacts / "mixer.wasm").read_bytes() + b"\0")
    with pytest.raises(genesis_builder.GenesisBuildError, match="checksum mismatch for .*mixer.wasm"):
        genesis_builder.read_artifacts(artifacts)
    (artifacts / "mixer.wasm").unlink()
    with pytest.raises(genesis_builder.GenesisBuildError, match="missing artifact .*mixer.wasm"):
        genesis_builder.read_artifacts(artifacts)


@pytest.mark.parametrize("raw, message", [
    (b"{\"chain_id\": ", "malformed JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[]", "expected a JSON object"),
    (b'{"chain_id":"a","chain_id":"b"}', "duplicate key 'chain_id'"),
    (b" " * (MAX_GENESIS_BYTES + 1), "more than"),
])
def test_malformed_or_oversized_json_is_refused(raw, message):
    with pytest.raises(InvalidGenesis) as err:
        parse_genesis(raw)
    assert message in str(err.value)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=10)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(["chain_id", "genesis_time", "denoms", "block", "params", "accounts", "members",
                              "admins", "validators", "contract_params", "code"]), value=JSON)
def test_hostile_values_only_ever_raise_invalid_genesis(field, value):
    config = devnet_config()
    config[field] = value
    try:
        parse_genesis(config, require_code=False)
    except InvalidGenesis:
        pass


def test_apply_refuses_a_document_for_another_chain(devnet_doc, module_cache_dir):
    app = TestApp(chain_id="other-chain", cache_dir=module_cache_dir)
    ctx = genesis_context(CacheKV(app.store), devnet_doc)
    ctx = replace(ctx, block=replace(ctx.block, chain_id="other-chain"))
    with pytest.raises(InvalidGenesis, match="genesis is for chain 'conclave-devnet'"):
        apply_genesis(ctx, app.keeper, devnet_doc)


# --- the CLI flow ---------------------------------------------------------------------------------
def test_cli_init_add_build_produces_a_genesis_that_applies(tmp_path, module_cache_dir, capsys):
    home = str(tmp_path / "node")
    config = devnet_config()
    assert main(["genesis", "init", "--chain-id", "cli-test", "--home", home,
                 "--genesis-time", "2026-02-01T12:00:00.5Z"]) == 0
    for account in config["accounts"][:2]:
        coins = ",".join(f"{c['amount']}{c['denom']}" for c in account["coins"])
        assert main(["genesis", "add-account", account["address"], coins, "--home", home]) == 0
    for member in config["members"]:
        assert main(["genesis", "add-member", member, "--home", home]) == 0
    assert main(["genesis", "add-admin", config["admins"][0], "--home", home]) == 0
    for v in config["validators"][:2]:
        assert main(["genesis", "add-validator", v["operator"], "--pubkey", v["pubkey"], "--stake", v["stake"],
                     "--engagement", str(v["engagement"]), "--moniker", f"{v['moniker']} [eu]", "--home", home]) == 0
    assert main(["genesis", "build", "--home", home, "--artifacts", str(ARTIFACTS)]) == 0
    assert "2 validators" in capsys.readouterr().out
    path = Path(home) / "config" / "genesis.json"
    doc = genesis_builder.load_genesis(path)
    assert doc.chain_id == "cli-test" and doc.genesis_time_ns == 1_769_947_200_500_000_000
    assert path.read_bytes() == doc.canonical_bytes()
    app, result = boot(doc, module_cache_dir)
    assert len(result.validators) == 2
    registered = app.query(result.contracts["valset"], {"list_validators": {}})["validators"]
    assert sorted(v["metadata"]["moniker"] for v in registered) == ["node0 [eu]", "node1 [eu]"]


def test_cli_refuses_bad_input_and_leaves_the_config_alone(tmp_path, capsys):
    home = str(tmp_path / "node")
    assert main(["genesis", "add-member", "x", "--home", home]) == 1
    assert "run `conclave genesis init" in capsys.readouterr().err
    assert main(["genesis", "init", "--chain-id", "c1", "--home", home, "--genesis-time", "2026-01-01T00:00:00Z"]) == 0
    assert main(["genesis", "init", "--chain-id", "c1", "--home", home]) == 1
    before = (Path(home) / "config" / "genesis-config.json").read_bytes()
    member = devnet_config()["members"][0]
    assert main(["genesis", "add-member", member, "--home", home]) == 0
    after = (Path(home) / "config" / "genesis-config.json").read_bytes()
    assert main(["genesis", "add-member", member, "--home", home]) == 1
    assert "already in members" in capsys.readouterr().err
    assert main(["genesis", "add-account", member, "12", "--home", home]) == 1
    assert main(["genesis", "add-account", member, "5uatom", "--home", home]) == 1
    assert "unknown denom 'uatom'" in capsys.readouterr().err
    assert main(["genesis", "add-validator", member, "--pubkey", "AAAA", "--stake", "5", "--engagement", "1",
                 "--home", home]) == 1
    assert (Path(home) / "config" / "genesis-config.json").read_bytes() == after != before
    assert main(["genesis", "build", "--home", home, "--artifacts", str(ARTIFACTS)]) == 1
    assert "at least one validator" in capsys.readouterr().err
    assert not (Path(home) / "config" / "genesis.json").exists()
