"""Duplicate-vote evidence: proof that a validator signed two different votes for one step.

Two signed votes of the same validator, height, round and type for different blocks (nil
counts as a block id) cannot both come from an honest validator. The pair is stored in a
canonical order (nil first, then by block hash) so that the same equivocation always has the
same evidence hash, whichever vote a node happened to see first.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..codec import canonical_json
from ..crypto import sha256
from ..crypto.keys import verify as verify_signature
from .types import ConsensusMessageError, Vote, expect_object
from .validators import ValidatorSet

__all__ = ["DuplicateVoteEvidence"]


def _order_key(vote: Vote) -> bytes:
    return b"" if vote.block_hash is None else vote.block_hash   # nil sorts first


@dataclass(frozen=True)
class DuplicateVoteEvidence:
    vote_a: Vote
    vote_b: Vote

    @classmethod
    def of(cls, first: Vote, second: Vote) -> DuplicateVoteEvidence:
        """The canonical pair for two conflicting votes, in whatever order they were seen."""
        a, b = sorted((first, second), key=_order_key)
        return cls(a, b)

    @property
    def validator(self) -> bytes:
        return self.vote_a.validator

    @property
    def height(self) -> int:
        return self.vote_a.height

    def hash(self) -> bytes:
        return sha256(canonical_json(self.to_json()))

    def validate_basic(self) -> None:
        """The pair's shape: two well-formed conflicting votes in canonical order (signatures not checked)."""
        a, b = self.vote_a, self.vote_b
        if not isinstance(a, Vote) or not isinstance(b, Vote):
            raise ConsensusMessageError("duplicate-vote evidence: vote_a and vote_b must be votes")
        a.validate_basic()
        b.validate_basic()
        if (a.validator, a.height, a.round, a.type) != (b.validator, b.height, b.round, b.type):
            raise ConsensusMessageError("duplicate-vote evidence: the votes differ in validator, height, round or "
                                        "type; evidence needs two votes for the same step")
        if a.block_hash == b.block_hash:
            raise ConsensusMessageError("duplicate-vote evidence: both votes are for the same block; that is not "
                                        "an equivocation")
        if _order_key(a) > _order_key(b):
            raise ConsensusMessageError("duplicate-vote evidence: votes must be ordered by block hash (nil first); "
                                        "build it with DuplicateVoteEvidence.of")

    def verify(self, chain_id: str, validators: ValidatorSet) -> None:
        """Check the equivocation against the validator set of its height; raises ConsensusMessageError."""
        self.validate_basic()
        a = self.vote_a
        val = validators.by_address(a.validator)
        if val is None:
            raise ConsensusMessageError(f"duplicate-vote evidence: {a.validator.hex()} was not a validator at "
                                        f"height {a.height}")
        for name, vote in (("vote_a", a), ("vote_b", self.vote_b)):
            if not verify_signature(val.pubkey, vote.sign_bytes(chain_id), vote.signature):
                raise ConsensusMessageError(f"duplicate-vote evidence: {name} has an invalid signature for "
                                            f"validator {a.validator.hex()} on chain {chain_id!r}")

    def to_json(self) -> dict[str, Any]:
        return {"vote_a": self.vote_a.to_json(), "vote_b": self.vote_b.to_json()}

    @classmethod
    def from_json(cls, doc: Any) -> DuplicateVoteEvidence:
        doc = expect_object(doc, ("vote_a", "vote_b"), "duplicate-vote evidence")
        evidence = cls(Vote.from_json(doc["vote_a"]), Vote.from_json(doc["vote_b"]))
        evidence.validate_basic()
        return evidence
