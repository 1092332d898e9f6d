"""What the event stream says about one committed height, and which of it a subscription wants.

A committed height becomes a ``HeightFeed``: its messages, each encoded once (however many
subscribers there are), in the order a client reads them:

    {"height": H, "kind": "block", "hash", "time_ns", "proposer", "app_hash", "num_txs", "validator_updates"}
    {"height": H, "kind": "tx", "index", "hash", "tx", "code", "codespace", "log", "gas_used", "gas_wanted", "events"}
    {"height": H, "kind": "event", "source": "begin_block"|"tx"|"end_block", "tx_hash", "tx_index",
     "type", "attributes"}

Events come begin_block first, then each tx's (tx_hash and tx_index are null outside txs), then
end_block. The same feed is built from a live commit (the block and ``App.finalize_block``'s
answer) and from the store (a replayed height), so a resumed client reads exactly what a live one did.

A ``Subscription`` filters tx and event messages: ``contract`` (the event's ``_contract_address``),
``event_type`` (the event's type, e.g. "wasm", "transfer") and ``proposal_id`` (an attribute
``proposal_id`` equal to N, as the voting contract writes it); an event must pass all that are set,
and a tx passes if one of its events does. Block messages are never filtered: they mark progress.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

from ..app.address import Bech32Api
from ..app.errors import InvalidRequest
from ..codec import b64decode, b64encode, canonical_json
from ..crypto import sha256

KINDS = ("block", "tx", "event")
CONTRACT_KEY = "_contract_address"       # wasmd's attribute naming the contract that emitted an event
PROPOSAL_KEY = "proposal_id"             # the voting contract's attribute naming a proposal
MAX_EVENT_TYPE_CHARS = 128
MAX_HEIGHT = (1 << 63) - 1
MAX_PROPOSAL_ID = (1 << 64) - 1          # a u64 in the voting contract
TX_RESULT_FIELDS = ("code", "codespace", "log", "gas_used", "gas_wanted", "data")
SUBSCRIBE_FIELDS = {"kinds", "contract", "event_type", "proposal_id", "from_height"}


class SubscribeError(Exception):
    """A subscribe message the stream cannot accept; ``code`` is the error shape's short name."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class EventView:
    """An event reduced to what filters look at."""
    type: str
    contracts: frozenset[str]
    proposal_ids: frozenset[str]

    @classmethod
    def of(cls, event: dict[str, Any]) -> "EventView":
        attributes = event.get("attributes", [])
        return cls(str(event.get("type", "")),
                   frozenset(a["value"] for a in attributes if a.get("key") == CONTRACT_KEY),
                   frozenset(a["value"] for a in attributes if a.get("key") == PROPOSAL_KEY))


@dataclass(frozen=True)
class FeedItem:
    kind: str
    text: str                              # the message, encoded once
    events: tuple[EventView, ...]          # what a filter checks: the event itself, or a tx's events


@dataclass(frozen=True)
class Subscription:
    kinds: frozenset[str]
    contract: str | None = None
    event_type: str | None = None
    proposal_id: int | None = None
    from_height: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kinds": [k for k in KINDS if k in self.kinds], "contract": self.contract,
                "event_type": self.event_type, "proposal_id": self.proposal_id, "from_height": self.from_height}

    @property
    def filtered(self) -> bool:
        return self.contract is not None or self.event_type is not None or self.proposal_id is not None

    def matches_event(self, event: EventView) -> bool:
        return ((self.contract is None or self.contract in event.contracts)
                and (self.event_type is None or self.event_type == event.type)
                and (self.proposal_id is None or str(self.proposal_id) in event.proposal_ids))

    def wants(self, item: FeedItem) -> bool:
        if item.kind not in self.kinds:
            return False
        if item.kind == "block" or not self.filtered:
            return True
        return any(self.matches_event(event) for event in item.events)


def parse_subscribe(doc: Any, prefix: str) -> Subscription:
    """{"subscribe": {...}} -> Subscription; SubscribeError saying what to fix otherwise."""
    example = '{"subscribe": {"kinds": ["block", "tx", "event"], "contract": null, "event_type": null, ' \
              '"proposal_id": null, "from_height": null}}'
    if not isinstance(doc, dict) or set(doc) != {"subscribe"} or not isinstance(doc["subscribe"], dict):
        raise SubscribeError("invalid_request", f"send a subscribe message: {example}")
    body = doc["subscribe"]
    unknown = set(body) - SUBSCRIBE_FIELDS
    if unknown:
        raise SubscribeError("invalid_request", f"unknown subscribe field(s) {', '.join(sorted(unknown))[:200]}; "
                             f"the fields are {', '.join(sorted(SUBSCRIBE_FIELDS))}")
    kinds = body.get("kinds")
    if kinds is None:
        kinds = list(KINDS)
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) and k in KINDS for k in kinds):
        raise SubscribeError("invalid_kinds", f"kinds must be a non-empty list of {', '.join(KINDS)}")
    contract = body.get("contract")
    if contract is not None:
        try:
            Bech32Api(prefix).validate(contract, "contract")
        except InvalidRequest as exc:
            raise SubscribeError("invalid_address", f"{exc}: expected a {prefix}1... contract address") from None
    event_type = body.get("event_type")
    if event_type is not None and (not isinstance(event_type, str) or not 0 < len(event_type) <= MAX_EVENT_TYPE_CHARS):
        raise SubscribeError("invalid_event_type", f"event_type must be a non-empty string of at most "
                             f"{MAX_EVENT_TYPE_CHARS} characters, e.g. \"wasm\" or \"transfer\"")
    proposal_id = _optional_int(body, "proposal_id", 0, MAX_PROPOSAL_ID)
    from_height = _optional_int(body, "from_height", 1, MAX_HEIGHT)
    return Subscription(frozenset(kinds), contract, event_type, proposal_id, from_height)


def _optional_int(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if type(value) is not int or not low <= value <= high:
        raise SubscribeError(f"invalid_{name}", f"{name} must be an integer from {low} to {high}, or null")
    return value


@dataclass(frozen=True)
class HeightFeed:
    height: int
    items: tuple[FeedItem, ...]
    size: int                              # bytes of all messages: what a queued height costs

    def select(self, subscription: Subscription) -> Iterator[str]:
        return (item.text for item in self.items if subscription.wants(item))

    @classmethod
    def build(cls, height: int, header: dict[str, Any], txs: list[bytes], results: dict[str, Any]) -> "HeightFeed":
        """``header`` as Header.to_json gives it, ``results`` as finalize_block answers (app_hash bytes or hex)."""
        app_hash = results.get("app_hash", b"")
        items = [_item("block", {
            "height": height, "kind": "block", "hash": sha256(canonical_json(header)).hex(),
            "time_ns": header.get("time_ns"), "proposer": header.get("proposer"),
            "app_hash": app_hash.hex() if isinstance(app_hash, (bytes, bytearray)) else app_hash,
            "num_txs": len(txs),
            "validator_updates": json.loads(canonical_json(results.get("validator_updates", [])))}, ())]
        items += _event_items(height, "begin_block", None, None, results.get("begin_block", {}).get("events", []))
        event_items: list[FeedItem] = []
        for index, (raw, result) in enumerate(zip(txs, results.get("tx_results", []))):
            tx_hash = sha256(raw).hex().upper()
            events = [_event_json(e) for e in result.get("events", [])]
            items.append(_item("tx", {"height": height, "kind": "tx", "index": index, "hash": tx_hash,
                                      "tx": b64encode(raw), **{k: result.get(k) for k in TX_RESULT_FIELDS},
                                      "events": events}, tuple(EventView.of(e) for e in events)))
            event_items += _event_items(height, "tx", tx_hash, index, events)
        items += event_items
        items += _event_items(height, "end_block", None, None, results.get("end_block", {}).get("events", []))
        return cls(height, tuple(items), sum(len(item.text) for item in items))

    @classmethod
    def from_store(cls, height: int, block_raw: bytes, results_raw: bytes | None) -> "HeightFeed":
        """A committed height as the store keeps it (consensus Block JSON and the results JSON)."""
        block = json.loads(block_raw)
        results = json.loads(results_raw) if results_raw else {}
        return cls.build(height, block["header"], [b64decode(t) for t in block.get("txs", [])], results)


def _event_items(height: int, source: str, tx_hash: str | None, tx_index: int | None,
                 events: list[dict[str, Any]]) -> list[FeedItem]:
    return [_item("event", {"height": height, "kind": "event", "source": source, "tx_hash": tx_hash,
                            "tx_index": tx_index, **_event_json(e)}, (EventView.of(e),)) for e in events]


def _event_json(event: dict[str, Any]) -> dict[str, Any]:
    """One key order for an event, whether it comes from a live answer or from the store's canonical JSON."""
    return {"type": event.get("type"),
            "attributes": [{"key": a.get("key"), "value": a.get("value")} for a in event.get("attributes", [])]}


def _item(kind: str, message: dict[str, Any], events: tuple[EventView, ...]) -> FeedItem:
    return FeedItem(kind, json.dumps(message, separators=(",", ":")), events)
