"""Plain-text renderings of chain data for the screens: tally bars, proposal messages, times, amounts."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from rich.text import Text

BAR_WIDTH = 20


Line = str | tuple[str, str] | list["str | tuple[str, str]"]


def styled(lines: list[Line]) -> Text:
    """Screen text with no markup parsing: chain data (a title like "[bold" or "\\[") shows literally.

    Each line is a string, a (text, style) pair, or a list of those."""
    out = Text()
    for i, line in enumerate(lines):
        if i:
            out.append("\n")
        for part in line if isinstance(line, list) else [line]:
            if isinstance(part, tuple):
                out.append(str(part[0]), style=part[1])
            else:
                out.append(str(part))
    return out


def when(seconds: Any) -> str:
    if not isinstance(seconds, int):
        return "-"
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def block_time(ns: Any) -> str:
    if not isinstance(ns, int):
        return "-"
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).strftime("%H:%M:%S UTC")


def short(address: Any, keep: int = 10) -> str:
    text = str(address or "-")
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-6:]}"


def _count(value: Any) -> int:
    """A vote count as the node sent it; anything but a non-negative integer counts as 0."""
    return value if isinstance(value, int) and value >= 0 else 0


def _ratio(text: Any) -> Decimal:
    try:
        return Decimal(str(text))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def tally_bar(votes: dict[str, Any], total: Any, rules: dict[str, Any] | None, width: int = BAR_WIDTH) -> str:
    """yes/no/abstain/veto counts and a bar of the turnout, with the quorum mark ``|`` inside it.

    Example: ``[###==|......] yes 1 no 1 abs 0 veto 0 / 3  quorum 30% threshold 51%``."""
    total_n = total if isinstance(total, int) and total > 0 else 0
    yes, no, abstain, veto = (_count(votes.get(k)) for k in ("yes", "no", "abstain", "veto"))
    rules = rules or {}
    quorum, threshold = _ratio(rules.get("quorum")), _ratio(rules.get("threshold"))
    cells = ["."] * width
    if total_n:
        filled = 0
        for count, mark in ((yes, "#"), (no, "x"), (abstain, "="), (veto, "!")):
            n = round(count * width / total_n)
            for i in range(filled, min(width, filled + n)):
                cells[i] = mark
            filled += n
        q = max(0, min(width - 1, int(quorum * width)))
        if cells[q] == ".":
            cells[q] = "|"
    return (f"[{''.join(cells)}] yes {yes} no {no} abs {abstain} veto {veto} / {total_n}  "
            f"quorum {quorum * 100:.0f}% threshold {threshold * 100:.0f}%")


def describe_msg(msg: Any) -> str:
    """One proposal message as a member reads it: what it does to which contract, with the inner JSON decoded."""
    if not isinstance(msg, dict):
        return json.dumps(msg)[:200]
    custom = msg.get("custom")
    if isinstance(custom, dict) and "store_code" in custom:
        return f"store code sha256 {custom['store_code'].get('checksum')}"
    if isinstance(custom, dict) and "migrate_contract" in custom:
        m = custom["migrate_contract"]
        return f"migrate {short(m.get('contract'))} to code {m.get('checksum', '')[:12]} with {_decoded(m.get('msg'))}"
    wasm = msg.get("wasm")
    if isinstance(wasm, dict) and isinstance(wasm.get("execute"), dict):
        e = wasm["execute"]
        return f"execute on {short(e.get('contract_addr'))}: {_decoded(e.get('msg'))}"
    bank = msg.get("bank")
    if isinstance(bank, dict) and isinstance(bank.get("send"), dict):
        s = bank["send"]
        amounts = ", ".join(f"{c.get('amount')}{c.get('denom')}" for c in s.get("amount", []))
        return f"send {amounts} to {short(s.get('to_address'))}"
    return json.dumps(msg)[:200]


def _decoded(encoded: Any) -> str:
    try:
        return base64.b64decode(str(encoded), validate=True).decode()[:160]
    except (ValueError, UnicodeDecodeError):
        return str(encoded)[:160]
