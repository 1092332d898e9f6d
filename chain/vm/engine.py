"""The deterministic wasmtime engine and its fingerprint.

Every node must run a contract to the same result and the same fuel count, so the engine is
configured once, here: fuel on, NaN canonicalization on, and every post-MVP proposal that adds
nondeterminism or attack surface off. The fingerprint names exactly this configuration, so a
serialized module compiled under any other one is never loaded.

Instances are allocated by wasmtime's pooling allocator: a fixed set of slots (memory, table,
instance) reserved once and reused, where the default allocator maps and unmaps a fresh 4 GiB
reservation for every call's instance (~20 µs of a ~60 µs store + instantiate + drop). Nothing a
contract can observe changes: a slot is reset before reuse, and the memory a call may use is the
store limit's (vm.py), below POOL_MAX_MEMORY_BYTES. The slots are reserved address space (about
4 GiB each, not memory), so the process shares one engine (``shared_engine``); a call's store is
closed when the call ends (vm.py), so at most one slot per nested call is ever taken.
"""
from __future__ import annotations

import functools
import hashlib
import platform
from importlib.metadata import version

import wasmtime
from wasmtime import _bindings as _b

WASMTIME_VERSION = version("wasmtime")

# (attribute, value) pairs applied to wasmtime.Config, in order. wasm_reference_types stays at its
# default (on): turning it off makes Engine() panic in wasmtime-py 50.
ENGINE_SETTINGS: tuple[tuple[str, object], ...] = (
    ("consume_fuel", True),
    ("cranelift_nan_canonicalization", True),
    ("wasm_threads", False),
    ("wasm_simd", False),
    ("wasm_relaxed_simd", False),
    ("wasm_bulk_memory", False),
    ("wasm_multi_memory", False),
    ("wasm_memory64", False),
    ("wasm_tail_call", False),       # on by default in wasmtime 50; not in CosmWasm's feature set
    ("wasm_exceptions", False),
    ("wasm_gc", False),
    ("wasm_function_references", False),
    ("wasm_wide_arithmetic", False),
    ("wasm_custom_page_sizes", False),
    ("wasm_stack_switching", False),
    ("cranelift_opt_level", "speed"),
)

# The pooling allocator's bounds. Live instances are at most one per nested call (a query may
# query, MAX_QUERY_DEPTH deep) per VM of the process; 256 leaves room for many VMs (tests, devnet).
POOL_SLOTS = 256
POOL_MAX_MEMORY_BYTES = 64 * 1024 * 1024       # above vm.MEMORY_LIMIT_BYTES: the store's limit decides
POOL_MAX_INSTANCE_BYTES = 16 * 1024 * 1024     # an instance's own metadata; validation bounds it far below
POOL_TABLE_ELEMENTS = 10_000                   # above validation's MAX_TABLE_ELEMENTS (2,500)
POOL_SETTINGS: tuple[tuple[str, int], ...] = (
    ("total_core_instances", POOL_SLOTS),
    ("total_memories", POOL_SLOTS),
    ("total_tables", POOL_SLOTS),
    ("max_memory_size", POOL_MAX_MEMORY_BYTES),
    ("max_core_instance_size", POOL_MAX_INSTANCE_BYTES),
    ("table_elements", POOL_TABLE_ELEMENTS),
    ("max_memories_per_module", 1),
    ("max_tables_per_module", 1),
)


def make_engine() -> wasmtime.Engine:
    """A new engine of the deterministic configuration (it reserves its own pool: prefer ``shared_engine``)."""
    config = wasmtime.Config()
    for name, value in ENGINE_SETTINGS:
        setattr(config, name, value)
    pool = _b.wasmtime_pooling_allocation_config_new()
    try:
        for name, value in POOL_SETTINGS:
            getattr(_b, f"wasmtime_pooling_allocation_config_{name}_set")(pool, value)
        _b.wasmtime_pooling_allocation_strategy_set(config.ptr(), pool)
    finally:
        _b.wasmtime_pooling_allocation_config_delete(pool)
    return wasmtime.Engine(config)


@functools.lru_cache(maxsize=1)
def shared_engine() -> wasmtime.Engine:
    """The process's engine: every VM uses it, so the pool's address space is reserved once."""
    return make_engine()


def engine_fingerprint() -> str:
    """Hex digest naming wasmtime's version, our settings and the machine the code targets."""
    text = (f"wasmtime={WASMTIME_VERSION};{ENGINE_SETTINGS!r};pooling={POOL_SETTINGS!r};"
            f"{platform.machine()};{platform.system()}")
    return hashlib.sha256(text.encode()).hexdigest()
