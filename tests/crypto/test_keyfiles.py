"""CometBFT-format key files: node_key.json and priv_validator_key.json round trips, ids, damaged files."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from chain.crypto.keyfiles import (PRIVKEY_TYPE, PUBKEY_TYPE, KeyFileError, KeyFilePermissionWarning,
                                   load_node_key, load_validator_key, node_id, validator_address,
                                   write_node_key, write_validator_key)
from chain.crypto.keys import PrivateKey

SEED = bytes(range(32))
KEY = PrivateKey.from_seed(SEED)
OTHER = PrivateKey.from_seed(bytes(range(1, 33)))


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def node_file(tmp_path: Path) -> Path:
    path = tmp_path / "config" / "node_key.json"
    write_node_key(path, KEY)
    return path


@pytest.fixture
def validator_file(tmp_path: Path) -> Path:
    path = tmp_path / "config" / "priv_validator_key.json"
    write_validator_key(path, KEY)
    return path


def rewrite(path: Path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


# -- ids and addresses -------------------------------------------------------------------------

def test_node_id_and_validator_address_are_the_truncated_sha256_of_the_pubkey() -> None:
    digest = hashlib.sha256(KEY.pubkey).digest()[:20]
    assert node_id(KEY.pubkey) == digest.hex() and len(node_id(KEY.pubkey)) == 40
    assert validator_address(KEY.pubkey) == digest.hex().upper()
    with pytest.raises(ValueError, match="32 bytes"):
        node_id(b"\x01" * 31)


# -- round trips and the exact format ---------------------------------------------------------

def test_node_key_round_trip_in_cometbft_format(node_file: Path) -> None:
    assert mode(node_file) == 0o600
    doc = json.loads(node_file.read_text())
    assert doc == {"priv_key": {"type": PRIVKEY_TYPE, "value": b64(SEED + KEY.pubkey)}}
    loaded = load_node_key(node_file)
    assert loaded.seed == SEED and loaded.pubkey == KEY.pubkey


def test_validator_key_round_trip_in_cometbft_format(validator_file: Path) -> None:
    assert mode(validator_file) == 0o600
    doc = json.loads(validator_file.read_text())
    assert doc == {"address": hashlib.sha256(KEY.pubkey).digest()[:20].hex().upper(),
                   "pub_key": {"type": PUBKEY_TYPE, "value": b64(KEY.pubkey)},
                   "priv_key": {"type": PRIVKEY_TYPE, "value": b64(SEED + KEY.pubkey)}}
    loaded = load_validator_key(validator_file)
    assert loaded.seed == SEED
    assert loaded.sign(b"vote") == KEY.sign(b"vote")


def test_mode_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_validator_key(tmp_path / "pv.json", KEY)
    finally:
        os.umask(old)
    assert mode(tmp_path / "pv.json") == 0o600


def test_an_existing_key_file_is_never_overwritten(node_file: Path, validator_file: Path) -> None:
    with pytest.raises(KeyFileError, match="already exists"):
        write_node_key(node_file, OTHER)
    with pytest.raises(KeyFileError, match="already exists"):
        write_validator_key(validator_file, OTHER)
    assert load_node_key(node_file).seed == SEED and load_validator_key(validator_file).seed == SEED
    assert sorted(p.name for p in node_file.parent.iterdir()) == ["node_key.json", "priv_validator_key.json"]


def test_loose_permissions_load_with_a_warning(validator_file: Path) -> None:
    os.chmod(validator_file, 0o644)
    with pytest.warns(KeyFilePermissionWarning, match="chmod 600"):
        assert load_validator_key(validator_file).seed == SEED


# -- bad files: every one a KeyFileError naming the problem -----------------------------------

def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="not found"):
        load_node_key(tmp_path / "nope.json")


@pytest.mark.parametrize("content, reason", [
    (b"", "not JSON"),
    (b"{not json", "not JSON"),
    (b"\xff\xfe\x00", "not JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b"[" * 100_000, "larger than"),
    (b'{"priv_key": {"type": "tendermint/PrivKeyEd25519"}}', "missing \\['value'\\]"),
    (b'{"priv_key": "abc"}', "priv_key must be a JSON object"),
    (b'{"priv_key": {"type": "tendermint/PrivKeySecp256k1", "value": "AA=="}}', "only ed25519"),
    (b'{"priv_key": {"type": "tendermint/PrivKeyEd25519", "value": "!!!"}}', "invalid base64"),
    (b'{"priv_key": {"type": "tendermint/PrivKeyEd25519", "value": 7}}', "must be a base64 string"),
    (b'{"priv_key": {"type": "tendermint/PrivKeyEd25519", "value": "AAAA"}}', "3 bytes, expected 64"),
])
def test_malformed_node_key_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "node_key.json"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match=reason) as info:
        load_node_key(path)
    assert str(path) in str(info.value)


def test_unknown_fields_are_refused(node_file: Path, validator_file: Path) -> None:
    rewrite(node_file, lambda doc: doc.update(extra=1))
    with pytest.raises(KeyFileError, match="unknown \\['extra'\\]"):
        load_node_key(node_file)
    rewrite(validator_file, lambda doc: doc["pub_key"].update(note="x"))
    with pytest.raises(KeyFileError, match="pub_key: unknown"):
        load_validator_key(validator_file)


def test_a_pubkey_half_not_matching_the_seed_is_refused(node_file: Path) -> None:
    rewrite(node_file, lambda doc: doc["priv_key"].update(value=b64(SEED + OTHER.pubkey)))
    with pytest.raises(KeyFileError, match="does not match its seed"):
        load_node_key(node_file)


def test_validator_pub_key_and_address_must_agree_with_the_key(validator_file: Path, tmp_path: Path) -> None:
    good = validator_file.read_text()
    rewrite(validator_file, lambda doc: doc["pub_key"].update(value=b64(OTHER.pubkey)))
    with pytest.raises(KeyFileError, match="pub_key does not belong to priv_key"):
        load_validator_key(validator_file)
    validator_file.write_text(good)
    rewrite(validator_file, lambda doc: doc.update(address=validator_address(KEY.pubkey).lower()))
    with pytest.raises(KeyFileError, match="the key's address is"):
        load_validator_key(validator_file)
    validator_file.write_text(good)
    rewrite(validator_file, lambda doc: doc["pub_key"].update(type="tendermint/PubKeySecp256k1"))
    with pytest.raises(KeyFileError, match="pub_key.type"):
        load_validator_key(validator_file)
    validator_file.write_text(good)
    rewrite(validator_file, lambda doc: doc["pub_key"].update(value=b64(KEY.pubkey[:31])))
    with pytest.raises(KeyFileError, match="31 bytes, expected 32"):
        load_validator_key(validator_file)


def test_a_node_key_is_not_a_validator_key(node_file: Path) -> None:
    with pytest.raises(KeyFileError, match="missing \\['address', 'pub_key'\\]"):
        load_validator_key(node_file)


def test_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(KeyFileError, match="cannot write key file"):
        write_node_key(blocker / "node_key.json", KEY)
