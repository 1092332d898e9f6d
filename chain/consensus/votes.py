"""Vote keeping: the verified votes of one step (VoteSet) and of one height (HeightVoteSet).

A VoteSet tallies voting power per block hash (None = nil) for one (height, round, type), as
Algorithm 1 counts messages: "2f+1 PREVOTE(h, r, id(v))" is the power of the distinct
validators that sent a prevote for id(v). A validator's second, different vote for the same
step is an equivocation: ``add`` returns a DuplicateVoteEvidence, and the vote joins the tally
of its own block hash (never twice in one tally, and only once in the any-value total). That is
what keeps honest nodes live when a byzantine validator tells each half of the network
something else: once gossip relays both votes, every honest node sees the same quorums. It is
safe because two +2/3 quorums overlap in more than a third of the power, so in an honest
validator, whatever the byzantine ones count for. How many different votes one validator may
have stored per step is capped (``MAX_VALUES_PER_VALIDATOR``), beyond that only votes for a
block hash that others voted for too are kept.

Quorums are integers: +2/3 means 3 * power > 2 * total, +1/3 means 3 * power > total.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from ..crypto.keys import verify as verify_signature
from .evidence import DuplicateVoteEvidence
from .types import PRECOMMIT, PREVOTE, VOTE_TYPES, Commit, CommitSig, ConsensusMessageError, Vote
from .validators import ValidatorSet

__all__ = ["AddKind", "AddResult", "VoteSet", "HeightVoteSet", "two_thirds", "one_third", "MAX_VALUES_PER_VALIDATOR"]


def two_thirds(power: int, total: int) -> bool:
    """More than two thirds of ``total``: a 2f+1 quorum."""
    return 3 * power > 2 * total


def one_third(power: int, total: int) -> bool:
    """More than a third of ``total``: f+1, so at least one honest validator."""
    return 3 * power > total


MAX_VALUES_PER_VALIDATOR = 6         # nil + MAX_PROPOSALS_PER_ROUND + one more: all an honest node may vote for


class AddKind(enum.Enum):
    ADDED = "added"            # a new vote, counted
    DUPLICATE = "duplicate"    # nothing changed: seen before, a re-signed copy of the same choice, or over the cap
    CONFLICT = "conflict"      # the validator voted differently before: evidence attached; counted for its own hash


@dataclass(frozen=True)
class AddResult:
    kind: AddKind
    evidence: DuplicateVoteEvidence | None = None

    ADDED: ClassVar[AddResult]
    DUPLICATE: ClassVar[AddResult]


AddResult.ADDED = AddResult(AddKind.ADDED)
AddResult.DUPLICATE = AddResult(AddKind.DUPLICATE)


class VoteSet:
    """The votes of one (height, round, type), signatures verified, power tallied per block hash."""

    def __init__(self, chain_id: str, height: int, round: int, type: int, validators: ValidatorSet):
        if type not in VOTE_TYPES:
            raise ValueError(f"a vote set is for prevotes ({PREVOTE}) or precommits ({PRECOMMIT}), not {type!r}")
        self.chain_id = chain_id
        self.height = height
        self.round = round
        self.type = type
        self.validators = validators
        self._votes: dict[bytes, Vote] = {}                           # each validator's first vote
        self._by_hash: dict[bytes | None, dict[bytes, Vote]] = {}     # block hash -> validator -> vote
        self._values: dict[bytes, int] = {}                           # validator -> how many hashes it voted for
        self._power: dict[bytes | None, int] = {}
        self._sum = 0
        self._maj23: tuple[bool, bytes | None] = (False, None)

    def add(self, vote: Vote) -> AddResult:
        """Verify and count ``vote``; raises ConsensusMessageError if it is not a valid vote for this set."""
        if not isinstance(vote, Vote):
            raise ConsensusMessageError(f"expected a Vote, got {type(vote).__name__}")
        same = self._by_hash.get(vote.block_hash, {}).get(vote.validator)
        if same is not None and same == vote:
            return AddResult.DUPLICATE               # gossip echo: skip the signature check
        vote.validate_basic()
        if (vote.height, vote.round, vote.type) != (self.height, self.round, self.type):
            raise ConsensusMessageError(
                f"vote for height {vote.height} round {vote.round} type {vote.type} does not belong to the set "
                f"for height {self.height} round {self.round} type {self.type}")
        val = self.validators.by_address(vote.validator)
        if val is None:
            raise ConsensusMessageError(f"vote from {vote.validator.hex()}, which is not a validator at height "
                                        f"{self.height}")
        if same is not None:
            return AddResult.DUPLICATE               # same choice, other timestamp: count once
        if not self._has_room(vote):
            return AddResult.DUPLICATE               # an equivocator's tenth opinion changes nothing
        if not verify_signature(val.pubkey, vote.sign_bytes(self.chain_id), vote.signature):
            raise ConsensusMessageError(f"vote from {vote.validator.hex()} has an invalid signature "
                                        f"(wrong key or chain id {self.chain_id!r}?)")
        first = self._votes.get(vote.validator)
        if first is None:
            self._votes[vote.validator] = vote
            self._sum += val.power
        self._tally(vote, val.power)
        if first is None:
            return AddResult.ADDED
        return AddResult(AddKind.CONFLICT, DuplicateVoteEvidence.of(first, vote))

    def _has_room(self, vote: Vote) -> bool:
        if self._values.get(vote.validator, 0) < MAX_VALUES_PER_VALIDATOR:
            return True
        return bool(self._by_hash.get(vote.block_hash))   # over the cap: only where others voted too

    def _tally(self, vote: Vote, power: int) -> None:
        self._by_hash.setdefault(vote.block_hash, {})[vote.validator] = vote
        self._values[vote.validator] = self._values.get(vote.validator, 0) + 1
        tally = self._power.get(vote.block_hash, 0) + power
        self._power[vote.block_hash] = tally
        if not self._maj23[0] and two_thirds(tally, self.validators.total_power):
            self._maj23 = (True, vote.block_hash)

    # -- reading ---------------------------------------------------------------------------

    def get(self, validator: bytes) -> Vote | None:
        """The validator's first vote in this step."""
        return self._votes.get(validator)

    def votes(self) -> list[Vote]:
        """Every stored vote (an equivocator's several), by validator address then block hash."""
        return sorted((v for by_val in self._by_hash.values() for v in by_val.values()),
                      key=lambda v: (v.validator, b"" if v.block_hash is None else v.block_hash))

    def votes_for(self, block_hash: bytes | None) -> list[Vote]:
        """The votes for ``block_hash`` (None = nil), by validator address."""
        by_val = self._by_hash.get(block_hash, {})
        return [by_val[a] for a in sorted(by_val)]

    def __len__(self) -> int:
        """How many validators voted."""
        return len(self._votes)

    @property
    def total_voted(self) -> int:
        """Power of the validators who voted, whatever for, each once."""
        return self._sum

    def power_for(self, block_hash: bytes | None) -> int:
        return self._power.get(block_hash, 0)

    def two_thirds_majority(self) -> tuple[bool, bytes | None]:
        """(True, hash) if +2/3 of the power voted for one block hash (None = nil), else (False, None).

        With less than a third byzantine only one hash can get there; the first one that did is kept."""
        return self._maj23

    def has_two_thirds_for(self, block_hash: bytes | None) -> bool:
        return two_thirds(self.power_for(block_hash), self.validators.total_power)

    def has_two_thirds_any(self) -> bool:
        return two_thirds(self._sum, self.validators.total_power)

    def has_one_third_any(self) -> bool:
        return one_third(self._sum, self.validators.total_power)

    def make_commit(self, block_hash: bytes) -> Commit:
        """The commit for ``block_hash``: every precommit counted for it, by validator address."""
        if self.type != PRECOMMIT:
            raise ValueError("a commit is made from precommits, this set holds prevotes")
        if block_hash is None or not self.has_two_thirds_for(block_hash):
            shown = "nil" if block_hash is None else block_hash.hex()
            raise ValueError(f"no +2/3 precommits for {shown} at height {self.height} round {self.round}")
        sigs = tuple(CommitSig(v.validator, v.timestamp_ns, v.signature) for v in self.votes_for(block_hash))
        return Commit(self.height, self.round, block_hash, sigs)


class HeightVoteSet:
    """Every round's prevotes and precommits of one height, and who has spoken in each round.

    "Spoken" counts distinct validators with any message in a round (votes of either type and
    proposals, which the caller reports with ``note_message``): f+1 of them in a higher round
    tells a lagging node to skip ahead (Algorithm 1, line 55)."""

    def __init__(self, chain_id: str, height: int, validators: ValidatorSet):
        self.chain_id = chain_id
        self.height = height
        self.validators = validators
        self._prevotes: dict[int, VoteSet] = {}
        self._precommits: dict[int, VoteSet] = {}
        self._senders: dict[int, set[bytes]] = {}
        self._sender_power: dict[int, int] = {}

    def prevotes(self, round: int) -> VoteSet:
        return self._set(self._prevotes, round, PREVOTE)

    def precommits(self, round: int) -> VoteSet:
        return self._set(self._precommits, round, PRECOMMIT)

    def _set(self, sets: dict[int, VoteSet], round: int, type: int) -> VoteSet:
        vs = sets.get(round)
        if vs is None:
            vs = sets[round] = VoteSet(self.chain_id, self.height, round, type, self.validators)
        return vs

    def add(self, vote: Vote) -> AddResult:
        """Add to the right round and type; raises ConsensusMessageError for an invalid vote."""
        vote.validate_basic()
        if vote.height != self.height:
            raise ConsensusMessageError(f"vote for height {vote.height}, expected height {self.height}")
        sets = self._prevotes if vote.type == PREVOTE else self._precommits
        result = self._set(sets, vote.round, vote.type).add(vote)
        if result.kind is not AddKind.DUPLICATE:
            self.note_message(vote.round, vote.validator)
        return result

    def note_message(self, round: int, validator: bytes) -> None:
        """Record that a validator sent a (verified) message in ``round``."""
        val = self.validators.by_address(validator)
        if val is None:
            return
        senders = self._senders.setdefault(round, set())
        if validator not in senders:
            senders.add(validator)
            self._sender_power[round] = self._sender_power.get(round, 0) + val.power

    def sender_power(self, round: int) -> int:
        return self._sender_power.get(round, 0)

    def rounds(self) -> list[int]:
        """Rounds with any message, ascending."""
        return sorted(self._sender_power)

    def precommit_rounds(self) -> list[int]:
        return sorted(self._precommits)

    def rounds_with_one_third(self, above: int = -1) -> list[int]:
        """Rounds above ``above`` where validators with more than a third of the power have spoken."""
        total = self.validators.total_power
        return sorted(r for r, p in self._sender_power.items() if r > above and one_third(p, total))
