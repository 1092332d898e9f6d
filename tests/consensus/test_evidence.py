"""Duplicate-vote evidence: canonical order, verification against the set, hostile JSON."""
from __future__ import annotations

import pytest

from chain.consensus import PRECOMMIT, PREVOTE, ConsensusMessageError, DuplicateVoteEvidence
from consensus.helpers import CHAIN_ID, genesis, sign_vote

V = bytes([1]) * 32
W = bytes([2]) * 32


@pytest.fixture
def chain():
    state, keys = genesis([1, 1, 1, 1])
    return state.validators, keys


def test_canonical_order_puts_nil_first_then_by_hash(chain):
    _, keys = chain
    a, nil, b = (sign_vote(keys[0], PREVOTE, 3, 1, h) for h in (W, None, V))
    assert DuplicateVoteEvidence.of(a, nil) == DuplicateVoteEvidence.of(nil, a) == DuplicateVoteEvidence(nil, a)
    assert DuplicateVoteEvidence.of(a, b).vote_a == b
    ev = DuplicateVoteEvidence.of(a, b)
    assert ev.hash() == DuplicateVoteEvidence.of(b, a).hash()
    assert ev.validator == a.validator and ev.height == 3


def test_valid_evidence_verifies_and_round_trips(chain):
    validators, keys = chain
    ev = DuplicateVoteEvidence.of(sign_vote(keys[1], PRECOMMIT, 2, 0, V), sign_vote(keys[1], PRECOMMIT, 2, 0, None))
    ev.verify(CHAIN_ID, validators)
    again = DuplicateVoteEvidence.from_json(ev.to_json())
    assert again == ev and again.hash() == ev.hash()


@pytest.mark.parametrize("pair, fragment", [
    (lambda k: (sign_vote(k[0], PREVOTE, 2, 0, V), sign_vote(k[1], PREVOTE, 2, 0, W)), "differ"),
    (lambda k: (sign_vote(k[0], PREVOTE, 2, 0, V), sign_vote(k[0], PREVOTE, 3, 0, W)), "differ"),
    (lambda k: (sign_vote(k[0], PREVOTE, 2, 0, V), sign_vote(k[0], PREVOTE, 2, 1, W)), "differ"),
    (lambda k: (sign_vote(k[0], PREVOTE, 2, 0, V), sign_vote(k[0], PRECOMMIT, 2, 0, W)), "differ"),
    (lambda k: (sign_vote(k[0], PREVOTE, 2, 0, V), sign_vote(k[0], PREVOTE, 2, 0, V, 999)), "same block"),
])
def test_pairs_that_are_not_an_equivocation_are_refused(chain, pair, fragment):
    validators, keys = chain
    a, b = pair(keys)
    with pytest.raises(ConsensusMessageError, match=fragment):
        DuplicateVoteEvidence.of(a, b).verify(CHAIN_ID, validators)


def test_non_canonical_order_is_refused(chain):
    validators, keys = chain
    ev = DuplicateVoteEvidence(sign_vote(keys[0], PREVOTE, 2, 0, W), sign_vote(keys[0], PREVOTE, 2, 0, V))
    with pytest.raises(ConsensusMessageError, match="ordered"):
        ev.verify(CHAIN_ID, validators)
    with pytest.raises(ConsensusMessageError, match="ordered"):
        DuplicateVoteEvidence.from_json(ev.to_json())


def test_forged_signature_unknown_validator_and_wrong_chain_are_refused(chain):
    validators, keys = chain
    good = DuplicateVoteEvidence.of(sign_vote(keys[0], PREVOTE, 2, 0, V), sign_vote(keys[0], PREVOTE, 2, 0, W))
    forged = DuplicateVoteEvidence(good.vote_a, good.vote_b.with_signature(bytes(64)))
    with pytest.raises(ConsensusMessageError, match="vote_b has an invalid signature"):
        forged.verify(CHAIN_ID, validators)
    with pytest.raises(ConsensusMessageError, match="invalid signature"):
        good.verify("another-chain", validators)
    _, strangers = genesis([1], "stranger")
    stranger = DuplicateVoteEvidence.of(sign_vote(strangers[0], PREVOTE, 2, 0, V),
                                        sign_vote(strangers[0], PREVOTE, 2, 0, W))
    with pytest.raises(ConsensusMessageError, match="not a validator"):
        stranger.verify(CHAIN_ID, validators)


@pytest.mark.parametrize("doc, fragment", [
    ({}, "missing"),
    ([], "JSON object"),
    ({"vote_a": 1, "vote_b": 2}, "vote"),
    ({"vote_a": None, "vote_b": None, "x": 1}, "unexpected"),
])
def test_hostile_evidence_json_is_refused(doc, fragment):
    with pytest.raises(ConsensusMessageError, match=fragment):
        DuplicateVoteEvidence.from_json(doc)
