"""The consensus WAL: round trips, replay by height, torn-tail repair, corruption detection,
size limits, segment rotation, and kill -9 while writing."""
from __future__ import annotations

import logging
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from chain.consensus.wal import MAX_PAYLOAD_BYTES, WAL, WALError

from consensus_storage.wal_plan import messages_by_height, plan_up_to

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _segments(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.name.startswith("wal."))


def _msg(height: int, i: int) -> bytes:
    return b'{"height":%d,"i":%d}' % (height, i)


def _fill(path: Path, heights: int, per_height: int = 3, **open_args) -> dict[int, list[bytes]]:
    """Messages for heights 1..heights, each height marked, then two messages of the next one."""
    written: dict[int, list[bytes]] = {}
    with WAL.open(path, **open_args) as wal:
        for h in range(1, heights + 1):
            written[h] = [_msg(h, i) for i in range(per_height)]
            for i, m in enumerate(written[h]):
                wal.write_sync(m) if i % 2 else wal.write(m)
            wal.mark_height(h)
        written[heights + 1] = [_msg(heights + 1, 0), _msg(heights + 1, 1)]
        for m in written[heights + 1]:
            wal.write_sync(m)
    return written


def _record(payload: bytes) -> bytes:
    return struct.pack(">II", len(payload), zlib.crc32(payload)) + payload


# -- basics ------------------------------------------------------------------------------------

def test_round_trip_including_unflushed_writes(tmp_path):
    wal = WAL.open(tmp_path / "wal")
    assert wal.repaired_bytes == 0 and wal.last_marked_height == 0
    messages = [b"", b"x", bytes(range(256)), b'{"kind":"vote"}' * 100]
    for m in messages:
        wal.write(m)                  # buffered only, yet replay sees them
    assert wal.replay(1) == messages
    wal.close()
    wal.close()                       # idempotent
    with WAL.open(tmp_path / "wal") as wal:
        assert wal.repaired_bytes == 0
        assert wal.replay(1) == messages


def test_replay_by_height(tmp_path):
    written = _fill(tmp_path, 5)
    with WAL.open(tmp_path) as wal:
        assert wal.last_marked_height == 5
        for h in range(1, 7):
            assert wal.replay(h) == written[h]
        assert wal.replay(7) == [] and wal.replay(100) == [] and wal.replay(0) == []
        wal.write(b"more")
        assert wal.replay(6) == written[6] + [b"more"]
        with pytest.raises(ValueError):
            wal.replay(-1)


def test_re_marking_a_height_keeps_its_messages_together(tmp_path):
    with WAL.open(tmp_path) as wal:
        wal.write(b"a")
        wal.mark_height(1)
        wal.write(b"b")
        wal.mark_height(1)            # a restarted driver marking again is harmless
        wal.write(b"c")
        assert wal.replay(2) == [b"b", b"c"]
        with pytest.raises(WALError, match="heights only move forward"):
            wal.mark_height(0)
        with pytest.raises(ValueError):
            wal.mark_height(-1)
        wal.mark_height(7)            # block sync may skip heights
        wal.write(b"d")
        assert wal.replay(8) == [b"d"] and wal.replay(3) == []


def test_record_format_on_disk(tmp_path):
    """The documented format: length, crc32, kind byte; a new log starts with marker 0."""
    with WAL.open(tmp_path) as wal:
        wal.write_sync(b"hello")
        wal.mark_height(1)
    data = _segments(tmp_path)[0].read_bytes()
    assert data == (_record(b"M" + (0).to_bytes(8, "big")) + _record(b"Dhello")
                    + _record(b"M" + (1).to_bytes(8, "big")))
    assert [p.name for p in _segments(tmp_path)] == ["wal.000001"]


def test_write_sync_is_on_disk_before_returning(tmp_path):
    wal = WAL.open(tmp_path)
    wal.write(b"buffered")
    size = _segments(tmp_path)[0].stat().st_size
    wal.write_sync(b"synced")
    assert _segments(tmp_path)[0].stat().st_size == size + 2 * 8 + len(b"Dbuffered") + len(b"Dsynced")
    wal.close()


def test_second_open_is_refused_while_open(tmp_path):
    wal = WAL.open(tmp_path)
    with pytest.raises(WALError, match="already open"):
        WAL.open(tmp_path)
    wal.close()
    WAL.open(tmp_path).close()


def test_closed_wal_refuses_writes(tmp_path):
    wal = WAL.open(tmp_path)
    wal.close()
    with pytest.raises(WALError, match="closed"):
        wal.write(b"x")


# -- bad input ---------------------------------------------------------------------------------

def test_oversized_record_is_refused_and_the_wal_still_works(tmp_path):
    with WAL.open(tmp_path) as wal:
        with pytest.raises(WALError, match="limit is"):
            wal.write(b"x" * (MAX_PAYLOAD_BYTES + 1))
        with pytest.raises(WALError, match="limit is"):
            wal.write_sync(b"x" * (MAX_PAYLOAD_BYTES + 1))
        with pytest.raises(TypeError):
            wal.write("text")  # type: ignore[arg-type]
        wal.write_sync(b"y" * MAX_PAYLOAD_BYTES)
        wal.write(b"small")
    with WAL.open(tmp_path) as wal:
        assert wal.replay(1) == [b"y" * MAX_PAYLOAD_BYTES, b"small"]


def test_bad_open_arguments(tmp_path):
    with pytest.raises(ValueError):
        WAL.open(tmp_path, max_file_bytes=0)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(WALError):
        WAL.open(tmp_path / "file")


def test_a_head_of_pure_garbage_is_dropped_as_a_torn_write(tmp_path):
    (tmp_path / "wal.000001").write_bytes(random.Random(3).randbytes(5000))
    with WAL.open(tmp_path) as wal:
        assert wal.repaired_bytes == 5000
        assert wal.replay(1) == []
        wal.write(b"fresh")
        assert wal.replay(1) == [b"fresh"]


# -- crash repair ------------------------------------------------------------------------------

@pytest.mark.parametrize("last", ["data", "marker"])
def test_torn_tail_at_every_offset_is_repaired(tmp_path, caplog, last):
    source = tmp_path / "source"
    written = _fill(source, 2)
    with WAL.open(source) as wal:
        (wal.mark_height(3) if last == "marker" else wal.write_sync(b'{"last":"record"}' * 3))
    data = _segments(source)[0].read_bytes()
    good = len(data) - (8 + (9 if last == "marker" else 1 + 51))
    caplog.set_level(logging.WARNING, logger="chain.consensus.wal")
    for cut in range(good, len(data)):
        case = tmp_path / f"cut{cut}"
        case.mkdir()
        (case / "wal.000001").write_bytes(data[:cut])
        with WAL.open(case) as wal:
            assert wal.repaired_bytes == cut - good
            assert (case / "wal.000001").stat().st_size == good
            for h in (1, 2, 3):
                assert wal.replay(h) == written[h]
            assert wal.last_marked_height == 2
            wal.write_sync(b"after repair")
            assert wal.replay(3) == written[3] + [b"after repair"]
        shutil.rmtree(case)
    assert "dropped a torn tail of" in caplog.text


def test_flipped_byte_in_the_tail_record_is_truncated(tmp_path):
    source = tmp_path / "source"
    written = _fill(source, 2)
    with WAL.open(source) as wal:
        wal.write_sync(b"the last record")
    data = _segments(source)[0].read_bytes()
    good = len(data) - (8 + 1 + len(b"the last record"))
    for position in range(good, len(data)):
        for flip in (0x01, 0x80):
            case = tmp_path / f"flip{position}-{flip}"
            case.mkdir()
            damaged = bytearray(data)
            damaged[position] ^= flip
            (case / "wal.000001").write_bytes(damaged)
            with WAL.open(case) as wal:
                assert wal.repaired_bytes == len(data) - good
                assert wal.replay(3) == written[3]
                assert wal.replay(1) == written[1]
            shutil.rmtree(case)


def test_flipped_byte_in_a_middle_record_is_a_hard_error(tmp_path):
    source = tmp_path / "source"
    _fill(source, 3)
    data = _segments(source)[0].read_bytes()
    # The second record (the first message of height 1) starts after marker 0 (17 bytes).
    start, length = 17, 8 + 1 + len(_msg(1, 0))
    for position in range(start, start + length):
        for flip in (0x01, 0x80):
            case = tmp_path / f"flip{position}-{flip}"
            case.mkdir()
            damaged = bytearray(data)
            damaged[position] ^= flip
            (case / "wal.000001").write_bytes(damaged)
            with pytest.raises(WALError) as err:
                WAL.open(case)
            message = str(err.value)
            assert f"offset {start}" in message and "move the WAL directory aside" in message
            assert (case / "wal.000001").read_bytes() == damaged      # nothing was dropped
            shutil.rmtree(case)


@pytest.mark.parametrize("payload", [b"X-from-a-newer-version", b"M" + bytes(7)])
def test_a_checksummed_record_of_unknown_shape_is_never_repaired_away(tmp_path, payload):
    _fill(tmp_path, 1)
    head = _segments(tmp_path)[0]
    original = head.read_bytes() + _record(payload)
    head.write_bytes(original)
    with pytest.raises(WALError, match="not a torn write"):
        WAL.open(tmp_path)
    assert head.read_bytes() == original


def test_damage_appearing_after_open_is_reported_by_replay(tmp_path):
    written = _fill(tmp_path, 3)
    with WAL.open(tmp_path) as wal:
        head = _segments(tmp_path)[0]
        damaged = bytearray(head.read_bytes())
        damaged[17 + 10] ^= 0xFF                        # inside the first message of height 1
        head.write_bytes(damaged)
        assert wal.replay(4) == written[4]              # other heights are read from their markers
        with pytest.raises(WALError, match="offset 17 .*disk is failing"):
            wal.replay(1)


def test_a_torn_older_segment_is_a_hard_error(tmp_path):
    _fill(tmp_path, 6, max_file_bytes=100)
    older = _segments(tmp_path)[-2]
    older.write_bytes(older.read_bytes()[:-3])
    with pytest.raises(WALError, match=f"{older.name} is corrupt at byte offset"):
        WAL.open(tmp_path)


def test_an_empty_head_left_by_a_crash_at_creation_gets_its_first_marker(tmp_path):
    (tmp_path / "wal.000001").write_bytes(b"")
    with WAL.open(tmp_path) as wal:
        wal.write(b"a")
        assert wal.last_marked_height == 0 and wal.replay(1) == [b"a"]


# -- segments ----------------------------------------------------------------------------------

def test_segments_rotate_after_a_marker_and_old_ones_are_deleted(tmp_path):
    written = _fill(tmp_path, 30, per_height=4, max_file_bytes=300)
    names = [p.name for p in _segments(tmp_path)]
    assert len(names) <= 4, names                       # bounded, not 30 heights' worth
    assert names[0] != "wal.000001"                     # the oldest were deleted
    indices = [int(n.split(".")[1]) for n in names]
    assert indices == list(range(indices[0], indices[0] + len(indices)))
    for p in _segments(tmp_path)[:-1]:
        assert p.stat().st_size > 300                   # closed only once over the limit
    with WAL.open(tmp_path, max_file_bytes=300) as wal:
        assert wal.last_marked_height == 30
        for h in (30, 31):                              # the last marked and the open height replay
            assert wal.replay(h) == written[h]
        assert wal.replay(2) == []                      # long gone
        before = len(_segments(tmp_path))
        for h in range(32, 60):
            wal.write(_msg(h, 0))
            wal.mark_height(h)
        assert len(_segments(tmp_path)) <= max(before, 4)
        assert wal.replay(60) == [] and wal.replay(59) == [_msg(59, 0)]


def test_a_missing_segment_in_the_middle_is_a_hard_error(tmp_path):
    _fill(tmp_path, 12, max_file_bytes=100)
    segments = _segments(tmp_path)
    assert len(segments) >= 3
    segments[1].unlink()
    with pytest.raises(WALError, match="not consecutive"):
        WAL.open(tmp_path)


def test_unrelated_files_in_the_directory_are_ignored(tmp_path):
    written = _fill(tmp_path, 2)
    (tmp_path / "wal.000001.bak").write_bytes(b"junk")
    (tmp_path / "notes.txt").write_text("operator notes")
    with WAL.open(tmp_path) as wal:
        assert wal.replay(3) == written[3]


# -- kill -9 while writing ---------------------------------------------------------------------

COUNT = 20_000


def _run_writer(path: Path, seed: int, max_file_bytes: int, kill_after: float) -> tuple[set[int], bool]:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{HERE.parent}")
    proc = subprocess.Popen([sys.executable, str(HERE / "wal_writer.py"), str(path), str(seed), str(COUNT),
                             str(max_file_bytes)], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = out.split()
    finished = b"done" in lines
    return {int(line) for line in lines if line != b"done"}, finished


@pytest.mark.parametrize("seed,max_file_bytes", [(seed, 64 << 20) for seed in range(5)]
                         + [(seed, 256 << 10) for seed in range(5, 8)])
def test_kill_while_writing_leaves_a_replayable_prefix(tmp_path, seed, max_file_bytes):
    rnd = random.Random(seed)
    durable, finished = _run_writer(tmp_path, seed, max_file_bytes, rnd.uniform(0.05, 0.5))
    nothing_pruned = _segments(tmp_path)[0].name == "wal.000001"
    with WAL.open(tmp_path, max_file_bytes=max_file_bytes) as wal:
        last = wal.last_marked_height
        assert last is not None
        ops = [op for op in plan_up_to(seed, last + 1) if op.index < COUNT]
        expected = messages_by_height(ops)
        # Every marker the writer saw return is there, with all the messages before it.
        marks = [op for op in ops if op.kind == "mark" and op.index in durable]
        assert last >= (marks[-1].height if marks else 0)
        for h in range(1, last + 1):
            got = wal.replay(h)
            if nothing_pruned or h >= last:
                assert got == expected[h], h
            else:
                assert got in ([], expected[h]), h          # pruned whole, or complete
        # The open height holds a prefix of what was written, with every synced message in it.
        current = wal.replay(last + 1)
        assert current == expected.get(last + 1, [])[:len(current)]
        synced = [op.payload for op in ops if op.height == last + 1 and op.kind == "write_sync"
                  and op.index in durable]
        assert all(payload in current for payload in synced)
        assert wal.replay(last + 2) == []
        if finished:
            assert current == expected.get(last + 1, [])
        # ... and the repaired log takes new writes.
        wal.write_sync(b"after the crash")
        assert wal.replay(last + 1)[-1] == b"after the crash"
