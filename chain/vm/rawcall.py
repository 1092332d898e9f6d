"""The thin, fast path between Python and wasmtime.

wasmtime-py's generic ``Func.__call__`` and host-function trampoline convert every value
through ``Val`` objects and cost ~17 µs and ~11 µs per crossing; a contract call makes a dozen
crossings. The C API's *unchecked* variants (raw ``wasmtime_val_raw_t`` arrays) cost ~1.5 µs
and ~0.7 µs. This module wraps exactly those calls for the pinned wasmtime version and nothing
else: types are checked once, statically, by validation and linking, so calling unchecked is
safe here.

The hot entry points (``call_raw``, ``memory_view_raw``) take the store's context pointer, which a
caller keeps for the whole call, and go through our own ctypes prototypes of the same C functions
without argtypes conversion (~1 µs a guest call instead of ~2.4 µs, ~0.5 µs a memory view instead
of ~2.3 µs). Each argument is passed as the exact ctypes type the C signature names.
"""
from __future__ import annotations

import ctypes
from typing import Callable

import wasmtime
from wasmtime import _bindings as _b
from wasmtime import _ffi as ffi

__all__ = ["HostFunction", "define_host_function", "Exports", "instance_exports", "GuestTrap", "call", "call_raw",
           "memory_view", "memory_view_raw", "fuel_left", "set_fuel"]

_RawArgs = ctypes.POINTER(ffi.wasmtime_val_raw_t)
HostFunction = Callable[[_RawArgs], None]
"""A host import: reads its params from args[i].i32 and writes its result into args[0]."""



def _prototype(name: str, restype: type) -> ctypes._CFuncPtr:
    """A fresh ctypes function for a C API symbol: setting its restype leaves wasmtime-py's own untouched."""
    fn = ffi.dll[name]
    fn.restype = restype
    return fn


# wasmtime_error_t *wasmtime_func_call_unchecked(wasmtime_context_t *, const wasmtime_func_t *,
#     wasmtime_val_raw_t *args_and_results, size_t args_and_results_len, wasm_trap_t **trap)
_call_unchecked = _prototype("wasmtime_func_call_unchecked", ctypes.c_void_p)
# uint8_t *wasmtime_memory_data(const wasmtime_context_t *, const wasmtime_memory_t *); size_t ..._size(same)
_memory_data = _prototype("wasmtime_memory_data", ctypes.c_size_t)
_memory_data_size = _prototype("wasmtime_memory_data_size", ctypes.c_size_t)
# wasmtime_error_t *wasmtime_context_get_fuel(const wasmtime_context_t *, uint64_t *fuel); ..._set_fuel(ctx, uint64_t)
_get_fuel = _prototype("wasmtime_context_get_fuel", ctypes.c_void_p)
_set_fuel = _prototype("wasmtime_context_set_fuel", ctypes.c_void_p)
# bool wasmtime_instance_export_get(const wasmtime_context_t *, const wasmtime_instance_t *, const char *name,
#     size_t name_len, wasmtime_extern_t *item)
_export_get = _prototype("wasmtime_instance_export_get", ctypes.c_bool)
_trap_new = _b._wasmtime_trap_new
_byref = ctypes.byref
_SIZES = tuple(ctypes.c_size_t(n) for n in range(8))        # args_and_results_len, prebuilt
_RAW_ARRAYS = tuple(ffi.wasmtime_val_raw_t * n for n in range(8))
_ERROR_P = ctypes.POINTER(ffi.wasmtime_error_t)
_TRAP_P = ctypes.POINTER(ffi.wasm_trap_t)
_ENCODED: dict[str, bytes] = {}
_NO_FINALIZER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(0)
_EXTERN_FUNC = ffi.WASMTIME_EXTERN_FUNC.value
_EXTERN_MEMORY = ffi.WASMTIME_EXTERN_MEMORY.value
_KEEP_ALIVE: list[object] = []  # ctypes callbacks must outlive the linker that holds them


class GuestTrap(Exception):
    """The guest trapped (or a host function raised). ``host_error`` is the host's exception."""

    def __init__(self, message: str, code: wasmtime.TrapCode | None, host_error: BaseException | None):
        super().__init__(message)
        self.code = code
        self.host_error = host_error


# The host exception raised inside the current crossing; wasmtime only sees a trap.
_pending_host_error: list[BaseException | None] = [None]


def define_host_function(linker: wasmtime.Linker, module: str, name: str,
                         ty: wasmtime.FuncType, fn: HostFunction) -> None:
    """Register ``fn`` as an import. Its exceptions become traps and are re-raised by ``call``."""

    def trampoline(_env: int, _caller: object, args: _RawArgs, _nargs: int) -> int:
        try:
            fn(args)
            return 0
        except BaseException as exc:  # noqa: BLE001 - every exception must become a trap
            _pending_host_error[0] = exc
            msg = b"host error"
            trap = _trap_new(msg, len(msg))
            return ctypes.cast(trap, ctypes.c_void_p).value or 0

    callback = ffi.wasmtime_func_unchecked_callback_t(trampoline)
    _KEEP_ALIVE.append(callback)
    mod_b, name_b = module.encode(), name.encode()
    err = _b._wasmtime_linker_define_func_unchecked(
        linker.ptr(), mod_b, len(mod_b), name_b, len(name_b), ty.ptr(), callback, None, _NO_FINALIZER)
    if err:
        raise wasmtime.WasmtimeError._from_ptr(err)


class Exports:
    """Raw handles of the exports a call needs, looked up once per instance."""

    __slots__ = ("funcs", "memory")

    def __init__(self, funcs: dict[str, ffi.wasmtime_func_t], memory: ffi.wasmtime_memory_t | None):
        self.funcs = funcs
        self.memory = memory


def instance_exports(store: wasmtime.Store, instance: wasmtime.Instance, names: tuple[str, ...]) -> Exports:
    """The functions ``names`` (those the instance has) and the memory named "memory".

    Look up only what the call uses: each lookup is a C call (~1.5 µs).
    """
    ctx = store._context()
    funcs: dict[str, ffi.wasmtime_func_t] = {}
    memory = None
    item = ffi.wasmtime_extern_t()
    for name in names + ("memory",):
        raw = _ENCODED.get(name)
        if raw is None:
            raw = _ENCODED.setdefault(name, name.encode())
        if not _export_get(ctx, _byref(instance._instance), raw, ctypes.c_size_t(len(raw)), _byref(item)):
            continue
        if item.kind == _EXTERN_FUNC and name != "memory":
            func = ffi.wasmtime_func_t()
            ctypes.memmove(ctypes.byref(func), ctypes.byref(item.of.func), ctypes.sizeof(func))
            funcs[name] = func
        elif item.kind == _EXTERN_MEMORY and name == "memory":
            memory = ffi.wasmtime_memory_t()
            ctypes.memmove(ctypes.byref(memory), ctypes.byref(item.of.memory), ctypes.sizeof(memory))
    return Exports(funcs, memory)


def memory_view(store: wasmtime.Store, memory: ffi.wasmtime_memory_t) -> tuple[int, int]:
    """(base address, size in bytes) of linear memory now; valid until memory grows."""
    return memory_view_raw(store._context(), memory)


def memory_view_raw(ctx: object, memory: ffi.wasmtime_memory_t) -> tuple[int, int]:
    """``memory_view`` given the store's context pointer (``store._context()``, kept by the caller)."""
    mem = _byref(memory)
    return _memory_data(ctx, mem) or 0, _memory_data_size(ctx, mem)


def fuel_left(ctx: object, buffer: ctypes.c_uint64) -> int:
    """The store's fuel (its context pointer; ``buffer`` is the caller's, reused)."""
    _get_fuel(ctx, _byref(buffer))
    return buffer.value


def set_fuel(ctx: object, fuel: int) -> None:
    """Give the store exactly ``fuel`` (fuel is on in our engine: this cannot fail)."""
    _set_fuel(ctx, ctypes.c_uint64(fuel))


def call(store: wasmtime.Store, func: ffi.wasmtime_func_t, args: tuple[int, ...], results: int) -> int | None:
    """Call a guest function taking and returning i32s (CosmWasm exports only use i32)."""
    return call_raw(store._context(), func, args, results)


def call_raw(ctx: object, func: ffi.wasmtime_func_t, args: tuple[int, ...], results: int) -> int | None:
    """``call`` given the store's context pointer (``store._context()``, kept by the caller)."""
    n = max(len(args), results, 1)
    raw = _RAW_ARRAYS[n]() if n < len(_RAW_ARRAYS) else (ffi.wasmtime_val_raw_t * n)()
    for i, value in enumerate(args):
        raw[i].i32 = value
    trap = ctypes.c_void_p()
    _pending_host_error[0] = None
    err = _call_unchecked(ctx, _byref(func), raw, _SIZES[n] if n < len(_SIZES) else ctypes.c_size_t(n),
                          _byref(trap))
    if err:  # a host function's trap comes back as an error, not as a trap
        host_error, _pending_host_error[0] = _pending_host_error[0], None
        raise GuestTrap(str(wasmtime.WasmtimeError._from_ptr(ctypes.cast(err, _ERROR_P))), None, host_error)
    if trap.value:
        host_error, _pending_host_error[0] = _pending_host_error[0], None
        trap_obj = wasmtime.Trap._from_ptr(ctypes.cast(trap.value, _TRAP_P))
        code = trap_obj.trap_code
        raise GuestTrap(trap_obj.message, code, host_error)
    return raw[0].i32 if results else None
