"""The tx pipeline's shortcuts change costs, never answers: memos, batched admission, encoded results.

Each shortcut is checked against the plain way of computing the same thing: the decode memo and
the verified-signature memo against fresh decodes and signatures that must still fail, batched
admission (App.check_txs) against one check_tx per tx on a twin app, the hand-written TxResult
encoding and the spliced block results against canonical_json, the TxParams memo against a
governance change of the fee floor.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from chain.app import bank, privileges
from chain.app import tx as T
from chain.app.admission import SignatureVerifier, preverify
from chain.app.app import App, AppParts
from chain.app.block import TxResult
from chain.app.context import Context
from chain.app.events import Event
from chain.app.kv import MemoryKV
from chain.app.memo import BoundedMemo
from chain.codec import b64encode, canonical_json
from chain.crypto.keys import PrivateKey
from chain.store import StateStore
from support import artifact

CHAIN = "conclave-pipeline"
PREFIX = "conclave"
T0 = 1_767_225_600 * 10**9
GENESIS = {"chain_id": CHAIN, "initial_height": "1", "genesis_time": "2026-01-01T00:00:00Z",
           "app_state": {"bech32_prefix": PREFIX}}
KEYS = [PrivateKey.from_seed(bytes([i + 1]) * 32) for i in range(24)]
ALICE, BOB = KEYS[0], KEYS[1]
SOMEWHERE = PrivateKey.from_seed(b"z" * 32).address(PREFIX)   # a well-formed contract address, for decoding


# --- helpers ---------------------------------------------------------------------------------------

def applier(contracts: dict[str, str]):
    """Funded KEYS, a counter, and test-reflect holding gov_executor (a stand-in for governance)."""

    def apply(ctx: Context, parts: AppParts, doc: dict):
        keeper, alice = parts.keeper, ALICE.address(PREFIX)
        for key in KEYS:
            bank.mint(ctx.store, key.address(PREFIX), [("ucnv", 1_000_000)])
        for name, msg in (("test_counter", {"count": 0}), ("test_reflect", {})):
            info, _ = keeper.store_code(ctx, alice, artifact(name))
            contracts[name] = keeper.instantiate(ctx, alice, info.code_id, json.dumps(msg).encode(), [], name,
                                                 alice).address
        privileges.grant(keeper, ctx, contracts["test_reflect"], privileges.GOV_EXECUTOR)
        return []

    return apply


def new_app(path: Path, cache: Path, contracts: dict[str, str]) -> App:
    app = App(StateStore.open(path, sync=False), vm_cache_dir=cache)
    app.init_chain(GENESIS, T0, genesis_applier=applier(contracts))
    return app


def run_block(app: App, txs: list[bytes]) -> dict:
    height = app.store.height + 1
    response = app.finalize_block(height, T0 + height * 5 * 10**9, txs)
    assert app.commit() == response["app_hash"]
    return response


def increment(key: PrivateKey, seq: int, counter: str, fee: int = 0) -> bytes:
    return T.build_tx(key, CHAIN, seq, [T.Execute(counter, {"increment": {}}, ())],
                      fee=(("ucnv", fee),) if fee else ()).raw


def resigned(raw: bytes, key: PrivateKey, **changes) -> bytes:
    """The tx's body with ``changes``, signed by ``key``."""
    body = json.loads(raw)["body"]
    body.update(changes)
    return canonical_json({"body": body, "signature": b64encode(key.sign(canonical_json(body)))})


def with_signature(raw: bytes, signature: bytes) -> bytes:
    doc = json.loads(raw)
    doc["signature"] = b64encode(signature)
    return canonical_json(doc)


@pytest.fixture
def twins(tmp_path, module_cache_dir):
    """Two apps from the same genesis: one admits the plain way, the other in batches."""
    contracts_a, contracts_b = {}, {}
    a = new_app(tmp_path / "a", module_cache_dir, contracts_a)
    b = new_app(tmp_path / "b", module_cache_dir, contracts_b)
    assert contracts_a == contracts_b
    run_block(a, [])
    run_block(b, [])
    yield a, b, contracts_a
    a.store.close()
    b.store.close()


# --- BoundedMemo ---------------------------------------------------------------------------------

def test_memo_forgets_the_oldest_beyond_its_bounds():
    memo: BoundedMemo[str] = BoundedMemo(3, max_size=10)
    for key in "abc":
        memo.put(key, key.upper(), 2)
    memo.put("a", "A2", 2)                      # a put again counts as new: b, c, a
    memo.put("d", "D", 2)                       # 4 entries > 3: b (the oldest) goes
    assert [memo.get(k) for k in "abcd"] == ["A2", None, "C", "D"] and len(memo) == 3 and memo.size == 6
    memo.put("e", "E", 6)                       # size 12 > 10: the oldest (c) goes, and 10 fits
    assert memo.size == 10 and [memo.get(k) for k in "acde"] == ["A2", None, "D", "E"]
    memo.put("huge", "H", 11)                   # larger than the whole bound: never kept
    assert memo.get("huge") is None and "huge" not in memo
    memo.clear()
    assert len(memo) == 0 and memo.size == 0
    with pytest.raises(ValueError, match="at least one entry"):
        BoundedMemo(0)


def test_memo_is_consistent_under_threads():
    memo: BoundedMemo[int] = BoundedMemo(50, max_size=200)

    def work(offset: int) -> None:
        for i in range(2_000):
            memo.put((offset, i % 97), i, 1 + i % 3)
            memo.get((offset, (i * 7) % 97))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(memo) <= 50 and memo.size <= 200


# --- decode and signature memos --------------------------------------------------------------------

def test_decoding_the_same_bytes_twice_gives_the_same_tx():
    raw = increment(ALICE, 0, SOMEWHERE)
    first = T.decode_tx(raw)
    assert T.decode_tx(raw) is first
    assert T.decode_tx(bytearray(raw)) is first
    assert T.decode_tx(bytes(raw)) == first


@pytest.mark.parametrize("bad", [b"", b"{", b'{"body":{},"signature":""}', b"\xff" * 10, "text", None, 7])
def test_malformed_bytes_are_refused_every_time(bad):
    for _ in range(2):
        with pytest.raises(T.TxError):
            T.decode_tx(bad)


def test_a_verified_signature_does_not_vouch_for_other_bytes():
    raw = increment(ALICE, 0, SOMEWHERE)
    tx = T.decode_tx(raw)
    assert T.signature_valid(tx.body.pubkey, tx.sign_bytes, tx.signature)          # now memoized
    assert T.signature_valid(tx.body.pubkey, tx.sign_bytes, tx.signature)
    # the same signature over another body, another signature over the same body, another key
    other_body = T.decode_tx(resigned(raw, ALICE, sequence=1))
    assert not T.signature_valid(tx.body.pubkey, other_body.sign_bytes, tx.signature)
    assert not T.signature_valid(tx.body.pubkey, tx.sign_bytes, bytes(64))
    assert not T.signature_valid(BOB.pubkey, tx.sign_bytes, tx.signature)
    assert not T.signature_valid(tx.body.pubkey[:31], tx.sign_bytes, tx.signature)
    params = T.TxParams(prefix=PREFIX)
    forged = T.decode_tx(with_signature(raw, bytes(64)))
    result = T.check_tx(MemoryKV(), forged, CHAIN, params)
    assert result.code == T.CODE_UNAUTHORIZED and "signature verification failed" in result.log


def test_preverify_never_raises():
    good = increment(ALICE, 0, SOMEWHERE)
    assert preverify(good) is True
    assert preverify(with_signature(good, bytes(64))) is False
    for junk in (b"", b"null", b"\x00" * 100, b'{"body":1}'):
        assert preverify(junk) is False


def test_signature_verifier_handles_any_batch_and_restarts_after_close():
    raws = [increment(key, 0, SOMEWHERE) for key in KEYS] + [b"garbage", b""]
    raws.append(with_signature(raws[0], bytes(64)))
    for threads in (1, 2, 3):
        verifier = SignatureVerifier(threads)
        verifier.preverify_all(raws)
        verifier.preverify_all(raws[:3])        # below the batch minimum: inline
        verifier.preverify_all([])
        verifier.close()
        verifier.preverify_all(raws)            # a closed verifier starts its pool again
        verifier.close()
    with pytest.raises(ValueError, match="at least one thread"):
        SignatureVerifier(0)


# --- batched admission ------------------------------------------------------------------------------

def test_check_txs_answers_exactly_as_check_tx_one_by_one(twins):
    serial, batched, contracts = twins
    counter = contracts["test_counter"]
    good = [increment(key, 0, counter) for key in KEYS[2:]]
    txs = good + [
        increment(ALICE, 0, counter),
        increment(ALICE, 0, counter),                          # the same tx again: its sequence is used up
        increment(ALICE, 2, counter),                          # a gap
        with_signature(increment(BOB, 0, counter), bytes(64)),  # a bad signature
        resigned(increment(BOB, 0, counter), ALICE),           # signed by the wrong key
        b"not a transaction", b"", b"\xff" * 64,
        T.build_tx(BOB, "another-chain", 0, [T.Execute(counter, {"increment": {}}, ())]).raw,
        increment(BOB, 0, counter),
    ]
    expected = [serial.check_tx(raw) for raw in txs]
    assert batched.check_txs(txs) == expected
    assert [a["code"] for a in expected].count(0) == len(good) + 2
    assert batched.check_txs([]) == []
    # the blocks the two apps then execute agree, state and results
    assert run_block(serial, good) == run_block(batched, good)


# --- encoded results ----------------------------------------------------------------------------------

text = st.text(max_size=12)
events = st.lists(st.builds(Event, text, st.lists(st.tuples(text, text), max_size=3)), max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**63), text, st.integers(0, 2**63), st.integers(0, 2**63), events, text,
       st.one_of(st.none(), st.binary(max_size=20)))
def test_tx_result_encoding_is_canonical_json(code, log, used, wanted, evs, codespace, data):
    result = TxResult(code, log, used, wanted, evs, codespace, data)
    assert result.canonical_bytes() == canonical_json(result.to_json())


def test_tx_result_encoding_falls_back_for_unusual_values():
    odd = TxResult(True, "log", 1, 2, [Event("t", [("k", 5)])], "", None)     # type: ignore[arg-type]
    assert odd.canonical_bytes() == canonical_json(odd.to_json())


def test_stored_block_results_are_the_canonical_json_of_the_answer(twins):
    app, _, contracts = twins
    counter = contracts["test_counter"]
    txs = [increment(key, 0, counter) for key in KEYS[:4]] + [b"garbage"]
    response = app.finalize_block(app.store.height + 1, T0 + 10**12, txs)
    app.commit()
    stored = app.store.block_results(app.store.height)
    assert stored == canonical_json({**response, "app_hash": response["app_hash"].hex()})
    for index, raw in enumerate(txs[:4]):
        record = app.store.tx(bytes.fromhex(T.decode_tx(raw).hash))
        assert record.result == canonical_json(response["tx_results"][index])


# --- the TxParams memo --------------------------------------------------------------------------------

def test_a_fee_floor_set_by_governance_applies_to_the_next_admission(twins):
    app, _, contracts = twins
    counter, gov = contracts["test_counter"], contracts["test_reflect"]
    assert app.check_tx(increment(KEYS[5], 0, counter))["code"] == 0
    floor = {"update_params": {"min_fee": [{"denom": "ucnv", "amount": "7"}]}}
    dispatch = {"dispatch": {"msgs": [{"id": 0, "payload": "", "msg": {"custom": floor}, "gas_limit": None,
                                       "reply_on": "never"}]}}
    response = run_block(app, [T.build_tx(ALICE, CHAIN, 0, [T.Execute(gov, dispatch, ())]).raw])
    assert response["tx_results"][0]["code"] == 0, response["tx_results"][0]
    refused = app.check_tx(increment(KEYS[6], 0, counter))
    assert refused["code"] == T.CODE_INSUFFICIENT_FEE and "insufficient fee" in refused["log"]
    assert app.check_tx(increment(KEYS[7], 0, counter, fee=7))["code"] == 0
