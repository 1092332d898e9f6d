"""The link cipher on its own: key agreement, the key schedule, and sealed frames refused when touched."""
from __future__ import annotations

import pytest
from nacl.bindings import crypto_aead_chacha20poly1305_ietf_decrypt, crypto_aead_chacha20poly1305_ietf_encrypt

from chain.p2p.frames import FrameError
from chain.p2p.secure import (MAX_COUNTER, TAG_BYTES, ForgedFrame, KeyAgreementError, OversizedFrame, SecureChannel,
                              SecureChannelError, TruncatedFrame, agree, hkdf, new_ephemeral, session_keys)

LIMIT = 1000
TRANSCRIPT = b"the handshake both sides saw"

# X25519 public keys of small order (and their non-canonical encodings): any secret times one of
# them is the all-zero point. The list libsodium and the X25519 literature publish.
LOW_ORDER_POINTS = [bytes.fromhex(h) for h in (
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
)]


def linked_pair(limit: int = LIMIT) -> tuple[SecureChannel, SecureChannel]:
    """Both ends of one link, keyed as two nodes' handshakes would key them."""
    (a_secret, a_public), (b_secret, b_public) = new_ephemeral(), new_ephemeral()
    shared_a, shared_b = agree(a_secret, a_public, b_public), agree(b_secret, b_public, a_public)
    assert shared_a == shared_b
    a = SecureChannel(*session_keys(shared_a, a_public, b_public, TRANSCRIPT), limit)
    b = SecureChannel(*session_keys(shared_b, b_public, a_public, TRANSCRIPT), limit)
    return a, b


# -- key agreement and key schedule --------------------------------------------------------------

def test_hkdf_matches_rfc5869_test_case_1():
    okm = hkdf(bytes([0x0B] * 22), bytes(range(13)), bytes(range(0xF0, 0xFA)), 42)
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c"
                         "5db02d56ecc4c5bf34007208d5b887185865")
    with pytest.raises(ValueError, match="1..8160"):
        hkdf(b"k", b"s", b"i", 0)


def test_both_sides_derive_mirrored_keys_bound_to_the_transcript():
    (a_secret, a_public), (_, b_public) = new_ephemeral(), new_ephemeral()
    shared = agree(a_secret, a_public, b_public)
    a_send, a_recv = session_keys(shared, a_public, b_public, TRANSCRIPT)
    b_send, b_recv = session_keys(shared, b_public, a_public, TRANSCRIPT)
    assert (a_send, a_recv) == (b_recv, b_send) and a_send != a_recv
    assert len(a_send) == len(a_recv) == 32
    other = session_keys(shared, a_public, b_public, TRANSCRIPT + b"!")
    assert not {a_send, a_recv} & set(other)                 # another transcript, unrelated keys


@pytest.mark.parametrize("point", LOW_ORDER_POINTS, ids=lambda p: p.hex()[:8])
def test_low_order_ephemeral_keys_are_refused(point):
    secret, public = new_ephemeral()
    with pytest.raises(KeyAgreementError, match="low-order point"):
        agree(secret, public, point)


def test_reflected_or_malformed_ephemeral_keys_are_refused():
    secret, public = new_ephemeral()
    with pytest.raises(KeyAgreementError, match="our own ephemeral key"):
        agree(secret, public, public)
    with pytest.raises(KeyAgreementError, match="32 bytes"):
        agree(secret, public, public[:31])


# -- sealed frames ------------------------------------------------------------------------------------

def test_frames_round_trip_in_both_directions_in_order():
    a, b = linked_pair()
    texts = ['{"ch":"x","p":{}}', "", "ünïcødé ✓ " * 20, "x" * LIMIT]
    for text in texts:
        sealed = a.seal(text)
        assert len(sealed) == len(text.encode()) + TAG_BYTES
        assert text.encode() not in sealed or text == ""
        assert b.open(sealed) == text
        assert a.open(b.seal(text[::-1])) == text[::-1]
    assert a.counters == b.counters == (len(texts), len(texts))
    assert a.seal("same") != a.seal("same")                  # a new nonce for every frame


def test_the_wire_format_is_rfc8439_with_the_frame_counter_as_nonce():
    """Any ChaCha20-Poly1305 implementation (here libsodium's) opens our frames given the key and counter."""
    send_key, recv_key = bytes(range(32)), bytes(range(1, 33))
    channel = SecureChannel(send_key, recv_key, LIMIT)
    channel.seal("frame 0")
    sealed = channel.seal("frame 1 ✓")
    nonce = (1).to_bytes(8, "little") + bytes(4)               # 64-bit little-endian counter, 4 zero bytes
    assert crypto_aead_chacha20poly1305_ietf_decrypt(sealed, None, nonce, send_key) == "frame 1 ✓".encode()
    reply = crypto_aead_chacha20poly1305_ietf_encrypt(b"an answer", None, bytes(12), recv_key)
    assert channel.open(reply) == "an answer"


def test_a_flipped_bit_anywhere_is_refused():
    a, b = linked_pair()
    sealed = a.seal('{"ch":"consensus","p":{"vote":1}}')
    for index in (0, len(sealed) // 2, len(sealed) - TAG_BYTES, len(sealed) - 1):
        altered = bytearray(sealed)
        altered[index] ^= 0x01
        with pytest.raises(ForgedFrame, match="frame #0 failed authentication"):
            b.open(bytes(altered))
    assert b.open(sealed) == '{"ch":"consensus","p":{"vote":1}}'   # a refused frame does not move the counter


def test_a_replayed_frame_is_refused():
    a, b = linked_pair()
    first = a.seal("first")
    assert b.open(first) == "first"
    with pytest.raises(ForgedFrame, match="frame #1 failed authentication"):
        b.open(first)


def test_a_skipped_or_reordered_frame_is_refused():
    a, b = linked_pair()
    first, second = a.seal("first"), a.seal("second")
    with pytest.raises(ForgedFrame, match="frame #0"):
        b.open(second)                                       # the first was dropped, or they were swapped
    assert b.open(first) == "first" and b.open(second) == "second"


def test_a_truncated_frame_is_refused():
    a, b = linked_pair()
    sealed = a.seal("a frame of some length")
    with pytest.raises(ForgedFrame):
        b.open(sealed[:-1])                                  # the tag cut short
    with pytest.raises(ForgedFrame):
        b.open(sealed[:TAG_BYTES])                           # nothing left but a tag-sized tail
    with pytest.raises(TruncatedFrame, match="shorter than its 16-byte tag"):
        b.open(sealed[:TAG_BYTES - 1])
    with pytest.raises(TruncatedFrame):
        b.open(b"")


def test_a_frame_sealed_for_the_other_direction_is_refused():
    a, b = linked_pair()
    with pytest.raises(ForgedFrame):
        a.open(a.seal("reflected back at its sender"))
    _, stranger = linked_pair()
    with pytest.raises(ForgedFrame):
        stranger.open(a.seal("sealed on another link"))


def test_an_oversized_frame_is_refused_before_decrypting():
    a, b = linked_pair(limit=100)
    assert b.open(a.seal("x" * 100)) == "x" * 100 and b.max_sealed_bytes == 100 + TAG_BYTES
    with pytest.raises(OversizedFrame, match="117 bytes is over the limit of 116"):
        b.open(a.seal("x" * 101))
    with pytest.raises(OversizedFrame):
        b.open(bytes(10 << 20))                              # junk, never handed to the cipher


def test_an_authentic_frame_that_is_not_utf8_is_a_malformed_frame():
    send_key, recv_key = bytes(range(32)), bytes(range(1, 33))
    channel = SecureChannel(recv_key, send_key, LIMIT)      # the receiving end of send_key
    boxed = crypto_aead_chacha20poly1305_ietf_encrypt(b"\xff\xfe", None, bytes(12), send_key)
    with pytest.raises(FrameError, match="not UTF-8"):
        channel.open(boxed)
    assert channel.counters == (0, 1)                        # it was authentic: the link stays in step


def test_channel_arguments_and_counter_exhaustion():
    with pytest.raises(ValueError, match="32 bytes"):
        SecureChannel(b"short", bytes(32), LIMIT)
    with pytest.raises(ValueError, match="different keys"):
        SecureChannel(bytes(32), bytes(32), LIMIT)
    a, _ = linked_pair()
    a._sent = MAX_COUNTER + 1                                # 2^64 frames later
    with pytest.raises(SecureChannelError, match="reconnect"):
        a.seal("one more")
