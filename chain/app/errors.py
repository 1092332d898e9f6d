"""Errors of the state machine. All are deterministic: every node produces the same message."""
from __future__ import annotations


class AppError(Exception):
    """A message or transaction was refused; its effects are rolled back. Message is user-facing."""


class ContractError(AppError):
    """The contract itself returned an error; ``str(err)`` is the contract's own message."""

    def __init__(self, message: str, contract: str = ""):
        super().__init__(message)
        self.contract = contract


class NotFound(AppError):
    pass


class Unauthorized(AppError):
    pass


class InvalidRequest(AppError):
    """Malformed input: bad JSON, bad address, bad coins, unknown message kind."""
