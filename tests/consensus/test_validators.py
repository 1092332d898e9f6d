"""Validator sets: CometBFT's proposer priority (hand-computed), fairness, updates, limits, JSON."""
from __future__ import annotations

import collections

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.consensus import ChainState, ConsensusMessageError, Validator, ValidatorSet, ValidatorSetError, make_block
from chain.crypto import sha256
from consensus.helpers import CHAIN_ID, GENESIS_APP_HASH, GENESIS_TIME_NS, make_key


def keys_by_address(n: int) -> list[bytes]:
    """n pubkeys ordered by address, so hand computations can name them A < B < C..."""
    return sorted((make_key(i, "vals").pubkey for i in range(n)), key=lambda pk: sha256(pk)[:20])


def names(vs: ValidatorSet, pubkeys: list[bytes]) -> dict[bytes, str]:
    return {sha256(pk)[:20]: "ABCDEFG"[i] for i, pk in enumerate(pubkeys)}


def priorities(vs: ValidatorSet, pubkeys: list[bytes]) -> list[int]:
    """Priorities in the A, B, C... order."""
    by_pk = {v.pubkey: v.priority for v in vs}
    return [by_pk[pk] for pk in pubkeys]


def test_genesis_proposer_sequence_matches_a_hand_computed_cometbft_run():
    # Powers A=1, B=2, C=3 (P=6), addresses A < B < C. Each step: +power, arg-max proposes, -6.
    #   genesis  0,0,0 -> 1,2,3   C  -> 1,2,-3
    #   h2       2,4,0            B  -> 2,-2,0
    #   h3       3,0,3  (tie A/C: smaller address)  A -> -3,0,3
    #   h4       -2,2,6           C  -> -2,2,0
    #   h5       -1,4,3           B  -> -1,-2,3
    #   h6       0,0,6            C  -> 0,0,0   (back to the start: period P)
    pks = keys_by_address(3)
    vs = ValidatorSet.genesis([(pk, p) for pk, p in zip(pks, [1, 2, 3])])
    name = names(vs, pks)
    assert priorities(vs, pks) == [1, 2, -3]
    sequence = []
    for _ in range(10):
        sequence.append(name[vs.proposer().address])
        vs = vs.increment(1)
    assert "".join(sequence) == "CBACBCCBAC"


def test_chain_state_proposes_the_same_sequence_height_after_height():
    pks = keys_by_address(3)
    state = ChainState.from_genesis(CHAIN_ID, 1, GENESIS_TIME_NS, [(pk, p) for pk, p in zip(pks, [1, 2, 3])],
                                    GENESIS_APP_HASH)
    name = names(state.validators, pks)
    seen = []
    for _ in range(10):
        seen.append(name[state.validators.proposer().address])
        state = state.apply_block(_fake_block(state), b"app", [])
    assert "".join(seen) == "CBACBCCBAC"


def _fake_block(state: ChainState):
    """Only the height and hash matter to apply_block; validity is tested elsewhere."""
    return make_block(CHAIN_ID, state.next_height(), state.last_block_time_ns + 1, state.last_block_hash, None, [],
                      [], state.validators, state.next_validators, state.app_hash,
                      state.validators.proposer().address)


@pytest.mark.parametrize("powers", [[1, 2, 3], [10, 20, 30, 40], [1, 1, 1, 1], [5, 5, 5, 6], [1, 7]])
def test_each_validator_proposes_exactly_in_proportion_to_power(powers):
    pks = keys_by_address(len(powers))
    vs = start = ValidatorSet.genesis([(pk, p) for pk, p in zip(pks, powers)])
    total = sum(powers)
    counts: collections.Counter[bytes] = collections.Counter()
    for _ in range(3 * total):
        counts[vs.proposer().pubkey] += 1
        vs = vs.increment(1)
    assert [counts[pk] for pk in pks] == [3 * p for p in powers]
    assert priorities(vs, pks) == priorities(start, pks)   # the schedule repeats every P heights


def test_round_proposers_are_increments_on_a_copy():
    pks = keys_by_address(4)
    vs = ValidatorSet.genesis([(pk, p) for pk, p in zip(pks, [10, 20, 30, 40])])
    lazily = vs.proposers_by_round()
    for round in range(25):
        expected = (vs.increment(round).proposer() if round else vs.proposer()).address
        assert vs.proposer_for_round(round).address == expected
        assert next(lazily).address == expected
    assert vs.increment(0) is vs
    with pytest.raises(ValueError):
        vs.proposer_for_round(-1)


def test_a_set_never_incremented_proposes_its_highest_priority_smaller_address_on_ties():
    pks = keys_by_address(3)
    vs = ValidatorSet([Validator(pks[2], 1, 5), Validator(pks[1], 1, 5), Validator(pks[0], 9, 1)])
    assert vs.proposer().pubkey == pks[1]


def test_rescaling_divides_towards_zero_as_go_does():
    # P = 2, window 2P = 4, spread 5 -> ratio 2: 2/2 = 1 and -3/2 = -1 (floor division would give -2).
    # Centred (average 0), one step: 2, 0 -> A proposes -> 0, 0.
    pks = keys_by_address(2)
    vs = ValidatorSet([Validator(pks[0], 1, 2), Validator(pks[1], 1, -3)])
    after = vs.increment(1)
    assert priorities(after, pks) == [0, 0]
    assert after.proposer().pubkey == pks[0]


def test_rescaling_bounds_a_huge_spread():
    pks = keys_by_address(3)
    vs = ValidatorSet([Validator(pks[0], 1, 10**15), Validator(pks[1], 2, -10**15), Validator(pks[2], 3, 0)])
    after = vs.increment(1)
    prios = priorities(after, pks)
    assert max(prios) - min(prios) <= 2 * 2 * vs.total_power


def test_a_newcomer_starts_at_minus_one_and_an_eighth_total_power_then_all_recentre():
    # A=1, B=2, C=3 at priority 0; add D with power 4: P after = 10, D starts at -(10 + 10>>3) = -11.
    # Spread 11 <= 2*10, no rescale; centre: sum -11, floor(-11/4) = -3 -> 3, 3, 3, -8.
    pks = keys_by_address(4)
    vs = ValidatorSet([Validator(pk, p) for pk, p in zip(pks[:3], [1, 2, 3])])
    after = vs.with_updates([(pks[3], 4)])
    assert priorities(after, pks) == [3, 3, 3, -8]
    assert after.total_power == 10
    assert [v.power for v in after] == [4, 3, 2, 1]          # sorted by power, descending


def test_updates_re_weight_keep_priority_and_removals_recentre():
    pks = keys_by_address(3)
    vs = ValidatorSet([Validator(pks[0], 1, 4), Validator(pks[1], 2, -1), Validator(pks[2], 3, -3)])
    reweighted = vs.with_updates([(pks[0], 5)])
    assert priorities(reweighted, pks) == [4, -1, -3]         # sum 0 already: nothing to shift
    assert reweighted.total_power == 10
    removed = vs.with_updates([(pks[2], 0)])
    assert [v.pubkey for v in removed] == [pks[1], pks[0]]
    assert priorities(removed, pks[:2]) == [3, -2]             # 4, -1 minus floor(3/2) = 1
    assert vs.with_updates([]) is vs


def test_a_newcomer_priority_uses_the_total_before_removals():
    pks = keys_by_address(4)
    vs = ValidatorSet([Validator(pk, p) for pk, p in zip(pks[:3], [8, 8, 8])])
    after = vs.with_updates([(pks[0], 0), (pks[3], 8)])      # total after updates 32, before removal of A
    # D starts at -(32 + 4) = -36; B, C stay 0; spread 36 <= 2*24, centre: floor(-36/3) = -12.
    assert priorities(after, pks[1:]) == [12, 12, -24]


@pytest.mark.parametrize("updates, fragment", [
    ([(b"x" * 32, 0)], "cannot remove"),
    ([(b"k" * 31, 1)], "pubkey"),
    ([(b"k" * 32, -1)], "power"),
    ([(b"k" * 32, True)], "power"),
    ([(b"k" * 32, 2**61)], "power"),
    ([(b"k" * 32, 1), (b"k" * 32, 2)], "twice"),
])
def test_invalid_updates_are_refused(updates, fragment):
    vs = ValidatorSet.genesis([(make_key(0).pubkey, 1)])
    with pytest.raises(ValidatorSetError, match=fragment):
        vs.with_updates(updates)


def test_removing_everyone_or_exceeding_the_power_limit_is_refused():
    pk = make_key(0).pubkey
    vs = ValidatorSet.genesis([(pk, 1)])
    with pytest.raises(ValidatorSetError, match="every validator"):
        vs.with_updates([(pk, 0)])
    with pytest.raises(ValidatorSetError, match="exceed"):
        vs.with_updates([(make_key(1).pubkey, 2**60)])


@pytest.mark.parametrize("make, fragment", [
    (lambda: ValidatorSet([]), "empty"),
    (lambda: ValidatorSet.genesis([]), "empty"),
    (lambda: ValidatorSet.genesis([(make_key(0).pubkey, 0)]), "positive"),
    (lambda: ValidatorSet([Validator(make_key(0).pubkey, 1), Validator(make_key(0).pubkey, 2)]), "twice"),
    (lambda: ValidatorSet([Validator(make_key(0).pubkey, 2**60), Validator(make_key(1).pubkey, 1)]), "2\\*\\*60"),
    (lambda: ValidatorSet([Validator(b"short", 1)]), "pubkey"),
    (lambda: ValidatorSet([Validator(make_key(0).pubkey, 1, 2**63)]), "int64"),
    (lambda: ValidatorSet([Validator(make_key(0).pubkey, 1)], proposer=b"\x00" * 20), "not in the validator set"),
])
def test_invalid_sets_are_refused(make, fragment):
    with pytest.raises(ValidatorSetError, match=fragment):
        make()


def test_total_power_of_exactly_two_to_the_sixty_is_allowed():
    vs = ValidatorSet([Validator(make_key(0).pubkey, 2**59), Validator(make_key(1).pubkey, 2**59)])
    assert vs.total_power == 2**60
    vs.increment(50)


def test_hash_covers_membership_and_power_not_priorities():
    pks = keys_by_address(3)
    vs = ValidatorSet.genesis([(pk, p) for pk, p in zip(pks, [1, 2, 3])])
    assert vs.increment(3).hash() == vs.hash()
    assert vs.with_updates([(pks[0], 2)]).hash() != vs.hash()
    assert vs.with_updates([(pks[0], 0)]).hash() != vs.hash()


def test_lookup_by_address():
    pks = keys_by_address(3)
    vs = ValidatorSet.genesis([(pk, p) for pk, p in zip(pks, [1, 2, 3])])
    c = sha256(pks[2])[:20]
    assert vs.by_address(c).power == 3 and vs.index_of(c) == 0
    assert vs.by_address(b"\x00" * 20) is None and vs.index_of(b"\x00" * 20) is None
    assert len(vs) == 3 and sum(v.power for v in vs) == vs.total_power == 6


def test_json_round_trip_keeps_priorities_and_the_proposer():
    pks = keys_by_address(4)
    vs = ValidatorSet.genesis([(pk, p) for pk, p in zip(pks, [1, 2, 3, 4])]).increment(5)
    again = ValidatorSet.from_json(vs.to_json())
    assert again == vs
    assert again.proposer() == vs.proposer()
    assert again.increment(7) == vs.increment(7)


@pytest.mark.parametrize("mutate, fragment", [
    (lambda d: d.update(validators=[]), "empty"),
    (lambda d: d.update(proposer="00" * 20), "not in the validator set"),
    (lambda d: d.update(proposer="zz"), "hex"),
    (lambda d: d["validators"][0].update(power=0), "power"),
    (lambda d: d["validators"][0].update(priority=1.5), "priority"),
    (lambda d: d["validators"][0].update(pubkey="AAAA"), "pubkey"),
    (lambda d: d["validators"].append(dict(d["validators"][0])), "twice"),
    (lambda d: d.update(extra=1), "unexpected"),
    (lambda d: d.update(validators="x"), "list"),
])
def test_hostile_validator_set_json_is_refused(mutate, fragment):
    doc = ValidatorSet.genesis([(make_key(i).pubkey, 1) for i in range(3)]).to_json()
    mutate(doc)
    with pytest.raises(ConsensusMessageError, match=fragment):
        ValidatorSet.from_json(doc)


@settings(max_examples=60, deadline=None)
@given(powers=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=7),
       changes=st.lists(st.tuples(st.integers(min_value=0, max_value=9), st.integers(min_value=0, max_value=1000)),
                        max_size=6, unique_by=lambda c: c[0]))
def test_priorities_stay_bounded_and_centred_through_updates(powers, changes):
    pks = [make_key(i, "prop").pubkey for i in range(10)]
    vs = ValidatorSet.genesis(list(zip(pks, powers)))
    updates = [(pks[i], p) for i, p in changes]
    try:
        vs = vs.with_updates(updates)
    except ValidatorSetError:
        return   # removing an unknown validator or everyone
    for _ in range(30):
        vs = vs.increment(1)
        prios = [v.priority for v in vs]
        assert max(prios) - min(prios) <= 4 * vs.total_power
        assert abs(sum(prios)) < len(vs) * (vs.total_power + 1)
