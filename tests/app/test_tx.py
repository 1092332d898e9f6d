"""Signed transactions: encoding, strict decoding, the message vocabulary, and check_tx / ante."""
from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.app import bank
from chain.app import tx as T
from chain.app.kv import MemoryKV
from chain.codec import b64encode, canonical_json
from chain.crypto.keys import PrivateKey, address_of

CHAIN = "conclave-test"
PREFIX = "conclave"
PARAMS = T.TxParams(prefix=PREFIX, max_block_gas=10_000_000)
ALICE = PrivateKey.from_seed(b"a" * 32)
BOB = PrivateKey.from_seed(b"b" * 32)
BOB_ADDR = BOB.address(PREFIX)
CONTRACT = address_of(b"c" * 32, PREFIX)  # any well-formed address will do for decoding


def send(amount: int = 5) -> T.Send:
    return T.Send(BOB_ADDR, (("ucnv", amount),))


def signed(key: PrivateKey = ALICE, sequence: int = 0, msgs=None, **kw) -> T.Tx:
    return T.build_tx(key, kw.pop("chain_id", CHAIN), sequence, msgs or [send()], **kw)


def body_doc(tx: T.Tx) -> dict:
    return json.loads(tx.raw)["body"]


def raw_with(tx: T.Tx, key: PrivateKey = ALICE, **changes) -> bytes:
    """Re-sign a tx whose body JSON was edited (to reach checks past the signature)."""
    body = body_doc(tx)
    body.update(changes)
    return canonical_json({"body": body, "signature": b64encode(key.sign(canonical_json(body)))})


@pytest.fixture
def store() -> MemoryKV:
    kv = MemoryKV()
    bank.mint(kv, ALICE.address(PREFIX), [("ucnv", 1_000)])
    return kv


ALL_KINDS = [
    send(),
    T.Instantiate(1, {"count": 1, "nested": {"b": [1, "x"], "a": None}}, (("ucnv", 3),), "counter", None),
    T.Instantiate(7, {}, (), "with admin", BOB_ADDR),
    T.Execute(CONTRACT, {"increment": {}}, ()),
    T.Migrate(CONTRACT, 2, {"v": 2}),
    T.UpdateAdmin(CONTRACT, BOB_ADDR),
    T.ClearAdmin(CONTRACT),
    T.ProposeCode(b"\x00asm\x01\x00\x00\x00", "upgrade", "why", T.CodeMigration(CONTRACT, {"migrate": {}})),
    T.ProposeCode(b"\x00asm\x01\x00\x00\x00", "new code", "", None),
]


# -- encoding ------------------------------------------------------------------------------

def test_round_trip_every_message_kind() -> None:
    tx = signed(msgs=ALL_KINDS, fee=(("ucnv", 10),), memo="hello ☃", gas_limit=123)
    again = T.decode_tx(tx.raw)
    assert again == tx and again.body.msgs == tuple(ALL_KINDS)
    assert T.encode_tx(again.body, again.signature) == tx.raw
    assert tx.hash == T.tx_hash(tx.raw) and len(tx.hash) == 64 and tx.hash == tx.hash.upper()
    assert T.sign_doc(tx.body) == canonical_json(body_doc(tx)) == tx.sign_bytes
    assert T.check_tx(MemoryKV(), tx, CHAIN, T.TxParams(PREFIX)).code == T.CODE_INSUFFICIENT_FUNDS


def test_sender_is_the_pubkey_address() -> None:
    assert signed().sender(PREFIX) == ALICE.address(PREFIX)


def test_sign_bytes_with_a_signature_key_inside_a_contract_msg() -> None:
    tx = signed(msgs=[T.Execute(CONTRACT, {"a": 1, "signature": "x"}, ())])
    assert tx.sign_bytes == T.sign_doc(tx.body)


def test_contract_msg_bytes_are_what_the_contract_receives() -> None:
    tx = signed(msgs=[T.Execute(CONTRACT, {"b": 1, "a": {"y": 2, "x": 1}}, ())])
    assert T.contract_msg_bytes(tx.body.msgs[0].msg) == b'{"a":{"x":1,"y":2},"b":1}'


# -- check_tx ------------------------------------------------------------------------------

def test_valid_tx_passes_and_ante_consumes_sequence_and_fee(store: MemoryKV) -> None:
    tx = signed(fee=(("ucnv", 10),))
    result = T.check_tx(store, tx, CHAIN, PARAMS)
    assert result.ok and result.sender == ALICE.address(PREFIX) and result.gas_wanted == 200_000
    assert T.ante(store, tx, CHAIN, PARAMS).ok
    assert T.account_sequence(store, ALICE.address(PREFIX)) == 1
    assert bank.balance(store, ALICE.address(PREFIX), "ucnv") == 990
    assert bank.balance(store, T.fee_collector_address(PREFIX), "ucnv") == 10


def test_replayed_sequence_refused(store: MemoryKV) -> None:
    tx = signed()
    assert T.ante(store, tx, CHAIN, PARAMS).ok
    replay = T.check_tx(store, tx, CHAIN, PARAMS)
    assert replay.code == T.CODE_WRONG_SEQUENCE
    assert replay.log == "account sequence mismatch: expected 1, got 0"
    assert T.check_tx(store, signed(sequence=1), CHAIN, PARAMS).ok
    assert T.check_tx(store, signed(sequence=2), CHAIN, PARAMS).code == T.CODE_WRONG_SEQUENCE


def test_tampered_signature_refused(store: MemoryKV) -> None:
    tx = signed()
    bad = bytes([tx.signature[0] ^ 1]) + tx.signature[1:]
    result = T.check_tx(store, T.decode_tx(T.encode_tx(tx.body, bad)), CHAIN, PARAMS)
    assert result.code == T.CODE_UNAUTHORIZED and "signature verification failed" in result.log


@pytest.mark.parametrize("change", [{"memo": "changed"}, {"sequence": 0, "gas_limit": 199_999},
                                    {"fee": [{"amount": "1", "denom": "ucnv"}]},
                                    {"pubkey": b64encode(BOB.pubkey)}])
def test_tampered_body_refused(store: MemoryKV, change: dict) -> None:
    tx = signed()
    body = body_doc(tx)
    body.update(change)
    forged = T.decode_tx(canonical_json({"body": body, "signature": b64encode(tx.signature)}))
    assert T.check_tx(store, forged, CHAIN, PARAMS).code == T.CODE_UNAUTHORIZED


def test_signed_by_another_key_refused(store: MemoryKV) -> None:
    forged = T.decode_tx(raw_with(signed(), key=BOB))
    assert T.check_tx(store, forged, CHAIN, PARAMS).code == T.CODE_UNAUTHORIZED


def test_wrong_chain_id_refused(store: MemoryKV) -> None:
    result = T.check_tx(store, signed(chain_id="other-chain"), CHAIN, PARAMS)
    assert result.code == T.CODE_INVALID_CHAIN_ID
    assert result.log == "wrong chain id: the tx is for 'other-chain', this chain is 'conclave-test'"


def test_gas_limit_above_block_limit_refused(store: MemoryKV) -> None:
    result = T.check_tx(store, signed(gas_limit=10_000_001), CHAIN, PARAMS)
    assert result.code == T.CODE_INVALID_GAS_LIMIT and "exceeds the block gas limit 10000000" in result.log
    assert T.check_tx(store, signed(gas_limit=10_000_000), CHAIN, PARAMS).ok


def test_fee_floor_and_zero_fee(store: MemoryKV) -> None:
    priced = T.TxParams(PREFIX, min_gas_prices=T.parse_gas_prices("0.025ucnv,1uatom"))
    assert priced.min_gas_prices == (("ucnv", Fraction(1, 40)), ("uatom", Fraction(1)))
    assert T.required_fee(1001, priced) == (("ucnv", 26), ("uatom", 1001))  # rounded up
    low = T.check_tx(store, signed(gas_limit=1001, fee=(("ucnv", 25),)), CHAIN, priced)
    assert low.code == T.CODE_INSUFFICIENT_FEE and "need at least one of 26ucnv,1001uatom" in low.log
    assert T.check_tx(store, signed(gas_limit=1001, fee=(("ucnv", 26),)), CHAIN, priced).ok
    assert T.check_tx(store, signed(gas_limit=1001), CHAIN, priced).code == T.CODE_INSUFFICIENT_FEE
    assert T.check_tx(store, signed(), CHAIN, PARAMS).ok  # no floor: fees optional
    for bad in ("0.0.1ucnv", "ucnv", "1", ".5ucnv", "1u"):
        with pytest.raises(ValueError, match="invalid gas price"):
            T.parse_gas_prices(bad)


def test_flat_min_fee_adds_to_the_gas_price(store: MemoryKV) -> None:
    flat = T.TxParams(PREFIX, min_fee=(("ucnv", 10), ("uatom", 3)), min_gas_prices=(("ucnv", Fraction(1, 100)),))
    assert T.required_fee(1000, flat) == (("ucnv", 20), ("uatom", 3))
    assert T.check_tx(store, signed(gas_limit=1000, fee=(("ucnv", 19),)), CHAIN, flat).code == T.CODE_INSUFFICIENT_FEE
    assert T.check_tx(store, signed(gas_limit=1000, fee=(("ucnv", 20),)), CHAIN, flat).ok


def test_unaffordable_fee_refused(store: MemoryKV) -> None:
    result = T.check_tx(store, signed(fee=(("ucnv", 1_001),)), CHAIN, PARAMS)
    assert result.code == T.CODE_INSUFFICIENT_FUNDS and "has 1000ucnv, needs 1001ucnv" in result.log


def test_address_with_wrong_prefix_refused(store: MemoryKV) -> None:
    tx = signed(msgs=[T.Send(BOB.address("cosmos"), (("ucnv", 1),))])
    result = T.check_tx(store, tx, CHAIN, PARAMS)
    assert result.code == T.CODE_INVALID_ADDRESS and "msgs[0].send.to_address" in result.log


def test_tx_larger_than_params_limit_refused(store: MemoryKV) -> None:
    tx = signed(memo="m" * 200)
    small = T.TxParams(PREFIX, max_tx_bytes=tx.size - 1)
    assert T.check_tx(store, tx, CHAIN, small).code == T.CODE_TX_TOO_LARGE
    _, result = T.check_tx_bytes(store, tx.raw, CHAIN, small)
    assert result.code == T.CODE_TX_TOO_LARGE


def test_check_tx_bytes_reports_decode_errors(store: MemoryKV) -> None:
    tx, result = T.check_tx_bytes(store, b"garbage", CHAIN, PARAMS)
    assert tx is None and result.code == T.CODE_TX_DECODE and "not valid JSON" in result.log
    tx, result = T.check_tx_bytes(store, signed().raw, CHAIN, PARAMS)
    assert tx is not None and result.ok


def test_check_tx_never_writes(store: MemoryKV) -> None:
    before = len(store)
    T.check_tx(store, signed(fee=(("ucnv", 10),)), CHAIN, PARAMS)
    assert len(store) == before and T.account_sequence(store, ALICE.address(PREFIX)) == 0


# -- decoding: refusals --------------------------------------------------------------------

def refused(raw: bytes, message: str, code: int | None = None) -> T.TxError:
    with pytest.raises(T.TxError) as err:
        T.decode_tx(raw)
    assert message in str(err.value), str(err.value)
    if code is not None:
        assert err.value.code == code
    return err.value


def test_ten_megabyte_tx_refused_before_parsing() -> None:
    refused(b"{" + b" " * (10 * 1024 * 1024), "more than the limit of 1200000", T.CODE_TX_TOO_LARGE)


def test_largest_contract_fits_in_a_proposal() -> None:
    wasm = b"\x00asm" + b"\x01" * (800 * 1024 - 4)
    tx = signed(msgs=[T.ProposeCode(wasm, "t" * 256, "d" * 16_384, T.CodeMigration(CONTRACT, {"m": {}}))])
    assert tx.size <= T.MAX_TX_BYTES
    refused(raw_with(tx, msgs=[{"propose_code": {"wasm": b64encode(wasm + b"x"), "title": "t",
                                                 "description": "", "migrate": None}}]),
            "wasm must be 1..819200 bytes")


def test_memo_too_long_refused() -> None:
    refused(raw_with(signed(), memo="x" * 257), "memo is 257 characters, more than 256", T.CODE_MEMO_TOO_LARGE)
    assert T.decode_tx(raw_with(signed(), memo="☃" * 256)).body.memo == "☃" * 256


def test_too_many_and_zero_msgs_refused() -> None:
    one = T.msg_json(send())
    refused(raw_with(signed(), msgs=[one] * 33), "1..32 messages, got 33")
    refused(raw_with(signed(), msgs=[]), "1..32 messages, got 0")
    assert len(T.decode_tx(raw_with(signed(), msgs=[one] * 32)).body.msgs) == 32


def test_store_code_refused_with_its_own_message() -> None:
    for kind in ("store_code", "MsgStoreCode", "/cosmwasm.wasm.v1.MsgStoreCode"):
        err = refused(raw_with(signed(), msgs=[{kind: {"wasm_byte_code": b64encode(b"\x00asm")}}]), "")
        assert str(err) == "code can only be uploaded through a governance proposal: use propose_code"


@pytest.mark.parametrize("msg", [{"burn": {}}, {"Send": {}}, {"bank": {"send": {}}}, {}, [], "send",
                                 {"send": {}, "execute": {}}])
def test_unknown_message_kinds_refused(msg) -> None:
    err = refused(raw_with(signed(), msgs=[msg]), "msgs[0]", T.CODE_UNKNOWN_REQUEST)
    assert "send, instantiate, execute, migrate, update_admin, clear_admin, propose_code" in str(err)


BAD_MSGS = {
    "send without amount": ({"send": {"to_address": BOB_ADDR}}, "missing field(s) amount"),
    "send empty amount": ({"send": {"to_address": BOB_ADDR, "amount": []}}, "amount is empty"),
    "send extra field": ({"send": {"to_address": BOB_ADDR, "amount": [], "x": 1}}, "unknown field(s) x"),
    "zero coin": ({"send": {"to_address": BOB_ADDR, "amount": [{"amount": "0", "denom": "ucnv"}]}},
                  "zero amount"),
    "numeric amount": ({"send": {"to_address": BOB_ADDR, "amount": [{"amount": 5, "denom": "ucnv"}]}},
                       "each coin is"),
    "bad denom": ({"send": {"to_address": BOB_ADDR, "amount": [{"amount": "5", "denom": "u"}]}}, "invalid denom"),
    "address number": ({"send": {"to_address": 5, "amount": [{"amount": "5", "denom": "ucnv"}]}},
                       "to_address must be an address"),
    "code id zero": ({"instantiate": {"code_id": 0, "msg": {}, "funds": [], "label": "l", "admin": None}},
                     "code_id must be in 1.."),
    "code id bool": ({"instantiate": {"code_id": True, "msg": {}, "funds": [], "label": "l", "admin": None}},
                     "code_id must be an integer"),
    "blank label": ({"instantiate": {"code_id": 1, "msg": {}, "funds": [], "label": "  ", "admin": None}},
                    "label is required"),
    "long label": ({"instantiate": {"code_id": 1, "msg": {}, "funds": [], "label": "l" * 129, "admin": None}},
                   "longer than 128 bytes"),
    "msg not object": ({"execute": {"contract": CONTRACT, "msg": "e30=", "funds": []}}, "msg must be a JSON object"),
    "propose bad b64": ({"propose_code": {"wasm": "!!", "title": "t", "description": "", "migrate": None}},
                        "invalid base64"),
    "propose empty": ({"propose_code": {"wasm": "", "title": "t", "description": "", "migrate": None}},
                      "wasm must be 1.."),
    "propose long title": ({"propose_code": {"wasm": "AA==", "title": "t" * 257, "description": "",
                                             "migrate": None}}, "longer than 256 bytes"),
    "propose bad migrate": ({"propose_code": {"wasm": "AA==", "title": "t", "description": "",
                                              "migrate": {"contract": CONTRACT}}}, "missing field(s) msg"),
}


@pytest.mark.parametrize("case", list(BAD_MSGS))
def test_malformed_messages_refused(case: str) -> None:
    msg, message = BAD_MSGS[case]
    refused(raw_with(signed(), msgs=[msg]), message)


BAD_BODIES = {
    "sequence negative": ({"sequence": -1}, "body.sequence must be in 0..18446744073709551615"),
    "sequence too big": ({"sequence": 1 << 64}, "body.sequence must be in"),
    "sequence string": ({"sequence": "1"}, "body.sequence must be an integer"),
    "gas zero": ({"gas_limit": 0}, "body.gas_limit must be in 1.."),
    "gas huge": ({"gas_limit": 1 << 63}, "body.gas_limit must be in 1.."),
    "chain id empty": ({"chain_id": ""}, "chain_id is empty"),
    "chain id long": ({"chain_id": "c" * 51}, "longer than 50 characters"),
    "pubkey short": ({"pubkey": b64encode(b"k" * 31)}, "ed25519 key of 32 bytes"),
    "pubkey not b64": ({"pubkey": "%%%"}, "invalid base64"),
    "fee dict": ({"fee": {"denom": "ucnv"}}, "body.fee must be a list"),
    "fee duplicate": ({"fee": [{"amount": "1", "denom": "ucnv"}] * 2}, "duplicate denom"),
    "memo number": ({"memo": 5}, "body.memo must be a string"),
    "msgs object": ({"msgs": {}}, "body.msgs must be a list"),
    "extra field": ({"timeout": 5}, "body: unknown field(s) timeout"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_malformed_bodies_refused(case: str) -> None:
    change, message = BAD_BODIES[case]
    refused(raw_with(signed(), **change), message)


def test_missing_body_field_refused() -> None:
    body = body_doc(signed())
    del body["memo"]
    refused(canonical_json({"body": body, "signature": b64encode(bytes(64))}), "body: missing field(s) memo")


def test_non_canonical_encodings_refused() -> None:
    tx = signed()
    doc = json.loads(tx.raw)
    refused(json.dumps(doc).encode(), "not in canonical form")                       # whitespace
    reordered = {"signature": doc["signature"], "body": dict(reversed(list(doc["body"].items())))}
    refused(json.dumps(reordered, separators=(",", ":"), ensure_ascii=False).encode(), "not in canonical form")
    refused(tx.raw.replace(b'"memo":""', b'"memo":"","memo":""'), "not in canonical form")  # duplicate key
    refused(tx.raw.replace(b'"memo":""', b'"memo":"\\u0061"'), "not in canonical form")  # needless escape
    refused(tx.raw + b"\n", "not in canonical form")
    refused(b"\xef\xbb\xbf" + tx.raw, "not valid JSON")                               # BOM


@pytest.mark.parametrize("raw, message", [
    (b"", "empty transaction"),
    (b"\xff\xfe{}", "not UTF-8"),
    ('{"a":1}'.encode("utf-16"), "not UTF-8"),
    (b"[]", "transaction must be a JSON object"),
    (b"{}", "missing field(s) body, signature"),
    (b'{"body":1.5,"signature":""}', "numbers must be integers, got 1.5"),
    (b'{"body":NaN,"signature":""}', "NaN is not JSON"),
    (b'{"body":' + b"9" * 5000 + b',"signature":""}', "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"body":{},"signature":"x"}', "body: missing field(s)"),
])
def test_malformed_bytes_refused(raw: bytes, message: str) -> None:
    refused(raw, message)


def test_lone_surrogate_refused() -> None:
    refused(raw_with(signed(), memo="ok").replace(b'"memo":"ok"', b'"memo":"\\ud800"'), "cannot be encoded")


def test_short_signature_refused() -> None:
    doc = json.loads(signed().raw)
    doc["signature"] = b64encode(bytes(63))
    refused(canonical_json(doc), "signature must be 64 bytes", T.CODE_UNAUTHORIZED)


# -- fuzzing -------------------------------------------------------------------------------

def decode_or_tx_error(raw: bytes) -> None:
    try:
        T.decode_tx(raw)
    except T.TxError as err:
        assert str(err) and isinstance(err.code, int)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes(raw: bytes) -> None:
    decode_or_tx_error(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_fuzz_random_json(value) -> None:
    decode_or_tx_error(json.dumps(value).encode())
    decode_or_tx_error(json.dumps({"body": value, "signature": "AA=="}).encode())


body_values = st.fixed_dictionaries({
    "chain_id": st.text(max_size=60), "pubkey": st.sampled_from([b64encode(ALICE.pubkey), "AA==", "", "x"]),
    "sequence": st.integers(min_value=-2, max_value=1 << 65) | st.text(max_size=3),
    "gas_limit": st.integers(min_value=-2, max_value=1 << 64), "fee": json_values,
    "msgs": st.lists(st.dictionaries(st.sampled_from(T.MSG_KINDS + ("store_code", "x")), json_values,
                                     max_size=2), max_size=3),
    "memo": st.text(max_size=300) | st.integers()})


@settings(max_examples=300, deadline=None)
@given(body_values, st.binary(max_size=70))
def test_fuzz_structured_bodies(body: dict, signature: bytes) -> None:
    try:
        raw = canonical_json({"body": body, "signature": b64encode(signature)})
    except (UnicodeEncodeError, ValueError):
        return
    decode_or_tx_error(raw)
