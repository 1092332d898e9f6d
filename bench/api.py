"""API benchmark: one validator node (a `conclave start` process) and a separate load process; one JSON object.

- smart_queries_per_s: `GET /contracts/{voting}/smart?msg=...` ({"rules":{}} of the voting
  contract: a real wasm query) from a separate load process on loopback (aiohttp, --clients
  concurrent connections) for --seconds, while the node keeps producing blocks.
- block_time_drift_under_load: the mean block interval during that load over the mean interval
  in the same node's quiet --seconds before it (block_time 1 s, so ~1.0 means consensus did not
  notice the queries).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import signal
import socket
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
from chain.crypto.keyfiles import write_validator_key  # noqa: E402
from chain.crypto.keys import PrivateKey  # noqa: E402

DEVNET = ROOT / "genesis" / "devnet.json"
ARTIFACTS = ROOT / "contracts" / "artifacts"
TARGETS = {"smart_queries_per_s": 2_000, "block_time_drift_under_load": 1.2}
QUERY = base64.b64encode(b'{"rules":{}}').decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_node(home: Path, port: int) -> subprocess.Popen:
    config = json.loads(DEVNET.read_text())
    config["validators"] = config["validators"][:1]
    doc, result = genesis_builder.build_doc(config, ARTIFACTS)
    (home / "config").mkdir(parents=True)
    (home / "config" / "genesis.json").write_bytes(doc.canonical_bytes())
    write_validator_key(home / "config" / "priv_validator_key.json",
                        PrivateKey.from_seed(sha256(b"devnet/consensus/1").digest()))
    (home / "config" / "node.json").write_text(json.dumps({"api": f"127.0.0.1:{port}", "block_time": 1.0}))
    (home / "voting").write_text(dict(result.contracts)["voting"])
    log = (home / "node.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "chain.cli", "start", "--home", str(home), "--log-level",
                             "WARNING"], cwd=ROOT, stdout=log, stderr=log)


async def block_times(url: str, seconds: float) -> list[int]:
    """Heights' block times (ns) committed during the next ``seconds``."""
    async with aiohttp.ClientSession() as session:
        async def status() -> dict:
            async with session.get(url + "/status") as response:
                return await response.json()
        first = (await status())["height"]
        await asyncio.sleep(seconds)
        last = (await status())["height"]
        times = []
        for height in range(first, last + 1):
            async with session.get(f"{url}/blocks/{height}") as response:
                times.append((await response.json())["block"]["header"]["time_ns"])
        return times


def mean_interval_s(times: list[int]) -> float:
    if len(times) < 2:
        return float("inf")
    return (times[-1] - times[0]) / (len(times) - 1) / 1e9


def load_process(url: str, voting: str, clients: int, seconds: float, out) -> None:
    """The separate load process: ``clients`` connections issuing smart queries back to back."""
    async def run() -> tuple[int, int]:
        done = errors = 0
        deadline = time.monotonic() + seconds
        path = f"{url}/contracts/{voting}/smart?msg={QUERY}"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:
            async def client() -> None:
                nonlocal done, errors
                while time.monotonic() < deadline:
                    async with session.get(path) as response:
                        await response.read()
                        if response.status == 200:
                            done += 1
                        else:
                            errors += 1
            await asyncio.gather(*(client() for _ in range(clients)))
        return done, errors
    started = time.monotonic()
    done, errors = asyncio.run(run())
    out.send((done, errors, time.monotonic() - started))


async def wait_ready(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url + "/status") as response:
                    if (await response.json())["height"] >= 2:
                        return
            except (aiohttp.ClientError, OSError, KeyError, ValueError):
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the node did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="conclave-bench-api-") as tmp:
        home, port = Path(tmp) / "node", free_port()
        proc = start_node(home, port)
        url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(wait_ready(url))
            voting = (home / "voting").read_text()
            quiet = mean_interval_s(asyncio.run(block_times(url, args.seconds)))
            receiver, sender = multiprocessing.Pipe(duplex=False)
            loader = multiprocessing.Process(target=load_process, args=(url, voting, args.clients, args.seconds, sender))
            loader.start()
            loaded = mean_interval_s(asyncio.run(block_times(url, args.seconds)))
            done, errors, elapsed = receiver.recv()
            loader.join()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    out = {"bench": "api", "date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count(), "clients": args.clients,
           "smart_queries_per_s": round(done / elapsed, 1), "query_errors": errors,
           "block_interval_quiet_s": round(quiet, 3), "block_interval_loaded_s": round(loaded, 3),
           "block_time_drift_under_load": round(loaded / quiet, 3), "targets": TARGETS}
    out["meets_targets"] = {"smart_queries_per_s": out["smart_queries_per_s"] >= TARGETS["smart_queries_per_s"],
                            "block_time_drift_under_load":
                                out["block_time_drift_under_load"] <= TARGETS["block_time_drift_under_load"]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
