"""ed25519 keys and the keyring directory: round trips, file permissions, passphrases, damaged files."""
from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import nacl.pwhash
import pytest

from chain.codec import b64decode, b64encode
from chain.crypto import account_address, decode_address
from chain.crypto.keys import KeyInfo, Keyring, KeyringError, PrivateKey, address_of, verify

# The cheapest argon2id settings, so the suite stays fast; one test uses the real defaults.
FAST = {"kdf_opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN, "kdf_memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN}
SEED = bytes(range(32))


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path / "keys", **FAST)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- keys ----------------------------------------------------------------------------------

def test_sign_and_verify_round_trip() -> None:
    key = PrivateKey.generate()
    sig = key.sign(b"hello")
    assert len(sig) == 64 and len(key.pubkey) == 32
    assert verify(key.pubkey, b"hello", sig)
    assert not verify(key.pubkey, b"hellp", sig)
    assert not verify(PrivateKey.generate().pubkey, b"hello", sig)
    assert not verify(key.pubkey, b"hello", sig[:-1] + bytes([sig[-1] ^ 1]))
    assert not verify(key.pubkey[:31], b"hello", sig)
    assert not verify(key.pubkey, b"hello", sig[:63])


def test_small_order_pubkey_never_verifies() -> None:
    identity = bytes([1]) + bytes(31)  # the neutral point: "signs" everything in naive verifiers
    assert not verify(identity, b"anything", bytes(64))


def test_seed_is_deterministic_and_address_follows_design() -> None:
    a, b = PrivateKey.from_seed(SEED), PrivateKey.from_seed(SEED)
    assert a.pubkey == b.pubkey and a.seed == SEED
    address = a.address("conclave")
    assert decode_address("conclave", address) == account_address(a.pubkey)
    assert address == address_of(a.pubkey)
    with pytest.raises(ValueError, match="32 bytes"):
        PrivateKey.from_seed(b"short")


def test_repr_never_shows_the_seed() -> None:
    key = PrivateKey.from_seed(SEED)
    assert SEED.hex() not in repr(key) and b64encode(SEED) not in repr(key)


# -- keyring -------------------------------------------------------------------------------

def test_add_show_list_load_round_trip(ring: Keyring) -> None:
    info = ring.add("alice")
    bob = ring.add("bob", seed=SEED)
    assert isinstance(info, KeyInfo) and not info.encrypted
    assert ring.show("alice") == info
    assert [k.name for k in ring.list()] == ["alice", "bob"]
    signer = ring.load_signer("alice")
    assert signer.pubkey == info.pubkey and signer.address() == info.address
    assert ring.load_signer("bob").seed == SEED and bob.pubkey == PrivateKey.from_seed(SEED).pubkey
    assert verify(info.pubkey, b"m", signer.sign(b"m"))


def test_files_are_0600_and_directory_0700(ring: Keyring) -> None:
    old = os.umask(0)  # even a permissive umask must not widen them
    try:
        ring.add("alice")
        ring.add("carol", "pw")
    finally:
        os.umask(old)
    assert mode(ring.path) == 0o700
    for name in ("alice", "carol"):
        assert mode(ring.path / f"{name}.json") == 0o600
    assert sorted(p.name for p in ring.path.iterdir()) == ["alice.json", "carol.json"]  # no temp files left


def test_file_format_is_documented_shape(ring: Keyring) -> None:
    ring.add("plain", seed=SEED)
    ring.add("locked", "correct horse", seed=SEED)
    plain = json.loads((ring.path / "plain.json").read_text())
    locked = json.loads((ring.path / "locked.json").read_text())
    assert set(plain) == {"format", "name", "address", "pubkey", "seed"}
    assert b64decode(plain["seed"]) == SEED
    assert set(locked) == {"format", "name", "address", "pubkey", "encrypted"}
    assert set(locked["encrypted"]) == {"kdf", "opslimit", "memlimit", "salt", "cipher", "nonce", "ciphertext"}
    assert locked["encrypted"]["kdf"] == "argon2id"
    raw = (ring.path / "locked.json").read_bytes()
    assert SEED not in raw and b64encode(SEED).encode() not in raw


def test_passphrase_round_trip_and_wrong_passphrase(ring: Keyring) -> None:
    info = ring.add("carol", "correct horse")
    assert info.encrypted and ring.show("carol").encrypted
    assert ring.load_signer("carol", "correct horse").pubkey == info.pubkey
    with pytest.raises(KeyringError, match="wrong passphrase for key 'carol'"):
        ring.load_signer("carol", "battery staple")
    with pytest.raises(KeyringError, match="encrypted: give its passphrase"):
        ring.load_signer("carol")


def test_default_kdf_limits_are_moderate(tmp_path: Path) -> None:
    ring = Keyring(tmp_path / "k")
    ring.add("dave", "pw")
    sealed = json.loads((ring.path / "dave.json").read_text())["encrypted"]
    assert (sealed["opslimit"], sealed["memlimit"]) == (nacl.pwhash.argon2id.OPSLIMIT_MODERATE,
                                                        nacl.pwhash.argon2id.MEMLIMIT_MODERATE)
    assert ring.load_signer("dave", "pw").pubkey == ring.show("dave").pubkey


def test_secrets_are_never_logged(ring: Keyring, caplog: pytest.LogCaptureFixture,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    ring.add("erin", "s3cret-pass", seed=SEED)
    ring.load_signer("erin", "s3cret-pass")
    with pytest.raises(KeyringError) as err:
        ring.load_signer("erin", "s3cret-wrong")
    out = caplog.text + "".join(capsys.readouterr())
    for secret in ("s3cret", SEED.hex(), b64encode(SEED)):
        assert secret not in out and secret not in str(err.value)


def test_duplicate_name_refused_and_original_kept(ring: Keyring) -> None:
    first = ring.add("alice")
    with pytest.raises(KeyringError, match="already exists"):
        ring.add("alice")
    assert ring.show("alice") == first


@pytest.mark.parametrize("name", ["", "../x", "..", ".", "a/b", "/etc/passwd", ".hidden", "-rf", "a" * 65,
                                  "sp ace", "nul\x00", "é", "a\\b"])
def test_bad_names_refused(ring: Keyring, name: str) -> None:
    with pytest.raises(KeyringError, match="invalid key name"):
        ring.add(name)
    with pytest.raises(KeyringError, match="invalid key name"):
        ring.load_signer(name)
    assert not (ring.path.parent / "x.json").exists()


def test_missing_key_is_a_clear_error(ring: Keyring) -> None:
    with pytest.raises(KeyringError, match="no key named 'nobody'"):
        ring.show("nobody")
    assert ring.list() == []


def _rewrite(ring: Keyring, name: str, change) -> None:
    path = ring.path / f"{name}.json"
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record))


GARBLINGS = {
    "not json": lambda p: p.write_bytes(b"{not json"),
    "binary": lambda p: p.write_bytes(os.urandom(64) + b"\xff"),
    "empty": lambda p: p.write_bytes(b""),
    "a list": lambda p: p.write_text("[]"),
    "huge": lambda p: p.write_bytes(b" " * 70_000),
}


@pytest.mark.parametrize("garble", list(GARBLINGS))
def test_garbled_file_is_a_clear_error(ring: Keyring, garble: str) -> None:
    ring.add("alice")
    GARBLINGS[garble](ring.path / "alice.json")
    for call in (lambda: ring.show("alice"), lambda: ring.load_signer("alice"), ring.list):
        with pytest.raises(KeyringError, match="alice.json is damaged"):
            call()


FIELD_DAMAGE = {
    "missing seed": (lambda r: r.pop("seed"), "expected the fields"),
    "extra field": (lambda r: r.update(extra=1), "expected the fields"),
    "bad base64": (lambda r: r.update(seed="@@@"), "invalid base64"),
    "short seed": (lambda r: r.update(seed=b64encode(b"x" * 31)), "not 32 bytes"),
    "other seed": (lambda r: r.update(seed=b64encode(b"\x07" * 32)), "does not match its pubkey"),
    "other pubkey": (lambda r: r.update(pubkey=b64encode(b"\x07" * 32)), "is not the address of its pubkey"),
    "wrong name": (lambda r: r.update(name="bob"), "names the key 'bob'"),
    "wrong format": (lambda r: r.update(format="v0"), "unknown format"),
}


@pytest.mark.parametrize("damage", list(FIELD_DAMAGE))
def test_damaged_fields_are_refused(ring: Keyring, damage: str) -> None:
    ring.add("alice")
    change, message = FIELD_DAMAGE[damage]
    _rewrite(ring, "alice", change)
    with pytest.raises(KeyringError, match=message):
        ring.load_signer("alice")


SEALED_DAMAGE = {
    "flipped ciphertext": (lambda s: s.update(ciphertext=b64encode(bytes(48))), "wrong passphrase"),
    "hostile memlimit": (lambda s: s.update(memlimit=1 << 40), "limits out of range"),
    "string opslimit": (lambda s: s.update(opslimit="3"), "limits out of range"),
    "other kdf": (lambda s: s.update(kdf="scrypt"), "unsupported kdf"),
    "short nonce": (lambda s: s.update(nonce=b64encode(b"n" * 8)), "field sizes"),
    "missing salt": (lambda s: s.pop("salt"), "must have the fields"),
}


@pytest.mark.parametrize("damage", list(SEALED_DAMAGE))
def test_damaged_encryption_is_refused(ring: Keyring, damage: str) -> None:
    ring.add("carol", "pw")
    change, message = SEALED_DAMAGE[damage]
    _rewrite(ring, "carol", lambda r: change(r["encrypted"]))
    with pytest.raises(KeyringError, match=message):
        ring.load_signer("carol", "pw")


def test_other_prefix_keyring_refuses_the_file(ring: Keyring) -> None:
    ring.add("alice")
    with pytest.raises(KeyringError, match="prefix 'other'"):
        Keyring(ring.path, "other").show("alice")
