"""Static checks an uploaded contract must pass before it is stored or compiled.

Compiling is the expensive, attackable step: a module with a hundred thousand functions, or
functions with millions of locals, makes a JIT spend seconds and gigabytes. So, as
cosmwasm-vm's `check_wasm` does (packages/vm/src/compatibility.rs), every upload is first read
by a small parser (`wasm_binary`) and judged against fixed limits, the host interface Conclave
provides and the capabilities it has. Only then does wasmtime's validator look at it, and only
a module that passes everything is handed to the compiler.

The rules and limits are cosmwasm-vm 2.x's, so contracts built with cosmwasm-std 2.x behave
the same here as on a wasmd chain. Where we go further, the docstring of the check says so.
Error messages say what is wrong and what the limit is; they are shown to the uploader.
"""
from __future__ import annotations

import functools
import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import wasmtime

from chain.vm.wasm_binary import (
    ExternKind,
    FuncType,
    MalformedWasm,
    WasmModule,
    find_unsupported_instruction,
    parse_module,
)

__all__ = [
    "MAX_WASM_SIZE",
    "MAX_UNCOMPRESSED_SIZE",
    "SUPPORTED_IMPORTS",
    "DEFAULT_CAPABILITIES",
    "InvalidWasm",
    "WasmReport",
    "maybe_gunzip",
    "check_wasm",
]

# wasmd x/wasm/types/validation.go MaxWasmSize. wasmd applies it to the upload as sent and,
# for gzip uploads, to the inflated module too (keeper.go: ioutils.Uncompress(code, MaxWasmSize)).
MAX_WASM_SIZE = 800 * 1024
# The most `maybe_gunzip` ever inflates, whoever calls it: wasmd's MaxProposalWasmSize, the
# largest code wasmd accepts by any route (governance, genesis). `check_wasm` inflates with the
# stricter MAX_WASM_SIZE, as wasmd's store-code path does.
MAX_UNCOMPRESSED_SIZE = 3 * 1024 * 1024

# cosmwasm-vm packages/vm/src/config.rs, WasmLimits defaults (identical in 2.2 and 3.0).
MAX_INITIAL_MEMORY_PAGES = 512  # DEFAULT_MEMORY_LIMIT, 64 KiB pages = 32 MiB
MAX_TABLE_ELEMENTS = 2_500  # DEFAULT_TABLE_SIZE_LIMIT
MAX_TABLES = 1  # compatibility.rs check_wasm_tables
MAX_IMPORTS = 100  # DEFAULT_MAX_IMPORTS
MAX_FUNCTIONS = 20_000  # DEFAULT_MAX_FUNCTIONS (defined functions, i.e. code bodies)
MAX_FUNCTION_PARAMS = 100  # DEFAULT_MAX_FUNCTION_PARAMS (per function type)
MAX_TOTAL_FUNCTION_PARAMS = 10_000  # DEFAULT_MAX_TOTAL_FUNCTION_PARAMS (over defined functions)
MAX_FUNCTION_RESULTS = 1  # DEFAULT_MAX_FUNCTION_RESULTS (per function type)
MAX_FUNCTION_LOCALS = 100  # DEFAULT_MAX_FUNCTION_LOCALS (declared locals, parameters excluded)
MAX_TOTAL_FUNCTION_LOCALS = 10_000  # DEFAULT_MAX_TOTAL_FUNCTION_LOCALS

# compatibility.rs: the marker export and the exports the VM itself calls.
INTERFACE_VERSION_PREFIX = "interface_version_"
SUPPORTED_INTERFACE_VERSION = "interface_version_8"
REQUIRED_EXPORTS = ("allocate", "deallocate")
REQUIRES_PREFIX = "requires_"  # capabilities.rs

_I32, _I64 = "i32", "i64"


def _sig(params: int, returns: str | None = _I32, last_param: str = _I32) -> FuncType:
    """A host function signature: `params` i32 pointers/ids (the last may differ), one result."""
    param_types = (_I32,) * (params - 1) + (last_param,) if params else ()
    return FuncType(param_types, (returns,) if returns else ())


# The host functions Conclave provides, with the signatures cosmwasm-std 2.x declares for them
# (packages/std/src/exports/imports.rs; u32 is i32 and u64 is i64 in wasm).
IMPORT_SIGNATURES: dict[str, FuncType] = {
    "db_read": _sig(1),
    "db_write": _sig(2, returns=None),
    "db_remove": _sig(1, returns=None),
    "db_scan": _sig(3),  # (start_ptr, end_ptr, order: i32) -> iterator id
    "db_next": _sig(1),
    "db_next_key": _sig(1),
    "db_next_value": _sig(1),
    "addr_validate": _sig(1),
    "addr_canonicalize": _sig(2),
    "addr_humanize": _sig(2),
    "secp256k1_verify": _sig(3),
    "secp256k1_recover_pubkey": _sig(3, returns=_I64),
    "secp256r1_verify": _sig(3),
    "secp256r1_recover_pubkey": _sig(3, returns=_I64),
    "ed25519_verify": _sig(3),
    "ed25519_batch_verify": _sig(3),
    "bls12_381_aggregate_g1": _sig(2),
    "bls12_381_aggregate_g2": _sig(2),
    "bls12_381_pairing_equality": _sig(4),
    "bls12_381_hash_to_g1": _sig(4),
    "bls12_381_hash_to_g2": _sig(4),
    "debug": _sig(1, returns=None),
    "abort": _sig(1, returns=None),
    "query_chain": _sig(1),
}
IMPORT_MODULE = "env"
SUPPORTED_IMPORTS: frozenset[str] = frozenset(IMPORT_SIGNATURES)

# The capabilities a wasmd chain advertises (cosmwasm-vm's test set; docs/reference). staking
# and stargate are listed although Conclave has no staking module and no Any messages: the
# published cw-plus builds (cw20-base, cw3-flex-multisig, cw721-base, ... on cosmwasm-std 1.x)
# export requires_staking and requires_stargate without using them, and DESIGN.md says they
# must run unmodified. A contract that does send such a message or query gets an
# "unsupported" error at run time, as it would for any message the chain does not handle.
DEFAULT_CAPABILITIES: frozenset[str] = frozenset({
    "iterator", "staking", "stargate",
    "cosmwasm_1_1", "cosmwasm_1_2", "cosmwasm_1_3", "cosmwasm_1_4",
    "cosmwasm_2_0", "cosmwasm_2_1", "cosmwasm_2_2",
})

# static_analysis.rs Entrypoint: every export the VM may call on a contract.
ENTRY_POINTS: frozenset[str] = frozenset({
    "instantiate", "execute", "migrate", "sudo", "reply", "query",
    "ibc_channel_open", "ibc_channel_connect", "ibc_channel_close",
    "ibc_packet_receive", "ibc_packet_ack", "ibc_packet_timeout",
    "ibc_source_callback", "ibc_destination_callback",
    "ibc2_packet_receive", "ibc2_packet_timeout", "ibc2_packet_ack", "ibc2_packet_send",
})
# migrate(env, msg) or, since CosmWasm 2.2, migrate(env, msg, migrate_info) (vm calls.rs).
MIGRATE_ARITIES = (2, 3)

GZIP_MAGIC = b"\x1f\x8b"


class InvalidWasm(ValueError):
    """The upload cannot be stored as a contract; str(error) tells the uploader why."""


@dataclass(frozen=True)
class WasmReport:
    """What check_wasm learned about a module that passed."""

    wasm: bytes  # the (decompressed) module bytes
    checksum: str  # sha256 hex of `wasm`; the code store keys on it
    required_capabilities: frozenset[str]
    exports: frozenset[str]  # exported function names
    imports: tuple[str, ...]  # names of the imported env functions, in module order
    function_count: int  # defined (non-imported) functions
    entry_points: frozenset[str]
    migrate_arity: int | None  # 2 or 3; None without a migrate export


# --------------------------------------------------------------------------------------------
# Size and compression


def maybe_gunzip(data: bytes, limit: int = MAX_UNCOMPRESSED_SIZE) -> bytes:
    """Inflate a gzip upload (wasmd accepts them); return anything else unchanged.

    Inflation stops as soon as the output passes `limit`, so a small gzip bomb costs at most
    `limit` bytes of memory. A single gzip member is accepted, with nothing after it.
    """
    if not data.startswith(GZIP_MAGIC):
        return data
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        wasm = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise InvalidWasm(f"the gzip data is corrupt: {error}") from None
    if len(wasm) > limit:
        raise InvalidWasm(f"the wasm code inflates to more than {limit} bytes; the limit is {limit} bytes")
    if not inflater.eof:
        raise InvalidWasm("the gzip data is truncated")
    if inflater.unused_data:
        raise InvalidWasm("unexpected bytes after the gzip data (only one gzip member is accepted)")
    return wasm


def _check_upload_size(data: bytes) -> None:
    if not data:
        raise InvalidWasm("the wasm code is empty")
    if len(data) > MAX_WASM_SIZE:
        raise InvalidWasm(
            f"the wasm code is {len(data)} bytes; the limit is {MAX_WASM_SIZE} bytes "
            f"({MAX_WASM_SIZE // 1024} KiB, gzip-compressed or not)"
        )


# --------------------------------------------------------------------------------------------
# The checks, one per rule, in cosmwasm-vm's order


def _check_tables(module: WasmModule) -> None:
    """compatibility.rs check_wasm_tables: at most one table, and it must be bounded."""
    if len(module.tables) > MAX_TABLES:
        raise InvalidWasm(f"the contract defines {len(module.tables)} tables; at most {MAX_TABLES} is allowed")
    for table in module.tables:
        if table.maximum is None:
            raise InvalidWasm(
                f"the contract's table must declare a maximum size (at most {MAX_TABLE_ELEMENTS} elements)"
            )
        if table.maximum > MAX_TABLE_ELEMENTS:
            raise InvalidWasm(
                f"the contract's table maximum of {table.maximum} elements exceeds the limit "
                f"of {MAX_TABLE_ELEMENTS}"
            )


def _check_memory(module: WasmModule) -> None:
    """compatibility.rs check_wasm_memories: exactly one memory of the contract's own, small
    to start with and without a maximum (the host sets it). An imported memory gets its own
    message here rather than a confusing "no memory"."""
    for imported in module.imports:
        if imported.kind is ExternKind.MEMORY:
            raise InvalidWasm(
                f"the contract imports its memory ({imported.full_name}); it must define exactly one memory itself"
            )
    if len(module.memories) != 1:
        raise InvalidWasm(f"the contract must define exactly one memory; it defines {len(module.memories)}")
    memory = module.memories[0]
    if memory.minimum > MAX_INITIAL_MEMORY_PAGES:
        raise InvalidWasm(
            f"the contract's initial memory of {memory.minimum} pages exceeds the limit of "
            f"{MAX_INITIAL_MEMORY_PAGES} pages ({MAX_INITIAL_MEMORY_PAGES * 64 // 1024} MiB)"
        )
    if memory.maximum is not None:
        raise InvalidWasm(
            f"the contract's memory declares a maximum of {memory.maximum} pages; it must not "
            f"declare a maximum; the host sets the limit"
        )


def _check_interface_version(exports: frozenset[str]) -> None:
    """compatibility.rs check_interface_version: exactly one marker, and it must be ours."""
    markers = sorted(name for name in exports if name.startswith(INTERFACE_VERSION_PREFIX))
    if not markers:
        raise InvalidWasm(f"missing {SUPPORTED_INTERFACE_VERSION} export: not a CosmWasm 2.x contract")
    if len(markers) > 1:
        raise InvalidWasm(f"the contract has more than one interface version marker export: {', '.join(markers)}")
    marker = markers[0]
    if marker == SUPPORTED_INTERFACE_VERSION:
        return
    version = marker[len(INTERFACE_VERSION_PREFIX):]
    if version.isdigit() and int(version) < 8:
        raise InvalidWasm(
            f"the contract was built for an older CosmWasm ({marker}); this chain runs "
            f"{SUPPORTED_INTERFACE_VERSION} contracts: upgrade cosmwasm-std to 2.x and rebuild"
        )
    raise InvalidWasm(
        f"unknown interface version marker export {marker!r}; this chain runs "
        f"{SUPPORTED_INTERFACE_VERSION} contracts: build with cosmwasm-std 2.x"
    )


def _check_required_exports(exports: frozenset[str]) -> None:
    """compatibility.rs check_wasm_exports: the VM calls allocate and deallocate itself."""
    for name in REQUIRED_EXPORTS:
        if name not in exports:
            raise InvalidWasm(
                f"missing required export {name!r}: the VM needs {' and '.join(REQUIRED_EXPORTS)} "
                f"(cosmwasm-std exports them)"
            )


def _check_imports(module: WasmModule) -> None:
    """compatibility.rs check_wasm_imports: few imports, all functions the host provides.

    Beyond cosmwasm-vm (which leaves this to instantiation), each import's signature must be
    the one cosmwasm-std declares, so a mismatch is refused at upload instead of at first use.
    """
    if len(module.imports) > MAX_IMPORTS:
        raise InvalidWasm(f"the contract has {len(module.imports)} imports; the limit is {MAX_IMPORTS}")
    for imported in module.imports:
        if imported.module != IMPORT_MODULE or imported.name not in SUPPORTED_IMPORTS:
            raise InvalidWasm(
                f"the contract requires unsupported import \"{imported.full_name}\"; the chain "
                f"provides: {', '.join(f'{IMPORT_MODULE}.{n}' for n in sorted(SUPPORTED_IMPORTS))}"
            )
        if imported.kind is not ExternKind.FUNC:
            raise InvalidWasm(
                f"the contract requires non-function import \"{imported.full_name}\" "
                f"({imported.kind.name.lower()}); all supported imports are functions"
            )
        assert imported.type_index is not None
        actual, expected = module.types[imported.type_index], IMPORT_SIGNATURES[imported.name]
        if actual != expected:
            raise InvalidWasm(
                f"import \"{imported.full_name}\" has signature {actual}; the host provides {expected}"
            )


def _required_capabilities(exports: Iterable[str]) -> frozenset[str]:
    """capabilities.rs: each `requires_X` export asks for capability X ("requires_" alone is ignored)."""
    return frozenset(
        name[len(REQUIRES_PREFIX):]
        for name in exports
        if name.startswith(REQUIRES_PREFIX) and len(name) > len(REQUIRES_PREFIX)
    )


def _check_capabilities(required: frozenset[str], available: frozenset[str]) -> None:
    missing = required - available
    if missing:
        raise InvalidWasm(f"contract requires unavailable capabilities: {', '.join(sorted(missing))}")


def _check_function_limits(module: WasmModule) -> None:
    """compatibility.rs check_wasm_functions, counting as parsed_wasm.rs does: function count
    over code bodies, per-function params and results over every type in the type section,
    total params over the defined functions' types, locals over the declarations in bodies."""
    if len(module.bodies) > MAX_FUNCTIONS:
        raise InvalidWasm(f"the contract has {len(module.bodies)} functions; the limit is {MAX_FUNCTIONS}")
    most_params = max((len(t.params) for t in module.types), default=0)
    if most_params > MAX_FUNCTION_PARAMS:
        raise InvalidWasm(
            f"the contract has a function type with {most_params} parameters; the limit is {MAX_FUNCTION_PARAMS}"
        )
    most_results = max((len(t.results) for t in module.types), default=0)
    if most_results > MAX_FUNCTION_RESULTS:
        raise InvalidWasm(
            f"the contract has a function type with {most_results} results; the limit is "
            f"{MAX_FUNCTION_RESULTS} (multi-value returns are not supported)"
        )
    total_params = sum(len(module.types[t].params) for t in module.functions)
    if total_params > MAX_TOTAL_FUNCTION_PARAMS:
        raise InvalidWasm(
            f"the contract's functions have {total_params} parameters in total; the limit is "
            f"{MAX_TOTAL_FUNCTION_PARAMS}"
        )
    for index, body in enumerate(module.bodies):
        if body.locals > MAX_FUNCTION_LOCALS:
            raise InvalidWasm(
                f"function {len(module.imported_functions) + index} declares {body.locals} locals; "
                f"the limit is {MAX_FUNCTION_LOCALS} per function"
            )
    total_locals = sum(body.locals for body in module.bodies)
    if total_locals > MAX_TOTAL_FUNCTION_LOCALS:
        raise InvalidWasm(
            f"the contract's functions declare {total_locals} locals in total; the limit is "
            f"{MAX_TOTAL_FUNCTION_LOCALS}"
        )


def _migrate_arity(module: WasmModule) -> int | None:
    """How many parameters the migrate export takes; anything but 2 or 3 cannot be called.
    (cosmwasm-vm finds this out at call time; we refuse it at upload.)"""
    for export in module.exports:
        if export.kind is ExternKind.FUNC and export.name == "migrate":
            arity = len(module.function_type(export.index).params)
            if arity not in MIGRATE_ARITIES:
                raise InvalidWasm(
                    f"the migrate export takes {arity} parameters; it must take 2 (env, msg) "
                    f"or 3 (env, msg, migrate_info)"
                )
            return arity
    return None


def _check_instructions(module: WasmModule, wasm: bytes) -> None:
    """Refuse instructions of proposals the engine has off (SIMD, threads, bulk memory, tail
    calls, exceptions, ...) with a message naming them. wasmtime would refuse them anyway;
    cosmwasm-vm does so through wasmparser's feature set (parsed_wasm.rs)."""
    first_function = len(module.imported_functions)
    for index, body in enumerate(module.bodies):
        reason = find_unsupported_instruction(wasm, body)
        if reason is not None:
            raise InvalidWasm(
                f"function {first_function + index} uses an unsupported {reason}; Conclave runs "
                f"WebAssembly 1.0 with sign extension, saturating float-to-int, multi-value and "
                f"reference types only"
            )


@functools.cache
def _validating_engine() -> wasmtime.Engine:
    """An engine used only to validate, with cosmwasm-vm's feature set (parsed_wasm.rs):
    every proposal beyond it is off. Reference types stay on (turning them off makes
    wasmtime-py's Engine() abort the process), as in cosmwasm-vm."""
    config = wasmtime.Config()
    for feature in (
        "wasm_threads", "wasm_simd", "wasm_relaxed_simd", "wasm_bulk_memory", "wasm_multi_memory",
        "wasm_memory64", "wasm_tail_call", "wasm_exceptions", "wasm_function_references",
        "wasm_gc", "wasm_wide_arithmetic", "wasm_custom_page_sizes", "wasm_stack_switching",
    ):
        setattr(config, feature, False)
    return wasmtime.Engine(config)


def _check_valid_module(wasm: bytes) -> None:
    """The full WebAssembly validation (types of every instruction, every index in range),
    cosmwasm-vm's `validate_funcs` step. wasmtime's validator is linear and compiles nothing."""
    try:
        wasmtime.Module.validate(_validating_engine(), wasm)
    except wasmtime.WasmtimeError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "validation failed"
        raise InvalidWasm(f"invalid WebAssembly module: {reason}") from None


# --------------------------------------------------------------------------------------------


def check_wasm(data: bytes, capabilities: frozenset[str] = DEFAULT_CAPABILITIES) -> WasmReport:
    """Judge an upload (gzip-compressed or not) as a contract for this chain.

    Returns what was learned about it, or raises InvalidWasm saying why it cannot be stored.
    Cheap checks come first; nothing is compiled.
    """
    _check_upload_size(data)
    wasm = maybe_gunzip(data, limit=MAX_WASM_SIZE)  # wasmd's limit for the inflated code too
    _check_upload_size(wasm)  # a gzip of nothing is still empty
    try:
        module = parse_module(wasm)
    except MalformedWasm as error:
        raise InvalidWasm(f"not a valid WebAssembly module: {error}") from None
    exports = frozenset(e.name for e in module.exports if e.kind is ExternKind.FUNC)
    required = _required_capabilities(exports)

    _check_tables(module)
    _check_memory(module)
    _check_interface_version(exports)
    _check_required_exports(exports)
    _check_imports(module)
    _check_capabilities(required, capabilities)
    _check_function_limits(module)
    migrate_arity = _migrate_arity(module)
    try:
        _check_instructions(module, wasm)
    except MalformedWasm as error:
        raise InvalidWasm(f"not a valid WebAssembly module: {error}") from None
    _check_valid_module(wasm)

    return WasmReport(
        wasm=wasm,
        checksum=hashlib.sha256(wasm).hexdigest(),
        required_capabilities=required,
        exports=exports,
        imports=tuple(i.name for i in module.imports),
        function_count=len(module.bodies),
        entry_points=exports & ENTRY_POINTS,
        migrate_arity=migrate_arity,
    )
