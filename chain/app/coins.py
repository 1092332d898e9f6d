"""Coins as cosmwasm-std writes them: {"denom": "ucnv", "amount": "100"} (amount a decimal string)."""
from __future__ import annotations

import re
from typing import Any, Iterable

from .errors import InvalidRequest

DENOM_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$")  # cosmos-sdk reDnmString
MAX_AMOUNT = (1 << 128) - 1                                   # Uint128


def validate_denom(denom: object) -> str:
    if not isinstance(denom, str) or not DENOM_RE.match(denom):
        raise InvalidRequest(f"invalid denom: {denom!r}")
    return denom


def parse_amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidRequest(f"invalid amount: {value!r} (expected a decimal string)")
    text = str(value)
    if not text.isdigit() or not text.isascii() or (len(text) > 1 and text[0] == "0"):
        raise InvalidRequest(f"invalid amount: {value!r}")
    amount = int(text)
    if amount > MAX_AMOUNT:
        raise InvalidRequest(f"amount {text} exceeds Uint128")
    return amount


def parse_coins(raw: Any, allow_empty: bool = True) -> list[tuple[str, int]]:
    """Validate a coin list: positive amounts, valid and unique denoms (cosmos-sdk Coins.Validate)."""
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise InvalidRequest("coins must be a list of {denom, amount}")
    coins: list[tuple[str, int]] = []
    seen: set[str] = set()
    for coin in raw:
        if not isinstance(coin, dict) or set(coin) - {"denom", "amount"}:
            raise InvalidRequest(f"invalid coin: {coin!r}")
        denom = validate_denom(coin.get("denom"))
        amount = parse_amount(coin.get("amount"))
        if amount == 0:
            raise InvalidRequest(f"invalid coins: zero amount of {denom}")
        if denom in seen:
            raise InvalidRequest(f"invalid coins: duplicate denom {denom}")
        seen.add(denom)
        coins.append((denom, amount))
    if not coins and not allow_empty:
        raise InvalidRequest("no coins given")
    return coins


def coins_json(coins: Iterable[tuple[str, int]]) -> list[dict[str, str]]:
    return [{"denom": d, "amount": str(a)} for d, a in coins]


def coins_text(coins: Iterable[tuple[str, int]]) -> str:
    """cosmos-sdk Coins.String(): "100ucnv,5uatom"."""
    return ",".join(f"{a}{d}" for d, a in coins)
