"""Tendermint's Algorithm 1 for one height, as a pure state machine: inputs in, actions out.

Inputs are a proposal (with its block and the driver's verdict on it), a vote, a timeout.
Outputs are actions for the driver: propose a block, cast (sign, log, broadcast) a vote,
schedule a timeout, decide, report evidence. The machine never signs, sleeps or sends; given
the same inputs in the same order it returns the same actions, which is what makes it testable
without a network and replayable from a WAL.

The rules are those of "The latest gossip on BFT consensus" (line numbers of Algorithm 1):

  L22  proposal(v, vr=-1) in step propose: prevote v if valid and (unlocked or locked on v), else nil
  L28  proposal(v, vr>=0) + 2f+1 prevotes(vr, v) in step propose, vr < round:
       prevote v if valid and (lockedRound <= vr or locked on v), else nil
  L34  2f+1 prevotes of any kind in step prevote, first time in the round: schedule timeoutPrevote
  L36  2f+1 prevotes(round, v), v valid, step >= prevote, first time in the round:
       in step prevote lock v and precommit it; in any case validValue = v, validRound = round
  L44  2f+1 prevotes(round, nil) in step prevote: precommit nil
  L47  2f+1 precommits of any kind, first time in the round: schedule timeoutPrecommit
  L49  2f+1 precommits(r, v) for ANY round r with v known and valid: decide v
  L55  messages from validators with f+1 power in a round above ours: start that round
  timeouts: propose -> prevote nil; prevote -> precommit nil; precommit -> next round

2f+1 is 3 * power > 2 * total and f+1 is 3 * power > total. CometBFT's unlock-on-nil-polka is
deliberately absent (unsafe together with L28). A block's content reaches the machine with a
proposal (or ``on_block`` for one fetched by hash); L36 and L49 use any known block with the
quorum's hash, since the hash is what the quorum is about. Every rule is re-evaluated after
every input, so votes that arrive before their proposal count as soon as it does.

One machine serves one height: after ``Decide`` the driver commits the block and starts a
fresh machine for the next height with the next validator set. The decided machine keeps
accepting precommits so the commit it hands out can still grow during timeout_commit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union

from ..crypto.keys import verify as verify_signature
from .blocks import Block
from .evidence import DuplicateVoteEvidence
from .types import PRECOMMIT, PREVOTE, Commit, ConsensusMessageError, Proposal, Vote
from .validators import Validator, ValidatorSet
from .votes import AddKind, HeightVoteSet, VoteSet

__all__ = [
    "TimeoutConfig", "ProposeBlock", "CastVote", "ScheduleTimeout", "Decide", "EvidenceFound", "Action",
    "ProposalRecord", "ConsensusMachine", "STEP_PROPOSE", "STEP_PREVOTE", "STEP_PRECOMMIT", "STEP_DECIDED",
    "TIMEOUT_KINDS", "MAX_ROUNDS_AHEAD", "MAX_PROPOSAL_ROUNDS_AHEAD", "MAX_PROPOSALS_PER_ROUND",
]

STEP_PROPOSE, STEP_PREVOTE, STEP_PRECOMMIT, STEP_DECIDED = "propose", "prevote", "precommit", "decided"
TIMEOUT_KINDS = ("propose", "prevote", "precommit")

# Bounds on what a byzantine validator can make us store. Honest rounds grow slowly (timeouts
# grow by half a second per round), so 1000 rounds ahead of ours is days away; proposals carry
# blocks, so only a few rounds ahead and a few per round (an equivocating proposer's) are kept.
# Anything beyond is ignored, not an error: a lagging node may legitimately receive it, and
# later messages of those rounds get through once it has caught up.
MAX_ROUNDS_AHEAD = 1000
MAX_PROPOSAL_ROUNDS_AHEAD = 8
MAX_PROPOSALS_PER_ROUND = 4


@dataclass(frozen=True)
class TimeoutConfig:
    """Round timeouts in seconds, growing linearly with the round (CometBFT defaults)."""

    propose: float = 3.0
    propose_delta: float = 0.5
    prevote: float = 1.0
    prevote_delta: float = 0.5
    precommit: float = 1.0
    precommit_delta: float = 0.5
    commit: float = 1.0
    skip_timeout_commit: bool = False

    def __post_init__(self) -> None:
        for name in ("propose", "propose_delta", "prevote", "prevote_delta", "precommit", "precommit_delta",
                     "commit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise ValueError(f"timeout {name} must be a non-negative number of seconds, got {value!r}")

    def propose_timeout(self, round: int) -> float:
        return self.propose + self.propose_delta * round

    def prevote_timeout(self, round: int) -> float:
        return self.prevote + self.prevote_delta * round

    def precommit_timeout(self, round: int) -> float:
        return self.precommit + self.precommit_delta * round

    def commit_timeout(self) -> float:
        """How long to keep collecting precommits after a decision (0 when skip_timeout_commit)."""
        return 0.0 if self.skip_timeout_commit else self.commit

    def for_kind(self, kind: str, round: int) -> float:
        return {"propose": self.propose_timeout, "prevote": self.prevote_timeout,
                "precommit": self.precommit_timeout}[kind](round)


# -- actions ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProposeBlock:
    """We are the round's proposer: propose ``valid_block`` (pol_round = valid_round) or, if None, a new block.

    The driver builds the block if needed, signs Proposal(height, round, valid_round, hash),
    broadcasts it with the block and feeds both back through ``on_proposal``."""

    height: int
    round: int
    valid_block: Block | None
    valid_round: int


@dataclass(frozen=True)
class CastVote:
    """Sign this vote (privval), log it to the WAL with fsync, broadcast it, feed it back via ``on_vote``."""

    type: int
    height: int
    round: int
    block_hash: bytes | None


@dataclass(frozen=True)
class ScheduleTimeout:
    """Call ``on_timeout(kind, height, round)`` after ``seconds``."""

    kind: str
    height: int
    round: int
    seconds: float


@dataclass(frozen=True)
class Decide:
    """+2/3 precommits for ``block`` at ``round``: commit it. ``commit`` holds the precommits known then."""

    height: int
    round: int
    block: Block
    commit: Commit


@dataclass(frozen=True)
class EvidenceFound:
    """A validator equivocated: keep the evidence for a future block."""

    evidence: DuplicateVoteEvidence


Action = Union[ProposeBlock, CastVote, ScheduleTimeout, Decide, EvidenceFound]


@dataclass(frozen=True)
class ProposalRecord:
    """A verified proposal, its block once known, and the driver's verdict on that block."""

    proposal: Proposal
    block: Block | None
    valid: bool


# -- the machine ------------------------------------------------------------------------------

class ConsensusMachine:
    """One height of Tendermint consensus. Feed it inputs; carry out the actions it returns, in order."""

    def __init__(self, chain_id: str, height: int, validators: ValidatorSet, me: bytes | None,
                 timeouts: TimeoutConfig = TimeoutConfig()):
        self.chain_id = chain_id
        self.height = height
        self.validators = validators
        self.me = me
        self.timeouts = timeouts
        self.round = 0
        self.step = STEP_PROPOSE
        self.locked_round = -1
        self.locked_block: Block | None = None
        self.valid_round = -1
        self.valid_block: Block | None = None
        self.decision: Decide | None = None
        self.votes = HeightVoteSet(chain_id, height, validators)
        self._is_validator = me is not None and validators.by_address(me) is not None
        self._proposals: dict[int, dict[tuple[bytes, int], ProposalRecord]] = {}
        self._blocks: dict[bytes, tuple[Block, bool]] = {}       # block hash -> (block, valid)
        self._fired: set[tuple[str, int]] = set()               # "first time in the round" rules
        self._cast: set[tuple[int, int]] = set()                # (round, type) we asked the driver to sign
        self._proposer_seq = validators.proposers_by_round()
        self._proposers: list[Validator] = []
        self._started = False
        self._out: list[Action] = []

    # -- read-only views -------------------------------------------------------------------

    @property
    def is_validator(self) -> bool:
        """True if this node votes at this height (``me`` is in the set)."""
        return self._is_validator

    @property
    def proposals(self) -> dict[int, tuple[ProposalRecord, ...]]:
        """Every verified proposal per round, an equivocating proposer's included, in arrival order."""
        return {r: tuple(recs.values()) for r, recs in sorted(self._proposals.items())}

    def block_for(self, block_hash: bytes) -> Block | None:
        """A block of this height known by its hash (from a proposal or ``on_block``), e.g. to time a vote."""
        known = self._blocks.get(block_hash)
        return None if known is None else known[0]

    def proposer(self, round: int) -> Validator:
        """The validator entitled to propose in ``round`` at this height."""
        while len(self._proposers) <= round:
            self._proposers.append(next(self._proposer_seq))
        return self._proposers[round]

    def commit_for_decision(self) -> Commit:
        """After Decide: the commit with every precommit received so far for the decided block and round."""
        if self.decision is None:
            raise RuntimeError(f"height {self.height} has no decision yet")
        return self.votes.precommits(self.decision.round).make_commit(self.decision.block.hash())

    # -- inputs ----------------------------------------------------------------------------

    def start(self) -> list[Action]:
        """StartRound(0). Messages fed in before start are kept and count from here on."""
        if self._started:
            raise RuntimeError(f"the machine for height {self.height} is already started")
        self._started = True
        self._start_round(0)
        self._evaluate()
        return self._flush()

    def on_proposal(self, proposal: Proposal, block: Block | None, valid: bool) -> list[Action]:
        """A proposal, with its block if already received and the driver's verdict on the block.

        The verdict is validate_block + the app's process_proposal; the machine adds the one check
        only it can make: a fresh block (pol_round -1) names the round's proposer in its header (a
        re-proposed valid block keeps its original proposer). Raises ConsensusMessageError
        for a malformed proposal, a wrong height, a signature that is not the round proposer's,
        or a block that does not match the proposal. The same proposal may be fed again once its
        block arrives. Proposals for rounds far ahead, or beyond an equivocator's share, are ignored."""
        if not isinstance(proposal, Proposal):
            raise ConsensusMessageError(f"expected a Proposal, got {type(proposal).__name__}")
        proposal.validate_basic()
        if proposal.height != self.height:
            raise ConsensusMessageError(f"proposal for height {proposal.height}, this machine is at height "
                                        f"{self.height}")
        if block is not None:
            if not isinstance(block, Block):
                raise ConsensusMessageError(f"expected a Block, got {type(block).__name__}")
            if block.hash() != proposal.block_hash:
                raise ConsensusMessageError(f"block {block.hash().hex()} does not match the proposal's block hash "
                                            f"{proposal.block_hash.hex()}")
            if block.header.height != self.height:
                raise ConsensusMessageError(f"proposal carries a block for height {block.header.height}, this "
                                            f"machine is at height {self.height}")
        r = proposal.round
        if self.decision is not None or r > self.round + MAX_PROPOSAL_ROUNDS_AHEAD:
            return []
        records = self._proposals.get(r, {})
        key = (proposal.block_hash, proposal.pol_round)
        known = records.get(key)
        if known is not None and (known.block is not None or block is None):
            return []                                   # nothing new
        if known is None and len(records) >= MAX_PROPOSALS_PER_ROUND:
            return []                                   # an equivocating proposer has had its share
        proposer = self.proposer(r)
        if known is None or known.proposal != proposal:
            if not verify_signature(proposer.pubkey, proposal.sign_bytes(self.chain_id), proposal.signature):
                raise ConsensusMessageError(f"proposal for height {self.height} round {r} is not signed by the "
                                            f"round's proposer {proposer.address.hex()}")
        valid = bool(valid) and block is not None
        if valid and proposal.pol_round == -1 and block.header.proposer != proposer.address:
            valid = False                               # a fresh block must name the round's proposer
        self._proposals.setdefault(r, {})[key] = ProposalRecord(proposal if known is None else known.proposal,
                                                               block, valid)
        if block is not None:
            self._blocks[proposal.block_hash] = (block, valid)
        self.votes.note_message(r, proposer.address)
        return self._after_input()

    def on_block(self, block: Block, valid: bool) -> list[Action]:
        """A block learned without its proposal (fetched by hash after seeing votes for it).

        Kept only if some vote of this height is for it; it can then complete L36 and L49."""
        if not isinstance(block, Block):
            raise ConsensusMessageError(f"expected a Block, got {type(block).__name__}")
        if block.header.height != self.height:
            raise ConsensusMessageError(f"block for height {block.header.height}, this machine is at height "
                                        f"{self.height}")
        block_hash = block.hash()
        if self.decision is not None or block_hash in self._blocks or not self._has_votes_for(block_hash):
            return []
        self._blocks[block_hash] = (block, bool(valid))
        return self._after_input()

    def on_vote(self, vote: Vote) -> list[Action]:
        """A prevote or precommit (ours included). Raises ConsensusMessageError if it is invalid.

        Votes for a later height are an error too: the driver keeps them for the next machine.
        Votes more than MAX_ROUNDS_AHEAD rounds ahead are ignored."""
        if not isinstance(vote, Vote):
            raise ConsensusMessageError(f"expected a Vote, got {type(vote).__name__}")
        vote.validate_basic()
        if vote.height != self.height:
            raise ConsensusMessageError(f"vote for height {vote.height}, this machine is at height {self.height}")
        if vote.round > self.round + MAX_ROUNDS_AHEAD:
            return []
        result = self.votes.add(vote)
        if result.kind is AddKind.DUPLICATE:
            return []
        if result.kind is AddKind.CONFLICT:
            assert result.evidence is not None
            self._out.append(EvidenceFound(result.evidence))    # and the vote counts for its own hash
        return self._after_input()

    def on_timeout(self, kind: str, height: int, round: int) -> list[Action]:
        """A timeout scheduled earlier has fired; stale ones (other height, round or step) do nothing."""
        if kind not in TIMEOUT_KINDS:
            raise ValueError(f"unknown timeout kind {kind!r}: expected one of {TIMEOUT_KINDS}")
        if not self._started or self.decision is not None or height != self.height or round != self.round:
            return []
        if kind == "propose" and self.step == STEP_PROPOSE:
            self._prevote(None)
        elif kind == "prevote" and self.step == STEP_PREVOTE:
            self._precommit(None)
        elif kind == "precommit":
            self._start_round(self.round + 1)
        else:
            return []
        self._evaluate()
        return self._flush()

    # -- rule evaluation -------------------------------------------------------------------

    def _after_input(self) -> list[Action]:
        if self._started and self.decision is None:
            self._evaluate()
        return self._flush()

    def _flush(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    def _evaluate(self) -> None:
        """Fire rules until none applies: one firing can enable another (a new round, a new step)."""
        while self.decision is None:
            if self._decide():
                return
            if self._skip_round():
                continue
            if not self._round_rules():
                return

    def _decide(self) -> bool:
        """L49: +2/3 precommits for a known, valid block in any round."""
        for r in self.votes.precommit_rounds():
            ok, block_hash = self.votes.precommits(r).two_thirds_majority()
            if not ok or block_hash is None:
                continue
            known = self._blocks.get(block_hash)
            if known is None or not known[1]:
                continue
            block = known[0]
            self.step = STEP_DECIDED
            self.decision = Decide(self.height, r, block, self.votes.precommits(r).make_commit(block_hash))
            self._out.append(self.decision)
            return True
        return False

    def _skip_round(self) -> bool:
        """L55: f+1 power has spoken in a higher round: go there (the highest such round)."""
        ahead = self.votes.rounds_with_one_third(above=self.round)
        if not ahead:
            return False
        self._start_round(ahead[-1])
        return True

    def _round_rules(self) -> bool:
        """The rules of the current round; True if one fired."""
        r = self.round
        prevotes = self.votes.prevotes(r)
        if self.step == STEP_PROPOSE:
            for record in self._proposals.get(r, {}).values():
                if record.block is None:
                    continue
                block_hash, vr = record.proposal.block_hash, record.proposal.pol_round
                if vr == -1:                                                       # L22
                    ok = record.valid and (self.locked_round == -1 or self._locked_on(block_hash))
                elif 0 <= vr < r and self.votes.prevotes(vr).has_two_thirds_for(block_hash):   # L28
                    ok = record.valid and (self.locked_round <= vr or self._locked_on(block_hash))
                else:
                    continue
                self._prevote(block_hash if ok else None)
                return True
        if self.step == STEP_PREVOTE and self._first("timeout_prevote", r, prevotes.has_two_thirds_any()):   # L34
            self._schedule("prevote", r)
            return True
        if self.step in (STEP_PREVOTE, STEP_PRECOMMIT):                            # L36
            ok, block_hash = prevotes.two_thirds_majority()
            known = self._blocks.get(block_hash) if ok and block_hash is not None else None
            if known is not None and known[1] and self._first("polka", r, True):
                block = known[0]
                if self.step == STEP_PREVOTE:
                    self.locked_round, self.locked_block = r, block
                    self._precommit(block_hash)
                self.valid_round, self.valid_block = r, block
                return True
        if self.step == STEP_PREVOTE:                                              # L44
            ok, block_hash = prevotes.two_thirds_majority()
            if ok and block_hash is None:
                self._precommit(None)
                return True
        if self._first("timeout_precommit", r, self.votes.precommits(r).has_two_thirds_any()):             # L47
            self._schedule("precommit", r)
            return True
        return False

    def _first(self, rule: str, round: int, condition: bool) -> bool:
        """True the first time ``condition`` holds for ``rule`` in ``round``, and remembers it."""
        if not condition or (rule, round) in self._fired:
            return False
        self._fired.add((rule, round))
        return True

    def _locked_on(self, block_hash: bytes) -> bool:
        return self.locked_block is not None and self.locked_block.hash() == block_hash

    def _has_votes_for(self, block_hash: bytes) -> bool:
        for r in self.votes.rounds():
            if self.votes.prevotes(r).power_for(block_hash) or self.votes.precommits(r).power_for(block_hash):
                return True
        return False

    # -- transitions -----------------------------------------------------------------------

    def _start_round(self, round: int) -> None:
        self.round = round
        self.step = STEP_PROPOSE
        if self._is_validator and self.proposer(round).address == self.me:
            self._out.append(ProposeBlock(self.height, round, self.valid_block, self.valid_round))
        # The proposer waits too: if its own proposal never comes back it still moves on.
        self._schedule("propose", round)

    def _prevote(self, block_hash: bytes | None) -> None:
        self._cast_vote(PREVOTE, block_hash, self.votes.prevotes(self.round))
        self.step = STEP_PREVOTE

    def _precommit(self, block_hash: bytes | None) -> None:
        self._cast_vote(PRECOMMIT, block_hash, self.votes.precommits(self.round))
        self.step = STEP_PRECOMMIT

    def _cast_vote(self, type: int, block_hash: bytes | None, votes: VoteSet) -> None:
        """Ask for our vote, at most once per (round, type), and not if we already have one (WAL replay)."""
        key = (self.round, type)
        if not self._is_validator or key in self._cast:
            return
        self._cast.add(key)
        assert self.me is not None
        if votes.get(self.me) is not None:
            return
        self._out.append(CastVote(type, self.height, self.round, block_hash))

    def _schedule(self, kind: str, round: int) -> None:
        self._out.append(ScheduleTimeout(kind, self.height, round, self.timeouts.for_kind(kind, round)))
