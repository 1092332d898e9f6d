"""Compiled modules: a bounded in-memory LRU in front of serialized modules on disk.

Compiling a contract costs tens of milliseconds; loading its serialized form a fraction of one.
Serialized modules are native code, so a file is trusted only when its header names this exact
engine (fingerprint) and its payload hashes to the digest written beside it: a corrupt, truncated
or foreign file is deleted and the module recompiled from the wasm. Never deserialize otherwise.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import wasmtime

from .engine import engine_fingerprint
from .errors import CompileError

log = logging.getLogger(__name__)

_MAGIC = b"CNCLMOD1"
_HEADER = len(_MAGIC) + 32 + 32  # magic, engine fingerprint, sha256 of payload


@dataclass
class CacheStats:
    memory_hits: int = 0
    disk_hits: int = 0
    compiles: int = 0
    rejected_files: int = 0


class ModuleCache:
    def __init__(self, engine: wasmtime.Engine, directory: Path | None, memory_limit_bytes: int = 256 << 20):
        self.engine = engine
        self.fingerprint = bytes.fromhex(engine_fingerprint())
        self.directory = directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self.memory_limit = memory_limit_bytes
        self._lru: OrderedDict[bytes, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self.stats = CacheStats()

    # The in-memory entries hold whatever the VM builds around a module (its InstancePre etc.).
    def get(self, checksum: bytes, load_wasm: Callable[[], bytes],
            prepare: Callable[[wasmtime.Module], object]) -> object:
        entry = self._lru.get(checksum)
        if entry is not None:
            self._lru.move_to_end(checksum)
            self.stats.memory_hits += 1
            return entry[0]
        module, size = self._load_or_compile(checksum, load_wasm)
        prepared = prepare(module)
        self._remember(checksum, prepared, size)
        return prepared

    def _remember(self, checksum: bytes, prepared: object, size: int) -> None:
        self._lru[checksum] = (prepared, size)
        self._bytes += size
        while self._bytes > self.memory_limit and len(self._lru) > 1:
            _, (_, old_size) = self._lru.popitem(last=False)
            self._bytes -= old_size

    def evict_memory(self) -> None:
        self._lru.clear()
        self._bytes = 0

    def _path(self, checksum: bytes) -> Path:
        assert self.directory is not None
        return self.directory / f"{checksum.hex()}.{self.fingerprint.hex()[:16]}.module"

    def _load_or_compile(self, checksum: bytes, load_wasm: Callable[[], bytes]) -> tuple[wasmtime.Module, int]:
        if self.directory is not None:
            loaded = self._load(checksum)
            if loaded is not None:
                self.stats.disk_hits += 1
                return loaded
        wasm = load_wasm()
        if hashlib.sha256(wasm).digest() != checksum:
            raise CompileError("stored wasm does not match its checksum")
        try:
            module = wasmtime.Module(self.engine, wasm)
        except wasmtime.WasmtimeError as exc:
            raise CompileError(f"compile failed: {str(exc).splitlines()[0]}") from None
        self.stats.compiles += 1
        serialized = module.serialize()
        if self.directory is not None:
            self._store(checksum, serialized)
        return module, len(serialized)

    def _load(self, checksum: bytes) -> tuple[wasmtime.Module, int] | None:
        path = self._path(checksum)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("module cache: cannot read %s: %s", path, exc)
            return None
        payload = blob[_HEADER:]
        if (len(blob) <= _HEADER or blob[:len(_MAGIC)] != _MAGIC
                or blob[len(_MAGIC):len(_MAGIC) + 32] != self.fingerprint
                or blob[len(_MAGIC) + 32:_HEADER] != hashlib.sha256(payload).digest()):
            self._reject(path, "corrupt or built by another engine")
            return None
        try:
            return wasmtime.Module.deserialize(self.engine, payload), len(payload)
        except wasmtime.WasmtimeError as exc:
            self._reject(path, f"wasmtime refused it ({exc})")
            return None

    def _reject(self, path: Path, why: str) -> None:
        self.stats.rejected_files += 1
        log.warning("module cache: discarding %s: %s; recompiling", path.name, why)
        try:
            path.unlink()
        except OSError:
            pass

    def _store(self, checksum: bytes, serialized: bytes) -> None:
        """Write atomically: a crash leaves either no file or a whole one."""
        path = self._path(checksum)
        blob = _MAGIC + self.fingerprint + hashlib.sha256(serialized).digest() + serialized
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("module cache: cannot write %s: %s", path, exc)
            try:
                os.unlink(tmp)
            except OSError:
                pass
