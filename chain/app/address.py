"""Address rules of this chain (bech32 with the chain's prefix), as the VM's AddressApi."""
from __future__ import annotations

from ..crypto import AddressError, decode_address, encode_address
from .errors import InvalidRequest


class Bech32Api:
    def __init__(self, prefix: str):
        self.prefix = prefix

    def canonicalize(self, human: str) -> bytes:
        try:
            return decode_address(self.prefix, human)
        except AddressError as exc:
            raise ValueError(str(exc)) from None

    def humanize(self, canonical: bytes) -> str:
        try:
            return encode_address(self.prefix, canonical)
        except AddressError as exc:
            raise ValueError(str(exc)) from None

    def validate(self, human: object, what: str = "address") -> str:
        """Return ``human`` if it is a normalized address of this chain, else raise InvalidRequest."""
        if not isinstance(human, str):
            raise InvalidRequest(f"invalid {what}: expected a string")
        try:
            if self.humanize(self.canonicalize(human)) != human:
                raise InvalidRequest(f"invalid {what}: {human} is not normalized")
        except ValueError as exc:
            raise InvalidRequest(f"invalid {what}: {exc}") from None
        return human
