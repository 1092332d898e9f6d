"""The deterministic wasmtime engine and its fingerprint.

Every node must run a contract to the same result and the same fuel count, so the engine is
configured once, here: fuel on, NaN canonicalization on, and every post-MVP proposal that adds
nondeterminism or attack surface off. The fingerprint names exactly this configuration, so a
serialized module compiled under any other one is never loaded.
"""
from __future__ import annotations

import hashlib
import platform
from importlib.metadata import version

import wasmtime

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


def make_engine() -> wasmtime.Engine:
    config = wasmtime.Config()
    for name, value in ENGINE_SETTINGS:
        setattr(config, name, value)
    return wasmtime.Engine(config)


def engine_fingerprint() -> str:
    """Hex digest naming wasmtime's version, our settings and the machine the code targets."""
    text = f"wasmtime={WASMTIME_VERSION};{ENGINE_SETTINGS!r};{platform.machine()};{platform.system()}"
    return hashlib.sha256(text.encode()).hexdigest()
