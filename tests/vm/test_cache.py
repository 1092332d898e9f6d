"""The compile cache (chain/vm/cache.py): serialized modules on disk, an LRU in memory.

A VM with a cache directory compiles a contract once and writes the serialized module; a fresh
VM on the same directory loads it instead of compiling. A corrupt, truncated or foreign file is
detected, discarded and recompiled, and the contract still answers correctly. The in-memory LRU
stays within its byte bound and an evicted module is simply loaded again.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from chain.app.address import Bech32Api
from chain.testing import TestApp
from chain.vm import VM
from chain.vm.cache import _HEADER, _MAGIC
from chain.vm.engine import engine_fingerprint
from support import artifact

COUNTER = artifact("test_counter")
COUNTER_CHECKSUM = hashlib.sha256(COUNTER).hexdigest()


def run_counter(app: TestApp, code_id: int | None = None) -> None:
    """Instantiate the counter, increment it, and check every answer."""
    alice = app.create_account("alice")
    if code_id is None:
        code_id = app.store_code(COUNTER)
    counter = app.instantiate(code_id, {"count": 41}, sender=alice, label="counter")
    result = app.execute(counter, {"increment": {}}, sender=alice)
    assert result.data_json == {"count": 42}
    assert app.query(counter, {"count": {}}) == {"count": 42}
    assert app.query(counter, {"version": {}}) == {"version": 1}


def module_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.module"))


NAMES = ("test_counter", "test_hostile", "test_reflect")


@pytest.fixture(scope="module")
def template(module_cache_dir) -> dict[str, Path]:
    """Good cache files for the test contracts (compiled at most once per session), by name."""
    vm = VM(Bech32Api("conclave"), cache_dir=module_cache_dir)
    files = {}
    for name in NAMES:
        vm.compile(vm.check(artifact(name)))
        (files[name],) = module_cache_dir.glob(f"{hashlib.sha256(artifact(name)).hexdigest()}.*.module")
    return files


def seed(directory: Path, template: dict[str, Path], *names: str) -> None:
    """Put good cache files into ``directory`` as an earlier process would have left them."""
    for name in names:
        shutil.copyfile(template[name], directory / template[name].name)


def test_compiles_once_and_writes_a_file(tmp_path):
    app = TestApp(cache_dir=tmp_path)
    stats = app.vm.cache.stats
    run_counter(app)
    assert stats.compiles == 1
    assert stats.disk_hits == 0
    assert stats.rejected_files == 0
    assert stats.memory_hits >= 2          # instantiate and execute ran from memory
    files = module_files(tmp_path)
    assert len(files) == 1
    assert files[0].name.startswith(COUNTER_CHECKSUM + ".")
    blob = files[0].read_bytes()
    assert blob[:len(_MAGIC)] == _MAGIC
    assert blob[len(_MAGIC):len(_MAGIC) + 32] == bytes.fromhex(engine_fingerprint())
    assert blob[len(_MAGIC) + 32:_HEADER] == hashlib.sha256(blob[_HEADER:]).digest()
    assert not list(tmp_path.glob(".tmp-*"))   # the atomic write left no temporary file
    # storing the same code again compiles nothing
    app.store_code(COUNTER)
    assert stats.compiles == 1


def test_fresh_vm_loads_from_disk(tmp_path):
    run_counter(TestApp(cache_dir=tmp_path))
    mtime = module_files(tmp_path)[0].stat().st_mtime_ns

    app = TestApp(cache_dir=tmp_path)          # a new VM instance on the same directory
    run_counter(app)
    assert app.vm.cache.stats.disk_hits == 1
    assert app.vm.cache.stats.compiles == 0
    assert app.vm.cache.stats.rejected_files == 0
    assert module_files(tmp_path)[0].stat().st_mtime_ns == mtime   # read, not rewritten


def test_bare_vm_loads_from_disk(tmp_path):
    first = VM(Bech32Api("conclave"), cache_dir=tmp_path)
    first.compile(first.check(COUNTER))
    assert first.cache.stats.compiles == 1

    second = VM(Bech32Api("conclave"), cache_dir=tmp_path)
    second.compile(second.check(COUNTER))
    assert (second.cache.stats.disk_hits, second.cache.stats.compiles) == (1, 0)
    second.compile(second.check(COUNTER))
    assert second.cache.stats.memory_hits == 1


def _flip_payload(blob: bytes) -> bytes:
    middle = _HEADER + (len(blob) - _HEADER) // 2
    return blob[:middle] + bytes(b ^ 0xFF for b in blob[middle:middle + 16]) + blob[middle + 16:]


def _foreign_engine(blob: bytes) -> bytes:
    other = hashlib.sha256(b"some other engine configuration").digest()
    return blob[:len(_MAGIC)] + other + blob[len(_MAGIC) + 32:]


def _junk_with_valid_digest(blob: bytes) -> bytes:
    """Header intact and digest right, but the payload is not a wasmtime artifact."""
    payload = b"\x7fELF but not really" * 50
    return blob[:len(_MAGIC) + 32] + hashlib.sha256(payload).digest() + payload


DAMAGE = {
    "flipped_payload": _flip_payload,
    "truncated_payload": lambda blob: blob[:len(blob) // 2],
    "truncated_header": lambda blob: blob[:20],
    "empty": lambda blob: b"",
    "foreign_fingerprint": _foreign_engine,
    "bad_magic": lambda blob: b"NOTAMOD1" + blob[len(_MAGIC):],
    "junk_with_valid_digest": _junk_with_valid_digest,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_file_is_rejected_and_recompiled(tmp_path, template, damage):
    seed(tmp_path, template, "test_counter")
    (path,) = module_files(tmp_path)
    good = path.read_bytes()
    path.write_bytes(DAMAGE[damage](good))

    app = TestApp(cache_dir=tmp_path)
    run_counter(app)
    stats = app.vm.cache.stats
    assert stats.rejected_files == 1
    assert stats.compiles == 1
    assert stats.disk_hits == 0

    # the damaged file was replaced by a good one, which the next VM loads
    assert module_files(tmp_path) == [path]
    repaired = path.read_bytes()
    assert repaired[:_HEADER - 32] == good[:_HEADER - 32]
    assert repaired[len(_MAGIC) + 32:_HEADER] == hashlib.sha256(repaired[_HEADER:]).digest()
    app = TestApp(cache_dir=tmp_path)
    run_counter(app)
    assert (app.vm.cache.stats.disk_hits, app.vm.cache.stats.compiles, app.vm.cache.stats.rejected_files) == (1, 0, 0)


def test_file_named_for_another_engine_is_ignored(tmp_path, template):
    """Files are named by checksum and fingerprint: another engine's file is never read."""
    seed(tmp_path, template, "test_counter")
    (path,) = module_files(tmp_path)
    foreign = path.with_name(f"{COUNTER_CHECKSUM}.{'0' * 16}.module")
    path.rename(foreign)
    app = TestApp(cache_dir=tmp_path)
    run_counter(app)
    assert (app.vm.cache.stats.compiles, app.vm.cache.stats.rejected_files) == (1, 0)
    assert foreign.exists()


# --- the in-memory LRU ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def module_sizes(template) -> dict[str, int]:
    """Bytes each module occupies in the LRU (its serialized size, as the cache counts it)."""
    return {name: path.stat().st_size - _HEADER for name, path in template.items()}


def _app_with_lru(limit: int, cache_dir: Path | None) -> TestApp:
    app = TestApp(cache_dir=cache_dir)
    app.vm = app.keeper.vm = VM(app.api, cache_dir=cache_dir, memory_cache_bytes=limit)
    return app


def _lru_checksums(app: TestApp) -> list[str]:
    return [checksum.hex() for checksum in app.vm.cache._lru]


def _assert_within_bound(app: TestApp, limit: int) -> None:
    cache = app.vm.cache
    assert cache._bytes == sum(size for _, size in cache._lru.values())
    assert cache._bytes <= limit or len(cache._lru) == 1


@pytest.mark.parametrize("with_disk", [False, True], ids=["memory_only", "with_disk"])
def test_lru_stays_within_its_byte_bound(tmp_path, template, module_sizes, with_disk):
    # room for the counter and the hostile contract, not for the reflect contract as well
    limit = module_sizes["test_counter"] + module_sizes["test_hostile"]
    if with_disk:
        seed(tmp_path, template, *NAMES)
    app = _app_with_lru(limit, tmp_path if with_disk else None)
    stats = app.vm.cache.stats
    alice = app.create_account("alice")
    checksums = {name: hashlib.sha256(artifact(name)).hexdigest() for name in NAMES}

    code = {name: app.store_code(artifact(name)) for name in NAMES[:2]}
    assert _lru_checksums(app) == [checksums["test_counter"], checksums["test_hostile"]]
    _assert_within_bound(app, limit)

    code["test_reflect"] = app.store_code(artifact("test_reflect"))
    _assert_within_bound(app, limit)
    assert checksums["test_counter"] not in _lru_checksums(app)       # the oldest went first
    assert _lru_checksums(app)[-1] == checksums["test_reflect"]

    # the evicted module is loaded again (from disk if there is one) and works
    compiles, disk_hits = stats.compiles, stats.disk_hits
    counter = app.instantiate(code["test_counter"], {"count": 1}, sender=alice, label="c")
    if with_disk:
        assert (stats.compiles, stats.disk_hits) == (compiles, disk_hits + 1)
    else:
        assert stats.compiles == compiles + 1
    _assert_within_bound(app, limit)

    assert app.execute(counter, {"increment": {}}, sender=alice).data_json == {"count": 2}
    if not with_disk:
        return   # without a disk every reload below would be a compile (~0.3 s each)

    # round-robin over all three: always within the bound, always the right answers
    hostile = app.instantiate(code["test_hostile"], {}, sender=alice, label="h")
    reflect = app.instantiate(code["test_reflect"], {}, sender=alice, label="r")
    for i in range(3):
        assert app.execute(counter, {"increment": {}}, sender=alice).data_json == {"count": 3 + i}
        _assert_within_bound(app, limit)
        assert app.execute(hostile, {"recurse": {"depth": 3}}, sender=alice).wasm_attribute("recurse_result") == "9"
        _assert_within_bound(app, limit)
        app.execute(reflect, {"write": {"key": "k", "value": str(i)}}, sender=alice)
        assert app.query(reflect, {"read": {"key": "k"}}) == {"value": str(i)}
        _assert_within_bound(app, limit)
    assert stats.compiles == 0          # everything came from disk
    assert stats.rejected_files == 0


def test_tiny_lru_keeps_only_the_latest_module(tmp_path, template, module_sizes):
    seed(tmp_path, template, "test_counter", "test_hostile")
    app = _app_with_lru(1, tmp_path)
    alice = app.create_account("alice")
    counter = app.instantiate(app.store_code(COUNTER), {"count": 0}, sender=alice, label="c")
    hostile = app.instantiate(app.store_code(artifact("test_hostile")), {}, sender=alice, label="h")
    for i in range(3):
        assert app.execute(counter, {"increment": {}}, sender=alice).data_json == {"count": i + 1}
        assert len(app.vm.cache._lru) == 1
        app.execute(hostile, {"grow_memory": {"pages": 1}}, sender=alice)
        assert len(app.vm.cache._lru) == 1
    assert app.vm.cache._bytes == module_sizes["test_hostile"]
    assert app.vm.cache.stats.compiles == 0          # every (re)load came from disk
    assert app.vm.cache.stats.disk_hits >= 6
