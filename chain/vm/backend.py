"""What the VM needs from the chain for one call: contract storage, a querier, address rules.

The VM knows nothing of accounts, banks or contracts; the app hands it these three objects.
"""
from __future__ import annotations

from typing import Protocol

from .gas import GasMeter


class Storage(Protocol):
    """One contract's key space. Gas is charged by the VM, not here."""

    def get(self, key: bytes) -> bytes | None: ...

    def set(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...

    def next_item(self, start: bytes | None, end: bytes | None, descending: bool,
                  after: bytes | None) -> tuple[bytes, bytes] | None:
        """The first pair in [start, end) strictly past ``after`` in the given order (None: the first)."""
        ...


class Querier(Protocol):
    def query(self, request: bytes, meter: GasMeter, depth: int) -> bytes:
        """Answer a QueryRequest (JSON) with a SystemResult<ContractResult<Binary>> (JSON)."""
        ...


class AddressApi(Protocol):
    def canonicalize(self, human: str) -> bytes:
        """Raise ValueError with a readable reason when ``human`` is not a valid address."""
        ...

    def humanize(self, canonical: bytes) -> str: ...
