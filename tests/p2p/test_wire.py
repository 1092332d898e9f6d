"""The pieces below the transport: peer strings, frames, handshake messages, the duplicate rule."""
from __future__ import annotations

import itertools
import json
from dataclasses import replace

import pytest

from chain.codec import b64decode, b64encode, canonical_json
from chain.crypto import sha256
from chain.p2p import (PeerAddress, PeerAddressError, P2PError, node_id_of, parse_listen, parse_peer, parse_peers,
                       prefer_new_connection)
from chain.p2p.errors import CloseCode, HandshakeError
from chain.p2p.frames import FrameError, Kind, check_size, decode, encode_error, encode_message, encode_request, encode_response
from chain.p2p.handshake import Hello, auth_message, check_auth, make_hello, sign_auth, transcript
from chain.p2p.secure import new_ephemeral
from p2p.harness import node_key

NODE_ID = "ab" * 20


# -- identities and peer strings ----------------------------------------------------------------

def test_node_id_is_sha256_of_pubkey_first_20_bytes():
    key = node_key(0)
    assert node_id_of(key.pubkey) == sha256(key.pubkey)[:20].hex()
    assert len(node_id_of(key.pubkey)) == 40


def test_parse_peer_accepts_cometbft_form():
    assert parse_peer(f"{NODE_ID}@10.0.0.2:26656") == PeerAddress(NODE_ID, "10.0.0.2", 26656)
    assert parse_peer(f" {NODE_ID}@node-1.example:1 ") == PeerAddress(NODE_ID, "node-1.example", 1)
    ipv6 = parse_peer(f"{NODE_ID}@[::1]:26656")
    assert ipv6 == PeerAddress(NODE_ID, "::1", 26656)
    assert ipv6.url == "ws://[::1]:26656/p2p" and str(ipv6) == f"{NODE_ID}@[::1]:26656"
    assert parse_peers(f"{NODE_ID}@a:1, ,{'cd' * 20}@b:2,") == [PeerAddress(NODE_ID, "a", 1),
                                                               PeerAddress("cd" * 20, "b", 2)]


@pytest.mark.parametrize("text, complaint", [
    ("", "empty"),
    ("10.0.0.2:26656", "no node id"),
    ("abc@10.0.0.2:26656", "40 lowercase hex"),
    (f"{NODE_ID.upper()}@h:1", "40 lowercase hex"),
    (f"{NODE_ID}@h", "no port"),
    (f"{NODE_ID}@h:", "not a number"),
    (f"{NODE_ID}@h:0", "1..65535"),
    (f"{NODE_ID}@h:65536", "1..65535"),
    (f"{NODE_ID}@h:-1", "not a number"),
    (f"{NODE_ID}@h:١٢", "not a number"),            # non-ASCII digits
    (f"{NODE_ID}@:26656", "not a valid host"),
    (f"{NODE_ID}@bad host:1", "not a valid host"),
    (f"{NODE_ID}@::1:26656", "not a valid host"),   # IPv6 needs brackets
    (f"{NODE_ID}@[nonsense]:1", "not an IPv6"),
    (f"{NODE_ID}@[::1]26656", r"\[addr\]:port"),
    ("x" * 400, "longer than"),
])
def test_parse_peer_refuses_with_a_clear_message(text, complaint):
    with pytest.raises(PeerAddressError, match=complaint):
        parse_peer(text)


def test_parse_peer_refuses_non_strings():
    with pytest.raises(PeerAddressError, match="must be a string"):
        parse_peer(None)  # type: ignore[arg-type]
    with pytest.raises(PeerAddressError):
        parse_peers(["a"])  # type: ignore[arg-type]


def test_parse_listen_allows_port_zero():
    assert parse_listen("0.0.0.0:0") == ("0.0.0.0", 0)
    assert parse_listen("[::]:26656") == ("::", 26656)
    with pytest.raises(PeerAddressError, match="no port"):
        parse_listen("localhost")


# -- frames ---------------------------------------------------------------------------------------

def test_frames_round_trip_and_are_compact():
    text = encode_message("consensus", {"a": [1, 2]})
    assert text == '{"ch":"consensus","p":{"a":[1,2]}}'
    assert decode(text).kind is Kind.MESSAGE and decode(text).payload == {"a": [1, 2]}
    request = decode(encode_request("blocks", {"h": 5}, 7))
    assert (request.kind, request.request_id, request.payload) == (Kind.REQUEST, 7, {"h": 5})
    response = decode(encode_response("blocks", 7, {"ok": True}))
    assert (response.kind, response.request_id) == (Kind.RESPONSE, 7)
    error = decode(encode_error("blocks", 7, "no such block"))
    assert (error.kind, error.error) == (Kind.ERROR, "no such block")


@pytest.mark.parametrize("text", [
    "", "not json", "[1,2]", '"text"', "null", "{}",
    '{"ch":"x"}', '{"p":{}}', '{"ch":"x","p":[]}', '{"ch":"x","p":{},"extra":1}',
    '{"ch":"","p":{}}', '{"ch":5,"p":{}}', '{"ch":"' + "c" * 65 + '","p":{}}',
    '{"ch":"x","p":{},"id":"1"}', '{"ch":"x","p":{},"id":-1}', '{"ch":"x","p":{},"id":true}',
    '{"ch":"x","p":{},"id":1.5}', '{"ch":"x","p":{},"id":9007199254740992}',
    '{"ch":"x","re":1,"err":5}', '{"ch":"x","re":1,"p":{},"err":"both"}',
    "[" * 100_000 + "]" * 100_000,                     # nesting past the parser's recursion limit
    '{"ch":"x","p":{"n":' + "9" * 5000 + "}}",        # an integer past Python's digit limit
    '{"ch":"x","p":{"f":NaN}}'[:-2],                    # truncated
])
def test_malformed_frames_are_refused(text):
    with pytest.raises(FrameError):
        decode(text)


def test_unsendable_payloads_raise_p2p_error():
    with pytest.raises(P2PError, match="must be a dict"):
        encode_message("x", [1])  # type: ignore[arg-type]
    with pytest.raises(P2PError, match="not JSON-serialisable"):
        encode_message("x", {"b": b"bytes"})
    with pytest.raises(P2PError, match="not JSON-serialisable"):
        encode_message("x", {"f": float("nan")})
    with pytest.raises(P2PError, match="channel name"):
        encode_message("", {})
    with pytest.raises(P2PError, match="lone surrogate"):              # JSON takes it, UTF-8 cannot
        check_size(encode_message("x", {"s": "\ud800"}), "x", 1 << 20)


# -- handshake messages --------------------------------------------------------------------------

def test_auth_signature_binds_chain_nonce_identity_and_both_ephemerals():
    alice, bob = node_key(0), node_key(1)
    eph_a, eph_b, eph_mitm = (new_ephemeral()[1] for _ in range(3))
    hello_a = make_hello(alice, "chain-x", None, eph_a)
    hello_b = make_hello(bob, "chain-x", "10.0.0.1:26656", eph_b)
    assert json.loads(auth_message("chain-x", hello_b.nonce, hello_a.node_id, eph_a, eph_b)) == [
        "conclave-p2p-handshake-v2", "chain-x", b64encode(hello_b.nonce), hello_a.node_id,
        b64encode(eph_a), b64encode(eph_b)]
    check_auth(hello_a, hello_b, sign_auth(alice, hello_a, hello_b))                  # valid, as bob checks it
    check_auth(hello_b, hello_a, sign_auth(bob, hello_b, hello_a))                    # and the other way
    refusals = {
        "replayed nonce": sign_auth(alice, hello_a, replace(hello_b, nonce=hello_a.nonce)),
        "someone else's key": sign_auth(bob, hello_a, hello_b),
        "own ephemeral swapped": sign_auth(alice, replace(hello_a, ephemeral=eph_mitm), hello_b),
        "peer's ephemeral swapped": sign_auth(alice, hello_a, replace(hello_b, ephemeral=eph_mitm)),
        "ephemerals in the other order": {"sig": b64encode(alice.sign(auth_message(
            "chain-x", hello_b.nonce, hello_a.node_id, eph_b, eph_a)))},
        "old protocol's message": {"sig": b64encode(alice.sign(canonical_json(
            ["conclave-p2p-handshake", "chain-x", b64encode(hello_b.nonce), hello_a.node_id])))},
    }
    for what, message in refusals.items():
        with pytest.raises(HandshakeError, match="invalid handshake signature") as refused:
            check_auth(hello_a, hello_b, message)
        assert refused.value.code is CloseCode.BAD_IDENTITY, what
    with pytest.raises(HandshakeError, match="malformed signature"):
        check_auth(hello_a, hello_b, {"sig": "%%%"})
    with pytest.raises(HandshakeError, match="malformed signature"):
        check_auth(hello_a, hello_b, {"sig": b64encode(b"x" * 64), "more": 1})


def test_transcript_is_the_same_on_both_sides():
    hello_a = make_hello(node_key(0), "chain-x", None, new_ephemeral()[1])
    hello_b = make_hello(node_key(1), "chain-x", None, new_ephemeral()[1])
    assert transcript(hello_a, hello_b) == transcript(hello_b, hello_a)
    assert transcript(hello_a, hello_b) != transcript(hello_a, replace(hello_b, nonce=bytes(32)))


def test_hello_shape_is_checked():
    good = make_hello(node_key(0), "chain-x", "127.0.0.1:5", new_ephemeral()[1]).to_json()
    assert good["version"] == 2 and len(b64decode(good["ephemeral"])) == 32
    assert Hello.from_json(good).node_id == node_id_of(node_key(0).pubkey)
    for broken, complaint in [
        ({**good, "extra": 1}, "expected keys"),
        ({k: v for k, v in good.items() if k != "nonce"}, "expected keys"),
        ({k: v for k, v in good.items() if k != "ephemeral"}, "expected keys"),
        ({k: v for k, v in good.items() if k != "version"}, "no protocol version"),
        ({**good, "node_id": "AB" * 20}, "node_id"),
        ({**good, "chain_id": ""}, "chain_id"),
        ({**good, "pubkey": b64encode(b"short")}, "32 bytes"),
        ({**good, "ephemeral": b64encode(b"short")}, "ephemeral 32 bytes"),
        ({**good, "ephemeral": None}, "ephemeral 32 bytes"),
        ({**good, "nonce": "not base64!"}, "invalid base64"),
        ({**good, "listen": "nowhere"}, "no port"),
    ]:
        with pytest.raises(HandshakeError, match=complaint) as refused:
            Hello.from_json(broken)
        assert refused.value.code is CloseCode.HANDSHAKE_FAILED
    with pytest.raises(HandshakeError, match="expected a JSON object"):
        Hello.from_json([1])


@pytest.mark.parametrize("version, complaint", [
    (None, "old unencrypted p2p protocol"), (1, "version 1,"), (3, "version 3,"), ("2", 'version "2",'),
    (2.0, "version 2.0,"), (True, "version true,"),
])
def test_other_protocol_versions_are_refused_by_name(version, complaint):
    good = make_hello(node_key(0), "chain-x", None, new_ephemeral()[1]).to_json()
    if version is None:                                       # the v1 hello: no version, no ephemeral key
        message = {k: v for k, v in good.items() if k not in ("version", "ephemeral")}
    else:
        message = {**good, "version": version}
    with pytest.raises(HandshakeError, match=complaint) as refused:
        Hello.from_json(message)
    assert refused.value.code is CloseCode.INCOMPATIBLE


# -- which duplicate survives ---------------------------------------------------------------------

def test_both_ends_keep_the_same_duplicate():
    small, large = sorted([node_id_of(node_key(0).pubkey), node_id_of(node_key(1).pubkey)])
    for new_by_small, old_by_small in itertools.product([True, False], repeat=2):
        # The same two sockets seen from each end: "outbound" flips sides.
        at_small = prefer_new_connection(small, large, new_outbound=new_by_small, old_outbound=old_by_small)
        at_large = prefer_new_connection(large, small, new_outbound=not new_by_small, old_outbound=not old_by_small)
        assert at_small == at_large
        if new_by_small != old_by_small:
            assert at_small == new_by_small          # the one the smaller id dialed wins
        else:
            assert at_small                          # a redial by the same side replaces a stale socket
