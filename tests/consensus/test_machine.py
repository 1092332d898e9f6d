"""The Algorithm 1 state machine, rule by rule: feed inputs, compare the actions it returns."""
from __future__ import annotations

import dataclasses

import pytest

from chain.consensus import (PRECOMMIT, PREVOTE, CastVote, ConsensusMachine, ConsensusMessageError, Decide,
                             EvidenceFound, ProposeBlock, ScheduleTimeout, TimeoutConfig, verify_commit)
from chain.consensus.machine import MAX_PROPOSAL_ROUNDS_AHEAD, MAX_PROPOSALS_PER_ROUND, MAX_ROUNDS_AHEAD
from consensus.helpers import CHAIN_ID, Harness, address_of, build_block, genesis, sign_proposal, sign_vote


def harness(powers: list[int] = [1, 1, 1, 1], not_proposing: int = 3, **kwargs) -> Harness:
    """A validator that is not the proposer of rounds 0..not_proposing-1 (the test proposes)."""
    probe = Harness(powers, me=None, start=False)
    proposers = {probe.proposer_index(r) for r in range(not_proposing)}
    me = next(i for i in range(len(powers)) if i not in proposers)
    return Harness(powers, me=me, **kwargs)


def prevote_cast(actions: list, block_hash: bytes | None, round: int = 0) -> bool:
    return CastVote(PREVOTE, 1, round, block_hash) in actions


def precommit_cast(actions: list, block_hash: bytes | None, round: int = 0) -> bool:
    return CastVote(PRECOMMIT, 1, round, block_hash) in actions


def casts(actions: list) -> list[CastVote]:
    return [a for a in actions if isinstance(a, CastVote)]


def to_round(h: Harness, target: int) -> None:
    """Time out rounds until ``target`` (timeouts need no quorum to be honoured)."""
    while h.machine.round < target:
        h.machine.on_timeout("precommit", 1, h.machine.round)


def lock_on(h: Harness, round: int, block) -> None:
    """Make ``h`` prevote ``block`` in ``round`` and see a polka for it: it locks and precommits."""
    to_round(h, round)
    h.propose(round, block)
    h.vote(h.me, PREVOTE, round, block.hash())
    actions = h.votes(h.others()[:2], PREVOTE, round, block.hash())
    assert precommit_cast(actions, block.hash(), round)
    assert (h.machine.locked_round, h.machine.locked_block) == (round, block)


# -- StartRound ------------------------------------------------------------------------------

def test_a_validator_that_is_not_proposer_waits_for_the_proposal():
    h = harness()
    assert h.start_actions == [ScheduleTimeout("propose", 1, 0, 3.0)]
    assert (h.machine.round, h.machine.step) == (0, "propose")


def test_the_proposer_is_asked_for_a_block_and_still_schedules_its_timeout():
    probe = Harness([1, 1, 1, 1], me=None, start=False)
    h = Harness([1, 1, 1, 1], me=probe.proposer_index(0))
    assert h.start_actions == [ProposeBlock(1, 0, None, -1), ScheduleTimeout("propose", 1, 0, 3.0)]


def test_timeouts_grow_with_the_round():
    t = TimeoutConfig()
    assert (t.propose_timeout(2), t.prevote_timeout(2), t.precommit_timeout(2)) == (4.0, 2.0, 2.0)
    assert t.commit_timeout() == 1.0 and TimeoutConfig(skip_timeout_commit=True).commit_timeout() == 0.0
    with pytest.raises(ValueError):
        TimeoutConfig(propose=-1)
    with pytest.raises(ValueError):
        TimeoutConfig(prevote=float("nan"))


# -- L22 ----------------------------------------------------------------------------------

def test_L22_prevotes_a_valid_proposal():
    h = harness()
    block = h.block(0)
    assert h.propose(0, block) == [CastVote(PREVOTE, 1, 0, block.hash())]
    assert h.machine.step == "prevote"


def test_L22_prevotes_nil_for_an_invalid_block():
    h = harness()
    assert h.propose(0, h.block(0), valid=False) == [CastVote(PREVOTE, 1, 0, None)]


def test_L22_prevotes_nil_for_a_fresh_block_that_names_another_proposer():
    h = harness()
    someone_else = next(address_of(k) for k in h.keys if address_of(k) != h.machine.proposer(0).address)
    block = build_block(h.state, someone_else, [b"tx"])
    assert h.propose(0, block) == [CastVote(PREVOTE, 1, 0, None)]


def test_known_blocks_can_be_looked_up_by_hash():
    h = harness()
    block = h.block(0)
    assert h.machine.block_for(block.hash()) is None
    h.propose(0, block)
    assert h.machine.block_for(block.hash()) == block


def test_a_proposal_may_come_before_its_block():
    h = harness()
    block = h.block(0)
    proposal = sign_proposal(h.keys[h.proposer_index(0)], 1, 0, -1, block.hash())
    assert h.machine.on_proposal(proposal, None, True) == []
    assert h.machine.step == "propose"
    assert h.machine.on_proposal(proposal, block, True) == [CastVote(PREVOTE, 1, 0, block.hash())]
    assert h.machine.on_proposal(proposal, block, True) == []


# -- timeouts ---------------------------------------------------------------------------------

def test_timeout_propose_prevotes_nil_once_and_stale_timeouts_do_nothing():
    h = harness()
    assert h.machine.on_timeout("propose", 2, 0) == []       # other height
    assert h.machine.on_timeout("propose", 1, 1) == []       # other round
    assert h.machine.on_timeout("prevote", 1, 0) == []       # other step
    assert h.machine.on_timeout("propose", 1, 0) == [CastVote(PREVOTE, 1, 0, None)]
    assert h.machine.on_timeout("propose", 1, 0) == []
    with pytest.raises(ValueError, match="unknown timeout kind"):
        h.machine.on_timeout("commit", 1, 0)


def test_L34_schedules_timeout_prevote_once_on_any_two_thirds_then_it_precommits_nil():
    h = harness()
    h.machine.on_timeout("propose", 1, 0)
    a, b, c = h.others()
    assert h.vote(h.me, PREVOTE, 0, None) == []
    assert h.vote(a, PREVOTE, 0, bytes([7]) * 32) == []
    assert h.vote(b, PREVOTE, 0, bytes([8]) * 32) == [ScheduleTimeout("prevote", 1, 0, 1.0)]
    assert h.vote(c, PREVOTE, 0, bytes([9]) * 32) == []
    assert h.machine.on_timeout("prevote", 1, 0) == [CastVote(PRECOMMIT, 1, 0, None)]
    assert h.machine.step == "precommit"


def test_L47_schedules_timeout_precommit_once_and_it_starts_the_next_round():
    h = harness()
    a, b, c = h.others()
    assert h.vote(a, PRECOMMIT, 0, None) == []
    assert h.vote(b, PRECOMMIT, 0, bytes([1]) * 32) == []
    assert h.vote(c, PRECOMMIT, 0, None) == [ScheduleTimeout("precommit", 1, 0, 1.0)]
    assert h.vote(h.me, PRECOMMIT, 0, None) == []
    assert h.machine.on_timeout("precommit", 1, 0) == [ScheduleTimeout("propose", 1, 1, 3.5)]
    assert (h.machine.round, h.machine.step) == (1, "propose")


# -- L36 / L44 ------------------------------------------------------------------------------

def test_L36_a_polka_locks_and_precommits_the_block():
    h = harness()
    block = h.block(0)
    h.propose(0, block)
    h.vote(h.me, PREVOTE, 0, block.hash())
    a, b, _ = h.others()
    assert h.vote(a, PREVOTE, 0, block.hash()) == []
    actions = h.vote(b, PREVOTE, 0, block.hash())
    assert actions == [ScheduleTimeout("prevote", 1, 0, 1.0), CastVote(PRECOMMIT, 1, 0, block.hash())]
    m = h.machine
    assert (m.step, m.locked_round, m.locked_block, m.valid_round, m.valid_block) == ("precommit", 0, block, 0, block)


def test_L44_a_nil_polka_precommits_nil():
    h = harness()
    h.machine.on_timeout("propose", 1, 0)
    actions = h.votes([h.me, *h.others()[:2]], PREVOTE, 0, None)
    assert precommit_cast(actions, None)
    assert h.machine.locked_round == -1


def test_exactly_two_thirds_of_the_power_is_no_quorum():
    h = harness([1, 1, 1], not_proposing=1)
    block = h.block(0)
    h.propose(0, block)
    other = h.others()[0]
    actions = h.votes([h.me, other], PREVOTE, 0, block.hash())
    assert casts(actions) == [] and h.machine.step == "prevote"        # 2 of 3 is not more than 2/3
    actions = h.votes([h.me, other], PRECOMMIT, 0, block.hash())
    assert h.machine.decision is None and not any(isinstance(a, Decide) for a in actions)


def powers_to_index(h: Harness) -> dict[int, int]:
    return {h.validators.by_address(address_of(k)).power: i for i, k in enumerate(h.keys)}


def test_quorums_count_power_not_validators():
    h = harness([10, 20, 30, 40], not_proposing=1)
    power = powers_to_index(h)
    assert h.me == power[10]
    block = h.block(0)
    h.propose(0, block)
    h.vote(power[40], PREVOTE, 0, block.hash())
    h.vote(power[20], PREVOTE, 0, block.hash())
    assert h.machine.locked_round == -1                                  # 60 of 100: two of four, no polka
    h.vote(h.me, PREVOTE, 0, block.hash())
    assert h.machine.locked_round == 0                                   # 70 of 100


def test_L36_in_the_precommit_step_updates_the_valid_value_only():
    h = harness()
    block = h.block(0)
    h.propose(0, block)                                                 # prevote block
    assert h.machine.on_timeout("prevote", 1, 0) == [CastVote(PRECOMMIT, 1, 0, None)]
    actions = h.votes(h.others(), PREVOTE, 0, block.hash())              # the polka comes late
    assert casts(actions) == []
    m = h.machine
    assert (m.step, m.locked_round, m.locked_block) == ("precommit", -1, None)
    assert (m.valid_round, m.valid_block) == (0, block)


def test_the_next_proposer_re_proposes_the_valid_block_with_its_round():
    probe = Harness([1, 1, 1, 1], me=None, start=False)
    h = Harness([1, 1, 1, 1], me=probe.proposer_index(1))
    block = h.block(0)
    h.propose(0, block)
    h.machine.on_timeout("prevote", 1, 0)
    h.votes(h.others(), PREVOTE, 0, block.hash())
    actions = h.machine.on_timeout("precommit", 1, 0)
    assert actions == [ProposeBlock(1, 1, block, 0), ScheduleTimeout("propose", 1, 1, 3.5)]


# -- locking and L28 ---------------------------------------------------------------------------

def test_a_lock_prevents_prevoting_another_value_but_not_the_locked_one():
    h = harness()
    locked = h.block(0, "locked")
    lock_on(h, 0, locked)
    to_round(h, 1)
    assert h.propose(1, h.block(1, "other")) == [CastVote(PREVOTE, 1, 1, None)]
    to_round(h, 2)
    assert h.propose(2, locked, pol_round=0) == [CastVote(PREVOTE, 1, 2, locked.hash())]       # L28, vr = lock
    assert h.proposer_index(4) == h.proposer_index(0)
    to_round(h, 4)
    assert h.propose(4, locked) == [CastVote(PREVOTE, 1, 4, locked.hash())]                     # L22, v = lock


def test_a_nil_polka_does_not_unlock():
    # CometBFT's old unlock-on-nil-polka is not part of Algorithm 1 (and unsafe together with L28).
    h = harness()
    locked = h.block(0, "locked")
    lock_on(h, 0, locked)
    to_round(h, 1)
    h.machine.on_timeout("propose", 1, 1)
    assert precommit_cast(h.votes([h.me, *h.others()], PREVOTE, 1, None), None, round=1)
    assert (h.machine.locked_round, h.machine.locked_block) == (0, locked)
    to_round(h, 2)
    assert h.propose(2, h.block(2, "other")) == [CastVote(PREVOTE, 1, 2, None)]


def test_a_fresh_proposal_of_someone_elses_block_is_refused_even_if_locked_on_it():
    h = harness()
    locked = h.block(0, "locked")
    lock_on(h, 0, locked)
    to_round(h, 2)
    assert h.propose(2, locked) == [CastVote(PREVOTE, 1, 2, None)]       # pol_round -1 needs its own block


def test_L28_a_newer_polka_releases_the_lock():
    h = harness()
    lock_on(h, 0, h.block(0, "old"))
    newer = h.block(1, "newer")
    to_round(h, 2)
    assert h.propose(2, newer, pol_round=1) == []                       # waits for the POL prevotes
    a, b, c = h.others()
    assert h.vote(a, PREVOTE, 1, newer.hash()) == []
    assert h.vote(b, PREVOTE, 1, newer.hash()) == []
    assert h.vote(c, PREVOTE, 1, newer.hash()) == [CastVote(PREVOTE, 1, 2, newer.hash())]


def test_L28_an_older_polka_does_not_release_a_newer_lock():
    h = harness()
    stale = h.block(0, "stale")
    h.machine.on_timeout("propose", 1, 0)
    h.votes(h.others(), PREVOTE, 0, stale.hash())                       # polka at 0, block unknown then
    h.machine.on_timeout("prevote", 1, 0)
    lock_on(h, 1, h.block(1, "fresh"))
    to_round(h, 2)
    assert h.propose(2, stale, pol_round=0) == [CastVote(PREVOTE, 1, 2, None)]


def test_L28_invalid_value_with_a_polka_is_prevoted_nil():
    h = harness()
    block = h.block(0)
    h.machine.on_timeout("propose", 1, 0)
    h.votes(h.others(), PREVOTE, 0, block.hash())
    to_round(h, 1)
    assert h.propose(1, block, pol_round=0, valid=False) == [CastVote(PREVOTE, 1, 1, None)]


def test_L28_ignores_a_pol_round_that_is_not_earlier():
    h = harness()
    block = h.block(0)
    with pytest.raises(ConsensusMessageError, match="pol_round"):
        h.propose(0, block, pol_round=0)


# -- L49 --------------------------------------------------------------------------------------

def test_L49_decides_and_the_commit_verifies():
    h = harness()
    block = h.block(0)
    h.propose(0, block)
    actions = h.votes(h.others(), PRECOMMIT, 0, block.hash())
    decisions = [a for a in actions if isinstance(a, Decide)]
    assert len(decisions) == 1 and h.machine.decision == decisions[0]
    decision = decisions[0]
    assert (decision.height, decision.round, decision.block) == (1, 0, block)
    verify_commit(CHAIN_ID, h.validators, 1, block.hash(), decision.commit)
    assert h.machine.step == "decided"


def test_L49_decides_for_an_earlier_round():
    h = harness()
    block = h.block(0)
    h.propose(0, block)
    to_round(h, 2)
    actions = h.votes(h.others(), PRECOMMIT, 0, block.hash())
    assert [a for a in actions if isinstance(a, Decide)][0].round == 0


def test_votes_that_arrive_before_their_proposal_count_when_it_comes():
    h = harness()
    block = h.block(0)
    assert not any(isinstance(a, Decide) for a in h.votes(h.others(), PRECOMMIT, 0, block.hash()))
    actions = h.propose(0, block)
    assert len(actions) == 1 and isinstance(actions[0], Decide)


def test_no_decision_for_an_invalid_block():
    h = harness()
    block = h.block(0)
    h.propose(0, block, valid=False)
    h.votes(h.others(), PRECOMMIT, 0, block.hash())
    assert h.machine.decision is None


def test_a_block_fetched_by_hash_completes_a_decision():
    h = harness()
    block = h.block(0)
    h.votes(h.others(), PRECOMMIT, 0, block.hash())
    unrelated = h.block(0, "nobody voted for this")
    assert h.machine.on_block(unrelated, True) == []
    actions = h.machine.on_block(block, True)
    assert len(actions) == 1 and isinstance(actions[0], Decide)


def test_after_deciding_only_votes_are_taken_and_the_commit_grows():
    h = harness([1, 1, 1, 1, 1], not_proposing=1)
    block = h.block(0)
    h.propose(0, block)
    late, *early = h.others()
    h.votes(early, PRECOMMIT, 0, block.hash())                           # 3 of 5 is not yet +2/3...
    assert h.machine.decision is None
    h.vote(h.me, PRECOMMIT, 0, block.hash())                             # ...4 of 5 is
    decision = h.machine.decision
    assert decision is not None and len(decision.commit.signatures) == 4
    assert h.machine.on_timeout("precommit", 1, 0) == []
    assert h.machine.on_proposal(sign_proposal(h.keys[h.proposer_index(1)], 1, 1, -1, block.hash()), block,
                                 True) == []
    assert h.vote(late, PRECOMMIT, 0, block.hash()) == []                # accepted, no more decisions
    assert len(h.machine.commit_for_decision().signatures) == 5
    assert len(decision.commit.signatures) == 4
    verify_commit(CHAIN_ID, h.validators, 1, block.hash(), h.machine.commit_for_decision())


# -- L55 --------------------------------------------------------------------------------------

def test_L55_f_plus_one_power_in_a_higher_round_starts_that_round():
    h = harness()
    a, b, _ = h.others()
    assert h.vote(a, PREVOTE, 5, None) == []
    assert h.vote(a, PRECOMMIT, 5, None) == []                          # one validator, 1/4: messages don't add
    actions = h.vote(b, PRECOMMIT, 5, None)
    assert h.machine.round == 5
    assert ScheduleTimeout("propose", 1, 5, 5.5) in actions


def test_L55_a_proposal_counts_as_its_proposers_message():
    h = harness()
    block = h.block(5)
    h.propose(5, block)
    assert h.machine.round == 0
    other = next(i for i in h.others() if i != h.proposer_index(5))
    h.vote(other, PREVOTE, 5, None)
    assert h.machine.round == 5


def test_L55_exactly_a_third_is_not_enough():
    h = harness([1, 1, 1], not_proposing=1)
    h.vote(h.others()[0], PREVOTE, 4, None)
    assert h.machine.round == 0


def test_L55_is_weighted_by_power():
    h = harness([10, 20, 30, 40], not_proposing=1)
    power = powers_to_index(h)
    assert h.me == power[10]
    h.vote(power[30], PREVOTE, 3, None)
    assert h.machine.round == 0                                          # 3 * 30 is not more than 100
    h.vote(power[40], PREVOTE, 6, None)
    assert h.machine.round == 6                                          # 3 * 40 is


# -- casting discipline -----------------------------------------------------------------------

def test_never_the_same_vote_twice_and_not_again_after_a_wal_replay():
    h = harness()
    block = h.block(0)
    h.vote(h.me, PREVOTE, 0, block.hash())                              # our own vote, replayed first
    assert h.propose(0, block) == []
    assert h.machine.step == "prevote"
    assert h.machine.on_timeout("propose", 1, 0) == []


def test_a_follower_decides_but_never_casts_or_proposes():
    h = Harness([1, 1, 1, 1], me=None)
    assert h.start_actions == [ScheduleTimeout("propose", 1, 0, 3.0)] and not h.machine.is_validator
    block = h.block(0)
    assert h.propose(0, block) == []
    assert h.machine.step == "prevote"
    actions = h.votes([0, 1, 2], PREVOTE, 0, block.hash()) + h.votes([0, 1, 2], PRECOMMIT, 0, block.hash())
    assert casts(actions) == [] and h.machine.decision is not None
    outsider = ConsensusMachine(CHAIN_ID, 1, h.validators, address_of(genesis([1], "stranger")[1][0]))
    assert outsider.start() == [ScheduleTimeout("propose", 1, 0, 3.0)] and not outsider.is_validator


def test_messages_before_start_count_once_started():
    h = harness(start=False)
    block = h.block(0)
    h.propose(0, block)
    h.votes(h.others(), PRECOMMIT, 0, block.hash())
    assert h.machine.decision is None
    actions = h.machine.start()
    assert isinstance(actions[-1], Decide)
    with pytest.raises(RuntimeError, match="already started"):
        h.machine.start()


# -- equivocation and hostile input -----------------------------------------------------------

def test_an_equivocating_proposer_has_every_proposal_kept_up_to_a_cap():
    h = harness()
    blocks = [h.block(0, f"fork {i}") for i in range(MAX_PROPOSALS_PER_ROUND + 1)]
    first = h.propose(0, blocks[0])
    assert first == [CastVote(PREVOTE, 1, 0, blocks[0].hash())]
    for block in blocks[1:]:
        assert casts(h.propose(0, block)) == []
    kept = [r.block for r in h.machine.proposals[0]]
    assert kept == blocks[:MAX_PROPOSALS_PER_ROUND]
    # A polka for the second fork still completes with the block we kept for it.
    h.machine.on_timeout("prevote", 1, 0)
    h.votes(h.others(), PREVOTE, 0, blocks[1].hash())
    assert h.machine.valid_block == blocks[1]


def test_a_double_vote_is_reported_as_evidence():
    h = harness()
    other = h.others()[0]
    h.vote(other, PREVOTE, 0, None)
    actions = h.vote(other, PREVOTE, 0, bytes([3]) * 32)
    assert len(actions) == 1 and isinstance(actions[0], EvidenceFound)
    actions[0].evidence.verify(CHAIN_ID, h.validators)
    assert h.vote(other, PREVOTE, 0, bytes([3]) * 32) == []


@pytest.mark.parametrize("attack, fragment", [
    (lambda h, b: h.machine.on_proposal(sign_proposal(h.keys[h.me], 1, 0, -1, b.hash()), b, True),
     "not signed by the round's proposer"),
    (lambda h, b: h.machine.on_proposal(sign_proposal(h.keys[h.proposer_index(0)], 2, 0, -1, b.hash()), b, True),
     "height"),
    (lambda h, b: h.machine.on_proposal(sign_proposal(h.keys[h.proposer_index(0)], 1, 0, -1, bytes(32)), b, True),
     "does not match"),
    (lambda h, b: h.machine.on_proposal(sign_proposal(h.keys[h.proposer_index(0)], 1, 0, -1, b.hash(),
                                                      chain_id="x"), b, True), "not signed"),
    (lambda h, b: h.machine.on_vote(sign_vote(h.keys[0], PREVOTE, 2, 0, None)), "height"),
    (lambda h, b: h.machine.on_vote(sign_vote(h.keys[0], PREVOTE, 1, 0, None).with_signature(bytes(64))),
     "invalid signature"),
    (lambda h, b: h.machine.on_vote(sign_vote(genesis([1], "stranger")[1][0], PREVOTE, 1, 0, None)),
     "not a validator"),
    (lambda h, b: h.machine.on_vote(sign_vote(h.keys[0], 3, 1, 0, None)), "type"),
    (lambda h, b: h.machine.on_block(dataclasses.replace(b, header=dataclasses.replace(b.header, height=2)), True),
     "height"),
    (lambda h, b: h.machine.on_vote({"type": 1}), "expected a Vote"),
    (lambda h, b: h.machine.on_proposal(b, b, True), "expected a Proposal"),
    (lambda h, b: h.machine.on_proposal(sign_proposal(h.keys[h.proposer_index(0)], 1, 0, -1, b.hash()), b.hash(),
                                        True), "expected a Block"),
])
def test_hostile_inputs_raise_and_change_nothing(attack, fragment):
    h = harness()
    block = h.block(0)
    with pytest.raises(ConsensusMessageError, match=fragment):
        attack(h, block)
    assert (h.machine.round, h.machine.step, h.machine.proposals) == (0, "propose", {})
    assert h.machine.votes.rounds() == []


def test_messages_too_far_ahead_are_ignored():
    h = harness()
    far = MAX_ROUNDS_AHEAD + 1
    assert h.vote(h.others()[0], PREVOTE, far, None) == []
    assert h.machine.votes.rounds() == []
    block = h.block(MAX_PROPOSAL_ROUNDS_AHEAD + 1)
    assert h.propose(MAX_PROPOSAL_ROUNDS_AHEAD + 1, block) == []
    assert h.machine.proposals == {}


def test_commit_for_decision_needs_a_decision():
    h = harness()
    with pytest.raises(RuntimeError, match="no decision"):
        h.machine.commit_for_decision()
