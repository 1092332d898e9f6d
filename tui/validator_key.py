"""A consensus key and a moniker as the valset accepts them, checked before anything is signed.

The key comes from a CometBFT priv_validator_key.json or is pasted as base64; either way it must be
32 bytes that decode to a usable ed25519 point. The moniker follows the valset's own limits."""
from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import nacl.bindings

from chain.codec import DecodeError, b64decode, b64encode
from chain.crypto.keyfiles import KeyFileError, KeyFilePermissionWarning, load_validator_key

from .errors import ActionError

MONIKER_MAX_BYTES = 70          # the valset's MAX_MONIKER_LEN (UTF-8 bytes)
PUBKEY_SIZE = 32
MAX_SOURCE_CHARS = 4096         # longer than any path or key: refused before touching the disk
_INVISIBLE = {"\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


def _shown(text: str, limit: int = 48) -> str:
    """User input quoted for an error message, cut short so a pasted novel stays one line."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def check_pubkey_b64(text: str) -> str:
    """``text`` as the valset wants a consensus key: strict base64 of 32 bytes that decode to a curve point."""
    text = text.strip() if isinstance(text, str) else ""
    try:
        raw = b64decode(text) if text else b""
    except DecodeError:
        raise ActionError(f"{_shown(text)} is not base64: give the 44-character base64 ed25519 public key "
                          "(pub_key.value of priv_validator_key.json) or a path to that file") from None
    if len(raw) != PUBKEY_SIZE:
        raise ActionError(f"an ed25519 public key is {PUBKEY_SIZE} bytes, {_shown(text)} is {len(raw)}: "
                          "copy pub_key.value of priv_validator_key.json whole")
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(raw):
        raise ActionError(f"{_shown(text)} is 32 bytes but not a usable ed25519 public key (not a point of "
                          "the curve, or a small-order one): use the key CometBFT or `conclave` generated")
    return text


def validator_pubkey(source: str) -> str:
    """The base64 consensus key a member names: a path to a CometBFT priv_validator_key.json, or the key itself.

    An existing path is read as a key file (only regular files: a directory or a FIFO is refused rather
    than read or waited on); anything else must be the base64 key."""
    text = source.strip() if isinstance(source, str) else ""
    if not text:
        raise ActionError("give a path to a priv_validator_key.json, or a base64 ed25519 public key")
    if len(text) > MAX_SOURCE_CHARS:
        raise ActionError(f"{len(text)} characters is neither a file path nor a public key: "
                          "give a path to priv_validator_key.json or the base64 key")
    path = Path(text).expanduser()
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):        # no such file, a name too long, a NUL byte: maybe it is the key
        mode = None
    if mode is None:
        if (os.sep in text and not text.endswith("=")) or text.endswith(".json") or text.startswith(("~", ".")):
            raise ActionError(f"no key file at {path}: give the path to priv_validator_key.json "
                              "(usually NODE_HOME/config/priv_validator_key.json) or the base64 key")
        return check_pubkey_b64(text)
    if stat.S_ISDIR(mode):
        raise ActionError(f"{path} is a directory: give the key file in it, e.g. "
                          f"{path / 'config' / 'priv_validator_key.json'}")
    if not stat.S_ISREG(mode):
        raise ActionError(f"{path} is not a regular file: give the path to priv_validator_key.json")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", KeyFilePermissionWarning)   # only the public half is used here
            key = load_validator_key(path)
    except KeyFileError as exc:
        raise ActionError(str(exc)) from None
    return b64encode(key.pubkey)


def check_moniker(text: str) -> str:
    """The moniker trimmed, if the valset takes it (1-70 UTF-8 bytes) and it shows as what it says.

    Control and bidirectional-override characters are refused: a moniker is shown on every member's
    screen, and must not move the cursor or reverse the text around it."""
    import unicodedata

    moniker = text.strip() if isinstance(text, str) else ""
    if not moniker:
        raise ActionError(f"the moniker is empty: name your validator (1 to {MONIKER_MAX_BYTES} bytes)")
    size = len(moniker.encode("utf-8", "surrogatepass"))
    if size > MONIKER_MAX_BYTES:
        raise ActionError(f"the moniker is {size} bytes; the valset takes at most {MONIKER_MAX_BYTES} (UTF-8)")
    bad = next((c for c in moniker if unicodedata.category(c) in ("Cc", "Cs") or c in _INVISIBLE), None)
    if bad is not None:
        raise ActionError(f"the moniker contains the control character U+{ord(bad):04X}: use visible "
                          "characters only")
    return moniker
