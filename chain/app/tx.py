"""Signed transactions: their wire form, the messages they carry, and the checks before execution.

A transaction is canonical JSON (chain.codec.canonical_json: sorted keys, no whitespace)::

    {"body": {"chain_id": "conclave-1", "fee": [{"amount": "100", "denom": "ucnv"}],
              "gas_limit": 200000, "memo": "", "msgs": [{"send": {...}}],
              "pubkey": "<b64 ed25519, 32 bytes>", "sequence": 7},
     "signature": "<b64, 64 bytes>"}

The signature is ed25519 by ``pubkey`` over ``sign_doc(body)`` = canonical_json(body); the
sender is the account address of ``pubkey``. Decoding is strict: every field is required, no
other field is allowed, and the bytes must be exactly the canonical encoding of what they
contain, so one transaction has one encoding and therefore one hash. The tx hash is the
sha256 of the raw bytes, written as 64 uppercase hex digits (as CometBFT shows tx hashes).

Each message is an object with one key, its kind (the vocabulary of DESIGN.md)::

    {"send": {"to_address": ADDR, "amount": [COIN]}}
    {"instantiate": {"code_id": N, "msg": {...}, "funds": [COIN], "label": STR, "admin": ADDR|null}}
    {"execute": {"contract": ADDR, "msg": {...}, "funds": [COIN]}}
    {"migrate": {"contract": ADDR, "code_id": N, "msg": {...}}}          (admin only, at execution)
    {"update_admin": {"contract": ADDR, "new_admin": ADDR}}
    {"clear_admin": {"contract": ADDR}}
    {"propose_code": {"wasm": B64, "title": STR, "description": STR,
                      "migrate": {"contract": ADDR, "msg": {...}} | null}}

There is no message that stores code: new code enters only through a governance proposal.

``check_tx`` is what a transaction must pass before the mempool admits it and again before
execution (cosmos-sdk's ante handler): chain id, size, gas limit, fee, addresses and signature
(stateless), then sequence and fee balance against the state. ``ante`` runs the same checks and
then consumes the sequence and takes the fee. Error codes are cosmos-sdk's root codespace.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Union

from ..codec import DecodeError, b64decode, b64encode, canonical_json, compact_json
from ..crypto import account_address, encode_address, sha256
from ..crypto.keys import PUBKEY_BYTES, SIGNATURE_BYTES, PrivateKey, verify
from ..vm.validation import MAX_WASM_SIZE
from . import bank
from .address import Bech32Api
from .coins import DENOM_RE, coins_json, parse_coins
from .errors import AppError, InvalidRequest
from .kv import KVStore
from .memo import BoundedMemo
from .wasm.keeper import MAX_LABEL_LENGTH

# An 800 KiB contract (the VM's limit) is 1,092,268 bytes of base64; with a proposal's title,
# description and migrate message it still fits in this bound, and nothing larger is parsed.
MAX_TX_BYTES = 1_200_000
MAX_MEMO_CHARS = 256                 # cosmos-sdk DefaultMaxMemoCharacters
MAX_MSGS = 32
MAX_CHAIN_ID_CHARS = 50              # CometBFT MaxChainIDLen
MAX_SEQUENCE = (1 << 64) - 1         # u64
MAX_GAS_LIMIT = (1 << 63) - 1        # gas is an int64 in CometBFT's block params
MAX_CODE_ID = (1 << 64) - 1
MAX_ADDRESS_CHARS = 256
MAX_TITLE_BYTES = 256                # the voting contract's MAX_TITLE_LEN
MAX_DESCRIPTION_BYTES = 16_384       # the voting contract's MAX_DESCRIPTION_LEN
DEFAULT_MAX_BLOCK_GAS = 100_000_000
# bech32 in pure Python costs ~0.2 ms an address; senders and contracts recur, so remember them.
ADDRESS_CACHE_SIZE = 65_536
# A tx's bytes are decoded at admission, in the proposal and at execution: the decode is a pure
# function of the bytes, so the decoded Tx is remembered under them (bounded; see memo.py).
# The bound covers a full default mempool (5,000 txs) several times over.
DECODED_TX_CACHE_ENTRIES = 16_384
DECODED_TX_CACHE_BYTES = 32 * 1024 * 1024
# ed25519 checks that passed, by sha256(pubkey || signature || message): execution re-checks a tx
# admission already verified for the price of one sha256 (~1 µs instead of ~45 µs).
VERIFIED_SIGNATURE_CACHE_ENTRIES = 65_536
SEQUENCE_PREFIX = b"auth/seq/"
FEE_COLLECTOR_MODULE = b"fee_collector"   # cosmos-sdk auth module account name

STORE_CODE_REFUSED = "code can only be uploaded through a governance proposal: use propose_code"

# cosmos-sdk types/errors root codespace
CODE_OK = 0
CODE_TX_DECODE = 2
CODE_UNAUTHORIZED = 4
CODE_INSUFFICIENT_FUNDS = 5
CODE_UNKNOWN_REQUEST = 6
CODE_INVALID_ADDRESS = 7
CODE_INVALID_PUBKEY = 8
CODE_INVALID_COINS = 10
CODE_MEMO_TOO_LARGE = 12
CODE_INSUFFICIENT_FEE = 13
CODE_INVALID_REQUEST = 18
CODE_TX_TOO_LARGE = 21
CODE_INVALID_CHAIN_ID = 28
CODE_WRONG_SEQUENCE = 32
CODE_INVALID_GAS_LIMIT = 41


class TxError(AppError):
    """A transaction was refused before execution; ``code`` is cosmos-sdk's, the message says why."""

    def __init__(self, message: str, code: int = CODE_TX_DECODE):
        super().__init__(message)
        self.code = code


def ensure(condition: bool, message: str, code: int = CODE_TX_DECODE) -> None:
    if not condition:
        raise TxError(message, code)


# -- messages ------------------------------------------------------------------------------

Coins = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Send:
    to_address: str
    amount: Coins
    KIND = "send"

    def fields(self) -> dict[str, Any]:
        return {"to_address": self.to_address, "amount": coins_json(self.amount)}


@dataclass(frozen=True)
class Instantiate:
    code_id: int
    msg: dict[str, Any]
    funds: Coins
    label: str
    admin: str | None
    KIND = "instantiate"

    def fields(self) -> dict[str, Any]:
        return {"code_id": self.code_id, "msg": self.msg, "funds": coins_json(self.funds),
                "label": self.label, "admin": self.admin}


@dataclass(frozen=True)
class Execute:
    contract: str
    msg: dict[str, Any]
    funds: Coins
    KIND = "execute"

    def fields(self) -> dict[str, Any]:
        return {"contract": self.contract, "msg": self.msg, "funds": coins_json(self.funds)}


@dataclass(frozen=True)
class Migrate:
    contract: str
    code_id: int
    msg: dict[str, Any]
    KIND = "migrate"

    def fields(self) -> dict[str, Any]:
        return {"contract": self.contract, "code_id": self.code_id, "msg": self.msg}


@dataclass(frozen=True)
class UpdateAdmin:
    contract: str
    new_admin: str
    KIND = "update_admin"

    def fields(self) -> dict[str, Any]:
        return {"contract": self.contract, "new_admin": self.new_admin}


@dataclass(frozen=True)
class ClearAdmin:
    contract: str
    KIND = "clear_admin"

    def fields(self) -> dict[str, Any]:
        return {"contract": self.contract}


@dataclass(frozen=True)
class CodeMigration:
    """The migration a code proposal runs once its code is stored."""

    contract: str
    msg: dict[str, Any]


@dataclass(frozen=True)
class ProposeCode:
    wasm: bytes
    title: str
    description: str
    migrate: CodeMigration | None
    KIND = "propose_code"

    def fields(self) -> dict[str, Any]:
        migrate = None if self.migrate is None else {"contract": self.migrate.contract, "msg": self.migrate.msg}
        return {"wasm": b64encode(self.wasm), "title": self.title, "description": self.description,
                "migrate": migrate}


Msg = Union[Send, Instantiate, Execute, Migrate, UpdateAdmin, ClearAdmin, ProposeCode]


def msg_json(msg: Msg) -> dict[str, Any]:
    return {msg.KIND: msg.fields()}


def contract_msg_bytes(msg: dict[str, Any]) -> bytes:
    """The bytes a contract receives for a message carried as a JSON object."""
    return compact_json(msg)


def msg_addresses(msg: Msg) -> list[tuple[str, str]]:
    """(field, address) pairs of a message, to check against the chain's prefix."""
    if isinstance(msg, Send):
        return [("to_address", msg.to_address)]
    if isinstance(msg, Instantiate):
        return [] if msg.admin is None else [("admin", msg.admin)]
    if isinstance(msg, UpdateAdmin):
        return [("contract", msg.contract), ("new_admin", msg.new_admin)]
    if isinstance(msg, ProposeCode):
        return [] if msg.migrate is None else [("migrate.contract", msg.migrate.contract)]
    return [("contract", msg.contract)]


# -- the transaction -----------------------------------------------------------------------

@dataclass(frozen=True)
class TxBody:
    chain_id: str
    pubkey: bytes
    sequence: int
    gas_limit: int
    fee: Coins
    msgs: tuple[Msg, ...]
    memo: str

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "pubkey": b64encode(self.pubkey), "sequence": self.sequence,
                "gas_limit": self.gas_limit, "fee": coins_json(self.fee),
                "msgs": [msg_json(m) for m in self.msgs], "memo": self.memo}

    @property
    def signer(self) -> bytes:
        """The sender's canonical address: sha256(pubkey)[:20]."""
        return account_address(self.pubkey)


@dataclass(frozen=True)
class Tx:
    body: TxBody
    signature: bytes
    raw: bytes = field(repr=False)
    hash: str                       # uppercase hex sha256(raw)

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def sign_bytes(self) -> bytes:
        """sign_doc(body), cut from the raw bytes: they are canonical, so the body is '{"body":' ... ',"signature":'."""
        return self.raw[len(b'{"body":'):self.raw.rindex(b',"signature":')]

    def sender(self, prefix: str) -> str:
        return _sender_address(self.body.pubkey, prefix)


@functools.lru_cache(maxsize=ADDRESS_CACHE_SIZE)
def _sender_address(pubkey: bytes, prefix: str) -> str:
    return encode_address(prefix, account_address(pubkey))


@functools.lru_cache(maxsize=ADDRESS_CACHE_SIZE)
def _address_error(address: str, prefix: str) -> str | None:
    """Why ``address`` is not a normalized address of this chain, or None if it is."""
    try:
        Bech32Api(prefix).validate(address)
    except InvalidRequest as exc:
        return str(exc)
    return None


def sign_doc(body: TxBody | dict[str, Any]) -> bytes:
    """The bytes a client signs: the canonical JSON of the body."""
    return canonical_json(body.to_json() if isinstance(body, TxBody) else body)


def tx_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest().upper()


def encode_tx(body: TxBody, signature: bytes) -> bytes:
    return canonical_json({"body": body.to_json(), "signature": b64encode(signature)})


def sign_tx(key: PrivateKey, body: TxBody) -> Tx:
    """Sign ``body`` with ``key`` (whose pubkey must be the body's) and return the decoded tx."""
    if key.pubkey != body.pubkey:
        raise ValueError("the signing key is not the body's pubkey")
    return decode_tx(encode_tx(body, key.sign(sign_doc(body))))


def build_tx(key: PrivateKey, chain_id: str, sequence: int, msgs: list[Msg] | tuple[Msg, ...], *,
             gas_limit: int = 200_000, fee: Coins = (), memo: str = "") -> Tx:
    """A signed tx from its parts: what a client (CLI, tests, bench) calls."""
    body = TxBody(chain_id, key.pubkey, sequence, gas_limit, tuple(fee), tuple(msgs), memo)
    return sign_tx(key, body)


# -- decoding ------------------------------------------------------------------------------

def _refuse_float(text: str) -> Any:
    raise TxError(f"numbers must be integers, got {text}")


def _refuse_constant(text: str) -> Any:
    raise TxError(f"{text} is not JSON")


_decoded_txs: BoundedMemo[Tx] = BoundedMemo(DECODED_TX_CACHE_ENTRIES, DECODED_TX_CACHE_BYTES)


def decode_tx(raw: bytes) -> Tx:
    """Parse and validate a transaction's bytes; anything but a well-formed tx is a TxError.

    The same bytes always decode to the same Tx, so a decoded tx is remembered under its exact
    bytes and the same (immutable) object is returned again: callers must not mutate it.
    Only successful decodes are remembered; refusals are recomputed (they are cheap or rare).
    """
    if isinstance(raw, bytearray):
        raw = bytes(raw)
    if isinstance(raw, bytes):
        tx = _decoded_txs.get(raw)
        if tx is not None:
            return tx
    tx = _decode_tx_uncached(raw)
    _decoded_txs.put(tx.raw, tx, len(tx.raw))
    return tx


def _decode_tx_uncached(raw: bytes) -> Tx:
    ensure(isinstance(raw, (bytes, bytearray)), "a transaction is bytes")
    raw = bytes(raw)
    ensure(len(raw) <= MAX_TX_BYTES, f"transaction is {len(raw)} bytes, more than the limit of {MAX_TX_BYTES}",
           CODE_TX_TOO_LARGE)
    ensure(len(raw) > 0, "empty transaction")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TxError(f"transaction is not UTF-8 (at byte {exc.start})") from None
    try:
        doc = json.loads(text, parse_float=_refuse_float, parse_constant=_refuse_constant)
    except TxError:
        raise
    except RecursionError:
        raise TxError("transaction JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer with too many digits
        pos = getattr(exc, "pos", None)
        where = f" at character {pos}" if isinstance(pos, int) else ""
        raise TxError(f"transaction is not valid JSON{where}") from None
    _exact_fields(doc, ("body", "signature"), "transaction")
    body_doc = doc["body"]
    body = _decode_body(body_doc)
    signature = _b64(doc["signature"], "signature")
    ensure(len(signature) == SIGNATURE_BYTES, f"signature must be {SIGNATURE_BYTES} bytes, got {len(signature)}",
           CODE_UNAUTHORIZED)
    try:
        canonical = canonical_json(doc)
    except (UnicodeEncodeError, RecursionError, ValueError):
        raise TxError("transaction contains text that cannot be encoded canonically (lone surrogates?)") from None
    ensure(canonical == raw, "transaction is not in canonical form: encode it with sorted keys, no whitespace "
                             "and no needless escapes (chain.codec.canonical_json)")
    return Tx(body=body, signature=signature, raw=raw, hash=tx_hash(raw))


_FIELD_SETS: dict[tuple[str, ...], frozenset[str]] = {}


def _exact_fields(doc: Any, names: tuple[str, ...], where: str) -> None:
    ensure(isinstance(doc, dict), f"{where} must be a JSON object")
    expected = _FIELD_SETS.get(names)
    if expected is None:
        expected = _FIELD_SETS.setdefault(names, frozenset(names))
    if doc.keys() == expected:          # the well-formed case: exactly these fields
        return
    missing = [n for n in names if n not in doc]
    ensure(not missing, f"{where}: missing field(s) {', '.join(missing)}")
    extra = sorted(set(doc) - set(names))
    ensure(not extra, f"{where}: unknown field(s) {', '.join(extra)}")


def _int(value: Any, lo: int, hi: int, where: str, code: int = CODE_TX_DECODE) -> int:
    ensure(type(value) is int, f"{where} must be an integer", code)
    ensure(lo <= value <= hi, f"{where} must be in {lo}..{hi}, got {value}", code)
    return value


def _str(value: Any, where: str, max_chars: int | None = None, max_bytes: int | None = None) -> str:
    ensure(isinstance(value, str), f"{where} must be a string")
    if max_chars is not None:
        ensure(len(value) <= max_chars, f"{where} is longer than {max_chars} characters")
    if max_bytes is not None:
        ensure(len(value.encode("utf-8", "surrogatepass")) <= max_bytes, f"{where} is longer than {max_bytes} bytes")
    return value


def _b64(value: Any, where: str) -> bytes:
    ensure(isinstance(value, str), f"{where} must be a base64 string")
    try:
        return b64decode(value)
    except DecodeError as exc:
        raise TxError(f"{where}: {exc}") from None


def _coins(value: Any, where: str) -> Coins:
    ensure(isinstance(value, list), f"{where} must be a list of {{denom, amount}}", CODE_INVALID_COINS)
    for coin in value:
        ensure(isinstance(coin, dict) and isinstance(coin.get("amount"), str),
               f"{where}: each coin is {{\"denom\": STR, \"amount\": \"DECIMAL\"}}, got {_short(coin)}",
               CODE_INVALID_COINS)
    try:
        return tuple(parse_coins(value))
    except InvalidRequest as exc:
        raise TxError(f"{where}: {exc}", CODE_INVALID_COINS) from None


def _address(value: Any, where: str) -> str:
    ensure(isinstance(value, str) and 0 < len(value) <= MAX_ADDRESS_CHARS,
           f"{where} must be an address (a bech32 string)", CODE_INVALID_ADDRESS)
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    ensure(isinstance(value, dict), f"{where} must be a JSON object")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _decode_body(doc: Any) -> TxBody:
    _exact_fields(doc, ("chain_id", "pubkey", "sequence", "gas_limit", "fee", "msgs", "memo"), "body")
    chain_id = _str(doc["chain_id"], "body.chain_id", MAX_CHAIN_ID_CHARS)
    ensure(chain_id != "", "body.chain_id is empty", CODE_INVALID_CHAIN_ID)
    pubkey = _b64(doc["pubkey"], "body.pubkey")
    ensure(len(pubkey) == PUBKEY_BYTES, f"body.pubkey must be an ed25519 key of {PUBKEY_BYTES} bytes, "
                                        f"got {len(pubkey)}", CODE_INVALID_PUBKEY)
    sequence = _int(doc["sequence"], 0, MAX_SEQUENCE, "body.sequence")
    gas_limit = _int(doc["gas_limit"], 1, MAX_GAS_LIMIT, "body.gas_limit", CODE_INVALID_GAS_LIMIT)
    fee = _coins(doc["fee"], "body.fee")
    memo = doc["memo"]
    ensure(isinstance(memo, str), "body.memo must be a string")
    ensure(len(memo) <= MAX_MEMO_CHARS, f"memo is {len(memo)} characters, more than {MAX_MEMO_CHARS}",
           CODE_MEMO_TOO_LARGE)
    msgs = doc["msgs"]
    ensure(isinstance(msgs, list), "body.msgs must be a list of messages")
    ensure(0 < len(msgs) <= MAX_MSGS, f"a transaction carries 1..{MAX_MSGS} messages, got {len(msgs)}")
    decoded = tuple(_decode_msg(m, f"msgs[{i}]") for i, m in enumerate(msgs))
    return TxBody(chain_id, pubkey, sequence, gas_limit, fee, decoded, memo)


def _decode_msg(doc: Any, where: str) -> Msg:
    ensure(isinstance(doc, dict) and len(doc) == 1,
           f"{where} must be an object with exactly one key, the message kind ({', '.join(MSG_KINDS)})",
           CODE_UNKNOWN_REQUEST)
    (kind, value), = doc.items()
    if kind in STORE_CODE_KINDS:
        raise TxError(STORE_CODE_REFUSED, CODE_UNAUTHORIZED)
    decoder = _DECODERS.get(kind)
    ensure(decoder is not None, f"{where}: unknown message kind {_short(kind)}: expected one of "
                                f"{', '.join(MSG_KINDS)}", CODE_UNKNOWN_REQUEST)
    return decoder(value, f"{where}.{kind}")


def _decode_send(doc: Any, where: str) -> Send:
    _exact_fields(doc, ("to_address", "amount"), where)
    amount = _coins(doc["amount"], f"{where}.amount")
    ensure(len(amount) > 0, f"{where}.amount is empty: send at least one coin", CODE_INVALID_COINS)
    return Send(_address(doc["to_address"], f"{where}.to_address"), amount)


def _label(value: Any, where: str) -> str:
    label = _str(value, where, max_bytes=MAX_LABEL_LENGTH)
    ensure(label.strip() != "", f"{where} is required (a non-blank name for the contract)")
    return label


def _code_id(value: Any, where: str) -> int:
    return _int(value, 1, MAX_CODE_ID, where)


def _decode_instantiate(doc: Any, where: str) -> Instantiate:
    _exact_fields(doc, ("code_id", "msg", "funds", "label", "admin"), where)
    admin = None if doc["admin"] is None else _address(doc["admin"], f"{where}.admin")
    return Instantiate(_code_id(doc["code_id"], f"{where}.code_id"), _object(doc["msg"], f"{where}.msg"),
                       _coins(doc["funds"], f"{where}.funds"), _label(doc["label"], f"{where}.label"), admin)


def _decode_execute(doc: Any, where: str) -> Execute:
    _exact_fields(doc, ("contract", "msg", "funds"), where)
    return Execute(_address(doc["contract"], f"{where}.contract"), _object(doc["msg"], f"{where}.msg"),
                   _coins(doc["funds"], f"{where}.funds"))


def _decode_migrate(doc: Any, where: str) -> Migrate:
    _exact_fields(doc, ("contract", "code_id", "msg"), where)
    return Migrate(_address(doc["contract"], f"{where}.contract"), _code_id(doc["code_id"], f"{where}.code_id"),
                   _object(doc["msg"], f"{where}.msg"))


def _decode_update_admin(doc: Any, where: str) -> UpdateAdmin:
    _exact_fields(doc, ("contract", "new_admin"), where)
    return UpdateAdmin(_address(doc["contract"], f"{where}.contract"),
                       _address(doc["new_admin"], f"{where}.new_admin"))


def _decode_clear_admin(doc: Any, where: str) -> ClearAdmin:
    _exact_fields(doc, ("contract",), where)
    return ClearAdmin(_address(doc["contract"], f"{where}.contract"))


def _decode_propose_code(doc: Any, where: str) -> ProposeCode:
    _exact_fields(doc, ("wasm", "title", "description", "migrate"), where)
    wasm = _b64(doc["wasm"], f"{where}.wasm")
    ensure(0 < len(wasm) <= MAX_WASM_SIZE, f"{where}.wasm must be 1..{MAX_WASM_SIZE} bytes, got {len(wasm)}")
    title = _str(doc["title"], f"{where}.title", max_bytes=MAX_TITLE_BYTES)
    ensure(title.strip() != "", f"{where}.title is required")
    description = _str(doc["description"], f"{where}.description", max_bytes=MAX_DESCRIPTION_BYTES)
    migrate = None
    if doc["migrate"] is not None:
        _exact_fields(doc["migrate"], ("contract", "msg"), f"{where}.migrate")
        migrate = CodeMigration(_address(doc["migrate"]["contract"], f"{where}.migrate.contract"),
                                _object(doc["migrate"]["msg"], f"{where}.migrate.msg"))
    return ProposeCode(wasm, title, description, migrate)


_DECODERS: dict[str, Callable[[Any, str], Msg]] = {
    Send.KIND: _decode_send,
    Instantiate.KIND: _decode_instantiate,
    Execute.KIND: _decode_execute,
    Migrate.KIND: _decode_migrate,
    UpdateAdmin.KIND: _decode_update_admin,
    ClearAdmin.KIND: _decode_clear_admin,
    ProposeCode.KIND: _decode_propose_code,
}
MSG_KINDS = tuple(_DECODERS)
# Spellings of a direct upload (ours, wasmd's JSON and its type URL): refused with one message.
STORE_CODE_KINDS = frozenset({"store_code", "MsgStoreCode", "/cosmwasm.wasm.v1.MsgStoreCode"})


# -- accounts ------------------------------------------------------------------------------

def _sequence_key(address: str) -> bytes:
    return SEQUENCE_PREFIX + address.encode()


def account_sequence(store: KVStore, address: str) -> int:
    """The sequence the account's next transaction must carry (0 for an account never seen)."""
    raw = store.get(_sequence_key(address))
    return int(raw) if raw else 0


def increment_sequence(store: KVStore, address: str) -> int:
    """Consume the account's sequence; returns the new one."""
    new = account_sequence(store, address) + 1
    store.set(_sequence_key(address), str(new).encode())
    return new


@functools.lru_cache(maxsize=16)
def fee_collector_address(prefix: str) -> str:
    """Where fees go: cosmos-sdk's module account address sha256("fee_collector")[:20]."""
    return encode_address(prefix, sha256(FEE_COLLECTOR_MODULE)[:20])


# -- checks --------------------------------------------------------------------------------

@dataclass(frozen=True)
class TxParams:
    """The consensus parameters a transaction is checked against (from genesis and governance)."""

    prefix: str
    max_block_gas: int = DEFAULT_MAX_BLOCK_GAS
    max_tx_bytes: int = MAX_TX_BYTES
    # The fee floor, per denom: a flat min_fee amount plus ceil(gas_limit * min gas price).
    # A tx must meet the floor in at least one of the denoms named (cosmos-sdk IsAnyGTE).
    # Both empty: fees are optional (zero allowed).
    min_fee: Coins = ()
    min_gas_prices: tuple[tuple[str, Fraction], ...] = ()


def parse_gas_prices(text: str) -> tuple[tuple[str, Fraction], ...]:
    """"0.025ucnv,1uatom" -> ((ucnv, 1/40), (uatom, 1)); exact fractions, no floats."""
    prices: list[tuple[str, Fraction]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        i = 0
        while i < len(part) and (part[i].isdigit() or part[i] == "."):
            i += 1
        number, denom = part[:i], part[i:]
        if not number or number.count(".") > 1 or number.startswith(".") or number.endswith(".") \
                or not number.isascii() or not DENOM_RE.match(denom):
            raise ValueError(f"invalid gas price {part!r}: expected e.g. 0.025ucnv")
        prices.append((denom, Fraction(number)))
    return tuple(prices)


def required_fee(gas_limit: int, params: TxParams) -> Coins:
    """The fee floor per denom for ``gas_limit``; paying any one of them suffices."""
    floor = dict(params.min_fee)
    for denom, price in params.min_gas_prices:
        floor[denom] = floor.get(denom, 0) + -(-price.numerator * gas_limit // price.denominator)
    return tuple((denom, amount) for denom, amount in floor.items() if amount > 0)


@dataclass(frozen=True)
class CheckResult:
    """CheckTx's answer: code 0 admits the tx; otherwise ``log`` says why not."""

    code: int
    log: str = ""
    gas_wanted: int = 0
    sender: str = ""
    sequence: int = 0

    @property
    def ok(self) -> bool:
        return self.code == CODE_OK


def validate_basic(tx: Tx, chain_id: str, params: TxParams) -> None:
    """The checks that need no state; raises TxError."""
    body = tx.body
    ensure(body.chain_id == chain_id, f"wrong chain id: the tx is for {body.chain_id!r}, this chain is {chain_id!r}",
           CODE_INVALID_CHAIN_ID)
    ensure(tx.size <= params.max_tx_bytes, f"transaction is {tx.size} bytes, more than the limit of "
                                           f"{params.max_tx_bytes}", CODE_TX_TOO_LARGE)
    ensure(body.gas_limit <= params.max_block_gas, f"gas limit {body.gas_limit} exceeds the block gas limit "
                                                   f"{params.max_block_gas}", CODE_INVALID_GAS_LIMIT)
    required = required_fee(body.gas_limit, params)
    if required:
        paid = dict(body.fee)
        ensure(any(paid.get(denom, 0) >= amount for denom, amount in required),
               f"insufficient fee: got {_coins_text(body.fee) or 'none'}, need at least one of "
               f"{_coins_text(required)} for gas limit {body.gas_limit}", CODE_INSUFFICIENT_FEE)
    for i, msg in enumerate(body.msgs):
        for name, address in msg_addresses(msg):
            error = _address_error(address, params.prefix)
            ensure(error is None, f"msgs[{i}].{msg.KIND}.{name}: {error}", CODE_INVALID_ADDRESS)
    ensure(signature_valid(body.pubkey, tx.sign_bytes, tx.signature),
           "signature verification failed: sign sign_doc(body) with the key of body.pubkey, "
           f"for chain {chain_id!r}", CODE_UNAUTHORIZED)


_verified_signatures: BoundedMemo[bool] = BoundedMemo(VERIFIED_SIGNATURE_CACHE_ENTRIES)


def signature_valid(pubkey: bytes, message: bytes, signature: bytes) -> bool:
    """ed25519 ``verify``, remembering the checks that passed.

    The memo key is sha256(pubkey || signature || message): pubkey and signature have fixed
    lengths, so the three parts are unambiguous, and a key names exactly what was verified.
    A failed check is not remembered (it is not repeated for a valid tx, and remembering
    failures would let junk push out the valid entries).
    """
    if len(pubkey) != PUBKEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    key = hashlib.sha256(pubkey + signature + message).digest()
    if _verified_signatures.get(key):
        return True
    if not verify(pubkey, message, signature):
        return False
    _verified_signatures.put(key, True)
    return True


def _coins_text(coins: Coins) -> str:
    return ",".join(f"{a}{d}" for d, a in coins)


def check_state(store: KVStore, tx: Tx, params: TxParams) -> str:
    """The checks against the state: the sequence is the account's next, the fee is affordable."""
    sender = tx.sender(params.prefix)
    expected = account_sequence(store, sender)
    ensure(tx.body.sequence == expected, f"account sequence mismatch: expected {expected}, got "
                                         f"{tx.body.sequence}", CODE_WRONG_SEQUENCE)
    for denom, amount in tx.body.fee:
        have = bank.balance(store, sender, denom)
        ensure(have >= amount, f"insufficient funds for the fee: {sender} has {have}{denom}, "
                               f"needs {amount}{denom}", CODE_INSUFFICIENT_FUNDS)
    return sender


def check_tx(store: KVStore, tx: Tx, chain_id: str, params: TxParams) -> CheckResult:
    """Everything a tx must pass to enter the mempool or a block; reads ``store``, never writes it."""
    try:
        validate_basic(tx, chain_id, params)
        sender = check_state(store, tx, params)
    except TxError as exc:
        return CheckResult(exc.code, str(exc), tx.body.gas_limit)
    return CheckResult(CODE_OK, "", tx.body.gas_limit, sender, tx.body.sequence)


def decode_tx_bytes(raw: bytes, params: TxParams) -> tuple[Tx | None, CheckResult | None]:
    """The size limit, then the strict decode; a refusal comes back as a CheckResult."""
    if len(raw) > params.max_tx_bytes:
        return None, CheckResult(CODE_TX_TOO_LARGE, f"transaction is {len(raw)} bytes, more than the limit of "
                                                    f"{params.max_tx_bytes}")
    try:
        return decode_tx(raw), None
    except TxError as exc:
        return None, CheckResult(exc.code, str(exc))


def check_tx_bytes(store: KVStore, raw: bytes, chain_id: str, params: TxParams) -> tuple[Tx | None, CheckResult]:
    """Decode then check: the mempool's entry point for bytes from the network."""
    tx, refused = decode_tx_bytes(raw, params)
    if refused is not None:
        return None, refused
    return tx, check_tx(store, tx, chain_id, params)


def ante(store: KVStore, tx: Tx, chain_id: str, params: TxParams) -> CheckResult:
    """check_tx, then consume the sequence and move the fee to the fee collector.

    Run on the mempool's check state at admission and on the block state before a tx's
    messages; what it writes stays even if the messages then fail (a failed tx consumes its
    sequence and pays its fee).
    """
    result = check_tx(store, tx, chain_id, params)
    if result.ok:
        increment_sequence(store, result.sender)
        bank.send(store, result.sender, fee_collector_address(params.prefix), list(tx.body.fee))
    return result
