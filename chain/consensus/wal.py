"""The consensus write-ahead log: every message of the current height, kept so a restarted
node resumes its round exactly where it stopped (and never contradicts its own votes).

Layout. ``WAL.open(path)`` uses the directory ``path``; it holds numbered segment files
``wal.000001``, ``wal.000002``, ... (the highest is the *head*, the only one appended to) and a
``LOCK`` file that keeps a second process from writing the same log.

Record format (every segment is a plain sequence of records, nothing else)::

    length   4 bytes, big-endian: number of payload bytes (1 .. MAX_PAYLOAD_BYTES + 1)
    crc      4 bytes, big-endian: zlib.crc32 (CRC-32/ISO-HDLC) of the payload
    payload  ``length`` bytes: one kind byte, then the body
               b"D" + data        a message the driver wrote (canonical JSON, opaque here)
               b"M" + height      end-of-height marker, height as 8 bytes big-endian

A marker for H means "height H is over; what follows belongs to H+1". A new log starts with
the marker for height 0, so ``replay(1)`` finds the messages of height 1. A driver that jumps
heights (block sync) calls ``mark_height(H-1)`` before it starts height H.

Crash safety (Jepsen lost Tendermint 0.10 WAL data for want of checksums and fsync):
``write`` only buffers; ``write_sync`` and ``mark_height`` reach the disk (flush + fsync)
before they return, so the node's own votes are durable before it sends them. A crash can
therefore only damage the end of the head segment: on open that torn tail (partial header,
short payload, checksum mismatch with nothing valid after it) is truncated after the last
good record and the dropped byte count is logged and kept as ``repaired_bytes``. Damage with
a valid record somewhere after it, or damage in any older segment, is not a torn write but a
corrupt disk: that is a hard ``WALError`` naming the file and offset, never a silent drop.

Bounded disk: when the head exceeds ``max_file_bytes`` right after a marker, a new segment is
started and older segments whose last marker is below H-1 are deleted (H the height just
marked), so ``replay`` of the current and the previous height always works.

One ``WAL`` object is owned by one driver task; it is not thread-safe.
"""
from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

__all__ = ["WAL", "WALError", "MAX_PAYLOAD_BYTES", "DEFAULT_MAX_FILE_BYTES"]

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 4 << 20            # largest data a caller may write in one record
DEFAULT_MAX_FILE_BYTES = 64 << 20      # head size that triggers a new segment after a marker
HEADER = struct.Struct(">II")          # length, crc32
HEIGHT = struct.Struct(">Q")
KIND_DATA = b"D"
KIND_MARKER = b"M"
MARKER_LENGTH = 1 + HEIGHT.size
MAX_RECORD_LENGTH = 1 + MAX_PAYLOAD_BYTES
MAX_HEIGHT = (1 << 63) - 1
KIND_BYTE_RE = re.compile(rb"[DM]")
SEGMENT_RE = re.compile(r"^wal\.(\d{6,})$")
FIRST_SEGMENT = 1
LOCK_NAME = "LOCK"
BUFFER_LIMIT = 1 << 20                 # buffered bytes that force a (non-synced) write to the file
READ_CHUNK = 1 << 20


class WALError(Exception):
    """The WAL cannot be opened, read or written; the message says where and what to do."""


@dataclass(frozen=True)
class _Record:
    kind: bytes
    body: bytes             # data for KIND_DATA; the 8 height bytes for KIND_MARKER

    @property
    def height(self) -> int:
        return HEIGHT.unpack(self.body)[0]


@dataclass
class _Segment:
    index: int
    path: Path
    first_marker: int | None = None
    last_marker: int | None = None
    ends_with_marker: bool = False     # only such a segment may be closed for a new one
    # Where each height's first marker starts, so replay reads from there, not the whole file.
    marker_offsets: dict[int, int] = field(default_factory=dict)

    def note(self, kind: bytes, body: bytes, offset: int) -> None:
        self.ends_with_marker = kind == KIND_MARKER
        if kind == KIND_MARKER:
            height = HEIGHT.unpack(body)[0]
            if self.first_marker is None:
                self.first_marker = height
            self.last_marker = height
            self.marker_offsets.setdefault(height, offset)


class WAL:
    """An append-only, checksummed, segmented log of consensus messages with height markers."""

    def __init__(self, directory: Path, segments: list[_Segment], lock_fd: int,
                 max_file_bytes: int, repaired_bytes: int):
        self.directory = directory
        self.max_file_bytes = max_file_bytes
        self.repaired_bytes = repaired_bytes
        self._segments = segments
        self._lock_fd: int | None = lock_fd
        self._fd: int | None = None
        self._size = 0                  # head bytes on disk plus buffered
        self._buffer = bytearray()
        self._broken: str | None = None
        try:
            self._open_head()
        except OSError as exc:
            raise WALError(f"cannot open WAL segment {segments[-1].path} for writing: {exc.strerror}; "
                           "check the permissions of the WAL directory") from exc

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> WAL:
        """Open (or create) the WAL in directory ``path``, repairing a torn tail of the head."""
        if isinstance(max_file_bytes, bool) or not isinstance(max_file_bytes, int) or max_file_bytes < 1:
            raise ValueError(f"max_file_bytes must be a positive integer, got {max_file_bytes!r}")
        directory = Path(path)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WALError(f"cannot create the WAL directory {directory}: {exc.strerror}; "
                           "check the path and its permissions") from exc
        if not directory.is_dir():
            raise WALError(f"{directory} is not a directory; the WAL needs a directory of its own")
        lock_fd = _lock(directory)
        try:
            segments = _list_segments(directory)
            repaired = 0
            for segment in segments[:-1]:
                _scan(segment, repair=False)
            if segments:
                repaired = _scan(segments[-1], repair=True)
            else:
                segments = [_Segment(FIRST_SEGMENT, directory / _segment_name(FIRST_SEGMENT))]
            _check_markers(segments)
            wal = cls(directory, segments, lock_fd, max_file_bytes, repaired)
        except BaseException:
            os.close(lock_fd)
            raise
        if len(segments) == 1 and wal._size == 0:
            # A new log (or one whose creation a crash cut short) starts at the end of height 0.
            try:
                _fsync_dir(directory)
                wal.mark_height(0)
            except BaseException:
                wal.close()
                raise
        return wal

    def _open_head(self) -> None:
        self._fd = os.open(self._segments[-1].path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                           0o600)
        self._size = os.fstat(self._fd).st_size

    # -- writing ---------------------------------------------------------------------------

    def write(self, payload: bytes) -> None:
        """Append a message, buffered: it reaches the disk with the next sync (or a full buffer)."""
        self._append(KIND_DATA, _check_payload(payload))
        if len(self._buffer) >= BUFFER_LIMIT:
            self._flush()

    def write_sync(self, payload: bytes) -> None:
        """Append a message and make it durable before returning: for the node's own votes and
        proposals, which must survive a crash before anyone else can see them."""
        self._append(KIND_DATA, _check_payload(payload))
        self.flush_and_sync()

    def flush_and_sync(self) -> None:
        """Write out everything buffered and fsync the head segment."""
        self._check_usable()
        self._flush()
        try:
            os.fsync(self._fd)
        except OSError as exc:
            # After a failed fsync the page cache can no longer be trusted: stop writing.
            self._fail(f"fsync of {self._segments[-1].path} failed: {exc.strerror}")

    def mark_height(self, height: int) -> None:
        """Record (durably) that ``height`` is finished; then start a new segment if the head is
        over ``max_file_bytes`` and delete segments too old to be replayed."""
        if isinstance(height, bool) or not isinstance(height, int) or not 0 <= height <= MAX_HEIGHT:
            raise ValueError(f"height must be an integer in 0..{MAX_HEIGHT}, got {height!r}")
        last = self.last_marked_height
        if last is not None and height < last:
            raise WALError(f"mark_height({height}) after the marker for height {last}: heights only "
                           "move forward; this is a bug in the caller")
        self._append(KIND_MARKER, HEIGHT.pack(height))
        self.flush_and_sync()
        self.rotate_if_needed()

    def rotate_if_needed(self) -> None:
        """Start a new segment if the head is over the limit and ends with a marker (so every
        segment but the head ends at a height boundary), then prune old segments."""
        self._check_usable()
        head = self._segments[-1]
        if self._size <= self.max_file_bytes or not head.ends_with_marker or self._buffer:
            return
        new = _Segment(head.index + 1, self.directory / _segment_name(head.index + 1))
        try:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            self._segments.append(new)
            self._open_head()
            os.fsync(self._fd)
            _fsync_dir(self.directory)
        except OSError as exc:
            self._fail(f"cannot start WAL segment {new.path}: {exc.strerror}")
        self._prune(head.last_marker)

    def _prune(self, marked: int) -> None:
        """Delete, oldest first, the segments whose messages all precede height ``marked - 1``."""
        removed = False
        while len(self._segments) > 1:
            oldest = self._segments[0]
            if oldest.last_marker is None or oldest.last_marker >= marked - 1:
                break
            try:
                oldest.path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("could not delete old WAL segment %s: %s (will retry at the next "
                            "rotation)", oldest.path, exc.strerror)
                break
            self._segments.pop(0)
            removed = True
        if removed:
            try:
                _fsync_dir(self.directory)
            except OSError as exc:
                log.warning("fsync of WAL directory %s failed: %s", self.directory, exc.strerror)

    def _append(self, kind: bytes, body: bytes) -> None:
        self._check_usable()
        record = _encode(kind, body)
        self._segments[-1].note(kind, body, self._size)
        self._buffer += record
        self._size += len(record)

    def _flush(self) -> None:
        view = memoryview(self._buffer)
        written = 0
        try:
            while written < len(view):
                written += os.write(self._fd, view[written:])
        except OSError as exc:
            self._fail(f"write to {self._segments[-1].path} failed: {exc.strerror}")
        finally:
            view.release()
        self._buffer.clear()

    def _check_usable(self) -> None:
        if self._broken is not None:
            raise WALError(f"the WAL stopped after an I/O error ({self._broken}); restart the node: "
                           "opening the WAL again repairs its tail")
        if self._fd is None:
            raise WALError(f"the WAL in {self.directory} is closed")

    def _fail(self, reason: str) -> None:
        self._broken = reason
        raise WALError(f"{reason}; the WAL refuses further writes. Free disk space or fix the "
                       "disk, then restart the node: opening the WAL again repairs its tail")

    # -- reading ---------------------------------------------------------------------------

    @property
    def last_marked_height(self) -> int | None:
        """The highest height marked finished, or None if no segment holds a marker."""
        for segment in reversed(self._segments):
            if segment.last_marker is not None:
                return segment.last_marker
        return None

    def replay(self, height: int) -> list[bytes]:
        """The messages of ``height`` in write order: those after the first marker for
        ``height - 1`` up to the marker for ``height`` (or the end). [] if that marker is gone."""
        if isinstance(height, bool) or not isinstance(height, int) or height < 0:
            raise ValueError(f"height must be a non-negative integer, got {height!r}")
        self._check_usable()
        self._flush()
        for first, segment in enumerate(self._segments):
            if height - 1 in segment.marker_offsets:
                start = segment.marker_offsets[height - 1]
                break
        else:
            return []
        out: list[bytes] = []
        for segment in self._segments[first:]:
            limit = self._size if segment is self._segments[-1] else None
            for record in _read_records(segment.path, start, limit):
                if record.kind == KIND_DATA:
                    out.append(record.body)
                elif record.height >= height:
                    return out
            start = 0
        return out

    # -- closing ---------------------------------------------------------------------------

    def close(self) -> None:
        """Flush, fsync and release the files. Safe to call twice."""
        try:
            if self._fd is not None and self._broken is None:
                self.flush_and_sync()
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> WAL:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WAL({str(self.directory)!r}, segments={len(self._segments)})"


# -- records ---------------------------------------------------------------------------------

def _check_payload(payload: bytes) -> bytes:
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise TypeError(f"WAL payloads are bytes, got {type(payload).__name__}")
    payload = bytes(payload)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise WALError(f"WAL record of {len(payload)} bytes refused: the limit is {MAX_PAYLOAD_BYTES} "
                       "bytes; a consensus message that large is a bug or an attack, do not log it")
    return payload


def _encode(kind: bytes, body: bytes) -> bytes:
    payload = kind + body
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


class _Unreadable(str):
    """Why a record with a correct checksum cannot be read: no torn write makes one, so it is
    never repaired away (a newer version may have written it)."""


def _parse_at(data: bytes | memoryview, offset: int) -> _Record | str:
    """The record at ``offset`` of ``data``, or a description of why there is none."""
    end = len(data)
    if offset + HEADER.size > end:
        return f"partial header ({end - offset} of {HEADER.size} bytes)"
    length, crc = HEADER.unpack_from(data, offset)
    if not 1 <= length <= MAX_RECORD_LENGTH:
        return f"impossible record length {length}"
    start = offset + HEADER.size
    if start + length > end:
        return f"short payload ({end - start} of {length} bytes)"
    payload = data[start:start + length]
    if zlib.crc32(payload) != crc:
        return "checksum mismatch"
    kind = bytes(payload[:1])
    if kind == KIND_MARKER and length != MARKER_LENGTH:
        return _Unreadable(f"height marker of {length} bytes (expected {MARKER_LENGTH})")
    if kind not in (KIND_DATA, KIND_MARKER):
        return _Unreadable(f"unknown record kind {kind!r}")
    return _Record(kind, bytes(payload[1:]))


def _find_valid_record(data: bytes, start: int) -> int | None:
    """The first offset >= start holding a complete, checksummed record, if any. A torn write
    leaves nothing valid behind it; finding a valid record means the damage is in the middle.
    Only offsets whose kind byte is plausible are tried, so the search runs at C speed."""
    for match in KIND_BYTE_RE.finditer(data, start + HEADER.size):
        offset = match.start() - HEADER.size
        if isinstance(_parse_at(data, offset), _Record):
            return offset
    return None


def _read_records(path: Path, start: int, limit: int | None) -> Iterator[_Record]:
    """Yield the records of a segment (already checked by ``_scan``) from byte ``start`` up to
    ``limit`` (or its end), checking each again."""
    try:
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read() if limit is None else f.read(limit - start)
    except OSError as exc:
        raise WALError(f"cannot read WAL segment {path}: {exc.strerror}") from exc
    offset = 0
    while offset < len(data):
        record = _parse_at(data, offset)
        if isinstance(record, str):
            raise WALError(f"WAL segment {path} is corrupt at byte offset {start + offset} ({record}) "
                           "although it was intact when opened: the disk is failing. Stop the node, move the "
                           "WAL directory aside and restart it (it then resumes without its WAL)")
        yield record
        offset += HEADER.size + 1 + len(record.body)


def _scan(segment: _Segment, repair: bool) -> int:
    """Check every record of ``segment`` and note its markers. For the head (``repair``) a
    torn tail is truncated and its size returned; any other damage raises WALError."""
    try:
        data = segment.path.read_bytes()
    except OSError as exc:
        raise WALError(f"cannot read WAL segment {segment.path}: {exc.strerror}") from exc
    offset = 0
    while offset < len(data):
        record = _parse_at(data, offset)
        if isinstance(record, _Record):
            segment.note(record.kind, record.body, offset)
            offset += HEADER.size + 1 + len(record.body)
            continue
        later = _find_valid_record(data, offset + 1)
        if not repair or later is not None or isinstance(record, _Unreadable):
            where = "" if later is None else f", with an intact record after it at offset {later}"
            raise WALError(
                f"WAL segment {segment.path} is corrupt at byte offset {offset} ({record}{where}). "
                "This is not a torn write from a crash, so it was not repaired: later data would be "
                "lost. Stop the node, move the WAL directory aside (keep it for diagnosis) and "
                "restart; the node then resumes without its WAL, its signing state still guards "
                "against double signing")
        dropped = len(data) - offset
        log.warning("WAL %s: dropped a torn tail of %d bytes at offset %d (%s), left by a crash "
                    "during a write", segment.path, dropped, offset, record)
        try:
            with open(segment.path, "r+b") as f:
                f.truncate(offset)
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise WALError(f"cannot truncate the torn tail of {segment.path}: {exc.strerror}") from exc
        return dropped
    return 0


# -- files -----------------------------------------------------------------------------------

def _segment_name(index: int) -> str:
    return f"wal.{index:06d}"


def _list_segments(directory: Path) -> list[_Segment]:
    found = []
    for entry in directory.iterdir():
        match = SEGMENT_RE.match(entry.name)
        if match and entry.is_file():
            found.append(_Segment(int(match.group(1)), entry))
    found.sort(key=lambda s: s.index)
    for before, after in zip(found, found[1:]):
        if after.index != before.index + 1:
            raise WALError(f"WAL segments in {directory} are not consecutive: {before.path.name} is "
                           f"followed by {after.path.name}. A segment was lost; move the WAL directory "
                           "aside and restart the node")
    return found


def _check_markers(segments: list[_Segment]) -> None:
    """Every segment but the head was closed right after a marker; markers never go back."""
    last = None
    for segment in segments:
        if segment is not segments[-1] and segment.last_marker is None:
            raise WALError(f"WAL segment {segment.path} holds no height marker although a newer "
                           "segment follows it; move the WAL directory aside and restart the node")
        for height in (segment.first_marker, segment.last_marker):
            if height is None:
                continue
            if last is not None and height < last:
                raise WALError(f"WAL segment {segment.path} has a marker for height {height} after one "
                               f"for height {last}; move the WAL directory aside and restart the node")
            last = height


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lock(directory: Path) -> int:
    path = directory / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise WALError(f"cannot create the WAL lock file {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise WALError(f"the WAL in {directory} is already open (another node process, or this "
                           f"one, holds {LOCK_NAME}); run one node per home directory") from None
        raise WALError(f"cannot lock {path}: {exc.strerror}") from exc
    return fd
