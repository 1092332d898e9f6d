"""Activity: a live feed of blocks, txs and contract events, as the app's /events websocket delivers them."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Log

from .base import AppScreen


class ActivityScreen(AppScreen):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Log(id="feed", max_lines=1000)
        yield Footer()

    def on_screen_resume(self) -> None:
        log = self.query_one(Log)
        log.clear()
        log.write_lines(list(self.app.activity))

    def append(self, line: str) -> None:
        if self.is_mounted:
            self.query_one(Log).write_line(line)
