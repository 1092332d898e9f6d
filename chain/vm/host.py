"""The CosmWasm imports (module "env") and the per-call context they act on.

A call gets a fresh store and instance plus a ``CallContext`` holding the contract's storage
view, the querier, the address rules and the gas meter. Every import reads and writes guest
memory only through Regions (12-byte {offset, capacity, length} records, little-endian),
checked exactly as cosmwasm-vm checks them, and charges gas before doing work. An import that
finds the ABI broken raises ``VmError``: the call fails with that message; the host survives.
"""
from __future__ import annotations

import ctypes
import json
import struct
from typing import Callable

import wasmtime

from . import rawcall, signatures
from .backend import AddressApi, Querier, Storage
from .errors import ContractTrap, OutOfGas, VmError
from .gas import HOST_COSTS, STORAGE_COSTS, GasMeter, fuel_for_sdk_gas, fuel_for_wasm_gas

# Size limits (cosmwasm-vm imports.rs)
MAX_LENGTH_DB_KEY = 64 * 1024
MAX_LENGTH_DB_VALUE = 128 * 1024
MAX_LENGTH_CANONICAL_ADDRESS = 64
MAX_LENGTH_HUMAN_ADDRESS = 256
MAX_LENGTH_QUERY_CHAIN_REQUEST = 64 * 1024
MAX_LENGTH_DEBUG = 2 * 1024 * 1024
MAX_LENGTH_ABORT = 2 * 1024 * 1024
MAX_LENGTH_ED25519_MESSAGE = 128 * 1024
MAX_LENGTH_ED25519_SIGNATURE = 64
MAX_LENGTH_ED25519_PUBKEY = 32
MAX_LENGTH_ECDSA_HASH = 32
MAX_LENGTH_ECDSA_SIGNATURE = 64
MAX_LENGTH_ECDSA_PUBKEY = 65
MAX_LENGTH_BLS_INPUT = 2 * 1024 * 1024
MAX_OPEN_ITERATORS = 1024       # ours: bounds host memory per call (cosmwasm relies on gas alone)
MAX_QUERY_DEPTH = 10            # wasmd: nested smart queries

ORDER_ASCENDING, ORDER_DESCENDING = 1, 2
_REGION = struct.Struct("<III")
_U32_MAX = 0xFFFFFFFF
_string_at = ctypes.string_at
_memmove = ctypes.memmove
_fuel_left = rawcall.fuel_left
_set_fuel = rawcall.set_fuel


class _Iterator:
    __slots__ = ("start", "end", "descending", "last", "done")

    def __init__(self, start: bytes | None, end: bytes | None, descending: bool):
        self.start, self.end, self.descending = start, end, descending
        self.last: bytes | None = None
        self.done = False


class CallContext:
    """Everything one contract call's imports act on."""

    __slots__ = ("store", "context_ptr", "exports", "memory", "allocate", "storage", "querier", "api",
                 "meter", "read_only", "query_depth", "iterators", "debug_handler", "_fuel_buf",
                 "fuel_start")

    def __init__(self, store: wasmtime.Store, storage: Storage, querier: Querier, api: AddressApi,
                 meter: GasMeter, read_only: bool, query_depth: int,
                 debug_handler: Callable[[str], None] | None):
        self.store = store
        self.context_ptr = store._context()
        self.exports: rawcall.Exports | None = None
        self.memory = None
        self.allocate = None
        self.storage = storage
        self.querier = querier
        self.api = api
        self.meter = meter
        self.read_only = read_only
        self.query_depth = query_depth
        self.iterators: list[_Iterator] = []
        self.debug_handler = debug_handler
        self._fuel_buf = ctypes.c_uint64()
        self.fuel_start = 0

    # --- fuel -----------------------------------------------------------------------------
    def fuel_left(self) -> int:
        return _fuel_left(self.context_ptr, self._fuel_buf)

    def charge(self, fuel: int) -> None:
        """Take ``fuel`` from the running store; out of gas ends the call."""
        left = self.fuel_left()
        if fuel > left:
            _set_fuel(self.context_ptr, 0)
            raise OutOfGas()
        _set_fuel(self.context_ptr, left - fuel)

    def charge_wasm_gas(self, wasm_gas: int) -> None:
        self.charge(fuel_for_wasm_gas(wasm_gas))

    def charge_sdk_gas(self, sdk_gas: int) -> None:
        self.charge(fuel_for_sdk_gas(sdk_gas))

    def settle(self) -> None:
        """Move what the store burnt since the last settle onto the meter."""
        left = self.fuel_left()
        self.meter.used += self.fuel_start - left
        self.fuel_start = left

    def resume(self) -> None:
        """After nested work consumed meter gas, give the store what the meter has left."""
        left = self.meter.remaining
        _set_fuel(self.context_ptr, left)
        self.fuel_start = left

    # --- regions --------------------------------------------------------------------------
    def _view(self) -> tuple[int, int]:
        return rawcall.memory_view_raw(self.context_ptr, self.memory)

    def _region(self, ptr: int, base: int, size: int) -> tuple[int, int, int]:
        ptr &= _U32_MAX
        if ptr == 0 or ptr + 12 > size:
            raise VmError(f"region pointer {ptr:#x} is outside guest memory")
        offset, capacity, length = _REGION.unpack(_string_at(base + ptr, 12))
        if offset == 0:
            raise VmError("region has a zero offset")
        if length > capacity:
            raise VmError(f"region length {length} exceeds its capacity {capacity}")
        if capacity > _U32_MAX - offset:
            raise VmError("region offset + capacity overflows u32")
        return offset, capacity, length

    def read_region(self, ptr: int, max_length: int) -> bytes:
        base, size = self._view()
        offset, _capacity, length = self._region(ptr, base, size)
        if length > max_length:
            raise VmError(f"region length {length} exceeds the limit of {max_length} bytes")
        if offset + length > size:
            raise VmError("region data lies outside guest memory")
        return _string_at(base + offset, length)

    def write_region(self, ptr: int, data: bytes) -> None:
        base, size = self._view()
        offset, capacity, _length = self._region(ptr, base, size)
        if len(data) > capacity:
            raise VmError(f"region too small: {capacity} bytes for {len(data)}")
        if offset + len(data) > size:
            raise VmError("region data lies outside guest memory")
        _memmove(base + offset, data, len(data))
        _memmove(base + (ptr & _U32_MAX) + 8, struct.pack("<I", len(data)), 4)

    def allocate_region(self, data: bytes) -> int:
        """Ask the guest for a region, fill it, return its pointer (the guest owns it)."""
        ptr = rawcall.call_raw(self.context_ptr, self.allocate, (len(data),), 1)
        self.write_region(ptr, data)
        return ptr & _U32_MAX

    def read_charged(self, ptr: int, max_length: int) -> bytes:
        data = self.read_region(ptr, max_length)
        self.charge_wasm_gas(HOST_COSTS.read_region_base + HOST_COSTS.read_region_per_byte * len(data))
        return data

    def write_charged(self, data: bytes) -> int:
        self.charge_wasm_gas(HOST_COSTS.write_region_base + HOST_COSTS.write_region_per_byte * len(data))
        return self.allocate_region(data)


# --- the imports -----------------------------------------------------------------------------
# Each takes the active context and the raw argument array, and writes its result to args[0].

def _key(ctx: CallContext, ptr: int) -> bytes:
    key = ctx.read_charged(ptr, MAX_LENGTH_DB_KEY)
    if not key:  # cosmos-sdk's stores refuse empty keys (AssertValidKey)
        raise VmError("storage key must not be empty")
    return key


def db_read(ctx: CallContext, args) -> None:
    ctx.charge_wasm_gas(HOST_COSTS.host_call)
    key = _key(ctx, args[0].i32)
    value = ctx.storage.get(key)
    ctx.charge_sdk_gas(STORAGE_COSTS.read_flat + STORAGE_COSTS.read_per_byte * (len(key) + len(value or b"")))
    args[0].i32 = 0 if value is None else ctx.write_charged(value)


def _refuse_in_query(ctx: CallContext, what: str) -> None:
    if ctx.read_only:
        raise VmError(f"{what} is not allowed: storage is read-only during a query")


def db_write(ctx: CallContext, args) -> None:
    ctx.charge_wasm_gas(HOST_COSTS.host_call)
    _refuse_in_query(ctx, "db_write")
    key = _key(ctx, args[0].i32)
    value = ctx.read_charged(args[1].i32, MAX_LENGTH_DB_VALUE)
    ctx.charge_sdk_gas(STORAGE_COSTS.write_flat + STORAGE_COSTS.write_per_byte * (len(key) + len(value)))
    ctx.storage.set(key, value)


def db_remove(ctx: CallContext, args) -> None:
    ctx.charge_wasm_gas(HOST_COSTS.host_call)
    _refuse_in_query(ctx, "db_remove")
    key = _key(ctx, args[0].i32)
    ctx.charge_sdk_gas(STORAGE_COSTS.delete)
    ctx.storage.delete(key)


def db_scan(ctx: CallContext, args) -> None:
    ctx.charge_wasm_gas(HOST_COSTS.host_call)
    start_ptr, end_ptr, order = args[0].i32, args[1].i32, args[2].i32
    start = ctx.read_charged(start_ptr, MAX_LENGTH_DB_KEY) if start_ptr else None
    end = ctx.read_charged(end_ptr, MAX_LENGTH_DB_KEY) if end_ptr else None
    if order not in (ORDER_ASCENDING, ORDER_DESCENDING):
        raise VmError(f"invalid iteration order {order}: expected 1 (ascending) or 2 (descending)")
    if len(ctx.iterators) >= MAX_OPEN_ITERATORS:
        raise VmError(f"too many open iterators (limit {MAX_OPEN_ITERATORS})")
    ctx.iterators.append(_Iterator(start, end, order == ORDER_DESCENDING))
    args[0].i32 = len(ctx.iterators)  # ids count from 1


def _advance(ctx: CallContext, iterator_id: int) -> tuple[bytes, bytes] | None:
    ctx.charge_wasm_gas(HOST_COSTS.host_call)
    iterator_id &= _U32_MAX
    if not 0 < iterator_id <= len(ctx.iterators):
        raise VmError(f"iterator {iterator_id} does not exist")
    it = ctx.iterators[iterator_id - 1]
    if it.done:
        ctx.charge_sdk_gas(STORAGE_COSTS.iter_next_flat)
        return None
    item = ctx.storage.next_item(it.start, it.end, it.descending, it.last)
    if item is None:
        it.done = True
        ctx.charge_sdk_gas(STORAGE_COSTS.iter_next_flat)
        return None
    it.last = item[0]
    ctx.charge_sdk_gas(STORAGE_COSTS.iter_next_flat + STORAGE_COSTS.read_per_byte * (len(item[0]) + len(item[1])))
    return item


def encode_sections(parts: list[bytes]) -> bytes:
    """cosmwasm-vm sections: each part followed by its length as u32 big-endian."""
    return b"".join(part + struct.pack(">I", len(part)) for part in parts)


def decode_sections(data: bytes) -> list[bytes]:
    parts: list[bytes] = []
    end = len(data)
    while end > 0:
        if end < 4:
            raise VmError("malformed section encoding")
        (length,) = struct.unpack(">I", data[end - 4:end])
        start = end - 4 - length
        if start < 0:
            raise VmError("malformed section encoding")
        parts.append(data[start:end - 4])
        end = start
    parts.reverse()
    return parts


def db_next(ctx: CallContext, args) -> None:
    item = _advance(ctx, args[0].i32)
    key, value = item if item is not None else (b"", b"")
    args[0].i32 = ctx.write_charged(encode_sections([key, value]))


def db_next_key(ctx: CallContext, args) -> None:
    item = _advance(ctx, args[0].i32)
    args[0].i32 = 0 if item is None else ctx.write_charged(item[0])


def db_next_value(ctx: CallContext, args) -> None:
    item = _advance(ctx, args[0].i32)
    args[0].i32 = 0 if item is None else ctx.write_charged(item[1])


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


def addr_validate(ctx: CallContext, args) -> None:
    ctx.charge_wasm_gas(HOST_COSTS.host_call + HOST_COSTS.addr_validate)
    source = ctx.read_charged(args[0].i32, MAX_LENGTH_HUMAN_ADDRESS)
    human = _utf8(source)
    error = None
    if not source:
        error = "Input is empty"
    elif human is None:
        error = "Input is not valid UTF-8"
    else:
        try:
            if ctx.api.humanize(ctx.api.canonicalize(human)) != human:
                error = "Address is not normalized"
        except ValueError as exc:
            error = str(exc)
    args[0].i32 = 0 if error is None else ctx.write_charged(error.encode())


def addr_canonicalize(ctx: CallContext, args) -> None:
    ctx.charge_wasm_gas(HOST_COSTS.host_call + HOST_COSTS.addr_canonicalize)
    source = ctx.read_charged(args[0].i32, MAX_LENGTH_HUMAN_ADDRESS)
    destination = args[1].i32
    human = _utf8(source)
    if not source:
        args[0].i32 = ctx.write_charged(b"Input is empty")
        return
    if human is None:
        args[0].i32 = ctx.write_charged(b"Input is not valid UTF-8")
        return
    try:
        canonical = ctx.api.canonicalize(human)
    except ValueError as exc:
        args[0].i32 = ctx.write_charged(str(exc).encode())
        return
    ctx.write_region(destination, canonical)
    args[0].i32 = 0


def addr_humanize(ctx: CallContext, args) -> None:
    ctx.charge_wasm_gas(HOST_COSTS.host_call + HOST_COSTS.addr_humanize)
    source = ctx.read_charged(args[0].i32, MAX_LENGTH_CANONICAL_ADDRESS)
    destination = args[1].i32
    try:
        human = ctx.api.humanize(source)
    except ValueError as exc:
        args[0].i32 = ctx.write_charged(str(exc).encode())
        return
    ctx.write_region(destination, human.encode())
    args[0].i32 = 0


def _verify_result(check: Callable[[], bool]) -> int:
    try:
        return 0 if check() else 1
    except signatures.CryptoFailure as failure:
        return failure.code


def _verify(ctx: CallContext, args, cost: int, limits: tuple[int, int, int],
            check: Callable[[bytes, bytes, bytes], bool]) -> None:
    """The shape shared by the three-region signature checks: 0 valid, 1 invalid, else an error code."""
    ctx.charge_wasm_gas(HOST_COSTS.host_call + cost)
    a, b, c = (ctx.read_charged(args[i].i32, limits[i]) for i in range(3))
    args[0].i32 = _verify_result(lambda: check(a, b, c))


_ECDSA_LIMITS = (MAX_LENGTH_ECDSA_HASH, MAX_LENGTH_ECDSA_SIGNATURE, MAX_LENGTH_ECDSA_PUBKEY)


def secp256k1_verify(ctx: CallContext, args) -> None:
    _verify(ctx, args, HOST_COSTS.secp256k1_verify, _ECDSA_LIMITS, signatures.secp256k1_verify)


def secp256r1_verify(ctx: CallContext, args) -> None:
    _verify(ctx, args, HOST_COSTS.secp256r1_verify, _ECDSA_LIMITS, signatures.secp256r1_verify)


def _recover(ctx: CallContext, args, cost: int, recover: Callable[[bytes, bytes, int], bytes]) -> None:
    ctx.charge_wasm_gas(HOST_COSTS.host_call + cost)
    h = ctx.read_charged(args[0].i32, MAX_LENGTH_ECDSA_HASH)
    sig = ctx.read_charged(args[1].i32, MAX_LENGTH_ECDSA_SIGNATURE)
    param = args[2].i32 & _U32_MAX
    try:
        pubkey = recover(h, sig, param)
    except signatures.CryptoFailure as failure:
        args[0].i64 = failure.code << 32
        return
    args[0].i64 = ctx.write_charged(pubkey)


def secp256k1_recover_pubkey(ctx: CallContext, args) -> None:
    _recover(ctx, args, HOST_COSTS.secp256k1_recover_pubkey, signatures.secp256k1_recover_pubkey)


def secp256r1_recover_pubkey(ctx: CallContext, args) -> None:
    _recover(ctx, args, HOST_COSTS.secp256r1_recover_pubkey, signatures.secp256r1_recover_pubkey)


def ed25519_verify(ctx: CallContext, args) -> None:
    _verify(ctx, args, HOST_COSTS.ed25519_verify,
            (MAX_LENGTH_ED25519_MESSAGE, MAX_LENGTH_ED25519_SIGNATURE, MAX_LENGTH_ED25519_PUBKEY),
            signatures.ed25519_verify)


def ed25519_batch_verify(ctx: CallContext, args) -> None:
    n = signatures.MAX_ED25519_BATCH
    msgs = decode_sections(ctx.read_charged(args[0].i32, (MAX_LENGTH_ED25519_MESSAGE + 4) * n))
    sigs = decode_sections(ctx.read_charged(args[1].i32, (MAX_LENGTH_ED25519_SIGNATURE + 4) * n))
    keys = decode_sections(ctx.read_charged(args[2].i32, (MAX_LENGTH_ED25519_PUBKEY + 4) * n))
    ctx.charge_wasm_gas(HOST_COSTS.host_call + HOST_COSTS.ed25519_batch_verify_base
                        + HOST_COSTS.ed25519_batch_verify_per_sig * len(sigs))
    args[0].i32 = _verify_result(lambda: signatures.ed25519_batch_verify(msgs, sigs, keys))


def bls12_381_unsupported(ctx: CallContext, args) -> None:
    """Linked so contracts declaring BLS instantiate; answers GenericErr until a library is chosen."""
    ctx.charge_wasm_gas(HOST_COSTS.host_call + HOST_COSTS.bls12_381_base)
    args[0].i32 = signatures.GENERIC_ERR


def debug(ctx: CallContext, args) -> None:
    ctx.charge_wasm_gas(HOST_COSTS.host_call)
    message = ctx.read_region(args[0].i32, MAX_LENGTH_DEBUG)
    if ctx.debug_handler is not None:
        ctx.debug_handler(message.decode(errors="replace"))


def abort(ctx: CallContext, args) -> None:
    message = ctx.read_region(args[0].i32, MAX_LENGTH_ABORT)
    raise ContractTrap(f"aborted: {message.decode(errors='replace')}")


def query_chain(ctx: CallContext, args) -> None:
    ctx.charge_wasm_gas(HOST_COSTS.host_call)
    request = ctx.read_charged(args[0].i32, MAX_LENGTH_QUERY_CHAIN_REQUEST)
    if ctx.query_depth >= MAX_QUERY_DEPTH:
        answer = json.dumps({"ok": {"error": f"query depth limit ({MAX_QUERY_DEPTH}) exceeded"}}).encode()
    else:
        ctx.settle()
        try:
            answer = ctx.querier.query(request, ctx.meter, ctx.query_depth + 1)
        finally:
            ctx.resume()
    args[0].i32 = ctx.write_charged(answer)


I32, I64 = wasmtime.ValType.i32(), wasmtime.ValType.i64()

# name -> (number of i32 params, result types, implementation)
IMPORTS: dict[str, tuple[int, list[wasmtime.ValType], Callable[[CallContext, object], None]]] = {
    "db_read": (1, [I32], db_read),
    "db_write": (2, [], db_write),
    "db_remove": (1, [], db_remove),
    "db_scan": (3, [I32], db_scan),
    "db_next": (1, [I32], db_next),
    "db_next_key": (1, [I32], db_next_key),
    "db_next_value": (1, [I32], db_next_value),
    "addr_validate": (1, [I32], addr_validate),
    "addr_canonicalize": (2, [I32], addr_canonicalize),
    "addr_humanize": (2, [I32], addr_humanize),
    "secp256k1_verify": (3, [I32], secp256k1_verify),
    "secp256k1_recover_pubkey": (3, [I64], secp256k1_recover_pubkey),
    "secp256r1_verify": (3, [I32], secp256r1_verify),
    "secp256r1_recover_pubkey": (3, [I64], secp256r1_recover_pubkey),
    "ed25519_verify": (3, [I32], ed25519_verify),
    "ed25519_batch_verify": (3, [I32], ed25519_batch_verify),
    "bls12_381_aggregate_g1": (2, [I32], bls12_381_unsupported),
    "bls12_381_aggregate_g2": (2, [I32], bls12_381_unsupported),
    "bls12_381_pairing_equality": (4, [I32], bls12_381_unsupported),
    "bls12_381_hash_to_g1": (4, [I32], bls12_381_unsupported),
    "bls12_381_hash_to_g2": (4, [I32], bls12_381_unsupported),
    "debug": (1, [], debug),
    "abort": (1, [], abort),
    "query_chain": (1, [I32], query_chain),
}
