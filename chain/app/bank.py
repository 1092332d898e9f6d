"""Native balances: send, burn, mint, and the events cosmos-sdk's bank module emits for them."""
from __future__ import annotations

from .coins import coins_text
from .errors import AppError
from .events import Event
from .kv import KVStore, iterate_prefix

_BALANCE = b"bank/balance/"
_SUPPLY = b"bank/supply/"


class InsufficientFunds(AppError):
    pass


def _balance_key(address: str, denom: str) -> bytes:
    return _BALANCE + address.encode() + b"/" + denom.encode()


def balance(store: KVStore, address: str, denom: str) -> int:
    raw = store.get(_balance_key(address, denom))
    return int(raw) if raw else 0


def all_balances(store: KVStore, address: str) -> list[tuple[str, int]]:
    prefix = _BALANCE + address.encode() + b"/"
    return [(k[len(prefix):].decode(), int(v)) for k, v in iterate_prefix(store, prefix)]


def supply(store: KVStore, denom: str) -> int:
    raw = store.get(_SUPPLY + denom.encode())
    return int(raw) if raw else 0


def _set_balance(store: KVStore, address: str, denom: str, amount: int) -> None:
    if amount:
        store.set(_balance_key(address, denom), str(amount).encode())
    else:
        store.delete(_balance_key(address, denom))


def _subtract(store: KVStore, address: str, coins: list[tuple[str, int]]) -> None:
    for denom, amount in coins:
        have = balance(store, address, denom)
        if have < amount:
            raise InsufficientFunds(f"insufficient funds: {address} has {have}{denom}, needs {amount}{denom}")
        _set_balance(store, address, denom, have - amount)


def _add(store: KVStore, address: str, coins: list[tuple[str, int]]) -> None:
    for denom, amount in coins:
        _set_balance(store, address, denom, balance(store, address, denom) + amount)


def send(store: KVStore, sender: str, recipient: str, coins: list[tuple[str, int]]) -> list[Event]:
    if not coins:
        return []
    _subtract(store, sender, coins)
    _add(store, recipient, coins)
    amount = coins_text(coins)
    return [
        Event("coin_spent", [("spender", sender), ("amount", amount)]),
        Event("coin_received", [("receiver", recipient), ("amount", amount)]),
        Event("transfer", [("recipient", recipient), ("sender", sender), ("amount", amount)]),
    ]


def burn(store: KVStore, burner: str, coins: list[tuple[str, int]]) -> list[Event]:
    _subtract(store, burner, coins)
    for denom, amount in coins:
        store.set(_SUPPLY + denom.encode(), str(supply(store, denom) - amount).encode())
    amount = coins_text(coins)
    return [Event("coin_spent", [("spender", burner), ("amount", amount)]),
            Event("burn", [("burner", burner), ("amount", amount)])]


def mint(store: KVStore, recipient: str, coins: list[tuple[str, int]]) -> list[Event]:
    _add(store, recipient, coins)
    for denom, amount in coins:
        store.set(_SUPPLY + denom.encode(), str(supply(store, denom) + amount).encode())
    amount = coins_text(coins)
    return [Event("coinbase", [("minter", recipient), ("amount", amount)]),
            Event("coin_received", [("receiver", recipient), ("amount", amount)])]
