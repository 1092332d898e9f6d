"""Blocks, commits, BFT time, ChainState and validate_block, valid and hostile."""
from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from chain.codec import b64encode, canonical_json
from chain.consensus import (PRECOMMIT, PREVOTE, Block, ChainState, Commit, CommitSig, ConsensusMessageError,
                             DuplicateVoteEvidence, ValidatorSet, make_block, median_time, validate_block,
                             verify_commit)
from consensus.helpers import (CHAIN_ID, GENESIS_APP_HASH, GENESIS_TIME_NS, MS, address_of, build_block, commit_for,
                               genesis, make_key, sign_vote)

MAX_BLOCK = 1 << 20


class Chain:
    """Genesis with four equal validators, block 1 committed, block 2 built on it."""

    def __init__(self) -> None:
        self.state0, self.keys = genesis([1, 1, 1, 1])
        self.block1 = build_block(self.state0, self.state0.validators.proposer().address, [b"tx1"])
        self.state1 = self.state0.apply_block(self.block1, b"\x01" * 32, [])
        self.stamps = [GENESIS_TIME_NS + 40 * MS, GENESIS_TIME_NS + 10 * MS, GENESIS_TIME_NS + 30 * MS]
        self.commit1 = commit_for(self.keys[:3], 1, 0, self.block1.hash(), self.stamps)
        self.block2 = self.next_block()

    def next_block(self, **kwargs) -> Block:
        args = dict(state=self.state1, proposer=self.state1.validators.proposer().address, txs=[b"tx2", b"tx3"],
                    last_commit=self.commit1)
        args.update(kwargs)
        return build_block(**args)

    def with_header(self, block: Block, **changes) -> Block:
        return dataclasses.replace(block, header=dataclasses.replace(block.header, **changes))


@pytest.fixture
def chain() -> Chain:
    return Chain()


# -- encoding ---------------------------------------------------------------------------------

def test_block_round_trips_and_its_hash_is_the_headers(chain):
    for block in (chain.block1, chain.block2):
        raw = block.encode()
        again = Block.decode(raw, MAX_BLOCK)
        assert again == block and again.hash() == block.hash()
        assert block.hash() == hashlib.sha256(canonical_json(block.header.to_json())).digest()
    assert chain.block1.header.last_block_hash == b"" and chain.block1.header.last_commit_hash == b""
    assert chain.block2.header.last_commit_hash == chain.commit1.hash()


def mutated(block: Block, mutate) -> bytes:
    doc = json.loads(block.encode())
    mutate(doc)
    return json.dumps(doc).encode()


@pytest.mark.parametrize("mutate, fragment", [
    (lambda d: d["txs"].append(b64encode(b"sneaked in")), "data_hash"),
    (lambda d: d["txs"].reverse(), "data_hash"),
    (lambda d: d["txs"].append(""), "empty transaction"),
    (lambda d: d["txs"].append(5), "base64"),
    (lambda d: d["last_commit"]["signatures"].pop(), "last_commit_hash"),
    (lambda d: d.update(last_commit=None), "last_commit_hash"),
    (lambda d: d.update(evidence=[{"vote_a": 1}]), "vote"),
    (lambda d: d["header"].update(chain_id=""), "chain_id"),
    (lambda d: d["header"].update(chain_id="x" * 51), "chain_id"),
    (lambda d: d["header"].update(app_hash="00" * 65), "app_hash"),
    (lambda d: d["header"].update(proposer="00" * 32), "proposer"),
    (lambda d: d["header"].update(height=0), "height"),
    (lambda d: d["header"].update(time_ns=-1), "time_ns"),
    (lambda d: d["header"].pop("data_hash"), "missing"),
    (lambda d: d.update(extra=[]), "unexpected"),
    (lambda d: d.update(txs="tx"), "list"),
])
def test_decode_refuses_inconsistent_or_malformed_blocks(chain, mutate, fragment):
    with pytest.raises(ConsensusMessageError, match=fragment):
        Block.decode(mutated(chain.block2, mutate), MAX_BLOCK)


def test_decode_refuses_oversized_and_non_json_blocks(chain):
    raw = chain.block2.encode()
    with pytest.raises(ConsensusMessageError, match="over the limit"):
        Block.decode(raw, len(raw) - 1)
    Block.decode(raw, len(raw))
    with pytest.raises(ConsensusMessageError, match="invalid JSON"):
        Block.decode(raw[:-1], MAX_BLOCK)
    with pytest.raises(ConsensusMessageError, match="JSON object"):
        Block.decode(b"[1, 2]", MAX_BLOCK)


# -- commits ----------------------------------------------------------------------------------

def test_verify_commit_accepts_two_thirds_plus(chain):
    verify_commit(CHAIN_ID, chain.state0.validators, 1, chain.block1.hash(), chain.commit1)


def test_verify_commit_refuses_exactly_two_thirds():
    state, keys = genesis([1, 1, 1])
    block_hash = bytes(32)
    with pytest.raises(ConsensusMessageError, match="power 2 of 3"):
        verify_commit(CHAIN_ID, state.validators, 1, block_hash, commit_for(keys[:2], 1, 0, block_hash))


def test_verify_commit_refuses_forged_unknown_duplicate_and_mismatched(chain):
    vals, block_hash, commit = chain.state0.validators, chain.block1.hash(), chain.commit1
    sigs = list(commit.signatures)
    forged = dataclasses.replace(commit, signatures=(dataclasses.replace(sigs[0], signature=bytes(64)),
                                                     *sigs[1:]))
    with pytest.raises(ConsensusMessageError, match="does not verify"):
        verify_commit(CHAIN_ID, vals, 1, block_hash, forged)
    retimed = dataclasses.replace(commit, signatures=(dataclasses.replace(sigs[0], timestamp_ns=1), *sigs[1:]))
    with pytest.raises(ConsensusMessageError, match="does not verify"):
        verify_commit(CHAIN_ID, vals, 1, block_hash, retimed)
    stranger = commit_for([make_key(0, "stranger")], 1, 0, block_hash).signatures[0]
    with pytest.raises(ConsensusMessageError, match="not a validator"):
        verify_commit(CHAIN_ID, vals, 1, block_hash, dataclasses.replace(commit, signatures=(*sigs, stranger)))
    with pytest.raises(ConsensusMessageError, match="two signatures"):
        verify_commit(CHAIN_ID, vals, 1, block_hash,
                      dataclasses.replace(commit, signatures=(sigs[0], sigs[0], sigs[1])))
    with pytest.raises(ConsensusMessageError, match="height"):
        verify_commit(CHAIN_ID, vals, 2, block_hash, commit)
    with pytest.raises(ConsensusMessageError, match="for block"):
        verify_commit(CHAIN_ID, vals, 1, bytes(32), commit)
    with pytest.raises(ConsensusMessageError, match="does not verify"):
        verify_commit("other-chain", vals, 1, block_hash, commit)
    with pytest.raises(ConsensusMessageError, match="no signatures"):
        verify_commit(CHAIN_ID, vals, 1, block_hash, dataclasses.replace(commit, signatures=()))


# -- BFT time ---------------------------------------------------------------------------------

def test_median_time_with_equal_powers():
    state, keys = genesis([1, 1, 1, 1])
    commit = commit_for(keys, 1, 0, bytes(32), [40, 10, 30, 20])
    assert median_time(commit, state.validators) == 20        # half of 4 is 2: 10 (1), 20 (2)


def test_median_time_is_weighted_by_power():
    state, keys = genesis([10, 20, 30, 40])
    commit = commit_for(keys, 1, 0, bytes(32), [400, 300, 200, 100])   # powers 10, 20, 30, 40
    assert median_time(commit, state.validators) == 200        # 40 @100 is not half of 100; +30 @200 is


def test_median_time_resists_a_faulty_minority():
    state, keys = genesis([1, 1, 1, 1])
    honest = [1000, 1001, 1002]
    for extreme in (0, 2**62):
        commit = commit_for(keys, 1, 0, bytes(32), honest + [extreme])
        assert 1000 <= median_time(commit, state.validators) <= 1002


def test_median_time_uses_only_the_signed_power():
    state, keys = genesis([1, 1, 1, 1])
    # Signed power 3, threshold 3 // 2 = 1: the first timestamp already reaches it (CometBFT's
    # lower weighted median). Against the whole set's power (4) it would have been 7.
    commit = commit_for(keys[:3], 1, 0, bytes(32), [9, 5, 7])
    assert median_time(commit, state.validators) == 5
    stranger = commit_for([make_key(0, "stranger")], 1, 0, bytes(32)).signatures
    with pytest.raises(ConsensusMessageError, match="not a validator"):
        median_time(Commit(1, 0, bytes(32), stranger), state.validators)


# -- chain state ------------------------------------------------------------------------------

def test_genesis_state_and_json_round_trip(chain):
    s0 = chain.state0
    assert (s0.last_height, s0.next_height(), s0.last_block_hash, s0.last_validators) == (0, 1, b"", None)
    assert s0.last_block_time_ns == GENESIS_TIME_NS and s0.app_hash == GENESIS_APP_HASH
    assert s0.next_validators == s0.validators.increment(1)
    for state in (s0, chain.state1):
        assert ChainState.from_json(json.loads(json.dumps(state.to_json()))) == state


def test_apply_block_shifts_sets_and_updates_take_effect_two_heights_later(chain):
    newcomer = make_key(9).pubkey
    s1 = chain.state0.apply_block(chain.block1, b"\x01" * 32, [(newcomer, 5)])
    assert (s1.last_height, s1.last_block_hash, s1.app_hash) == (1, chain.block1.hash(), b"\x01" * 32)
    assert s1.last_block_time_ns == chain.block1.header.time_ns
    assert s1.last_validators == chain.state0.validators
    assert s1.validators == chain.state0.next_validators                  # height 2: unchanged
    assert s1.next_validators.by_address(address_of(make_key(9))) is not None   # height 3: includes it
    assert s1.validators.by_address(address_of(make_key(9))) is None
    with pytest.raises(ValueError, match="expects height 2"):
        s1.apply_block(chain.block1, b"", [])


@pytest.mark.parametrize("mutate, fragment", [
    (lambda d: d.update(last_validators=None), "last_validators"),
    (lambda d: d.update(last_height=-5), "last_height"),
    (lambda d: d.update(last_block_hash=""), "last_block_hash"),
    (lambda d: d.update(validators={}), "missing"),
    (lambda d: d.update(chain_id=7), "chain_id"),
])
def test_hostile_chain_state_json_is_refused(chain, mutate, fragment):
    doc = chain.state1.to_json()
    mutate(doc)
    with pytest.raises(ConsensusMessageError, match=fragment):
        ChainState.from_json(doc)


# -- validate_block ---------------------------------------------------------------------------

def test_valid_blocks_pass(chain):
    validate_block(chain.block1, chain.state0)
    validate_block(chain.block2, chain.state1)
    assert chain.block2.header.time_ns == GENESIS_TIME_NS + 10 * MS     # lower weighted median of 10, 30, 40 ms


def test_the_first_block_carries_the_genesis_time_and_no_commit(chain):
    late = build_block(chain.state0, chain.block1.header.proposer, [b"tx1"])
    with pytest.raises(ConsensusMessageError, match="genesis time"):
        validate_block(chain.with_header(late, time_ns=late.header.time_ns + 1), chain.state0)
    with_commit = make_block(CHAIN_ID, 1, GENESIS_TIME_NS, b"", chain.commit1, [], [], chain.state0.validators,
                             chain.state0.next_validators, GENESIS_APP_HASH, chain.block1.header.proposer)
    with pytest.raises(ConsensusMessageError, match="cannot carry a last commit"):
        validate_block(with_commit, chain.state0)


@pytest.mark.parametrize("changes, fragment", [
    ({"chain_id": "other"}, "chain"),
    ({"height": 3}, "height"),
    ({"last_block_hash": bytes(32)}, "last_block_hash"),
    ({"time_ns": GENESIS_TIME_NS + 30 * MS}, "median time"),
    ({"validators_hash": bytes(32)}, "validators_hash"),
    ({"next_validators_hash": bytes(32)}, "next_validators_hash"),
    ({"app_hash": GENESIS_APP_HASH}, "app_hash"),
    ({"proposer": bytes(20)}, "not a validator"),
    ({"data_hash": bytes(32)}, "data_hash"),
    ({"last_commit_hash": bytes(32)}, "last_commit_hash"),
])
def test_header_field_errors_are_caught(chain, changes, fragment):
    with pytest.raises(ConsensusMessageError, match=fragment):
        validate_block(chain.with_header(chain.block2, **changes), chain.state1)


def test_the_last_commit_must_be_there_and_prove_the_last_block(chain):
    no_commit = make_block(CHAIN_ID, 2, GENESIS_TIME_NS + 30 * MS, chain.block1.hash(), None, [], [],
                           chain.state1.validators, chain.state1.next_validators, chain.state1.app_hash,
                           chain.block2.header.proposer)
    with pytest.raises(ConsensusMessageError, match="must carry the commit"):
        validate_block(no_commit, chain.state1)
    weak = commit_for(chain.keys[:2], 1, 0, chain.block1.hash())
    with pytest.raises(ConsensusMessageError, match="more than two thirds"):
        validate_block(chain.next_block(last_commit=weak), chain.state1)
    other = commit_for(chain.keys[:3], 1, 0, bytes(32))
    with pytest.raises(ConsensusMessageError, match="commit is for block"):
        validate_block(chain.next_block(last_commit=other), chain.state1)


def test_block_time_must_advance(chain):
    stale = commit_for(chain.keys[:3], 1, 0, chain.block1.hash(), [GENESIS_TIME_NS] * 3)
    with pytest.raises(ConsensusMessageError, match="not after the last block"):
        validate_block(chain.next_block(last_commit=stale), chain.state1)


def evidence_at(keys, height: int, index: int = 3) -> DuplicateVoteEvidence:
    return DuplicateVoteEvidence.of(sign_vote(keys[index], PREVOTE, height, 0, bytes(32)),
                                    sign_vote(keys[index], PREVOTE, height, 0, None))


def test_evidence_from_the_last_height_is_verified_against_the_last_set(chain):
    ev = evidence_at(chain.keys, 1)
    validate_block(chain.next_block(evidence=(ev,)), chain.state1)
    with pytest.raises(ConsensusMessageError, match="twice"):
        validate_block(chain.next_block(evidence=(ev, ev)), chain.state1)
    with pytest.raises(ConsensusMessageError, match="only heights"):
        validate_block(chain.next_block(evidence=(evidence_at(chain.keys, 2),)), chain.state1)
    forged = DuplicateVoteEvidence(ev.vote_a, ev.vote_b.with_signature(bytes(64)))
    with pytest.raises(ConsensusMessageError, match="invalid signature"):
        validate_block(chain.next_block(evidence=(forged,)), chain.state1)


def test_older_evidence_needs_the_historical_set(chain):
    s2 = chain.state1.apply_block(chain.block2, b"\x02" * 32, [])
    commit2 = commit_for(chain.keys[:3], 2, 0, chain.block2.hash(), [GENESIS_TIME_NS + 50 * MS] * 3)
    block3 = build_block(s2, s2.validators.proposer().address, [], commit2, (evidence_at(chain.keys, 1),))
    with pytest.raises(ConsensusMessageError, match="not known here"):
        validate_block(block3, s2)
    history = {1: chain.state0.validators}
    validate_block(block3, s2, evidence_validators=history.get)


def test_a_block_built_from_another_validator_set_is_refused(chain):
    other = ValidatorSet.genesis([(make_key(7).pubkey, 1)])
    block = make_block(CHAIN_ID, 2, chain.block2.header.time_ns, chain.block1.hash(), chain.commit1, [], [], other,
                       other, chain.state1.app_hash, chain.block2.header.proposer)
    with pytest.raises(ConsensusMessageError, match="validators_hash"):
        validate_block(block, chain.state1)


def test_commit_sigs_round_trip_through_block_json(chain):
    doc = json.loads(chain.block2.encode())
    assert [CommitSig.from_json(s) for s in doc["last_commit"]["signatures"]] == list(chain.commit1.signatures)
    assert {v.type for v in chain.commit1.votes()} == {PRECOMMIT}
