"""Hashing, bech32 addresses and ed25519 keys: the identities every layer speaks of."""
from __future__ import annotations

import hashlib
import struct

import bech32 as _bech32

__all__ = [
    "sha256", "AddressError", "encode_address", "decode_address",
    "module_address", "classic_contract_address", "predictable_contract_address",
    "account_address",
]

MAX_ADDRESS_BYTES = 255  # cosmos-sdk VerifyAddressFormat upper bound
MAX_BECH32_LENGTH = 256  # cosmwasm-vm human address limit


class AddressError(ValueError):
    """A human address that is not a valid bech32 address of this chain."""


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def encode_address(prefix: str, raw: bytes) -> str:
    if not 0 < len(raw) <= MAX_ADDRESS_BYTES:
        raise AddressError(f"canonical address must be 1..{MAX_ADDRESS_BYTES} bytes, got {len(raw)}")
    data = _bech32.convertbits(raw, 8, 5, True)
    return _bech32.bech32_encode(prefix, data)


def decode_address(prefix: str, address: str) -> bytes:
    """Decode a bech32 address, insisting on this chain's prefix and the lowercase normal form."""
    if not isinstance(address, str) or not address:
        raise AddressError("address is empty")
    if len(address) > MAX_BECH32_LENGTH:
        raise AddressError(f"address longer than {MAX_BECH32_LENGTH} characters")
    if address != address.lower():
        raise AddressError(f"address must be lowercase: {address}")
    hrp, data = _bech32_decode_any_length(address)
    if hrp is None or data is None:
        raise AddressError(f"invalid bech32 address: {address}")
    if hrp != prefix:
        raise AddressError(f"wrong address prefix: expected {prefix!r}, got {hrp!r}")
    raw = _bech32.convertbits(data, 5, 8, False)
    if raw is None or not 0 < len(raw) <= MAX_ADDRESS_BYTES:
        raise AddressError(f"invalid address payload: {address}")
    return bytes(raw)


def _bech32_decode_any_length(text: str) -> tuple[str | None, list[int] | None]:
    """bech32.bech32_decode caps strings at 90 characters; cosmos addresses may be longer."""
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        return None, None
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        return None, None
    charset = _bech32.CHARSET
    if not all(c in charset for c in text[pos + 1:]):
        return None, None
    hrp = text[:pos]
    data = [charset.find(c) for c in text[pos + 1:]]
    if not _bech32.bech32_verify_checksum(hrp, data):
        return None, None
    return hrp, data[:-6]


def module_address(module: str, key: bytes) -> bytes:
    """cosmos-sdk address.Module(name, key): sha256(sha256("module") || name || 0x00 || key)."""
    type_hash = sha256(b"module")
    return sha256(type_hash + module.encode() + b"\x00" + key)


def classic_contract_address(code_id: int, instance_id: int) -> bytes:
    """wasmd BuildContractAddressClassic: 32 bytes from the code id and the global instance sequence."""
    return module_address("wasm", struct.pack(">QQ", code_id, instance_id))


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">Q", len(data)) + data


def predictable_contract_address(checksum: bytes, creator: bytes, salt: bytes, init_msg: bytes = b"") -> bytes:
    """wasmd BuildContractAddressPredictable (instantiate2)."""
    key = b"".join(_length_prefixed(part) for part in (checksum, creator, salt, init_msg))
    return module_address("wasm", key)


def account_address(pubkey: bytes) -> bytes:
    """Account address bytes for an ed25519 public key: sha256(pubkey)[:20] (DESIGN.md)."""
    return sha256(pubkey)[:20]
