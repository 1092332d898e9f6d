"""Block execution through the ABCI++ boundary (chain/app/app.py) over a real RocksDB StateStore."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from chain.app import bank, privileges
from chain.app import tx as T
from chain.app.app import ACCEPT, REJECT, App, AppParts, AppStateError
from chain.app.context import Context
from chain.codec import b64encode, canonical_json
from chain.crypto.keys import PrivateKey
from chain.store import Proof, StateStore, verify_proof
from support import artifact

CHAIN = "conclave-blocks"
PREFIX = "conclave"
T0 = 1_767_225_600 * 10**9
BLOCK_SECONDS = 5
MAX_BLOCK_GAS = 10_000_000
ALICE = PrivateKey.from_seed(b"a" * 32)
BOB = PrivateKey.from_seed(b"b" * 32)
VALIDATOR_KEY = PrivateKey.from_seed(b"v" * 32).pubkey
GENESIS = {"chain_id": CHAIN, "initial_height": "1", "genesis_time": "2026-01-01T00:00:00Z",
           "consensus_params": {"block": {"max_bytes": "22020096", "max_gas": str(MAX_BLOCK_GAS)}},
           "app_state": {"bech32_prefix": PREFIX}}


def make_applier(contracts: dict[str, str], hostile: bool = False, valset: bool = False):
    """A small genesis: funded accounts, a counter; optionally a failing block hook and a valset."""

    def apply(ctx: Context, parts: AppParts, doc: dict):
        keeper, alice = parts.keeper, ALICE.address(PREFIX)
        for key in (ALICE, BOB):
            bank.mint(ctx.store, key.address(PREFIX), [("ucnv", 1_000_000)])

        def instantiate(name: str, msg: dict, label: str) -> str:
            info, _ = keeper.store_code(ctx, alice, artifact(name))
            return keeper.instantiate(ctx, alice, info.code_id, json.dumps(msg).encode(), [], label, alice).address

        contracts["counter"] = instantiate("test_counter", {"count": 0}, "counter")
        if hostile:   # no sudo entry point: granted silently, every block call to it fails
            contracts["hostile"] = instantiate("test_hostile", {}, "hostile")
            for name in (privileges.BEGIN_BLOCKER, privileges.END_BLOCKER):
                privileges.grant(keeper, ctx, contracts["hostile"], name)
        if valset:
            group = instantiate("group", {"admin": alice, "members": [{"addr": alice, "points": 7}]}, "members")
            contracts["valset"] = instantiate("valset", {
                "membership": group, "min_points": 1, "max_validators": 10, "epoch_length": 60, "scaling": 3,
                "admin": alice, "initial_keys": [{"operator": alice, "metadata": None,
                                                  "validator_pubkey": {"ed25519": b64encode(VALIDATOR_KEY)}}]},
                "valset")
            privileges.grant(keeper, ctx, contracts["valset"], privileges.VALIDATOR_SET_UPDATER)
        return []

    return apply


def new_app(path: Path, cache: Path, contracts: dict | None = None, **flags) -> App:
    app = App(StateStore.open(path), vm_cache_dir=cache)
    app.init_chain(GENESIS, T0, genesis_applier=make_applier(contracts if contracts is not None else {}, **flags))
    return app


def run_block(app: App, txs: list[bytes], **kw) -> dict:
    height = app.store.height + 1
    result = app.finalize_block(height, T0 + height * BLOCK_SECONDS * 10**9, txs, **kw)
    assert app.commit() == result["app_hash"]
    return result


def send(key: PrivateKey, seq: int, to: PrivateKey, amount: int = 10, fee: int = 0, gas: int = 200_000) -> bytes:
    msg = T.Send(to.address(PREFIX), (("ucnv", amount),))
    return T.build_tx(key, CHAIN, seq, [msg], fee=(("ucnv", fee),) if fee else (), gas_limit=gas).raw


def execute(key: PrivateKey, seq: int, contract: str, msg: dict, fee: int = 0) -> bytes:
    return T.build_tx(key, CHAIN, seq, [T.Execute(contract, msg, ())],
                      fee=(("ucnv", fee),) if fee else ()).raw


def count(app: App, counter: str) -> int:
    answer = app.query(f"/wasm/smart/{counter}", b'{"count":{}}')
    assert answer["code"] == 0, answer
    return answer["value"]["count"]


def account(app: App, key: PrivateKey) -> dict:
    return app.query(f"/auth/account/{key.address(PREFIX)}")["value"]


@pytest.fixture
def contracts() -> dict[str, str]:
    return {}


@pytest.fixture
def app(tmp_path, module_cache_dir, contracts) -> App:
    app = new_app(tmp_path / "node", module_cache_dir, contracts)
    yield app
    app.store.close()


def test_blocks_commit_and_two_apps_agree_at_every_height(tmp_path, module_cache_dir):
    a, b = {}, {}
    first, second = new_app(tmp_path / "a", module_cache_dir, a), new_app(tmp_path / "b", module_cache_dir, b)
    assert a == b
    blocks = [[send(ALICE, 0, BOB)],
              [execute(ALICE, 1, a["counter"], {"increment": {}}), send(BOB, 0, ALICE, 3)],
              [],
              [execute(BOB, 1, a["counter"], {"increment": {}}), execute(ALICE, 2, a["counter"], {"increment": {}})]]
    hashes = []
    for txs in blocks:
        ra, rb = run_block(first, txs), run_block(second, txs)
        assert ra["app_hash"] == rb["app_hash"] and all(r["code"] == 0 for r in ra["tx_results"]), ra["tx_results"]
        hashes.append(ra["app_hash"])
    assert len(set(hashes)) == len(hashes)      # every block changed the state (a block time is written)
    assert first.info() == second.info() == {"height": 4, "app_hash": hashes[-1]}
    assert count(first, a["counter"]) == 3
    assert account(first, ALICE)["sequence"] == 3
    stored = json.loads(first.store.block_results(2))
    assert stored["app_hash"] == hashes[1].hex() and len(stored["tx_results"]) == 2
    tx_hash = T.decode_tx(blocks[1][1]).hash
    record = first.store.tx(bytes.fromhex(tx_hash))
    assert (record.height, record.index, record.sender) == (2, 1, BOB.address(PREFIX))
    for app in (first, second):
        app.store.close()


def test_a_failing_tx_keeps_its_sequence_and_fee_and_rolls_back(app, contracts):
    counter = contracts["counter"]
    txs = [execute(ALICE, 0, counter, {"increment": {}}),
           T.build_tx(BOB, CHAIN, 0, [T.Execute(counter, {"increment": {}}, ()),
                                      T.Execute(counter, {"fail": {"msg": "boom"}}, ())],
                      fee=(("ucnv", 25),)).raw,
           send(ALICE, 1, BOB, 100)]
    results = run_block(app, txs)["tx_results"]
    assert [r["code"] for r in results] == [0, 5, 0]
    failed = results[1]
    assert failed["codespace"] == "wasm" and "boom" in failed["log"] and "message 1 (execute)" in failed["log"]
    assert 0 < failed["gas_used"] <= failed["gas_wanted"] == 200_000
    assert count(app, counter) == 1                      # bob's first increment rolled back with the failure
    assert account(app, BOB) == {"address": BOB.address(PREFIX), "sequence": 1,
                                 "balances": [{"denom": "ucnv", "amount": str(1_000_000 - 25 + 100)}]}
    record = json.loads(app.store.tx(bytes.fromhex(T.decode_tx(txs[1]).hash)).result)
    assert record["code"] == 5 and "boom" in record["log"]


def test_check_tx_refuses_bad_signatures_and_sequences_and_tracks_admitted_ones(app):
    good = send(ALICE, 0, BOB)
    doc = json.loads(good)
    doc["signature"] = b64encode(BOB.sign(canonical_json(doc["body"])))
    assert app.check_tx(canonical_json(doc))["code"] == T.CODE_UNAUTHORIZED
    assert app.check_tx(send(ALICE, 1, BOB))["code"] == T.CODE_WRONG_SEQUENCE
    assert app.check_tx(b"\xff not a tx")["code"] == T.CODE_TX_DECODE
    assert app.check_tx(T.build_tx(ALICE, "other-chain", 0, [T.Send(BOB.address(PREFIX), (("ucnv", 1),))]).raw
                        )["code"] == T.CODE_INVALID_CHAIN_ID
    assert app.check_tx(send(ALICE, 0, BOB, gas=MAX_BLOCK_GAS + 1))["code"] == T.CODE_INVALID_GAS_LIMIT
    assert app.check_tx(good) == {"code": 0, "log": "", "gas_wanted": 200_000,
                                  "sender": ALICE.address(PREFIX), "sequence": 0}
    assert app.check_tx(send(ALICE, 1, BOB))["code"] == 0          # the check state consumed sequence 0
    assert app.check_tx(good)["code"] == T.CODE_WRONG_SEQUENCE      # replay
    run_block(app, [])
    assert app.check_tx(send(ALICE, 1, BOB))["code"] == T.CODE_WRONG_SEQUENCE   # reset at commit: 0 is next
    assert app.check_tx(good)["code"] == 0


def test_failing_block_hooks_are_logged_and_never_halt(tmp_path, module_cache_dir):
    contracts: dict[str, str] = {}
    app = new_app(tmp_path / "node", module_cache_dir, contracts, hostile=True)
    for seq in range(3):
        result = run_block(app, [execute(ALICE, seq, contracts["counter"], {"increment": {}})])
        assert result["tx_results"][0]["code"] == 0
        [begin_error] = result["begin_block"]["errors"]
        [end_error] = result["end_block"]["errors"]
        assert begin_error["contract"] == end_error["contract"] == contracts["hostile"]
        assert begin_error["phase"] == "begin_block" and end_error["phase"] == "end_block"
        assert "sudo" in begin_error["error"]
    assert app.info()["height"] == 3 and count(app, contracts["counter"]) == 3
    stored = json.loads(app.store.block_results(3))
    assert stored["end_block"]["errors"][0]["contract"] == contracts["hostile"]
    app.store.close()


def test_restart_resumes_at_the_same_height_and_hash(tmp_path, module_cache_dir):
    contracts: dict[str, str] = {}
    reference = new_app(tmp_path / "reference", module_cache_dir, {})
    app = new_app(tmp_path / "node", module_cache_dir, contracts)
    blocks = [[send(ALICE, 0, BOB)], [execute(ALICE, 1, contracts["counter"], {"increment": {}})],
              [send(BOB, 0, ALICE, 1)]]
    for txs in blocks[:2]:
        run_block(app, txs)
        run_block(reference, txs)
    before = app.info()
    app.finalize_block(3, T0, blocks[2])        # finalized but never committed: lost with the process
    app.store.close()
    restarted = App(StateStore.open(tmp_path / "node"), vm_cache_dir=module_cache_dir)
    assert restarted.info() == before == {"height": 2, "app_hash": reference.info()["app_hash"]}
    with pytest.raises(AppStateError, match="genesis runs only once"):
        restarted.init_chain(GENESIS, T0, genesis_applier=make_applier({}))
    assert run_block(restarted, blocks[2])["app_hash"] == run_block(reference, blocks[2])["app_hash"]
    assert count(restarted, contracts["counter"]) == 1
    for a in (restarted, reference):
        a.store.close()


def test_validator_updates_take_effect_two_heights_later(tmp_path, module_cache_dir):
    contracts: dict[str, str] = {}
    app = new_app(tmp_path / "node", module_cache_dir, contracts, valset=True)
    first = run_block(app, [])
    expected = {"pubkey": {"ed25519": b64encode(VALIDATOR_KEY)}, "power": 21, "effective_height": 3}
    assert first["validator_updates"] == [expected] and first["end_block"]["errors"] == []
    assert app.query("/validators")["value"] == []
    second = run_block(app, [])
    assert second["validator_updates"] == [] and second["validators_in_effect"] == []
    third = run_block(app, [])
    assert third["validators_in_effect"] == [expected]
    assert app.query("/validators")["value"] == [dict(expected, effective_height=0)]
    app.store.close()


def test_block_gas_limit_in_proposals_and_execution(app, contracts):
    big = [send(ALICE, 0, BOB, gas=6_000_000), send(ALICE, 1, BOB, gas=6_000_000), send(BOB, 0, ALICE)]
    verdict = app.process_proposal(big)
    assert verdict["status"] == REJECT and "gas" in verdict["reason"]
    assert app.prepare_proposal(big, 1 << 20) == [big[0], big[2]]   # alice's second no longer fits, nor her later txs
    assert app.process_proposal([big[0], big[2]])["status"] == ACCEPT
    assert app.process_proposal([b"{}"])["status"] == REJECT
    assert app.prepare_proposal(big, len(big[0])) == [big[0]]
    results = run_block(app, big)["tx_results"]      # a block past the limit anyway: the excess tx fails
    assert [r["code"] for r in results] == [0, 11, 0] and "block gas limit" in results[1]["log"]
    assert account(app, ALICE)["sequence"] == 1


def test_direct_store_code_and_garbage_are_recorded_failures(app):
    body = json.loads(send(ALICE, 0, BOB))["body"]
    body["msgs"] = [{"store_code": {"wasm": b64encode(artifact("test_counter"))}}]
    store_code = canonical_json({"body": body, "signature": b64encode(ALICE.sign(canonical_json(body)))})
    results = run_block(app, [store_code, b"garbage", send(ALICE, 0, BOB)])["tx_results"]
    assert results[0]["code"] == T.CODE_UNAUTHORIZED and "governance proposal" in results[0]["log"]
    assert results[1]["code"] == T.CODE_TX_DECODE
    assert results[2]["code"] == 0
    assert app.check_tx(store_code)["code"] == T.CODE_UNAUTHORIZED
    proposal = T.build_tx(ALICE, CHAIN, 1, [T.ProposeCode(artifact("test_counter_v2"), "v2", "", None)],
                          gas_limit=MAX_BLOCK_GAS).raw
    [result] = run_block(app, [proposal])["tx_results"]
    assert result["code"] == 38 and "no governance contract" in result["log"]   # refused, sequence kept
    assert account(app, ALICE)["sequence"] == 2


def test_queries_answer_with_proofs_and_refuse_bad_input(app, contracts):
    run_block(app, [send(ALICE, 0, BOB, 7)])
    key = b"bank/balance/" + BOB.address(PREFIX).encode() + b"/ucnv"
    answer = app.query("/store/" + key.hex())["value"]
    value = base64.b64decode(answer["value"])
    assert value == b"1000007"
    assert verify_proof(app.info()["app_hash"], key, value, Proof.from_json(answer["proof"]))
    absent = app.query("/store/" + b"no such key".hex())["value"]
    assert absent["value"] is None
    assert verify_proof(app.info()["app_hash"], b"no such key", None, Proof.from_json(absent["proof"]))
    run_block(app, [send(ALICE, 1, BOB, 1)])
    old = app.query("/store/" + key.hex(), height=1)["value"]
    assert base64.b64decode(old["value"]) == b"1000007" and old["app_hash"] == app.store.app_hash_at(1).hex()
    for path, data in [("/store/zz", b""), ("/nope", b""), (f"/wasm/smart/{contracts['counter']}", b"{bad"),
                       ("/wasm/smart/conclave1xyz", b"{}"), ("/auth/account/not-an-address", b"")]:
        assert app.query(path, data)["code"] == 1, path
    assert app.query(f"/wasm/smart/{contracts['counter']}", b'{"count":{}}', height=1)["code"] == 1
    assert app.query("/store/" + key.hex(), height=99)["code"] == 1


def test_methods_out_of_order_are_refused(tmp_path, module_cache_dir, app):
    bare = App(StateStore.open(tmp_path / "bare"), vm_cache_dir=module_cache_dir)
    with pytest.raises(AppStateError, match="init_chain"):
        bare.check_tx(send(ALICE, 0, BOB))
    assert bare.query("/validators")["code"] == 1
    bare.store.close()
    with pytest.raises(AppStateError, match="commit without finalize_block"):
        app.commit()
    with pytest.raises(AppStateError, match="next height is 1"):
        app.finalize_block(5, T0, [])


def test_contracts_see_who_signed_the_previous_block(tmp_path):
    """The last_commit_votes custom query answers what finalize_block recorded from the block's LastCommit."""
    contracts: dict[str, str] = {}
    app = App(StateStore.open(tmp_path / "data"), vm_cache_dir=tmp_path / "wasm")

    def apply(ctx: Context, parts: AppParts, doc: dict):
        make_applier(contracts)(ctx, parts, doc)
        info, _ = parts.keeper.store_code(ctx, ALICE.address(PREFIX), artifact("test_reflect"))
        contracts["reflect"] = parts.keeper.instantiate(ctx, ALICE.address(PREFIX), info.code_id, b"{}", [],
                                                        "reflect", None).address
        return []

    app.init_chain(GENESIS, T0, genesis_applier=apply)

    def votes() -> list:
        answer = app.query(f"/wasm/smart/{contracts['reflect']}",
                           json.dumps({"chain": {"request": {"custom": {"last_commit_votes": {}}}}}).encode())
        return json.loads(base64.b64decode(answer["value"]["result"]["ok"]["ok"]))["votes"]

    run_block(app, [])
    assert votes() == []                                   # the first block has no LastCommit
    signed = [{"validator": {"ed25519": b64encode(VALIDATOR_KEY)}, "power": 7, "signed": True},
              {"validator": {"ed25519": b64encode(b"\x02" * 32)}, "power": 3, "signed": False}]
    run_block(app, [], last_commit_votes=signed)
    assert votes() == signed
