"""Proposal messages as a member reads them, for `conclave gov show` and the terminal UI.

A vote on a code upgrade should not need a second tool: next to the message this says which
contract it migrates (address and label), the checksum of the code it runs now, the checksum and
size of the code it would run, and the migrate message. ``code_facts`` asks a node for those facts
through the HTTP client; ``describe`` turns one message (and the facts) into lines of plain text.
Chain text is returned as-is: callers must not render it as markup.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from .client import ApiClientError, Client, read_pages

MAX_LISTED = 1000            # stored codes, and a contract's migrations, read for the facts
PAGE = 50                    # the API's largest page
MSG_PREVIEW = 160            # characters of an inner JSON message shown


@dataclass
class ContractFacts:
    label: str | None = None
    code_id: int | None = None          # the code it runs now
    checksum: str | None = None         # of that code
    previous_code_id: int | None = None  # the code before the latest migration, once there was one
    previous_checksum: str | None = None


@dataclass
class CodeFacts:
    """What a node knows about the code and contracts a proposal's messages name."""

    sizes: dict[str, int] = field(default_factory=dict)          # checksum -> wasm size (stored or pending)
    code_ids: dict[str, int] = field(default_factory=dict)       # checksum -> code id, once stored
    contracts: dict[str, ContractFacts] = field(default_factory=dict)


@dataclass
class StoredCodes:
    """The chain's stored codes by id, kept between lookups: codes are never removed and ids only grow,
    so a refresh reads only the codes stored since (a screen that reloads every block rescans nothing)."""

    by_id: dict[int, dict[str, Any]] = field(default_factory=dict)

    def refresh(self, client: Client) -> None:
        last = max(self.by_id, default=None)

        def page(after: Any) -> dict[str, Any]:
            return client.codes(limit=PAGE, start_after=last if after is None else after)
        for code in read_pages(_until_refused(page), "codes", "code_id", MAX_LISTED, PAGE):
            self.by_id[code["code_id"]] = code


def code_facts(client: Client, msgs: list[Any], stored: StoredCodes | None = None) -> CodeFacts:
    """Look up sizes, code ids and the migrated contracts' current code. Never raises on a lookup:
    what the node cannot say is simply missing (shown as "?"). ``stored`` carries the codes already read."""
    facts = CodeFacts()
    checksums, contracts = set(), set()
    for msg in msgs:
        custom = msg.get("custom") if isinstance(msg, dict) else None
        if not isinstance(custom, dict):
            continue
        for kind in ("store_code", "migrate_contract", "pin_code"):
            body = custom.get(kind)
            if isinstance(body, dict) and isinstance(body.get("checksum"), str):
                checksums.add(body["checksum"])
            if kind == "migrate_contract" and isinstance(body, dict) and isinstance(body.get("contract"), str):
                contracts.add(body["contract"])
    if not checksums and not contracts:
        return facts
    stored = stored if stored is not None else StoredCodes()
    stored.refresh(client)
    by_id = {code_id: code["checksum"] for code_id, code in stored.by_id.items()}
    for code_id, code in stored.by_id.items():
        facts.sizes[code["checksum"]] = code.get("size")
        facts.code_ids[code["checksum"]] = code_id
    try:
        for pending in client.pending_code():
            facts.sizes.setdefault(pending.get("checksum"), pending.get("size"))
    except ApiClientError:
        pass
    for address in sorted(contracts):
        facts.contracts[address] = _contract_facts(client, address, by_id)
    return facts


def _until_refused(fetch: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    """A page reader whose list ends (an empty page) where the node stops answering: the pages read stay."""
    def page(after: Any) -> dict[str, Any]:
        try:
            return fetch(after)
        except ApiClientError:
            return {}
    return page


def _contract_facts(client: Client, address: str, by_id: dict[int, str]) -> ContractFacts:
    try:
        info = client.contract(address)
    except ApiClientError:
        return ContractFacts()
    facts = ContractFacts(label=info.get("label"), code_id=info.get("code_id"),
                          checksum=by_id.get(info.get("code_id")))
    history = read_pages(_until_refused(lambda after: client.contract_history(address, limit=PAGE, start_after=after)),
                         "entries", "seq", MAX_LISTED, PAGE)
    codes = [e.get("code_id") for e in history]
    if len(codes) >= 2:
        facts.previous_code_id = codes[-2]
        facts.previous_checksum = by_id.get(codes[-2])
    return facts


def describe(msg: Any, facts: CodeFacts | None = None) -> list[str]:
    """One message: a first line saying what it does, then indented detail lines."""
    facts = facts or CodeFacts()
    if not isinstance(msg, dict):
        return [json.dumps(msg)[:200]]
    custom = msg.get("custom")
    if isinstance(custom, dict) and isinstance(custom.get("store_code"), dict):
        checksum = str(custom["store_code"].get("checksum"))
        return [f"store code sha256 {checksum} ({_size(facts, checksum)})"]
    if isinstance(custom, dict) and isinstance(custom.get("migrate_contract"), dict):
        return _describe_migration(custom["migrate_contract"], facts)
    if isinstance(custom, dict) and isinstance(custom.get("pin_code"), dict):
        return [f"pin code sha256 {custom['pin_code'].get('checksum')}"]
    wasm = msg.get("wasm")
    if isinstance(wasm, dict) and isinstance(wasm.get("execute"), dict):
        e = wasm["execute"]
        return [f"execute on {e.get('contract_addr')}: {decoded(e.get('msg'))}"]
    bank = msg.get("bank")
    if isinstance(bank, dict) and isinstance(bank.get("send"), dict):
        s = bank["send"]
        amounts = ", ".join(f"{c.get('amount')}{c.get('denom')}" for c in s.get("amount", []) if isinstance(c, dict))
        return [f"send {amounts} to {s.get('to_address')}"]
    return [json.dumps(msg)[:200]]


def _describe_migration(m: dict[str, Any], facts: CodeFacts) -> list[str]:
    contract, new = str(m.get("contract")), str(m.get("checksum"))
    known = facts.contracts.get(contract, ContractFacts())
    if known.checksum == new and known.previous_checksum:     # already executed: it runs the new code
        old_id, old = known.previous_code_id, known.previous_checksum
    else:
        old_id, old = known.code_id, known.checksum
    new_id = facts.code_ids.get(new)
    verb = "ran" if known.checksum == new and known.previous_checksum else "runs"
    return [f"migrate {contract} to code sha256 {new} with {decoded(m.get('msg'))}",
            f"   contract {known.label or '?'} {verb} code {_id(old_id)}, sha256 {old or '?'}",
            f"   new code {_id(new_id) if new_id is not None else '(stored when executed)'}, {_size(facts, new)}"]


def _id(code_id: int | None) -> str:
    return str(code_id) if code_id is not None else "?"


def _size(facts: CodeFacts, checksum: str) -> str:
    size = facts.sizes.get(checksum)
    return f"{size:,} bytes" if isinstance(size, int) else "size unknown"


def decoded(encoded: Any) -> str:
    """A base64 JSON message as text (cut to MSG_PREVIEW); anything else as it came."""
    try:
        return base64.b64decode(str(encoded), validate=True).decode()[:MSG_PREVIEW]
    except (ValueError, UnicodeDecodeError):
        return str(encoded)[:MSG_PREVIEW]
