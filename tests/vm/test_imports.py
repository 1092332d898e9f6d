"""The host imports, exercised through test-reflect's query probes (contracts/test/reflect).

Addresses, the signature checks (keys and signatures made by PyNaCl and `cryptography`),
debug, the db_scan/db_next* iterators and query_chain, each answered by the real VM.
"""
from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from chain.crypto import encode_address
from chain.testing import ContractError, TestApp, VmError
from chain.vm.host import MAX_LENGTH_ED25519_MESSAGE, MAX_LENGTH_HUMAN_ADDRESS
from support import artifact


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


# --- addresses -----------------------------------------------------------------------------

def test_addr_validate_accepts_an_account(app, alice, reflect):
    assert app.query(reflect, {"addr_validate": {"addr": alice}}) == {"ok": True}
    assert app.query(reflect, {"addr_validate": {"addr": reflect}}) == {"ok": True}  # 32-byte contract address


@pytest.mark.parametrize("make_addr, reason", [
    (lambda app, a: encode_address("cosmos", app.api.canonicalize(a)), "wrong address prefix"),
    (lambda app, a: a.upper(), "address must be lowercase"),
    (lambda app, a: "garbage", "invalid bech32 address: garbage"),
    (lambda app, a: "", "Input is empty"),
    (lambda app, a: a[:-1] + ("q" if a[-1] != "q" else "p"), "invalid bech32 address"),  # bad checksum
], ids=["wrong_prefix", "uppercase", "garbage", "empty", "bad_checksum"])
def test_addr_validate_refuses(app, alice, reflect, make_addr, reason):
    answer = app.query(reflect, {"addr_validate": {"addr": make_addr(app, alice)}})
    assert set(answer) == {"error"}
    assert answer["error"].startswith("Generic error: addr_validate errored: ")
    assert reason in answer["error"]


def test_addr_canonicalize_humanize_round_trip(app, alice, reflect):
    canonical = app.query(reflect, {"addr_canonicalize": {"addr": alice}})["canonical"]
    assert bytes.fromhex(canonical) == app.api.canonicalize(alice)
    assert len(bytes.fromhex(canonical)) == 20
    assert app.query(reflect, {"addr_humanize": {"canonical": canonical}}) == {"human": alice}
    # a 32-byte contract address round-trips as well
    canonical = app.query(reflect, {"addr_canonicalize": {"addr": reflect}})["canonical"]
    assert len(bytes.fromhex(canonical)) == 32
    assert app.query(reflect, {"addr_humanize": {"canonical": canonical}}) == {"human": reflect}


def test_addr_canonicalize_and_humanize_errors(app, alice, reflect):
    assert "Input is empty" in app.query(reflect, {"addr_canonicalize": {"addr": ""}})["error"]
    assert "wrong address prefix" in app.query(
        reflect, {"addr_canonicalize": {"addr": encode_address("cosmos", b"\x01" * 20)}})["error"]
    assert "error" in app.query(reflect, {"addr_humanize": {"canonical": ""}})


def test_address_length_limit(app, reflect):
    """256 bytes reach the host (and fail as bech32); longer ones the SDK refuses itself, as cosmwasm-std does."""
    at_limit = "a" * MAX_LENGTH_HUMAN_ADDRESS
    assert app.query(reflect, {"addr_validate": {"addr": at_limit}}) == \
        {"error": f"Generic error: addr_validate errored: invalid bech32 address: {at_limit}"}
    assert app.query(reflect, {"addr_validate": {"addr": at_limit + "a"}}) == \
        {"error": "Generic error: input too long for addr_validate"}


# --- ed25519 -------------------------------------------------------------------------------

def _ed25519(seed: int, message: bytes) -> tuple[bytes, bytes]:
    key = SigningKey(bytes([seed]) * 32)
    return key.sign(message).signature, bytes(key.verify_key)


def test_ed25519_verify(app, reflect):
    msg = b"conclave ed25519 test message"
    sig, pubkey = _ed25519(7, msg)

    def verify(m: bytes, s: bytes, k: bytes):
        return app.query(reflect, {"ed25519_verify": {"msg": b64(m), "sig": b64(s), "pubkey": b64(k)}})

    assert verify(msg, sig, pubkey) == {"valid": True}
    assert verify(msg + b"!", sig, pubkey) == {"valid": False}                      # tampered message
    assert verify(msg, sig[:10] + bytes([sig[10] ^ 1]) + sig[11:], pubkey) == {"valid": False}  # tampered sig
    assert verify(msg, sig, _ed25519(8, msg)[1]) == {"valid": False}               # other key
    assert verify(msg, sig[:63], pubkey) == {"error": "Invalid signature format"}  # code 4
    assert verify(msg, sig, pubkey[:31]) == {"error": "Invalid public key format"}  # code 5
    # the message may be up to 128 KiB; beyond that the import refuses to read it
    big = b"m" * MAX_LENGTH_ED25519_MESSAGE
    assert verify(big, *_ed25519(7, big)) == {"valid": True}
    with pytest.raises(VmError, match=r"exceeds the limit of 131072 bytes"):
        verify(big + b"m", sig, pubkey)


def test_ed25519_batch_verify(app, reflect):
    msgs = [b"first", b"second", b"third"]
    signed = [_ed25519(i + 1, m) for i, m in enumerate(msgs)]
    sigs, keys = [s for s, _ in signed], [k for _, k in signed]

    def batch(ms, ss, ks):
        return app.query(reflect, {"ed25519_batch_verify": {
            "msgs": [b64(m) for m in ms], "sigs": [b64(s) for s in ss], "pubkeys": [b64(k) for k in ks]}})

    assert batch(msgs, sigs, keys) == {"valid": True}
    assert batch(msgs, [sigs[0], sigs[2], sigs[1]], keys) == {"valid": False}      # one bad
    assert batch(msgs[:2] + [b"thirds"], sigs, keys) == {"valid": False}
    assert batch(msgs[:2], sigs, keys) == {"error": "Batch error: list lengths do not match"}  # code 7
    # cosmwasm-crypto semantics: one message signed by many keys, or one key signing many messages
    one_msg = [_ed25519(i + 1, b"shared") for i in range(3)]
    assert batch([b"shared"], [s for s, _ in one_msg], [k for _, k in one_msg]) == {"valid": True}
    one_key = [_ed25519(9, m) for m in msgs]
    assert batch(msgs, [s for s, _ in one_key], [one_key[0][1]]) == {"valid": True}


# --- ECDSA ---------------------------------------------------------------------------------

CURVES = {"secp256k1": ec.SECP256K1(), "secp256r1": ec.SECP256R1()}


def _ecdsa(curve: ec.EllipticCurve, secret: int, message: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(sha256 hash, r||s signature, uncompressed pubkey, compressed pubkey)."""
    key = ec.derive_private_key(secret, curve)
    digest = hashlib.sha256(message).digest()
    r, s = utils.decode_dss_signature(key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256()))))
    public = key.public_key()
    uncompressed = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    compressed = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    return digest, r.to_bytes(32, "big") + s.to_bytes(32, "big"), uncompressed, compressed


@pytest.mark.parametrize("curve", sorted(CURVES))
def test_ecdsa_verify(app, reflect, curve):
    digest, sig, pubkey, compressed = _ecdsa(CURVES[curve], 0xC0FFEE, b"ecdsa message")

    def verify(h: bytes, s: bytes, k: bytes):
        return app.query(reflect, {f"{curve}_verify": {"hash": b64(h), "sig": b64(s), "pubkey": b64(k)}})

    assert len(pubkey) == 65 and len(compressed) == 33
    assert verify(digest, sig, pubkey) == {"valid": True}
    assert verify(digest, sig, compressed) == {"valid": True}
    assert verify(hashlib.sha256(b"other").digest(), sig, pubkey) == {"valid": False}
    other_key = _ecdsa(CURVES[curve], 0xBEEF, b"x")[2]
    assert verify(digest, sig, other_key) == {"valid": False}
    assert verify(digest[:31], sig, pubkey) == {"error": "Invalid hash format"}          # code 3
    assert verify(digest, sig[:63], pubkey) == {"error": "Invalid signature format"}     # code 4
    assert verify(digest, sig, pubkey[:64]) == {"error": "Invalid public key format"}    # code 5


@pytest.mark.parametrize("curve", sorted(CURVES))
def test_ecdsa_recover_pubkey(app, reflect, curve):
    digest, sig, pubkey, _ = _ecdsa(CURVES[curve], 0xC0FFEE, b"recover me")

    def recover(param: int, h: bytes = digest, s: bytes = sig):
        return app.query(reflect, {f"{curve}_recover_pubkey": {"hash": b64(h), "sig": b64(s),
                                                                "recovery_param": param}})

    recovered = []
    for param in (0, 1):
        answer = recover(param)
        if "pubkey" in answer:
            key = unb64(answer["pubkey"])
            assert len(key) == 65 and key[0] == 4
            recovered.append(key)
    assert recovered.count(pubkey) == 1   # exactly one parity gives back the signer
    assert recover(2) == {"error": "Invalid recovery parameter (supported: 0 and 1)"}   # code 6
    assert recover(0, h=digest[:31]) == {"error": "Invalid hash format"}
    assert recover(0, s=sig[:63]) == {"error": "Invalid signature format"}


# --- debug ---------------------------------------------------------------------------------

def test_debug_reaches_the_handler(module_cache_dir):
    seen: list[str] = []
    app = TestApp(cache_dir=module_cache_dir, debug_handler=seen.append)
    alice = app.create_account("alice")
    reflect = app.instantiate(app.store_code(artifact("test_reflect")), {}, sender=alice, label="reflect")
    assert app.query(reflect, {"debug": {"msg": "hello from the contract ✓"}}) == {}
    assert seen == ["hello from the contract ✓"]


def test_debug_without_a_handler_is_harmless(app, reflect):
    assert app.query(reflect, {"debug": {"msg": "nobody listens"}}) == {}


# --- iterators -----------------------------------------------------------------------------

PAIRS = {"apple": "1", "b": "2", "banana": "3", "c": "4", "cherry": "5", "d\u00e9j\u00e0": "6"}


@pytest.fixture
def filled(app, alice, reflect):
    for key, value in PAIRS.items():
        app.execute(reflect, {"write": {"key": key, "value": value}}, sender=alice)
    return reflect


def _model(start=None, end=None, descending=False):
    keys = sorted(PAIRS, key=str.encode)
    keys = [k for k in keys if (start is None or k.encode() >= start.encode())
            and (end is None or k.encode() < end.encode())]
    if descending:
        keys.reverse()
    return keys


@pytest.mark.parametrize("start, end", [(None, None), ("b", None), (None, "c"), ("b", "cherry"),
                                        ("banana", "banana\x00"), ("a", "z"), ("bz", "c")])
@pytest.mark.parametrize("order", ["ascending", "descending"])
def test_scan_orders_and_bounds(app, filled, start, end, order):
    expected = _model(start, end, order == "descending")
    rng = {"start": start, "end": end, "order": order}
    assert app.query(filled, {"scan": rng}) == {"pairs": [[k, PAIRS[k]] for k in expected]}
    assert app.query(filled, {"scan_keys": rng}) == {"keys": expected}
    assert app.query(filled, {"scan_values": rng}) == {"values": [PAIRS[k] for k in expected]}


@pytest.mark.parametrize("start, end", [("b", "b"), ("c", "b"), ("x", None), (None, "a")])
def test_scan_empty_ranges(app, filled, start, end):
    for order in ("ascending", "descending"):
        rng = {"start": start, "end": end, "order": order}
        assert app.query(filled, {"scan": rng}) == {"pairs": []}
        assert app.query(filled, {"scan_keys": rng}) == {"keys": []}
        assert app.query(filled, {"scan_values": rng}) == {"values": []}


def test_scan_default_order_is_ascending(app, filled):
    assert app.query(filled, {"scan_keys": {}}) == {"keys": _model()}


def test_scan_sees_removals(app, alice, filled):
    app.execute(filled, {"remove": {"key": "banana"}}, sender=alice)
    assert "banana" not in app.query(filled, {"scan_keys": {}})["keys"]
    assert app.query(filled, {"read": {"key": "banana"}}) == {"value": None}


def test_scan_is_confined_to_the_contract(app, alice, filled):
    other = app.instantiate(app.contract_info(filled).code_id, {}, sender=alice, label="other")
    app.execute(other, {"write": {"key": "only-mine", "value": "x"}}, sender=alice)
    assert app.query(other, {"scan": {}}) == {"pairs": [["only-mine", "x"]]}
    assert "only-mine" not in app.query(filled, {"scan_keys": {}})["keys"]


_TEXT = st.text(min_size=1, max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(writes=st.lists(st.tuples(_TEXT, _TEXT), max_size=12),
       removals=st.lists(_TEXT, max_size=3),
       start=st.none() | st.text(max_size=4),
       end=st.none() | st.text(max_size=4))
def test_scan_matches_a_bytewise_model(module_cache_dir, writes, removals, start, end):
    app = _hypothesis_app(module_cache_dir)
    alice = app.address("alice")
    contract = app.instantiate(app.code_id, {}, sender=alice, label="model")
    model: dict[bytes, bytes] = {}
    for key, value in writes:
        app.execute(contract, {"write": {"key": key, "value": value}}, sender=alice)
        model[key.encode()] = value.encode()
    for key in removals + [k for k, _ in writes[:1]]:
        app.execute(contract, {"remove": {"key": key}}, sender=alice)
        model.pop(key.encode(), None)

    ordered = sorted(model.items())     # bytewise, as the store orders keys
    assert app.query(contract, {"scan": {}}) == {"pairs": [[k.decode(), v.decode()] for k, v in ordered]}
    assert app.query(contract, {"scan_keys": {"order": "descending"}}) == \
        {"keys": [k.decode() for k, _ in reversed(ordered)]}

    lo, hi = (None if start is None else start.encode()), (None if end is None else end.encode())
    bounded = [(k, v) for k, v in ordered if (lo is None or k >= lo) and (hi is None or k < hi)]
    rng = {"start": start, "end": end}
    assert app.query(contract, {"scan": rng}) == {"pairs": [[k.decode(), v.decode()] for k, v in bounded]}
    assert app.query(contract, {"scan_values": {**rng, "order": "descending"}}) == \
        {"values": [v.decode() for _, v in reversed(bounded)]}


_HYPOTHESIS_APPS: dict[str, TestApp] = {}


def _hypothesis_app(cache_dir) -> TestApp:
    """One TestApp for all examples (each example instantiates its own fresh contract)."""
    app = _HYPOTHESIS_APPS.get(str(cache_dir))
    if app is None:
        app = TestApp(cache_dir=cache_dir)
        app.create_account("alice")
        app.code_id = app.store_code(artifact("test_reflect"))  # type: ignore[attr-defined]
        _HYPOTHESIS_APPS[str(cache_dir)] = app
    return app


# --- query_chain ---------------------------------------------------------------------------

def chain_query(app: TestApp, reflect: str, request) -> dict:
    answer = app.query(reflect, {"chain": {"request": request}})
    assert set(answer) == {"result"}
    return answer["result"]


def ok_json(result: dict):
    assert set(result) == {"ok"} and set(result["ok"]) == {"ok"}, result
    return json.loads(unb64(result["ok"]["ok"]))


def test_query_chain_bank_balance(app, alice, reflect):
    result = chain_query(app, reflect, {"bank": {"balance": {"address": alice, "denom": "ucnv"}}})
    assert ok_json(result) == {"amount": {"denom": "ucnv", "amount": "1000000"}}
    # an account with nothing has a zero balance, not an error
    nobody = app.create_account("nobody")
    result = chain_query(app, reflect, {"bank": {"balance": {"address": nobody, "denom": "ucnv"}}})
    assert ok_json(result) == {"amount": {"denom": "ucnv", "amount": "0"}}
    # the typed helper agrees
    assert app.query(reflect, {"balance": {"address": alice, "denom": "uatom"}}) == {"amount": "500"}


def test_query_chain_wasm_smart(app, alice, counter, reflect):
    request = {"wasm": {"smart": {"contract_addr": counter, "msg": b64(b'{"count":{}}')}}}
    assert ok_json(chain_query(app, reflect, request)) == {"count": 5}
    app.execute(counter, {"increment": {}}, sender=alice)
    assert ok_json(chain_query(app, reflect, request)) == {"count": 6}
    assert app.query(reflect, {"smart": {"contract": counter, "msg": {"owner": {}}}}) == {"owner": alice}
    # the queried contract's own error is a contract error inside an ok SystemResult
    bad = {"wasm": {"smart": {"contract_addr": counter, "msg": b64(b'{"nope":{}}')}}}
    result = chain_query(app, reflect, bad)
    assert set(result) == {"ok"} and set(result["ok"]) == {"error"}
    with pytest.raises(ContractError, match="Querier contract error"):
        app.query(reflect, {"smart": {"contract": counter, "msg": {"nope": {}}}})


def test_query_chain_wasm_raw(app, counter, reflect):
    result = chain_query(app, reflect, {"wasm": {"raw": {"contract_addr": counter, "key": b64(b"count")}}})
    assert unb64(result["ok"]["ok"]) == b"5"
    assert unb64(result["ok"]["ok"]) == app.query_raw(counter, b"count")
    missing = chain_query(app, reflect, {"wasm": {"raw": {"contract_addr": counter, "key": b64(b"absent")}}})
    assert unb64(missing["ok"]["ok"]) == b""


def test_query_chain_contract_and_code_info(app, alice, counter, reflect):
    info = app.contract_info(counter)
    answer = ok_json(chain_query(app, reflect, {"wasm": {"contract_info": {"contract_addr": counter}}}))
    assert answer["code_id"] == info.code_id
    assert answer["creator"] == alice
    assert answer["admin"] == alice
    assert answer["pinned"] is False
    code = ok_json(chain_query(app, reflect, {"wasm": {"code_info": {"code_id": info.code_id}}}))
    assert code["code_id"] == info.code_id
    assert code["checksum"] == hashlib.sha256(artifact("test_counter")).hexdigest()
    assert chain_query(app, reflect, {"wasm": {"code_info": {"code_id": 999}}}) == \
        {"error": {"no_such_code": {"code_id": 999}}}


def test_query_chain_no_such_contract(app, alice, reflect):
    request = {"wasm": {"smart": {"contract_addr": alice, "msg": b64(b'{"count":{}}')}}}
    assert chain_query(app, reflect, request) == {"error": {"no_such_contract": {"addr": alice}}}
    assert chain_query(app, reflect, {"wasm": {"raw": {"contract_addr": alice, "key": b64(b"k")}}}) == \
        {"error": {"no_such_contract": {"addr": alice}}}
    with pytest.raises(ContractError, match=r"Querier system error: .*no_such_contract"):
        app.query(reflect, {"smart": {"contract": alice, "msg": {"count": {}}}})


def test_nested_queries_stop_at_the_depth_limit(app, reflect):
    def nested(levels: int) -> dict:
        msg: dict = {"read": {"key": "x"}}
        for _ in range(levels):
            msg = {"smart": {"contract": reflect, "msg": msg}}
        return msg

    assert app.query(reflect, nested(10)) == {"value": None}      # wasmd allows 10 nested queries
    with pytest.raises(ContractError, match=r"query depth limit \(10\) exceeded"):
        app.query(reflect, nested(11))
    assert app.vm._stack == []


@pytest.mark.parametrize("request_", ["nonsense", 42, [], {"bank": {}, "wasm": {}}, {}],
                         ids=["string", "number", "list", "two_kinds", "empty"])
def test_query_chain_malformed_request(app, reflect, request_):
    result = chain_query(app, reflect, request_)
    assert set(result) == {"error"} and set(result["error"]) == {"invalid_request"}
    body = result["error"]["invalid_request"]
    assert body["error"]
    assert json.loads(unb64(body["request"])) == request_


@pytest.mark.parametrize("request_", [
    {"wasm": {"smart": {}}},                                         # missing fields
    {"wasm": {"smart": {"contract_addr": "COUNTER", "msg": "not base64!"}}},
    {"wasm": {"raw": {"contract_addr": "COUNTER", "key": 5}}},
    {"wasm": {}},
    {"wasm": "smart"},
    {"bank": {}},
    {"bank": "balance"},
    {"bank": {"balance": {"address": "ALICE"}}},
    {"wasm": {"code_info": {}}},
    {"wasm": {"code_info": {"code_id": "1"}}},
    {"wasm": {"code_info": {"code_id": -1}}},
    {"wasm": {"code_info": {"code_id": True}}},
], ids=lambda r: json.dumps(r))
def test_query_chain_malformed_body_is_invalid_request(app, alice, counter, reflect, request_):
    """A body of the wrong shape is the request's fault: a system error naming only the query kind
    (never a Python exception text, which differs between Python versions; never a host error)."""
    request_ = json.loads(json.dumps(request_).replace("COUNTER", counter).replace("ALICE", alice))
    kind = next(iter(request_))
    result = chain_query(app, reflect, request_)
    assert set(result) == {"error"} and set(result["error"]) == {"invalid_request"}
    assert result["error"]["invalid_request"]["error"] == f"malformed {kind} query"
    assert json.loads(unb64(result["error"]["invalid_request"]["request"])) == request_
    assert app.vm._stack == []


@pytest.mark.parametrize("address", ["nonsense", "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu", 5])
@pytest.mark.parametrize("action", ["balance", "all_balances"])
def test_query_chain_bank_refuses_invalid_addresses(app, reflect, address, action):
    """As wasmd's bank plugin: an invalid address is an error, not a zero balance."""
    args = {"address": address, "denom": "ucnv"} if action == "balance" else {"address": address}
    result = chain_query(app, reflect, {"bank": {action: args}})
    assert set(result) == {"ok"} and set(result["ok"]) == {"error"}
    assert result["ok"]["error"].startswith("invalid address: ")


@pytest.mark.parametrize("request_", [{"staking": {"bonded_denom": {}}},
                                      {"distribution": {"delegator_withdraw_address": {"delegator_address": "x"}}},
                                      {"ibc": {"port_id": {}}}])
def test_query_chain_unsupported_request(app, reflect, request_):
    kind = next(iter(request_))
    assert chain_query(app, reflect, request_) == {"error": {"unsupported_request": {"kind": kind}}}


def test_query_chain_custom_goes_to_the_chain(app, reflect):
    # TestApp answers with the chain's own custom queries (tests/app/test_privileges.py covers them)
    assert ok_json(chain_query(app, reflect, {"custom": {"last_commit_votes": {}}})) == {"votes": []}
    result = chain_query(app, reflect, {"custom": {"no_such_query": {}}})
    assert set(result) == {"ok"} and "unknown custom query" in result["ok"]["error"]
