"""The asyncio driver around the pure ConsensusMachine: the node's side of Tendermint.

    driver = Driver(app, store, state, signer=privval, wal=wal, timeouts=t, broadcast=p2p.broadcast,
                    reap_txs=..., on_commit=...)
    await driver.run()            # until driver.stop()
    driver.receive(payload)       # a consensus message from a peer (any thread-free coroutine context)

The machine decides; the driver does what it asks, in order, on one task, so the app is only ever
called from here: it builds and signs proposals, signs votes (never below the last signed
height/round/step: chain/consensus/privval.py), writes every input to the WAL before acting on it
(its own votes fsync'd before they leave), schedules timeouts, and on a decision executes the block
through the app's ABCI++ methods and commits it in ONE store batch together with the consensus
records (the commit, the chain state, the validator sets) so a crash leaves both or neither.

Restart: the store says which height is next; the WAL replays that height's inputs into a fresh
machine, which reaches the same locks and rounds and re-sends the same signed votes.
Messages for the next height are buffered (bounded); older or farther ones are dropped, and a
node that is behind catches up by block sync (chain/p2p/blocksync.py) through ``apply_synced``.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..app.app import App
from ..app.errors import AppError
from ..codec import b64decode, b64encode, canonical_json
from ..crypto import sha256
from ..crypto.keys import PrivateKey
from ..store import StateStore
from ..vm.errors import VmError
from .blocks import Block, ChainState, make_block, median_time, validate_block, verify_commit
from .evidence import DuplicateVoteEvidence
from .machine import (CastVote, ConsensusMachine, Decide, EvidenceFound, ProposeBlock, ScheduleTimeout,
                      TimeoutConfig)
from .privval import STEP_PRECOMMIT, STEP_PREVOTE, STEP_PROPOSE, DoubleSignError, PrivValidator
from .types import PRECOMMIT, PREVOTE, Commit, ConsensusMessageError, Proposal, Vote
from .validators import ValidatorSet
from .wal import WAL

log = logging.getLogger("conclave.consensus")

CHANNEL = "consensus"
EVIDENCE_CHANNEL = "evidence"
MAX_BUFFERED_AHEAD = 2_000          # messages for the next height kept until we get there
MAX_PENDING_EVIDENCE = 100
MAX_EVIDENCE_PER_BLOCK = 10
MAX_EVIDENCE_AGE = 100_000          # blocks: older duplicate votes are no longer punishable
MIN_VOTE_GAP_NS = 1_000_000         # CometBFT: a vote is at least 1 ms after the block it votes on
RESEND_ROUNDS = 2                   # re-gossip the proposals and votes of the last two rounds
STATE_RECORD = b"state"


def commit_record(height: int) -> bytes:
    return b"commit/" + height.to_bytes(8, "big")


def valset_record(height: int) -> bytes:
    return b"valset/" + height.to_bytes(8, "big")


def evidence_record(evidence_hash: bytes) -> bytes:
    return b"evidence/" + evidence_hash


class DriverError(Exception):
    """The node cannot continue consensus safely; the message says why and what to do."""


@dataclass(frozen=True)
class _Timeout:
    kind: str
    height: int
    round: int


@dataclass(frozen=True)
class _NextHeight:
    height: int


@dataclass
class _Synced:
    block: Block
    commit: Commit
    done: asyncio.Future


_STEPS = {PREVOTE: STEP_PREVOTE, PRECOMMIT: STEP_PRECOMMIT}


def proposal_message(proposal: Proposal, block: Block) -> dict[str, Any]:
    return {"kind": "proposal", "proposal": proposal.to_json(), "block": b64encode(block.encode())}


def vote_message(vote: Vote) -> dict[str, Any]:
    return {"kind": "vote", "vote": vote.to_json()}


def _same_except_timestamp(old: bytes, new: bytes) -> bool:
    """Sign bytes are canonical JSON: equal once both timestamps are blanked."""
    try:
        a, b = json.loads(old), json.loads(new)
    except ValueError:
        return False
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return False
    a.pop("timestamp_ns", None)
    b.pop("timestamp_ns", None)
    return a == b


class Driver:
    def __init__(self, app: App, store: StateStore, state: ChainState, *, signer: PrivValidator | None,
                 wal: WAL, timeouts: TimeoutConfig, broadcast: Callable[[str, dict], None],
                 reap_txs: Callable[[], list[bytes]], on_commit: Callable[[Block, dict], None],
                 clock: Callable[[], int] = time.time_ns, last_commit: Commit | None = None,
                 max_block_bytes: int = 22_020_096, byzantine_key: PrivateKey | None = None):
        """``byzantine_key`` is for fault tests only: the driver then also signs and sends a conflicting
        vote for every vote it casts (a double-voting validator), bypassing the double-sign guard."""
        self.app, self.store, self.state = app, store, state
        self.signer, self.wal, self.timeouts = signer, wal, timeouts
        self.broadcast, self.reap_txs, self.on_commit, self.clock = broadcast, reap_txs, on_commit, clock
        self.max_block_bytes = max_block_bytes
        self.byzantine_key = byzantine_key
        self.machine: ConsensusMachine | None = None
        self._previous: ConsensusMachine | None = None        # the decided height, still collecting precommits
        self._last_commit = last_commit
        self._queue: asyncio.Queue | None = None
        self._ahead: deque[dict[str, Any]] = deque(maxlen=MAX_BUFFERED_AHEAD)
        self._height_msgs: list[tuple[int, dict[str, Any]]] = []   # (round, message) accepted at this height
        self._seen: set[bytes] = set()                          # signatures of this height's messages handled
        self._valid_cache: dict[bytes, bool] = {}
        self._pending_evidence: dict[bytes, DuplicateVoteEvidence] = {}
        self._stopped = False
        self.dropped = 0                                        # malformed or stale messages, for /metrics

    # --- the identity ---------------------------------------------------------------------------
    @property
    def address(self) -> bytes | None:
        return self.signer.address if self.signer is not None else None

    @property
    def height(self) -> int:
        return self.state.next_height()

    def status(self) -> dict[str, Any]:
        machine = self.machine
        return {"height": self.state.last_height, "round": machine.round if machine else 0,
                "step": machine.step if machine else "new_height"}

    # --- the loop -------------------------------------------------------------------------------
    async def run(self) -> None:
        self._queue = asyncio.Queue()
        self._start_height()
        while not self._stopped:
            event = await self._queue.get()
            if event is None:
                break
            try:
                self._handle(event)
            except DriverError:
                raise
            except (AppError, VmError) as exc:      # a block the app cannot execute: never half-commit
                raise DriverError(f"the app failed while executing a decided block: {exc}; the node stops "
                                  "so that it cannot diverge — report this with the node log") from exc

    def stop(self) -> None:
        self._stopped = True
        if self._queue is not None:
            self._queue.put_nowait(None)

    def receive(self, payload: dict[str, Any]) -> None:
        """A consensus message from the network: queued for the loop (which validates it)."""
        if self._queue is not None and isinstance(payload, dict):
            self._queue.put_nowait(payload)

    def receive_evidence(self, payload: dict[str, Any]) -> None:
        if self._queue is not None and isinstance(payload, dict):
            self._queue.put_nowait({"kind": "evidence", **payload})

    async def apply_synced(self, block: Block, commit: Commit) -> None:
        """Commit a block fetched by block sync (verified here against our validator sets)."""
        assert self._queue is not None
        done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Synced(block, commit, done))
        await done

    # --- heights ---------------------------------------------------------------------------------
    def _start_height(self) -> None:
        height = self.height
        self.machine = ConsensusMachine(self.state.chain_id, height, self.state.validators, self.address,
                                        self.timeouts)
        self._height_msgs = []
        self._seen = set()
        self._valid_cache = {}
        marked = self.wal.last_marked_height
        if marked is None or marked < height - 1:      # a crash before the marker, or a block-sync jump
            self.wal.mark_height(height - 1)
        machine = self.machine
        start_actions = machine.start()
        replay = self.wal.replay(height)
        if replay:
            log.info("replaying %d WAL records of height %d", len(replay), height)
        for raw in replay:
            if self.machine is not machine:
                break                                   # the replay itself decided the height
            try:
                self._handle_message(json.loads(raw), from_wal=True)
            except (ValueError, ConsensusMessageError) as exc:
                log.warning("skipping a WAL record of height %d: %s", height, exc)
        if self.machine is not machine:
            return
        self._run_actions(start_actions)
        ahead, self._ahead = list(self._ahead), deque(maxlen=MAX_BUFFERED_AHEAD)
        for message in ahead:
            self._handle(message)

    def _handle(self, event: Any) -> None:
        if isinstance(event, _Timeout):
            self._on_timeout(event)
        elif isinstance(event, _NextHeight):
            if event.height == self.height and (self.machine is None or self.machine.decision is not None):
                self._start_height()
        elif isinstance(event, _Synced):
            self._on_synced(event)
        elif isinstance(event, dict):
            try:
                self._handle_message(event, from_wal=False)
            except (ConsensusMessageError, ValueError, KeyError, TypeError) as exc:
                self.dropped += 1
                log.debug("dropped a consensus message: %s", exc)

    def _on_timeout(self, timeout: _Timeout) -> None:
        machine = self.machine
        if machine is None or timeout.height != machine.height or machine.decision is not None:
            return
        self.wal.write(canonical_json({"kind": "timeout", "timeout": timeout.kind, "height": timeout.height,
                                       "round": timeout.round}))
        self._run_actions(machine.on_timeout(timeout.kind, timeout.height, timeout.round))

    # --- inbound messages ------------------------------------------------------------------------
    def _handle_message(self, message: dict[str, Any], *, from_wal: bool) -> None:
        kind = message.get("kind")
        if kind == "evidence":
            self._on_evidence(DuplicateVoteEvidence.from_json(message.get("evidence")))
            return
        if kind == "timeout" and from_wal:
            self._on_timeout(_Timeout(message["timeout"], message["height"], message["round"]))
            return
        if kind == "proposal":
            proposal = Proposal.from_json(message.get("proposal"))
            height, round_ = proposal.height, proposal.round
        elif kind == "vote":
            vote = Vote.from_json(message.get("vote"))
            height, round_ = vote.height, vote.round
        else:
            raise ConsensusMessageError(f"unknown consensus message kind {kind!r}")
        machine = self.machine
        if height == self.height + 1 or (machine is None and height == self.height):
            self._ahead.append(message)             # replayed when that height starts
            return
        if height == self.height - 1 and kind == "vote" and self._previous is not None:
            if vote.type == PRECOMMIT:      # late precommits still strengthen the LastCommit
                self._previous.on_vote(vote)
            return
        if height != self.height or machine is None:
            raise ConsensusMessageError(f"message for height {height}, this node is at {self.height}")
        signature = proposal.signature if kind == "proposal" else vote.signature
        if signature in self._seen:
            return                  # re-gossiped: already handled (a forged copy has another signature)
        if kind == "proposal":
            known = machine.block_for(proposal.block_hash)     # re-proposals carry a block we decoded before
            block = known if known is not None else Block.decode(b64decode(message.get("block")),
                                                                 self.max_block_bytes)
            if not from_wal:
                self.wal.write(canonical_json(message))
            actions = machine.on_proposal(proposal, block, self._block_valid(block))
        else:
            if not from_wal:
                self.wal.write(canonical_json(message))
            actions = machine.on_vote(vote)
        self._seen.add(signature)
        self._height_msgs.append((round_, message))
        self._run_actions(actions)

    def _block_valid(self, block: Block) -> bool:
        """validate_block against our chain state, evidence not yet punished, then the app's verdict."""
        key = block.hash()
        if key not in self._valid_cache:
            self._valid_cache[key] = self._check_block(block)
        return self._valid_cache[key]

    def _check_block(self, block: Block) -> bool:
        try:
            validate_block(block, self.state, evidence_validators=self.validators_at)
        except ConsensusMessageError as exc:
            log.info("rejecting block %s of height %d: %s", block.hash().hex()[:12], block.header.height, exc)
            return False
        seen: set[bytes] = set()
        for evidence in block.evidence:
            digest = evidence.hash()
            if digest in seen or self.store.record(evidence_record(digest)) is not None:
                log.info("rejecting block %d: evidence %s is already committed", block.header.height, digest.hex())
                return False
            seen.add(digest)
        verdict = self.app.process_proposal(list(block.txs))
        if verdict["status"] != "ACCEPT":
            log.info("rejecting block %d: %s", block.header.height, verdict["reason"])
            return False
        return True

    def _on_evidence(self, evidence: DuplicateVoteEvidence) -> None:
        digest = evidence.hash()
        if digest in self._pending_evidence or self.store.record(evidence_record(digest)) is not None:
            return
        if evidence.height < self.state.last_height - MAX_EVIDENCE_AGE or evidence.height > self.height:
            raise ConsensusMessageError(f"evidence of height {evidence.height} is out of range")
        validators = self.validators_at(evidence.height)
        if validators is None:
            raise ConsensusMessageError(f"no validator set known for height {evidence.height}")
        evidence.verify(self.state.chain_id, validators)
        if len(self._pending_evidence) < MAX_PENDING_EVIDENCE:
            self._pending_evidence[digest] = evidence
            log.warning("duplicate vote by %s at height %d: evidence pending", evidence.validator.hex(),
                        evidence.height)
            self.broadcast(EVIDENCE_CHANNEL, {"evidence": evidence.to_json()})

    def validators_at(self, height: int) -> ValidatorSet | None:
        """The validator set that decided ``height`` (recent heights from the state, older from records)."""
        if height == self.height:
            return self.state.validators
        if height == self.height - 1 and self.state.last_validators is not None:
            return self.state.last_validators
        raw = self.store.record(valset_record(height))
        return ValidatorSet.from_json(json.loads(raw)) if raw is not None else None

    # --- actions -----------------------------------------------------------------------------------
    def _run_actions(self, actions: Iterable[Any]) -> None:
        work = deque(actions)
        while work:
            action = work.popleft()
            if isinstance(action, ScheduleTimeout):
                self._schedule(action)
            elif isinstance(action, CastVote):
                work.extend(self._cast(action))
            elif isinstance(action, ProposeBlock):
                work.extend(self._propose(action))
            elif isinstance(action, Decide):
                self._decide(action)
            elif isinstance(action, EvidenceFound):
                try:
                    self._on_evidence(action.evidence)
                except ConsensusMessageError as exc:
                    log.info("ignoring evidence: %s", exc)

    def _schedule(self, action: ScheduleTimeout) -> None:
        if self._queue is None:
            return
        loop = asyncio.get_running_loop()
        loop.call_later(action.seconds, self._queue.put_nowait, _Timeout(action.kind, action.height, action.round))

    def _cast(self, action: CastVote) -> list[Any]:
        machine = self.machine
        if self.signer is None or machine is None:
            return []
        floor = self.state.last_block_time_ns
        if action.block_hash is not None:
            block = machine.block_for(action.block_hash)
            if block is not None:
                floor = block.header.time_ns
        timestamp = max(self.clock(), floor + MIN_VOTE_GAP_NS)
        vote = Vote(action.type, action.height, action.round, action.block_hash, timestamp, self.signer.address)
        try:
            signature, used = self.signer.sign(action.height, action.round, _STEPS[action.type],
                                               vote.sign_bytes(self.state.chain_id), _same_except_timestamp)
        except DoubleSignError as exc:
            log.error("refusing to sign: %s", exc)
            return []
        if used != vote.sign_bytes(self.state.chain_id):
            vote = Vote(action.type, action.height, action.round, action.block_hash,
                        json.loads(used)["timestamp_ns"], self.signer.address)
        vote = vote.with_signature(signature)
        message = vote_message(vote)
        self.wal.write_sync(canonical_json(message))     # on disk before anyone can see it
        self.broadcast(CHANNEL, message)
        self._height_msgs.append((vote.round, message))
        if self.byzantine_key is not None:
            self._double_vote(vote)
        return list(machine.on_vote(vote))

    def _double_vote(self, vote: Vote) -> None:
        """Fault tests: equivocate, a vote for another value than ``vote`` (signed, never seen by our machine)."""
        other = sha256(b"byzantine" + (vote.block_hash or b"")) if vote.block_hash is None else None
        twin = Vote(vote.type, vote.height, vote.round, other, vote.timestamp_ns, vote.validator)
        twin = twin.with_signature(self.byzantine_key.sign(twin.sign_bytes(self.state.chain_id)))
        self.broadcast(CHANNEL, vote_message(twin))

    def _propose(self, action: ProposeBlock) -> list[Any]:
        machine = self.machine
        if self.signer is None or machine is None:
            return []
        block = action.valid_block if action.valid_block is not None else self._build_block()
        proposal = Proposal(action.height, action.round, action.valid_round, block.hash(), self.clock())
        try:
            signature, used = self.signer.sign(action.height, action.round, STEP_PROPOSE,
                                               proposal.sign_bytes(self.state.chain_id), _same_except_timestamp)
        except DoubleSignError as exc:
            log.warning("not proposing at %d/%d: %s", action.height, action.round, exc)
            return []
        if used != proposal.sign_bytes(self.state.chain_id):
            proposal = Proposal(action.height, action.round, action.valid_round, block.hash(),
                                json.loads(used)["timestamp_ns"])
        proposal = proposal.with_signature(signature)
        message = proposal_message(proposal, block)
        self.wal.write_sync(canonical_json(message))
        self.broadcast(CHANNEL, message)
        self._height_msgs.append((proposal.round, message))
        self._valid_cache[block.hash()] = True if action.valid_block is not None else self._check_block(block)
        return list(machine.on_proposal(proposal, block, self._valid_cache[block.hash()]))

    def _build_block(self) -> Block:
        state = self.state
        height = state.next_height()
        last_commit = self._current_last_commit()
        if height == state.initial_height:
            time_ns = state.last_block_time_ns
        else:
            assert last_commit is not None and state.last_validators is not None
            time_ns = median_time(last_commit, state.last_validators)
        # evidence of this very height waits for the next block (CometBFT: evidence is of past heights)
        evidence = tuple([ev for ev in self._pending_evidence.values() if ev.height < height][:MAX_EVIDENCE_PER_BLOCK])
        budget = self.max_block_bytes - 64 * 1024           # room for the header, commit and evidence
        txs = tuple(self.app.prepare_proposal(self.reap_txs(), budget))
        return make_block(state.chain_id, height, time_ns, state.last_block_hash, last_commit, txs, evidence,
                          state.validators, state.next_validators, state.app_hash, self.signer.address)

    def _current_last_commit(self) -> Commit | None:
        if self.state.last_height < self.state.initial_height:
            return None
        if self._previous is not None and self._previous.height == self.state.last_height:
            return self._previous.commit_for_decision()
        if self._last_commit is not None and self._last_commit.height == self.state.last_height:
            return self._last_commit
        raw = self.store.record(commit_record(self.state.last_height))
        if raw is None:
            raise DriverError(f"no commit stored for height {self.state.last_height}: the data directory is "
                              "damaged; resync this node from its peers")
        self._last_commit = Commit.from_json(json.loads(raw))
        return self._last_commit

    # --- decisions -----------------------------------------------------------------------------------
    def _decide(self, decision: Decide) -> None:
        self._commit_block(decision.block, decision.commit)
        self._previous, self.machine = self.machine, None
        delay = 0.0 if self.timeouts.skip_timeout_commit else self.timeouts.commit
        if self._queue is not None:
            asyncio.get_running_loop().call_later(delay, self._queue.put_nowait, _NextHeight(self.height))

    def _on_synced(self, synced: _Synced) -> None:
        if synced.block.header.height < self.height:      # consensus committed it meanwhile
            synced.done.set_result(None)
            return
        try:
            block, commit = synced.block, synced.commit
            if block.header.height != self.height:
                raise ConsensusMessageError(f"synced block is for height {block.header.height}, "
                                            f"this node needs {self.height}")
            validate_block(block, self.state, evidence_validators=self.validators_at)
            verify_commit(self.state.chain_id, self.state.validators, block.header.height, block.hash(), commit)
            self._commit_block(block, commit)
            self._previous, self.machine = None, None
            self._last_commit = commit
            self._start_height()
        except Exception as exc:  # noqa: BLE001 - reported to the block sync caller
            if not synced.done.done():
                synced.done.set_exception(exc)
            if isinstance(exc, (DriverError, AppError, VmError)):
                raise
            return
        if not synced.done.done():
            synced.done.set_result(None)

    def _commit_block(self, block: Block, commit: Commit) -> None:
        """finalize_block + commit in one store batch with the consensus records of this height."""
        state, height = self.state, block.header.height
        evidence_json = [self._evidence_for_app(ev) for ev in block.evidence]
        votes_json = self._last_commit_votes(block)
        response = self.app.finalize_block(height, block.header.time_ns, list(block.txs), evidence_json,
                                           votes_json, block=block.encode())
        updates = [(b64decode(u["pubkey"]["ed25519"]), u["power"]) for u in response["validator_updates"]]
        new_state = state.apply_block(block, response["app_hash"], updates)
        self.store.save_record(commit_record(height), canonical_json(commit.to_json()))
        self.store.save_record(STATE_RECORD, canonical_json(new_state.to_json()))
        self.store.save_record(valset_record(height), canonical_json(state.validators.to_json()))
        for evidence in block.evidence:
            self.store.save_record(evidence_record(evidence.hash()), height.to_bytes(8, "big"))
        self.app.commit()
        self.wal.mark_height(height)
        for evidence in block.evidence:
            self._pending_evidence.pop(evidence.hash(), None)
        self.state = new_state
        log.info("committed height %d (%d txs) app hash %s", height, len(block.txs),
                 bytes(response["app_hash"]).hex()[:16])
        self.on_commit(block, response)

    def _evidence_for_app(self, evidence: DuplicateVoteEvidence) -> dict[str, Any]:
        validators = self.validators_at(evidence.height)
        member = validators.by_address(evidence.validator) if validators is not None else None
        if member is None:
            raise DriverError(f"evidence against {evidence.validator.hex()} at height {evidence.height}, "
                              "whose validator set this node does not have")
        return {"validator": {"ed25519": b64encode(member.pubkey)}, "height": evidence.height,
                "time_ns": str(evidence.vote_a.timestamp_ns), "kind": "duplicate_vote"}

    def _last_commit_votes(self, block: Block) -> list[dict[str, Any]]:
        """Who signed the previous block, for contracts that reward liveness."""
        last, validators = block.last_commit, self.state.last_validators
        if last is None or validators is None:
            return []
        signed = {sig.validator for sig in last.signatures}
        return [{"validator": {"ed25519": b64encode(v.pubkey)}, "power": v.power, "signed": v.address in signed}
                for v in validators]

    # --- gossip ----------------------------------------------------------------------------------------
    def resend(self, proposals: bool) -> list[dict[str, Any]]:
        """The votes (and, if ``proposals``, the proposals with their blocks) of this height's last
        rounds, for peers that may have missed them; blocks are large, so they wait for a longer stall."""
        machine = self.machine
        if machine is None:
            return []
        floor = machine.round - RESEND_ROUNDS + 1
        return [message for round_, message in self._height_msgs
                if round_ >= floor and (proposals or message["kind"] == "vote")]
