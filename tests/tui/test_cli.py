"""`conclave tui` as a user runs it: the installed command in a real pseudo-terminal of 80x24, from another
directory, signing with a key file; and the errors it gives before opening the full-screen UI."""
from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tuinode import TuiChain, start_chain

CONCLAVE = Path(sys.executable).parent / "conclave"
DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory):
    chain = start_chain(tmp_path_factory.mktemp("tui-cli"))
    yield chain
    chain.node.stop()


def _read_until(fd: int, wanted: list[bytes], deadline_s: float = DEADLINE_S) -> bytes:
    """Everything the terminal received until each of ``wanted`` has appeared; fails naming what is missing."""
    seen = b""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if all(w in seen for w in wanted):
            return seen
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:          # the child closed the terminal
                break
    missing = [w for w in wanted if w not in seen]
    raise AssertionError(f"the terminal never showed {missing}; last output: {seen[-400:]!r}")


def test_the_installed_command_runs_in_a_terminal_signed_in_with_a_key_file(chain: TuiChain, tmp_path: Path):
    key_file = chain.keyring.path / "member2.json"
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    proc = subprocess.Popen([str(CONCLAVE), "tui", "--node", chain.node.url, "--key", str(key_file)],
                            stdin=child, stdout=child, stderr=child, cwd=tmp_path, env=env, start_new_session=True)
    os.close(child)
    try:
        _read_until(parent, [b"conclave-devnet", b"Dashboard", b"signed in", b"Quit"])
        os.write(parent, b"q")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(parent)


@pytest.mark.parametrize("key, message", [
    ("missing.json", "no key file at"),
    ("ghost", "no key named 'ghost'"),
    ("notes.txt/", "no key file at"),
])
def test_a_key_that_cannot_be_read_is_refused_before_the_ui_opens(tmp_path: Path, key: str, message: str):
    done = subprocess.run([str(CONCLAVE), "tui", "--home", str(tmp_path), "--key", key], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 1 and message in done.stderr, done.stderr


def test_a_damaged_key_file_is_refused_with_the_reason(tmp_path: Path):
    (tmp_path / "alice.json").write_text('{"format": "nope"}')
    done = subprocess.run([str(CONCLAVE), "tui", "--key", str(tmp_path / "alice.json")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 1 and "is damaged" in done.stderr, done.stderr
