"""Errors a contract call can end in. Each fails only that call; the host and the store are unharmed."""
from __future__ import annotations


class VmError(Exception):
    """The call could not run or broke the ABI (bad region, invalid JSON, limits). Message is user-facing."""


class OutOfGas(VmError):
    """The call used all the gas it was given."""

    def __init__(self, message: str = "out of gas"):
        super().__init__(message)


class ContractTrap(VmError):
    """The guest trapped: unreachable, stack exhaustion, memory fault, abort or panic."""


class CompileError(VmError):
    """The module was refused by static validation or failed to compile."""


class ResourceExhausted(RuntimeError):
    """The host ran out of something no contract controls (the instance pool): never a call's result.

    Deliberately not a VmError: recording it as a failed tx would let nodes disagree, so it stops
    the block instead.
    """
