"""Gas: what a contract call costs, in one documented table.

Three units meet here:
- *fuel*: wasmtime's counter, ~1 per wasm instruction. It is the VM's internal unit because
  the store decrements it for free while wasm runs.
- *CosmWasm gas*: cosmwasm-vm's GasConfig prices (115 per instruction, 18,000 per host call …).
  One fuel is worth ``WASM_GAS_PER_FUEL`` CosmWasm gas (wasmtime cannot weight branches apart,
  so every instruction is priced as cosmwasm-vm prices the common case).
- *SDK gas*: what transactions state as gas_limit and report as gas_used, as in wasmd:
  CosmWasm gas / ``GAS_MULTIPLIER``. Storage is priced in SDK gas as cosmos-sdk's KVGasConfig.

Conversions round up, so no work is ever free and every node computes the same figures.
"""
from __future__ import annotations

from dataclasses import dataclass

WASM_GAS_PER_FUEL = 115          # cosmwasm-vm: cost of one ordinary wasm operation
GAS_MULTIPLIER = 140_000         # wasmd DefaultGasMultiplier: CosmWasm gas per SDK gas


@dataclass(frozen=True)
class HostCosts:
    """CosmWasm-gas prices of host work (cosmwasm-vm GasConfig and environment.rs)."""

    host_call: int = 18_000                  # every import call, before its own price
    read_region_base: int = 200_000         # reading a region from guest memory
    read_region_per_byte: int = 115
    write_region_base: int = 230_000        # writing a region into guest memory
    write_region_per_byte: int = 570
    ed25519_verify: int = 35_000_000
    ed25519_batch_verify_base: int = 24_000_000
    ed25519_batch_verify_per_sig: int = 21_000_000
    secp256k1_verify: int = 96_000_000
    secp256k1_recover_pubkey: int = 194_000_000
    secp256r1_verify: int = 279_000_000
    secp256r1_recover_pubkey: int = 592_000_000
    bls12_381_base: int = 1_000_000          # charged before answering "unsupported"
    addr_validate: int = 11_000_000          # cosmwasm-vm default_gas_cost for address ops
    addr_canonicalize: int = 8_000_000
    addr_humanize: int = 8_000_000
    debug_per_byte: int = 0                  # debug is free apart from the host call


@dataclass(frozen=True)
class StorageCosts:
    """SDK-gas prices of state access (cosmos-sdk store/types/gas.go KVGasConfig)."""

    has: int = 1_000
    read_flat: int = 1_000
    read_per_byte: int = 3
    write_flat: int = 2_000
    write_per_byte: int = 30
    delete: int = 1_000
    iter_next_flat: int = 30


HOST_COSTS = HostCosts()
STORAGE_COSTS = StorageCosts()


def fuel_for_wasm_gas(wasm_gas: int) -> int:
    """Fuel that pays ``wasm_gas`` CosmWasm gas, rounded up."""
    return -(-wasm_gas // WASM_GAS_PER_FUEL)


def fuel_for_sdk_gas(sdk_gas: int) -> int:
    """Fuel worth ``sdk_gas`` SDK gas, rounded up (used to price storage and gas limits)."""
    return -(-sdk_gas * GAS_MULTIPLIER // WASM_GAS_PER_FUEL)


def sdk_gas_for_fuel(fuel: int) -> int:
    """SDK gas that ``fuel`` fuel consumed, rounded up."""
    return -(-fuel * WASM_GAS_PER_FUEL // GAS_MULTIPLIER)


def fuel_limit_for_sdk_gas(sdk_gas: int) -> int:
    """Fuel a call may burn when ``sdk_gas`` SDK gas remain (rounded down: never more than paid)."""
    return sdk_gas * GAS_MULTIPLIER // WASM_GAS_PER_FUEL


class GasMeter:
    """Counts fuel used against a limit; shared by a call and everything it calls."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    @classmethod
    def with_sdk_gas(cls, sdk_gas: int) -> "GasMeter":
        return cls(fuel_limit_for_sdk_gas(sdk_gas))

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    def consume(self, fuel: int) -> None:
        from .errors import OutOfGas  # local: errors imports nothing, but keep gas importable alone

        if fuel > self.limit - self.used:
            self.used = self.limit
            raise OutOfGas()
        self.used += fuel

    def consume_sdk(self, sdk_gas: int) -> None:
        self.consume(fuel_for_sdk_gas(sdk_gas))

    @property
    def gas_used(self) -> int:
        """SDK gas used so far, as transactions report it."""
        return sdk_gas_for_fuel(self.used)
