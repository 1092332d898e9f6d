"""Screen snapshots: SVG screenshots kept in docs/screenshots (the user guide shows them) and compared by their
words, not their bytes.

Live data (heights, times, hashes, counts) changes from run to run, so a snapshot is compared by the
set of words of three or more letters it shows — titles, labels, column headers, footer bindings,
addresses — leaving out digits, hex-only tokens and the rows of the activity feed. A missing
reference is written (and the test passes); set CONCLAVE_UPDATE_SNAPSHOTS=1 to rewrite them all after an intended change.
"""
from __future__ import annotations

import html
import os
import re
from pathlib import Path

SNAPSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"   # the user guide shows them
UPDATE_ENV = "CONCLAVE_UPDATE_SNAPSHOTS"
_TEXT = re.compile(r'<text[^>]*?y="([\d.]+)"[^>]*>(.*?)</text>', re.S)
_FEED_LINE = re.compile(r"^\s*#\d+ ")            # an activity line: what happened at a height varies
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]{2,}")
_VOLATILE = re.compile(r"^[a-f]+$|\d")


def rows(svg: str) -> list[str]:
    """The text of an SVG screenshot, row by row from the top, as the terminal shows it."""
    by_y: dict[float, str] = {}
    for y, fragment in _TEXT.findall(svg):
        by_y[float(y)] = by_y.get(float(y), "") + html.unescape(re.sub(r"<[^>]+>", "", fragment)).replace("\xa0", " ")
    return [by_y[y] for y in sorted(by_y)]


def words(svg: str) -> set[str]:
    """The stable words an SVG screenshot shows (rows of the live activity feed left out)."""
    shown = " ".join(row for row in rows(svg) if not _FEED_LINE.match(row))
    return {w for w in _WORD.findall(shown) if not _VOLATILE.search(w)}


def check(app, name: str) -> None:
    """Save ``app``'s screen as NAME.svg and compare it with the stored reference."""
    SNAPSHOT_DIR.mkdir(exist_ok=True)
    svg = app.export_screenshot(title=name)
    reference = SNAPSHOT_DIR / f"{name}.svg"
    if os.environ.get(UPDATE_ENV) or not reference.exists():
        reference.write_text(svg)
        return
    want, got = words(reference.read_text()), words(svg)
    assert want == got, (f"{name}: screen differs from {reference.name}: missing {sorted(want - got)[:20]}, "
                         f"new {sorted(got - want)[:20]} (rewrite with {UPDATE_ENV}=1 if intended)")
