"""Scripted attacks on safety: the schedules where locking is all that stands between a byzantine
proposer and two different decisions at one height.

Random schedules (test_simulation) rarely line these up, so each is played message by message
over four machines (three honest, one byzantine D). Each scenario leaves one honest node having
decided v while the others move on; D then tries to get w decided. With Algorithm 1's rules
the others refuse; without the lock in L22, the POL check in L28 or the lockedRound <= vr
check in L28 they would decide w (each was checked by breaking the rule on purpose).
"""
from __future__ import annotations

from chain.consensus import PRECOMMIT, PREVOTE, CastVote, ConsensusMachine, Decide, TimeoutConfig, Vote
from consensus.helpers import CHAIN_ID, address_of, build_block, genesis, sign_proposal, sign_vote


class Cluster:
    """Four machines at height 1; the test delivers every message by hand."""

    def __init__(self, byzantine_proposes: int):
        self.state, self.keys = genesis([1, 1, 1, 1])
        vals = self.state.validators
        self.machines = [ConsensusMachine(CHAIN_ID, 1, vals, address_of(k), TimeoutConfig()) for k in self.keys]
        proposer = [self.index_of(self.machines[0].proposer(r).address) for r in range(4)]
        self.byz = proposer[byzantine_proposes]          # D: the proposer of the attacking round
        self.honest = [i for i in range(4) if i != self.byz]
        self.cast: dict[tuple[int, int, int], Vote] = {}
        self.decided: dict[int, bytes] = {}
        for i, machine in enumerate(self.machines):
            self._take(i, machine.start())

    def index_of(self, address: bytes) -> int:
        return next(i for i, k in enumerate(self.keys) if address_of(k) == address)

    def _take(self, i: int, actions: list) -> None:
        for action in actions:
            if isinstance(action, CastVote):
                self.cast[(i, action.type, action.round)] = sign_vote(self.keys[i], action.type, 1, action.round,
                                                                      action.block_hash)
            elif isinstance(action, Decide):
                self.decided[i] = action.block.hash()

    def block(self, round: int, tag: str):
        return build_block(self.state, self.machines[0].proposer(round).address, [tag.encode()])

    def propose(self, round: int, block, to: list[int], pol_round: int = -1) -> None:
        key = self.keys[self.index_of(self.machines[0].proposer(round).address)]
        proposal = sign_proposal(key, 1, round, pol_round, block.hash())
        for j in to:
            self._take(j, self.machines[j].on_proposal(proposal, block, True))

    def votes(self, senders: list[int], type: int, round: int, to: list[int]) -> None:
        """Deliver what honest ``senders`` cast in (round, type)."""
        for i in senders:
            vote = self.cast[(i, type, round)]
            for j in to:
                self._take(j, self.machines[j].on_vote(vote))

    def byzantine_vote(self, type: int, round: int, block_hash: bytes | None, to: list[int]) -> None:
        vote = sign_vote(self.keys[self.byz], type, 1, round, block_hash)
        for j in to:
            self._take(j, self.machines[j].on_vote(vote))

    def next_round(self, nodes: list[int]) -> None:
        for j in nodes:
            self._take(j, self.machines[j].on_timeout("precommit", 1, self.machines[j].round))

    def prevote_timeout(self, nodes: list[int], round: int) -> None:
        for j in nodes:
            self._take(j, self.machines[j].on_timeout("prevote", 1, round))

    def finish(self) -> None:
        """Reliable delivery at last: everything honest nodes cast reaches everyone."""
        for (i, type, round), vote in sorted(self.cast.items(), key=lambda kv: kv[0][2]):
            for j in self.honest:
                self._take(j, self.machines[j].on_vote(vote))

    def agreed(self) -> set[bytes]:
        return {self.decided[i] for i in self.honest if i in self.decided}


def decide_v_at_round_0_for_one_node(c: Cluster):
    """Everyone locks v in round 0; only the first honest node sees the precommits and decides."""
    a, b, e = c.honest
    v = c.block(0, "v")
    c.propose(0, v, c.honest)
    c.votes(c.honest, PREVOTE, 0, c.honest)
    c.byzantine_vote(PREVOTE, 0, v.hash(), c.honest)
    assert all(c.machines[j].locked_block == v for j in c.honest)
    c.votes([a, b], PRECOMMIT, 0, [a])
    c.byzantine_vote(PRECOMMIT, 0, v.hash(), [a])
    assert c.decided == {a: v.hash()}
    c.next_round([b, e])
    return v, b, e


def test_a_byzantine_proposer_cannot_get_a_fresh_value_past_locked_validators():
    c = Cluster(byzantine_proposes=1)
    v, b, e = decide_v_at_round_0_for_one_node(c)
    w = c.block(1, "w")
    c.propose(1, w, [b, e])                                   # fresh w, pol_round -1
    assert c.cast[(b, PREVOTE, 1)].block_hash is None and c.cast[(e, PREVOTE, 1)].block_hash is None
    c.votes([b, e], PREVOTE, 1, [b, e])
    c.byzantine_vote(PREVOTE, 1, w.hash(), [b, e])
    c.byzantine_vote(PRECOMMIT, 1, w.hash(), [b, e])
    c.finish()
    assert c.agreed() == {v.hash()}


def test_a_byzantine_proposer_cannot_claim_a_polka_that_never_happened():
    c = Cluster(byzantine_proposes=1)
    v, b, e = decide_v_at_round_0_for_one_node(c)
    w = c.block(1, "w")
    c.propose(1, w, [b, e], pol_round=0)                      # "w had a polka in round 0": it had not
    assert (b, PREVOTE, 1) not in c.cast and (e, PREVOTE, 1) not in c.cast   # L28 waits for the POL
    c.byzantine_vote(PREVOTE, 0, w.hash(), [b, e])            # D's own second prevote is not a polka
    assert (b, PREVOTE, 1) not in c.cast
    for j in (b, e):
        c._take(j, c.machines[j].on_timeout("propose", 1, 1))
    c.votes([b, e], PREVOTE, 1, [b, e])
    c.byzantine_vote(PREVOTE, 1, w.hash(), [b, e])
    c.byzantine_vote(PRECOMMIT, 1, w.hash(), [b, e])
    c.finish()
    assert c.agreed() == {v.hash()}


def test_an_older_polka_cannot_unlock_a_newer_lock():
    # Round 0: w gets a polka only the first honest node sees (it locks w). Round 1: v gets a
    # polka, two honest nodes lock v and one of them decides. Round 2: D re-proposes w with its
    # round-0 polka. The v-locked node must refuse (its lock is newer than the polka).
    c = Cluster(byzantine_proposes=2)
    a, b, e = c.honest
    w = c.block(0, "w")
    c.propose(0, w, c.honest)
    c.votes([a, e], PREVOTE, 0, [a])
    c.byzantine_vote(PREVOTE, 0, w.hash(), [a])
    assert c.machines[a].locked_block == w
    c.votes([a], PRECOMMIT, 0, [a])
    c.prevote_timeout([b, e], 0)                               # b and e never saw the polka
    c.next_round(c.honest)
    v = c.block(1, "v")
    c.propose(1, v, c.honest)
    assert c.cast[(a, PREVOTE, 1)].block_hash is None          # a is locked on w
    c.votes([b, e], PREVOTE, 1, [b, e])
    c.byzantine_vote(PREVOTE, 1, v.hash(), [b, e])
    assert c.machines[b].locked_round == c.machines[e].locked_round == 1
    c.votes([b, e], PRECOMMIT, 1, [b])
    c.byzantine_vote(PRECOMMIT, 1, v.hash(), [b])
    assert c.decided == {b: v.hash()}
    c.next_round([a, e])
    c.propose(2, w, [a, e], pol_round=0)
    c.votes([a, e], PREVOTE, 0, [a, e])                        # the real round-0 polka for w
    c.byzantine_vote(PREVOTE, 0, w.hash(), [a, e])
    assert c.cast[(e, PREVOTE, 2)].block_hash is None          # lockedRound 1 > vr 0, v != w
    assert c.cast[(a, PREVOTE, 2)].block_hash == w.hash()      # a's lock (round 0) allows it
    c.votes([a, e], PREVOTE, 2, [a, e])
    c.byzantine_vote(PREVOTE, 2, w.hash(), [a, e])
    c.byzantine_vote(PRECOMMIT, 2, w.hash(), [a, e])
    c.finish()
    assert c.agreed() == {v.hash()}
