"""Blocks, block results and the transaction index: what the node keeps beside the state.

They live in the state's RocksDB database under their own prefixes and are written in the
same batch as the block's state, so after a crash the index never disagrees with the state.
Block and result bodies are opaque JSON bytes to the store; the tx record is ours:

    T || tx_hash                                   -> height (8) || index (4) || len(sender) (2)
                                                      || sender (UTF-8) || result JSON
    A || len(sender) (2) || sender || height (8) || index (4)  -> tx_hash   (newest last)
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TxRecord", "RecordError", "encode_tx", "decode_tx", "sender_prefix", "sender_key", "MAX_SENDER_BYTES",
           "TX_HASH_BYTES"]

TX_HASH_BYTES = 32          # sha256 of the tx bytes
MAX_SENDER_BYTES = 0xFFFF   # the length field is two bytes; a bech32 address is < 100
MAX_TX_INDEX = 0xFFFFFFFF


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
