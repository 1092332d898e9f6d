"""The chain's governance parameters: one small record in state, set at genesis, changed by update_params.

Only what the code-proposal path and fees need lives here; each field is validated whenever it
is set, so a value that is in state is always usable.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..vm.validation import MAX_WASM_SIZE
from .address import Bech32Api
from .coins import coins_json, parse_coins
from .errors import InvalidRequest
from .kv import KVStore

PARAMS_KEY = b"params"                               # where the record lives (App memoizes by its bytes)
DEFAULT_PENDING_CODE_TTL_SECONDS = 14 * 24 * 3600    # two default voting periods (7 days each)
MIN_PENDING_CODE_TTL_SECONDS = 60
MAX_PENDING_CODE_TTL_SECONDS = 365 * 24 * 3600
MIN_CODE_PROPOSAL_BYTES = 1024                       # smaller than any useful contract


@dataclass(frozen=True)
class Params:
    max_code_proposal_bytes: int = MAX_WASM_SIZE      # upload size as sent (gzip counts compressed)
    pending_code_ttl_seconds: int = DEFAULT_PENDING_CODE_TTL_SECONDS
    min_fee: list[dict[str, str]] = field(default_factory=list)   # coins; [] = zero fees allowed
    governance_contract: str | None = None            # None: the single gov_executor holder

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


FIELD_NAMES = tuple(f.name for f in fields(Params))


def load(store: KVStore) -> Params:
    raw = store.get(PARAMS_KEY)
    return Params(**json.loads(raw)) if raw else Params()


def save(store: KVStore, params: Params) -> None:
    store.set(PARAMS_KEY, json.dumps(params.to_json(), sort_keys=True, separators=(",", ":")).encode())


def updated(current: Params, changes: Any, api: Bech32Api) -> Params:
    """``current`` with the fields in ``changes`` replaced, each validated; unknown fields are refused."""
    if not isinstance(changes, dict) or not changes:
        raise InvalidRequest(f"update_params needs an object with at least one of: {', '.join(FIELD_NAMES)}")
    unknown = sorted(set(changes) - set(FIELD_NAMES))
    if unknown:
        raise InvalidRequest(f"unknown param {unknown[0]!r}; known params: {', '.join(FIELD_NAMES)}")
    values: dict[str, Any] = {}
    if "max_code_proposal_bytes" in changes:
        values["max_code_proposal_bytes"] = _int_in_range(
            changes["max_code_proposal_bytes"], "max_code_proposal_bytes", MIN_CODE_PROPOSAL_BYTES, MAX_WASM_SIZE)
    if "pending_code_ttl_seconds" in changes:
        values["pending_code_ttl_seconds"] = _int_in_range(
            changes["pending_code_ttl_seconds"], "pending_code_ttl_seconds",
            MIN_PENDING_CODE_TTL_SECONDS, MAX_PENDING_CODE_TTL_SECONDS)
    if "min_fee" in changes:
        values["min_fee"] = coins_json(parse_coins(changes["min_fee"]))
    if "governance_contract" in changes:
        contract = changes["governance_contract"]
        values["governance_contract"] = None if contract is None else api.validate(contract, "governance_contract")
    return replace(current, **values)


def _int_in_range(value: Any, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidRequest(f"invalid {name}: {value!r} (expected an integer in {low}..={high})")
    return value
