"""Tendermint BFT consensus, the pure part: messages, validator sets, vote keeping, blocks and
the Algorithm 1 round state machine. No I/O, no clock: the asyncio driver and p2p wrap it.

    types        votes, proposals, commits: sign bytes and strict JSON
    validators   validator sets and weighted round-robin proposer priority
    evidence     duplicate-vote evidence
    votes        VoteSet / HeightVoteSet: verified votes and integer quorums
    blocks       headers, blocks, ChainState, validate_block, verify_commit, BFT time
    machine      ConsensusMachine: proposals, votes and timeouts in, actions out
"""
from .blocks import (Block, ChainState, Header, data_hash, evidence_hash, make_block, median_time, validate_block,
                     verify_commit)
from .evidence import DuplicateVoteEvidence
from .machine import (Action, CastVote, ConsensusMachine, Decide, EvidenceFound, ProposalRecord, ProposeBlock,
                      ScheduleTimeout, TimeoutConfig)
from .types import (MAX_MESSAGE_BYTES, PRECOMMIT, PREVOTE, PROPOSAL, Commit, CommitSig, ConsensusMessageError,
                    Proposal, Vote)
from .validators import MAX_TOTAL_POWER, Validator, ValidatorSet, ValidatorSetError
from .votes import AddKind, AddResult, HeightVoteSet, VoteSet

__all__ = [
    "PREVOTE", "PRECOMMIT", "PROPOSAL", "MAX_MESSAGE_BYTES", "MAX_TOTAL_POWER",
    "ConsensusMessageError", "Vote", "Proposal", "CommitSig", "Commit",
    "Validator", "ValidatorSet", "ValidatorSetError",
    "DuplicateVoteEvidence",
    "AddKind", "AddResult", "VoteSet", "HeightVoteSet",
    "Header", "Block", "ChainState", "make_block", "median_time", "validate_block", "verify_commit",
    "data_hash", "evidence_hash",
    "TimeoutConfig", "ProposeBlock", "CastVote", "ScheduleTimeout", "Decide", "EvidenceFound", "Action",
    "ProposalRecord", "ConsensusMachine",
]
