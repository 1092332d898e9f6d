"""The dashboard: the chain's pulse, my place in the circle, my points, and the proposals waiting for my vote."""
from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from ..format import block_time, short, styled, when
from ..errors import ActionError
from ..session import CircleRules, Session
from .base import DataScreen

MAX_OPEN_CHECKED = 20    # open proposals whose votes are read to find the ones still needing mine


class DashboardScreen(DataScreen):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("connecting…", id="chain")
        yield Static("", id="me")
        yield Static("", id="todo")
        yield Footer()

    def fetch(self, session: Session) -> dict[str, Any]:
        client = session.client
        data: dict[str, Any] = {"status": client.status(), "address": session.address}
        open_ = client.proposals(status="open", limit=MAX_OPEN_CHECKED)["proposals"]
        if session.address:
            data["member"] = client.circle_member(session.address)
            data["points"] = client.points(session.address)
            try:
                data["rules"] = session.rules()
            except ActionError:
                data["rules"] = None         # the dashboard still shows the rest; the circle screen says why
            voted = set()
            for p in open_:
                voters = {v.get("voter") for v in client.votes(p["id"], limit=30).get("votes", [])}
                if session.address in voters:
                    voted.add(p["id"])
            open_ = [p for p in open_ if p["id"] not in voted]
        data["open"] = open_
        return data

    def show(self, data: dict[str, Any]) -> None:
        status = data["status"]
        self.query_one("#chain", Static).update(
            styled([[("Chain", "bold"), f" {status.get('chain_id')}   height {status.get('height')}   "
                     f"block time {block_time(status.get('latest_block_time_ns'))}   peers {status.get('peers')}"]]))
        if data["address"] is None:
            me = styled([[("Read-only", "bold"), ": no key. Press s to sign in with one and vote."]])
        else:
            member, points = data["member"], data["points"]
            claim = f", claimable from {when(member['claim_at'])}" if member.get("claim_at") else ""
            me = styled([[("Me", "bold"), f" {self.app.session.key_name} {short(data['address'])}"],
                         f"  circle status {member.get('status') or 'not a member'}; "
                         f"escrow {escrow_text(member, data.get('rules'))}{claim}",
                         f"  engagement {points.get('engagement') or 0}   stake {points.get('stake') or 0}   "
                         f"PoE points {points.get('poe') or 0}"])
        self.query_one("#me", Static).update(me)
        open_ = data["open"]
        title = "needing my vote" if data["address"] else "open"
        lines: list = [[(f"Proposals {title}", "bold"), f": {len(open_)}"]]
        lines += [f"  #{p['id']} {str(p.get('title'))[:60]}" for p in open_[:8]]
        self.query_one("#todo", Static).update(styled(lines))


def escrow_text(member: dict[str, Any], rules: CircleRules | None) -> str:
    """My escrow with its denom against the circle's requirement: "400ucnv of 1000ucnv required (owe 600)"."""
    held = str(member.get("escrow") or "0")
    if rules is None:
        return held
    text = f"{held}{rules.denom} of {rules.escrow_amount}{rules.denom} required"
    if member.get("status") in ("pending", "pending_paid", "voting") and held.isdigit():
        owed = rules.escrow_amount - int(held)
        if owed > 0:
            text += f" (owe {owed})"
    return text
