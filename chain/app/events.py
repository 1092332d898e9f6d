"""Events and attributes, named as wasmd names them, and the checks wasmd applies to contract output."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidRequest

CONTRACT_ADDRESS_KEY = "_contract_address"
CUSTOM_EVENT_PREFIX = "wasm-"
MIN_EVENT_TYPE_LENGTH = 2


@dataclass
class Event:
    type: str
    attributes: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "attributes": [{"key": k, "value": v} for k, v in self.attributes]}

    def get(self, key: str) -> str | None:
        """The first value of attribute ``key`` (handy in tests)."""
        return next((v for k, v in self.attributes if k == key), None)


def _attributes(raw: Any) -> list[tuple[str, str]]:
    if not isinstance(raw, list):
        raise InvalidRequest("attributes must be a list")
    out = []
    for attr in raw:
        if not isinstance(attr, dict) or not isinstance(attr.get("key"), str) or not isinstance(attr.get("value"), str):
            raise InvalidRequest(f"invalid attribute: {attr!r}")
        key = attr["key"].strip()
        if not key:
            raise InvalidRequest("Attribute key must not be empty")
        if key.startswith("_"):
            raise InvalidRequest(f"Attribute key starts with reserved prefix _: {key}")
        out.append((key, attr["value"].strip()))
    return out


def contract_events(contract: str, attributes: Any, events: Any) -> list[Event]:
    """The "wasm" event (when there are attributes) and the "wasm-<type>" custom events."""
    out: list[Event] = []
    attrs = _attributes(attributes or [])
    if attrs:
        out.append(Event("wasm", [(CONTRACT_ADDRESS_KEY, contract)] + attrs))
    if not isinstance(events or [], list):
        raise InvalidRequest("events must be a list")
    for event in events or []:
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise InvalidRequest(f"invalid event: {event!r}")
        etype = event["type"].strip()
        if len(etype) < MIN_EVENT_TYPE_LENGTH:
            raise InvalidRequest(f"Event type too short: {etype!r}")
        out.append(Event(CUSTOM_EVENT_PREFIX + etype,
                         [(CONTRACT_ADDRESS_KEY, contract)] + _attributes(event.get("attributes", []))))
    return out
