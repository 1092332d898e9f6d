"""Network benchmark: 4 validators as separate `conclave start` processes on loopback; prints one JSON object.

- blocks_per_s_empty: committed heights per second with no txs and timeout_commit 0
  (skip_timeout_commit), over --empty-seconds.
- tx_per_s_4val: signed contract txs committed per second by the 4 validators with the default
  (CometBFT) timeouts, from --senders clients, each submitting its next tx with ?wait=commit as
  soon as the previous one committed, over --load-seconds. Txs are signed before the run (signing
  is the clients' work) and spread over the four nodes' APIs. The contract (--contract): `counter`
  = test_counter's `increment`, uploaded the only way code enters a chain — an admin's code
  proposal, voted by the circle and executed — then instantiated, all through the nodes' API before
  the run; `stake` = the stake contract's `bond {}` with 1 ustake (a heavier execute: the stake
  group, its member hook and the mixer).
- commit_latency_p50_ms / p99_ms: submission to commit answer, for every tx of that run.

Everything (4 nodes and the load client) shares this machine's cores: each node executes every
tx, so the figure is the network's, not one node's. The genesis is the devnet's with equal
validator power, the bench senders funded, and a 1,000,000,000 block gas limit (so block size is
bound by the load, not by 500 txs of 200,000 gas).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from hashlib import sha256
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from chain import genesis_builder  # noqa: E402
from chain.api.client import Client  # noqa: E402
from chain.app.tx import Execute, Instantiate, ProposeCode, build_tx  # noqa: E402
from chain.codec import b64encode  # noqa: E402
from chain.crypto.keyfiles import node_id, write_node_key, write_validator_key  # noqa: E402
from chain.crypto.keys import PrivateKey, address_of  # noqa: E402

DEVNET = ROOT / "genesis" / "devnet.json"
ARTIFACTS = ROOT / "contracts" / "artifacts"
CHAIN_ID = "conclave-devnet"
VALIDATORS = 4
TX_GAS = 400_000
TARGETS = {"blocks_per_s_empty": 10, "tx_per_s_4val": 500}


def key(role: str, n: int) -> PrivateKey:
    return PrivateKey.from_seed(sha256(f"{role}/{n}".encode()).digest())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def member(n: int) -> PrivateKey:
    return PrivateKey.from_seed(sha256(f"devnet/member/{n}".encode()).digest())


def attribute(answer: dict, name: str) -> str:
    for event in answer["result"]["events"]:
        for attr in event["attributes"]:
            if attr["key"] == name:
                return attr["value"]
    raise SystemExit(f"no {name} in {answer}")


def submit(client: Client, key: PrivateKey, msg, gas: int = 5_000_000) -> dict:
    sequence = client.account(address_of(key.pubkey))["sequence"]
    answer = client.submit_tx(build_tx(key, CHAIN_ID, sequence, [msg], gas_limit=gas).raw, wait_commit=True)
    if answer["result"]["code"] != 0:
        raise SystemExit(f"setup tx failed: {answer}")
    return answer


def deploy_counter(url: str, voting: str) -> str:
    """test_counter through governance: member1 (an admin) proposes, member2 votes, member1 executes."""
    client = Client(url, timeout=120)
    proposed = submit(client, member(1), ProposeCode((ARTIFACTS / "test_counter.wasm").read_bytes(),
                                                     "bench counter", "a counter for the network bench", None),
                      gas=50_000_000)
    proposal_id = int(attribute(proposed, "proposal_id"))
    submit(client, member(2), Execute(voting, {"vote": {"proposal_id": proposal_id, "vote": "yes"}}, ()))
    stored = submit(client, member(1), Execute(voting, {"execute": {"proposal_id": proposal_id}}, ()))
    code_id = int(attribute(stored, "code_id"))
    made = submit(client, member(1), Instantiate(code_id, {"count": 0}, (), "bench-counter", None))
    return attribute(made, "_contract_address")


def build_genesis(senders: list[PrivateKey]) -> tuple[bytes, dict[str, str]]:
    config = json.loads(DEVNET.read_text())
    config["block"]["max_gas"] = 1_000_000_000
    for validator in config["validators"]:
        validator["stake"], validator["engagement"] = "2000000", 200
    config["accounts"] += [{"address": address_of(k.pubkey), "coins": [
        {"denom": "ucnv", "amount": "1000000"}, {"denom": "ustake", "amount": "1000000"}]} for k in senders]
    doc, result = genesis_builder.build_doc(config, ARTIFACTS)
    return doc.canonical_bytes(), dict(result.contracts)


class Network:
    """Four validator homes from the devnet consensus keys, fully meshed, started as processes."""

    def __init__(self, base: Path, genesis: bytes, timeouts: dict[str, float]):
        self.homes = [base / f"node{i}" for i in range(VALIDATORS)]
        self.api = [free_port() for _ in range(VALIDATORS)]
        self.p2p = [free_port() for _ in range(VALIDATORS)]
        node_keys = [key("bench/node", i) for i in range(VALIDATORS)]
        for i, home in enumerate(self.homes):
            (home / "config").mkdir(parents=True)
            (home / "config" / "genesis.json").write_bytes(genesis)
            write_validator_key(home / "config" / "priv_validator_key.json", PrivateKey.from_seed(
                sha256(f"devnet/consensus/{i + 1}".encode()).digest()))
            write_node_key(home / "config" / "node_key.json", node_keys[i])
            peers = [f"{node_id(node_keys[j].pubkey)}@127.0.0.1:{self.p2p[j]}" for j in range(VALIDATORS) if j != i]
            (home / "config" / "node.json").write_text(json.dumps({
                "moniker": f"node{i}", "api": f"127.0.0.1:{self.api[i]}", "p2p": f"127.0.0.1:{self.p2p[i]}",
                "peers": peers, "timeouts": timeouts}))
        self.procs: list[subprocess.Popen] = []

    def start(self, wasm_cache: Path | None) -> None:
        for home in self.homes:
            if wasm_cache is not None and wasm_cache.exists():
                shutil.copytree(wasm_cache, home / "wasm")
            log = (home / "node.log").open("ab")
            env = dict(os.environ)
            if home.name == "node0" and os.environ.get("BENCH_PROFILE"):
                env["CONCLAVE_PROFILE"] = os.environ["BENCH_PROFILE"] + "." + home.parent.name
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "chain.cli", "start", "--home", str(home), "--log-level", "WARNING"],
                cwd=ROOT, stdout=log, stderr=log, env=env))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.api]


async def height(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url + "/status") as response:
        return (await response.json())["height"]


async def wait_height(session: aiohttp.ClientSession, urls: list[str], target: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if min([await height(session, u) for u in urls]) >= target:
                return
        except (aiohttp.ClientError, OSError, KeyError, ValueError):
            pass
        await asyncio.sleep(0.1)
    raise SystemExit(f"the network did not reach height {target} in {timeout} s")


async def ready(net: Network) -> None:
    async with aiohttp.ClientSession() as session:
        await wait_height(session, net.urls, 2, 300)


async def empty_blocks(net: Network, seconds: float) -> float:
    async with aiohttp.ClientSession() as session:
        await wait_height(session, net.urls, 2, 300)
        start_h, start_t = await height(session, net.urls[0]), time.monotonic()
        await asyncio.sleep(seconds)
        end_h, end_t = await height(session, net.urls[0]), time.monotonic()
    return (end_h - start_h) / (end_t - start_t)


async def load(net: Network, senders: list[PrivateKey], msg: Execute, seconds: float) -> dict[str, float]:
    per_sender = int(seconds * 4) + 5                 # more than a sender can commit in the run
    signed = [[b64encode(build_tx(k, CHAIN_ID, seq, [msg], gas_limit=TX_GAS).raw) for seq in range(per_sender)]
              for k in senders]
    latencies: list[float] = []
    failures = 0
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await wait_height(session, net.urls, 2, 300)
        deadline = time.monotonic() + seconds

        async def client(i: int) -> None:
            nonlocal failures
            url = net.urls[i % VALIDATORS] + "/txs?wait=commit"
            for tx in signed[i]:
                if time.monotonic() >= deadline:
                    return
                sent = time.monotonic()
                try:
                    async with session.post(url, json={"tx": tx}) as response:
                        answer = await response.json()
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                    failures += 1
                    return
                if answer.get("status") == "committed" and answer["result"]["code"] == 0:
                    latencies.append(time.monotonic() - sent)
                else:
                    failures += 1
                    return

        started = time.monotonic()
        await asyncio.gather(*(client(i) for i in range(len(senders))))
        elapsed = time.monotonic() - started
    latencies.sort()
    return {"tx_per_s_4val": round(len(latencies) / elapsed, 1),
            "commit_latency_p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
            "commit_latency_p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
            "txs_committed": len(latencies), "tx_failures": failures, "load_seconds": round(elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--empty-seconds", type=float, default=15.0)
    parser.add_argument("--load-seconds", type=float, default=30.0)
    parser.add_argument("--senders", type=int, default=1200)
    parser.add_argument("--contract", choices=["counter", "stake"], default="counter")
    args = parser.parse_args()
    senders = [key("bench/network/sender", n) for n in range(args.senders)]
    genesis, contracts = build_genesis(senders)
    out: dict[str, object] = {"bench": "network", "date": time.strftime("%Y-%m-%d"), "validators": VALIDATORS,
                              "cores": os.cpu_count(), "senders": args.senders, "contract": args.contract}
    with tempfile.TemporaryDirectory(prefix="conclave-bench-net-") as tmp:
        empty = Network(Path(tmp) / "empty", genesis, {"commit": 0.0, "skip_timeout_commit": True})
        empty.start(None)
        try:
            out["blocks_per_s_empty"] = round(asyncio.run(empty_blocks(empty, args.empty_seconds)), 2)
        finally:
            empty.stop()
        loaded = Network(Path(tmp) / "load", genesis, {})          # CometBFT's default timeouts
        loaded.start(empty.homes[0] / "wasm")
        try:
            if args.contract == "counter":
                asyncio.run(ready(loaded))
                msg = Execute(deploy_counter(loaded.urls[0], contracts["voting"]), {"increment": {}}, ())
            else:
                msg = Execute(contracts["stake"], {"bond": {}}, (("ustake", 1),))
            out.update(asyncio.run(load(loaded, senders, msg, args.load_seconds)))
        finally:
            loaded.stop()
    out["targets"] = TARGETS
    out["meets_targets"] = {name: (out.get(name) or 0) >= target for name, target in TARGETS.items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
