"""Where the wasm module keeps its state, and the records it keeps there."""
from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass

from ..kv import KVStore, PrefixKV, iterate_prefix, prefix_page
from ..memo import BoundedMemo

_CODE = b"wasm/code/"            # u64be code id -> CodeInfo JSON
_BLOB = b"wasm/blob/"            # checksum -> wasm bytes
_CODE_BY_CHECKSUM = b"wasm/checksum/"  # checksum -> u64be code id (first code with it)
_CONTRACT = b"wasm/contract/"    # address -> ContractInfo JSON
_STORE = b"wasm/store/"          # len(address) || address || key -> contract storage
_HISTORY = b"wasm/history/"      # address || u64be seq -> HistoryEntry JSON
_BY_CODE = b"wasm/bycode/"       # u64be code id || address -> b""
_SEQUENCE = b"wasm/seq/"         # name -> u64be next value

# Every call reads its contract's and its code's record: their parsed JSON is remembered by the
# record's exact bytes (a changed record has other bytes). The dataclasses are built fresh each
# time, since callers may change them (migrate sets code_id).
_RECORD_CACHE_ENTRIES = 4096
_parsed_records: BoundedMemo[dict] = BoundedMemo(_RECORD_CACHE_ENTRIES)


def _parsed(raw: bytes) -> dict:
    doc = _parsed_records.get(raw)
    if doc is None:
        doc = json.loads(raw)
        _parsed_records.put(raw, doc)
    return doc


@dataclass
class CodeInfo:
    code_id: int
    checksum: str      # hex sha256 of the wasm
    creator: str
    size: int


@dataclass
class ContractInfo:
    address: str
    code_id: int
    creator: str
    admin: str | None
    label: str
    created_height: int
    created_tx_index: int | None


@dataclass
class HistoryEntry:
    operation: str     # "init" | "migrate" | "genesis", as wasmd's ContractCodeHistoryOperationType
    code_id: int
    height: int
    msg: object


def _u64(n: int) -> bytes:
    return struct.pack(">Q", n)


def next_sequence(store: KVStore, name: str) -> int:
    """Return the next value of a counter starting at 1, and advance it."""
    key = _SEQUENCE + name.encode()
    raw = store.get(key)
    value = struct.unpack(">Q", raw)[0] if raw else 1
    store.set(key, _u64(value + 1))
    return value


def peek_sequence(store: KVStore, name: str) -> int:
    raw = store.get(_SEQUENCE + name.encode())
    return struct.unpack(">Q", raw)[0] if raw else 1


def save_code(store: KVStore, info: CodeInfo, wasm: bytes) -> None:
    store.set(_CODE + _u64(info.code_id), json.dumps(asdict(info)).encode())
    checksum = bytes.fromhex(info.checksum)
    if store.get(_BLOB + checksum) is None:
        store.set(_BLOB + checksum, wasm)
        store.set(_CODE_BY_CHECKSUM + checksum, _u64(info.code_id))


def load_code(store: KVStore, code_id: int) -> CodeInfo | None:
    raw = store.get(_CODE + _u64(code_id))
    return CodeInfo(**_parsed(raw)) if raw else None


def load_wasm(store: KVStore, checksum: bytes) -> bytes | None:
    return store.get(_BLOB + checksum)


def code_id_for_checksum(store: KVStore, checksum: bytes) -> int | None:
    raw = store.get(_CODE_BY_CHECKSUM + checksum)
    return struct.unpack(">Q", raw)[0] if raw else None


def all_codes(store: KVStore) -> list[CodeInfo]:
    return [CodeInfo(**json.loads(v)) for _, v in iterate_prefix(store, _CODE)]


def save_contract(store: KVStore, info: ContractInfo, previous_code_id: int | None = None) -> None:
    store.set(_CONTRACT + info.address.encode(), json.dumps(asdict(info)).encode())
    if previous_code_id is not None and previous_code_id != info.code_id:
        store.delete(_BY_CODE + _u64(previous_code_id) + info.address.encode())
    store.set(_BY_CODE + _u64(info.code_id) + info.address.encode(), b"")


def load_contract(store: KVStore, address: str) -> ContractInfo | None:
    raw = store.get(_CONTRACT + address.encode())
    return ContractInfo(**_parsed(raw)) if raw else None


def contracts_by_code(store: KVStore, code_id: int) -> list[str]:
    prefix = _BY_CODE + _u64(code_id)
    return [k[len(prefix):].decode() for k, _ in iterate_prefix(store, prefix)]


def contracts_by_code_page(store: KVStore, code_id: int, after: str | None, limit: int) -> list[str]:
    """One page of the contracts running ``code_id``, by address, after ``after``."""
    prefix = _BY_CODE + _u64(code_id)
    return [k.decode() for k, _ in prefix_page(store, prefix, after and after.encode(), limit)]


def contract_storage(store: KVStore, address: str) -> PrefixKV:
    raw = address.encode()
    return PrefixKV(store, _STORE + bytes([len(raw)]) + raw)


def append_history(store: KVStore, address: str, entry: HistoryEntry) -> None:
    seq = next_sequence(store, "history/" + address)
    store.set(_HISTORY + address.encode() + b"/" + _u64(seq), json.dumps(asdict(entry)).encode())


def history_page(store: KVStore, address: str, after_seq: int | None, limit: int) -> list[dict]:
    """One page of a contract's history: entries as JSON objects with their ``seq``, after ``after_seq``."""
    prefix = _HISTORY + address.encode() + b"/"
    cursor = None if after_seq is None else _u64(after_seq)
    return [{"seq": int.from_bytes(k, "big"), **json.loads(v)} for k, v in prefix_page(store, prefix, cursor, limit)]


def contract_history(store: KVStore, address: str) -> list[HistoryEntry]:
    prefix = _HISTORY + address.encode() + b"/"
    return [HistoryEntry(**json.loads(v)) for _, v in iterate_prefix(store, prefix)]
