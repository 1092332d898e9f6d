"""Run a set of child processes as one service: start, wait until ready, supervise, stop.

`conclave devnet` runs its validators with it; tests run it with stand-in children. The rules:

- each child gets its own session (process group), so a Ctrl-C in the terminal reaches only the
  supervisor, which then stops the children in order — no child sees the signal first and
  looks like a crash; on Linux a child also gets SIGTERM if the supervisor dies without stopping it;
- a child's stdout and stderr go to its log file (appended, so restarts keep the history);
- SIGINT or SIGTERM to the supervisor stops every child: SIGTERM to its process group, then
  SIGKILL after ``stop_grace`` seconds (a second Ctrl-C kills at once);
- a child that exits on its own is a failure: ChildExited says which, how, and the tail of its log.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence, TextIO

DEFAULT_STOP_GRACE_S = 5.0
POLL_INTERVAL_S = 0.2
PROGRESS_INTERVAL_S = 5.0
LOG_TAIL_LINES = 20
LOG_TAIL_BYTES = 64 * 1024
MAX_LOG_LINE = 400
PR_SET_PDEATHSIG = 1


class SupervisorError(Exception):
    """A child failed to start, to become ready, or to keep running."""


class ChildExited(SupervisorError):
    """A child exited without being asked to; the message carries its log tail."""

    def __init__(self, name: str, returncode: int, log: Path):
        self.name, self.returncode, self.log = name, returncode, log
        tail = "\n".join(f"    | {line}" for line in log_tail(log)) or "    (the log is empty)"
        super().__init__(f"{name} exited unexpectedly ({describe_exit(returncode)}); the end of {log}:\n{tail}")


class NotReady(SupervisorError):
    """Some children did not become ready in time."""


@dataclass(frozen=True)
class ChildSpec:
    """One child: a name for messages, its command line, its log file and extra environment."""

    name: str
    argv: Sequence[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last ``lines`` lines of a log file (bounded read; undecodable bytes replaced)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - LOG_TAIL_BYTES))
            data = fh.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace").splitlines()
    return [line if len(line) <= MAX_LOG_LINE else line[:MAX_LOG_LINE] + " ..." for line in text[-lines:]]


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies (Linux), so no node is orphaned."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort: without it, stop() still stops the children
        pass


class Supervisor:
    """Children started together and stopped together. Use from the main thread for signals."""

    def __init__(self, specs: Sequence[ChildSpec], *, stop_grace: float = DEFAULT_STOP_GRACE_S,
                 err: TextIO | None = None, label: str = "conclave devnet"):
        names = [spec.name for spec in specs]
        if not specs or len(set(names)) != len(names):
            raise ValueError(f"children need unique names, got {names}")
        self.specs = list(specs)
        self.stop_grace = stop_grace
        self.err = err or sys.stderr
        self.label = label
        self.procs: dict[str, subprocess.Popen] = {}
        self._stop_requested = threading.Event()
        self._hurry = threading.Event()

    # --- control -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start every child; a child that cannot even be executed stops the others and raises."""
        for spec in self.specs:
            spec.log.parent.mkdir(parents=True, exist_ok=True)
            with open(spec.log, "ab") as log:
                try:
                    self.procs[spec.name] = subprocess.Popen(
                        list(spec.argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                        env={**os.environ, **spec.env}, start_new_session=True,
                        preexec_fn=_die_with_parent if sys.platform == "linux" else None)
                except OSError as exc:
                    self.stop()
                    raise SupervisorError(f"cannot start {spec.name} ({spec.argv[0]}): {exc.strerror}") from None

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}

    def request_stop(self, signum: int | None = None) -> None:
        """Ask ``wait_ready``/``supervise`` to stop everything (a signal handler may call it); twice: hurry."""
        if self._stop_requested.is_set():
            self._hurry.set()
        self._stop_requested.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested.is_set()

    @contextmanager
    def signal_handlers(self, enabled: bool = True) -> Iterator[None]:
        """SIGINT and SIGTERM call ``request_stop`` while inside; the old handlers come back after."""
        if not enabled or threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, lambda signum, _frame: self.request_stop(signum))
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # --- waiting -------------------------------------------------------------------------------

    def wait_ready(self, probe: Callable[[ChildSpec], bool], timeout: float) -> bool:
        """Poll ``probe`` for each child until all pass. False if a stop was requested meanwhile.

        Raises ChildExited if a child exits, NotReady after ``timeout`` seconds; progress goes to ``err``.
        """
        start = time.monotonic()
        deadline, next_progress = start + timeout, start + PROGRESS_INTERVAL_S
        waiting = list(self.specs)
        while waiting:
            if self.stop_requested:
                return False
            self._raise_if_exited()
            for spec in list(waiting):
                if probe(spec):
                    waiting.remove(spec)
                    done = len(self.specs) - len(waiting)
                    self._say(f"{spec.name} is up ({done}/{len(self.specs)})")
            now = time.monotonic()
            if not waiting:
                break
            if now >= deadline:
                raise NotReady(f"{', '.join(s.name for s in waiting)} did not answer within {timeout:.0f} s; "
                               f"see {', '.join(str(s.log) for s in waiting)}")
            if now >= next_progress:
                self._say(f"still waiting for {', '.join(s.name for s in waiting)} "
                          f"({now - start:.0f} s of {timeout:.0f} s)")
                next_progress = now + PROGRESS_INTERVAL_S
            self._stop_requested.wait(POLL_INTERVAL_S)
        return True

    def supervise(self) -> int:
        """Block until a stop is requested (then stop all, return 0) or a child exits (ChildExited)."""
        while not self._stop_requested.wait(POLL_INTERVAL_S):
            self._raise_if_exited()
        self.stop()
        return 0

    def _raise_if_exited(self) -> None:
        for spec in self.specs:
            proc = self.procs.get(spec.name)
            if proc is not None and proc.poll() is not None:
                raise ChildExited(spec.name, proc.returncode, spec.log)

    # --- stopping ------------------------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM every running child's process group, SIGKILL what is left after the grace period."""
        running = [p for p in self.procs.values() if p.poll() is None]
        if running:
            self._say(f"stopping {len(running)} process{'es' if len(running) > 1 else ''}")
        for proc in running:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_grace
        while any(p.poll() is None for p in running) and time.monotonic() < deadline and not self._hurry.is_set():
            time.sleep(0.05)
        stubborn = [p for p in running if p.poll() is None]
        if stubborn:
            self._say(f"{len(stubborn)} did not stop within {self.stop_grace:g} s: killing")
        for proc in running:
            _signal_group(proc, signal.SIGKILL)  # also whatever a child left behind in its group
        for proc in self.procs.values():
            proc.wait()

    def _say(self, text: str) -> None:
        print(f"{self.label}: {text}", file=self.err, flush=True)


def _signal_group(proc: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(proc.pid, sig)         # the child leads its own session: pgid == pid
    except (ProcessLookupError, PermissionError):
        pass
