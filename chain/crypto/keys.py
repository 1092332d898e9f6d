"""Account keys: ed25519 signing keys and the keyring directory that keeps them on disk.

An account is an ed25519 key pair (PyNaCl); its address is bech32(prefix, sha256(pubkey)[:20]).

The keyring is a directory (mode 0700) holding one JSON file per key, ``<name>.json``, mode
0600, written atomically (temporary file, fsync, hard link into place, so a crash never leaves
half a key and an existing key is never overwritten). A key file is one JSON object::

    {
      "format": "conclave-key/1",
      "name": "alice",
      "address": "conclave1...",            # bech32 of sha256(pubkey)[:20]
      "pubkey": "<base64, 32 bytes>",
      "seed": "<base64, 32 bytes>"           # unencrypted key: the ed25519 seed
    }

or, for a key added with a passphrase, ``"encrypted"`` instead of ``"seed"``::

      "encrypted": {
        "kdf": "argon2id", "opslimit": 3, "memlimit": 268435456,
        "salt": "<base64, 16 bytes>",
        "cipher": "xsalsa20poly1305",        # PyNaCl SecretBox
        "nonce": "<base64, 24 bytes>",
        "ciphertext": "<base64 of the sealed 32-byte seed>"
      }

The secret key is argon2id(passphrase, salt) (libsodium's "moderate" limits by default). Name,
address and pubkey stay readable so ``list`` and ``show`` need no passphrase; on every load the
seed is checked to produce the stored pubkey and the pubkey the stored address, so a garbled or
tampered file is an error, never a different key. Nothing here logs or prints a secret, and
``repr`` of a private key shows only its public half.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.signing
import nacl.utils

from . import AddressError, account_address, encode_address
from ..codec import DecodeError, b64decode, b64encode

__all__ = [
    "PUBKEY_BYTES", "SEED_BYTES", "SIGNATURE_BYTES", "DEFAULT_PREFIX",
    "PrivateKey", "verify", "address_of", "KeyInfo", "Keyring", "KeyringError",
]

PUBKEY_BYTES = 32
SEED_BYTES = 32
SIGNATURE_BYTES = 64
DEFAULT_PREFIX = "conclave"

FILE_FORMAT = "conclave-key/1"
KDF_NAME = "argon2id"
CIPHER_NAME = "xsalsa20poly1305"
KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_MODERATE   # 3 passes
KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_MODERATE   # 256 MiB
# A key file names its own KDF cost; beyond libsodium's "sensitive" limits it is refused
# rather than letting a hostile file make us allocate without bound.
MAX_KDF_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
MAX_KDF_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE
MAX_KEY_FILE_BYTES = 64 * 1024
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")   # no "/", no leading "." or "-"
FILE_MODE = 0o600
DIR_MODE = 0o700
SUFFIX = ".json"

_FIELDS_PLAIN = {"format", "name", "address", "pubkey", "seed"}
_FIELDS_ENCRYPTED = {"format", "name", "address", "pubkey", "encrypted"}
_FIELDS_SEALED = {"kdf", "opslimit", "memlimit", "salt", "cipher", "nonce", "ciphertext"}


class KeyringError(Exception):
    """A key could not be created, read or unlocked; the message says which and what to do."""


class WrongPassphrase(KeyringError):
    """The passphrase does not open the key (a UI asks again rather than giving up)."""


class PrivateKey:
    """An ed25519 signing key. Keep it in memory only as long as needed."""

    __slots__ = ("_signing",)

    def __init__(self, signing: nacl.signing.SigningKey):
        self._signing = signing

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> PrivateKey:
        if not isinstance(seed, bytes) or len(seed) != SEED_BYTES:
            raise ValueError(f"an ed25519 seed is {SEED_BYTES} bytes")
        return cls(nacl.signing.SigningKey(seed))

    @property
    def seed(self) -> bytes:
        return bytes(self._signing)

    @property
    def pubkey(self) -> bytes:
        return bytes(self._signing.verify_key)

    def address(self, prefix: str = DEFAULT_PREFIX) -> str:
        return address_of(self.pubkey, prefix)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached ed25519 signature of ``message``."""
        return self._signing.sign(message).signature

    def __repr__(self) -> str:  # never the seed
        return f"PrivateKey(pubkey={b64encode(self.pubkey)})"


def verify(pubkey: bytes, message: bytes, signature: bytes) -> bool:
    """True if ``signature`` is a valid ed25519 signature of ``message`` by ``pubkey``.

    libsodium's verification refuses small-order public keys and non-canonical signatures.
    """
    if len(pubkey) != PUBKEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.signing.VerifyKey(pubkey).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, nacl.exceptions.TypeError):
        return False
    return True


def address_of(pubkey: bytes, prefix: str = DEFAULT_PREFIX) -> str:
    """The account address of an ed25519 public key (DESIGN.md): bech32(prefix, sha256(pubkey)[:20])."""
    return encode_address(prefix, account_address(pubkey))


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a stored key without unlocking it."""

    name: str
    address: str
    pubkey: bytes
    encrypted: bool

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "address": self.address, "pubkey": b64encode(self.pubkey),
                "encrypted": self.encrypted}


class Keyring:
    """A directory of key files. Create keys with ``add``, unlock them with ``load_signer``."""

    def __init__(self, path: str | os.PathLike[str], prefix: str = DEFAULT_PREFIX, *,
                 kdf_opslimit: int = KDF_OPSLIMIT, kdf_memlimit: int = KDF_MEMLIMIT):
        self.path = Path(path)
        self.prefix = prefix
        self.kdf_opslimit = kdf_opslimit
        self.kdf_memlimit = kdf_memlimit

    # -- public ----------------------------------------------------------------------------

    def add(self, name: str, passphrase: str | None = None, *, seed: bytes | None = None) -> KeyInfo:
        """Create a key (a fresh one, or from ``seed`` to import), encrypted if a passphrase is given."""
        file = self._file(name)
        key = PrivateKey.generate() if seed is None else PrivateKey.from_seed(seed)
        info = KeyInfo(name, key.address(self.prefix), key.pubkey, passphrase is not None)
        record: dict[str, object] = {"format": FILE_FORMAT, "name": name, "address": info.address,
                                     "pubkey": b64encode(info.pubkey)}
        if passphrase is None:
            record["seed"] = b64encode(key.seed)
        else:
            record["encrypted"] = self._seal(key.seed, passphrase)
        self._ensure_dir()
        if file.exists():
            raise KeyringError(f"a key named {name!r} already exists in {self.path}: choose another name "
                               "or delete the old key file first")
        try:
            write_private_file(file, json.dumps(record, indent=2).encode() + b"\n")
        except FileExistsError:
            raise KeyringError(f"a key named {name!r} already exists in {file.parent}") from None
        return info

    def list(self) -> list[KeyInfo]:
        """Every key in the directory, by name."""
        if not self.path.is_dir():
            return []
        names = sorted(p.name[:-len(SUFFIX)] for p in self.path.iterdir() if p.name.endswith(SUFFIX))
        return [self.show(name) for name in names if NAME_RE.match(name)]

    def show(self, name: str) -> KeyInfo:
        record = self._read(name)
        return KeyInfo(name, record["address"], b64decode(record["pubkey"]), "encrypted" in record)

    def load_signer(self, name: str, passphrase: str | None = None) -> PrivateKey:
        """Unlock a key. An encrypted key needs its passphrase; a wrong one is a KeyringError."""
        record = self._read(name)
        pubkey = b64decode(record["pubkey"])
        if "seed" in record:
            seed = b64decode(record["seed"])
        else:
            if passphrase is None:
                raise KeyringError(f"key {name!r} is encrypted: give its passphrase")
            seed = self._open(name, record["encrypted"], passphrase)
        if len(seed) != SEED_BYTES:
            raise KeyringError(f"key file for {name!r} is damaged: the seed is not {SEED_BYTES} bytes")
        key = PrivateKey.from_seed(seed)
        if key.pubkey != pubkey:
            raise KeyringError(f"key file for {name!r} is damaged: its seed does not match its pubkey")
        return key

    # -- files -----------------------------------------------------------------------------

    def _file(self, name: str) -> Path:
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise KeyringError(f"invalid key name {name!r}: use 1-64 letters, digits, '_', '-' or '.', "
                               "starting with a letter or digit")
        return self.path / (name + SUFFIX)

    def _ensure_dir(self) -> None:
        if not self.path.is_dir():
            self.path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            os.chmod(self.path, DIR_MODE)  # mkdir's mode is filtered by the umask

    def _read(self, name: str) -> dict[str, object]:
        file = self._file(name)
        try:
            with open(file, "rb") as fh:
                raw = fh.read(MAX_KEY_FILE_BYTES + 1)
        except FileNotFoundError:
            raise KeyringError(f"no key named {name!r} in {self.path}: `conclave keys list` shows the keys") from None
        except OSError as exc:
            raise KeyringError(f"cannot read key file {file}: {exc.strerror}") from None
        damaged = f"key file {file} is damaged"
        if len(raw) > MAX_KEY_FILE_BYTES:
            raise KeyringError(f"{damaged}: larger than {MAX_KEY_FILE_BYTES} bytes")
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise KeyringError(f"{damaged}: not JSON; restore it from a backup") from None
        if not isinstance(record, dict) or set(record) not in (_FIELDS_PLAIN, _FIELDS_ENCRYPTED):
            raise KeyringError(f"{damaged}: expected the fields {sorted(_FIELDS_PLAIN)} "
                               f"or {sorted(_FIELDS_ENCRYPTED)}")
        if record["format"] != FILE_FORMAT:
            raise KeyringError(f"{damaged}: unknown format {record['format']!r} (expected {FILE_FORMAT!r})")
        if record["name"] != name:
            raise KeyringError(f"{damaged}: it names the key {record['name']!r}, not {name!r}")
        try:
            pubkey = b64decode(record["pubkey"])
            if "seed" in record:
                b64decode(record["seed"])
        except DecodeError as exc:
            raise KeyringError(f"{damaged}: {exc}") from None
        if len(pubkey) != PUBKEY_BYTES:
            raise KeyringError(f"{damaged}: pubkey is not {PUBKEY_BYTES} bytes")
        try:
            expected = address_of(pubkey, self.prefix)
        except AddressError as exc:
            raise KeyringError(f"invalid address prefix {self.prefix!r}: {exc}") from None
        if record["address"] != expected:
            raise KeyringError(f"{damaged}: its address {record['address']!r} is not the address of its pubkey "
                               f"with prefix {self.prefix!r} ({expected})")
        if "encrypted" in record:
            _check_sealed(record["encrypted"], damaged)
        return record

    # -- encryption ------------------------------------------------------------------------

    def _seal(self, seed: bytes, passphrase: str) -> dict[str, object]:
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        box = nacl.secret.SecretBox(_derive(passphrase, salt, self.kdf_opslimit, self.kdf_memlimit))
        nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
        sealed = box.encrypt(seed, nonce)
        return {"kdf": KDF_NAME, "opslimit": self.kdf_opslimit, "memlimit": self.kdf_memlimit,
                "salt": b64encode(salt), "cipher": CIPHER_NAME, "nonce": b64encode(nonce),
                "ciphertext": b64encode(sealed.ciphertext)}

    def _open(self, name: str, sealed: dict[str, object], passphrase: str) -> bytes:
        key = _derive(passphrase, b64decode(sealed["salt"]), sealed["opslimit"], sealed["memlimit"])
        try:
            return nacl.secret.SecretBox(key).decrypt(b64decode(sealed["ciphertext"]), b64decode(sealed["nonce"]))
        except nacl.exceptions.CryptoError:
            raise WrongPassphrase(f"wrong passphrase for key {name!r} (or its key file's ciphertext is damaged)") from None


def _check_sealed(sealed: object, damaged: str) -> None:
    """Refuse an encrypted section with missing fields, other algorithms or unbounded KDF cost."""
    if not isinstance(sealed, dict) or set(sealed) != _FIELDS_SEALED:
        raise KeyringError(f"{damaged}: 'encrypted' must have the fields {sorted(_FIELDS_SEALED)}")
    if sealed["kdf"] != KDF_NAME or sealed["cipher"] != CIPHER_NAME:
        raise KeyringError(f"{damaged}: unsupported kdf/cipher {sealed['kdf']!r}/{sealed['cipher']!r}")
    ops, mem = sealed["opslimit"], sealed["memlimit"]
    if (type(ops) is not int or type(mem) is not int
            or not nacl.pwhash.argon2id.OPSLIMIT_MIN <= ops <= MAX_KDF_OPSLIMIT
            or not nacl.pwhash.argon2id.MEMLIMIT_MIN <= mem <= MAX_KDF_MEMLIMIT):
        raise KeyringError(f"{damaged}: argon2id limits out of range (opslimit {ops!r}, memlimit {mem!r})")
    try:
        sizes = {f: len(b64decode(sealed[f])) for f in ("salt", "nonce", "ciphertext")}
    except DecodeError as exc:
        raise KeyringError(f"{damaged}: {exc}") from None
    expected = {"salt": nacl.pwhash.argon2id.SALTBYTES, "nonce": nacl.secret.SecretBox.NONCE_SIZE,
                "ciphertext": SEED_BYTES + nacl.secret.SecretBox.MACBYTES}
    if sizes != expected:
        raise KeyringError(f"{damaged}: encrypted field sizes {sizes}, expected {expected}")


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    if not isinstance(passphrase, str):
        raise KeyringError("the passphrase must be text")
    return nacl.pwhash.argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt,
                                    opslimit=opslimit, memlimit=memlimit)


def write_private_file(file: Path, data: bytes) -> None:
    """Write ``file`` atomically with mode 0600 (temp file, fsync, hard link, directory fsync).

    Raises FileExistsError rather than replace a file (a key is never overwritten), OSError if it
    cannot be written. Shared by the keyring and the node's key files (keyfiles.py).
    """
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:     # something that is not a directory stands in the way: not "the key exists"
        raise NotADirectoryError(20, "Not a directory", str(file.parent)) from None
    tmp = file.with_name(f".{file.name}.{os.getpid()}.{nacl.utils.random(6).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        try:
            os.fchmod(fd, FILE_MODE)  # the umask may have narrowed O_CREAT's mode; make it exact
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, file)            # atomic, and never clobbers: a concurrent writer of the same name fails here
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(file.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)