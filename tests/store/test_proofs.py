"""Inclusion and non-inclusion proofs against the app hash, honest and tampered."""
from __future__ import annotations

import json
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chain.app.kv import CacheKV
from chain.store import EMPTY_HASH, Proof, ProofFormatError, StateStore, verify_proof

from store.smt_reference import reference_app_hash

keys = st.binary(min_size=0, max_size=12)
values = st.binary(min_size=0, max_size=16)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _commit(store: StateStore, writes: dict) -> bytes:
    branch = CacheKV(store)
    for k, v in writes.items():
        if v is None:
            branch.delete(k)
        else:
            branch.set(k, v)
    return store.commit(branch.pending_writes())


@SETTINGS
@given(st.dictionaries(keys, values, max_size=40), st.data())
def test_proofs_verify_and_tampering_fails(state, data):
    removed = data.draw(st.lists(st.sampled_from(sorted(state)), unique=True) if state else st.just([]))
    absent = data.draw(st.lists(keys, max_size=5))
    with tempfile.TemporaryDirectory() as tmp, StateStore.open(tmp) as store:
        _commit(store, state)
        app_hash = _commit(store, {k: None for k in removed})
        for k in removed:
            del state[k]
        assert app_hash == reference_app_hash(state)
        for key, value in state.items():
            proof = store.prove(key)
            assert verify_proof(app_hash, key, value, proof)
            assert not verify_proof(app_hash, key, value + b"x", proof)
            assert not verify_proof(app_hash, key, None, proof)
            assert not verify_proof(app_hash, key + b"\x00", value, proof)
            for tampered in _tamper(proof):
                assert not verify_proof(app_hash, key, value, tampered)
        for key in absent + removed:
            if key in state:
                continue
            proof = store.prove(key)
            assert verify_proof(app_hash, key, None, proof)
            assert not verify_proof(app_hash, key, b"", proof)
            for tampered in _tamper(proof):
                assert not verify_proof(app_hash, key, None, tampered)
            # the proof survives the trip through JSON
            assert verify_proof(app_hash, key, None, Proof.from_json(json.loads(json.dumps(proof.to_json()))))


def _tamper(proof: Proof):
    """Every way we can think of to bend a proof: each must fail."""
    sibs, leaf = proof.siblings, proof.leaf
    for i in range(len(sibs)):
        flipped = bytes([sibs[i][0] ^ 1]) + sibs[i][1:]
        yield Proof(sibs[:i] + (flipped,) + sibs[i + 1:], leaf)
    if sibs:
        yield Proof(sibs[:-1], leaf)
        yield Proof(sibs[1:], leaf)
    yield Proof(sibs + (EMPTY_HASH,), leaf)
    if leaf is not None:
        yield Proof(sibs, (leaf[0], bytes(32)))
        yield Proof(sibs, (bytes([leaf[0][0] ^ 0x80]) + leaf[0][1:], leaf[1]))
        if sibs:
            yield Proof(sibs, None)


def test_single_key_and_empty_tree():
    with tempfile.TemporaryDirectory() as tmp, StateStore.open(tmp) as store:
        assert store.app_hash == EMPTY_HASH
        assert verify_proof(EMPTY_HASH, b"k", None, store.prove(b"k"))
        app_hash = _commit(store, {b"k": b"v"})
        proof = store.prove(b"k")
        assert proof.siblings == () and verify_proof(app_hash, b"k", b"v", proof)
        assert verify_proof(app_hash, b"other", None, store.prove(b"other"))
        assert not verify_proof(EMPTY_HASH, b"k", b"v", proof)


def test_a_true_member_cannot_be_proved_absent():
    with tempfile.TemporaryDirectory() as tmp, StateStore.open(tmp) as store:
        app_hash = _commit(store, {bytes([i]): b"v" for i in range(50)})
        member = store.prove(bytes([7]))
        # Reusing the member's own path and leaf, or cutting it short, never shows absence.
        assert not verify_proof(app_hash, bytes([7]), None, member)
        assert not verify_proof(app_hash, bytes([7]), None, Proof(member.siblings, None))


@pytest.mark.parametrize("bad", [
    Proof(tuple([b"\x00" * 32] * 257), None),           # deeper than a hash
    Proof((b"short",), None),                           # sibling of the wrong size
    Proof([b"\x00" * 32], None),                        # a list, not a tuple
    Proof((), (b"\x00" * 32,)),                         # leaf of one element
    Proof((), ("a" * 32, b"\x00" * 32)),                # leaf of the wrong type
    "not a proof",
])
def test_malformed_proofs_are_false_not_errors(bad):
    assert verify_proof(EMPTY_HASH, b"k", None, bad) is False
    assert verify_proof(b"short", b"k", None, Proof((), None)) is False
    assert verify_proof(EMPTY_HASH, "text key", None, Proof((), None)) is False
    assert verify_proof(EMPTY_HASH, b"k", "text value", Proof((), None)) is False


@pytest.mark.parametrize("obj, field", [
    ([], "exactly"),
    ({"siblings": [], "leaf": None, "extra": 1}, "exactly"),
    ({"siblings": "00", "leaf": None}, "siblings"),
    ({"siblings": ["00" * 32] * 257, "leaf": None}, "siblings"),
    ({"siblings": ["zz" * 32], "leaf": None}, "siblings[0] is not hex"),
    ({"siblings": ["00"], "leaf": None}, "siblings[0]"),
    ({"siblings": [], "leaf": {"key_hash": "00" * 32}}, "leaf"),
    ({"siblings": [], "leaf": {"key_hash": "00" * 32, "value_hash": 5}}, "leaf.value_hash"),
])
def test_proof_json_errors_name_the_field(obj, field):
    with pytest.raises(ProofFormatError, match=field.replace("[", r"\[").replace("]", r"\]")):
        Proof.from_json(obj)
