"""The real devnet end to end: `conclave devnet --validators 4` as a subprocess on free loopback ports.

Four `conclave start` processes must agree: every node's /status reaches height 3, and blocks
1..3 are the same on every node (GET /blocks/{h}). Then one SIGINT to `conclave devnet` must
stop all four nodes, and none may be left running.
"""
from __future__ import annotations

import hashlib
import json
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devnet_support import process_gone, spawn_devnet, wait_for
from ports import free_port_base

pytestmark = pytest.mark.timeout(900)

VALIDATORS = 4
TARGET_HEIGHT = 3
BANNER_END = "Ctrl-C stops every node"
START_TIMEOUT_S = 300         # genesis build plus four nodes compiling the genesis contracts on two cores
BLOCKS_TIMEOUT_S = 180
STOP_TIMEOUT_S = 60


def get_json(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def block_id(answer: dict) -> str:
    """The block's hash if the API gives one, else a hash of the whole block as served."""
    block = answer["block"]
    for source in (answer, block, block.get("header", {}) if isinstance(block, dict) else {}):
        if isinstance(source, dict) and isinstance(source.get("hash"), str):
            return source["hash"]
    return hashlib.sha256(json.dumps(block, sort_keys=True).encode()).hexdigest()


def test_four_validators_make_the_same_blocks_and_stop_on_sigint(tmp_path: Path) -> None:
    api = free_port_base(VALIDATORS, start=14000)
    p2p = free_port_base(VALIDATORS, start=14300)
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    proc = spawn_devnet(tmp_path, tmp_path / "devnet", VALIDATORS, api, p2p, out, err)
    pids: list[int] = []
    try:
        def banner_or_exit() -> bool:
            assert proc.poll() is None, f"conclave devnet exited ({proc.returncode}): {err.read_text()[-3000:]}"
            return BANNER_END in out.read_text()

        wait_for(banner_or_exit, START_TIMEOUT_S, "the devnet banner", interval=0.5)
        pids = [int(line.split(" pid ")[1].split()[0]) for line in out.read_text().splitlines() if " pid " in line]
        assert len(pids) == VALIDATORS
        nodes = [f"http://127.0.0.1:{api + i}" for i in range(VALIDATORS)]
        assert f"conclave tui --node {nodes[0]} --key member1" in out.read_text()

        def all_at_target() -> bool:
            assert proc.poll() is None, f"conclave devnet exited ({proc.returncode}): {err.read_text()[-3000:]}"
            heights = [(get_json(f"{url}/status") or {}).get("height", 0) for url in nodes]
            return all(h >= TARGET_HEIGHT for h in heights)

        wait_for(all_at_target, BLOCKS_TIMEOUT_S, f"height {TARGET_HEIGHT} on every node", interval=0.5)
        for height in range(1, TARGET_HEIGHT + 1):
            answers = [get_json(f"{url}/blocks/{height}") for url in nodes]
            assert all(a is not None for a in answers), f"a node did not serve block {height}"
            ids = {block_id(a) for a in answers}
            assert len(ids) == 1, f"nodes disagree on block {height}: {ids}"
            chain_ids = {(get_json(f"{url}/status") or {}).get("chain_id") for url in nodes}
            assert chain_ids == {"conclave-devnet"}

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=STOP_TIMEOUT_S) == 0, err.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert pids and all(process_gone(pid) for pid in pids), "a node outlived `conclave devnet`"
