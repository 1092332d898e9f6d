"""The double-sign guard: never below the last signed height/round/step, idempotent at it,
persisted durably before a signature is handed out, and never silently reset."""
from __future__ import annotations

import json
import os
import stat

import pytest

from chain.codec import b64decode, b64encode, canonical_json
from chain.consensus.privval import (STEP_PRECOMMIT, STEP_PREVOTE, STEP_PROPOSE, DoubleSignError,
                                     PrivValidator, SignState, SignStateError)
from chain.crypto import sha256
from chain.crypto.keys import PrivateKey, verify

KEY = PrivateKey.from_seed(bytes(range(32)))
OTHER_KEY = PrivateKey.from_seed(bytes(32))


def _bytes(height: int, round_: int, step: int, timestamp: int = 1000, block: str = "AA") -> bytes:
    return canonical_json({"height": height, "round": round_, "step": step, "block": block,
                           "timestamp_ns": timestamp})


def _same_except_timestamp(old: bytes, new: bytes) -> bool:
    a, b = json.loads(old), json.loads(new)
    a.pop("timestamp_ns"), b.pop("timestamp_ns")
    return a == b


def _on_disk(path) -> dict:
    return json.loads(path.read_bytes())


@pytest.fixture
def state_path(tmp_path):
    return tmp_path / "data" / "priv_validator_state.json"


@pytest.fixture
def pv(state_path):
    with PrivValidator(KEY, state_path) as pv:
        yield pv


def test_a_missing_file_is_a_fresh_validator(state_path, pv):
    assert pv.pubkey == KEY.pubkey and pv.address == sha256(KEY.pubkey)[:20]
    assert pv.state == SignState() and pv.state.hrs == (0, 0, 0)
    assert _on_disk(state_path) == {"height": 0, "round": 0, "step": 0, "sign_bytes": "", "signature": ""}


def test_monotonic_heights_rounds_and_steps(pv):
    sequence = [(1, 0, STEP_PROPOSE), (1, 0, STEP_PREVOTE), (1, 0, STEP_PRECOMMIT), (1, 1, STEP_PREVOTE),
                (1, 3, STEP_PROPOSE), (2, 0, STEP_PRECOMMIT), (10, 0, STEP_PROPOSE)]
    for hrs in sequence:
        message = _bytes(*hrs)
        signature, used = pv.sign(*hrs, message)
        assert used == message and verify(KEY.pubkey, message, signature)
        assert pv.state.hrs == hrs


def test_persisted_before_returning(state_path, pv):
    for hrs in [(5, 0, STEP_PREVOTE), (5, 2, STEP_PRECOMMIT), (6, 0, STEP_PROPOSE)]:
        signature, used = pv.sign(*hrs, _bytes(*hrs))
        disk = _on_disk(state_path)      # read straight after sign returns
        assert (disk["height"], disk["round"], disk["step"]) == hrs
        assert b64decode(disk["signature"]) == signature and b64decode(disk["sign_bytes"]) == used
    assert not state_path.with_name(state_path.name + ".tmp").exists()


def test_same_hrs_with_identical_bytes_returns_the_stored_signature(state_path, pv):
    message = _bytes(3, 1, STEP_PREVOTE)
    first = pv.sign(3, 1, STEP_PREVOTE, message)
    before = state_path.read_bytes()
    assert pv.sign(3, 1, STEP_PREVOTE, message) == first
    assert state_path.read_bytes() == before


def test_timestamp_only_difference_returns_the_old_signature_and_bytes(pv):
    old = _bytes(3, 0, STEP_PRECOMMIT, timestamp=1000)
    signature, _ = pv.sign(3, 0, STEP_PRECOMMIT, old)
    new = _bytes(3, 0, STEP_PRECOMMIT, timestamp=2000)
    assert pv.sign(3, 0, STEP_PRECOMMIT, new, _same_except_timestamp) == (signature, old)
    # Without the callback, or with a real difference, it is a conflicting vote.
    with pytest.raises(DoubleSignError, match="different bytes"):
        pv.sign(3, 0, STEP_PRECOMMIT, new)
    with pytest.raises(DoubleSignError, match="different bytes"):
        pv.sign(3, 0, STEP_PRECOMMIT, _bytes(3, 0, STEP_PRECOMMIT, block="BB"), _same_except_timestamp)
    assert pv.state.sign_bytes == old


@pytest.mark.parametrize("lower", [(4, 2, STEP_PREVOTE), (5, 1, STEP_PRECOMMIT), (5, 2, STEP_PROPOSE), (0, 9, 3)])
def test_lower_hrs_is_refused(state_path, pv, lower):
    pv.sign(5, 2, STEP_PREVOTE, _bytes(5, 2, STEP_PREVOTE))
    before = state_path.read_bytes()
    with pytest.raises((DoubleSignError, ValueError)) as err:
        pv.sign(*lower, _bytes(*lower))
    if lower[0] > 0:
        assert err.type is DoubleSignError
        assert "already signed height 5 round 2 step prevote" in str(err.value)
    assert state_path.read_bytes() == before and pv.state.hrs == (5, 2, STEP_PREVOTE)


def test_state_survives_reopen(state_path):
    with PrivValidator(KEY, state_path) as pv:
        signature, _ = pv.sign(7, 1, STEP_PRECOMMIT, _bytes(7, 1, STEP_PRECOMMIT))
    with PrivValidator(KEY, state_path) as pv:
        assert pv.state.hrs == (7, 1, STEP_PRECOMMIT)
        with pytest.raises(DoubleSignError):
            pv.sign(7, 1, STEP_PREVOTE, _bytes(7, 1, STEP_PREVOTE))
        with pytest.raises(DoubleSignError):
            pv.sign(7, 1, STEP_PRECOMMIT, _bytes(7, 1, STEP_PRECOMMIT, block="BB"))
        assert pv.sign(7, 1, STEP_PRECOMMIT, _bytes(7, 1, STEP_PRECOMMIT)) == (signature, _bytes(7, 1, STEP_PRECOMMIT))
        pv.sign(8, 0, STEP_PROPOSE, _bytes(8, 0, STEP_PROPOSE))


def test_file_mode_is_0600(state_path):
    old_umask = os.umask(0)
    try:
        with PrivValidator(KEY, state_path) as pv:
            assert stat.S_IMODE(state_path.stat().st_mode) == 0o600
            state_path.chmod(0o644)
            pv.sign(1, 0, STEP_PROPOSE, _bytes(1, 0, STEP_PROPOSE))
            assert stat.S_IMODE(state_path.stat().st_mode) == 0o600
    finally:
        os.umask(old_umask)


def test_a_second_signer_on_the_same_state_is_refused(state_path, pv):
    with pytest.raises(SignStateError, match="another signer"):
        PrivValidator(KEY, state_path)


def _signed_state(**overrides) -> dict:
    message = _bytes(2, 0, STEP_PREVOTE)
    good = {"height": 2, "round": 0, "step": STEP_PREVOTE, "sign_bytes": b64encode(message),
            "signature": b64encode(KEY.sign(message))}
    good.update(overrides)
    return good


CORRUPT = {
    "empty": b"",
    "garbage": b"\x00\xff garbage",
    "truncated": canonical_json(_signed_state())[:-5],
    "not an object": b"[1,2,3]",
    "missing field": canonical_json({k: v for k, v in _signed_state().items() if k != "round"}),
    "extra field": canonical_json(_signed_state(extra=1)),
    "negative height": canonical_json(_signed_state(height=-1)),
    "string height": canonical_json(_signed_state(height="2")),
    "bool round": canonical_json(_signed_state(round=True)),
    "float step": canonical_json(_signed_state(step=2.0)),
    "step out of range": canonical_json(_signed_state(step=4)),
    "huge height": canonical_json(_signed_state(height=1 << 64)),
    "bad base64": canonical_json(_signed_state(signature="not*base64")),
    "short signature": canonical_json(_signed_state(signature=b64encode(b"x" * 10))),
    "signed without bytes": canonical_json(_signed_state(sign_bytes="")),
    "height 0 with a signature": canonical_json(_signed_state(height=0, round=0, step=0)),
    "oversized": b'{"pad":"' + b"x" * (1 << 20) + b'"}',
    "another key's signature": canonical_json(_signed_state(
        signature=b64encode(OTHER_KEY.sign(_bytes(2, 0, STEP_PREVOTE))))),
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_a_corrupt_state_file_is_refused_not_reset(state_path, name):
    state_path.parent.mkdir(parents=True)
    state_path.write_bytes(CORRUPT[name])
    with pytest.raises(SignStateError) as err:
        PrivValidator(KEY, state_path)
    assert "double" in str(err.value)                  # says why it will not just start over
    assert state_path.read_bytes() == CORRUPT[name]    # and leaves the evidence alone
    # The refused signer released its lock: a repaired file opens.
    state_path.write_bytes(canonical_json(_signed_state()))
    with PrivValidator(KEY, state_path) as pv:
        assert pv.state.hrs == (2, 0, STEP_PREVOTE)


def test_an_unreadable_state_path_is_an_error(state_path):
    state_path.mkdir(parents=True)                     # a directory where the file should be
    with pytest.raises(SignStateError, match="cannot read"):
        PrivValidator(KEY, state_path)


def test_a_leftover_temporary_file_is_ignored_and_replaced(state_path, pv):
    tmp = state_path.with_name(state_path.name + ".tmp")
    tmp.write_bytes(b"half a write from a crash")
    tmp.chmod(0o644)
    pv.sign(1, 0, STEP_PREVOTE, _bytes(1, 0, STEP_PREVOTE))
    assert not tmp.exists() and _on_disk(state_path)["height"] == 1
    assert stat.S_IMODE(state_path.stat().st_mode) == 0o600


def test_a_failed_persist_stops_signing(state_path, pv):
    pv.sign(1, 0, STEP_PROPOSE, _bytes(1, 0, STEP_PROPOSE))
    blocker = state_path.with_name(state_path.name + ".tmp")
    blocker.mkdir()                                    # the atomic write cannot create its tmp file
    with pytest.raises(SignStateError, match="cannot write"):
        pv.sign(1, 0, STEP_PREVOTE, _bytes(1, 0, STEP_PREVOTE))
    blocker.rmdir()
    with pytest.raises(SignStateError, match="signing is stopped"):
        pv.sign(1, 0, STEP_PRECOMMIT, _bytes(1, 0, STEP_PRECOMMIT))
    assert _on_disk(state_path)["step"] == STEP_PROPOSE


@pytest.mark.parametrize("args", [
    (0, 0, STEP_PROPOSE, b"x"), (-1, 0, STEP_PROPOSE, b"x"), (1, -1, STEP_PROPOSE, b"x"),
    (1, 0, 0, b"x"), (1, 0, 4, b"x"), (1, 0, True, b"x"), (True, 0, 1, b"x"), (1.0, 0, 1, b"x"),
    (1, 0, STEP_PROPOSE, b""), (1, 0, STEP_PROPOSE, "text"), (1, 0, STEP_PROPOSE, b"x" * (1 << 20)),
    (1 << 63, 0, STEP_PROPOSE, b"x"),
])
def test_bad_arguments_are_refused(state_path, pv, args):
    with pytest.raises(ValueError):
        pv.sign(*args)
    assert pv.state.hrs == (0, 0, 0)


def test_closed_signer_refuses(state_path):
    pv = PrivValidator(KEY, state_path)
    pv.close()
    pv.close()
    with pytest.raises(SignStateError, match="closed"):
        pv.sign(1, 0, STEP_PROPOSE, b"x")
    assert "PrivValidator(address=" in repr(pv) and "seed" not in repr(pv)
