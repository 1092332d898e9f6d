"""Test helpers for chain/consensus: deterministic keys, signed messages, and a seeded network.

``Simulation`` runs N consensus machines over an in-memory network in logical time: a heap of
events (message deliveries and timeouts) ordered by (time, sequence), with a seeded RNG that
delays, reorders, duplicates and drops messages until the global stabilisation time (GST).
Dropped messages are redelivered shortly after GST, as gossip eventually does; from GST on
every message arrives within ``delta``. Honest nodes relay every message they accept once (the
gossip assumption of the paper: what one honest node receives, all eventually receive). Byzantine nodes double-vote (a different vote to each
half of the network) and, as proposers, equivocate with two blocks. Each node validates blocks
with ``validate_block`` against its own ChainState and commits decided blocks, so several
heights exercise LastCommit, BFT time, validator updates (H+2) and evidence inclusion.
"""
from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import Any, Callable

from chain.consensus import (PRECOMMIT, Block, CastVote, ChainState, Commit, CommitSig, ConsensusMachine,
                             ConsensusMessageError, Decide, DuplicateVoteEvidence, EvidenceFound, Proposal,
                             ProposeBlock, ScheduleTimeout, TimeoutConfig, ValidatorSet, Vote, make_block,
                             median_time, validate_block)
from chain.crypto import sha256
from chain.crypto.keys import PrivateKey

CHAIN_ID = "conclave-test"
GENESIS_TIME_NS = 1_700_000_000 * 10**9
GENESIS_APP_HASH = sha256(b"genesis app hash")
MS = 1_000_000

# Small logical timeouts: the network delays below are of the same order, so early rounds fail.
FAST_TIMEOUTS = TimeoutConfig(propose=1.0, propose_delta=0.5, prevote=0.5, prevote_delta=0.25,
                              precommit=0.5, precommit_delta=0.25, commit=0.2)


def make_key(index: int, tag: str = "validator") -> PrivateKey:
    return PrivateKey.from_seed(sha256(f"{tag}-{index}".encode()))


def address_of(key: PrivateKey) -> bytes:
    return sha256(key.pubkey)[:20]


def genesis(powers: list[int], tag: str = "validator") -> tuple[ChainState, list[PrivateKey]]:
    keys = [make_key(i, tag) for i in range(len(powers))]
    state = ChainState.from_genesis(CHAIN_ID, 1, GENESIS_TIME_NS, [(k.pubkey, p) for k, p in zip(keys, powers)],
                                    GENESIS_APP_HASH)
    return state, keys


def sign_vote(key: PrivateKey, type: int, height: int, round: int, block_hash: bytes | None,
              timestamp_ns: int = GENESIS_TIME_NS + MS, chain_id: str = CHAIN_ID) -> Vote:
    vote = Vote(type, height, round, block_hash, timestamp_ns, address_of(key))
    return vote.with_signature(key.sign(vote.sign_bytes(chain_id)))


def sign_proposal(key: PrivateKey, height: int, round: int, pol_round: int, block_hash: bytes,
                  timestamp_ns: int = GENESIS_TIME_NS + MS, chain_id: str = CHAIN_ID) -> Proposal:
    proposal = Proposal(height, round, pol_round, block_hash, timestamp_ns)
    return proposal.with_signature(key.sign(proposal.sign_bytes(chain_id)))


def build_block(state: ChainState, proposer: bytes, txs: list[bytes], last_commit: Commit | None = None,
                evidence: tuple[DuplicateVoteEvidence, ...] = ()) -> Block:
    """The next block after ``state``, with the time rule applied (genesis time, or median time)."""
    height = state.next_height()
    if height == state.initial_height:
        time_ns = state.last_block_time_ns
    else:
        assert last_commit is not None and state.last_validators is not None
        time_ns = median_time(last_commit, state.last_validators)
    return make_block(state.chain_id, height, time_ns, state.last_block_hash, last_commit, txs, evidence,
                      state.validators, state.next_validators, state.app_hash, proposer)


def commit_for(keys: list[PrivateKey], height: int, round: int, block_hash: bytes,
               timestamps: list[int] | None = None) -> Commit:
    """A commit signed by ``keys`` (sorted by address, as Commit requires)."""
    stamps = timestamps or [GENESIS_TIME_NS + MS] * len(keys)
    sigs = []
    for key, ts in zip(keys, stamps):
        vote = sign_vote(key, PRECOMMIT, height, round, block_hash, ts)
        sigs.append(CommitSig(vote.validator, ts, vote.signature))
    return Commit(height, round, block_hash, tuple(sorted(sigs, key=lambda s: s.validator)))


def app_hash_after(previous: bytes, block: Block) -> bytes:
    """A stand-in for executing a block: deterministic in the previous hash and the block."""
    return sha256(previous + block.hash())


# -- the simulation ---------------------------------------------------------------------------

@dataclass
class SimNode:
    index: int
    key: PrivateKey
    byzantine: bool
    state: ChainState
    machine: ConsensusMachine | None = None
    decided: dict[int, Block] = field(default_factory=dict)
    decided_rounds: dict[int, int] = field(default_factory=dict)
    commits: dict[int, Commit] = field(default_factory=dict)
    evidence: list[DuplicateVoteEvidence] = field(default_factory=list)
    committed_evidence: set[bytes] = field(default_factory=set)
    blocks: dict[bytes, Block] = field(default_factory=dict)
    future: list[tuple[str, Any, Any]] = field(default_factory=list)
    seen: set[Any] = field(default_factory=set)
    start_rounds: dict[int, int] = field(default_factory=dict)   # height -> round when delivery became reliable
    halted: bool = False

    @property
    def address(self) -> bytes:
        return address_of(self.key)


class Simulation:
    """N nodes, one seeded network, logical time. ``run()`` then inspect ``nodes``."""

    def __init__(self, powers: list[int], seed: int, *, heights: int = 1, byzantine: tuple[int, ...] = (),
                 drop: float = 0.0, duplicate: float = 0.0, max_delay: float = 0.0, gst: float = 0.0,
                 delta: float = 0.05, timeouts: TimeoutConfig = FAST_TIMEOUTS, extra_nodes: int = 0,
                 updates: Callable[[int, list[PrivateKey]], list[tuple[bytes, int]]] | None = None,
                 max_time: float = 500.0):
        self.rng = random.Random(seed)
        self.heights = heights
        self.drop, self.duplicate, self.max_delay = drop, duplicate, max_delay
        self.gst, self.delta, self.timeouts, self.max_time = gst, delta, timeouts, max_time
        state, keys = genesis(powers)
        keys += [make_key(len(powers) + i) for i in range(extra_nodes)]   # followers until an update adds them
        self.keys = keys
        self.updates = updates or (lambda height, keys: [])
        self.nodes = [SimNode(i, k, i in byzantine, state) for i, k in enumerate(keys)]
        self.now = 0.0
        self._events: list[tuple[float, int, str, int, Any]] = []
        self._seq = 0
        self.delivered = 0
        self._reliable = gst <= 0

    # -- scheduling ------------------------------------------------------------------------

    def _push(self, at: float, kind: str, node: int, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at, self._seq, kind, node, payload))

    def _send(self, to: int, message: tuple[str, Any, Any]) -> None:
        if to < 0:
            return
        if self.now < self.gst:
            if self.rng.random() < self.drop:
                self._push(self.gst + self.rng.random() * self.delta, "msg", to, message)   # regossiped after GST
                return
            delay = self.rng.random() * self.max_delay
        else:
            delay = self.rng.random() * self.delta
        self._push(self.now + delay, "msg", to, message)
        if self.rng.random() < self.duplicate:
            self._push(self.now + delay + self.rng.random() * max(self.max_delay, self.delta), "msg", to, message)

    def _broadcast(self, sender: SimNode, message: tuple[str, Any, Any], others: list[int] | None = None) -> None:
        """Deliver to the sender at once (its own message) and to ``others`` (default: everyone else)."""
        self._push(self.now, "msg", sender.index, message)
        for node in self.nodes if others is None else [self.nodes[i] for i in others]:
            if node is not sender:
                self._send(node.index, message)

    # -- running ---------------------------------------------------------------------------

    def run(self) -> Simulation:
        for node in self.nodes:
            if not node.halted:
                self._start_height(node)
        while self._events:
            at, _, kind, index, payload = heapq.heappop(self._events)
            if at > self.max_time:
                break
            self.now = at
            if not self._reliable and at >= self.gst:
                self._reliable = True
                for n in self.nodes:
                    if n.machine is not None:
                        n.start_rounds[n.machine.height] = n.machine.round
            node = self.nodes[index]
            if node.halted:
                continue
            if kind == "msg":
                self.delivered += 1
                self._receive(node, payload)
            elif kind == "timeout":
                machine = node.machine
                if machine is not None and machine.height == payload[1]:
                    self._handle(node, machine.on_timeout(*payload))
            elif kind == "commit":
                self._commit(node)
            if all(len(n.decided) >= self.heights for n in self.honest()):
                break
        return self

    def honest(self) -> list[SimNode]:
        return [n for n in self.nodes if not n.byzantine]

    def _start_height(self, node: SimNode) -> None:
        if node.state.next_height() > self.heights:
            node.machine = None
            return
        node.machine = ConsensusMachine(CHAIN_ID, node.state.next_height(), node.state.validators, node.address,
                                        self.timeouts)
        if self._reliable:
            node.start_rounds[node.machine.height] = 0
        self._handle(node, node.machine.start())
        pending, node.future = node.future, []
        for message in pending:
            self._receive(node, message)

    def _receive(self, node: SimNode, message: tuple[str, Any, Any]) -> None:
        kind, first, second = message
        machine = node.machine
        if machine is None:
            return
        height = first.height
        if height > machine.height:
            node.future.append(message)
            return
        if height < machine.height or first in node.seen:
            return
        node.seen.add(first)
        if kind == "vote":
            self._handle(node, machine.on_vote(first))
        else:
            block: Block = second
            node.blocks[block.hash()] = block
            self._handle(node, machine.on_proposal(first, block, self._valid(node, block)))
        if not node.byzantine:   # gossip: what one honest node received, every honest node receives
            for other in self.nodes:
                if other is not node:
                    self._send(other.index, message)

    def _valid(self, node: SimNode, block: Block) -> bool:
        try:
            validate_block(block, node.state)
        except ConsensusMessageError:
            return False
        return all(ev.hash() not in node.committed_evidence for ev in block.evidence)

    def _handle(self, node: SimNode, actions: list) -> None:
        for action in actions:
            if isinstance(action, ScheduleTimeout):
                self._push(self.now + action.seconds, "timeout", node.index,
                           (action.kind, action.height, action.round))
            elif isinstance(action, CastVote):
                self._cast(node, action)
            elif isinstance(action, ProposeBlock):
                self._propose(node, action)
            elif isinstance(action, Decide):
                assert action.height not in node.decided
                node.decided[action.height] = action.block
                node.decided_rounds[action.height] = action.round
                self._push(self.now + self.timeouts.commit_timeout(), "commit", node.index, None)
            elif isinstance(action, EvidenceFound):
                node.evidence.append(action.evidence)
            else:
                raise AssertionError(f"unknown action {action!r}")

    def _vote_time(self, node: SimNode, block_hash: bytes | None) -> int:
        """CometBFT voteTime: now, but at least 1 ms after the time of the block voted for."""
        now_ns = GENESIS_TIME_NS + int(self.now * 1e9)
        block = node.blocks.get(block_hash) if block_hash is not None else None
        floor = (block.header.time_ns if block is not None else node.state.last_block_time_ns) + MS
        return max(now_ns, floor)

    def _cast(self, node: SimNode, action: CastVote) -> None:
        vote = sign_vote(node.key, action.type, action.height, action.round, action.block_hash,
                         self._vote_time(node, action.block_hash))
        if not node.byzantine:
            self._broadcast(node, ("vote", vote, None))
            return
        # Double-vote: the real vote to one half, a conflicting one to the other half.
        others = [n.index for n in self.nodes if n is not node]
        self.rng.shuffle(others)
        half = len(others) // 2
        alternatives = [h for h in node.blocks if h != action.block_hash and node.blocks[h].header.height ==
                        action.height]
        alt_hash = None if action.block_hash is not None else (
            self.rng.choice(sorted(alternatives)) if alternatives else sha256(vote.signature))
        alt = sign_vote(node.key, action.type, action.height, action.round, alt_hash, vote.timestamp_ns)
        self._broadcast(node, ("vote", vote, None), others[:half])
        for i in others[half:]:
            self._send(i, ("vote", alt, None))

    def _propose(self, node: SimNode, action: ProposeBlock) -> None:
        height = action.height
        last_commit = node.commits.get(height - 1)
        evidence = tuple(sorted({ev.hash(): ev for ev in node.evidence if ev.height == node.state.last_height
                                 and ev.hash() not in node.committed_evidence}.values(), key=lambda e: e.hash()))
        if action.valid_block is not None:
            block = action.valid_block
        else:
            block = build_block(node.state, node.address, [f"tx {height}/{action.round} by {node.index}".encode()],
                                last_commit, evidence)
        proposal = sign_proposal(node.key, height, action.round, action.valid_round, block.hash(),
                                 GENESIS_TIME_NS + int(self.now * 1e9))
        if not node.byzantine or action.valid_block is not None:
            self._broadcast(node, ("proposal", proposal, block))
            return
        # Equivocate: a second block (other txs) to half of the network.
        other = build_block(node.state, node.address, [f"evil tx {height}/{action.round}".encode()], last_commit,
                            evidence)
        other_proposal = sign_proposal(node.key, height, action.round, -1, other.hash(), proposal.timestamp_ns)
        node.blocks[other.hash()] = other
        others = [n.index for n in self.nodes if n is not node]
        self.rng.shuffle(others)
        half = len(others) // 2
        self._broadcast(node, ("proposal", proposal, block), others[:half])
        for i in others[half:]:
            self._send(i, ("proposal", other_proposal, other))

    def _commit(self, node: SimNode) -> None:
        machine = node.machine
        assert machine is not None and machine.decision is not None
        block = machine.decision.block
        commit = machine.commit_for_decision()
        assert len(commit.signatures) >= len(machine.decision.commit.signatures)
        node.commits[block.header.height] = commit
        node.committed_evidence.update(ev.hash() for ev in block.evidence)
        updates = self.updates(block.header.height, self.keys)
        node.state = node.state.apply_block(block, app_hash_after(node.state.app_hash, block), updates)
        self._start_height(node)


# -- one machine, the test plays everyone else -------------------------------------------------

class Harness:
    """A machine for validator ``me`` (None: a follower) at the first height of a genesis chain.

    The test feeds it signed proposals and votes from the other validators and reads the actions."""

    def __init__(self, powers: list[int], me: int | None = 0, timeouts: TimeoutConfig = TimeoutConfig(),
                 start: bool = True):
        self.state, self.keys = genesis(powers)
        self.validators: ValidatorSet = self.state.validators
        self.me = me
        self.machine = ConsensusMachine(CHAIN_ID, 1, self.validators,
                                        None if me is None else address_of(self.keys[me]), timeouts)
        self.start_actions = self.machine.start() if start else []
        self._tag = 0

    def index_of(self, address: bytes) -> int:
        return next(i for i, k in enumerate(self.keys) if address_of(k) == address)

    def proposer_index(self, round: int) -> int:
        return self.index_of(self.machine.proposer(round).address)

    def block(self, round: int = 0, tag: str | None = None) -> Block:
        """A valid block for height 1 proposed by ``round``'s proposer; ``tag`` makes it distinct."""
        self._tag += 1
        tx = (tag or f"block {self._tag}").encode()
        return build_block(self.state, self.machine.proposer(round).address, [tx])

    def propose(self, round: int, block: Block, pol_round: int = -1, valid: bool = True) -> list:
        key = self.keys[self.proposer_index(round)]
        return self.machine.on_proposal(sign_proposal(key, 1, round, pol_round, block.hash()), block, valid)

    def vote(self, index: int, type: int, round: int, block_hash: bytes | None, height: int = 1) -> list:
        return self.machine.on_vote(sign_vote(self.keys[index], type, height, round, block_hash))

    def votes(self, indices: list[int], type: int, round: int, block_hash: bytes | None) -> list:
        actions: list = []
        for i in indices:
            actions += self.vote(i, type, round, block_hash)
        return actions

    def others(self) -> list[int]:
        return [i for i in range(len(self.keys)) if i != self.me]
