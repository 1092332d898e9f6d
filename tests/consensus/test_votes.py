"""VoteSet and HeightVoteSet: verification, integer quorums, equivocation, commits."""
from __future__ import annotations

import pytest

from chain.consensus import (PRECOMMIT, PREVOTE, AddKind, AddResult, ConsensusMessageError, HeightVoteSet, VoteSet,
                             verify_commit)
from chain.consensus.votes import MAX_VALUES_PER_VALIDATOR
from consensus.helpers import CHAIN_ID, address_of, genesis, sign_proposal, sign_vote

V = bytes([1]) * 32
W = bytes([2]) * 32


def setup(powers: list[int], type: int = PREVOTE, round: int = 0):
    state, keys = genesis(powers)
    return VoteSet(CHAIN_ID, 1, round, type, state.validators), keys


def test_add_counts_once_and_recognises_duplicates():
    vs, keys = setup([1, 1, 1, 1])
    vote = sign_vote(keys[0], PREVOTE, 1, 0, V)
    assert vs.add(vote) is AddResult.ADDED
    assert vs.add(vote) is AddResult.DUPLICATE
    resigned = sign_vote(keys[0], PREVOTE, 1, 0, V, vote.timestamp_ns + 5)
    assert vs.add(resigned) is AddResult.DUPLICATE            # same choice, other time: still one vote
    assert vs.power_for(V) == 1 and vs.total_voted == 1 and len(vs) == 1
    assert vs.get(address_of(keys[0])) == vote


def test_exactly_two_thirds_is_not_a_quorum():
    vs, keys = setup([1, 1, 1])
    for key in keys[:2]:
        vs.add(sign_vote(key, PREVOTE, 1, 0, V))
    assert vs.two_thirds_majority() == (False, None)
    assert not vs.has_two_thirds_any() and not vs.has_two_thirds_for(V)
    vs.add(sign_vote(keys[2], PREVOTE, 1, 0, V))
    assert vs.two_thirds_majority() == (True, V)


def test_quorums_are_by_power_not_by_count():
    vs, keys = setup([10, 20, 30, 40])           # 70 of 100 is +2/3; 60 is not
    by_power = dict(zip([10, 20, 30, 40], keys))
    vs.add(sign_vote(by_power[40], PREVOTE, 1, 0, V))
    vs.add(sign_vote(by_power[20], PREVOTE, 1, 0, V))
    assert vs.two_thirds_majority() == (False, None)
    vs.add(sign_vote(by_power[10], PREVOTE, 1, 0, None))
    assert vs.has_two_thirds_any() and vs.two_thirds_majority() == (False, None)
    vs.add(sign_vote(by_power[30], PREVOTE, 1, 0, V))
    assert vs.two_thirds_majority() == (True, V)


def test_nil_majority_and_one_third_boundaries():
    vs, keys = setup([1, 1, 1])
    vs.add(sign_vote(keys[0], PREVOTE, 1, 0, None))
    assert not vs.has_one_third_any()                     # exactly a third is not more than a third
    vs.add(sign_vote(keys[1], PREVOTE, 1, 0, None))
    assert vs.has_one_third_any()
    vs.add(sign_vote(keys[2], PREVOTE, 1, 0, None))
    assert vs.two_thirds_majority() == (True, None)


def test_a_conflicting_vote_yields_evidence_and_counts_only_for_its_own_hash():
    vs, keys = setup([1, 1, 1, 1])
    first = sign_vote(keys[0], PREVOTE, 1, 0, V)
    second = sign_vote(keys[0], PREVOTE, 1, 0, None)
    assert vs.add(first).kind is AddKind.ADDED
    result = vs.add(second)
    assert result.kind is AddKind.CONFLICT
    assert result.evidence is not None and result.evidence.vote_a == second and result.evidence.vote_b == first
    result.evidence.verify(CHAIN_ID, vs.validators)
    assert vs.total_voted == 1 and len(vs) == 1             # one validator, counted once overall
    assert vs.power_for(V) == 1 and vs.power_for(None) == 1
    assert vs.add(second) is AddResult.DUPLICATE           # echo of the conflict: no second evidence
    assert vs.get(address_of(keys[0])) == first


def test_equivocation_cannot_fake_a_quorum_for_two_values():
    # 1 byzantine of 4 double-votes: V gets 3 (a quorum), W can get at most 2.
    vs, keys = setup([1, 1, 1, 1])
    for key in keys[:2]:
        vs.add(sign_vote(key, PREVOTE, 1, 0, V))
    vs.add(sign_vote(keys[2], PREVOTE, 1, 0, W))
    vs.add(sign_vote(keys[3], PREVOTE, 1, 0, V))
    vs.add(sign_vote(keys[3], PREVOTE, 1, 0, W))
    assert vs.has_two_thirds_for(V) and not vs.has_two_thirds_for(W)
    assert vs.two_thirds_majority() == (True, V)


def test_an_equivocators_votes_are_capped():
    vs, keys = setup([1, 1, 1, 1])
    hashes = [bytes([i]) * 32 for i in range(1, MAX_VALUES_PER_VALIDATOR + 3)]
    results = [vs.add(sign_vote(keys[0], PREVOTE, 1, 0, h)) for h in hashes]
    assert [r.kind for r in results[:MAX_VALUES_PER_VALIDATOR]].count(AddKind.CONFLICT) == MAX_VALUES_PER_VALIDATOR - 1
    assert all(r is AddResult.DUPLICATE for r in results[MAX_VALUES_PER_VALIDATOR:])
    assert vs.power_for(hashes[-1]) == 0
    # Over the cap, a vote for a hash others voted for still counts: it may complete a quorum.
    fresh = bytes([0xEE]) * 32
    assert vs.add(sign_vote(keys[0], PREVOTE, 1, 0, fresh)) is AddResult.DUPLICATE
    vs.add(sign_vote(keys[1], PREVOTE, 1, 0, fresh))
    assert vs.add(sign_vote(keys[0], PREVOTE, 1, 0, fresh)).kind is AddKind.CONFLICT
    assert vs.power_for(fresh) == 2


@pytest.mark.parametrize("make, fragment", [
    (lambda keys: sign_vote(keys[0], PREVOTE, 2, 0, V), "does not belong"),
    (lambda keys: sign_vote(keys[0], PREVOTE, 1, 1, V), "does not belong"),
    (lambda keys: sign_vote(keys[0], PRECOMMIT, 1, 0, V), "does not belong"),
    (lambda keys: sign_vote(genesis([1], "stranger")[1][0], PREVOTE, 1, 0, V), "not a validator"),
    (lambda keys: sign_vote(keys[0], PREVOTE, 1, 0, V, chain_id="other-chain"), "invalid signature"),
    (lambda keys: sign_vote(keys[0], PREVOTE, 1, 0, V).with_signature(bytes(64)), "invalid signature"),
    (lambda keys: sign_vote(keys[0], PREVOTE, 1, 0, V).with_signature(b""), "signature"),
    (lambda keys: "a vote", "expected a Vote"),
])
def test_invalid_votes_are_refused(make, fragment):
    vs, keys = setup([1, 1, 1, 1])
    with pytest.raises(ConsensusMessageError, match=fragment):
        vs.add(make(keys))
    assert vs.total_voted == 0


def test_a_forged_vote_under_a_real_validators_name_is_refused():
    vs, keys = setup([1, 1, 1, 1])
    forged = sign_vote(keys[1], PREVOTE, 1, 0, V)
    forged = type(forged)(forged.type, 1, 0, V, forged.timestamp_ns, address_of(keys[0]), forged.signature)
    with pytest.raises(ConsensusMessageError, match="invalid signature"):
        vs.add(forged)


def test_make_commit_holds_the_precommits_for_the_block_sorted_and_verifies():
    vs, keys = setup([1, 1, 1, 1], PRECOMMIT, round=2)
    for key in keys[:3]:
        vs.add(sign_vote(key, PRECOMMIT, 1, 2, V))
    vs.add(sign_vote(keys[3], PRECOMMIT, 1, 2, None))
    commit = vs.make_commit(V)
    assert (commit.height, commit.round, commit.block_hash) == (1, 2, V)
    assert [s.validator for s in commit.signatures] == sorted(address_of(k) for k in keys[:3])
    verify_commit(CHAIN_ID, vs.validators, 1, V, commit)
    with pytest.raises(ValueError, match="no \\+2/3"):
        vs.make_commit(W)
    prevotes, _ = setup([1, 1, 1, 1], PREVOTE)
    with pytest.raises(ValueError, match="precommits"):
        prevotes.make_commit(V)


def test_height_vote_set_routes_votes_and_tracks_who_spoke_per_round():
    state, keys = genesis([1, 1, 1, 1])
    hvs = HeightVoteSet(CHAIN_ID, 1, state.validators)
    hvs.add(sign_vote(keys[0], PREVOTE, 1, 3, V))
    hvs.add(sign_vote(keys[0], PRECOMMIT, 1, 3, V))          # same validator, another type: still one sender
    assert hvs.prevotes(3).power_for(V) == 1 and hvs.precommits(3).power_for(V) == 1
    assert hvs.sender_power(3) == 1
    assert hvs.rounds_with_one_third() == []
    hvs.note_message(3, address_of(keys[1]))                 # a proposal from another validator
    assert hvs.sender_power(3) == 2 and hvs.rounds_with_one_third(above=2) == [3]
    assert hvs.rounds_with_one_third(above=3) == []
    hvs.note_message(3, b"\x00" * 20)                        # unknown: ignored
    assert hvs.sender_power(3) == 2
    with pytest.raises(ConsensusMessageError, match="height"):
        hvs.add(sign_vote(keys[0], PREVOTE, 2, 0, V))
    assert hvs.rounds() == [3] and hvs.precommit_rounds() == [3]


def test_vote_sets_are_only_for_votes():
    state, _ = genesis([1])
    with pytest.raises(ValueError):
        VoteSet(CHAIN_ID, 1, 0, 32, state.validators)


def test_proposals_are_not_votes():
    vs, keys = setup([1, 1, 1, 1])
    with pytest.raises(ConsensusMessageError):
        vs.add(sign_proposal(keys[0], 1, 0, -1, V))  # type: ignore[arg-type]
