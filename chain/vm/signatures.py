"""Signature checks behind the crypto imports, with cosmwasm-crypto's formats and error codes.

Each function returns True/False for a well-formed check, or raises ``CryptoFailure`` carrying
the numeric code cosmwasm-std maps back to its error types. Libraries do the curve work:
PyNaCl (ed25519), cryptography (ECDSA verify on secp256k1 and P-256), coincurve (secp256k1
recovery). P-256 public-key recovery has no library API, so it is done here with affine
arithmetic over the curve constants (only ever on public data, so timing does not matter).
"""
from __future__ import annotations

import coincurve
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives import hashes
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

# cosmwasm-crypto CryptoError::code()
INVALID_HASH_FORMAT = 3
INVALID_SIGNATURE_FORMAT = 4
INVALID_PUBKEY_FORMAT = 5
INVALID_RECOVERY_PARAM = 6
BATCH_ERR = 7
GENERIC_ERR = 10

MAX_ED25519_BATCH = 256  # cosmwasm-vm MAX_COUNT_ED25519_BATCH

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_P256_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_P256_A = _P256_P - 3
_P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
           0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


class CryptoFailure(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def ed25519_verify(message: bytes, signature: bytes, pubkey: bytes) -> bool:
    if len(signature) != 64:
        raise CryptoFailure(INVALID_SIGNATURE_FORMAT, "Invalid signature format")
    if len(pubkey) != 32:
        raise CryptoFailure(INVALID_PUBKEY_FORMAT, "Invalid public key format")
    try:
        VerifyKey(pubkey).verify(message, signature)
        return True
    except (BadSignatureError, ValueError, TypeError):
        return False
    except Exception:  # noqa: BLE001 - libsodium may refuse a non-canonical key
        return False


def ed25519_batch_verify(messages: list[bytes], signatures: list[bytes], pubkeys: list[bytes]) -> bool:
    """cosmwasm-crypto semantics: one message or one key may stand for all; empty batch is valid."""
    n_msg, n_sig, n_key = len(messages), len(signatures), len(pubkeys)
    if max(n_msg, n_sig, n_key) > MAX_ED25519_BATCH:
        raise CryptoFailure(BATCH_ERR, f"Batch verify error: more than {MAX_ED25519_BATCH} items")
    if n_msg == n_sig == n_key:
        pass
    elif n_msg == 1 and n_sig == n_key:
        messages = messages * n_sig
    elif n_key == 1 and n_msg == n_sig:
        pubkeys = pubkeys * n_sig
    else:
        raise CryptoFailure(BATCH_ERR, "Batch verify error: Mismatched / erroneous number of messages / signatures / public keys")
    return all(ed25519_verify(m, s, k) for m, s, k in zip(messages, signatures, pubkeys))


def _ecdsa_public_key(curve: ec.EllipticCurve, pubkey: bytes) -> ec.EllipticCurvePublicKey:
    if len(pubkey) not in (33, 65):
        raise CryptoFailure(INVALID_PUBKEY_FORMAT, "Invalid public key format")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, pubkey)
    except ValueError:
        raise CryptoFailure(INVALID_PUBKEY_FORMAT, "Invalid public key format") from None


def _split_signature(signature: bytes, order: int) -> tuple[int, int]:
    if len(signature) != 64:
        raise CryptoFailure(INVALID_SIGNATURE_FORMAT, "Invalid signature format")
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < order and 0 < s < order):
        raise CryptoFailure(INVALID_SIGNATURE_FORMAT, "Invalid signature format")
    return r, s


def _ecdsa_verify(curve: ec.EllipticCurve, order: int, message_hash: bytes, signature: bytes, pubkey: bytes) -> bool:
    if len(message_hash) != 32:
        raise CryptoFailure(INVALID_HASH_FORMAT, "Invalid hash format")
    r, s = _split_signature(signature, order)
    if s > order // 2:  # cosmwasm normalises high-S signatures before verifying
        s = order - s
    key = _ecdsa_public_key(curve, pubkey)
    try:
        key.verify(utils.encode_dss_signature(r, s), message_hash, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
        return True
    except InvalidSignature:
        return False


def secp256k1_verify(message_hash: bytes, signature: bytes, pubkey: bytes) -> bool:
    return _ecdsa_verify(ec.SECP256K1(), _SECP256K1_N, message_hash, signature, pubkey)


def secp256r1_verify(message_hash: bytes, signature: bytes, pubkey: bytes) -> bool:
    return _ecdsa_verify(ec.SECP256R1(), _P256_N, message_hash, signature, pubkey)


def _check_recovery_input(message_hash: bytes, recovery_param: int) -> None:
    if len(message_hash) != 32:
        raise CryptoFailure(INVALID_HASH_FORMAT, "Invalid hash format")
    if recovery_param not in (0, 1):
        raise CryptoFailure(INVALID_RECOVERY_PARAM, "Invalid recovery parameter. Supported values: 0 and 1.")


def secp256k1_recover_pubkey(message_hash: bytes, signature: bytes, recovery_param: int) -> bytes:
    """The 65-byte uncompressed public key that signed ``message_hash``."""
    _check_recovery_input(message_hash, recovery_param)
    _split_signature(signature, _SECP256K1_N)
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            signature + bytes([recovery_param]), message_hash, hasher=None)
    except Exception as exc:  # noqa: BLE001 - libsecp256k1 reports any failure generically
        raise CryptoFailure(GENERIC_ERR, f"Crypto error: {exc}") from None
    return key.format(compressed=False)


def _p256_add(p: tuple[int, int] | None, q: tuple[int, int] | None) -> tuple[int, int] | None:
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0] and (p[1] + q[1]) % _P256_P == 0:
        return None
    if p == q:
        lam = (3 * p[0] * p[0] + _P256_A) * pow(2 * p[1], -1, _P256_P)
    else:
        lam = (q[1] - p[1]) * pow(q[0] - p[0], -1, _P256_P)
    x = (lam * lam - p[0] - q[0]) % _P256_P
    return x, (lam * (p[0] - x) - p[1]) % _P256_P


def _p256_mul(k: int, point: tuple[int, int] | None) -> tuple[int, int] | None:
    result = None
    while k:
        if k & 1:
            result = _p256_add(result, point)
        point = _p256_add(point, point)
        k >>= 1
    return result


def secp256r1_recover_pubkey(message_hash: bytes, signature: bytes, recovery_param: int) -> bytes:
    """Public-key recovery on P-256: Q = r^-1 (s·R - e·G), R the curve point with x = r."""
    _check_recovery_input(message_hash, recovery_param)
    r, s = _split_signature(signature, _P256_N)
    y_squared = (pow(r, 3, _P256_P) + _P256_A * r + _P256_B) % _P256_P
    y = pow(y_squared, (_P256_P + 1) // 4, _P256_P)
    if y * y % _P256_P != y_squared:
        raise CryptoFailure(GENERIC_ERR, "Crypto error: signature does not correspond to a curve point")
    if y % 2 != recovery_param:
        y = _P256_P - y
    e = int.from_bytes(message_hash, "big") % _P256_N
    r_inv = pow(r, -1, _P256_N)
    q = _p256_add(_p256_mul(s * r_inv % _P256_N, (r, y)), _p256_mul((-e * r_inv) % _P256_N, _P256_G))
    if q is None:
        raise CryptoFailure(GENERIC_ERR, "Crypto error: recovered the point at infinity")
    return b"\x04" + q[0].to_bytes(32, "big") + q[1].to_bytes(32, "big")
