"""Votes, proposals and commits: sign bytes, JSON round trips, and hostile JSON."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.codec import b64encode
from chain.consensus import (MAX_MESSAGE_BYTES, PRECOMMIT, PREVOTE, PROPOSAL, Commit, ConsensusMessageError, Proposal,
                             Vote)
from consensus.helpers import CHAIN_ID, commit_for, make_key, sign_proposal, sign_vote

HASH = bytes(range(32))
KEY = make_key(0)


def vote_doc(**changes: object) -> dict:
    doc = sign_vote(KEY, PREVOTE, 5, 2, HASH, 1234).to_json()
    doc.update(changes)
    return doc


def proposal_doc(**changes: object) -> dict:
    doc = sign_proposal(KEY, 5, 2, 1, HASH, 1234).to_json()
    doc.update(changes)
    return doc


def commit_doc() -> dict:
    return commit_for([make_key(i) for i in range(3)], 5, 0, HASH).to_json()


# -- sign bytes -------------------------------------------------------------------------------

def test_vote_sign_bytes_are_canonical_json_of_the_fields():
    vote = Vote(PRECOMMIT, 7, 3, HASH, 99, b"\x01" * 20)
    assert vote.sign_bytes("c") == (
        b'{"block_hash":"' + HASH.hex().encode() + b'","chain_id":"c","height":7,"round":3,"timestamp_ns":99,"type":2}')
    nil = Vote(PREVOTE, 7, 3, None, 99, b"\x01" * 20)
    assert b'"block_hash":""' in nil.sign_bytes("c")


def test_sign_bytes_separate_chains_types_and_messages():
    vote = Vote(PREVOTE, 1, 0, HASH, 1, b"\x01" * 20)
    assert vote.sign_bytes("a") != vote.sign_bytes("b")
    precommit = Vote(PRECOMMIT, 1, 0, HASH, 1, b"\x01" * 20)
    assert vote.sign_bytes("a") != precommit.sign_bytes("a")
    proposal = Proposal(1, 0, -1, HASH, 1)
    assert json.loads(proposal.sign_bytes("a")) == {"chain_id": "a", "type": PROPOSAL, "height": 1, "round": 0,
                                                    "pol_round": -1, "block_hash": HASH.hex(), "timestamp_ns": 1}


def test_the_validator_address_is_not_signed_but_the_signature_binds_the_key():
    vote = sign_vote(KEY, PREVOTE, 1, 0, HASH)
    assert Vote(PREVOTE, 1, 0, HASH, vote.timestamp_ns, b"\x02" * 20).sign_bytes(CHAIN_ID) == vote.sign_bytes(CHAIN_ID)


# -- round trips ------------------------------------------------------------------------------

def test_vote_round_trips_through_json_and_bytes():
    for block_hash in (HASH, None):
        vote = sign_vote(KEY, PRECOMMIT, 3, 1, block_hash, 77)
        assert Vote.from_json(vote.to_json()) == vote
        assert Vote.decode(vote.encode()) == vote
    assert vote.to_json()["block_hash"] is None


def test_proposal_and_commit_round_trip():
    proposal = sign_proposal(KEY, 3, 4, 2, HASH)
    assert Proposal.from_json(proposal.to_json()) == proposal
    assert Proposal.decode(proposal.encode()) == proposal
    commit = commit_for([make_key(i) for i in range(3)], 5, 0, HASH)
    assert Commit.from_json(commit.to_json()) == commit
    assert commit.hash() == Commit.from_json(json.loads(json.dumps(commit.to_json()))).hash()


def test_commit_votes_are_the_precommits_it_carries():
    keys = [make_key(i) for i in range(3)]
    commit = commit_for(keys, 5, 1, HASH, [10, 20, 30])
    votes = commit.votes()
    assert {v.type for v in votes} == {PRECOMMIT}
    assert all((v.height, v.round, v.block_hash) == (5, 1, HASH) for v in votes)
    assert sorted(v.timestamp_ns for v in votes) == [10, 20, 30]


# -- hostile JSON -----------------------------------------------------------------------------

@pytest.mark.parametrize("changes, fragment", [
    ({"type": 32}, "type"),
    ({"type": True}, "type"),
    ({"height": 0}, "height"),
    ({"height": 2**63}, "height"),
    ({"height": "5"}, "height"),
    ({"height": 5.0}, "height"),
    ({"round": -1}, "round"),
    ({"round": 2**31}, "round"),
    ({"block_hash": HASH.hex().upper()}, "block_hash"),
    ({"block_hash": HASH.hex()[:-2]}, "block_hash"),
    ({"block_hash": " " + HASH.hex()[1:]}, "block_hash"),
    ({"block_hash": ""}, "block_hash"),
    ({"block_hash": 5}, "block_hash"),
    ({"validator": "00" * 19}, "validator"),
    ({"validator": None}, "validator"),
    ({"timestamp_ns": -1}, "timestamp_ns"),
    ({"signature": b64encode(b"x" * 63)}, "signature"),
    ({"signature": "not base64!"}, "signature"),
    ({"signature": ""}, "signature"),
    ({"extra": 1}, "unexpected"),
])
def test_vote_from_json_refuses_malformed_fields(changes, fragment):
    with pytest.raises(ConsensusMessageError, match=fragment):
        Vote.from_json(vote_doc(**changes))


@pytest.mark.parametrize("missing", ["type", "height", "round", "block_hash", "timestamp_ns", "validator",
                                     "signature"])
def test_vote_from_json_refuses_missing_fields(missing):
    doc = vote_doc()
    del doc[missing]
    with pytest.raises(ConsensusMessageError, match="missing"):
        Vote.from_json(doc)


@pytest.mark.parametrize("changes, fragment", [
    ({"pol_round": 2}, "pol_round"),        # must be below round 2
    ({"pol_round": -2}, "pol_round"),
    ({"round": 0}, "pol_round"),            # pol_round 1 >= round 0
    ({"block_hash": None}, "block_hash"),   # a proposal is never nil
    ({"signature": None}, "signature"),
    ({"type": 32}, "unexpected"),
])
def test_proposal_from_json_refuses_malformed_fields(changes, fragment):
    with pytest.raises(ConsensusMessageError, match=fragment):
        Proposal.from_json(proposal_doc(**changes))


def test_commit_from_json_refuses_unsorted_duplicate_or_empty_signatures():
    doc = commit_doc()
    doc["signatures"] = list(reversed(doc["signatures"]))
    with pytest.raises(ConsensusMessageError, match="sorted"):
        Commit.from_json(doc)
    doc = commit_doc()
    doc["signatures"] = [doc["signatures"][0], doc["signatures"][0]]
    with pytest.raises(ConsensusMessageError, match="duplicates"):
        Commit.from_json(doc)
    doc["signatures"] = []
    with pytest.raises(ConsensusMessageError, match="no signatures"):
        Commit.from_json(doc)
    doc["signatures"] = {"a": 1}
    with pytest.raises(ConsensusMessageError, match="list"):
        Commit.from_json(doc)


@pytest.mark.parametrize("raw, fragment", [
    (b"\xff\xfe", "UTF-8"),
    (b"{", "invalid JSON"),
    (b'{"type": NaN}', "NaN"),
    (b'{"a": 1, "a": 2}', "duplicate key"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|invalid JSON"),
    (b'{"height": ' + b"9" * 5000 + b"}", "invalid JSON"),
    (b"[]", "JSON object"),
    (b"null", "JSON object"),
    (b'"vote"', "JSON object"),
])
def test_decode_refuses_hostile_bytes(raw, fragment):
    with pytest.raises(ConsensusMessageError, match=fragment):
        Vote.decode(raw)


def test_decode_refuses_oversized_messages_before_parsing():
    raw = b'{"pad":"' + b"x" * MAX_MESSAGE_BYTES + b'"}'
    with pytest.raises(ConsensusMessageError, match="over the limit"):
        Vote.decode(raw)
    with pytest.raises(ConsensusMessageError, match="over the limit"):
        Proposal.decode(raw)
    with pytest.raises(ConsensusMessageError, match="expected bytes"):
        Vote.decode("a string")  # type: ignore[arg-type]


def test_validate_basic_catches_bad_in_process_votes():
    with pytest.raises(ConsensusMessageError, match="signature"):
        Vote(PREVOTE, 1, 0, HASH, 1, b"\x01" * 20).validate_basic()       # unsigned
    with pytest.raises(ConsensusMessageError, match="block_hash"):
        Vote(PREVOTE, 1, 0, b"short", 1, b"\x01" * 20, b"s" * 64).validate_basic()
    with pytest.raises(ConsensusMessageError, match="round"):
        Vote(PREVOTE, 1, True, HASH, 1, b"\x01" * 20, b"s" * 64).validate_basic()  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=80),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_arbitrary_json_is_refused_cleanly(value):
    for cls in (Vote, Proposal, Commit):
        with pytest.raises(ConsensusMessageError):
            cls.from_json(value)


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(sorted(vote_doc())), value=json_values)
def test_any_single_field_replaced_either_parses_or_is_refused_cleanly(field, value):
    doc = vote_doc(**{field: value})
    try:
        vote = Vote.from_json(doc)
    except ConsensusMessageError:
        return
    assert Vote.from_json(vote.to_json()) == vote
    vote.validate_basic()


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(sorted(proposal_doc())), value=json_values)
def test_any_proposal_field_replaced_either_parses_or_is_refused_cleanly(field, value):
    try:
        proposal = Proposal.from_json(proposal_doc(**{field: value}))
    except ConsensusMessageError:
        return
    proposal.validate_basic()
    assert Proposal.from_json(proposal.to_json()) == proposal
