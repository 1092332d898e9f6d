"""Blocks, the chain state consensus keeps between heights, and the rules a block must follow.

A block at height H carries its transactions, the evidence it commits, and the LastCommit:
+2/3 precommits for block H-1 by the validators of H-1. Its header commits to all of these by
hash, to the validator sets of H and H+1, and to the app hash after executing H-1 (CometBFT
semantics: a block proves the state its parent produced). Block time is BFT time: the
power-weighted median of the LastCommit's vote timestamps, so no single validator sets it;
the first block carries the genesis time.

``ChainState`` is what a node knows after committing a height; ``validate_block`` checks a
proposed block against it (everything but the round's proposer, which only the round knows).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Iterable

from ..codec import b64encode, canonical_json
from ..crypto import sha256
from ..crypto.keys import verify as verify_signature
from .evidence import DuplicateVoteEvidence
from .types import (ADDRESS_BYTES, HASH_BYTES, MAX_HEIGHT, MAX_TIMESTAMP_NS, Commit, ConsensusMessageError,
                    expect_object, parse_json, read_b64, read_hex, read_int, read_list, read_str)
from .validators import ValidatorSet
from .votes import two_thirds

__all__ = ["Header", "Block", "ChainState", "make_block", "median_time", "validate_block", "verify_commit",
           "data_hash", "evidence_hash", "MAX_CHAIN_ID_LENGTH", "MAX_APP_HASH_BYTES"]

MAX_CHAIN_ID_LENGTH = 50             # CometBFT MaxChainIDLen
MAX_APP_HASH_BYTES = 64              # ours are 32-byte sha256 roots; leave room, refuse anything huge
MAX_TX_BYTES = 1 << 30               # a tx is bounded by the block's byte limit (Block.decode), not here

EvidenceValidators = Callable[[int], "ValidatorSet | None"]


def data_hash(txs: Iterable[bytes]) -> bytes:
    """sha256 of the canonical JSON list of the txs in base64: commits to their order and bytes."""
    return sha256(canonical_json([b64encode(tx) for tx in txs]))


def evidence_hash(evidence: Iterable[DuplicateVoteEvidence]) -> bytes:
    return sha256(canonical_json([ev.to_json() for ev in evidence]))


def _commit_hash(commit: Commit | None) -> bytes:
    return b"" if commit is None else commit.hash()


def _check_chain_id(chain_id: Any, what: str) -> None:
    if not isinstance(chain_id, str) or not 0 < len(chain_id) <= MAX_CHAIN_ID_LENGTH:
        raise ConsensusMessageError(f"{what}: chain_id must be 1..{MAX_CHAIN_ID_LENGTH} characters")


# -- header and block -------------------------------------------------------------------------

@dataclass(frozen=True)
class Header:
    chain_id: str
    height: int
    time_ns: int
    last_block_hash: bytes            # b"" at the initial height
    last_commit_hash: bytes           # Commit.hash() of last_commit, b"" at the initial height
    data_hash: bytes
    evidence_hash: bytes
    validators_hash: bytes            # the set that decides this height
    next_validators_hash: bytes       # the set that decides the next one
    app_hash: bytes                   # after executing height - 1 (the genesis app hash at the initial height)
    proposer: bytes

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "height": self.height, "time_ns": self.time_ns,
                "last_block_hash": self.last_block_hash.hex(), "last_commit_hash": self.last_commit_hash.hex(),
                "data_hash": self.data_hash.hex(), "evidence_hash": self.evidence_hash.hex(),
                "validators_hash": self.validators_hash.hex(),
                "next_validators_hash": self.next_validators_hash.hex(), "app_hash": self.app_hash.hex(),
                "proposer": self.proposer.hex()}

    @classmethod
    def from_json(cls, doc: Any) -> Header:
        what = "header"
        doc = expect_object(doc, ("chain_id", "height", "time_ns", "last_block_hash", "last_commit_hash",
                                  "data_hash", "evidence_hash", "validators_hash", "next_validators_hash",
                                  "app_hash", "proposer"), what)
        chain_id = read_str(doc, "chain_id", what, MAX_CHAIN_ID_LENGTH)
        _check_chain_id(chain_id, what)
        hash_ = (HASH_BYTES,)
        return cls(chain_id=chain_id, height=read_int(doc, "height", 1, MAX_HEIGHT, what),
                   time_ns=read_int(doc, "time_ns", 0, MAX_TIMESTAMP_NS, what),
                   last_block_hash=read_hex(doc, "last_block_hash", what, (0, HASH_BYTES)),
                   last_commit_hash=read_hex(doc, "last_commit_hash", what, (0, HASH_BYTES)),
                   data_hash=read_hex(doc, "data_hash", what, hash_),
                   evidence_hash=read_hex(doc, "evidence_hash", what, hash_),
                   validators_hash=read_hex(doc, "validators_hash", what, hash_),
                   next_validators_hash=read_hex(doc, "next_validators_hash", what, hash_),
                   app_hash=read_hex(doc, "app_hash", what, range(MAX_APP_HASH_BYTES + 1)),
                   proposer=read_hex(doc, "proposer", what, (ADDRESS_BYTES,)))


@dataclass(frozen=True)
class Block:
    header: Header
    txs: tuple[bytes, ...]
    evidence: tuple[DuplicateVoteEvidence, ...]
    last_commit: Commit | None

    def hash(self) -> bytes:
        """sha256 of the header's canonical JSON; the header commits to everything else."""
        return self._hash

    @cached_property
    def _hash(self) -> bytes:
        return sha256(canonical_json(self.header.to_json()))

    def to_json(self) -> dict[str, Any]:
        return {"header": self.header.to_json(), "txs": [b64encode(tx) for tx in self.txs],
                "evidence": [ev.to_json() for ev in self.evidence],
                "last_commit": None if self.last_commit is None else self.last_commit.to_json()}

    def encode(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def decode(cls, raw: bytes, max_bytes: int) -> Block:
        """Parse an untrusted encoded block of at most ``max_bytes``; see ``from_json``."""
        return cls.from_json(parse_json(raw, max_bytes, "block"))

    @classmethod
    def from_json(cls, doc: Any) -> Block:
        """Strict: exact shapes, and the header's data, evidence and last-commit hashes match the contents."""
        what = "block"
        doc = expect_object(doc, ("header", "txs", "evidence", "last_commit"), what)
        header = Header.from_json(doc["header"])
        txs = []
        for i, item in enumerate(read_list(doc, "txs", what)):
            tx = read_b64({"tx": item}, "tx", f"block.txs[{i}]", max_len=MAX_TX_BYTES)
            if not tx:
                raise ConsensusMessageError(f"block.txs[{i}]: empty transaction")
            txs.append(tx)
        evidence = tuple(DuplicateVoteEvidence.from_json(ev) for ev in read_list(doc, "evidence", what))
        last_commit = None if doc["last_commit"] is None else Commit.from_json(doc["last_commit"])
        block = cls(header, tuple(txs), evidence, last_commit)
        block.check_contents()
        return block

    def check_contents(self) -> None:
        """The header's content hashes match the txs, evidence and last commit carried."""
        h = self.header
        if h.data_hash != data_hash(self.txs):
            raise ConsensusMessageError("block: header data_hash does not match the transactions")
        if h.evidence_hash != evidence_hash(self.evidence):
            raise ConsensusMessageError("block: header evidence_hash does not match the evidence")
        if h.last_commit_hash != _commit_hash(self.last_commit):
            raise ConsensusMessageError("block: header last_commit_hash does not match the last commit")


def make_block(chain_id: str, height: int, time_ns: int, last_block_hash: bytes, last_commit: Commit | None,
               txs: Iterable[bytes], evidence: Iterable[DuplicateVoteEvidence], validators: ValidatorSet,
               next_validators: ValidatorSet, app_hash: bytes, proposer: bytes) -> Block:
    """Assemble a block, computing the header's content hashes."""
    txs, evidence = tuple(txs), tuple(evidence)
    header = Header(chain_id=chain_id, height=height, time_ns=time_ns, last_block_hash=last_block_hash,
                    last_commit_hash=_commit_hash(last_commit), data_hash=data_hash(txs),
                    evidence_hash=evidence_hash(evidence), validators_hash=validators.hash(),
                    next_validators_hash=next_validators.hash(), app_hash=app_hash, proposer=proposer)
    return Block(header, txs, evidence, last_commit)


# -- commits and time -------------------------------------------------------------------------

def verify_commit(chain_id: str, validators: ValidatorSet, height: int, block_hash: bytes, commit: Commit) -> None:
    """``commit`` proves ``block_hash`` at ``height``: +2/3 of ``validators``' power signed its precommit.

    Every signature must verify and come from a distinct member of the set; one bad signature
    rejects the commit even if the rest would be enough (it was assembled by someone careless
    or hostile, and it becomes part of the chain)."""
    if commit.height != height:
        raise ConsensusMessageError(f"commit is for height {commit.height}, expected {height}")
    if commit.block_hash != block_hash:
        raise ConsensusMessageError(f"commit is for block {commit.block_hash.hex()}, expected {block_hash.hex()}")
    if type(commit.round) is not int or commit.round < 0:
        raise ConsensusMessageError(f"commit round must be a non-negative integer, got {commit.round!r}")
    if not commit.signatures:
        raise ConsensusMessageError("commit has no signatures")
    seen: set[bytes] = set()
    signed = 0
    for vote in commit.votes():
        vote.validate_basic()
        who = vote.validator.hex()
        if vote.validator in seen:
            raise ConsensusMessageError(f"commit has two signatures from validator {who}")
        seen.add(vote.validator)
        val = validators.by_address(vote.validator)
        if val is None:
            raise ConsensusMessageError(f"commit has a signature from {who}, which is not a validator at "
                                        f"height {height}")
        if not verify_signature(val.pubkey, vote.sign_bytes(chain_id), vote.signature):
            raise ConsensusMessageError(f"commit signature from validator {who} does not verify")
        signed += val.power
    if not two_thirds(signed, validators.total_power):
        raise ConsensusMessageError(f"commit is signed by power {signed} of {validators.total_power}: "
                                    "more than two thirds is required")


def median_time(commit: Commit, validators: ValidatorSet) -> int:
    """BFT time: the power-weighted median of the commit's timestamps (CometBFT MedianTime).

    Sorted by time, the first timestamp at which the accumulated power reaches half the signed
    power rounded down (CometBFT's weightedMedian: the lower median). With every validator's
    precommit in the commit, faulty ones (less than a third) cannot move it outside the range
    of honest timestamps."""
    weighted = []
    for sig in commit.signatures:
        val = validators.by_address(sig.validator)
        if val is None:
            raise ConsensusMessageError(f"commit signature from {sig.validator.hex()}, which is not a validator")
        weighted.append((sig.timestamp_ns, val.power))
    if not weighted:
        raise ConsensusMessageError("commit has no signatures: no time to take the median of")
    weighted.sort()
    remaining = sum(power for _, power in weighted) // 2
    for timestamp, power in weighted:
        if remaining <= power:
            return timestamp
        remaining -= power
    return weighted[-1][0]  # unreachable: the powers sum to more than half their total


# -- chain state ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainState:
    """What a node knows after committing ``last_height``: enough to validate the next block."""

    chain_id: str
    initial_height: int
    last_height: int                        # initial_height - 1 before the first block
    last_block_hash: bytes                  # b"" before the first block
    last_block_time_ns: int                 # the genesis time before the first block
    last_validators: ValidatorSet | None    # decided last_height; None before the first block
    validators: ValidatorSet                # decides next_height()
    next_validators: ValidatorSet           # decides next_height() + 1
    app_hash: bytes                         # after executing last_height (genesis app hash before)

    @classmethod
    def from_genesis(cls, chain_id: str, initial_height: int, genesis_time_ns: int,
                     validators: Iterable[tuple[bytes, int]], app_hash: bytes) -> ChainState:
        """The state before the first block, as CometBFT makes it from genesis.

        The genesis set is incremented once (that picks the first proposer) and the next set is
        the same validators incremented once more."""
        _check_chain_id(chain_id, "genesis")
        if type(initial_height) is not int or not 1 <= initial_height <= MAX_HEIGHT:
            raise ValueError(f"initial height must be at least 1, got {initial_height!r}")
        current = ValidatorSet.genesis(validators)
        return cls(chain_id=chain_id, initial_height=initial_height, last_height=initial_height - 1,
                   last_block_hash=b"", last_block_time_ns=genesis_time_ns, last_validators=None,
                   validators=current, next_validators=current.increment(1), app_hash=app_hash)

    def next_height(self) -> int:
        return self.last_height + 1

    def apply_block(self, block: Block, app_hash: bytes, validator_updates: Iterable[tuple[bytes, int]]) -> ChainState:
        """The state after committing ``block`` whose execution gave ``app_hash`` and ``validator_updates``.

        The sets shift by one height; the updates apply to the set after next (they take effect
        at H+2, CometBFT), which is then incremented once for its turn."""
        if block.header.height != self.next_height():
            raise ValueError(f"cannot apply block {block.header.height}: the state expects height {self.next_height()}")
        return dataclasses.replace(
            self, last_height=block.header.height, last_block_hash=block.hash(),
            last_block_time_ns=block.header.time_ns, last_validators=self.validators,
            validators=self.next_validators,
            next_validators=self.next_validators.with_updates(validator_updates).increment(1), app_hash=app_hash)

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "initial_height": self.initial_height, "last_height": self.last_height,
                "last_block_hash": self.last_block_hash.hex(), "last_block_time_ns": self.last_block_time_ns,
                "last_validators": None if self.last_validators is None else self.last_validators.to_json(),
                "validators": self.validators.to_json(), "next_validators": self.next_validators.to_json(),
                "app_hash": self.app_hash.hex()}

    @classmethod
    def from_json(cls, doc: Any) -> ChainState:
        what = "chain state"
        doc = expect_object(doc, ("chain_id", "initial_height", "last_height", "last_block_hash",
                                  "last_block_time_ns", "last_validators", "validators", "next_validators",
                                  "app_hash"), what)
        chain_id = read_str(doc, "chain_id", what, MAX_CHAIN_ID_LENGTH)
        _check_chain_id(chain_id, what)
        initial_height = read_int(doc, "initial_height", 1, MAX_HEIGHT, what)
        last_height = read_int(doc, "last_height", initial_height - 1, MAX_HEIGHT - 1, what)
        first = last_height == initial_height - 1
        last_block_hash = read_hex(doc, "last_block_hash", what, (0,) if first else (HASH_BYTES,))
        if first != (doc["last_validators"] is None):
            raise ConsensusMessageError(f"{what}: last_validators must be null exactly before the first block")
        return cls(chain_id=chain_id, initial_height=initial_height, last_height=last_height,
                   last_block_hash=last_block_hash,
                   last_block_time_ns=read_int(doc, "last_block_time_ns", 0, MAX_TIMESTAMP_NS, what),
                   last_validators=None if first else ValidatorSet.from_json(doc["last_validators"]),
                   validators=ValidatorSet.from_json(doc["validators"]),
                   next_validators=ValidatorSet.from_json(doc["next_validators"]),
                   app_hash=read_hex(doc, "app_hash", what, range(MAX_APP_HASH_BYTES + 1)))


# -- block validation -------------------------------------------------------------------------

def validate_block(block: Block, state: ChainState, *,
                   evidence_validators: EvidenceValidators | None = None) -> None:
    """Check ``block`` as the next block after ``state``; raises ConsensusMessageError saying why not.

    Not checked here: that the proposer is the round's proposer (the machine knows the round),
    that the app accepts the txs (process_proposal), and that evidence was not committed in an
    earlier block (the node's store knows). Evidence from ``state.last_height`` is verified
    against ``state.last_validators``; older evidence needs ``evidence_validators(height)``,
    the set that decided that height (None if unknown: the evidence is refused)."""
    h = block.header
    height = state.next_height()
    if h.chain_id != state.chain_id:
        raise ConsensusMessageError(f"block is for chain {h.chain_id!r}, this is {state.chain_id!r}")
    if h.height != height:
        raise ConsensusMessageError(f"block height {h.height}, expected {height}")
    block.check_contents()
    if h.last_block_hash != state.last_block_hash:
        raise ConsensusMessageError(f"block's last_block_hash {h.last_block_hash.hex() or '(empty)'} is not the "
                                    f"last block {state.last_block_hash.hex() or '(none)'}")
    if height == state.initial_height:
        if block.last_commit is not None:
            raise ConsensusMessageError("the first block cannot carry a last commit")
        if h.time_ns != state.last_block_time_ns:
            raise ConsensusMessageError(f"the first block's time must be the genesis time {state.last_block_time_ns}, "
                                        f"got {h.time_ns}")
    else:
        if block.last_commit is None or state.last_validators is None:
            raise ConsensusMessageError(f"block {height} must carry the commit of block {height - 1}")
        verify_commit(state.chain_id, state.last_validators, height - 1, state.last_block_hash, block.last_commit)
        expected_time = median_time(block.last_commit, state.last_validators)
        if h.time_ns != expected_time:
            raise ConsensusMessageError(f"block time {h.time_ns} is not the median time of its last commit "
                                        f"({expected_time})")
        if h.time_ns <= state.last_block_time_ns:
            raise ConsensusMessageError(f"block time {h.time_ns} is not after the last block's time "
                                        f"{state.last_block_time_ns}")
    if h.validators_hash != state.validators.hash():
        raise ConsensusMessageError("block's validators_hash is not the hash of this height's validator set")
    if h.next_validators_hash != state.next_validators.hash():
        raise ConsensusMessageError("block's next_validators_hash is not the hash of the next validator set")
    if h.app_hash != state.app_hash:
        raise ConsensusMessageError(f"block's app_hash {h.app_hash.hex()} is not the app hash after the last "
                                    f"block ({state.app_hash.hex()})")
    if state.validators.by_address(h.proposer) is None:
        raise ConsensusMessageError(f"block proposer {h.proposer.hex()} is not a validator at height {height}")
    _validate_evidence(block, state, evidence_validators)


def _validate_evidence(block: Block, state: ChainState, evidence_validators: EvidenceValidators | None) -> None:
    seen: set[bytes] = set()
    for ev in block.evidence:
        ev.validate_basic()
        key = ev.hash()
        if key in seen:
            raise ConsensusMessageError(f"block carries evidence {key.hex()} twice")
        seen.add(key)
        if not state.initial_height <= ev.height <= state.last_height:
            raise ConsensusMessageError(f"evidence from height {ev.height}: only heights "
                                        f"{state.initial_height}..{state.last_height} can have evidence in this block")
        if ev.height == state.last_height and state.last_validators is not None:
            validators: ValidatorSet | None = state.last_validators
        else:
            validators = evidence_validators(ev.height) if evidence_validators is not None else None
        if validators is None:
            raise ConsensusMessageError(f"evidence from height {ev.height}: its validator set is not known here")
        ev.verify(state.chain_id, validators)
