"""A real node as a subprocess (`python -m chain.cli start`) on a prepared home, for tests that talk to its API.

    node = NodeProcess(home, extra_args=["--log-format", "json"]).start()
    node.wait_height(2)                  # the /status answer once height >= 2 (bounded; the log if not)
    node.kill()                          # kill -9

Every wait is bounded; nothing here asserts on speed.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from chain.api.client import ApiClientError, Client
from ports import free_port
from support import ROOT

BLOCK_TIME = "0.2"
START_DEADLINE_S = 90.0
POLL_S = 0.05


class NodeProcess:
    """`conclave start` on ``home`` with its API on a free loopback port; stderr (the log) to HOME/node.log."""

    def __init__(self, home: Path, *, extra_args: Sequence[str] = (), block_time: str = BLOCK_TIME,
                 client_timeout: float = 30.0):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = Client(self.url, timeout=client_timeout)
        self.log_path = home / "node.log"
        self.args = ["--block-time", block_time, *extra_args]
        self.proc: subprocess.Popen | None = None

    def start(self) -> "NodeProcess":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chain.cli", "start", "--home", str(self.home), "--api",
             f"127.0.0.1:{self.port}", *self.args],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log_path.open("ab"))
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    stop = kill

    def log(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def wait_height(self, height: int, deadline_s: float = START_DEADLINE_S) -> dict:
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log()
            try:
                status = self.client.status()
                if status["height"] >= height:
                    return status
            except ApiClientError:
                pass
            time.sleep(POLL_S)
        raise AssertionError(f"node did not reach height {height}: {self.log()}")
