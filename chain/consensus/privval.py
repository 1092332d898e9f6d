"""The validator's signer, which refuses to double-sign: it never signs below the last signed
(height, round, step), and at that same point it only repeats what it already signed.

The last signature is kept in ``HOME/data/priv_validator_state.json`` (mode 0600)::

    {"height": 12, "round": 0, "step": 2, "sign_bytes": "<base64>", "signature": "<base64>"}

(canonical JSON; step 1 = propose, 2 = prevote, 3 = precommit; height 0 / step 0 with empty
bytes means nothing was signed yet). The new state reaches the disk (temporary file, fsync,
rename, fsync of the directory) before ``sign`` hands out a signature, so a crash can never
let the node sign something that conflicts with a signature it already sent.

A missing file means a fresh validator and is created. A file that cannot be read, does not
parse, or does not belong to this key is an error, never a reset: resetting is exactly how
a validator double-signs. A lock file beside the state keeps two processes from signing with
the same state at once.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..codec import DecodeError, b64decode, b64encode, canonical_json
from ..crypto import sha256
from ..crypto.keys import SIGNATURE_BYTES, PrivateKey, verify

__all__ = [
    "STEP_PROPOSE", "STEP_PREVOTE", "STEP_PRECOMMIT",
    "DoubleSignError", "SignStateError", "SignState", "PrivValidator",
]

STEP_PROPOSE, STEP_PREVOTE, STEP_PRECOMMIT = 1, 2, 3
STEPS = (STEP_PROPOSE, STEP_PREVOTE, STEP_PRECOMMIT)
STEP_NAMES = {0: "nothing", STEP_PROPOSE: "propose", STEP_PREVOTE: "prevote", STEP_PRECOMMIT: "precommit"}
FIELDS = {"height", "round", "step", "sign_bytes", "signature"}
MAX_INT = (1 << 63) - 1              # int64, as heights and rounds are on the wire
MAX_SIGN_BYTES = 64 * 1024           # canonical vote/proposal sign bytes are a few hundred bytes
MAX_STATE_FILE_BYTES = 4 * MAX_SIGN_BYTES
FILE_MODE = 0o600

SameExceptTimestamp = Callable[[bytes, bytes], bool]


class DoubleSignError(Exception):
    """Signing this would contradict a signature this validator already gave."""


class SignStateError(Exception):
    """The signing state file cannot be read, trusted or written; the message says what to do."""


@dataclass(frozen=True)
class SignState:
    """The last (height, round, step) signed, with the bytes and signature given there."""

    height: int = 0
    round: int = 0
    step: int = 0
    sign_bytes: bytes = b""
    signature: bytes = b""

    @property
    def hrs(self) -> tuple[int, int, int]:
        return (self.height, self.round, self.step)

    @classmethod
    def load_or_create(cls, path: Path) -> SignState:
        """Read the state at ``path``; if there is no file, write a fresh one (height 0)."""
        path = Path(path)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            state = cls()
            state.save(path)
            return state
        except OSError as exc:
            raise SignStateError(f"cannot read the signing state {path}: {exc.strerror}; fix its "
                                 "permissions (never delete it: that allows double signing)") from exc
        try:
            with os.fdopen(fd, "rb") as f:
                data = f.read(MAX_STATE_FILE_BYTES + 1)
        except OSError as exc:
            raise SignStateError(f"cannot read the signing state {path}: {exc.strerror}") from exc
        if len(data) > MAX_STATE_FILE_BYTES:
            raise _damaged(path, f"larger than {MAX_STATE_FILE_BYTES} bytes")
        return cls.from_json_bytes(data, path)

    @classmethod
    def from_json_bytes(cls, data: bytes, path: Path | str = "<signing state>") -> SignState:
        """Parse and check a state file's contents; any doubt is a SignStateError."""
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise _damaged(path, "not valid JSON") from None
        if not isinstance(obj, dict) or set(obj) != FIELDS:
            raise _damaged(path, f"expected exactly the fields {sorted(FIELDS)}")
        for name in ("height", "round", "step"):
            value = obj[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
                raise _damaged(path, f"{name} must be an integer in 0..{MAX_INT}, got {value!r}")
        try:
            sign_bytes, signature = b64decode(obj["sign_bytes"]), b64decode(obj["signature"])
        except DecodeError as exc:
            raise _damaged(path, f"sign_bytes/signature: {exc}") from None
        state = cls(obj["height"], obj["round"], obj["step"], sign_bytes, signature)
        if state.hrs == (0, 0, 0):
            if sign_bytes or signature:
                raise _damaged(path, "height 0 (nothing signed) with sign bytes or a signature")
        elif state.height < 1 or state.step not in STEPS:
            raise _damaged(path, f"impossible height/round/step {state.hrs}")
        elif not sign_bytes or len(signature) != SIGNATURE_BYTES:
            raise _damaged(path, f"a signed state needs sign bytes and a {SIGNATURE_BYTES}-byte signature")
        return state

    def to_json_bytes(self) -> bytes:
        return canonical_json({
            "height": self.height, "round": self.round, "step": self.step,
            "sign_bytes": b64encode(self.sign_bytes), "signature": b64encode(self.signature),
        })

    def save(self, path: Path) -> None:
        """Replace the file at ``path`` atomically and durably (tmp, fsync, rename, fsync dir)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)
            try:
                os.fchmod(fd, FILE_MODE)  # O_CREAT's mode is narrowed by the umask, and an old tmp keeps its own
                view = memoryview(self.to_json_bytes())
                written = 0
                while written < len(view):
                    written += os.write(fd, view[written:])
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
            dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise SignStateError(f"cannot write the signing state {path}: {exc.strerror}; free disk "
                                 "space or fix permissions, then restart the node") from exc


class PrivValidator:
    """Signs proposals and votes with the validator's consensus key, guarded by SignState."""

    def __init__(self, key: PrivateKey, state_path: Path):
        self._key = key
        self.state_path = Path(state_path)
        self.pubkey: bytes = key.pubkey
        self.address: bytes = sha256(self.pubkey)[:20]
        self._mutex = threading.Lock()
        self._failed: str | None = None
        self._lock_fd: int | None = _lock(self.state_path)
        try:
            self._state = SignState.load_or_create(self.state_path)
            last = self._state
            if last.signature and not verify(self.pubkey, last.sign_bytes, last.signature):
                raise SignStateError(
                    f"the signing state {self.state_path} holds a signature that this validator key "
                    "did not make: it belongs to another key. Put back this key's own state file; "
                    "starting from an empty one while this key may have signed risks double-signing")
        except BaseException:
            self.close()
            raise

    @property
    def state(self) -> SignState:
        """The last signed state, as on disk."""
        return self._state

    def sign(self, height: int, round: int, step: int, sign_bytes: bytes,
             same_except_timestamp: SameExceptTimestamp | None = None) -> tuple[bytes, bytes]:
        """Sign ``sign_bytes`` for (height, round, step) unless that could double-sign.

        Returns (signature, sign bytes actually signed). At the last signed (h, r, s) the old
        signature is returned for identical bytes, and also - with the OLD bytes, which the
        caller must then use - when ``same_except_timestamp(old, new)`` says they differ only
        in their timestamp (a restarted node rebuilding its vote). Anything else at or below the
        last (h, r, s) raises DoubleSignError. A new signature is returned only once persisted.
        """
        _check_request(height, round, step, sign_bytes)
        with self._mutex:
            if self._failed is not None:
                raise SignStateError(f"signing is stopped: {self._failed}")
            if self._lock_fd is None:
                raise SignStateError("this PrivValidator is closed")
            last = self._state
            hrs = (height, round, step)
            if hrs < last.hrs:
                raise DoubleSignError(
                    f"refusing to sign {_describe(hrs)}: this validator already signed {_describe(last.hrs)}, "
                    "and signing an earlier step could contradict it. If this node's clock of heights is "
                    "behind, let it catch up; never delete the signing state to get past this")
            if hrs == last.hrs:
                if sign_bytes == last.sign_bytes:
                    return last.signature, last.sign_bytes
                if same_except_timestamp is not None and same_except_timestamp(last.sign_bytes, sign_bytes):
                    return last.signature, last.sign_bytes
                raise DoubleSignError(
                    f"refusing to sign different bytes at {_describe(hrs)}: this validator already "
                    "signed other contents there (conflicting votes are double signing); re-use the "
                    "signed message instead")
            signature = self._key.sign(sign_bytes)
            new = SignState(height, round, step, sign_bytes, signature)
            try:
                new.save(self.state_path)
            except SignStateError as exc:
                # The file may or may not hold the new state now: signing anything else could
                # contradict it, so this signer stops until the node restarts and reads the file.
                self._failed = str(exc)
                raise
            self._state = new
            return signature, sign_bytes

    def close(self) -> None:
        """Release the state lock (the process exiting does too). Safe to call twice."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> PrivValidator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PrivValidator(address={self.address.hex()}, last={_describe(self._state.hrs)})"


def _check_request(height: int, round: int, step: int, sign_bytes: bytes) -> None:
    for name, value, low in (("height", height, 1), ("round", round, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_INT:
            raise ValueError(f"{name} must be an integer in {low}..{MAX_INT}, got {value!r}")
    if isinstance(step, bool) or not isinstance(step, int) or step not in STEPS:
        raise ValueError(f"step must be STEP_PROPOSE, STEP_PREVOTE or STEP_PRECOMMIT (1, 2, 3), got {step!r}")
    if not isinstance(sign_bytes, bytes) or not sign_bytes:
        raise ValueError("sign_bytes must be non-empty bytes")
    if len(sign_bytes) > MAX_SIGN_BYTES:
        raise ValueError(f"sign_bytes of {len(sign_bytes)} bytes exceed the {MAX_SIGN_BYTES}-byte limit")


def _describe(hrs: tuple[int, int, int]) -> str:
    height, round_, step = hrs
    return f"height {height} round {round_} step {STEP_NAMES.get(step, step)}"


def _damaged(path: Path | str, what: str) -> SignStateError:
    return SignStateError(
        f"the signing state {path} is damaged ({what}). Refusing to start: an empty state would let "
        "this validator double-sign. Restore the file from a backup or, if you are sure this key "
        "never signed above a known height, write that state by hand")


def _lock(state_path: Path) -> int:
    path = state_path.with_name(state_path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        raise SignStateError(f"cannot create the signing lock {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise SignStateError(f"{state_path} is in use by another signer (it holds {path.name}); "
                                 "two processes signing with one key is how validators double-sign: "
                                 "stop the other one") from None
        raise SignStateError(f"cannot lock {path}: {exc.strerror}") from exc
    return fd
