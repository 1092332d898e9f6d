"""chain/devnet_runner.py: start, readiness, supervision and stopping of real child processes."""
from __future__ import annotations

import io
import signal
import sys
import threading
from pathlib import Path

import pytest

from chain.devnet_runner import (ChildExited, ChildSpec, NotReady, Supervisor, SupervisorError, describe_exit,
                                 log_tail)
from devnet_support import process_gone

# A child that says it is ready in its log, then sleeps until stopped (or exits when FILE appears).
SLEEPER = r'''
import os, signal, sys, time
if len(sys.argv) > 2 and sys.argv[2] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
print("line 1\nline 2\nthe last words", flush=True)
sys.exit(7)
'''


def sleeper(tmp_path: Path, name: str, *extra: str) -> ChildSpec:
    return ChildSpec(name, [sys.executable, "-c", SLEEPER, str(tmp_path / f"{name}.exit"), *extra],
                     tmp_path / name / "node.log")


def says_ready(spec: ChildSpec) -> bool:
    return spec.log.exists() and "ready" in spec.log.read_text()


def test_children_start_become_ready_and_stop_on_request(tmp_path: Path) -> None:
    err = io.StringIO()
    sup = Supervisor([sleeper(tmp_path, "a"), sleeper(tmp_path, "b")], err=err)
    sup.start()
    try:
        assert sup.wait_ready(says_ready, timeout=60)
        pids = sup.pids()
        assert set(pids) == {"a", "b"}
        threading.Thread(target=sup.request_stop).start()
        assert sup.supervise() == 0
    finally:
        sup.stop()
    assert all(process_gone(pid) for pid in pids.values())
    assert "a is up" in err.getvalue() and "stopping 2 processes" in err.getvalue()


def test_a_child_exiting_on_its_own_is_reported_with_its_log_tail(tmp_path: Path) -> None:
    sup = Supervisor([sleeper(tmp_path, "a"), sleeper(tmp_path, "b")], err=io.StringIO())
    sup.start()
    try:
        assert sup.wait_ready(says_ready, timeout=60)
        (tmp_path / "b.exit").touch()
        with pytest.raises(ChildExited) as info:
            sup.supervise()
    finally:
        sup.stop()
    assert info.value.name == "b" and info.value.returncode == 7
    assert "b exited unexpectedly (exit status 7)" in str(info.value)
    assert "| the last words" in str(info.value) and str(tmp_path / "b" / "node.log") in str(info.value)
    assert process_gone(sup.pids()["a"])


def test_exit_before_ready_is_reported_not_waited_for(tmp_path: Path) -> None:
    spec = ChildSpec("early", [sys.executable, "-c", "print('no genesis here'); raise SystemExit(2)"],
                     tmp_path / "early.log")
    sup = Supervisor([spec], err=io.StringIO())
    sup.start()
    try:
        with pytest.raises(ChildExited, match="exit status 2") as info:
            sup.wait_ready(lambda _spec: False, timeout=120)
    finally:
        sup.stop()
    assert "no genesis here" in str(info.value)


def test_not_ready_in_time_names_the_children_and_their_logs(tmp_path: Path) -> None:
    sup = Supervisor([sleeper(tmp_path, "slow")], err=io.StringIO())
    sup.start()
    try:
        with pytest.raises(NotReady, match="slow did not answer within 1 s") as info:
            sup.wait_ready(lambda _spec: False, timeout=1)
    finally:
        sup.stop()
    assert str(tmp_path / "slow" / "node.log") in str(info.value)
    assert process_gone(sup.pids()["slow"])


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    err = io.StringIO()
    sup = Supervisor([sleeper(tmp_path, "stubborn", "stubborn")], stop_grace=0.5, err=err)
    sup.start()
    try:
        assert sup.wait_ready(says_ready, timeout=60)   # SIGTERM is ignored from here on
    finally:
        sup.stop()
    assert sup.procs["stubborn"].returncode == -signal.SIGKILL
    assert "did not stop within 0.5 s: killing" in err.getvalue()


def test_stop_requested_while_waiting_returns_false(tmp_path: Path) -> None:
    sup = Supervisor([sleeper(tmp_path, "a")], err=io.StringIO())
    sup.start()
    try:
        sup.request_stop(signal.SIGINT)
        assert sup.wait_ready(lambda _spec: False, timeout=60) is False
    finally:
        sup.stop()
    assert process_gone(sup.pids()["a"])


def test_a_command_that_cannot_run_is_a_clear_error(tmp_path: Path) -> None:
    good = sleeper(tmp_path, "good")
    bad = ChildSpec("bad", [str(tmp_path / "no-such-program")], tmp_path / "bad.log")
    sup = Supervisor([good, bad], err=io.StringIO())
    with pytest.raises(SupervisorError, match="cannot start bad"):
        sup.start()
    assert process_gone(sup.pids()["good"])


def test_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        Supervisor([ChildSpec("a", ["true"], Path("x")), ChildSpec("a", ["true"], Path("y"))])
    with pytest.raises(ValueError):
        Supervisor([])


def test_log_tail_is_bounded_and_tolerates_garbage(tmp_path: Path) -> None:
    log = tmp_path / "node.log"
    assert log_tail(log) == []                                   # missing: nothing, no error
    log.write_bytes(b"\xff\xfe binary\n" + b"x" * 10_000 + b"\n" + b"".join(b"line %d\n" % i for i in range(100)))
    tail = log_tail(log, 3)
    assert tail == ["line 97", "line 98", "line 99"]
    log.write_bytes(b"y" * 200_000)
    (only,) = log_tail(log)
    assert only.endswith(" ...") and len(only) < 500


def test_describe_exit() -> None:
    assert describe_exit(0) == "exit status 0"
    assert describe_exit(-signal.SIGKILL) == "killed by SIGKILL"
    assert describe_exit(-200) == "killed by signal 200"
