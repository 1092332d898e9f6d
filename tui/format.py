"""Plain-text renderings of chain data for the screens: tally bars, proposal messages, times, amounts."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from rich.text import Text

BAR_WIDTH = 20


Line = str | Text | tuple[str, str] | list["str | Text | tuple[str, str]"]
BAR_STYLES = {"#": "green", "x": "red", "=": "yellow", "!": "magenta", "|": "bold"}   # yes, no, abstain, veto, quorum
STATUS_STYLES = {"open": "yellow", "passed": "green", "executed": "cyan", "rejected": "red", "expired": "dim"}


def styled(lines: list[Line]) -> Text:
    """Screen text with no markup parsing: chain data (a title like "[bold" or "\\[") shows literally.

    Each line is a string, a rich Text (already styled), a (text, style) pair, or a list of those."""
    out = Text()
    for i, line in enumerate(lines):
        if i:
            out.append("\n")
        for part in line if isinstance(line, list) else [line]:
            if isinstance(part, Text):
                out.append_text(part)
            elif isinstance(part, tuple):
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


BAR_EIGHTHS = " ▏▎▍▌▋▊▉"      # a cell filled by 0..7 eighths; "█" is a full cell
MAX_BAR_CELLS = 1000            # no terminal is wider: a larger width is a caller's slip, not a request


def colored_bar(bar: str) -> Text:
    """A tally bar (from ``tally_bar``) with its cells coloured: yes green, no red, abstain yellow, veto magenta."""
    inside = bar.find("]") + 1 if bar.startswith("[") else 0
    text = Text()
    for i, char in enumerate(bar[:inside]):
        text.append(char, style=BAR_STYLES.get(char, "dim" if char == "." else ""))
    text.append(bar[inside:])
    return text


def status_text(status: Any) -> Text:
    """A proposal status in its colour (open yellow, passed green, executed cyan, rejected red, expired dim)."""
    return Text(str(status), style=STATUS_STYLES.get(str(status), ""))


def points_bar(points: Any, widest: Any, width: int) -> str:
    """A horizontal bar exactly ``width`` cells long (space-padded), full at ``widest`` points.

    Eighth blocks give sub-cell resolution, and any positive value gets at least one eighth so a member
    with few points still shows beside a whale. Points come from the node: zero, negative, None, bools
    and non-integers draw an empty bar, and a value above ``widest`` (or a bad ``widest``) is capped at full."""
    def positive(value: Any) -> int:
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    cells = min(positive(width), MAX_BAR_CELLS)
    value = positive(points)
    top = max(positive(widest), value)
    if not cells or not value:
        return " " * cells
    eighths = min(cells * 8, max(1, (value * cells * 8 + top // 2) // top))   # integers: exact for u64 points
    full, part = divmod(eighths, 8)
    return ("█" * full + (BAR_EIGHTHS[part] if part else "")).ljust(cells)
