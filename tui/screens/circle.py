"""The trusted circle: members with status and escrow; deposit my escrow, or leave."""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Header

from ..session import Session
from .base import DataScreen
from .confirm import Confirm, Prompt

LIST_LIMIT = 30        # the API's page size limit


class CircleScreen(DataScreen):
    BINDINGS = [("D", "deposit", "Deposit escrow"), ("L", "leave", "Leave circle")]

    def compose(self) -> ComposeResult:
        yield Header()
        table = DataTable(id="members", cursor_type="row")
        table.add_columns("Member", "Status", "Escrow", "Claim at")
        yield table
        yield Footer()

    def fetch(self, session: Session) -> list[dict[str, Any]]:
        return session.client.circle_members(limit=LIST_LIMIT)["members"]

    def show(self, members: list[dict[str, Any]]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        me = self.app.session.address
        for m in members:
            name = str(m.get("addr")) + (" (me)" if m.get("addr") == me else "")
            table.add_row(*(Text(cell) for cell in (name, str(m.get("status")), str(m.get("escrow")),
                                                     str(m.get("claim_at") or "-"))))

    def action_deposit(self) -> None:
        session = self.app.session

        def got(amount: str | None) -> None:
            if amount is None:
                return
            if not amount.strip().isdigit() or int(amount) <= 0:
                self.app.notify(f"escrow amount must be a positive whole number of ucnv, got {amount[:20]!r}",
                                severity="error")
                return

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self.run_action(lambda: session.deposit_escrow(int(amount)), f"deposited {amount}ucnv escrow")
            self.app.push_screen(Confirm(f"Deposit {int(amount)}ucnv as escrow?"), confirmed)
        self.app.push_screen(Prompt("Escrow to deposit (ucnv)"), got)

    def action_leave(self) -> None:
        session = self.app.session

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_action(session.leave, "left the circle")
        self.app.push_screen(Confirm("Leave the trusted circle? Your escrow is returned after the waiting period."),
                             confirmed)
