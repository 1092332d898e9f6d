#!/usr/bin/env python3
"""Static check of a built contract: only MVP instructions (plus sign-extension),
one memory without a declared maximum, at most one table, the CosmWasm exports.

Usage: check_wasm.py FILE.wasm...   (prints one summary line per file; exit 1 on failure)
"""

import os
import sys

REQUIRED_EXPORTS = {"interface_version_8", "allocate", "deallocate"}
MAX_INITIAL_PAGES = 512
# Limits of the chain's static validation (cosmwasm-vm's, see docs in shared/reference).
MAX_WASM_BYTES = 800 * 1024
MAX_IMPORTS = 100
MAX_FUNCTIONS = 20_000
MAX_FUNCTION_PARAMS = 100
MAX_TOTAL_FUNCTION_PARAMS = 10_000
MAX_FUNCTION_RESULTS = 1
MAX_FUNCTION_LOCALS = 100
MAX_TOTAL_FUNCTION_LOCALS = 10_000

SECTION_NAMES = {0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory",
                 6: "global", 7: "export", 8: "start", 9: "element", 10: "code", 11: "data",
                 12: "datacount"}


class Reader:
    def __init__(self, data, pos=0, end=None):
        self.data, self.pos, self.end = data, pos, len(data) if end is None else end

    def byte(self):
        b = self.data[self.pos]
        self.pos += 1
        return b

    def u32(self):
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    skip_leb = u32

    def name(self):
        n = self.u32()
        s = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return s

    def limits(self):
        flag = self.byte()
        initial = self.u32()
        maximum = self.u32() if flag & 1 else None
        return flag, initial, maximum


def check_code(r, end, problems, func_index):
    """Walks one function body, reporting any non-MVP (and non sign-ext) opcode.
    Returns the number of locals the body declares."""
    locals_count = 0
    for _ in range(r.u32()):
        locals_count += r.u32()
        r.byte()
    if locals_count > MAX_FUNCTION_LOCALS:
        problems.add("function %d declares %d locals (> %d)" % (func_index, locals_count, MAX_FUNCTION_LOCALS))
    while r.pos < end:
        op = r.byte()
        if op in (0x02, 0x03, 0x04):
            bt = r.data[r.pos]
            if bt in (0x40, 0x7F, 0x7E, 0x7D, 0x7C):
                r.pos += 1
            else:
                problems.add("multi-value block type")
                r.skip_leb()
        elif op in (0x0C, 0x0D, 0x10) or 0x20 <= op <= 0x24:
            r.u32()
        elif op == 0x0E:
            for _ in range(r.u32() + 1):
                r.u32()
        elif op == 0x11:
            r.u32()
            if r.byte() != 0:
                problems.add("call_indirect on a table other than 0")
        elif 0x28 <= op <= 0x3E:
            r.u32()
            r.u32()
        elif op in (0x3F, 0x40):
            if r.byte() != 0:
                problems.add("memory index other than 0")
        elif op in (0x41, 0x42):
            r.skip_leb()
        elif op == 0x43:
            r.pos += 4
        elif op == 0x44:
            r.pos += 8
        elif op in (0x00, 0x01, 0x05, 0x0B, 0x0F, 0x1A, 0x1B) or 0x45 <= op <= 0xBF:
            pass
        elif 0xC0 <= op <= 0xC4:
            pass  # sign-extension operators: allowed
        elif op == 0xFC:
            sub = r.u32()
            kind = "non-trapping float-to-int" if sub < 8 else "bulk-memory/table"
            problems.add("%s instructions (0xfc prefix)" % kind)
            return locals_count
        elif op == 0xFD:
            problems.add("SIMD instructions")
            return locals_count
        elif op == 0xFE:
            problems.add("threads/atomics instructions")
            return locals_count
        else:
            problems.add("non-MVP opcode 0x%02x" % op)
            return locals_count
    return locals_count


def check(path):
    data = open(path, "rb").read()
    problems = set()
    if data[:8] != b"\0asm\x01\0\0\0":
        return ["not a wasm module (version 1)"], ""
    r = Reader(data, 8)
    if len(data) > MAX_WASM_BYTES:
        problems.add("%d bytes (> %d)" % (len(data), MAX_WASM_BYTES))
    imports, exports, memories, tables, customs = [], [], [], [], []
    types, func_types = [], []
    nfuncs = total_locals = 0
    while r.pos < len(data):
        sid = r.byte()
        size = r.u32()
        end = r.pos + size
        s = Reader(data, r.pos, end)
        if sid == 0:
            customs.append(s.name())
        elif sid == 1:
            for _ in range(s.u32()):
                if s.byte() != 0x60:
                    problems.add("type section entry is not a function type")
                params = s.u32()
                s.pos += params
                results = s.u32()
                s.pos += results
                types.append((params, results))
        elif sid == 3:
            func_types = [s.u32() for _ in range(s.u32())]
        elif sid == 2:
            for _ in range(s.u32()):
                module, field, kind = s.name(), s.name(), s.byte()
                if kind == 0:
                    s.u32()
                elif kind == 1:
                    s.byte()
                    s.limits()
                elif kind == 2:
                    s.limits()
                elif kind == 3:
                    s.byte()
                    if s.byte():
                        problems.add("imports a mutable global")
                imports.append((module, field, kind))
        elif sid == 4:
            for _ in range(s.u32()):
                elem = s.byte()
                if elem != 0x70:
                    problems.add("table of non-funcref type")
                tables.append(s.limits())
        elif sid == 5:
            for _ in range(s.u32()):
                memories.append(s.limits())
        elif sid == 7:
            for _ in range(s.u32()):
                name, kind = s.name(), s.byte()
                s.u32()
                exports.append((name, kind))
        elif sid == 10:
            nfuncs = s.u32()
            for i in range(nfuncs):
                body = s.u32()
                total_locals += check_code(Reader(data, s.pos, s.pos + body), s.pos + body, problems, i)
                s.pos += body
        elif sid == 12:
            problems.add("datacount section (bulk memory)")
        elif sid not in SECTION_NAMES:
            problems.add("unknown section id %d" % sid)
        r.pos = end

    export_names = {name for name, _ in exports}
    if len(imports) > MAX_IMPORTS:
        problems.add("%d imports (> %d)" % (len(imports), MAX_IMPORTS))
    if nfuncs > MAX_FUNCTIONS:
        problems.add("%d functions (> %d)" % (nfuncs, MAX_FUNCTIONS))
    total_params = 0
    for t in func_types:
        params, results = types[t]
        total_params += params
        if params > MAX_FUNCTION_PARAMS:
            problems.add("a function has %d params (> %d)" % (params, MAX_FUNCTION_PARAMS))
        if results > MAX_FUNCTION_RESULTS:
            problems.add("a function has %d results (multi-value)" % results)
    if total_params > MAX_TOTAL_FUNCTION_PARAMS:
        problems.add("%d function params in total (> %d)" % (total_params, MAX_TOTAL_FUNCTION_PARAMS))
    if total_locals > MAX_TOTAL_FUNCTION_LOCALS:
        problems.add("%d locals in total (> %d)" % (total_locals, MAX_TOTAL_FUNCTION_LOCALS))
    if len(memories) != 1:
        problems.add("%d memories (need exactly 1)" % len(memories))
    else:
        _, initial, maximum = memories[0]
        if maximum is not None:
            problems.add("memory declares a maximum")
        if initial > MAX_INITIAL_PAGES:
            problems.add("memory initial %d pages > %d" % (initial, MAX_INITIAL_PAGES))
    if len(tables) > 1:
        problems.add("%d tables" % len(tables))
    missing = REQUIRED_EXPORTS - export_names
    if missing:
        problems.add("missing exports: %s" % ", ".join(sorted(missing)))
    bad_imports = [f for m, f, _ in imports if m != "env"]
    if bad_imports:
        problems.add("imports outside module env: %s" % bad_imports)
    summary = "%d bytes, %d funcs, %d params, %d locals, memory %s pages, %d table(s), %d imports, exports [%s]%s" % (
        len(data), nfuncs, total_params, total_locals, memories[0][1] if memories else "?", len(tables),
        len(imports), " ".join(sorted(n for n, k in exports if k == 0)),
        (", custom sections [%s]" % " ".join(customs)) if customs else "")
    return sorted(problems), summary


def main(paths):
    failed = False
    for path in paths:
        problems, summary = check(path)
        if problems:
            failed = True
            print("FAIL %s: %s" % (os.path.basename(path), "; ".join(problems)))
        else:
            print("ok   %s: %s" % (os.path.basename(path), summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
