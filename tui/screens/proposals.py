"""Proposals: the list with live tallies, one proposal in detail (vote, execute), and a new proposal form."""
from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from rich.text import Text

from ..format import describe_msg, short, styled, tally_bar, when
from ..session import ActionError, Session, proposal_msgs
from .base import DataScreen
from .confirm import Confirm, Prompt

LIST_LIMIT = 30        # the API's page size limit
KINDS = ("text", "add-members", "remove-members", "grant-engagement")


class ProposalsScreen(DataScreen):
    BINDINGS = [("enter", "open", "Open"), ("N", "new", "New proposal")]

    def compose(self) -> ComposeResult:
        yield Header()
        table = DataTable(id="proposals", cursor_type="row")
        table.add_columns("ID", "Status", "Tally", "Title")
        yield table
        yield Footer()

    def fetch(self, session: Session) -> list[dict[str, Any]]:
        return session.client.proposals(limit=LIST_LIMIT)["proposals"]

    def show(self, proposals: list[dict[str, Any]]) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for p in proposals:
            bar = tally_bar(p.get("votes") or {}, p.get("total_points"), p.get("rules"), width=10)
            table.add_row(Text(str(p.get("id"))), Text(str(p.get("status"))), Text(bar.split("  quorum")[0]),
                          Text(str(p.get("title"))[:40]), key=str(p.get("id")))
        if proposals:
            table.move_cursor(row=min(row, len(proposals) - 1))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(ProposalDetailScreen(int(event.row_key.value)))

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            self.app.push_screen(ProposalDetailScreen(int(key.value)))

    def action_new(self) -> None:
        kinds = ", ".join(KINDS)

        def got_kind(kind: str | None) -> None:
            if kind is None:
                return
            kind = kind.strip() or "text"
            if kind not in KINDS:
                self.app.notify(f"unknown kind {kind!r}: choose {kinds}", severity="error")
                return
            self.app.push_screen(Prompt("Title"), lambda title: got_title(kind, title))

        def got_title(kind: str, title: str | None) -> None:
            if not title:
                return
            if kind == "text":
                got_argument(kind, title, "")
            else:
                hint = "ADDRESS POINTS" if kind == "grant-engagement" else "addresses, space-separated"
                self.app.push_screen(Prompt(f"{kind}: {hint}"), lambda arg: got_argument(kind, title, arg))

        def got_argument(kind: str, title: str, argument: str | None) -> None:
            if argument is None:
                return
            session = self.app.session
            try:
                msgs = proposal_msgs(kind, argument, session.contracts)
            except (ActionError, KeyError) as exc:
                self.app.notify(str(exc), severity="error")
                return

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self.run_action(lambda: session.propose(title, f"{kind} (from conclave tui)", msgs),
                                    f"proposed: {title}")
            self.app.push_screen(Confirm(f"Propose {kind}: {title!r}?"), confirmed)

        self.app.push_screen(Prompt(f"Kind of proposal ({kinds})", placeholder="text"), got_kind)


class ProposalDetailScreen(DataScreen):
    BINDINGS = [("y", "vote('yes')", "Yes"), ("n", "vote('no')", "No"), ("b", "vote('abstain')", "Abstain"),
                ("x", "vote('veto')", "Veto"), ("e", "execute", "Execute"), ("escape", "back", "Back")]

    def __init__(self, proposal_id: int):
        super().__init__()
        self.proposal_id = proposal_id

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(f"loading proposal {self.proposal_id}…", id="detail")
        yield Footer()

    def fetch(self, session: Session) -> dict[str, Any]:
        client = session.client
        answer = client.proposal(self.proposal_id)
        answer["votes"] = client.votes(self.proposal_id, limit=30).get("votes", [])
        return answer

    def show(self, data: dict[str, Any]) -> None:
        p, tally = data["proposal"], data["tally"]
        votes = {k: tally.get(k) for k in ("yes", "no", "abstain", "veto")}
        bar, _, rules = tally_bar(votes, tally.get("total"), p.get("rules")).partition("  ")
        lines: list = [[(f"Proposal {p.get('id')}", "bold"), f": {p.get('title')}  [{tally.get('status')}]"],
                 f"proposer {short(p.get('proposer'))}; created at height {p.get('created_height')}; "
                 f"voting ends {when(p.get('expires_at'))}",
                 f"tally {bar}", f"      {rules}",
                 f"quorum {'reached' if tally.get('quorum_reached') else 'not reached'}", ""]
        if p.get("description"):
            lines += [str(p["description"]), ""]
        msgs = p.get("msgs") or []
        lines.append([("Messages", "bold"), f" ({len(msgs)})" if msgs else ": none (a text proposal)"])
        lines += [f"  {i}. {describe_msg(m)}" for i, m in enumerate(msgs, 1)]
        lines += ["", ("Votes", "bold")] + [(f"  {short(v.get('voter'))} {v.get('vote')} ({v.get('points')})")
                                         for v in data["votes"]]
        self.query_one("#detail", Static).update(styled(lines))

    def action_vote(self, vote: str) -> None:
        session = self.app.session
        if session.read_only:
            self.app.notify("read-only mode: restart with --key NAME to vote", severity="warning")
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_action(lambda: session.vote(self.proposal_id, vote),
                                f"voted {vote} on proposal {self.proposal_id}")
        self.app.push_screen(Confirm(f"Vote {vote.upper()} on proposal {self.proposal_id}?"), confirmed)

    def action_execute(self) -> None:
        session = self.app.session

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_action(lambda: session.execute_proposal(self.proposal_id),
                                f"executed proposal {self.proposal_id}")
        self.app.push_screen(Confirm(f"Execute passed proposal {self.proposal_id}?"), confirmed)

    def action_back(self) -> None:
        self.app.pop_screen()
