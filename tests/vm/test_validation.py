"""Static validation of uploaded contracts (chain/vm/validation.py, chain/vm/wasm_binary.py).

Modules are written in WAT and assembled with wasmtime.wat2wasm; a contract-shaped module
(one memory, interface_version_8, allocate, deallocate, instantiate) is varied one rule at a
time. Shapes WAT cannot express (huge local counts, bad section order) are built byte by byte.
"""
from __future__ import annotations

import glob
import gzip
import hashlib
import os
import tracemalloc
import zlib

import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.vm.validation import (
    DEFAULT_CAPABILITIES,
    MAX_UNCOMPRESSED_SIZE,
    MAX_WASM_SIZE,
    SUPPORTED_IMPORTS,
    InvalidWasm,
    WasmReport,
    check_wasm,
    maybe_gunzip,
)
from chain.vm.wasm_binary import FunctionBody, MalformedWasm, find_unsupported_instruction, parse_module

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# --------------------------------------------------------------------------------------------
# Building modules


def contract_wat(
    *,
    imports: str = "",
    memory: str = "(memory 1)",
    marker: str = "interface_version_8",
    allocate: bool = True,
    deallocate: bool = True,
    extra: str = "",
) -> str:
    """A minimal CosmWasm-shaped module in WAT; each keyword varies one part of it."""
    return f"""
    (module
      {imports}
      {memory}
      {f'(func (export "{marker}"))' if marker else ''}
      {'(func (export "allocate") (param i32) (result i32) local.get 0)' if allocate else ''}
      {'(func (export "deallocate") (param i32))' if deallocate else ''}
      (func (export "instantiate") (param i32 i32 i32) (result i32) i32.const 0)
      {extra}
    )
    """


def contract(**parts: object) -> bytes:
    return wasmtime.wat2wasm(contract_wat(**parts))  # type: ignore[arg-type]


def rejected(wasm: bytes, capabilities: frozenset[str] = DEFAULT_CAPABILITIES) -> str:
    """check_wasm's refusal message (the test fails if the module is accepted)."""
    with pytest.raises(InvalidWasm) as caught:
        check_wasm(wasm, capabilities)
    return str(caught.value)


def leb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def vec(items: list[bytes]) -> bytes:
    return leb(len(items)) + b"".join(items)


def name(text: str) -> bytes:
    return leb(len(text.encode())) + text.encode()


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + leb(len(payload)) + payload


HEADER = b"\x00asm\x01\x00\x00\x00"
FUNC = 0x00


def handmade_contract(body: bytes = b"\x00\x0b", memories: bytes = b"\x01\x00\x01") -> bytes:
    """A contract whose every function has type () -> () and the given body (locals + code):
    interface_version_8, allocate, deallocate. Only static checks look at it."""
    exports = [name(n) + bytes([FUNC]) + leb(i) for i, n in
               enumerate(["interface_version_8", "allocate", "deallocate"])]
    return HEADER + b"".join([
        section(1, vec([b"\x60\x00\x00"])),
        section(3, vec([b"\x00"] * 3)),
        section(5, memories),
        section(7, vec(exports)),
        section(10, vec([leb(len(body)) + body] * 3)),
    ])


def parse_only(wasm: bytes) -> str:
    """The message of a structural refusal, before any check of content."""
    with pytest.raises(InvalidWasm) as caught:
        check_wasm(wasm)
    message = str(caught.value)
    assert message.startswith("not a valid WebAssembly module"), message
    return message


# --------------------------------------------------------------------------------------------
# The baseline


def test_minimal_contract_passes_with_a_full_report() -> None:
    wasm = contract(imports='(import "env" "db_read" (func (param i32) (result i32)))')
    report = check_wasm(wasm)
    assert isinstance(report, WasmReport)
    assert report.wasm == wasm
    assert report.checksum == hashlib.sha256(wasm).hexdigest()
    assert report.exports == {"interface_version_8", "allocate", "deallocate", "instantiate"}
    assert report.imports == ("db_read",)
    assert report.function_count == 4
    assert report.entry_points == {"instantiate"}
    assert report.migrate_arity is None
    assert report.required_capabilities == frozenset()


def test_all_supported_imports_with_cosmwasm_signatures_pass() -> None:
    i32 = "i32"
    signatures = {
        "db_read": (1, i32), "db_write": (2, None), "db_remove": (1, None), "db_scan": (3, i32),
        "db_next": (1, i32), "db_next_key": (1, i32), "db_next_value": (1, i32),
        "addr_validate": (1, i32), "addr_canonicalize": (2, i32), "addr_humanize": (2, i32),
        "secp256k1_verify": (3, i32), "secp256k1_recover_pubkey": (3, "i64"),
        "secp256r1_verify": (3, i32), "secp256r1_recover_pubkey": (3, "i64"),
        "ed25519_verify": (3, i32), "ed25519_batch_verify": (3, i32),
        "bls12_381_aggregate_g1": (2, i32), "bls12_381_aggregate_g2": (2, i32),
        "bls12_381_pairing_equality": (4, i32), "bls12_381_hash_to_g1": (4, i32),
        "bls12_381_hash_to_g2": (4, i32), "debug": (1, None), "abort": (1, None),
        "query_chain": (1, i32),
    }
    assert set(signatures) == SUPPORTED_IMPORTS
    imports = "\n".join(
        f'(import "env" "{n}" (func (param {" ".join(["i32"] * arity)}){f" (result {r})" if r else ""}))'
        for n, (arity, r) in signatures.items()
    )
    report = check_wasm(contract(imports=imports))
    assert report.imports == tuple(signatures)


def test_entry_points_and_migrate_arity_are_reported() -> None:
    extra = """
      (func (export "execute") (param i32 i32 i32) (result i32) i32.const 0)
      (func (export "query") (param i32 i32) (result i32) i32.const 0)
      (func (export "sudo") (param i32 i32) (result i32) i32.const 0)
      (func (export "reply") (param i32 i32) (result i32) i32.const 0)
      (func (export "ibc_channel_open") (param i32 i32) (result i32) i32.const 0)
      (func (export "migrate") (param i32 i32 i32) (result i32) i32.const 0)
      (func (export "helper"))
    """
    report = check_wasm(contract(extra=extra))
    assert report.entry_points == {
        "instantiate", "execute", "query", "sudo", "reply", "ibc_channel_open", "migrate",
    }
    assert report.migrate_arity == 3
    two = '(func (export "migrate") (param i32 i32) (result i32) i32.const 0)'
    assert check_wasm(contract(extra=two)).migrate_arity == 2


def test_migrate_with_wrong_arity_is_refused() -> None:
    message = rejected(contract(extra='(func (export "migrate") (param i32) (result i32) i32.const 0)'))
    assert "migrate export takes 1 parameters" in message
    assert "2 (env, msg) or 3 (env, msg, migrate_info)" in message


def test_start_function_is_allowed_as_in_cosmwasm() -> None:
    check_wasm(contract(extra="(func $init) (start $init)"))


# --------------------------------------------------------------------------------------------
# Size and gzip


def test_empty_upload_is_refused() -> None:
    assert rejected(b"") == "the wasm code is empty"


def test_ten_megabyte_upload_is_refused_by_size() -> None:
    message = rejected(HEADER + bytes(10 * 1024 * 1024))
    assert f"the limit is {MAX_WASM_SIZE} bytes" in message
    assert str(10 * 1024 * 1024 + 8) in message


def test_gzip_upload_is_inflated_and_keyed_by_the_inflated_bytes() -> None:
    wasm = contract()
    report = check_wasm(gzip.compress(wasm))
    assert report.wasm == wasm
    assert report.checksum == hashlib.sha256(wasm).hexdigest()


def _gzip_of_zeros(size: int) -> bytes:
    """Gzip `size` zero bytes without holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    return b"".join(parts) + compressor.flush()


def test_gzip_bomb_is_refused_without_inflating_it_all() -> None:
    bomb = _gzip_of_zeros(200 * 1024 * 1024)  # 200 MiB of zeros in ~200 KB
    assert len(bomb) < MAX_WASM_SIZE
    tracemalloc.start()
    try:
        message = rejected(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"inflates to more than {MAX_WASM_SIZE} bytes" in message
    assert peak < 4 * MAX_WASM_SIZE  # a few output buffers, never the 200 MiB


def test_module_larger_than_the_limit_once_inflated_is_refused() -> None:
    padded = contract() + section(0, name("padding") + bytes(MAX_WASM_SIZE))
    message = rejected(gzip.compress(padded))
    assert f"the limit is {MAX_WASM_SIZE} bytes" in message


def test_maybe_gunzip_leaves_plain_wasm_alone_and_caps_output() -> None:
    wasm = contract()
    assert maybe_gunzip(wasm) is wasm
    assert maybe_gunzip(_gzip_of_zeros(2 * 1024 * 1024)) == bytes(2 * 1024 * 1024)
    with pytest.raises(InvalidWasm, match=f"the limit is {MAX_UNCOMPRESSED_SIZE} bytes"):
        maybe_gunzip(_gzip_of_zeros(4 * 1024 * 1024))


def test_corrupt_truncated_or_padded_gzip_is_refused() -> None:
    packed = gzip.compress(contract())
    assert "truncated" in rejected(packed[:-10])
    assert "corrupt" in rejected(packed[:20] + bytes(len(packed) - 20))
    assert "after the gzip data" in rejected(packed + b"junk")


# --------------------------------------------------------------------------------------------
# Not a module at all


@pytest.mark.parametrize("garbage", [
    b"\x00", b"hello world", b"\x00asm", b"\x7fELF\x02\x01\x01\x00" + bytes(100), bytes(64),
])
def test_garbage_is_refused(garbage: bytes) -> None:
    assert "not a WebAssembly module" in parse_only(garbage)


def test_wrong_binary_version_is_refused() -> None:
    assert "unsupported WebAssembly binary version 02000000" in parse_only(b"\x00asm\x02\x00\x00\x00")


def test_every_truncated_prefix_of_a_valid_module_is_refused() -> None:
    wasm = contract(extra='(func (export "query") (param i32 i32) (result i32) i32.const 0)')
    check_wasm(wasm)
    for length in range(1, len(wasm)):
        with pytest.raises(InvalidWasm):
            check_wasm(wasm[:length])


def test_sections_out_of_order_duplicated_or_unknown_are_refused() -> None:
    types = section(1, vec([b"\x60\x00\x00"]))
    memory = section(5, b"\x01\x00\x01")
    assert "out of order" in parse_only(HEADER + memory + types)
    assert "duplicated or out of order" in parse_only(HEADER + types + types)
    assert "unknown section id 14" in parse_only(HEADER + section(14, b""))
    assert "trailing bytes" in parse_only(HEADER + section(5, b"\x01\x00\x01\x00"))
    assert "runs past the end" in parse_only(HEADER + b"\x01\x7f\x00")


def test_malformed_integers_and_names_are_refused() -> None:
    too_long = b"\x80\x80\x80\x80\x80\x00"
    assert "too long" in parse_only(HEADER + b"\x05" + too_long)
    assert "too large for 32 bits" in parse_only(HEADER + section(5, b"\x01\x00\x80\x80\x80\x80\x10"))
    bad_utf8 = section(7, vec([leb(2) + b"\xff\xfe" + b"\x00\x00"]))
    assert "not valid UTF-8" in parse_only(HEADER + bad_utf8)


def test_function_and_code_counts_must_agree() -> None:
    wasm = HEADER + section(1, vec([b"\x60\x00\x00"])) + section(3, vec([b"\x00"] * 2))
    assert "declares 2 functions but the code section has 0 bodies" in parse_only(wasm)


def test_function_using_an_unknown_type_is_refused() -> None:
    wasm = HEADER + section(1, vec([b"\x60\x00\x00"])) + section(3, vec([b"\x05"]))
    assert "unknown type index 5" in parse_only(wasm)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_only_ever_raise_invalid_wasm(data: bytes) -> None:
    with pytest.raises(InvalidWasm):
        check_wasm(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_after_the_header_only_ever_raise_invalid_wasm(data: bytes) -> None:
    try:
        check_wasm(HEADER + data)
    except InvalidWasm:
        pass


_FUZZ_BASE = wasmtime.wat2wasm(contract_wat(
    imports='(import "env" "db_read" (func (param i32) (result i32)))',
    memory="(memory 1) (table 2 2 funcref)",
    extra="""
      (func (export "query") (param i32 i32) (result i32) (local i64 f64)
        (block (result i32)
          local.get 0 i32.const 253 i32.add
          local.get 1 br_table 0 0 0)
        f64.const 1.5 i64.const -1 drop drop
        local.get 0 i32.load offset=8 i32.extend8_s drop)
    """,
))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_FUZZ_BASE) - 1), st.integers(0, 255)), min_size=1, max_size=6))
def test_mutated_modules_are_accepted_or_refused_but_never_crash(edits: list[tuple[int, int]]) -> None:
    data = bytearray(_FUZZ_BASE)
    for position, value in edits:
        data[position] = value
    try:
        check_wasm(bytes(data))
    except InvalidWasm:
        pass


@settings(max_examples=500, deadline=None)
@given(st.binary(min_size=1, max_size=64))
def test_instruction_decoder_only_ever_raises_malformed_wasm(code: bytes) -> None:
    try:
        find_unsupported_instruction(code, FunctionBody(0, len(code), 0))
    except MalformedWasm:
        pass


# --------------------------------------------------------------------------------------------
# Memory and tables


def test_no_memory_is_refused() -> None:
    assert "must define exactly one memory; it defines 0" in rejected(contract(memory=""))


def test_two_memories_are_refused() -> None:
    assert "must define exactly one memory; it defines 2" in rejected(contract(memory="(memory 1) (memory 1)"))
    handmade = handmade_contract(memories=b"\x02\x00\x01\x00\x01")
    assert "it defines 2" in rejected(handmade)


def test_imported_memory_is_refused() -> None:
    message = rejected(contract(imports='(import "env" "memory" (memory 1))', memory=""))
    assert "imports its memory (env.memory)" in message


def test_initial_memory_above_512_pages_is_refused() -> None:
    check_wasm(contract(memory="(memory 512)"))
    message = rejected(contract(memory="(memory 513)"))
    assert "initial memory of 513 pages exceeds the limit of 512 pages" in message


def test_declared_memory_maximum_is_refused() -> None:
    message = rejected(contract(memory="(memory 1 16)"))
    assert "must not declare a maximum; the host sets the limit" in message


def test_shared_memory_is_refused() -> None:
    assert "shared memories" in parse_only(contract(memory="(memory 1 1 shared)"))


def test_one_bounded_table_is_allowed() -> None:
    check_wasm(contract(extra="(table 3 2500 funcref)"))


def test_unbounded_table_is_refused() -> None:
    assert "table must declare a maximum size (at most 2500 elements)" in rejected(contract(extra="(table 1 funcref)"))
    assert "must declare a maximum" in rejected(contract(extra="(table 3000 funcref)"))


def test_table_above_2500_elements_is_refused() -> None:
    message = rejected(contract(extra="(table 1 2501 funcref)"))
    assert "table maximum of 2501 elements exceeds the limit of 2500" in message


def test_two_tables_are_refused() -> None:
    message = rejected(contract(extra="(table 1 1 funcref) (table 1 1 funcref)"))
    assert "defines 2 tables; at most 1 is allowed" in message


# --------------------------------------------------------------------------------------------
# Exports


def test_missing_interface_version_is_refused() -> None:
    message = rejected(contract(marker=""))
    assert message == "missing interface_version_8 export: not a CosmWasm 2.x contract"


@pytest.mark.parametrize("old", ["interface_version_5", "interface_version_6", "interface_version_7"])
def test_old_interface_versions_are_refused_with_upgrade_advice(old: str) -> None:
    message = rejected(contract(marker=old))
    assert old in message
    assert "upgrade cosmwasm-std" in message


def test_unknown_interface_version_is_refused() -> None:
    message = rejected(contract(marker="interface_version_9"))
    assert "unknown interface version marker export 'interface_version_9'" in message


def test_two_interface_versions_are_refused() -> None:
    message = rejected(contract(extra='(func (export "interface_version_7"))'))
    assert "more than one interface version marker export: interface_version_7, interface_version_8" in message


def test_interface_version_must_be_a_function_export() -> None:
    wasm = contract(marker="", extra='(global (export "interface_version_8") i32 (i32.const 0))')
    assert "missing interface_version_8 export" in rejected(wasm)


@pytest.mark.parametrize("missing", ["allocate", "deallocate"])
def test_required_exports_are_enforced(missing: str) -> None:
    message = rejected(contract(**{missing: False}))
    assert f"missing required export '{missing}'" in message


# --------------------------------------------------------------------------------------------
# Imports


def test_unsupported_import_names_itself() -> None:
    message = rejected(contract(imports='(import "env" "launch_missiles" (func (param i32)))'))
    assert 'unsupported import "env.launch_missiles"' in message
    assert "env.db_read" in message  # the list of what the chain provides


def test_import_from_another_module_is_refused() -> None:
    message = rejected(contract(imports='(import "wasi_snapshot_preview1" "fd_write" (func (param i32)))'))
    assert 'unsupported import "wasi_snapshot_preview1.fd_write"' in message


def test_non_function_import_is_refused() -> None:
    message = rejected(contract(imports='(import "env" "db_read" (global i32))'))
    assert 'non-function import "env.db_read" (global)' in message


def test_too_many_imports_are_refused() -> None:
    imports = '(import "env" "db_read" (func (param i32) (result i32)))\n' * 101
    assert "has 101 imports; the limit is 100" in rejected(contract(imports=imports))
    check_wasm(contract(imports='(import "env" "db_read" (func (param i32) (result i32)))\n' * 100))


@pytest.mark.parametrize(("import_name", "signature", "expected"), [
    ("db_read", "(param i64) (result i32)", "(i32) -> (i32)"),
    ("db_write", "(param i32 i32) (result i32)", "(i32, i32) -> ()"),
    ("secp256k1_recover_pubkey", "(param i32 i32 i32) (result i32)", "(i32, i32, i32) -> (i64)"),
    ("debug", "", "(i32) -> ()"),
])
def test_import_with_the_wrong_signature_names_itself(import_name: str, signature: str, expected: str) -> None:
    message = rejected(contract(imports=f'(import "env" "{import_name}" (func {signature}))'))
    assert f'import "env.{import_name}" has signature' in message
    assert f"the host provides {expected}" in message


# --------------------------------------------------------------------------------------------
# Capabilities


def test_required_capabilities_are_reported() -> None:
    wasm = contract(extra='(func (export "requires_iterator")) (func (export "requires_cosmwasm_2_0")) '
                          '(func (export "requires_"))')
    assert check_wasm(wasm).required_capabilities == {"iterator", "cosmwasm_2_0"}


def test_unavailable_capabilities_are_named_sorted() -> None:
    wasm = contract(extra='(func (export "requires_ibc2")) (func (export "requires_cosmwasm_9_9"))')
    assert rejected(wasm) == "contract requires unavailable capabilities: cosmwasm_9_9, ibc2"
    check_wasm(wasm, DEFAULT_CAPABILITIES | {"ibc2", "cosmwasm_9_9"})
    assert rejected(contract(extra='(func (export "requires_iterator"))'), frozenset()) == (
        "contract requires unavailable capabilities: iterator"
    )


def test_default_capabilities_accept_published_cw_plus_builds() -> None:
    """cw20-base, cw3 and cw721 builds on cosmwasm-std 1.x export requires_staking and
    requires_stargate without using them; the chain must still run them."""
    assert {"iterator", "staking", "stargate", "cosmwasm_1_1", "cosmwasm_2_2"} <= DEFAULT_CAPABILITIES
    check_wasm(contract(extra='(func (export "requires_staking")) (func (export "requires_stargate"))'))


# --------------------------------------------------------------------------------------------
# Function limits


def test_20001_functions_are_refused() -> None:
    extra = "(func)\n" * (20_001 - 4)
    assert "has 20001 functions; the limit is 20000" in rejected(contract(extra=extra))
    check_wasm(contract(extra="(func)\n" * (20_000 - 4)))


def test_function_with_101_parameters_is_refused() -> None:
    extra = f'(func (param {" i32" * 101}))'
    assert "function type with 101 parameters; the limit is 100" in rejected(contract(extra=extra))


def test_more_than_10000_parameters_in_total_are_refused() -> None:
    extra = f'(type $wide (func (param {" i32" * 100})))' + "(func (type $wide))\n" * 100
    message = rejected(contract(extra=extra))
    assert "have 10005 parameters in total; the limit is 10000" in message


def test_multi_value_results_are_refused() -> None:
    extra = "(func (result i32 i32) i32.const 1 i32.const 2)"
    message = rejected(contract(extra=extra))
    assert "function type with 2 results; the limit is 1 (multi-value returns are not supported)" in message


def test_function_with_101_locals_is_refused() -> None:
    check_wasm(contract(extra=f'(func (local {" i32" * 100}))'))
    message = rejected(contract(extra=f'(func (local {" i32" * 101}))'))
    assert "function 4 declares 101 locals; the limit is 100 per function" in message


def test_more_than_10000_locals_in_total_are_refused() -> None:
    extra = f'(func (local {" i64" * 100}))\n' * 101
    assert "declare 10100 locals in total; the limit is 10000" in rejected(contract(extra=extra))


def test_huge_local_declarations_are_counted_not_allocated() -> None:
    just_fits = handmade_contract()
    check_wasm(just_fits)
    max_u32 = handmade_contract(body=vec([leb(2**32 - 1) + b"\x7f"]) + b"\x0b")
    assert "declares 4294967295 locals; the limit is 100" in rejected(max_u32)
    twice = handmade_contract(body=vec([leb(2**32 - 1) + b"\x7f"] * 2) + b"\x0b")
    assert "declares 8589934590 locals" in rejected(twice)
    beyond_u32 = handmade_contract(body=vec([leb(2**32) + b"\x7f"]) + b"\x0b")
    assert "integer too large for 32 bits" in parse_only(beyond_u32)


# --------------------------------------------------------------------------------------------
# Instructions


def test_mvp_and_enabled_proposals_decode_cleanly() -> None:
    extra = """
      (type $unary (func (param i32) (result i32)))
      (table $t 2 2 funcref)
      (elem (table $t) (i32.const 0) func $id)
      (func $id (type $unary) local.get 0)
      (func (export "query") (param i32 i32) (result i32) (local i64 f32 f64 externref)
        i32.const 253 i32.const -3 i32.add i32.extend8_s i32.extend16_s drop
        i64.const 0xfdfefcfdfefcfdfe i64.extend32_s drop
        f32.const 0x1.fcfefdp+10 i32.trunc_sat_f32_s drop
        f64.const -0x1.fdfefcfdfefcp+100 i64.trunc_sat_f64_u drop
        local.get 0 (block $b (type $unary) (param i32) (result i32)
          (loop $l (param i32) (result i32)
            local.get 1 br_table $b $l $b))
        local.get 0 call_indirect $t (type $unary)
        i32.load offset=1000000 align=1
        (if (result i32) (then i32.const 1) (else i32.const 2))
        i32.const 0 i32.const 1 select (result i32)
        ref.null extern local.set 5
        table.size $t drop
        ref.null func i32.const 1 table.grow $t drop
        memory.size memory.grow i32.add)
    """
    report = check_wasm(contract(extra=extra))
    assert "query" in report.entry_points


@pytest.mark.parametrize(("instruction", "reason"), [
    ("local.get 0 v128.load drop", "SIMD instruction 0xfd"),
    ("local.get 0 i32.atomic.load drop", "threads (atomics) instruction 0xfe"),
    ("local.get 0 local.get 0 local.get 0 memory.copy", "bulk memory instruction 0xfc 10"),
    ("local.get 0 i32.const 0 local.get 0 memory.fill", "bulk memory instruction 0xfc 11"),
    ("return_call 0", "tail calls instruction 0x12"),
])
def test_instructions_of_disabled_proposals_are_refused(instruction: str, reason: str) -> None:
    message = rejected(contract(extra=f"(func (param i32) {instruction})"))
    assert f"uses an unsupported {reason}" in message


def test_memory_access_encodings() -> None:
    no_locals = vec([])
    overlong_alignment = no_locals + b"\x41\x00" + b"\x28\x82\x00\x00" + b"\x1a\x0b"  # i32.load
    check_wasm(handmade_contract(body=overlong_alignment))
    memory_index_flag = no_locals + b"\x41\x00" + b"\x28\x42\x00\x00" + b"\x1a\x0b"
    assert "unsupported multi-memory memory access" in rejected(handmade_contract(body=memory_index_flag))


def test_simd_value_types_and_exception_tags_are_refused() -> None:
    assert "v128 (SIMD) values are not supported" in parse_only(contract(extra="(func (param v128))"))
    assert "exception handling" in parse_only(contract(extra="(tag $e)"))


def test_semantically_invalid_code_is_refused_by_full_validation() -> None:
    message = rejected(contract(extra="(func (result i32) i64.const 1)"))
    assert message.startswith("invalid WebAssembly module: type mismatch")


def test_trailing_bytes_after_function_end_are_refused() -> None:
    assert "bytes after the end of a function body" in parse_only(handmade_contract(body=b"\x00\x0b\x01"))
    assert "lacks its final `end`" in parse_only(handmade_contract(body=b"\x00\x01"))


# --------------------------------------------------------------------------------------------
# The chain's own contracts


@pytest.mark.parametrize("artifact", sorted(glob.glob(os.path.join(REPO, "contracts", "artifacts", "*.wasm"))))
def test_built_contracts_pass(artifact: str) -> None:
    with open(artifact, "rb") as file:
        report = check_wasm(file.read())
    assert "instantiate" in report.entry_points


def test_parser_reads_the_module_shape() -> None:
    module = parse_module(contract(imports='(import "env" "abort" (func (param i32)))'))
    assert [i.full_name for i in module.imports] == ["env.abort"]
    assert len(module.bodies) == len(module.functions) == 4
    assert module.memories[0].minimum == 1 and module.memories[0].maximum is None
