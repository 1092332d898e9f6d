"""Validators: the active set with power and PoE points, the jailed, and the set the next epoch would choose."""
from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from ..format import short, styled, when
from ..session import Session
from .base import DataScreen


class ValidatorsScreen(DataScreen):
    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("loading validators…", id="validators")
        yield Footer()

    def fetch(self, session: Session) -> dict[str, Any]:
        client = session.client
        data = client.validators()
        data["poe"] = {m["addr"]: m.get("points") for m in client.poe_points(limit=30).get("members", [])}
        return data

    def show(self, data: dict[str, Any]) -> None:
        poe = data["poe"]
        lines: list = [("Active set", "bold")]
        lines += [f"  {short(v.get('operator'), 14)}  power {v.get('power')}  PoE {poe.get(v.get('operator'), 0)}"
                  for v in data.get("active") or []]
        jailed = data.get("jailed") or []
        lines += ["", [("Jailed", "bold"), f": {len(jailed)}"]]
        lines += [f"  {short(j.get('operator') if isinstance(j, dict) else j, 14)}" for j in jailed]
        lines += ["", ("Simulated next epoch", "bold")]
        lines += [f"  {short(v.get('operator'), 14)}  power {v.get('power')}"
                  for v in data.get("simulated_next") or []]
        epoch = data.get("epoch") or {}
        lines += ["", f"epoch {epoch.get('current_epoch')} (length {epoch.get('epoch_length')} s), "
                      f"next update {when(epoch.get('next_update_time'))}"]
        self.query_one("#validators", Static).update(styled(lines))
