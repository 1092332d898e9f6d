"""What every state transition works with: the state branch, the block, the gas meter."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ..vm.gas import GasMeter
from .kv import CacheKV, KVStore


@dataclass(frozen=True)
class BlockInfo:
    height: int
    time_ns: int          # from the block header; the app never reads a clock
    chain_id: str


@dataclass
class Context:
    store: KVStore
    block: BlockInfo
    meter: GasMeter
    tx_index: int | None = None
    depth: int = 0        # message nesting (submessages), bounded by MAX_CALL_DEPTH

    def branch(self, meter: GasMeter | None = None) -> tuple["Context", Callable[[], None]]:
        """A child context whose writes reach this one only when the returned commit is called."""
        cache = CacheKV(self.store)
        child = replace(self, store=cache, meter=meter or self.meter, depth=self.depth + 1)
        return child, cache.write
