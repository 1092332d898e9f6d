"""Genesis: the document every node loads, and the state transition that boots the chain from it.

``parse_genesis`` turns genesis JSON into a validated ``GenesisDoc`` (every error names the
field and says what to do); ``apply_genesis`` writes the first state: balances, the genesis
code (stored without a proposal: the one legitimate bypass of governance), the seven contracts
instantiated in dependency order and wired as DESIGN.md describes, the privilege registry, the
chain params, and finally the initial validator set as the valset contract computes it.
Pure: no clock, no files; the same document gives the same state on every node.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from ..codec import canonical_json, compact_json
from ..crypto import sha256
from ..vm.gas import GasMeter
from ..vm.validation import MAX_WASM_SIZE
from . import bank, params as chain_params, privileges
from .address import Bech32Api
from .coins import coins_json, parse_amount, validate_denom
from .context import BlockInfo, Context
from .errors import AppError, InvalidRequest
from .events import Event
from .kv import KVStore
from .wasm.keeper import WasmKeeper

# Dependency order: each contract is instantiated after the ones its instantiate message names.
GENESIS_CONTRACTS = ("group", "membership", "voting", "engagement", "stake", "mixer", "valset")
LABELS = {"group": "admins", "membership": "trusted-circle", "voting": "governance",
          "engagement": "engagement", "stake": "stake", "mixer": "mixer", "valset": "valset"}
TG4_ADMINISTERED = ("group", "membership", "engagement", "stake", "mixer", "valset")  # voting has none
END_BLOCKERS = ("membership", "engagement", "stake")

GENESIS_HEIGHT = 0                 # InitChain runs before block 1; tg4 snapshots see it at height 1
GENESIS_SDK_GAS = 10**12           # genesis is not metered against users; the cap only stops a runaway
GENESIS_ACCOUNT_SEED = b"conclave/genesis"
MAX_GENESIS_BYTES = 64 * 1024 * 1024
MAX_CHAIN_ID_LENGTH = 50           # CometBFT MaxChainIDLen
PREFIX_RE = re.compile(r"^[a-z]{1,20}$")
CHAIN_ID_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$")
MAX_ACCOUNTS = 10_000
MAX_MEMBERS = 100                  # the membership contract's limit for initial members
MAX_ADMINS = 100
MAX_VALIDATORS = 1_000
MAX_MONIKER_BYTES = 70            # the valset's limit for a validator's moniker
MAX_CONTRACT_NAME = 32
ED25519_PUBKEY_BYTES = 32
DECIMAL_RE = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]{1,9})?$")
RFC3339_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$")
MAX_BLOCK_BYTES = 100 * 1024 * 1024  # CometBFT MaxBlockSizeBytes
MAX_U64 = 2**64 - 1
MIXER_FUNCTIONS = ("geometric_mean", "sigmoid")
PROPOSERS = ("members", "anyone")

DEFAULT_BLOCK_MAX_BYTES = 22_020_096   # CometBFT default
DEFAULT_BLOCK_MAX_GAS = 100_000_000


class InvalidGenesis(AppError):
    """The genesis document is malformed or cannot boot a chain; the message says which field and why."""


def ensure(condition: object, message: str) -> None:
    if not condition:
        raise InvalidGenesis(message)


# --- the document -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Denoms:
    fee: str           # fees and membership escrow
    stake: str         # bonded by validators in the stake contract


@dataclass(frozen=True)
class BlockParams:
    max_bytes: int = DEFAULT_BLOCK_MAX_BYTES
    max_gas: int = DEFAULT_BLOCK_MAX_GAS


@dataclass(frozen=True)
class Account:
    address: str
    coins: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class GenesisValidator:
    operator: str
    pubkey: bytes       # ed25519 consensus key
    stake: int          # in the stake denom, bonded at genesis on the operator's behalf
    engagement: int     # engagement points granted at genesis
    moniker: str | None = None   # the name the valset shows for it (its metadata), optional


@dataclass(frozen=True)
class VotingRules:
    voting_period: int = 604_800
    quorum: str = "0.3"
    threshold: str = "0.51"
    allow_end_early: bool = True


@dataclass(frozen=True)
class ValsetParams:
    min_points: int = 1
    max_validators: int = 100
    epoch_length: int = 60
    scaling: int | None = None


@dataclass(frozen=True)
class ContractParams:
    escrow_amount: int = 1_000_000
    voting_rules: VotingRules = field(default_factory=VotingRules)
    proposers: str = "members"
    halflife: int | None = 180 * 24 * 3600      # Tgrade's genesis default
    tokens_per_point: int = 1_000_000
    min_bond: int = 1
    unbonding_period: int = 21 * 24 * 3600
    mixer_function: dict[str, Any] = field(default_factory=lambda: {"geometric_mean": {}})
    valset: ValsetParams = field(default_factory=ValsetParams)


@dataclass(frozen=True)
class ContractCode:
    name: str
    checksum: str           # hex sha256 of the wasm bytes
    wasm: bytes | None      # None in a config that `conclave genesis build` has not filled yet


@dataclass(frozen=True)
class GenesisDoc:
    chain_id: str
    genesis_time: str
    genesis_time_ns: int
    bech32_prefix: str
    denoms: Denoms
    block: BlockParams
    params: chain_params.Params
    accounts: tuple[Account, ...]
    members: tuple[str, ...]
    admins: tuple[str, ...]
    validators: tuple[GenesisValidator, ...]
    contracts: ContractParams
    code: tuple[ContractCode, ...]

    def to_json(self) -> dict[str, Any]:
        """The document as genesis JSON (``parse_genesis(to_json())`` gives it back)."""
        c, v = self.contracts, self.contracts.valset
        return {
            "chain_id": self.chain_id,
            "genesis_time": self.genesis_time,
            "bech32_prefix": self.bech32_prefix,
            "denoms": {"fee": self.denoms.fee, "stake": self.denoms.stake},
            "block": {"max_bytes": self.block.max_bytes, "max_gas": self.block.max_gas},
            "params": {k: val for k, val in self.params.to_json().items() if k != "governance_contract"},
            "accounts": [{"address": a.address, "coins": coins_json(a.coins)} for a in self.accounts],
            "members": list(self.members),
            "admins": list(self.admins),
            "validators": [{"operator": x.operator, "pubkey": base64.b64encode(x.pubkey).decode(),
                            "stake": str(x.stake), "engagement": x.engagement,
                            **({"moniker": x.moniker} if x.moniker is not None else {})} for x in self.validators],
            "contract_params": {
                "escrow_amount": str(c.escrow_amount),
                "voting_rules": {"voting_period": c.voting_rules.voting_period, "quorum": c.voting_rules.quorum,
                                 "threshold": c.voting_rules.threshold,
                                 "allow_end_early": c.voting_rules.allow_end_early},
                "proposers": c.proposers,
                "halflife": c.halflife,
                "tokens_per_point": str(c.tokens_per_point),
                "min_bond": str(c.min_bond),
                "unbonding_period": c.unbonding_period,
                "mixer_function": c.mixer_function,
                "valset": {"min_points": v.min_points, "max_validators": v.max_validators,
                           "epoch_length": v.epoch_length, "scaling": v.scaling},
            },
            "code": [{"name": k.name, "checksum": k.checksum,
                      **({"wasm": base64.b64encode(k.wasm).decode()} if k.wasm is not None else {})}
                     for k in self.code],
        }

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.to_json())


# --- parsing ----------------------------------------------------------------------------------
def parse_genesis(raw: bytes | str | dict[str, Any], require_code: bool = True) -> GenesisDoc:
    """Validate genesis JSON into a GenesisDoc. ``require_code=False`` accepts a config whose
    code has not been embedded yet (what `conclave genesis build` reads)."""
    obj = _load_json(raw) if not isinstance(raw, dict) else raw
    ensure(isinstance(obj, dict), "genesis: expected a JSON object at the top level")
    known = {"chain_id", "genesis_time", "bech32_prefix", "denoms", "block", "params", "accounts",
             "members", "admins", "validators", "contract_params", "code"}
    _no_unknown(obj, known, "genesis")
    chain_id = _string(obj.get("chain_id"), "chain_id", MAX_CHAIN_ID_LENGTH)
    ensure(CHAIN_ID_RE.match(chain_id), f"chain_id: {chain_id!r} must be letters, digits, '.', '_' or '-'")
    genesis_time = _string(obj.get("genesis_time"), "genesis_time", 40)
    time_ns = rfc3339_to_ns(genesis_time)
    prefix = _string(obj.get("bech32_prefix", "conclave"), "bech32_prefix", 20)
    ensure(PREFIX_RE.match(prefix), f"bech32_prefix: {prefix!r} must be 1-20 lowercase letters")
    api = Bech32Api(prefix)
    denoms = _denoms(obj.get("denoms"))
    block = _block(obj.get("block", {}))
    params = _chain_params(obj.get("params", {}), denoms, api)
    accounts = _accounts(obj.get("accounts", []), denoms, api)
    members = _addresses(obj.get("members", []), "members", MAX_MEMBERS, api)
    admins = _addresses(obj.get("admins", []), "admins", MAX_ADMINS, api)
    ensure(members, "members: genesis needs at least one circle member (nobody could vote otherwise)")
    validators = _validators(obj.get("validators", []), api)
    contracts = _contract_params(obj.get("contract_params", {}))
    code = _code(obj.get("code", []), require_code)
    for i, v in enumerate(validators):
        ensure(v.stake >= contracts.min_bond and v.stake >= contracts.tokens_per_point,
               f"validators[{i}].stake: {v.stake} gives no stake points (tokens_per_point is "
               f"{contracts.tokens_per_point}, min_bond {contracts.min_bond}); raise the stake")
    return GenesisDoc(chain_id, genesis_time, time_ns, prefix, denoms, block, params, accounts, members,
                      admins, validators, contracts, code)


def _load_json(raw: bytes | str) -> Any:
    data = raw.encode() if isinstance(raw, str) else raw
    ensure(len(data) <= MAX_GENESIS_BYTES, f"genesis: {len(data)} bytes is more than the {MAX_GENESIS_BYTES} allowed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidGenesis("genesis: not UTF-8 text") from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except ValueError as exc:
        if isinstance(exc, InvalidGenesis):
            raise
        raise InvalidGenesis(f"genesis: malformed JSON ({exc})") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise InvalidGenesis(f"genesis: duplicate key {key!r} (every node must read the same value)")
        obj[key] = value
    return obj


def rfc3339_to_ns(text: str) -> int:
    """Nanoseconds since the Unix epoch for an RFC 3339 time (up to nanosecond precision)."""
    m = RFC3339_RE.match(text)
    ensure(m, f"genesis_time: {text!r} is not RFC 3339 (e.g. 2026-01-01T00:00:00Z)")
    year, month, day, hour, minute, second, frac, zone = m.groups()  # type: ignore[union-attr]
    try:
        tz = timezone.utc if zone == "Z" else timezone(
            (1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=tz)
    except ValueError as exc:
        raise InvalidGenesis(f"genesis_time: {text!r}: {exc}") from None
    seconds = int((moment - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds())
    ensure(seconds >= 0, f"genesis_time: {text!r} is before 1970")
    return seconds * 10**9 + int((frac or "").ljust(9, "0") or 0)


def _no_unknown(obj: dict[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(obj) - known)
    if unknown:
        raise InvalidGenesis(f"{where}: unknown field {unknown[0]!r}; known fields: {', '.join(sorted(known))}")


def _moniker(value: Any, name: str) -> str:
    """A validator's display name, as the valset accepts it: 1..70 bytes, not blank, no control characters."""
    ensure(isinstance(value, str) and value.strip(), f"{name}: expected a non-blank string")
    ensure(len(value.encode()) <= MAX_MONIKER_BYTES, f"{name}: longer than {MAX_MONIKER_BYTES} bytes")
    ensure(value.isprintable(), f"{name}: control characters are not allowed")
    return value


def _string(value: Any, name: str, max_length: int) -> str:
    ensure(isinstance(value, str) and value, f"{name}: expected a non-empty string")
    ensure(len(value) <= max_length, f"{name}: longer than {max_length} characters")
    return value


def _int(value: Any, name: str, low: int = 0, high: int = MAX_U64) -> int:
    ensure(isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
           f"{name}: expected an integer in {low}..={high}, got {value!r}")
    return value


def _amount(value: Any, name: str, positive: bool = True) -> int:
    try:
        amount = parse_amount(value)
    except InvalidRequest as exc:
        raise InvalidGenesis(f"{name}: {exc}") from None
    ensure(amount > 0 or not positive, f"{name}: must be more than 0")
    return amount


def _object(value: Any, name: str, known: set[str]) -> dict[str, Any]:
    ensure(isinstance(value, dict), f"{name}: expected an object")
    _no_unknown(value, known, name)
    return value


def _list(value: Any, name: str, max_items: int) -> list[Any]:
    ensure(isinstance(value, list), f"{name}: expected a list")
    ensure(len(value) <= max_items, f"{name}: {len(value)} entries, at most {max_items} allowed")
    return value


def _address(value: Any, name: str, api: Bech32Api) -> str:
    try:
        return api.validate(value, name)
    except InvalidRequest as exc:
        raise InvalidGenesis(f"{exc} (addresses must use the prefix {api.prefix!r})") from None


def _denoms(value: Any) -> Denoms:
    obj = _object(value, "denoms", {"fee", "stake"})
    out = []
    for key in ("fee", "stake"):
        try:
            out.append(validate_denom(obj.get(key)))
        except InvalidRequest as exc:
            raise InvalidGenesis(f"denoms.{key}: {exc}") from None
    return Denoms(*out)


def _block(value: Any) -> BlockParams:
    obj = _object(value, "block", {"max_bytes", "max_gas"})
    return BlockParams(_int(obj.get("max_bytes", DEFAULT_BLOCK_MAX_BYTES), "block.max_bytes", 1024, MAX_BLOCK_BYTES),
                       _int(obj.get("max_gas", DEFAULT_BLOCK_MAX_GAS), "block.max_gas", 1, MAX_U64))


def _chain_params(value: Any, denoms: Denoms, api: Bech32Api) -> chain_params.Params:
    obj = _object(value, "params", set(chain_params.FIELD_NAMES) - {"governance_contract"})
    try:
        result = chain_params.updated(chain_params.Params(), dict(obj), api) if obj else chain_params.Params()
    except InvalidRequest as exc:
        raise InvalidGenesis(f"params: {exc}") from None
    for coin in result.min_fee:
        ensure(coin["denom"] == denoms.fee,
               f"params.min_fee: unknown denom {coin['denom']!r}; fees are paid in {denoms.fee!r}")
    return result


def _accounts(value: Any, denoms: Denoms, api: Bech32Api) -> tuple[Account, ...]:
    accounts, seen = [], set()
    for i, raw in enumerate(_list(value, "accounts", MAX_ACCOUNTS)):
        where = f"accounts[{i}]"
        obj = _object(raw, where, {"address", "coins"})
        address = _address(obj.get("address"), f"{where}.address", api)
        ensure(address not in seen, f"{where}: duplicate account {address}; merge its coins into one entry")
        seen.add(address)
        coins, denoms_seen = [], set()
        for j, coin in enumerate(_list(obj.get("coins", []), f"{where}.coins", 2)):
            c = _object(coin, f"{where}.coins[{j}]", {"denom", "amount"})
            denom = c.get("denom")
            ensure(denom in (denoms.fee, denoms.stake),
                   f"{where}.coins[{j}]: unknown denom {denom!r}; genesis knows {denoms.fee!r} and {denoms.stake!r}")
            ensure(denom not in denoms_seen, f"{where}.coins: duplicate denom {denom}")
            denoms_seen.add(denom)
            coins.append((denom, _amount(c.get("amount"), f"{where}.coins[{j}].amount")))
        accounts.append(Account(address, tuple(sorted(coins))))
    return tuple(accounts)


def _addresses(value: Any, name: str, max_items: int, api: Bech32Api) -> tuple[str, ...]:
    out: list[str] = []
    for i, raw in enumerate(_list(value, name, max_items)):
        address = _address(raw, f"{name}[{i}]", api)
        ensure(address not in out, f"{name}[{i}]: duplicate {name[:-1]} {address}")
        out.append(address)
    return tuple(out)


def _validators(value: Any, api: Bech32Api) -> tuple[GenesisValidator, ...]:
    out: list[GenesisValidator] = []
    for i, raw in enumerate(_list(value, "validators", MAX_VALIDATORS)):
        where = f"validators[{i}]"
        obj = _object(raw, where, {"operator", "pubkey", "stake", "engagement", "moniker"})
        operator = _address(obj.get("operator"), f"{where}.operator", api)
        pubkey = _pubkey(obj.get("pubkey"), f"{where}.pubkey")
        ensure("stake" in obj, f"{where}: no stake; a validator needs an initial stake (in the stake denom)")
        stake = _amount(obj.get("stake"), f"{where}.stake")
        engagement = _int(obj.get("engagement"), f"{where}.engagement", 1)
        ensure(all(v.operator != operator for v in out), f"{where}: duplicate validator operator {operator}")
        ensure(all(v.pubkey != pubkey for v in out), f"{where}: consensus pubkey already used by another validator")
        moniker = _moniker(obj["moniker"], f"{where}.moniker") if "moniker" in obj else None
        out.append(GenesisValidator(operator, pubkey, stake, engagement, moniker))
    ensure(out, "validators: genesis needs at least one validator (operator, pubkey, stake, engagement)")
    return tuple(out)


def _pubkey(value: Any, name: str) -> bytes:
    ensure(isinstance(value, str) and len(value) <= 64, f"{name}: expected the base64 of a 32-byte ed25519 key")
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidGenesis(f"{name}: not valid base64 (expected a 32-byte ed25519 key)") from None
    ensure(len(key) == ED25519_PUBKEY_BYTES, f"{name}: {len(key)} bytes, an ed25519 key has {ED25519_PUBKEY_BYTES}")
    ensure(any(key), f"{name}: the all-zero key is not a usable ed25519 key")
    return key


def _decimal(value: Any, name: str) -> str:
    ensure(isinstance(value, str) and DECIMAL_RE.match(value), f"{name}: expected a decimal string like \"0.51\"")
    whole, _, frac = value.partition(".")
    ensure(0 < int(whole) * 10**9 + int(frac.ljust(9, "0") or 0) <= 10**9, f"{name}: must be in (0, 1]")
    return value


def _contract_params(value: Any) -> ContractParams:
    d = ContractParams()
    obj = _object(value, "contract_params", {"escrow_amount", "voting_rules", "proposers", "halflife",
                                             "tokens_per_point", "min_bond", "unbonding_period",
                                             "mixer_function", "valset"})
    rules_obj = _object(obj.get("voting_rules", {}), "contract_params.voting_rules",
                        {"voting_period", "quorum", "threshold", "allow_end_early"})
    r = d.voting_rules
    allow = rules_obj.get("allow_end_early", r.allow_end_early)
    ensure(isinstance(allow, bool), "contract_params.voting_rules.allow_end_early: expected true or false")
    rules = VotingRules(
        _int(rules_obj.get("voting_period", r.voting_period), "contract_params.voting_rules.voting_period", 1, 315_360_000),
        _decimal(rules_obj.get("quorum", r.quorum), "contract_params.voting_rules.quorum"),
        _decimal(rules_obj.get("threshold", r.threshold), "contract_params.voting_rules.threshold"), allow)
    proposers = obj.get("proposers", d.proposers)
    ensure(proposers in PROPOSERS, f"contract_params.proposers: expected one of {', '.join(PROPOSERS)}")
    halflife = obj.get("halflife", d.halflife)
    if halflife is not None:
        halflife = _int(halflife, "contract_params.halflife", 1)
    function = obj.get("mixer_function", d.mixer_function)
    ensure(isinstance(function, dict) and len(function) == 1 and next(iter(function)) in MIXER_FUNCTIONS,
           f"contract_params.mixer_function: expected {{\"geometric_mean\":{{}}}} or {{\"sigmoid\":{{...}}}}")
    ensure(len(canonical_json(function)) <= 1024, "contract_params.mixer_function: longer than 1024 bytes")
    v_obj = _object(obj.get("valset", {}), "contract_params.valset",
                    {"min_points", "max_validators", "epoch_length", "scaling"})
    v = d.valset
    scaling = v_obj.get("scaling", v.scaling)
    valset = ValsetParams(
        _int(v_obj.get("min_points", v.min_points), "contract_params.valset.min_points", 0),
        _int(v_obj.get("max_validators", v.max_validators), "contract_params.valset.max_validators", 1, MAX_VALIDATORS),
        _int(v_obj.get("epoch_length", v.epoch_length), "contract_params.valset.epoch_length", 1),
        None if scaling is None else _int(scaling, "contract_params.valset.scaling", 1, 2**32 - 1))
    return ContractParams(
        escrow_amount=_amount(obj.get("escrow_amount", str(d.escrow_amount)), "contract_params.escrow_amount"),
        voting_rules=rules, proposers=proposers, halflife=halflife,
        tokens_per_point=_amount(obj.get("tokens_per_point", str(d.tokens_per_point)), "contract_params.tokens_per_point"),
        min_bond=_amount(obj.get("min_bond", str(d.min_bond)), "contract_params.min_bond"),
        unbonding_period=_int(obj.get("unbonding_period", d.unbonding_period), "contract_params.unbonding_period", 1),
        mixer_function=function, valset=valset)


def _code(value: Any, require_code: bool) -> tuple[ContractCode, ...]:
    out: dict[str, ContractCode] = {}
    for i, raw in enumerate(_list(value, "code", len(GENESIS_CONTRACTS))):
        where = f"code[{i}]"
        obj = _object(raw, where, {"name", "checksum", "wasm"})
        name = _string(obj.get("name"), f"{where}.name", MAX_CONTRACT_NAME)
        ensure(name in GENESIS_CONTRACTS, f"{where}.name: unknown contract {name!r}; genesis contracts are "
                                          f"{', '.join(GENESIS_CONTRACTS)}")
        ensure(name not in out, f"{where}: duplicate code for {name}")
        checksum = obj.get("checksum")
        ensure(isinstance(checksum, str) and re.fullmatch(r"[0-9a-f]{64}", checksum),
               f"{where}.checksum: expected 64 lowercase hex digits (sha256 of the wasm)")
        wasm = None
        if "wasm" in obj:
            text = obj["wasm"]
            ensure(isinstance(text, str) and len(text) <= (MAX_WASM_SIZE * 4) // 3 + 4,
                   f"{where}.wasm: expected base64 of at most {MAX_WASM_SIZE} bytes")
            try:
                wasm = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidGenesis(f"{where}.wasm: not valid base64") from None
            ensure(sha256(wasm).hex() == checksum,
                   f"{where}: checksum mismatch for {name}: the wasm hashes to {sha256(wasm).hex()}, "
                   f"the document says {checksum}; rebuild genesis from the committed artifacts")
        out[name] = ContractCode(name, checksum, wasm)
    if require_code:
        missing = [n for n in GENESIS_CONTRACTS if n not in out or out[n].wasm is None]
        ensure(not missing, f"code: missing wasm for {', '.join(missing)}; run `conclave genesis build` "
                            f"to embed contracts/artifacts")
    return tuple(out[n] for n in GENESIS_CONTRACTS if n in out)


# --- applying ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GenesisResult:
    contracts: dict[str, str]           # name -> address
    code_ids: dict[str, int]
    validators: list[tuple[bytes, int]]  # (ed25519 pubkey, power): the initial validator set
    genesis_account: str
    events: list[Event]


def genesis_block(doc: GenesisDoc) -> BlockInfo:
    return BlockInfo(GENESIS_HEIGHT, doc.genesis_time_ns, doc.chain_id)


def genesis_context(store: KVStore, doc: GenesisDoc) -> Context:
    """The context genesis runs in: height 0, genesis time, a meter that only stops a runaway."""
    return Context(store=store, block=genesis_block(doc), meter=GasMeter.with_sdk_gas(GENESIS_SDK_GAS))


def genesis_account(api: Bech32Api) -> str:
    """The account that deploys and funds the genesis contracts (holds nothing afterwards)."""
    return api.humanize(sha256(GENESIS_ACCOUNT_SEED)[:20])


def apply_genesis(ctx: Context, keeper: WasmKeeper, doc: GenesisDoc) -> GenesisResult:
    """Write the chain's first state from ``doc`` into ``ctx.store`` and return the initial validator set.

    Raises InvalidGenesis (or the contract's own error) when the document cannot boot a chain;
    run it on a branch so a failure leaves nothing behind.
    """
    ensure(ctx.block.chain_id == doc.chain_id,
           f"genesis is for chain {doc.chain_id!r}, the node runs {ctx.block.chain_id!r}")
    ensure(keeper.api.prefix == doc.bech32_prefix,
           f"genesis uses address prefix {doc.bech32_prefix!r}, the node {keeper.api.prefix!r}")
    code = {c.name: c for c in doc.code}
    missing = [n for n in GENESIS_CONTRACTS if n not in code or code[n].wasm is None]
    ensure(not missing, f"code: missing wasm for {', '.join(missing)}; run `conclave genesis build`")
    deployer = genesis_account(keeper.api)
    events: list[Event] = []
    chain_params.save(ctx.store, doc.params)
    for account in doc.accounts:
        events += bank.mint(ctx.store, account.address, list(account.coins))
    code_ids = {name: _store_code_at_genesis(ctx, keeper, deployer, code[name]) for name in GENESIS_CONTRACTS}
    w = _Wiring(ctx, keeper, deployer, code_ids, events)
    c, fee, stake_denom = doc.contracts, doc.denoms.fee, doc.denoms.stake

    w.instantiate("group", {"admin": deployer, "members": [{"addr": a, "points": 1} for a in doc.admins]})
    escrow = [(fee, c.escrow_amount * len(doc.members))]
    events += bank.mint(ctx.store, deployer, escrow)
    w.instantiate("membership", {"denom": fee, "escrow_amount": str(c.escrow_amount),
                                 "voting_period": c.voting_rules.voting_period, "admin": deployer,
                                 "initial_members": list(doc.members), "deny_list": []}, funds=escrow)
    r = c.voting_rules
    w.instantiate("voting", {"rules": {"voting_period": r.voting_period, "quorum": r.quorum,
                                       "threshold": r.threshold, "allow_end_early": r.allow_end_early},
                             "electorate": w.addr["membership"], "admins_group": w.addr["group"],
                             "proposers": c.proposers})
    w.instantiate("engagement", {"admin": deployer, "halflife": c.halflife, "members": [
        {"addr": v.operator, "points": v.engagement} for v in doc.validators]})
    w.instantiate("stake", {"denom": stake_denom, "tokens_per_point": str(c.tokens_per_point),
                            "min_bond": str(c.min_bond), "unbonding_period": c.unbonding_period,
                            "admin": deployer, "preauths_slashing": 1})
    for v in doc.validators:   # bonded on the operator's behalf with stake minted for it
        bonded = [(stake_denom, v.stake)]
        events += bank.mint(ctx.store, v.operator, bonded)
        w.execute("stake", {"bond": {}}, sender=v.operator, funds=bonded)
    w.instantiate("mixer", {"left_group": w.addr["engagement"], "right_group": w.addr["stake"],
                            "function": c.mixer_function, "admin": deployer})
    for group in ("engagement", "stake"):
        w.execute(group, {"add_hook": {"addr": w.addr["mixer"]}})
    w.execute("stake", {"add_slasher": {"addr": w.addr["mixer"]}})
    vs = c.valset
    w.instantiate("valset", {"membership": w.addr["mixer"], "min_points": vs.min_points,
                             "max_validators": vs.max_validators, "epoch_length": vs.epoch_length,
                             "scaling": vs.scaling, "admin": deployer, "initial_keys": [
                                 {"operator": v.operator,
                                  "validator_pubkey": {"ed25519": base64.b64encode(v.pubkey).decode()},
                                  **({"metadata": {"moniker": v.moniker}} if v.moniker is not None else {})}
                                 for v in doc.validators]})
    w.execute("mixer", {"add_slasher": {"addr": w.addr["valset"]}})

    voting = w.addr["voting"]
    for name in TG4_ADMINISTERED:      # governance administers the contracts' own admin roles ...
        w.execute(name, {"update_admin": {"admin": voting}})
    for name in GENESIS_CONTRACTS:     # ... and is the wasm admin (migrations) of every one
        events += keeper.update_admin(ctx, deployer, w.addr[name], voting).events
    grants = [(voting, privileges.GOV_EXECUTOR), (w.addr["valset"], privileges.VALIDATOR_SET_UPDATER),
              (w.addr["valset"], privileges.BEGIN_BLOCKER)] + \
             [(w.addr[name], privileges.END_BLOCKER) for name in END_BLOCKERS]
    for contract, privilege in grants:
        events += privileges.grant_at_genesis(ctx, contract, privilege)
    chain_params.save(ctx.store, replace(doc.params, governance_contract=voting))
    ensure(bank.balance(ctx.store, deployer, fee) == 0, "genesis account kept funds (bug)")

    validators = _initial_validators(ctx, keeper, w.addr["valset"], doc)
    return GenesisResult(dict(w.addr), code_ids, validators, deployer, events)


def _store_code_at_genesis(ctx: Context, keeper: WasmKeeper, deployer: str, code: ContractCode) -> int:
    """Genesis code enters without a proposal: the one legitimate bypass of governance."""
    assert code.wasm is not None
    try:
        info, _ = keeper.store_code(ctx, deployer, code.wasm)
    except Exception as exc:   # noqa: BLE001 - the VM's refusal, reported with the contract's name
        raise InvalidGenesis(f"code {code.name}: the chain refuses this wasm: {exc}") from None
    return info.code_id


@dataclass
class _Wiring:
    """Instantiate and execute genesis contracts as the genesis account, remembering addresses."""

    ctx: Context
    keeper: WasmKeeper
    deployer: str
    code_ids: dict[str, int]
    events: list[Event]
    addr: dict[str, str] = field(default_factory=dict)

    def instantiate(self, name: str, msg: dict[str, Any], funds: list[tuple[str, int]] | None = None) -> None:
        try:
            out = self.keeper.instantiate(self.ctx, self.deployer, self.code_ids[name], compact_json(msg),
                                          funds or [], LABELS[name], admin=self.deployer)
        except AppError as exc:
            raise InvalidGenesis(f"instantiating {name} failed: {exc}") from None
        assert out.address is not None
        self.addr[name] = out.address
        self.events += out.events

    def execute(self, name: str, msg: dict[str, Any], sender: str | None = None,
                funds: list[tuple[str, int]] | None = None) -> None:
        try:
            out = self.keeper.execute(self.ctx, sender or self.deployer, self.addr[name], compact_json(msg), funds or [])
        except AppError as exc:
            raise InvalidGenesis(f"{name} refused {next(iter(msg))} at genesis: {exc}") from None
        self.events += out.events


def _initial_validators(ctx: Context, keeper: WasmKeeper, valset: str, doc: GenesisDoc) -> list[tuple[bytes, int]]:
    try:
        out = keeper.sudo(ctx, valset, b'{"end_with_validator_update":{}}')
    except AppError as exc:
        raise InvalidGenesis(f"valset end_with_validator_update failed at genesis: {exc}") from None
    diffs = json.loads(out.data)["diffs"] if out.data else []
    validators = [(base64.b64decode(d["pubkey"]["ed25519"]), int(d["power"])) for d in diffs if int(d["power"]) > 0]
    vs = doc.contracts.valset
    ensure(validators, f"genesis produced no validators: the valset found no mixer member with points >= "
                       f"min_points ({vs.min_points}) and a consensus key; check validators' stake/engagement "
                       f"(stake points = stake / tokens_per_point {doc.contracts.tokens_per_point}) and valset min_points")
    return validators
