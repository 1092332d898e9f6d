"""Validators, the validator set, and CometBFT's weighted round-robin proposer selection.

Every validator holds a proposer priority. One *increment* step adds each validator's power to
its priority, picks the highest (ties: the smaller address) as proposer and takes the total
power P off the winner, so over time each proposes in proportion to its power. Before a batch
of steps the priorities are rescaled when their spread exceeds 2P and centred on zero, which
keeps them bounded; a newcomer starts at -1.125 P so that joining cannot buy the next slot.

The set is incremented once per height (by ``ChainState.apply_block``) and, for round r of a
height, r more times on a copy (``proposer_for_round``). Like CometBFT the set remembers the
proposer picked by its last increment; that, not the current arg-max, is ``proposer()``, and it
is part of the set's JSON so a restarted node agrees with the others. All arithmetic is on
integers; where Go truncates a quotient towards zero we do too.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable, Iterator

from ..codec import b64encode, canonical_json
from ..crypto import sha256
from ..crypto.keys import PUBKEY_BYTES
from .types import ADDRESS_BYTES, ConsensusMessageError, expect_object, read_b64, read_hex, read_int, read_list

__all__ = ["Validator", "ValidatorSet", "ValidatorSetError", "MAX_TOTAL_POWER", "MAX_VALIDATORS"]

MAX_TOTAL_POWER = 1 << 60            # CometBFT MaxTotalVotingPower (int64 max / 8): priorities never overflow
MAX_VALIDATORS = 10_000              # CometBFT MaxVotesCount
PRIORITY_WINDOW_FACTOR = 2           # rescale when max - min priority exceeds 2 * total power
MAX_PRIORITY = 1 << 63               # a stored priority beyond int64 cannot come from this algorithm


def address_of(pubkey: bytes) -> bytes:
    """A validator's address: sha256(pubkey)[:20], as accounts and CometBFT derive it."""
    return sha256(pubkey)[:ADDRESS_BYTES]


class ValidatorSetError(ValueError):
    """An invalid validator set or validator update (empty set, bad power, unknown validator...)."""


@dataclass(frozen=True)
class Validator:
    pubkey: bytes
    power: int
    priority: int = 0

    @cached_property
    def address(self) -> bytes:
        return address_of(self.pubkey)


class ValidatorSet:
    """An immutable validator set, sorted by power (descending) then address, like CometBFT's."""

    __slots__ = ("_validators", "_index", "_total", "_proposer", "__weakref__")

    def __init__(self, validators: Iterable[Validator], *, proposer: bytes | None = None):
        vals = list(validators)
        for val in vals:
            _check_validator(val)
        vals.sort(key=lambda v: (-v.power, v.address))
        index: dict[bytes, int] = {}
        for i, val in enumerate(vals):
            if val.address in index:
                raise ValidatorSetError(f"validator {val.address.hex()} appears twice")
            index[val.address] = i
        if not vals:
            raise ValidatorSetError("the validator set is empty: a chain needs at least one validator")
        if len(vals) > MAX_VALIDATORS:
            raise ValidatorSetError(f"{len(vals)} validators is more than the limit of {MAX_VALIDATORS}")
        total = sum(v.power for v in vals)
        if total > MAX_TOTAL_POWER:
            raise ValidatorSetError(f"total voting power {total} exceeds the limit of {MAX_TOTAL_POWER} (2**60)")
        if proposer is not None and proposer not in index:
            raise ValidatorSetError(f"proposer {proposer.hex()} is not in the validator set")
        self._validators: tuple[Validator, ...] = tuple(vals)
        self._index = index
        self._total = total
        self._proposer = proposer

    @classmethod
    def genesis(cls, updates: Iterable[tuple[bytes, int]]) -> ValidatorSet:
        """The set a chain starts with: priorities 0, then one increment (CometBFT NewValidatorSet)."""
        vals = []
        for pubkey, power in updates:
            if type(power) is not int or power <= 0:
                raise ValidatorSetError(f"genesis validator power must be a positive integer, got {power!r}")
            vals.append(Validator(pubkey, power))
        return cls(vals).increment(1)

    # -- reading ---------------------------------------------------------------------------

    @property
    def total_power(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._validators)

    def __iter__(self) -> Iterator[Validator]:
        return iter(self._validators)

    def by_address(self, address: bytes) -> Validator | None:
        i = self._index.get(address)
        return None if i is None else self._validators[i]

    def index_of(self, address: bytes) -> int | None:
        """Position of ``address`` in the set's order, or None if it is not a validator."""
        return self._index.get(address)

    def hash(self) -> bytes:
        """Identifies the membership and powers (not priorities): what headers commit to."""
        return sha256(canonical_json([{"pubkey": b64encode(v.pubkey), "power": v.power} for v in self._validators]))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ValidatorSet):
            return NotImplemented
        return self._validators == other._validators and self._proposer == other._proposer

    def __hash__(self) -> int:
        return hash((self._validators, self._proposer))

    def __repr__(self) -> str:
        vals = ", ".join(f"{v.address.hex()[:8]}:{v.power}@{v.priority}" for v in self._validators)
        return f"ValidatorSet([{vals}], proposer={self._proposer.hex()[:8] if self._proposer else None})"

    # -- proposer selection ----------------------------------------------------------------

    def proposer(self) -> Validator:
        """The proposer picked by the last increment (CometBFT's ``Proposer``).

        A set that was never incremented (built directly) has none yet: then the validator
        with the highest priority now, ties to the smaller address."""
        if self._proposer is not None:
            return self._validators[self._index[self._proposer]]
        return self._validators[_argmax([v.priority for v in self._validators], self._validators)]

    def proposer_for_round(self, round: int) -> Validator:
        """The proposer of ``round`` at this set's height: on a copy incremented ``round`` more times."""
        if type(round) is not int or round < 0:
            raise ValueError(f"round must be a non-negative integer, got {round!r}")
        return self.proposer() if round == 0 else self.increment(round).proposer()

    def proposers_by_round(self) -> Iterator[Validator]:
        """proposer_for_round(0), (1), (2), ... lazily, in O(n) per round instead of O(round * n)."""
        yield self.proposer()
        prios = self._rescaled_centered()
        while True:
            yield self._validators[self._step(prios)]

    def increment(self, times: int = 1) -> ValidatorSet:
        """A copy with proposer priorities advanced ``times`` steps (rescaled and centred first)."""
        if type(times) is not int or times < 0:
            raise ValueError(f"times must be a non-negative integer, got {times!r}")
        if times == 0:
            return self
        prios = self._rescaled_centered()
        chosen = 0
        for _ in range(times):
            chosen = self._step(prios)
        return self._with_priorities(prios, self._validators[chosen].address)

    def _rescaled_centered(self) -> list[int]:
        prios = [v.priority for v in self._validators]
        window = PRIORITY_WINDOW_FACTOR * self._total
        spread = max(prios) - min(prios)
        if spread > window:
            ratio = -(-spread // window)                     # ceil(spread / window)
            prios = [_quo_trunc(p, ratio) for p in prios]
        avg = sum(prios) // len(prios)                       # floor, as Go's big.Int Div for a positive divisor
        return [p - avg for p in prios]

    def _step(self, prios: list[int]) -> int:
        """One round-robin step on ``prios`` in place; returns the index of the chosen proposer."""
        vals = self._validators
        for i, val in enumerate(vals):
            prios[i] += val.power
        chosen = _argmax(prios, vals)
        prios[chosen] -= self._total
        return chosen

    def _with_priorities(self, prios: list[int], proposer: bytes | None) -> ValidatorSet:
        """Same validators and order, new priorities: no re-validation needed."""
        new = object.__new__(ValidatorSet)
        new._validators = tuple(Validator(v.pubkey, v.power, p) for v, p in zip(self._validators, prios))
        for old, val in zip(self._validators, new._validators):
            val.__dict__["address"] = old.address          # reuse the cached address
        new._index = self._index
        new._total = self._total
        new._proposer = proposer
        return new

    # -- updates ---------------------------------------------------------------------------

    def with_updates(self, updates: Iterable[tuple[bytes, int]]) -> ValidatorSet:
        """Apply (pubkey, power) changes as CometBFT does: power 0 removes, others add or re-weight.

        A newcomer's priority is -(P + P/8) with P the total after the changes but before the
        removals; existing validators keep theirs. Then rescale and centre."""
        changes: dict[bytes, tuple[bytes, int]] = {}
        for pubkey, power in updates:
            if not isinstance(pubkey, bytes) or len(pubkey) != PUBKEY_BYTES:
                raise ValidatorSetError(f"validator update: pubkey must be {PUBKEY_BYTES} bytes")
            if type(power) is not int or not 0 <= power <= MAX_TOTAL_POWER:
                raise ValidatorSetError(f"validator update: power must be an integer in 0..{MAX_TOTAL_POWER}, "
                                        f"got {power!r}")
            address = address_of(pubkey)
            if address in changes:
                raise ValidatorSetError(f"validator update: {address.hex()} appears twice in one change set")
            changes[address] = (pubkey, power)
        if not changes:
            return self
        removals = {a for a, (_, p) in changes.items() if p == 0}
        for address in sorted(removals):
            if address not in self._index:
                raise ValidatorSetError(f"validator update: cannot remove {address.hex()}, it is not a validator")
        power_after_updates = self._total + sum(p - self._power_of(a) for a, (_, p) in changes.items() if p > 0)
        if power_after_updates > MAX_TOTAL_POWER:
            raise ValidatorSetError(f"validator update: total power {power_after_updates} would exceed "
                                    f"{MAX_TOTAL_POWER}")
        newcomer_priority = -(power_after_updates + (power_after_updates >> 3))
        merged: dict[bytes, Validator] = {v.address: v for v in self._validators}
        for address, (pubkey, power) in changes.items():
            if power == 0:
                del merged[address]
            elif address in merged:
                merged[address] = Validator(merged[address].pubkey, power, merged[address].priority)
            else:
                merged[address] = Validator(pubkey, power, newcomer_priority)
        if not merged:
            raise ValidatorSetError("validator update: the changes would remove every validator")
        interim = ValidatorSet(merged.values())
        return interim._with_priorities(interim._rescaled_centered(), None)

    def _power_of(self, address: bytes) -> int:
        i = self._index.get(address)
        return 0 if i is None else self._validators[i].power

    # -- JSON ------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {"validators": [{"pubkey": b64encode(v.pubkey), "power": v.power, "priority": v.priority}
                               for v in self._validators],
                "proposer": None if self._proposer is None else self._proposer.hex()}

    @classmethod
    def from_json(cls, doc: Any) -> ValidatorSet:
        what = "validator set"
        doc = expect_object(doc, ("validators", "proposer"), what)
        items = read_list(doc, "validators", what)
        if len(items) > MAX_VALIDATORS:
            raise ConsensusMessageError(f"{what}: more than {MAX_VALIDATORS} validators")
        vals = []
        for item in items:
            item = expect_object(item, ("pubkey", "power", "priority"), "validator")
            vals.append(Validator(read_b64(item, "pubkey", "validator", PUBKEY_BYTES),
                                  read_int(item, "power", 1, MAX_TOTAL_POWER, "validator"),
                                  read_int(item, "priority", -MAX_PRIORITY, MAX_PRIORITY - 1, "validator")))
        proposer = None if doc["proposer"] is None else read_hex(doc, "proposer", what, (ADDRESS_BYTES,))
        try:
            return cls(vals, proposer=proposer)
        except ValidatorSetError as exc:
            raise ConsensusMessageError(f"{what}: {exc}") from None


def _check_validator(val: Validator) -> None:
    if not isinstance(val, Validator):
        raise ValidatorSetError(f"expected a Validator, got {type(val).__name__}")
    if not isinstance(val.pubkey, bytes) or len(val.pubkey) != PUBKEY_BYTES:
        raise ValidatorSetError(f"a validator's pubkey must be {PUBKEY_BYTES} bytes (ed25519)")
    if type(val.power) is not int or val.power <= 0:
        raise ValidatorSetError(f"validator {val.address.hex()}: power must be a positive integer, got {val.power!r}")
    if type(val.priority) is not int or not -MAX_PRIORITY <= val.priority < MAX_PRIORITY:
        raise ValidatorSetError(f"validator {val.address.hex()}: priority must be an int64, got {val.priority!r}")


def _argmax(prios: list[int], vals: tuple[Validator, ...] | list[Validator]) -> int:
    """Index of the highest priority; ties go to the smaller address."""
    best = 0
    for i in range(1, len(prios)):
        if prios[i] > prios[best] or (prios[i] == prios[best] and vals[i].address < vals[best].address):
            best = i
    return best


def _quo_trunc(a: int, b: int) -> int:
    """a / b rounded towards zero, as Go's integer division."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q
