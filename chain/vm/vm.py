"""The contract VM: validate and compile code, then run one entry point per call.

Each call gets a fresh store and instance (no state leaks between calls), a 32 MiB memory
limit, fuel equal to the gas the caller has left, and a ``CallContext`` for the imports. The
arguments are written into guest memory through the guest's own ``allocate``; the result is
read back from the Region the entry point returns. Whatever the guest does, the call ends in
bytes or in a ``VmError`` subclass; the host and the store are unharmed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import wasmtime

from . import host, rawcall
from .backend import AddressApi, Querier, Storage
from .cache import ModuleCache
from .engine import shared_engine
from .errors import CompileError, ContractTrap, OutOfGas, ResourceExhausted, VmError
from .gas import GasMeter
from .validation import DEFAULT_CAPABILITIES, InvalidWasm, WasmReport, check_wasm

MEMORY_LIMIT_BYTES = 32 * 1024 * 1024
MAX_RESULT_LENGTH = 64 * 1024 * 1024   # cosmwasm-vm calls.rs result limits (the memory limit bites first)
ENTRY_POINTS = ("instantiate", "execute", "query", "migrate", "sudo", "reply")
# What one call looks up on its instance: its entry point and allocate (the memory comes along).
_CALL_EXPORTS = {entry: (entry, "allocate") for entry in ENTRY_POINTS}

_POOL_EXHAUSTED = "concurrent"    # wasmtime: "maximum concurrent ... limit of N reached"

_TRAP_REASONS = {
    wasmtime.TrapCode.STACK_OVERFLOW: "call stack exhausted",
    wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS: "out-of-bounds memory access",
    wasmtime.TrapCode.HEAP_MISALIGNED: "misaligned memory access",
    wasmtime.TrapCode.TABLE_OUT_OF_BOUNDS: "undefined table element",
    wasmtime.TrapCode.INDIRECT_CALL_TO_NULL: "indirect call to null",
    wasmtime.TrapCode.BAD_SIGNATURE: "indirect call signature mismatch",
    wasmtime.TrapCode.INTEGER_OVERFLOW: "integer overflow",
    wasmtime.TrapCode.INTEGER_DIVISION_BY_ZERO: "integer division by zero",
    wasmtime.TrapCode.BAD_CONVERSION_TO_INTEGER: "invalid conversion to integer",
    wasmtime.TrapCode.UNREACHABLE: "unreachable executed (the contract panicked)",
}


@dataclass
class PreparedCode:
    """A compiled module linked against our imports, ready to instantiate."""

    pre: wasmtime.InstancePre
    entry_points: frozenset[str]
    migrate_arity: int


class VM:
    def __init__(self, api: AddressApi, cache_dir: Path | None = None,
                 memory_cache_bytes: int = 256 << 20,
                 capabilities: frozenset[str] = DEFAULT_CAPABILITIES,
                 debug_handler: Callable[[str], None] | None = None):
        self.api = api
        self.capabilities = capabilities
        self.debug_handler = debug_handler
        self.engine = shared_engine()
        self.cache = ModuleCache(self.engine, cache_dir, memory_cache_bytes)
        self.linker = wasmtime.Linker(self.engine)
        self._stack: list[host.CallContext] = []
        self._link_imports()

    def _link_imports(self) -> None:
        stack = self._stack
        for name, (n_params, results, impl) in host.IMPORTS.items():
            ty = wasmtime.FuncType([host.I32] * n_params, results)

            def bound(args, impl=impl):
                impl(stack[-1], args)

            rawcall.define_host_function(self.linker, "env", name, ty, bound)

    # --- code ------------------------------------------------------------------------------
    def check(self, wasm: bytes) -> WasmReport:
        """Static validation of an upload; raises CompileError with the reason."""
        try:
            return check_wasm(wasm, self.capabilities)
        except InvalidWasm as exc:
            raise CompileError(str(exc)) from None

    def compile(self, report: WasmReport) -> None:
        """Compile (or load from disk) now, so the first call does not pay for it."""
        self._prepared(bytes.fromhex(report.checksum), lambda: report.wasm)

    def entry_points(self, checksum: bytes, load_wasm: Callable[[], bytes]) -> frozenset[str]:
        """The entry points the stored code exports (from the compile cache), e.g. to skip an absent sudo."""
        return self._prepared(checksum, load_wasm).entry_points

    def _prepared(self, checksum: bytes, load_wasm: Callable[[], bytes]) -> PreparedCode:
        return self.cache.get(checksum, load_wasm, self._prepare)  # type: ignore[return-value]

    def _prepare(self, module: wasmtime.Module) -> PreparedCode:
        try:
            pre = self.linker.instantiate_pre(module)
        except wasmtime.WasmtimeError as exc:
            raise CompileError(f"cannot link module: {str(exc).splitlines()[0]}") from None
        entries, migrate_arity = set(), 2
        for export in module.exports:
            if export.name in ENTRY_POINTS and isinstance(export.type, wasmtime.FuncType):
                entries.add(export.name)
                if export.name == "migrate":
                    migrate_arity = len(export.type.params)
        return PreparedCode(pre, frozenset(entries), migrate_arity)

    # --- calls -----------------------------------------------------------------------------
    def call(self, checksum: bytes, load_wasm: Callable[[], bytes], entry: str, args: Sequence[bytes], *,
             storage: Storage, querier: Querier, meter: GasMeter, read_only: bool = False,
             query_depth: int = 0) -> bytes:
        """Run ``entry`` with JSON ``args`` and return the raw JSON ContractResult it produced."""
        code = self._prepared(checksum, load_wasm)
        if entry not in code.entry_points:
            raise VmError(f"contract has no {entry} entry point")
        if entry == "migrate" and code.migrate_arity == 3 and len(args) == 2:
            raise VmError("internal: migrate with migrate_info needs three arguments")
        if entry == "migrate" and code.migrate_arity == 2:
            args = args[:2]
        store = wasmtime.Store(self.engine)
        store.set_limits(memory_size=MEMORY_LIMIT_BYTES)
        fuel = meter.remaining
        store.set_fuel(fuel)
        ctx = host.CallContext(store, storage, querier, self.api, meter, read_only, query_depth,
                               self.debug_handler)
        ctx.fuel_start = fuel
        self._stack.append(ctx)
        try:
            return self._run(ctx, code, entry, args)
        except rawcall.GuestTrap as trap:
            raise self._translate(trap) from None
        finally:
            self._stack.pop()
            if meter.used < meter.limit:
                ctx.settle()
            store.close()    # frees the pool slot now, whatever still refers to the store

    def _run(self, ctx: host.CallContext, code: PreparedCode, entry: str, args: Sequence[bytes]) -> bytes:
        try:
            instance = code.pre.instantiate(ctx.store)
        except wasmtime.Trap as trap:
            raise rawcall.GuestTrap(trap.message, trap.trap_code, None)
        except wasmtime.WasmtimeError as exc:
            message = str(exc)
            if _POOL_EXHAUSTED in message:
                # Not the contract's fault, and another node would not fail here: stop, never record it.
                raise ResourceExhausted(f"the VM's instance pool is exhausted ({message.splitlines()[0]}); "
                                        "restart the node and report this") from None
            raise VmError(f"cannot instantiate contract: {message.splitlines()[0]}") from None
        exports = rawcall.instance_exports(ctx.store, instance, _CALL_EXPORTS[entry])
        if exports.memory is None or "allocate" not in exports.funcs:
            raise VmError("contract does not export memory and allocate")
        ctx.exports = exports
        ctx.memory = exports.memory
        ctx.allocate = exports.funcs["allocate"]
        pointers = tuple(ctx.allocate_region(arg) for arg in args)
        result_ptr = rawcall.call_raw(ctx.context_ptr, exports.funcs[entry], pointers, 1)
        return ctx.read_region(result_ptr, MAX_RESULT_LENGTH)

    def _translate(self, trap: rawcall.GuestTrap) -> VmError:
        error = trap.host_error
        while isinstance(error, rawcall.GuestTrap):  # a trap inside a nested guest call
            error = error.host_error if error.host_error is not None else self._translate(error)
        if isinstance(error, VmError):
            return error
        if isinstance(error, (KeyboardInterrupt, SystemExit, ResourceExhausted)):
            raise error                      # the operator stopping the process, or the host failing, is not
                                             # a contract error
        if error is not None:
            return VmError(f"host error: {type(error).__name__}: {error}")
        if trap.code == wasmtime.TrapCode.OUT_OF_FUEL:
            return OutOfGas()
        reason = _TRAP_REASONS.get(trap.code) if trap.code is not None else None
        return ContractTrap(f"wasm trap: {reason or trap.args[0].splitlines()[0]}")
