"""A small, strict reader for the WebAssembly binary format.

Why our own reader: uploaded code must be judged *before* wasmtime compiles it (compiling is
the expensive step a JIT bomb attacks), and the judgement needs the module's shape: its types,
imports, tables, memories, exports and the size of each function's locals. This module reads
exactly that, in one linear pass that never allocates in proportion to a count written in the
input, and raises `MalformedWasm` (and nothing else) for any byte string that is not a
well-formed module.

It reads the feature set Conclave runs, the one cosmwasm-vm's parser enables
(packages/vm/src/parsed_wasm.rs: MVP, mutable globals, sign extension, saturating
float-to-int, multi-value, reference types). Anything outside it that is visible in the
module's structure (v128 values, shared memories, 64-bit memories, tags, the data count
section) is refused here; instructions from other proposals are found by
`find_unsupported_instruction`. The global, element and data sections are only bounds-checked:
nothing Conclave checks lives there, and wasmtime's validator judges them at compile time.

Reference: https://webassembly.github.io/spec/core/binary/index.html
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "MalformedWasm",
    "ExternKind",
    "FuncType",
    "Limits",
    "Import",
    "Export",
    "FunctionBody",
    "WasmModule",
    "parse_module",
    "find_unsupported_instruction",
]

WASM_MAGIC = b"\x00asm"
WASM_VERSION = b"\x01\x00\x00\x00"  # the only binary version there is (core spec 1.0-3.0)

# Section ids (spec 5.5.2) in the order a module must list them. Custom sections (id 0) may
# appear anywhere; the tag section (13, exception handling) goes between memory and global.
SECTION_CUSTOM = 0
SECTION_TYPE = 1
SECTION_IMPORT = 2
SECTION_FUNCTION = 3
SECTION_TABLE = 4
SECTION_MEMORY = 5
SECTION_GLOBAL = 6
SECTION_EXPORT = 7
SECTION_START = 8
SECTION_ELEMENT = 9
SECTION_CODE = 10
SECTION_DATA = 11
SECTION_DATA_COUNT = 12
SECTION_TAG = 13
SECTION_ORDER = (
    SECTION_TYPE, SECTION_IMPORT, SECTION_FUNCTION, SECTION_TABLE, SECTION_MEMORY,
    SECTION_TAG, SECTION_GLOBAL, SECTION_EXPORT, SECTION_START, SECTION_ELEMENT,
    SECTION_DATA_COUNT, SECTION_CODE, SECTION_DATA,
)
SECTION_NAMES = {
    SECTION_TYPE: "type", SECTION_IMPORT: "import", SECTION_FUNCTION: "function",
    SECTION_TABLE: "table", SECTION_MEMORY: "memory", SECTION_TAG: "tag",
    SECTION_GLOBAL: "global", SECTION_EXPORT: "export", SECTION_START: "start",
    SECTION_ELEMENT: "element", SECTION_DATA_COUNT: "data count", SECTION_CODE: "code",
    SECTION_DATA: "data",
}

# Value types (spec 5.3.1 and the reference-types proposal).
VALUE_TYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x70: "funcref", 0x6F: "externref"}
REFERENCE_TYPES = {0x70: "funcref", 0x6F: "externref"}
V128 = 0x7B
FUNC_TYPE_FORM = 0x60

# Limits flags: 0 = min only, 1 = min and max. 2/3 are shared (threads), 4+ are memory64.
LIMITS_MIN = 0x00
LIMITS_MIN_MAX = 0x01
LIMITS_SHARED = (0x02, 0x03)


class MalformedWasm(ValueError):
    """The bytes are not a well-formed WebAssembly module of the feature set Conclave runs."""


class ExternKind(Enum):
    """What an import or export refers to."""

    FUNC = 0
    TABLE = 1
    MEMORY = 2
    GLOBAL = 3


@dataclass(frozen=True)
class FuncType:
    """A function signature, value types by their text-format names ("i32", "i64", ...)."""

    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"({', '.join(self.params)}) -> ({', '.join(self.results)})"


@dataclass(frozen=True)
class Limits:
    """The size limits of a table (in elements) or a memory (in 64 KiB pages)."""

    minimum: int
    maximum: int | None


@dataclass(frozen=True)
class Import:
    """One import; `type_index` is set for function imports, `limits` for tables and memories."""

    module: str
    name: str
    kind: ExternKind
    type_index: int | None = None
    limits: Limits | None = None

    @property
    def full_name(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Export:
    name: str
    kind: ExternKind
    index: int


@dataclass(frozen=True)
class FunctionBody:
    """Where one function's instructions lie in the module bytes, and how many locals it declares.

    `locals` counts declared locals only, not parameters, as cosmwasm-vm does.
    """

    start: int  # first instruction byte
    end: int  # one past the final `end` opcode
    locals: int


@dataclass(frozen=True)
class WasmModule:
    """The parts of a module that static validation looks at."""

    types: tuple[FuncType, ...]
    imports: tuple[Import, ...]
    functions: tuple[int, ...]  # type index of each defined (non-imported) function
    tables: tuple[Limits, ...]  # defined tables only
    memories: tuple[Limits, ...]  # defined memories only
    exports: tuple[Export, ...]
    start: int | None
    bodies: tuple[FunctionBody, ...]

    @property
    def imported_functions(self) -> tuple[Import, ...]:
        return tuple(i for i in self.imports if i.kind is ExternKind.FUNC)

    def function_type(self, function_index: int) -> FuncType:
        """The signature of a function by its index in the function index space
        (imported functions first, then defined ones)."""
        imported = self.imported_functions
        if function_index < len(imported):
            type_index = imported[function_index].type_index
        else:
            type_index = self.functions[function_index - len(imported)]
        assert type_index is not None
        return self.types[type_index]


# --------------------------------------------------------------------------------------------
# Primitive reading


class _Reader:
    """A cursor over `data[pos:end]` that reads the binary format's primitive encodings."""

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data = data
        self.pos = pos
        self.end = end

    def fail(self, reason: str) -> MalformedWasm:
        return MalformedWasm(f"{reason} (at byte offset {self.pos})")

    def at_end(self) -> bool:
        return self.pos >= self.end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise self.fail("unexpected end of data")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, length: int) -> bytes:
        if length > self.end - self.pos:
            raise self.fail(f"unexpected end of data: {length} bytes announced")
        chunk = self.data[self.pos:self.pos + length]
        self.pos += length
        return chunk

    def u32(self) -> int:
        value, self.pos = read_leb(self.data, self.pos, self.end, 32, signed=False)
        return value

    def name(self) -> str:
        raw = self.take(self.u32())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("name is not valid UTF-8") from None

    def value_type(self) -> str:
        code = self.byte()
        if code == V128:
            raise self.fail("v128 (SIMD) values are not supported")
        if code not in VALUE_TYPES:
            raise self.fail(f"unknown value type 0x{code:02x}")
        return VALUE_TYPES[code]

    def reference_type(self) -> str:
        code = self.byte()
        if code not in REFERENCE_TYPES:
            raise self.fail(f"unknown reference type 0x{code:02x}")
        return REFERENCE_TYPES[code]

    def limits(self) -> Limits:
        flags = self.byte()
        if flags in LIMITS_SHARED:
            raise self.fail("shared memories (threads proposal) are not supported")
        if flags == LIMITS_MIN:
            return Limits(self.u32(), None)
        if flags == LIMITS_MIN_MAX:
            minimum, maximum = self.u32(), self.u32()
            if maximum < minimum:
                raise self.fail(f"limits maximum {maximum} is below minimum {minimum}")
            return Limits(minimum, maximum)
        raise self.fail(f"unsupported limits flags 0x{flags:02x} (memory64 and others are not supported)")


def read_leb(data: bytes, pos: int, end: int, bits: int, signed: bool, base: int = 0) -> tuple[int, int]:
    """Read a LEB128 integer of at most `bits` bits at `pos`; return (value, next position).

    Strict as the spec is: at most ceil(bits / 7) bytes, and the unused high bits of the last
    byte must be zero (unsigned) or copies of the sign bit (signed). `base` is added to
    offsets in error messages when `data` is a slice of the module.
    """
    max_bytes = (bits + 6) // 7
    last_byte_bits = bits - 7 * (max_bytes - 1)
    result = 0
    for index in range(max_bytes):
        if pos >= end:
            raise MalformedWasm(f"unexpected end of data inside an integer (at byte offset {base + pos})")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << (7 * index)
        if byte & 0x80:
            continue
        if index == max_bytes - 1 and not _last_leb_byte_ok(byte, last_byte_bits, signed):
            raise MalformedWasm(f"integer too large for {bits} bits (at byte offset {base + pos - 1})")
        if signed and byte & 0x40:
            result -= 1 << (7 * (index + 1))
        return result, pos
    raise MalformedWasm(f"integer representation too long (at byte offset {base + pos - 1})")


def _last_leb_byte_ok(byte: int, used_bits: int, signed: bool) -> bool:
    unused = byte >> used_bits  # the payload bits beyond the integer's width (continuation bit is 0)
    if not signed:
        return unused == 0
    sign = (byte >> (used_bits - 1)) & 1
    return unused == (((1 << (7 - used_bits)) - 1) if sign else 0)


# --------------------------------------------------------------------------------------------
# Module structure


def parse_module(data: bytes) -> WasmModule:
    """Read a module's structure; raise MalformedWasm if it is not well formed."""
    if len(data) < 8 or data[:4] != WASM_MAGIC:
        raise MalformedWasm("not a WebAssembly module (the file does not start with \\0asm)")
    if data[4:8] != WASM_VERSION:
        raise MalformedWasm(f"unsupported WebAssembly binary version {data[4:8].hex()} (expected 01000000)")
    builder = _ModuleBuilder()
    reader = _Reader(data, 8, len(data))
    last_order = -1
    while not reader.at_end():
        section_id = reader.byte()
        size = reader.u32()
        section = _Reader(data, reader.pos, reader.pos + size)
        if section.end > len(data):
            raise reader.fail(f"section of {size} bytes runs past the end of the module")
        if section_id != SECTION_CUSTOM:
            if section_id not in SECTION_NAMES:
                raise reader.fail(f"unknown section id {section_id}")
            order = SECTION_ORDER.index(section_id)
            if order <= last_order:
                raise reader.fail(f"{SECTION_NAMES[section_id]} section is duplicated or out of order")
            last_order = order
        _SECTION_READERS[section_id](builder, section)
        if section.pos != section.end:
            raise section.fail(f"{SECTION_NAMES.get(section_id, 'custom')} section has trailing bytes")
        reader.pos = section.end
    return builder.finish()


class _ModuleBuilder:
    """Collects section contents while the module is read, then checks cross-section facts."""

    def __init__(self) -> None:
        self.types: list[FuncType] = []
        self.imports: list[Import] = []
        self.functions: list[int] = []
        self.tables: list[Limits] = []
        self.memories: list[Limits] = []
        self.exports: list[Export] = []
        self.start: int | None = None
        self.bodies: list[FunctionBody] = []
        self.saw_code_section = False

    def finish(self) -> WasmModule:
        if len(self.bodies) != len(self.functions):
            raise MalformedWasm(
                f"function section declares {len(self.functions)} functions "
                f"but the code section has {len(self.bodies)} bodies"
            )
        module = WasmModule(
            types=tuple(self.types), imports=tuple(self.imports), functions=tuple(self.functions),
            tables=tuple(self.tables), memories=tuple(self.memories), exports=tuple(self.exports),
            start=self.start, bodies=tuple(self.bodies),
        )
        _check_indices(module)
        return module


def _check_indices(module: WasmModule) -> None:
    """Every index we later follow must point at something that exists."""
    function_count = len(module.imported_functions) + len(module.functions)
    counts = {
        ExternKind.FUNC: function_count,
        ExternKind.TABLE: len(module.tables) + sum(i.kind is ExternKind.TABLE for i in module.imports),
        ExternKind.MEMORY: len(module.memories) + sum(i.kind is ExternKind.MEMORY for i in module.imports),
        ExternKind.GLOBAL: None,  # globals are not read; wasmtime checks these indices
    }
    names: set[str] = set()
    for export in module.exports:
        if export.name in names:
            raise MalformedWasm(f"duplicate export name {export.name!r}")
        names.add(export.name)
        limit = counts[export.kind]
        if limit is not None and export.index >= limit:
            raise MalformedWasm(f"export {export.name!r} refers to unknown {export.kind.name.lower()} {export.index}")
    if module.start is not None and module.start >= function_count:
        raise MalformedWasm(f"start function {module.start} does not exist")


def _read_custom(builder: _ModuleBuilder, section: _Reader) -> None:
    section.name()
    section.pos = section.end  # custom payloads are not interpreted


def _read_types(builder: _ModuleBuilder, section: _Reader) -> None:
    for _ in range(section.u32()):
        form = section.byte()
        if form != FUNC_TYPE_FORM:
            raise section.fail(f"unsupported type form 0x{form:02x} (only function types are supported)")
        params = tuple(section.value_type() for _ in range(section.u32()))
        results = tuple(section.value_type() for _ in range(section.u32()))
        builder.types.append(FuncType(params, results))


def _read_imports(builder: _ModuleBuilder, section: _Reader) -> None:
    for _ in range(section.u32()):
        module, name, kind_code = section.name(), section.name(), section.byte()
        if kind_code == ExternKind.FUNC.value:
            type_index = section.u32()
            if type_index >= len(builder.types):
                raise section.fail(f"import {module}.{name} uses unknown type index {type_index}")
            builder.imports.append(Import(module, name, ExternKind.FUNC, type_index=type_index))
        elif kind_code == ExternKind.TABLE.value:
            section.reference_type()
            builder.imports.append(Import(module, name, ExternKind.TABLE, limits=section.limits()))
        elif kind_code == ExternKind.MEMORY.value:
            builder.imports.append(Import(module, name, ExternKind.MEMORY, limits=section.limits()))
        elif kind_code == ExternKind.GLOBAL.value:
            section.value_type()
            _read_mutability(section)
            builder.imports.append(Import(module, name, ExternKind.GLOBAL))
        else:
            raise section.fail(f"unsupported import kind 0x{kind_code:02x} for {module}.{name}")


def _read_mutability(section: _Reader) -> None:
    flag = section.byte()
    if flag not in (0, 1):
        raise section.fail(f"invalid global mutability flag 0x{flag:02x}")


def _read_functions(builder: _ModuleBuilder, section: _Reader) -> None:
    for _ in range(section.u32()):
        type_index = section.u32()
        if type_index >= len(builder.types):
            # cosmwasm-vm: "Wasm bytecode error: function uses unknown type index"
            raise section.fail(f"function uses unknown type index {type_index}")
        builder.functions.append(type_index)


def _read_tables(builder: _ModuleBuilder, section: _Reader) -> None:
    for _ in range(section.u32()):
        section.reference_type()  # a leading 0x40 (typed function references) fails here too
        builder.tables.append(section.limits())


def _read_memories(builder: _ModuleBuilder, section: _Reader) -> None:
    for _ in range(section.u32()):
        builder.memories.append(section.limits())


def _read_exports(builder: _ModuleBuilder, section: _Reader) -> None:
    for _ in range(section.u32()):
        name, kind_code = section.name(), section.byte()
        if kind_code > ExternKind.GLOBAL.value:
            raise section.fail(f"unsupported export kind 0x{kind_code:02x} for {name!r}")
        index = section.u32()
        builder.exports.append(Export(name, ExternKind(kind_code), index))


def _read_start(builder: _ModuleBuilder, section: _Reader) -> None:
    builder.start = section.u32()


def _skip_contents(builder: _ModuleBuilder, section: _Reader) -> None:
    section.pos = section.end


def _refuse_tags(builder: _ModuleBuilder, section: _Reader) -> None:
    raise section.fail("the tag section (exception handling proposal) is not supported")


def _refuse_data_count(builder: _ModuleBuilder, section: _Reader) -> None:
    raise section.fail("the data count section (bulk memory proposal) is not supported")


def _read_code(builder: _ModuleBuilder, section: _Reader) -> None:
    for _ in range(section.u32()):
        size = section.u32()
        body = _Reader(section.data, section.pos, section.pos + size)
        if body.end > section.end:
            raise section.fail(f"function body of {size} bytes runs past the code section")
        locals_count = _read_locals(body)
        if body.at_end():
            raise body.fail("function body has no instructions")
        builder.bodies.append(FunctionBody(body.pos, body.end, locals_count))
        section.pos = body.end


def _read_locals(body: _Reader) -> int:
    """Sum a body's local declarations. Each count is a u32, so a declaration of 2**32 locals
    is malformed; large counts are only added up, never allocated."""
    total = 0
    for _ in range(body.u32()):
        total += body.u32()
        body.value_type()
    return total


_SECTION_READERS = {
    SECTION_CUSTOM: _read_custom,
    SECTION_TYPE: _read_types,
    SECTION_IMPORT: _read_imports,
    SECTION_FUNCTION: _read_functions,
    SECTION_TABLE: _read_tables,
    SECTION_MEMORY: _read_memories,
    SECTION_GLOBAL: _skip_contents,
    SECTION_EXPORT: _read_exports,
    SECTION_START: _read_start,
    SECTION_ELEMENT: _skip_contents,
    SECTION_CODE: _read_code,
    SECTION_DATA: _skip_contents,
    SECTION_DATA_COUNT: _refuse_data_count,
    SECTION_TAG: _refuse_tags,
}


# --------------------------------------------------------------------------------------------
# Instructions
#
# One table entry per opcode byte says what immediates follow it. Decoding every instruction
# is the only reliable way to find a given opcode: a 0xFD byte may just as well be part of an
# immediate. Immediate kinds:
_NONE = 0  # no immediates
_U32 = 1  # one u32 (an index or a label)
_U32_U32 = 2  # two u32s (call_indirect: type, table)
_BLOCK = 3  # a block type: 0x40, a value type, or an s33 type index; opens a block
_END = 4  # end of a block, or of the function at depth 0
_BR_TABLE = 5  # vec(u32) then u32
_MEMARG = 6  # alignment and offset, both u32
_MEMORY_INDEX = 7  # memory.size/memory.grow: a memory index that must be 0
_I32 = 8  # s32
_I64 = 9  # s64
_F32 = 10  # 4 bytes
_F64 = 11  # 8 bytes
_SELECT_T = 12  # vec(value type)
_REF_TYPE = 13  # one reference type byte
_PREFIX_FC = 14  # a u32 sub-opcode follows
_UNSUPPORTED = 15  # an opcode from a proposal Conclave does not run
_UNKNOWN = 16

_IMMEDIATES = [_UNKNOWN] * 256
for _op in (0x00, 0x01, 0x05, 0x0F, 0x1A, 0x1B, 0xD1):
    _IMMEDIATES[_op] = _NONE
for _op in range(0x45, 0xC5):  # numeric instructions, 0xC0-0xC4 are sign extension
    _IMMEDIATES[_op] = _NONE
for _op in (0x0C, 0x0D, 0x10, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0xD2):
    _IMMEDIATES[_op] = _U32
for _op in range(0x28, 0x3F):
    _IMMEDIATES[_op] = _MEMARG
_IMMEDIATES[0x02] = _IMMEDIATES[0x03] = _IMMEDIATES[0x04] = _BLOCK
_IMMEDIATES[0x0B] = _END
_IMMEDIATES[0x0E] = _BR_TABLE
_IMMEDIATES[0x11] = _U32_U32
_IMMEDIATES[0x1C] = _SELECT_T
_IMMEDIATES[0x3F] = _IMMEDIATES[0x40] = _MEMORY_INDEX
_IMMEDIATES[0x41] = _I32
_IMMEDIATES[0x42] = _I64
_IMMEDIATES[0x43] = _F32
_IMMEDIATES[0x44] = _F64
_IMMEDIATES[0xD0] = _REF_TYPE
_IMMEDIATES[0xFC] = _PREFIX_FC

_UNSUPPORTED_OPCODES = {
    **{op: "exception handling" for op in (0x06, 0x07, 0x08, 0x09, 0x0A, 0x18, 0x19, 0x1F)},
    0x12: "tail calls", 0x13: "tail calls", 0x15: "tail calls",
    **{op: "typed function references" for op in (0x14, 0xD3, 0xD4, 0xD5, 0xD6)},
    0xFB: "garbage collection",
    0xFD: "SIMD",
    0xFE: "threads (atomics)",
}
for _op in _UNSUPPORTED_OPCODES:
    _IMMEDIATES[_op] = _UNSUPPORTED

# 0xFC sub-opcodes: 0-7 saturating float-to-int (no immediates); 15-17 table.grow/size/fill
# (reference types, one table index). 8-14 are the bulk memory proposal.
_FC_SATURATING = range(0, 8)
_FC_TABLE_OPS = range(15, 18)
_FC_BULK_MEMORY = range(8, 15)
# In a memarg's alignment field, bit 6 announces an explicit memory index (multi-memory).
_MEMARG_MEMORY_INDEX = 0x40


def find_unsupported_instruction(data: bytes, body: FunctionBody) -> str | None:
    """Decode one function body; return why it cannot run on Conclave, or None if it can.

    Raises MalformedWasm if the body does not decode (truncated, unknown opcode, unbalanced
    blocks, bytes after the final `end`).
    """
    code = data[body.start:body.end]
    try:
        return _scan_instructions(code, body.start)
    except IndexError:
        raise MalformedWasm(f"function body at byte offset {body.start} ends inside an instruction") from None


def _scan_instructions(code: bytes, base: int) -> str | None:
    """The decoding loop. `code` is one body's instructions; `base` its offset in the module.

    Reading past the end of `code` raises IndexError, which the caller reports as truncation.
    Single-byte LEB128 immediates (by far the most common) take a fast path.
    """
    immediates = _IMMEDIATES
    end = len(code)
    pos = 0
    depth = 0
    while pos < end:
        opcode = code[pos]
        kind = immediates[opcode]
        pos += 1
        if kind == _NONE:
            continue
        if kind == _U32:
            pos = _skip_u32(code, pos, base)
        elif kind == _MEMARG:
            if code[pos] < 0x40:  # the usual one-byte alignment
                pos += 1
            else:
                flags, pos = read_leb(code, pos, end, 32, False, base)
                if flags & _MEMARG_MEMORY_INDEX:
                    return f"multi-memory memory access at byte offset {base + pos}"
            pos = _skip_u32(code, pos, base)  # the offset
        elif kind == _END:
            if depth == 0:
                if pos != end:
                    raise MalformedWasm(f"bytes after the end of a function body (at byte offset {base + pos})")
                return None
            depth -= 1
        elif kind == _BLOCK:
            depth += 1
            pos = _skip_block_type(code, pos, base)
        elif kind == _I32:
            pos = _skip_leb(code, pos, 32, base)
        elif kind == _I64:
            pos = _skip_leb(code, pos, 64, base)
        elif kind == _F32:
            pos += 4
        elif kind == _F64:
            pos += 8
        elif kind == _PREFIX_FC:
            sub, pos = read_leb(code, pos, end, 32, False, base)
            if sub in _FC_SATURATING:
                continue
            if sub in _FC_TABLE_OPS:
                pos = _skip_u32(code, pos, base)
                continue
            if sub in _FC_BULK_MEMORY:
                return f"bulk memory instruction 0xfc {sub} at byte offset {base + pos}"
            raise MalformedWasm(f"unknown instruction 0xfc {sub} (at byte offset {base + pos})")
        elif kind == _U32_U32:
            pos = _skip_u32(code, _skip_u32(code, pos, base), base)
        elif kind == _BR_TABLE:
            count, pos = read_leb(code, pos, end, 32, False, base)
            for _ in range(count + 1):  # each label is at least one byte: bounded by the body
                pos = _skip_u32(code, pos, base)
        elif kind == _MEMORY_INDEX:
            index, pos = read_leb(code, pos, end, 32, False, base)
            if index != 0:
                return f"multi-memory instruction at byte offset {base + pos}"
        elif kind == _SELECT_T:
            count, pos = read_leb(code, pos, end, 32, False, base)
            for _ in range(count):
                if code[pos] not in VALUE_TYPES:
                    raise MalformedWasm(f"unknown value type in select (at byte offset {base + pos})")
                pos += 1
        elif kind == _REF_TYPE:
            if code[pos] not in REFERENCE_TYPES:
                raise MalformedWasm(f"unknown reference type in ref.null (at byte offset {base + pos})")
            pos += 1
        elif kind == _UNSUPPORTED:
            return f"{_UNSUPPORTED_OPCODES[opcode]} instruction 0x{opcode:02x} at byte offset {base + pos - 1}"
        else:
            raise MalformedWasm(f"unknown opcode 0x{opcode:02x} (at byte offset {base + pos - 1})")
    raise MalformedWasm(f"function body ending at byte offset {base + end} lacks its final `end`")


def _skip_u32(code: bytes, pos: int, base: int) -> int:
    if code[pos] < 0x80:
        return pos + 1
    return read_leb(code, pos, len(code), 32, False, base)[1]


def _skip_leb(code: bytes, pos: int, bits: int, base: int) -> int:
    """Skip a signed integer constant."""
    if code[pos] < 0x80:
        return pos + 1
    return read_leb(code, pos, len(code), bits, True, base)[1]


def _skip_block_type(code: bytes, pos: int, base: int) -> int:
    first = code[pos]
    if first == 0x40 or first in VALUE_TYPES:
        return pos + 1
    if first == V128:
        raise MalformedWasm(f"v128 (SIMD) block type is not supported (at byte offset {base + pos})")
    type_index, pos = read_leb(code, pos, len(code), 33, True, base)
    if type_index < 0:
        raise MalformedWasm(f"invalid block type (at byte offset {base + pos})")
    return pos
