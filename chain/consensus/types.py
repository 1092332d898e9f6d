"""The consensus messages: votes, proposals and commits, their sign bytes and strict JSON forms.

Sign bytes are canonical JSON of the fields a signer vouches for (never Python repr), so every
node, whatever its Python version, verifies the same bytes. JSON forms spell hashes and
addresses in lowercase hex and signatures in standard base64; ``from_json`` accepts exactly
those shapes (exact key sets, integer ranges, lengths) and raises ``ConsensusMessageError``
saying what was wrong for anything else, so a hostile peer gets an error, never a crash.
"""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

from ..codec import DecodeError, b64decode, b64encode, canonical_json
from ..crypto import sha256

__all__ = [
    "PREVOTE", "PRECOMMIT", "PROPOSAL", "VOTE_TYPES", "MAX_MESSAGE_BYTES", "MAX_HEIGHT", "MAX_ROUND",
    "MAX_TIMESTAMP_NS", "HASH_BYTES", "ADDRESS_BYTES", "SIGNATURE_BYTES",
    "ConsensusMessageError", "Vote", "Proposal", "CommitSig", "Commit", "parse_json",
]

# CometBFT SignedMsgType values: they are part of the sign bytes, so a prevote signature can
# never pass for a precommit or a proposal.
PREVOTE, PRECOMMIT, PROPOSAL = 1, 2, 32
VOTE_TYPES = (PREVOTE, PRECOMMIT)

MAX_MESSAGE_BYTES = 1 << 20          # one encoded vote or proposal; blocks are bounded by the caller
MAX_HEIGHT = (1 << 63) - 1           # int64, as CometBFT
MAX_ROUND = (1 << 31) - 1            # int32, as CometBFT
MAX_TIMESTAMP_NS = (1 << 63) - 1
HASH_BYTES = 32                      # sha256 block hashes
ADDRESS_BYTES = 20                   # sha256(pubkey)[:20]
SIGNATURE_BYTES = 64                 # ed25519

_HEX_RE = re.compile(r"[0-9a-f]*")


class ConsensusMessageError(ValueError):
    """A consensus message (vote, proposal, commit, block, evidence) is malformed or invalid.

    The message says what is wrong; a driver treats it as the sending peer's fault."""


# -- strict JSON field readers (shared by every from_json in this package) --------------------

def parse_json(raw: bytes, max_bytes: int, what: str) -> Any:
    """Decode untrusted JSON bytes: size-bounded, UTF-8, no duplicate keys, no NaN, no deep nesting crash."""
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise ConsensusMessageError(f"{what}: expected bytes, got {type(raw).__name__}")
    if len(raw) > max_bytes:
        raise ConsensusMessageError(f"{what}: {len(raw)} bytes is over the limit of {max_bytes}")
    try:
        return json.loads(bytes(raw).decode("utf-8"), object_pairs_hook=_no_duplicate_keys,
                          parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise ConsensusMessageError(f"{what}: not UTF-8") from None
    except RecursionError:
        raise ConsensusMessageError(f"{what}: JSON nested too deeply") from None
    except ConsensusMessageError as exc:
        raise ConsensusMessageError(f"{what}: {exc}") from None
    except ValueError as exc:  # JSONDecodeError, and ints longer than Python's digit limit
        pos = getattr(exc, "pos", None)
        where = f" at byte {pos}" if isinstance(pos, int) else ""
        raise ConsensusMessageError(f"{what}: invalid JSON{where}") from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise ConsensusMessageError(f"duplicate key {key!r}")
        doc[key] = value
    return doc


def _no_constants(name: str) -> Any:
    raise ConsensusMessageError(f"{name} is not allowed")


def expect_object(doc: Any, keys: Iterable[str], what: str) -> dict[str, Any]:
    """``doc`` must be a JSON object with exactly ``keys``."""
    wanted = set(keys)
    if not isinstance(doc, dict):
        raise ConsensusMessageError(f"{what}: expected a JSON object, got {_kind(doc)}")
    if set(doc) != wanted:
        missing, extra = sorted(wanted - set(doc)), sorted(str(k) for k in set(doc) - wanted)
        parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else [])
        raise ConsensusMessageError(f"{what}: {', '.join(parts)} (expected exactly {sorted(wanted)})")
    return doc


def read_int(doc: dict[str, Any], key: str, lo: int, hi: int, what: str) -> int:
    value = doc[key]
    if type(value) is not int:  # bool is an int subclass: refuse it too
        raise ConsensusMessageError(f"{what}.{key}: expected an integer, got {_kind(value)}")
    if not lo <= value <= hi:
        raise ConsensusMessageError(f"{what}.{key}: {value} is out of range {lo}..{hi}")
    return value


def read_str(doc: dict[str, Any], key: str, what: str, max_len: int) -> str:
    value = doc[key]
    if not isinstance(value, str):
        raise ConsensusMessageError(f"{what}.{key}: expected a string, got {_kind(value)}")
    if len(value) > max_len:
        raise ConsensusMessageError(f"{what}.{key}: longer than {max_len} characters")
    return value


def read_hex(doc: dict[str, Any], key: str, what: str, sizes: Iterable[int]) -> bytes:
    """Lowercase hex of one of the allowed byte ``sizes`` (0 allows the empty string)."""
    sizes = tuple(sizes)
    value = doc[key]
    if not isinstance(value, str):
        raise ConsensusMessageError(f"{what}.{key}: expected a hex string, got {_kind(value)}")
    if len(value) % 2 or len(value) // 2 not in sizes or not _HEX_RE.fullmatch(value):
        raise ConsensusMessageError(f"{what}.{key}: expected lowercase hex of {_sizes(sizes)} bytes")
    return bytes.fromhex(value)


def read_optional_hash(doc: dict[str, Any], key: str, what: str) -> bytes | None:
    """A block hash, or null for nil."""
    if doc[key] is None:
        return None
    return read_hex(doc, key, what, (HASH_BYTES,))


def read_b64(doc: dict[str, Any], key: str, what: str, size: int | None = None, max_len: int = MAX_MESSAGE_BYTES) -> bytes:
    value = doc[key]
    if not isinstance(value, str):
        raise ConsensusMessageError(f"{what}.{key}: expected a base64 string, got {_kind(value)}")
    if len(value) > max_len * 4 // 3 + 4:
        raise ConsensusMessageError(f"{what}.{key}: longer than {max_len} bytes")
    try:
        data = b64decode(value)
    except DecodeError as exc:
        raise ConsensusMessageError(f"{what}.{key}: {exc}") from None
    if size is not None and len(data) != size:
        raise ConsensusMessageError(f"{what}.{key}: expected {size} bytes, got {len(data)}")
    return data


def read_list(doc: dict[str, Any], key: str, what: str) -> list[Any]:
    value = doc[key]
    if not isinstance(value, list):
        raise ConsensusMessageError(f"{what}.{key}: expected a list, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _sizes(sizes: tuple[int, ...]) -> str:
    if len(sizes) > 2 and sizes == tuple(range(sizes[0], sizes[-1] + 1)):
        return f"{sizes[0]}..{sizes[-1]}"
    return " or ".join(str(s) for s in sizes)


def hash_hex(block_hash: bytes | None) -> str:
    """Hex of a block hash; nil is the empty string (sign bytes)."""
    return "" if block_hash is None else block_hash.hex()


def _check_common(what: str, height: Any, round_: Any, timestamp_ns: Any) -> None:
    for name, value, lo, hi in (("height", height, 1, MAX_HEIGHT), ("round", round_, 0, MAX_ROUND),
                                ("timestamp_ns", timestamp_ns, 0, MAX_TIMESTAMP_NS)):
        if type(value) is not int or not lo <= value <= hi:
            raise ConsensusMessageError(f"{what}: {name} must be an integer in {lo}..{hi}, got {value!r}")


def _check_bytes(what: str, name: str, value: Any, sizes: tuple[int, ...]) -> None:
    if not isinstance(value, bytes) or len(value) not in sizes:
        raise ConsensusMessageError(f"{what}: {name} must be {_sizes(sizes)} bytes")


# -- votes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Vote:
    """A validator's prevote or precommit for a block hash (None = nil) at (height, round)."""

    type: int
    height: int
    round: int
    block_hash: bytes | None
    timestamp_ns: int
    validator: bytes
    signature: bytes = b""

    def sign_bytes(self, chain_id: str) -> bytes:
        """What the validator signs: the chain, the vote's type, position, block and time (not its address)."""
        return canonical_json({"chain_id": chain_id, "type": self.type, "height": self.height, "round": self.round,
                               "block_hash": hash_hex(self.block_hash), "timestamp_ns": self.timestamp_ns})

    def with_signature(self, sig: bytes) -> Vote:
        return dataclasses.replace(self, signature=sig)

    def validate_basic(self) -> None:
        """Field types, ranges and lengths, signature present; raises ConsensusMessageError."""
        if self.type not in VOTE_TYPES:
            raise ConsensusMessageError(f"vote: type must be {PREVOTE} (prevote) or {PRECOMMIT} (precommit), "
                                        f"got {self.type!r}")
        _check_common("vote", self.height, self.round, self.timestamp_ns)
        if self.block_hash is not None:
            _check_bytes("vote", "block_hash", self.block_hash, (HASH_BYTES,))
        _check_bytes("vote", "validator", self.validator, (ADDRESS_BYTES,))
        _check_bytes("vote", "signature", self.signature, (SIGNATURE_BYTES,))

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "height": self.height, "round": self.round,
                "block_hash": None if self.block_hash is None else self.block_hash.hex(),
                "timestamp_ns": self.timestamp_ns, "validator": self.validator.hex(),
                "signature": b64encode(self.signature)}

    @classmethod
    def from_json(cls, doc: Any) -> Vote:
        what = "vote"
        doc = expect_object(doc, ("type", "height", "round", "block_hash", "timestamp_ns", "validator", "signature"),
                            what)
        type_ = read_int(doc, "type", 0, 255, what)
        if type_ not in VOTE_TYPES:
            raise ConsensusMessageError(f"vote.type: must be {PREVOTE} (prevote) or {PRECOMMIT} (precommit), "
                                        f"got {type_}")
        vote = cls(type=type_, height=read_int(doc, "height", 1, MAX_HEIGHT, what),
                   round=read_int(doc, "round", 0, MAX_ROUND, what),
                   block_hash=read_optional_hash(doc, "block_hash", what),
                   timestamp_ns=read_int(doc, "timestamp_ns", 0, MAX_TIMESTAMP_NS, what),
                   validator=read_hex(doc, "validator", what, (ADDRESS_BYTES,)),
                   signature=read_b64(doc, "signature", what, SIGNATURE_BYTES))
        vote.validate_basic()
        return vote

    def encode(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def decode(cls, raw: bytes) -> Vote:
        return cls.from_json(parse_json(raw, MAX_MESSAGE_BYTES, "vote"))


# -- proposals --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Proposal:
    """The round's proposer proposes ``block_hash``; ``pol_round`` is the round of its polka, or -1."""

    height: int
    round: int
    pol_round: int
    block_hash: bytes
    timestamp_ns: int
    signature: bytes = b""

    def sign_bytes(self, chain_id: str) -> bytes:
        return canonical_json({"chain_id": chain_id, "type": PROPOSAL, "height": self.height, "round": self.round,
                               "pol_round": self.pol_round, "block_hash": self.block_hash.hex(),
                               "timestamp_ns": self.timestamp_ns})

    def with_signature(self, sig: bytes) -> Proposal:
        return dataclasses.replace(self, signature=sig)

    def validate_basic(self) -> None:
        _check_common("proposal", self.height, self.round, self.timestamp_ns)
        if type(self.pol_round) is not int or not -1 <= self.pol_round < self.round:
            raise ConsensusMessageError(f"proposal: pol_round must be -1 or 0..round-1 ({self.round - 1}), "
                                        f"got {self.pol_round!r}")
        _check_bytes("proposal", "block_hash", self.block_hash, (HASH_BYTES,))
        _check_bytes("proposal", "signature", self.signature, (SIGNATURE_BYTES,))

    def to_json(self) -> dict[str, Any]:
        return {"height": self.height, "round": self.round, "pol_round": self.pol_round,
                "block_hash": self.block_hash.hex(), "timestamp_ns": self.timestamp_ns,
                "signature": b64encode(self.signature)}

    @classmethod
    def from_json(cls, doc: Any) -> Proposal:
        what = "proposal"
        doc = expect_object(doc, ("height", "round", "pol_round", "block_hash", "timestamp_ns", "signature"), what)
        round_ = read_int(doc, "round", 0, MAX_ROUND, what)
        proposal = cls(height=read_int(doc, "height", 1, MAX_HEIGHT, what), round=round_,
                       pol_round=read_int(doc, "pol_round", -1, max(round_ - 1, -1), what),
                       block_hash=read_hex(doc, "block_hash", what, (HASH_BYTES,)),
                       timestamp_ns=read_int(doc, "timestamp_ns", 0, MAX_TIMESTAMP_NS, what),
                       signature=read_b64(doc, "signature", what, SIGNATURE_BYTES))
        proposal.validate_basic()
        return proposal

    def encode(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def decode(cls, raw: bytes) -> Proposal:
        return cls.from_json(parse_json(raw, MAX_MESSAGE_BYTES, "proposal"))


# -- commits ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CommitSig:
    """One validator's precommit inside a commit: the rest of the vote is the commit's."""

    validator: bytes
    timestamp_ns: int
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {"validator": self.validator.hex(), "timestamp_ns": self.timestamp_ns,
                "signature": b64encode(self.signature)}

    @classmethod
    def from_json(cls, doc: Any) -> CommitSig:
        what = "commit signature"
        doc = expect_object(doc, ("validator", "timestamp_ns", "signature"), what)
        return cls(validator=read_hex(doc, "validator", what, (ADDRESS_BYTES,)),
                   timestamp_ns=read_int(doc, "timestamp_ns", 0, MAX_TIMESTAMP_NS, what),
                   signature=read_b64(doc, "signature", what, SIGNATURE_BYTES))


@dataclass(frozen=True)
class Commit:
    """+2/3 precommits for ``block_hash`` at (height, round): the proof a block was decided.

    ``signatures`` are sorted by validator address without duplicates (``from_json`` insists;
    ``verify_commit`` checks again for commits built in-process)."""

    height: int
    round: int
    block_hash: bytes
    signatures: tuple[CommitSig, ...]

    def votes(self) -> list[Vote]:
        """The PRECOMMIT votes the commit carries, ready to verify one by one."""
        return [Vote(PRECOMMIT, self.height, self.round, self.block_hash, sig.timestamp_ns, sig.validator,
                     sig.signature) for sig in self.signatures]

    def hash(self) -> bytes:
        return sha256(canonical_json(self.to_json()))

    def to_json(self) -> dict[str, Any]:
        return {"height": self.height, "round": self.round, "block_hash": self.block_hash.hex(),
                "signatures": [sig.to_json() for sig in self.signatures]}

    @classmethod
    def from_json(cls, doc: Any) -> Commit:
        what = "commit"
        doc = expect_object(doc, ("height", "round", "block_hash", "signatures"), what)
        height = read_int(doc, "height", 1, MAX_HEIGHT, what)
        round_ = read_int(doc, "round", 0, MAX_ROUND, what)
        block_hash = read_hex(doc, "block_hash", what, (HASH_BYTES,))
        raw_sigs = read_list(doc, "signatures", what)
        if not raw_sigs:
            raise ConsensusMessageError("commit: no signatures")
        sigs = tuple(CommitSig.from_json(item) for item in raw_sigs)
        for before, after in zip(sigs, sigs[1:]):
            if before.validator >= after.validator:
                raise ConsensusMessageError("commit: signatures must be sorted by validator address without "
                                            f"duplicates ({before.validator.hex()} then {after.validator.hex()})")
        return cls(height, round_, block_hash, sigs)
