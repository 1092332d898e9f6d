"""A node's two key files in CometBFT's format: node_key.json (p2p identity) and priv_validator_key.json.

CometBFT's format is kept so operators can read, back up and reuse the files with the tools
they know::

    HOME/config/node_key.json
      {"priv_key": {"type": "tendermint/PrivKeyEd25519", "value": b64(seed32 || pubkey32)}}

    HOME/config/priv_validator_key.json
      {"address": HEX(sha256(pubkey)[:20]) uppercase,
       "pub_key":  {"type": "tendermint/PubKeyEd25519",  "value": b64(pubkey32)},
       "priv_key": {"type": "tendermint/PrivKeyEd25519", "value": b64(seed32 || pubkey32)}}

A node's id (what peers write before the "@" in "<node_id>@host:port") is
sha256(node pubkey)[:20] in lowercase hex. Files are written with mode 0600, atomically, and
never over an existing key (replacing a validator's key loses its identity, or worse). Loading is
strict: every field, type string, length and the seed/pubkey/address agreement is checked, so a
damaged or hand-edited file is a clear KeyFileError, never a different key. A file readable by
others still loads (with a warning): the operator has to fix it, not the node refuse to start.
"""
from __future__ import annotations

import json
import os
import stat
import warnings
from pathlib import Path

from . import sha256
from .keys import PUBKEY_BYTES, SEED_BYTES, PrivateKey, write_private_file
from ..codec import DecodeError, b64decode, b64encode

__all__ = [
    "KeyFileError", "KeyFilePermissionWarning", "PRIVKEY_TYPE", "PUBKEY_TYPE", "FILE_MODE",
    "node_id", "validator_address", "write_node_key", "load_node_key", "write_validator_key",
    "load_validator_key",
]

PRIVKEY_TYPE = "tendermint/PrivKeyEd25519"
PUBKEY_TYPE = "tendermint/PubKeyEd25519"
FILE_MODE = 0o600
ID_BYTES = 20
MAX_FILE_BYTES = 16 * 1024          # a key file is ~350 bytes; anything this large is not one


class KeyFileError(ValueError):
    """A key file could not be read, parsed or written; the message names the file and what to do."""


class KeyFilePermissionWarning(UserWarning):
    """A key file others may read: it still loads, but its secret is exposed."""


def node_id(pubkey: bytes) -> str:
    """The p2p identity of a node key: sha256(pubkey)[:20] as lowercase hex (CometBFT's node ID)."""
    _check_pubkey(pubkey)
    return sha256(pubkey)[:ID_BYTES].hex()


def validator_address(pubkey: bytes) -> str:
    """A consensus key's address as CometBFT prints it: sha256(pubkey)[:20] as uppercase hex."""
    _check_pubkey(pubkey)
    return sha256(pubkey)[:ID_BYTES].hex().upper()


def write_node_key(path: str | os.PathLike[str], key: PrivateKey) -> None:
    """Write ``key`` as a new node_key.json (mode 0600); an existing file is never replaced."""
    _write_new(Path(path), {"priv_key": _privkey_json(key)})


def write_validator_key(path: str | os.PathLike[str], key: PrivateKey) -> None:
    """Write ``key`` as a new priv_validator_key.json (mode 0600); an existing file is never replaced."""
    doc = {"address": validator_address(key.pubkey),
           "pub_key": {"type": PUBKEY_TYPE, "value": b64encode(key.pubkey)},
           "priv_key": _privkey_json(key)}
    _write_new(Path(path), doc)


def load_node_key(path: str | os.PathLike[str]) -> PrivateKey:
    """The node key in a node_key.json, every field checked."""
    path = Path(path)
    doc = _read(path)
    _expect_fields(path, doc, {"priv_key"}, "")
    return _parse_privkey(path, doc["priv_key"])


def load_validator_key(path: str | os.PathLike[str]) -> PrivateKey:
    """The consensus key in a priv_validator_key.json; its pub_key and address must agree with it."""
    path = Path(path)
    doc = _read(path)
    _expect_fields(path, doc, {"address", "pub_key", "priv_key"}, "")
    key = _parse_privkey(path, doc["priv_key"])
    pub = doc["pub_key"]
    _expect_fields(path, pub, {"type", "value"}, "pub_key")
    if pub["type"] != PUBKEY_TYPE:
        raise _damaged(path, f"pub_key.type is {_short(pub['type'])}, expected {PUBKEY_TYPE!r}")
    pubkey = _decode(path, pub["value"], "pub_key.value", PUBKEY_BYTES)
    if pubkey != key.pubkey:
        raise _damaged(path, "pub_key does not belong to priv_key")
    expected = validator_address(key.pubkey)
    if doc["address"] != expected:
        raise _damaged(path, f"address is {_short(doc['address'])}, but the key's address is {expected}")
    return key


# --- parsing ---------------------------------------------------------------------------------

def _privkey_json(key: PrivateKey) -> dict[str, str]:
    return {"type": PRIVKEY_TYPE, "value": b64encode(key.seed + key.pubkey)}


def _parse_privkey(path: Path, value: object) -> PrivateKey:
    _expect_fields(path, value, {"type", "value"}, "priv_key")
    assert isinstance(value, dict)
    if value["type"] != PRIVKEY_TYPE:
        raise _damaged(path, f"priv_key.type is {_short(value['type'])}, expected {PRIVKEY_TYPE!r} "
                             "(only ed25519 keys are supported)")
    raw = _decode(path, value["value"], "priv_key.value", SEED_BYTES + PUBKEY_BYTES)
    key = PrivateKey.from_seed(raw[:SEED_BYTES])
    if key.pubkey != raw[SEED_BYTES:]:
        raise _damaged(path, "priv_key.value's public half does not match its seed")
    return key


def _decode(path: Path, text: object, field: str, size: int) -> bytes:
    try:
        raw = b64decode(text) if isinstance(text, str) else None
    except DecodeError as exc:
        raise _damaged(path, f"{field}: {exc}") from None
    if raw is None:
        raise _damaged(path, f"{field} must be a base64 string")
    if len(raw) != size:
        raise _damaged(path, f"{field} is {len(raw)} bytes, expected {size}")
    return raw


def _expect_fields(path: Path, value: object, names: set[str], where: str) -> None:
    label = where or "the file"
    if not isinstance(value, dict):
        raise _damaged(path, f"{label} must be a JSON object with {sorted(names)}")
    if set(value) != names:
        missing, extra = sorted(names - set(value)), sorted(set(value) - names)
        parts = ([f"missing {missing}"] if missing else []) + ([f"unknown {extra}"] if extra else [])
        raise _damaged(path, f"{label}: {', '.join(parts)} (expected exactly {sorted(names)})")


def _check_pubkey(pubkey: bytes) -> None:
    if not isinstance(pubkey, bytes) or len(pubkey) != PUBKEY_BYTES:
        raise ValueError(f"an ed25519 public key is {PUBKEY_BYTES} bytes")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _damaged(path: Path, what: str) -> KeyFileError:
    return KeyFileError(f"key file {path} is damaged: {what}; restore it from a backup")


# --- files -----------------------------------------------------------------------------------

def _read(path: Path) -> object:
    try:
        with open(path, "rb") as fh:
            mode = stat.S_IMODE(os.fstat(fh.fileno()).st_mode)
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} not found") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    if mode & 0o077:
        warnings.warn(f"key file {path} has mode {mode:04o}: others may read the secret key; "
                      f"run `chmod 600 {path}`", KeyFilePermissionWarning, stacklevel=3)
    if len(raw) > MAX_FILE_BYTES:
        raise _damaged(path, f"larger than {MAX_FILE_BYTES} bytes")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _damaged(path, "not JSON") from None


def _write_new(path: Path, doc: dict[str, object]) -> None:
    """Write ``path`` atomically with mode 0600, refusing to replace a file."""
    try:
        write_private_file(path, (json.dumps(doc, indent=2) + "\n").encode())
    except FileExistsError:
        raise KeyFileError(f"key file {path} already exists: it is never overwritten; "
                           "delete it first if you really mean to replace the key") from None
    except OSError as exc:
        raise KeyFileError(f"cannot write key file {path}: {exc.strerror}") from None