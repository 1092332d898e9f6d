"""One Conclave node: the App over its store, a mempool, Tendermint consensus, p2p and block sync.

    node = Node(home)                    # opens HOME/data, runs init_chain if the store is empty
    await node.run()                     # consensus (+ p2p and block sync when peers are configured)

HOME/config/node.json says how the node takes part (all keys optional):

    {"moniker": "node0", "api": "127.0.0.1:1317", "p2p": "127.0.0.1:26656",
     "peers": ["<node_id>@host:port", ...], "validator": true,
     "timeouts": {"propose": 3.0, "commit": 1.0, ...}, "block_time": 1.0}

A validator signs with HOME/config/priv_validator_key.json (CometBFT's format) and never below
the height/round/step recorded in HOME/data/priv_validator_state.json; every node authenticates
to its peers with HOME/config/node_key.json (created on first start). ``block_time`` is the
commit timeout (the pause between blocks); the consensus timeouts default to CometBFT's.
A lone validator (no peers) runs the same consensus with itself.

Durability is the store's: a block is committed in one fsync'd RocksDB batch together with its
consensus records, and the WAL (HOME/data/cs.wal) holds the inputs of the height in progress.
The mempool is memory only (CometBFT's is too): txs not yet in a block are lost with the process.

For tests only, two options make a run reproducible, so that a node killed and restarted can be
compared block by block with an uninterrupted one (tests/node/test_crash_node.py):
``deterministic_time`` (votes are timestamped genesis time + height * block_time instead of the
clock) and ``txs_file`` (a JSON object {"<height>": [base64 signed tx, ...]} giving each block's
txs instead of the mempool; such a node refuses submitted txs). Never use them on a real chain.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

from .app.app import App
from .app.errors import AppError
from .app.genesis import rfc3339_to_ns
from .app.mempool import Mempool, MempoolError, CODE_MEMPOOL_FULL, CODE_TX_IN_MEMPOOL
from .app.tx import Tx, TxError, decode_tx, tx_hash
from .codec import b64decode, b64encode
from .consensus.blocks import Block, ChainState
from .consensus.driver import CHANNEL, EVIDENCE_CHANNEL, STATE_RECORD, Driver
from .consensus.machine import TimeoutConfig
from .consensus.privval import PrivValidator
from .consensus.validators import address_of
from .consensus.wal import WAL
from .crypto.keyfiles import load_node_key, load_validator_key, node_id, write_node_key
from .crypto import sha256
from .p2p import P2P, SeenCache, parse_peer
from .p2p.blocksync import STATUS_CHANNEL, BlockSync
from .p2p.txbatch import TxBatcher, batch_items
from .crypto.keys import PrivateKey
from .store import StateStore, TxRecord

log = logging.getLogger("conclave.node")

DEFAULT_BLOCK_TIME = 1.0
MIN_BLOCK_TIME = 0.0
NODE_CONFIG_NAME = "node.json"
DEFAULT_API = "127.0.0.1:1317"          # cosmos-sdk's REST port; loopback unless told otherwise
CONFIG_KEYS = {"block_time", "api", "moniker", "p2p", "peers", "validator", "timeouts",
               "deterministic_time", "txs_file", "byzantine"}          # the last three: tests only
TIMEOUT_KEYS = {f.name for f in fields(TimeoutConfig)}
NS_PER_S = 1_000_000_000
CODE_TXS_FROM_FILE = CODE_MEMPOOL_FULL  # a --txs-file node admits nothing: "no room" is the honest code
STATUS_INTERVAL_S = 0.5                 # how often a node tells its peers where it is
RESEND_INTERVAL_S = 1.0                 # a height that has not moved for this long re-gossips its votes...
RESEND_BLOCKS_AFTER_S = 3.0             # ...and, after this long, its proposals with their blocks
SEEN_TXS = 20_000                       # gossiped tx hashes remembered, so duplicates cost no decoding
TX_CHANNEL = "txs"


class NodeError(Exception):
    """The node cannot start or was used wrongly; the message says what to do."""


class TxRefused(Exception):
    """check_tx or the mempool refused a tx: ``code`` is the app's (cosmos-sdk's) code."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NodeConfig:
    block_time: float = DEFAULT_BLOCK_TIME
    api: str = DEFAULT_API
    moniker: str = "node"
    p2p: str | None = None                  # listen address for peers; None: no inbound peers
    peers: tuple[str, ...] = ()             # "<node_id>@host:port", CometBFT's persistent_peers
    validator: bool = True                  # sign with priv_validator_key.json if it exists
    timeouts: dict[str, float] = field(default_factory=dict)
    deterministic_time: bool = False        # tests only: vote time from the height, not the clock
    txs_file: str | None = None             # tests only: each block's txs from this file, not the mempool
    byzantine: bool = False                 # tests only: this validator double-votes (fault tests)

    @classmethod
    def load(cls, home: Path) -> "NodeConfig":
        """HOME/config/node.json if present, defaults otherwise."""
        path = home / "config" / NODE_CONFIG_NAME
        if not path.exists():
            return cls()
        try:
            doc = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise NodeError(f"cannot read {path}: {exc}; fix or delete it") from None
        if not isinstance(doc, dict) or set(doc) - CONFIG_KEYS:
            raise NodeError(f"{path} must be an object with only {', '.join(sorted(CONFIG_KEYS))}")
        for name in ("deterministic_time", "validator", "byzantine"):
            if not isinstance(doc.get(name, False), bool):
                raise NodeError(f"{path}: {name} must be true or false")
        txs_file = doc.get("txs_file")
        if txs_file is not None and not isinstance(txs_file, str):
            raise NodeError(f"{path}: txs_file must be a path (a string)")
        peers = doc.get("peers", [])
        if not isinstance(peers, list) or not all(isinstance(p, str) for p in peers):
            raise NodeError(f'{path}: peers must be a list of "<node_id>@host:port" strings')
        timeouts = doc.get("timeouts", {})
        if not isinstance(timeouts, dict) or set(timeouts) - TIMEOUT_KEYS or not all(
                type(v) in (int, float, bool) for v in timeouts.values()):
            raise NodeError(f"{path}: timeouts must be an object with numbers for {', '.join(sorted(TIMEOUT_KEYS))}")
        p2p = doc.get("p2p")
        if p2p is not None and not isinstance(p2p, str):
            raise NodeError(f'{path}: p2p must be "host:port"')
        try:
            block_time = float(doc.get("block_time", DEFAULT_BLOCK_TIME))
        except (TypeError, ValueError):
            raise NodeError(f"{path}: block_time must be a number of seconds") from None
        return cls(block_time, str(doc.get("api", DEFAULT_API)), str(doc.get("moniker", "node")), p2p,
                   tuple(peers), doc.get("validator", True), dict(timeouts),
                   doc.get("deterministic_time", False), txs_file, doc.get("byzantine", False))

    def timeout_config(self, block_time: float) -> TimeoutConfig:
        """CometBFT's defaults, the block time as the commit timeout, then node.json's overrides."""
        return TimeoutConfig(**{"commit": block_time, **self.timeouts})


def load_txs_file(path: Path) -> dict[int, list[bytes]]:
    """{"<height>": [base64 signed tx, ...]} -> {height: [tx bytes]}: the fixed blocks of a test run."""
    try:
        doc = json.loads(Path(path).read_bytes())
    except OSError as exc:
        raise NodeError(f"cannot read the txs file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise NodeError(f"the txs file {path} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise NodeError(f'the txs file {path} must be an object {{"<height>": [base64 tx, ...]}}')
    plan: dict[int, list[bytes]] = {}
    for key, txs in doc.items():
        if not (key.isascii() and key.isdigit() and int(key) >= 1) or not isinstance(txs, list):
            raise NodeError(f"the txs file {path}: {key!r} must be a height >= 1 with a list of base64 txs")
        try:
            plan[int(key)] = [base64.b64decode(t, validate=True) for t in txs]
        except (binascii.Error, TypeError, ValueError):
            raise NodeError(f"the txs file {path}: height {key} has a tx that is not base64") from None
    return plan


class Node:
    def __init__(self, home: str | Path, block_time: float | None = None, *,
                 deterministic_time: bool | None = None, txs_file: str | Path | None = None):
        """Arguments override HOME/config/node.json; ``deterministic_time`` and ``txs_file`` are for tests."""
        self.home = Path(home)
        self.config = NodeConfig.load(self.home)
        self.block_time = self.config.block_time if block_time is None else block_time
        if not self.block_time >= MIN_BLOCK_TIME:
            raise NodeError(f"block time must be at least {MIN_BLOCK_TIME} s, got {self.block_time}")
        self.timeouts = self.config.timeout_config(self.block_time)
        self.deterministic_time = (self.config.deterministic_time if deterministic_time is None
                                   else deterministic_time)
        plan_path = txs_file if txs_file is not None else self.config.txs_file
        self.txs_plan = load_txs_file(Path(plan_path)) if plan_path is not None else None
        genesis_file = self.home / "config" / "genesis.json"
        try:
            genesis = json.loads(genesis_file.read_bytes())
        except OSError as exc:
            raise NodeError(f"cannot read {genesis_file}: {exc.strerror}; build it with "
                            "`conclave genesis build --home HOME`") from None
        except ValueError as exc:
            raise NodeError(f"{genesis_file} is not JSON: {exc}") from None
        self.node_key = self._node_key()
        self.signer_key = self._validator_key()
        self.store = StateStore.open(self.home / "data")
        try:
            self.app = App(self.store, vm_cache_dir=self.home / "wasm")
            if self.store.height == 0:
                # nothing committed yet (a fresh home, or a crash before block 1): genesis again
                time_ns = rfc3339_to_ns(genesis["genesis_time"])
                answer = self.app.init_chain(genesis, time_ns)
                self.chain_state = genesis_state(self.app.config.chain_id, self.app.config.initial_height,
                                                 time_ns, answer)
            else:
                if self.app.config.chain_id != genesis.get("chain_id"):
                    raise NodeError(f"{self.home / 'data'} holds chain {self.app.config.chain_id!r} but "
                                    f"{genesis_file} is for {genesis.get('chain_id')!r}")
                raw = self.store.record(STATE_RECORD)
                if raw is None:
                    raise NodeError(f"{self.home / 'data'} has blocks but no consensus state: it was written "
                                    "by an older node; start from a fresh home and sync")
                self.chain_state = ChainState.from_json(json.loads(raw))
        except (AppError, KeyError, ValueError) as exc:
            self.store.close()
            raise NodeError(f"cannot start from {genesis_file}: {exc}") from None
        except NodeError:
            self.store.close()
            raise
        assert self.app.config is not None
        self.chain_id = self.app.config.chain_id
        self.prefix = self.app.config.prefix
        self.mempool = Mempool(self.prefix)
        self._genesis_time_ns = rfc3339_to_ns(genesis["genesis_time"])
        self._new_block: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self.p2p: P2P | None = None
        self.tx_gossip: TxBatcher | None = None
        self.sync: BlockSync | None = None
        self.wal: WAL | None = None
        self.driver: Driver | None = None
        # called with (block, finalize_block's answer) after each commit: the API's event stream and metrics
        self.on_block_listeners: list[Callable[[Block, dict[str, Any]], None]] = []

    def _node_key(self) -> PrivateKey:
        path = self.home / "config" / "node_key.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_node_key(path, PrivateKey.generate())
        return load_node_key(path)

    def _validator_key(self) -> PrivateKey | None:
        path = self.home / "config" / "priv_validator_key.json"
        if not self.config.validator or not path.exists():
            return None
        return load_validator_key(path)

    @property
    def node_id(self) -> str:
        return node_id(self.node_key.pubkey)

    # --- state the API reads -------------------------------------------------------------------
    @property
    def height(self) -> int:
        return self.store.height

    def last_block_time_ns(self) -> int:
        """The latest committed block's time (genesis time before the first block)."""
        return self.chain_state.last_block_time_ns

    def status(self) -> dict[str, Any]:
        driver = self.driver.status() if self.driver is not None else {"round": 0, "step": "stopped"}
        validators = self.chain_state.validators
        me = self.signer_key
        return {"chain_id": self.chain_id, "height": self.store.height, "app_hash": self.store.app_hash.hex(),
                "latest_block_time_ns": self.last_block_time_ns(), "mempool_txs": len(self.mempool),
                "moniker": self.config.moniker, "node_id": self.node_id,
                "round": driver["round"], "step": driver["step"],
                "validator": b64encode(me.pubkey) if me is not None else None,
                "is_validator": me is not None and validators.by_address(address_of(me.pubkey)) is not None,
                "validators": [{"pubkey": b64encode(v.pubkey), "power": v.power} for v in validators],
                "peers": len(self.p2p.peers()) if self.p2p is not None else 0,
                "catching_up": self.sync.catching_up if self.sync is not None else False}

    # --- admission -----------------------------------------------------------------------------
    def submit(self, raw: bytes, *, gossip: bool = True, gossip_except: str | None = None) -> Tx:
        """check_tx then the mempool, then gossip to peers; raises TxRefused saying why not."""
        if self.txs_plan is not None:
            raise TxRefused("this node takes every block's txs from its txs file (a test mode) and admits "
                            "none: restart it without --txs-file", CODE_TXS_FROM_FILE)
        try:
            tx = decode_tx(raw)
        except TxError as exc:
            raise TxRefused(str(exc), exc.code) from None
        if tx.hash in self.mempool:
            raise TxRefused(f"tx {tx.hash} is already in the mempool", CODE_TX_IN_MEMPOOL)
        if self.store.tx(bytes.fromhex(tx.hash)) is not None:
            raise TxRefused(f"tx {tx.hash} is already committed: GET /txs/{tx.hash}", CODE_TX_IN_MEMPOOL)
        self._ensure_room(tx)       # before check_tx, which consumes the sequence on the check state
        answer = self.app.check_tx(raw)
        if answer["code"] != 0:
            raise TxRefused(answer["log"], answer["code"])
        try:
            self.mempool.add(tx)
        except MempoolError as exc:
            raise TxRefused(str(exc), exc.code) from None
        if gossip and self.tx_gossip is not None:
            self.tx_gossip.add(b64encode(raw), exclude=gossip_except)
        return tx

    def _ensure_room(self, tx: Tx) -> None:
        pool, sender = self.mempool, tx.sender(self.prefix)
        if len(pool.sender_txs(sender)) >= pool.max_per_sender:
            raise TxRefused(f"{sender} already has {pool.max_per_sender} pending txs, the limit: wait for a block",
                            CODE_MEMPOOL_FULL)
        if len(pool) >= pool.max_txs or pool.size_bytes + tx.size > pool.max_bytes:
            raise TxRefused("mempool is full: try again after the next block", CODE_MEMPOOL_FULL)

    def committed(self, tx_hash: str) -> TxRecord | None:
        try:
            key = bytes.fromhex(tx_hash)
        except ValueError:
            return None
        return self.store.tx(key) if len(key) == 32 else None

    async def wait_committed(self, tx_hash: str, timeout: float) -> TxRecord | None:
        """The tx's record once a block holds it; None if it left the mempool unexecuted or time ran out."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            record = self.committed(tx_hash)
            if record is not None or tx_hash not in self.mempool:
                return record
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0 or self._new_block is None:
                return None
            try:
                await asyncio.wait_for(self._new_block.wait(), left)
            except TimeoutError:
                return None

    # --- consensus callbacks -------------------------------------------------------------------
    def _reap_txs(self) -> list[bytes]:
        config = self.app.config
        assert config is not None
        if self.txs_plan is not None:
            return self.txs_plan.get(self.chain_state.next_height(), [])
        return [tx.raw for tx in self.mempool.reap(config.max_block_bytes, config.max_block_gas)]

    def _clock(self) -> int:
        if self.deterministic_time:
            return self._genesis_time_ns + self.chain_state.next_height() * round(self.block_time * NS_PER_S)
        return time.time_ns()

    def _on_commit(self, block: Block, response: dict[str, Any]) -> None:
        assert self.driver is not None
        self.chain_state = self.driver.state
        included = [tx_hash(raw) for raw in block.txs]
        self.mempool.update(included, self._account_sequence,
                            recheck=lambda tx: self.app.check_tx(tx.raw)["code"] == 0)
        if self._new_block is not None:
            event, self._new_block = self._new_block, asyncio.Event()
            event.set()          # wakes every waiter of this block; later waiters wait on the new event
        for listener in list(self.on_block_listeners):
            try:
                listener(block, response)
            except Exception:  # noqa: BLE001 - an observer's bug must never stop the chain
                log.exception("a block listener failed at height %d", block.header.height)

    def _account_sequence(self, address: str) -> int:
        answer = self.app.query(f"/auth/account/{address}")
        return answer["value"]["sequence"] if answer["code"] == 0 else 0

    # --- running -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Consensus, and p2p with block sync when peers or a p2p address are configured, until ``stop``."""
        self._new_block = asyncio.Event()
        self._stop = asyncio.Event()
        self.wal = WAL.open(self.home / "data" / "cs.wal")
        signer = (PrivValidator(self.signer_key, self.home / "data" / "priv_validator_state.json")
                  if self.signer_key is not None else None)
        self.driver = Driver(self.app, self.store, self.chain_state, signer=signer, wal=self.wal,
                             timeouts=self.timeouts, broadcast=self._broadcast, reap_txs=self._reap_txs,
                             on_commit=self._on_commit, clock=self._clock,
                             max_block_bytes=self.app.config.max_block_bytes,
                             byzantine_key=self.signer_key if self.config.byzantine else None)
        if self.config.byzantine:
            log.warning("BYZANTINE test mode: this validator double-votes; never on a real network")
        if signer is None or self.chain_state.validators.by_address(signer.address) is None:
            if not self.config.peers:
                log.warning("this node is not a validator of the current set and has no peers: it cannot "
                            "make progress; add peers to node.json or a priv_validator_key.json of the set")
        tasks = [asyncio.create_task(self.driver.run(), name="consensus")]
        if self.config.p2p is not None or self.config.peers:
            await self._start_network()
            tasks += [asyncio.create_task(self._status_loop(), name="status"),
                      asyncio.create_task(self.sync.run(), name="blocksync")]
        stop = asyncio.create_task(self._stop.wait(), name="stop")
        try:
            done, _ = await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stop and task.exception() is not None:
                    raise task.exception()
        finally:
            self.driver.stop()
            for task in [stop, *tasks]:
                task.cancel()
            await asyncio.gather(stop, *tasks, return_exceptions=True)
            if self.p2p is not None:
                await self.p2p.stop()
            if signer is not None:
                signer.close()
            self.wal.close()

    async def _start_network(self) -> None:
        try:
            peers = [parse_peer(text) for text in self.config.peers]
        except ValueError as exc:
            raise NodeError(f"{self.home / 'config' / NODE_CONFIG_NAME}: {exc}") from None
        self.p2p = P2P(self.node_key, self.chain_id, self.config.p2p, peers)
        assert self.driver is not None
        driver = self.driver

        async def on_consensus(_peer: str, _channel: str, payload: dict) -> None:
            driver.receive(payload)

        async def on_evidence(_peer: str, _channel: str, payload: dict) -> None:
            driver.receive_evidence(payload)

        seen = SeenCache(SEEN_TXS)

        async def on_txs(peer: str, _channel: str, payload: dict) -> None:
            for text in batch_items(payload):
                digest = sha256(text.encode())
                if not seen.add(digest):
                    continue                          # the same tx from another peer: nothing to do
                try:
                    self.submit(b64decode(text), gossip_except=peer)
                except (TxRefused, ValueError, TypeError):
                    pass                              # already known, or not admissible here: not gossiped on

        self.p2p.on_message(CHANNEL, on_consensus)
        self.p2p.on_message(EVIDENCE_CHANNEL, on_evidence)
        self.p2p.on_message(TX_CHANNEL, on_txs)
        self.tx_gossip = TxBatcher(self.p2p, TX_CHANNEL)
        self.sync = BlockSync(self.p2p, driver, self.store)
        await self.p2p.start()
        log.info("p2p node %s listening on %s, %d peers configured", self.node_id, self.config.p2p,
                 len(self.config.peers))

    def _broadcast(self, channel: str, payload: dict) -> None:
        if self.p2p is not None:
            self.p2p.broadcast(channel, payload)

    async def _status_loop(self) -> None:
        """Tell peers where we are; re-gossip this height's votes (later its blocks) while it does not move."""
        assert self.driver is not None and self.p2p is not None
        last_height, stalled_s, last_resend = -1, 0.0, 0.0
        while True:
            await asyncio.sleep(STATUS_INTERVAL_S)
            self.p2p.broadcast(STATUS_CHANNEL, {**self.driver.status(), "base": self.store.earliest})
            height = self.store.height
            if height != last_height:
                last_height, stalled_s, last_resend = height, 0.0, 0.0
                continue
            stalled_s += STATUS_INTERVAL_S
            if stalled_s - last_resend >= RESEND_INTERVAL_S:
                last_resend = stalled_s
                for message in self.driver.resend(proposals=stalled_s >= RESEND_BLOCKS_AFTER_S):
                    self.p2p.broadcast(CHANNEL, message)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def close(self) -> None:
        self.store.close()


def genesis_state(chain_id: str, initial_height: int, genesis_time_ns: int, answer: dict[str, Any]) -> ChainState:
    """The chain state before the first block: init_chain's validators and app hash (CometBFT's MakeGenesisState)."""
    updates = [(b64decode(v["pubkey"]["ed25519"]), v["power"]) for v in answer["validators"]]
    if not updates:
        raise NodeError("genesis has no validators: the valset contract chose none")
    return ChainState.from_genesis(chain_id, initial_height, genesis_time_ns, updates, bytes(answer["app_hash"]))
