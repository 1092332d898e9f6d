"""Blocks, block results and the transaction index: what the node keeps beside the state.

They live in the state's RocksDB database under their own prefixes and are written in the
same batch as the block's state, so after a crash the index never disagrees with the state.
Block and result bodies are opaque JSON bytes to the store; the tx record is ours:

    T || tx_hash                                   -> height (8) || index (4) || len(sender) (2)
                                                      || sender (UTF-8) || result JSON
    A || len(sender) (2) || sender || height (8) || index (4)  -> tx_hash   (newest last)
    K || len(contract) (2) || contract || height (8) || index (4)  -> tx_hash

The by-contract index (K) lists a tx under every contract its result events name in a
``_contract_address`` attribute (wasmd's key: the chain sets it, a contract cannot), so a call
reached through submessages is found too, as wasmd's event search finds it. A failed tx has no
events and is not listed, as in wasmd.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TxRecord", "RecordError", "encode_tx", "decode_tx", "sender_prefix", "sender_key", "MAX_SENDER_BYTES",
           "TX_HASH_BYTES", "contracts_of", "MAX_CONTRACTS_PER_TX"]

TX_HASH_BYTES = 32          # sha256 of the tx bytes
MAX_SENDER_BYTES = 0xFFFF   # the length field is two bytes; a bech32 address is < 100
MAX_TX_INDEX = 0xFFFFFFFF
MAX_CONTRACTS_PER_TX = 64   # index entries per tx: gas already bounds the calls, this bounds the writes
MAX_CONTRACT_CHARS = 256
# An attribute as canonical JSON writes it (keys sorted, "key" before "value"): found without parsing
# the result, so a tx that touched no contract (a send) costs one substring search.
_CONTRACT_ATTRIBUTE = b'"key":"_contract_address"'
_CONTRACT_VALUE = re.compile(rb'\{"key":"_contract_address","value":"([0-9A-Za-z]{1,%d})"\}' % MAX_CONTRACT_CHARS)


class RecordError(ValueError):
    """A block or tx record handed to the store is malformed; the message says which part."""


@dataclass(frozen=True)
class TxRecord:
    """One executed transaction: where it was included, who sent it, what it did (JSON)."""

    hash: bytes
    height: int
    index: int
    sender: str
    result: bytes

    def validate(self) -> None:
        if not isinstance(self.hash, bytes) or len(self.hash) != TX_HASH_BYTES:
            raise RecordError(f"tx hash must be {TX_HASH_BYTES} bytes (sha256 of the tx)")
        if not isinstance(self.height, int) or self.height < 1:
            raise RecordError(f"tx height must be a positive integer, got {self.height!r}")
        if not isinstance(self.index, int) or not 0 <= self.index <= MAX_TX_INDEX:
            raise RecordError(f"tx index must be 0..{MAX_TX_INDEX}, got {self.index!r}")
        if not isinstance(self.sender, str) or len(self.sender.encode()) > MAX_SENDER_BYTES:
            raise RecordError(f"tx sender must be a string of at most {MAX_SENDER_BYTES} bytes")
        if not isinstance(self.result, bytes):
            raise RecordError("tx result must be JSON bytes")


def encode_tx(record: TxRecord) -> bytes:
    sender = record.sender.encode()
    return (record.height.to_bytes(8, "big") + record.index.to_bytes(4, "big")
            + len(sender).to_bytes(2, "big") + sender + record.result)


def decode_tx(tx_hash: bytes, data: bytes) -> TxRecord:
    n = int.from_bytes(data[12:14], "big")
    return TxRecord(tx_hash, int.from_bytes(data[:8], "big"), int.from_bytes(data[8:12], "big"),
                    data[14:14 + n].decode(), data[14 + n:])


def sender_prefix(sender: str) -> bytes:
    raw = sender.encode()
    return len(raw).to_bytes(2, "big") + raw


def sender_key(sender: str, height: int, index: int) -> bytes:
    return sender_prefix(sender) + height.to_bytes(8, "big") + index.to_bytes(4, "big")


def contracts_of(result: bytes) -> list[str]:
    """The contracts a tx result's events name (``_contract_address``), each once, in first-seen order."""
    if _CONTRACT_ATTRIBUTE not in result:
        return []
    found: dict[str, None] = {}
    for match in _CONTRACT_VALUE.finditer(result):
        found.setdefault(match.group(1).decode(), None)
        if len(found) >= MAX_CONTRACTS_PER_TX:
            break
    return list(found)
