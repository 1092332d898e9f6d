"""The two protobuf messages a reply's data carries (wasmd msg responses), encoded by hand.

cw-utils' parse_reply_instantiate_data / parse_execute_response_data decode these, so
contracts built with cw-plus need the exact bytes wasmd produces.
"""
from __future__ import annotations

EXECUTE_RESPONSE_TYPE = "/cosmwasm.wasm.v1.MsgExecuteContractResponse"
INSTANTIATE_RESPONSE_TYPE = "/cosmwasm.wasm.v1.MsgInstantiateContractResponse"
INSTANTIATE2_RESPONSE_TYPE = "/cosmwasm.wasm.v1.MsgInstantiateContract2Response"
MIGRATE_RESPONSE_TYPE = "/cosmwasm.wasm.v1.MsgMigrateContractResponse"
SEND_RESPONSE_TYPE = "/cosmos.bank.v1beta1.MsgSendResponse"
BURN_RESPONSE_TYPE = "/cosmos.bank.v1beta1.MsgBurnResponse"
UPDATE_ADMIN_RESPONSE_TYPE = "/cosmwasm.wasm.v1.MsgUpdateAdminResponse"
CLEAR_ADMIN_RESPONSE_TYPE = "/cosmwasm.wasm.v1.MsgClearAdminResponse"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _bytes_field(number: int, value: bytes) -> bytes:
    if not value:
        return b""  # proto3 omits empty fields
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def execute_response(data: bytes | None) -> bytes:
    """MsgExecuteContractResponse { bytes data = 1; }"""
    return _bytes_field(1, data or b"")


def instantiate_response(address: str, data: bytes | None) -> bytes:
    """MsgInstantiateContractResponse { string address = 1; bytes data = 2; }"""
    return _bytes_field(1, address.encode()) + _bytes_field(2, data or b"")


def migrate_response(data: bytes | None) -> bytes:
    """MsgMigrateContractResponse { bytes data = 1; }"""
    return _bytes_field(1, data or b"")
