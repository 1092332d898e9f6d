"""The app behind the ABCI++ boundary: the only door through which consensus reaches the state machine.

    app = App(StateStore.open(home / "data"), vm_cache_dir=home / "wasm")
    app.info()                                   # {height, app_hash}: where a restart resumes
    app.init_chain(genesis_doc, time_ns)         # once, at height 0
    app.check_tx(raw)                            # mempool admission, on the check state
    txs = app.prepare_proposal(txs, max_bytes)   # the proposer trims its block
    app.process_proposal(txs)                    # every validator vets a proposal
    app.finalize_block(height, time_ns, txs, evidence, last_commit_votes)
    app.commit()                                 # one atomic store.commit -> app hash
    app.query(path, data, height)                # see ``query`` for the paths

Exactly CometBFT's method set, as plain Python methods, so an ABCI socket adapter can wrap it
unchanged. The block transition itself is in block.py; this module holds the branches:
genesis state waits in a branch until the first block commits it (CometBFT commits genesis
with block ``initial_height``), a finalized block waits in its branch until ``commit``, and
check_tx runs on a check branch that is reset at every commit. Block time comes only from
``finalize_block``'s argument; the app reads no clock and touches no file (the store does).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..codec import b64encode, canonical_json, compact_json
from ..crypto import classic_contract_address
from ..store import EMPTY_HASH, HeightUnavailable, StateStore, TxRecord
from ..vm import VM
from ..vm.errors import VmError
from ..vm.gas import GasMeter
from . import bank, block as block_rules
from . import params as chain_params
from .address import Bech32Api
from .admission import SignatureVerifier, preverify
from .block import TxResult, ValidatorUpdate
from .chain_messages import LAST_COMMIT_VOTES_KEY, install_chain_messages
from .coins import parse_coins
from .context import BlockInfo, Context
from .errors import AppError, InvalidRequest
from .kv import CacheKV, KVStore, iterate_prefix
from .tx import (MAX_CHAIN_ID_CHARS, MAX_GAS_LIMIT, MAX_TX_BYTES, Tx, TxError, TxParams, account_sequence, ante, decode_tx, decode_tx_bytes)
from .wasm import state as wasm_state
from .wasm.keeper import WasmKeeper

DEFAULT_PREFIX = "conclave"
DEFAULT_MAX_BLOCK_BYTES = 22_020_096          # CometBFT's default block.max_bytes (21 MiB)
DEFAULT_MAX_BLOCK_GAS = 100_000_000
GENESIS_GAS_LIMIT = 1 << 62                   # fuel: genesis instantiates every contract, unmetered in effect

_CONFIG = b"app/config"                       # ChainConfig JSON, written at genesis
_LAST_BLOCK = b"app/last_block"               # {"height","time_ns"} of the last finalized block
_LAST_COMMIT_VOTES = LAST_COMMIT_VOTES_KEY      # who signed the previous block (the last_commit_votes query)
_VALIDATORS = b"app/validators/"              # pubkey (32) -> power (decimal): the set in effect
_PENDING_UPDATES = b"app/pending_validators/"  # effective height (8, big-endian) -> updates JSON

QUERY_OK = 0
QUERY_ERROR = 1
DEFAULT_QUERY_PAGE = 30                       # list queries: {"start_after", "limit"} in the data
MAX_QUERY_PAGE = 100
MAX_U64 = (1 << 64) - 1
ACCEPT, REJECT = "ACCEPT", "REJECT"


class AppStateError(AppError):
    """A method was called out of order (before init_chain, commit without finalize_block...)."""


@dataclass(frozen=True)
class ChainConfig:
    """What genesis fixes for the life of the chain and the app needs on every restart."""

    chain_id: str
    prefix: str = DEFAULT_PREFIX
    initial_height: int = 1
    max_block_gas: int = DEFAULT_MAX_BLOCK_GAS
    max_block_bytes: int = DEFAULT_MAX_BLOCK_BYTES

    @classmethod
    def from_genesis(cls, doc: dict[str, Any]) -> "ChainConfig":
        """chain_id, initial_height and consensus_params.block as CometBFT's genesis.json writes them."""
        chain_id = doc.get("chain_id")
        if not isinstance(chain_id, str) or not 0 < len(chain_id) <= MAX_CHAIN_ID_CHARS:
            raise InvalidRequest(f"genesis: chain_id must be a string of 1..{MAX_CHAIN_ID_CHARS} characters")
        app_state = doc.get("app_state") if isinstance(doc.get("app_state"), dict) else {}
        prefix = doc.get("bech32_prefix", app_state.get("bech32_prefix", DEFAULT_PREFIX))
        if not isinstance(prefix, str) or not prefix:
            raise InvalidRequest("genesis: bech32_prefix must be a non-empty string")
        # CometBFT's consensus_params.block, or the top-level "block" of Conclave's genesis document
        block = (doc.get("consensus_params") or {}).get("block") or doc.get("block") or {}
        max_gas = _int_field(block.get("max_gas", DEFAULT_MAX_BLOCK_GAS), "consensus_params.block.max_gas", -1)
        max_bytes = _int_field(block.get("max_bytes", DEFAULT_MAX_BLOCK_BYTES), "consensus_params.block.max_bytes", 1)
        return cls(chain_id, prefix, _int_field(doc.get("initial_height", 1), "initial_height", 1),
                   MAX_GAS_LIMIT if max_gas == -1 else max_gas, max_bytes)


def _int_field(value: Any, name: str, low: int) -> int:
    """An integer as CometBFT writes it (a JSON number or a decimal string)."""
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    if type(value) is not int or not low <= value <= MAX_GAS_LIMIT:
        raise InvalidRequest(f"genesis: {name} must be an integer >= {low}, got {value!r}")
    return value


@dataclass
class AppParts:
    """What genesis works with: the wasm keeper (with the chain's custom messages) and the chain's config."""

    keeper: WasmKeeper
    api: Bech32Api
    config: ChainConfig


GenesisApplier = Callable[[Context, AppParts, dict], Any]


@dataclass
class _FinalizedBlock:
    height: int
    branch: CacheKV
    app_hash: bytes
    block_json: bytes
    results_json: bytes
    records: list[TxRecord] = field(default_factory=list)
    writes: list[tuple[bytes, bytes | None]] = field(default_factory=list)   # genesis (first block) + block


class App:
    def __init__(self, store: StateStore, vm_cache_dir: Path | None = None, *,
                 genesis_applier: GenesisApplier | None = None, min_gas_prices: Sequence = (),
                 debug_handler: Callable[[str], None] | None = None, signature_threads: int = 2):
        """``min_gas_prices`` is this node's own floor for check_tx (never applied to blocks);
        ``signature_threads``: how many threads ``check_txs`` verifies signatures on."""
        self.store = store
        self.vm_cache_dir = vm_cache_dir
        self.genesis_applier = genesis_applier
        self.min_gas_prices = tuple(min_gas_prices)
        self.debug_handler = debug_handler
        self.config: ChainConfig | None = None
        self.keeper: WasmKeeper | None = None
        self._genesis: CacheKV | None = None            # genesis state, until block initial_height commits
        self._finalized: _FinalizedBlock | None = None
        self._check: CacheKV | None = None
        self._verifier = SignatureVerifier(signature_threads)
        self._params_memo: tuple[bytes | None, tuple, TxParams] | None = None
        if store.height > 0:
            raw = store.get(_CONFIG)
            if raw is None:
                raise AppStateError(f"the store at {store.path} has height {store.height} but no chain config; "
                                    "it was not written by this app")
            self._setup(ChainConfig(**json.loads(raw)))

    def _setup(self, config: ChainConfig) -> None:
        self.config = config
        api = Bech32Api(config.prefix)
        self.keeper = WasmKeeper(VM(api, cache_dir=self.vm_cache_dir, debug_handler=self.debug_handler), api)
        install_chain_messages(self.keeper)
        self._check = CacheKV(self._base())

    def _base(self) -> KVStore:
        """The latest state: committed, or genesis waiting for the first block."""
        return self._genesis if self._genesis is not None else self.store

    def _ready(self) -> tuple[ChainConfig, WasmKeeper]:
        if self.config is None or self.keeper is None:
            raise AppStateError("the chain is not initialized: call init_chain with the genesis document first")
        return self.config, self.keeper

    # --- Info / InitChain ----------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """The last committed height and app hash (0 and the empty hash before the first block)."""
        return {"height": self.store.height, "app_hash": self.store.app_hash}

    def init_chain(self, genesis_doc: dict | bytes, time_ns: int,
                   genesis_applier: GenesisApplier | None = None) -> dict[str, Any]:
        """Apply the genesis document; its state is committed together with block ``initial_height``."""
        if self.store.height > 0:
            raise AppStateError(f"init_chain on a chain at height {self.store.height}: genesis runs only once")
        doc = json.loads(genesis_doc) if isinstance(genesis_doc, (bytes, bytearray, str)) else genesis_doc
        if not isinstance(doc, dict):
            raise InvalidRequest("genesis document must be a JSON object")
        config = ChainConfig.from_genesis(doc)
        self._genesis = None
        self._setup(config)
        keeper = self.keeper
        assert keeper is not None
        branch = CacheKV(self.store)
        branch.set(_CONFIG, canonical_json(asdict(config)))
        branch.set(_LAST_BLOCK, canonical_json({"height": config.initial_height - 1, "time_ns": time_ns}))
        ctx = Context(store=branch, block=BlockInfo(config.initial_height, time_ns, config.chain_id),
                      meter=GasMeter(GENESIS_GAS_LIMIT))
        applier = genesis_applier or self.genesis_applier or _default_genesis_applier()
        validators = _as_validator_updates(applier(ctx, AppParts(keeper, keeper.api, config), doc),
                                           config.initial_height)
        _apply_validator_updates(branch, validators)
        self._genesis = branch
        self._check = CacheKV(branch)
        self._finalized = None
        return {"validators": [v.to_json() for v in validators],
                "app_hash": self.store.preview_app_hash(branch.pending_writes(), config.initial_height)}

    # --- CheckTx -------------------------------------------------------------------------------
    def check_txs(self, raws: Sequence[bytes]) -> list[dict[str, Any]]:
        """``check_tx`` of each tx in order (the same answers), their signatures first checked in parallel.

        For a node admitting txs in batches: the ed25519 checks run on ``signature_threads``
        threads (admission.py), then each tx is admitted serially against the check state.
        """
        self._ready()
        self._verifier.preverify_all(raws)
        return [self.check_tx(raw) for raw in raws]

    @staticmethod
    def preverify(raw: bytes) -> bool:
        """Decode a tx and check its signature without touching any state (safe on any thread); the
        later check_tx and execution reuse the answer. True if the signature is valid; False if not or
        if the bytes do not decode (check_tx says why). Not worth calling while a block executes on
        another thread (see admission.py)."""
        return preverify(raw)

    def check_tx(self, raw: bytes) -> dict[str, Any]:
        """Admission for the mempool, against the check state (admitted txs already consumed their sequence)."""
        config, _ = self._ready()
        assert self._check is not None
        params = self._tx_params(self._check, self.min_gas_prices)
        # ante runs check_tx itself: decoding first keeps it to one signature check per admission
        tx, refused = decode_tx_bytes(raw, params)
        result = refused if refused is not None else ante(self._check, tx, config.chain_id, params)
        return {"code": result.code, "log": result.log, "gas_wanted": result.gas_wanted,
                "sender": result.sender, "sequence": result.sequence}

    # --- PrepareProposal / ProcessProposal -----------------------------------------------------
    def prepare_proposal(self, txs: Iterable[bytes], max_bytes: int) -> list[bytes]:
        """The mempool's txs that fit the block: decodable, within max_bytes and the block gas, in order.

        Once a sender's tx is left out, its later txs are too (they would fail on their sequence).
        """
        config, _ = self._ready()
        budget_bytes, budget_gas = min(max_bytes, config.max_block_bytes), config.max_block_gas
        chosen: list[bytes] = []
        skipped: set[bytes] = set()
        for raw in txs:
            tx = _decode_or_none(raw)
            if tx is None or tx.body.pubkey in skipped:
                continue
            if len(raw) > budget_bytes or tx.body.gas_limit > budget_gas or tx.body.chain_id != config.chain_id:
                skipped.add(tx.body.pubkey)
                continue
            chosen.append(raw)
            budget_bytes -= len(raw)
            budget_gas -= tx.body.gas_limit
        return chosen

    def process_proposal(self, txs: Sequence[bytes]) -> dict[str, str]:
        """ACCEPT a proposed block only if every tx decodes, is for this chain, and the sizes and the summed
        gas_wanted fit the block limits (CometBFT); REJECT with the reason otherwise."""
        config, _ = self._ready()
        total_bytes = total_gas = 0
        for i, raw in enumerate(txs):
            if not isinstance(raw, (bytes, bytearray)):
                return {"status": REJECT, "reason": f"tx {i} is not bytes"}
            try:
                tx = decode_tx(raw)
            except TxError as exc:
                return {"status": REJECT, "reason": f"tx {i} does not decode: {exc}"}
            if tx.body.chain_id != config.chain_id:
                return {"status": REJECT, "reason": f"tx {i} is for chain {tx.body.chain_id!r}"}
            total_bytes += len(raw)
            total_gas += tx.body.gas_limit
            if total_bytes > config.max_block_bytes:
                return {"status": REJECT, "reason": f"txs exceed the block's max_bytes {config.max_block_bytes}"}
            if total_gas > config.max_block_gas:
                return {"status": REJECT, "reason": f"summed gas_wanted {total_gas} exceeds the block gas limit "
                                                    f"{config.max_block_gas}"}
        return {"status": ACCEPT, "reason": ""}

    # --- FinalizeBlock -------------------------------------------------------------------------
    def finalize_block(self, height: int, time_ns: int, txs: Sequence[bytes], evidence: Sequence[Any] = (),
                       last_commit_votes: Sequence[Any] = (), block: bytes | None = None) -> dict[str, Any]:
        """Execute a decided block on a branch; ``commit`` makes it durable. Calling it again for the same
        height (after a crash of consensus before commit) discards the previous execution."""
        config, keeper = self._ready()
        expected = self.store.height + 1 if self.store.height else config.initial_height
        if height != expected:
            raise AppStateError(f"finalize_block for height {height}, but the next height is {expected}")
        if type(time_ns) is not int or time_ns < 0:
            raise InvalidRequest(f"block time must be nanoseconds since the epoch (an int), got {time_ns!r}")
        branch = CacheKV(self._base())
        effective = _take_due_updates(branch, height)
        _apply_validator_updates(branch, effective)
        branch.set(_LAST_BLOCK, canonical_json({"height": height, "time_ns": time_ns}))
        branch.set(_LAST_COMMIT_VOTES, canonical_json(list(last_commit_votes)))
        ctx = Context(store=branch, block=BlockInfo(height, time_ns, config.chain_id), meter=GasMeter(0))

        begin = block_rules.begin_block(keeper, ctx, list(evidence))
        params = self._tx_params(branch, ())
        results: list[dict[str, Any]] = []          # each TxResult's JSON, and its canonical bytes
        encoded: list[bytes] = []
        records: list[TxRecord] = []
        gas_left = config.max_block_gas
        for index, raw in enumerate(txs):
            ctx.tx_index = index
            result, sender, tx_hash = self._deliver(keeper, ctx, raw, params, gas_left)
            gas_left -= result.gas_wanted
            results.append(result.to_json())
            encoded.append(result.canonical_bytes())
            records.append(TxRecord(tx_hash, height, index, sender, encoded[-1]))
        ctx.tx_index = None
        end, updates = block_rules.end_block(keeper, ctx)
        updates = [ValidatorUpdate(u.pubkey, u.power, height + block_rules.VALIDATOR_UPDATE_DELAY) for u in updates]
        if updates:
            branch.set(_PENDING_UPDATES + _height_key(height + block_rules.VALIDATOR_UPDATE_DELAY),
                       canonical_json([u.to_json() for u in updates]))

        block_json = block if block is not None else canonical_json({
            "height": height, "time_ns": time_ns, "txs": [b64encode(bytes(t)) for t in txs],
            "evidence": list(evidence), "last_commit_votes": list(last_commit_votes)})
        writes = list(self._genesis.pending_writes()) if self._genesis is not None else []
        writes += branch.pending_writes()
        # the store keeps this tree update, and commit() of the same writes reuses it
        app_hash = self.store.preview_app_hash(writes, height)
        response = {
            "height": height,
            "tx_results": results,
            "begin_block": {"events": [e.to_json() for e in begin.events], "errors": begin.errors},
            "end_block": {"events": [e.to_json() for e in end.events], "errors": end.errors},
            "validator_updates": [u.to_json() for u in updates],
            "validators_in_effect": [u.to_json() for u in effective],
            "app_hash": app_hash,
        }
        results_json = _results_json(response, encoded)
        self._finalized = _FinalizedBlock(height, branch, app_hash, block_json, results_json, records, writes)
        return response

    def _deliver(self, keeper: WasmKeeper, ctx: Context, raw: bytes, params: TxParams,
                 gas_left: int) -> tuple[TxResult, str, bytes]:
        """One tx of the block: (its result, its sender or "" if it does not decode, its hash)."""
        raw = bytes(raw)
        tx_hash = hashlib.sha256(raw).digest()
        try:
            tx = decode_tx(raw)
        except TxError as exc:
            return TxResult(exc.code, str(exc), codespace=block_rules.CODESPACE_SDK), "", tx_hash
        sender = tx.sender(params.prefix)
        if tx.body.gas_limit > gas_left:
            return TxResult(block_rules.CODE_OUT_OF_GAS, f"block gas limit reached: the tx wants {tx.body.gas_limit}, "
                            f"{gas_left} of the block's {params.max_block_gas} are left",
                            gas_wanted=0, codespace=block_rules.CODESPACE_SDK), sender, tx_hash
        return block_rules.deliver_tx(keeper, ctx, tx, self.config.chain_id, params), sender, tx_hash

    # --- Commit --------------------------------------------------------------------------------
    def commit(self) -> bytes:
        """Write the finalized block (genesis included, the first time) in ONE store commit; the app hash."""
        done = self._finalized
        if done is None:
            raise AppStateError("commit without finalize_block: there is no block to commit")
        app_hash = self.store.commit(done.writes, height=done.height, block=done.block_json,
                                     block_results=done.results_json, txs=done.records)
        if app_hash != done.app_hash:   # the preview and the store disagree: a bug, never a fork to continue
            raise AppStateError(f"app hash of height {done.height} is {app_hash.hex()} after commit but "
                                f"finalize_block computed {done.app_hash.hex()}")
        self._genesis, self._finalized = None, None
        self._check = CacheKV(self.store)
        return app_hash

    # --- Query ---------------------------------------------------------------------------------
    def query(self, path: str, data: bytes = b"", height: int | None = None) -> dict[str, Any]:
        """Answers {code, log, height, value}; never raises for bad input. The paths:

            /wasm/smart/<contract>              data: the JSON query; the contract's answer
            /store/<hex key>                    value + Merkle proof at ``height`` (any kept one)
            /auth/account/<addr>                sequence and balances
            /validators                         the consensus set in effect
            /genesis/contracts                  {name: address} of the genesis contracts
            /wasm/codes                         code infos, by id; data {"start_after": id, "limit": n}
            /wasm/code/<id>                     a code info, or null
            /wasm/code/<id>/contracts           addresses on that code; data {"start_after": addr, "limit"}
            /wasm/contract/<addr>               a contract info, or null
            /wasm/contract/<addr>/history       instantiate/migrate entries; data {"start_after": seq, "limit"}
            /wasm/contract/<addr>/raw/<hex key> the contract's raw value + proof at ``height`` (as /store)

        List data is optional (the first DEFAULT_QUERY_PAGE); ``limit`` is at most MAX_QUERY_PAGE.
        Only /store and /wasm/.../raw answer at past heights.
        """
        try:
            config, keeper = self._ready()
            at = self.store.height if height in (None, 0) else height
            if path.startswith("/store/"):
                return _ok(at, self._query_store(path[len("/store/"):], at))
            if path.startswith("/wasm/contract/") and "/raw/" in path:
                address, _, hex_key = path[len("/wasm/contract/"):].partition("/raw/")
                return _ok(at, self._query_contract_raw(keeper.api.validate(address, "contract"), hex_key, at))
            if at != self.store.height:
                raise HeightUnavailable(f"{path} answers at the latest height {self.store.height} only; "
                                        "raw /store/<key> queries take a height")
            view = CacheKV(self.store)
            if path.startswith("/wasm/smart/"):
                last = json.loads(self.store.get(_LAST_BLOCK) or b'{"height":0,"time_ns":0}')
                ctx = Context(store=view, block=BlockInfo(last["height"], last["time_ns"], config.chain_id),
                              meter=GasMeter.with_sdk_gas(keeper.query_gas_limit))
                answer = keeper.query_smart(ctx, path[len("/wasm/smart/"):], bytes(data), ctx.meter)
                return _ok(at, json.loads(answer))
            if path.startswith("/auth/account/"):
                address = keeper.api.validate(path[len("/auth/account/"):], "address")
                return _ok(at, {"address": address, "sequence": account_sequence(view, address),
                                "balances": [{"denom": d, "amount": str(a)} for d, a in bank.all_balances(view, address)]})
            if path == "/validators":
                return _ok(at, [ValidatorUpdate(k[len(_VALIDATORS):], int(v), 0).to_json()
                                for k, v in iterate_prefix(view, _VALIDATORS)])
            if path == "/genesis/contracts":
                return _ok(at, genesis_contracts(view, keeper.api))
            if path.startswith("/wasm/"):
                return _ok(at, _wasm_metadata(view, keeper.api, path, bytes(data)))
            raise InvalidRequest(f"unknown query path {path!r}: use /wasm/smart/<contract>, /store/<hex key>, "
                                 "/auth/account/<address>, /validators, /genesis/contracts or /wasm/...")
        except (AppError, VmError, HeightUnavailable, ValueError) as exc:
            return {"code": QUERY_ERROR, "log": str(exc), "height": self.store.height, "value": None}

    def _query_store(self, hex_key: str, height: int) -> dict[str, Any]:
        try:
            key = bytes.fromhex(hex_key)
        except ValueError:
            raise InvalidRequest("/store/<key>: the key must be hex") from None
        value = self.store.get(key, height=height)
        proof = self.store.prove(key, height=height)
        app_hash = self.store.app_hash_at(height) if height else EMPTY_HASH
        return {"key": hex_key.lower(), "value": None if value is None else b64encode(value),
                "proof": proof.to_json(), "app_hash": app_hash.hex()}

    def _query_contract_raw(self, contract: str, hex_key: str, height: int) -> dict[str, Any]:
        """A contract's raw storage value with its proof: the /store answer for the full state key."""
        try:
            key = bytes.fromhex(hex_key)
        except ValueError:
            raise InvalidRequest("/wasm/contract/<addr>/raw/<key>: the key must be hex") from None
        store_key = wasm_state.contract_storage(self.store, contract).prefix + key
        return {**self._query_store(store_key.hex(), height), "contract_key": key.hex()}

    # --- internals -----------------------------------------------------------------------------
    def _tx_params(self, state: KVStore, min_gas_prices: tuple) -> TxParams:
        """The TxParams in ``state``; the last answer is reused while the params record's bytes are the same
        (check_tx asks once per tx, and the record changes only by governance)."""
        config = self.config
        assert config is not None
        raw = state.get(chain_params.PARAMS_KEY)
        memo = self._params_memo
        if memo is not None and memo[0] == raw and memo[1] == min_gas_prices:
            return memo[2]
        min_fee = tuple(parse_coins(chain_params.load(state).min_fee))
        params = TxParams(prefix=config.prefix, max_block_gas=config.max_block_gas, max_tx_bytes=MAX_TX_BYTES,
                          min_fee=min_fee, min_gas_prices=min_gas_prices)
        self._params_memo = (raw, min_gas_prices, params)
        return params


# finalize_block's answer, whose canonical JSON is the stored block results; keys in sorted order
_RESULTS_HEAD = ("app_hash", "begin_block", "end_block", "height")
_RESULTS_TAIL = ("validator_updates", "validators_in_effect")


def _results_json(response: dict[str, Any], tx_results: list[bytes]) -> bytes:
    """canonical_json of ``response`` (app hash in hex), splicing in the tx results already encoded.

    Each tx result is encoded once, for its tx record, and reused here. The bytes are exactly
    canonical_json's: keys sort as _RESULTS_HEAD < "tx_results" < _RESULTS_TAIL, and a JSON list
    is its items' encodings joined by commas (tests/app/test_pipeline_cache.py checks it).
    """
    if set(response) != {*_RESULTS_HEAD, "tx_results", *_RESULTS_TAIL}:  # a new field: the plain way
        return canonical_json({**response, "app_hash": response["app_hash"].hex()})
    head = canonical_json({**{k: response[k] for k in _RESULTS_HEAD}, "app_hash": response["app_hash"].hex()})
    tail = canonical_json({k: response[k] for k in _RESULTS_TAIL})
    return head[:-1] + b',"tx_results":[' + b",".join(tx_results) + b"]," + tail[1:]


# --- queries of the wasm module's records (wasmd's Codes, Code, ContractsByCode, ContractInfo, ContractHistory)

def genesis_contracts(view: KVStore, api: Bech32Api) -> dict[str, str]:
    """{name: address} of the genesis contracts, found where genesis put them.

    apply_genesis stores the codes and instantiates the contracts in GENESIS_CONTRACTS order, so
    contract i (0-based) has code id i + 1 and instance i + 1: its classic address. Each address
    is kept only if the contract there was created by the genesis account with the genesis label,
    so a chain booted otherwise (a test app) answers only the names it really has.
    """
    from .genesis import GENESIS_CONTRACTS, LABELS, genesis_account

    deployer, found = genesis_account(api), {}
    for i, name in enumerate(GENESIS_CONTRACTS):
        address = api.humanize(classic_contract_address(i + 1, i + 1))
        info = wasm_state.load_contract(view, address)
        if info is not None and info.creator == deployer and info.label == LABELS[name]:
            found[name] = address
    return found


def _wasm_metadata(view: KVStore, api: Bech32Api, path: str, data: bytes) -> Any:
    parts = path[len("/wasm/"):].split("/")
    if parts == ["codes"]:
        after, limit = _page_args(data, int)
        first, end = (after or 0) + 1, wasm_state.peek_sequence(view, "code")   # code ids are 1.. and never removed
        infos = (wasm_state.load_code(view, code_id) for code_id in range(first, min(end, first + limit)))
        return {"codes": [asdict(info) for info in infos if info is not None]}
    if len(parts) in (2, 3) and parts[0] == "code":
        code_id = _code_id(parts[1])
        if len(parts) == 2:
            info = wasm_state.load_code(view, code_id)
            return None if info is None else asdict(info)
        if parts[2] == "contracts":
            after, limit = _page_args(data, str)
            return {"contracts": wasm_state.contracts_by_code_page(view, code_id, after, limit)}
    if len(parts) in (2, 3) and parts[0] == "contract":
        address = api.validate(parts[1], "contract")
        if len(parts) == 2:
            info = wasm_state.load_contract(view, address)
            return None if info is None else asdict(info)
        if parts[2] == "history":
            after, limit = _page_args(data, int)
            return {"entries": wasm_state.history_page(view, address, after, limit)}
    raise InvalidRequest(f"unknown query path {path!r}: use /wasm/codes, /wasm/code/<id>, /wasm/code/<id>/contracts, "
                         "/wasm/contract/<addr>, /wasm/contract/<addr>/history or /wasm/contract/<addr>/raw/<hex key>")


def _code_id(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_U64:
        raise InvalidRequest(f"a code id is a positive integer, got {text[:32]!r}")
    return int(text)


def _page_args(data: bytes, cursor: type) -> tuple[Any, int]:
    """(start_after, limit) from a list query's data: JSON {"start_after": ..., "limit": n}, all optional."""
    if not data.strip():
        return None, DEFAULT_QUERY_PAGE
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest('list query data must be JSON {"start_after": ..., "limit": n}') from None
    if not isinstance(doc, dict) or set(doc) - {"start_after", "limit"}:
        raise InvalidRequest('list query data is an object with only "start_after" and "limit"')
    limit = doc.get("limit")
    limit = DEFAULT_QUERY_PAGE if limit is None else limit
    if type(limit) is not int or not 1 <= limit <= MAX_QUERY_PAGE:
        raise InvalidRequest(f"limit must be 1..{MAX_QUERY_PAGE}, got {limit!r}")
    after = doc.get("start_after")
    if after is not None and (type(after) is not cursor or (cursor is int and not 0 <= after <= MAX_U64)
                              or (cursor is str and not 0 < len(after) <= 256)):
        raise InvalidRequest(f"start_after must be {'a non-negative integer' if cursor is int else 'a string'} "
                             f"or null, got {str(after)[:32]!r}")
    return after, limit


def _ok(height: int, value: Any) -> dict[str, Any]:
    return {"code": QUERY_OK, "log": "", "height": height, "value": value}


def _decode_or_none(raw: Any) -> Tx | None:
    try:
        return decode_tx(raw)
    except TxError:
        return None


def _default_genesis_applier() -> GenesisApplier:
    return apply_conclave_genesis


def apply_conclave_genesis(ctx: Context, parts: "AppParts", doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The node's genesis: parse Conclave's genesis document and boot the genesis contracts.

    Genesis runs as the state at the end of height ``initial_height - 1`` (tg4 snapshots then
    count the genesis members from the first block on, as chain/app/genesis.py expects).
    """
    from .genesis import apply_genesis, parse_genesis

    genesis = parse_genesis(doc)
    block = BlockInfo(ctx.block.height - 1, ctx.block.time_ns, ctx.block.chain_id)
    result = apply_genesis(replace(ctx, block=block), parts.keeper, genesis)
    return [{"pubkey": {"ed25519": b64encode(pubkey)}, "power": power} for pubkey, power in result.validators]


def _height_key(height: int) -> bytes:
    return height.to_bytes(8, "big")


def _as_validator_updates(value: Any, effective_height: int) -> list[ValidatorUpdate]:
    """The applier's initial set: ValidatorUpdates, or diffs as the valset writes them, or None."""
    if value is None:
        return []
    if isinstance(value, dict) and "validators" in value:
        value = value["validators"]
    items = list(value)
    if all(isinstance(v, ValidatorUpdate) for v in items):
        return [ValidatorUpdate(v.pubkey, v.power, effective_height) for v in items]
    parsed = block_rules.parse_validator_diffs(compact_json({"diffs": items}))
    return [ValidatorUpdate(v.pubkey, v.power, effective_height) for v in parsed]


def _take_due_updates(store: KVStore, height: int) -> list[ValidatorUpdate]:
    """Pending validator updates whose effective height has come, removed from the pending area."""
    due: list[ValidatorUpdate] = []
    for key, value in list(iterate_prefix(store, _PENDING_UPDATES)):
        effective = int.from_bytes(key[len(_PENDING_UPDATES):], "big")
        if effective > height:
            break
        due += _as_validator_updates([{"pubkey": u["pubkey"], "power": u["power"]} for u in json.loads(value)],
                                     effective)
        store.delete(key)
    return due


def _apply_validator_updates(store: KVStore, updates: list[ValidatorUpdate]) -> None:
    for update in updates:
        if update.power == 0:
            store.delete(_VALIDATORS + update.pubkey)
        else:
            store.set(_VALIDATORS + update.pubkey, str(update.power).encode())
