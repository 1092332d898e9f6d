"""A single-validator node: the App, its store and a mempool, producing one block per block time.

    node = Node(home)                    # opens HOME/data, runs init_chain if the store is empty
    await node.run()                     # block loop until node.stop()

The block step is CometBFT's, without the votes (a single validator decides alone):
reap the mempool -> prepare_proposal -> finalize_block(height, wall-clock time) -> commit ->
mempool.update. The node may read the clock; the app may not, so the time is passed in, and
kept strictly after the previous block's time (CometBFT's rule) even if the clock steps back.
Durability is the store's: ``commit`` is one fsync'd RocksDB batch, so a tx this node reports as
committed survives kill -9. The mempool is memory only (CometBFT's is too): txs not yet in a
block are lost with the process and their senders resubmit. Consensus and p2p are other issues.

For tests only, two options make a run reproducible, so that a node killed and restarted can be
compared block by block with an uninterrupted one (tests/node/test_crash_node.py):
``deterministic_time`` (block time = genesis time + height * block_time instead of the clock) and
``txs_file`` (a JSON object {"<height>": [base64 signed tx, ...]} giving each block's txs instead
of the mempool; such a node refuses submitted txs). Never use them on a real chain.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .app.app import App
from .app.errors import AppError
from .app.genesis import rfc3339_to_ns
from .app.mempool import Mempool, MempoolError, CODE_MEMPOOL_FULL, CODE_TX_IN_MEMPOOL
from .app.tx import Tx, TxError, decode_tx
from .store import StateStore, TxRecord

DEFAULT_BLOCK_TIME = 1.0
MIN_BLOCK_TIME = 0.01
NODE_CONFIG_NAME = "node.json"          # HOME/config/node.json: {"block_time": s, "api": "host:port"}
DEFAULT_API = "127.0.0.1:1317"          # cosmos-sdk's REST port; loopback unless told otherwise
CONFIG_KEYS = {"block_time", "api", "deterministic_time", "txs_file"}   # the last two: tests only
NS_PER_S = 1_000_000_000
CODE_TXS_FROM_FILE = CODE_MEMPOOL_FULL  # a --txs-file node admits nothing: "no room" is the honest code


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
    deterministic_time: bool = False        # tests only: block time from the height, not the clock
    txs_file: str | None = None             # tests only: each block's txs from this file, not the mempool

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
        if not isinstance(doc.get("deterministic_time", False), bool):
            raise NodeError(f"{path}: deterministic_time must be true or false")
        txs_file = doc.get("txs_file")
        if txs_file is not None and not isinstance(txs_file, str):
            raise NodeError(f"{path}: txs_file must be a path (a string)")
        return cls(float(doc.get("block_time", DEFAULT_BLOCK_TIME)), str(doc.get("api", DEFAULT_API)),
                   doc.get("deterministic_time", False), txs_file)


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
        self.store = StateStore.open(self.home / "data")
        try:
            self.app = App(self.store, vm_cache_dir=self.home / "wasm")
            if self.store.height == 0:
                # nothing committed yet (a fresh home, or a crash before block 1): genesis again
                self.app.init_chain(genesis, rfc3339_to_ns(genesis["genesis_time"]))
            elif self.app.config.chain_id != genesis.get("chain_id"):
                raise NodeError(f"{self.home / 'data'} holds chain {self.app.config.chain_id!r} but "
                                f"{genesis_file} is for {genesis.get('chain_id')!r}")
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

    # --- state the API reads -------------------------------------------------------------------
    @property
    def height(self) -> int:
        return self.store.height

    def last_block_time_ns(self) -> int:
        """The latest committed block's time (genesis time before the first block)."""
        raw = self.store.block(self.store.height) if self.store.height else None
        return json.loads(raw)["time_ns"] if raw else self._genesis_time_ns

    def status(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "height": self.store.height, "app_hash": self.store.app_hash.hex(),
                "latest_block_time_ns": self.last_block_time_ns(), "mempool_txs": len(self.mempool)}

    # --- admission -----------------------------------------------------------------------------
    def submit(self, raw: bytes) -> Tx:
        """check_tx then the mempool; raises TxRefused saying why not."""
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

    # --- block production ----------------------------------------------------------------------
    def produce_block(self) -> dict[str, Any]:
        """One block from the mempool, finalized and committed: CometBFT's step for a lone validator."""
        config = self.app.config
        assert config is not None
        height = self.store.height + 1 if self.store.height else config.initial_height
        if self.txs_plan is not None:
            reaped, proposed = [], self.txs_plan.get(height, [])
        else:
            reaped = self.mempool.reap(config.max_block_bytes, config.max_block_gas)
            proposed = [tx.raw for tx in reaped]
        txs = self.app.prepare_proposal(proposed, config.max_block_bytes)
        if self.deterministic_time:
            now = self._genesis_time_ns + height * round(self.block_time * NS_PER_S)
        else:
            now = time.time_ns()
        time_ns = max(now, self.last_block_time_ns() + 1)
        response = self.app.finalize_block(height, time_ns, txs)
        self.app.commit()
        chosen = set(txs)
        included = [tx.hash for tx in reaped if tx.raw in chosen]
        self.mempool.update(included, self._account_sequence,
                            recheck=lambda tx: self.app.check_tx(tx.raw)["code"] == 0)
        return response

    def _account_sequence(self, address: str) -> int:
        answer = self.app.query(f"/auth/account/{address}")
        return answer["value"]["sequence"] if answer["code"] == 0 else 0

    async def run(self) -> None:
        """Produce blocks every block_time seconds until ``stop``."""
        self._new_block = asyncio.Event()
        self._stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        next_at = loop.time() + self.block_time
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._stop.wait(), max(0.0, next_at - loop.time()))
                break
            except TimeoutError:
                pass
            next_at = max(next_at + self.block_time, loop.time())
            self.produce_block()
            event, self._new_block = self._new_block, asyncio.Event()
            event.set()          # wakes every waiter of this block; later waiters wait on the new event

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def close(self) -> None:
        self.store.close()
