"""kill -9 while committing: the store reopens at a whole version, equal to an uninterrupted run."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chain.store import StateStore, verify_proof

from store.crash_blocks import block_txs, block_writes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LAST = 400
RUNS = 12


@pytest.fixture(scope="module")
def expected(tmp_path_factory) -> dict[int, tuple[bytes, dict]]:
    """App hash and state after every height of the uninterrupted run."""
    out, state = {}, {}
    with StateStore.open(tmp_path_factory.mktemp("reference")) as store:
        for h in range(1, LAST + 1):
            writes = block_writes(h)
            for k, v in writes:
                state.pop(k, None) if v is None else state.__setitem__(k, v)
            out[h] = (store.commit(writes), dict(state))
    return out


def _writer(path: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{HERE.parent}")
    proc = subprocess.Popen([sys.executable, str(HERE / "crash_writer.py"), str(path), str(LAST)],
                            stdout=subprocess.PIPE, env=env)
    assert proc.stdout.readline() == b"ready\n"
    return proc


@pytest.mark.parametrize("seed", range(RUNS))
def test_kill_during_commits_then_restart(seed, tmp_path, expected):
    rnd = random.Random(seed)
    for _ in range(2):  # kill twice, at random moments
        proc = _writer(tmp_path)
        time.sleep(rnd.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        with StateStore.open(tmp_path, keep_recent=4) as store:
            _check(store, expected)
    proc = _writer(tmp_path)  # finish the chain
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == 0
    with StateStore.open(tmp_path, keep_recent=4) as store:
        assert store.height == LAST
        _check(store, expected)


def _check(store: StateStore, expected) -> None:
    h = store.height
    if h == 0:
        return
    app_hash, state = expected[h]
    assert store.app_hash == app_hash
    for key in (b"key/%d" % i for i in range(0, 400, 7)):
        value = state.get(key)
        assert store.get(key) == value
        assert verify_proof(app_hash, key, value, store.prove(key))
    for height in range(max(1, h - 3), h + 1):
        assert store.app_hash_at(height) == expected[height][0]
        assert store.block(height) == b'{"height":%d}' % height
        for record in block_txs(height):
            assert store.tx(record.hash) == record
    assert store.block(h + 1) is None and store.tx(block_txs(h + 1)[0].hash) is None
