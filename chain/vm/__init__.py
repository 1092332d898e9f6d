"""The CosmWasm-compatible contract host on wasmtime: validation, compile cache, imports, gas."""
from .errors import CompileError, ContractTrap, OutOfGas, VmError
from .gas import GasMeter
from .vm import VM

__all__ = ["VM", "GasMeter", "VmError", "OutOfGas", "ContractTrap", "CompileError"]
