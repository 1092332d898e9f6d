"""Proposals: the list with live tallies, one proposal in detail (vote, execute), and a new proposal form."""
from __future__ import annotations

from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from rich.text import Text

from chain.api.client import read_pages
from chain.api.proposal_text import StoredCodes, code_facts, describe
from chain.crypto import AddressError, decode_address

from ..format import colored_bar, short, status_text, styled, tally_bar, when
from ..errors import ActionError
from ..session import Session, proposal_msgs
from .base import DataScreen, to_ui
from .confirm import Confirm, Prompt

LIST_LIMIT = 30        # the API's page size limit
MAX_VOTES = 600        # a proposal's votes shown
PROPOSAL_STATUSES = ("open", "passed", "executed", "rejected", "expired")    # the filters f cycles through
KINDS = ("text", "add-members", "remove-members", "grant-engagement")
MAX_TITLE_BYTES = 256            # the voting contract's limits
MAX_DESCRIPTION_BYTES = 16_384
MAX_ADDRESSES = 100              # the membership contract's list limit
MAX_POINTS = 2 ** 64 - 1         # engagement points are u64
MAX_QUESTION_CHARS = 480         # a confirmation shows at most this much (8 lines) of what it would do
NOT_EXECUTABLE = {
    "open": "it is still open — it runs once enough yes votes pass it",
    "rejected": "it was rejected",
    "expired": "it expired without reaching quorum",
    "executed": "it was executed already",
}


class ProposalsScreen(DataScreen):
    """Newest first, one page of LIST_LIMIT at a time (] older, [ newer), optionally only one status (f)."""

    page_size = LIST_LIMIT
    BINDINGS = [Binding("enter", "open", "Open", show=False), ("N", "new", "New proposal"),
                ("f", "filter", "Filter"), ("right_square_bracket", "older", "Older"),
                ("left_square_bracket", "newer", "Newer")]

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: str | None = None
        self.cursors: list[int | None] = [None]      # start_after of each page shown so far; the last is this one
        self.next_cursor: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="page")
        table = DataTable(id="proposals", cursor_type="row")
        table.add_columns("ID", "Status", "Tally", "Title")
        yield table
        yield Footer()

    def fetch(self, session: Session) -> dict[str, Any]:
        return session.client.proposals(status=self.status_filter, limit=self.page_size, start_after=self.cursors[-1])

    def show(self, page: dict[str, Any]) -> None:
        proposals = page.get("proposals") or []
        self.next_cursor = page.get("next")
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for p in proposals:
            bar = tally_bar(p.get("votes") or {}, p.get("total_points"), p.get("rules"), width=10)
            table.add_row(Text(str(p.get("id"))), status_text(p.get("status")), colored_bar(bar.split("  quorum")[0]),
                          Text(str(p.get("title"))[:40]), key=str(p.get("id")))
        if proposals:
            table.move_cursor(row=min(row, len(proposals) - 1))
        which = f"{self.status_filter} proposals" if self.status_filter else "all proposals"
        more = "; ] older" if self.next_cursor is not None else ""
        newer = "; [ newer" if len(self.cursors) > 1 else ""
        empty = " — none" if not proposals else ""
        self.query_one("#page", Static).update(
            styled([f"{which}, newest first, page {len(self.cursors)}{empty}{more}{newer}; f filters by status"]))

    def action_filter(self) -> None:
        """f: all → open → passed → executed → rejected → expired → all; back to the first page."""
        cycle = (None, *PROPOSAL_STATUSES)
        self.status_filter = cycle[(cycle.index(self.status_filter) + 1) % len(cycle)]
        self.cursors = [None]
        self.reload()

    def action_older(self) -> None:
        if self.next_cursor is None:
            self.app.notify("no older proposals", timeout=3)
            return
        self.cursors.append(self.next_cursor)
        self.reload()

    def action_newer(self) -> None:
        if len(self.cursors) == 1:
            self.app.notify("this is the newest page", timeout=3)
            return
        self.cursors.pop()
        self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(ProposalDetailScreen(int(event.row_key.value)))

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            self.app.push_screen(ProposalDetailScreen(int(key.value)))

    def action_new(self) -> None:
        """N: a new proposal — kind, title, then addresses (checked here) or its text; confirmed before signing."""
        if not self.can_sign("proposing"):
            return
        self._check_proposer(self.app)

    @work(thread=True, exclusive=True, group="propose-check")
    def _check_proposer(self, app: App) -> None:
        """Only voting members may propose, and the form needs the contracts' addresses: both asked first."""
        session = app.session
        try:
            for name in ("membership", "engagement", "voting"):
                session.contract(name)
            status = session.client.circle_member(session.address).get("status")
        except Exception as exc:            # noqa: BLE001 — said (App.report), never fatal
            to_ui(app, app.report, exc, "cannot propose")
            return
        if status != "voting":
            to_ui(app, app.notify, f"only voting members may propose; you are {status or 'not in the circle'}",
                  title="cannot propose", severity="warning")
            return
        to_ui(app, self._ask_kind)

    def _ask_kind(self) -> None:
        if self.is_current:
            self.app.push_screen(Prompt(f"Kind of proposal ({', '.join(KINDS)})", placeholder="text"),
                                 self._got_kind)

    def _got_kind(self, kind: str | None) -> None:
        if kind is None:
            return
        kind = kind.strip().lower() or "text"
        if kind not in KINDS:
            self.app.notify(f"unknown kind {kind[:30]!r}: choose {', '.join(KINDS)}", title="not proposed",
                            severity="error")
            return
        self.app.push_screen(Prompt(f"Title of the {kind} proposal"), lambda title: self._got_title(kind, title))

    def _got_title(self, kind: str, title: str | None) -> None:
        if title is None:
            return
        title = title.strip()
        if not title or len(title.encode()) > MAX_TITLE_BYTES:
            self.app.notify(f"a proposal needs a title of 1 to {MAX_TITLE_BYTES} bytes", title="not proposed",
                            severity="error")
            return
        if kind == "text":
            self.app.push_screen(Prompt("Text of the proposal (optional)"),
                                 lambda text: self._got_argument(kind, title, text))
        else:
            hint = "ADDRESS POINTS" if kind == "grant-engagement" else "addresses, separated by spaces"
            self.app.push_screen(Prompt(f"{kind}: {hint}", placeholder=f"{self.app.session.prefix}1…"),
                                 lambda argument: self._got_argument(kind, title, argument))

    def _got_argument(self, kind: str, title: str, argument: str | None) -> None:
        if argument is None:
            return
        session = self.app.session
        try:
            if kind == "text":
                summary, msgs = "a text proposal: nothing is executed", []
                description = argument.strip() or "a text proposal (from conclave tui)"
                if len(description.encode()) > MAX_DESCRIPTION_BYTES:
                    raise ActionError(f"the text may hold at most {MAX_DESCRIPTION_BYTES} bytes")
            else:
                summary = check_argument(kind, argument, session.prefix)
                msgs = proposal_msgs(kind, argument, session.contracts)
                description = f"{summary} (from conclave tui)"
        except ActionError as exc:
            self.app.notify(str(exc), title="not proposed", severity="error")
            return
        if kind in ("add-members", "remove-members"):
            self._check_members(self.app, kind, argument.split(), (kind, title, description, msgs, summary))
        else:
            self._confirm_proposal(kind, title, description, msgs, summary)

    @work(thread=True, exclusive=True, group="propose-check")
    def _check_members(self, app: App, kind: str, addresses: list[str], proposal: tuple) -> None:
        """A proposal that adds a member already in the circle, or removes one who is not, would pass and then
        fail when executed: ask the circle first and say so instead."""
        try:
            statuses = {a: app.session.client.circle_member(a).get("status") for a in addresses}
        except Exception as exc:            # noqa: BLE001 — said (App.report), never fatal
            to_ui(app, app.report, exc)
            return
        if kind == "add-members":
            wrong = [f"{a} ({s})" for a, s in statuses.items() if s]
            why = "already in the circle"
        else:
            wrong = [a for a, s in statuses.items() if not s]
            why = "not in the circle"
        if wrong:
            to_ui(app, app.notify, f"{', '.join(wrong[:3])}{' …' if len(wrong) > 3 else ''}: {why}, so the "
                  "proposal would fail when executed", title="not proposed", severity="error", timeout=8)
            return
        to_ui(app, self._confirm_proposal, *proposal)

    def _confirm_proposal(self, kind: str, title: str, description: str, msgs: list, summary: str) -> None:
        session = self.app.session

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_action(lambda: session.propose(title, description, msgs), f"proposed {kind}: {title}")
        question = f"Propose {kind} {title!r}? It would {summary}."
        if kind == "text":
            question = f"Propose {title!r}? ({summary})"
        if len(question) > MAX_QUESTION_CHARS:        # a hundred addresses: the description keeps them all
            question = question[:MAX_QUESTION_CHARS] + "…"
        self.app.push_screen(Confirm(question), confirmed)


class ProposalDetailScreen(DataScreen):
    BINDINGS = [("y", "vote('yes')", "Yes"), ("n", "vote('no')", "No"), ("b", "vote('abstain')", "Abstain"),
                ("x", "vote('veto')", "Veto"), ("e", "execute", "Execute"), ("escape", "back", "Back")]

    def __init__(self, proposal_id: int):
        super().__init__()
        self.proposal_id = proposal_id
        self.stored_codes = StoredCodes()     # read once, then only what is stored since: this reloads every block

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static(f"loading proposal {self.proposal_id}…", id="detail")
        yield Footer()

    def fetch(self, session: Session) -> dict[str, Any]:
        client = session.client
        answer = client.proposal(self.proposal_id)
        answer["votes"] = read_pages(lambda after: client.votes(self.proposal_id, limit=LIST_LIMIT, start_after=after),
                                     "votes", "voter", MAX_VOTES)
        answer["facts"] = code_facts(client, answer["proposal"].get("msgs") or [], self.stored_codes)
        return answer

    def show(self, data: dict[str, Any]) -> None:
        p, tally = data["proposal"], data["tally"]
        votes = {k: tally.get(k) for k in ("yes", "no", "abstain", "veto")}
        bar, _, rules = tally_bar(votes, tally.get("total"), p.get("rules")).partition("  ")
        lines: list = [[(f"Proposal {p.get('id')}", "bold"), f": {p.get('title')}  [", status_text(tally.get("status")),
                        "]"],
                       f"proposer {short(p.get('proposer'))}, created at height {p.get('created_height')}",
                       f"voting ends {when(p.get('expires_at'))}",
                       ["tally ", colored_bar(bar)], f"      {rules}",
                       f"quorum {'reached' if tally.get('quorum_reached') else 'not reached'}", ""]
        if p.get("description"):
            lines += [str(p["description"]), ""]
        msgs = p.get("msgs") or []
        lines.append([("Messages", "bold"), f" ({len(msgs)})" if msgs else ": none (a text proposal)"])
        for i, msg in enumerate(msgs, 1):
            first, *details = describe(msg, data["facts"])
            lines += [f"  {i}. {first}", *(f"  {d}" for d in details)]
        lines += ["", ("Votes", "bold")]
        lines += [f"  {short(v.get('voter'))} {v.get('vote')} ({v.get('points')})" for v in data["votes"]]
        self.query_one("#detail", Static).update(styled(lines))

    def action_vote(self, vote: str) -> None:
        session = self.app.session
        if not self.can_sign("voting"):
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_action(lambda: session.vote(self.proposal_id, vote),
                                f"voted {vote} on proposal {self.proposal_id}")
        self.app.push_screen(Confirm(f"Vote {vote.upper()} on proposal {self.proposal_id}?"), confirmed)

    def action_execute(self) -> None:
        """e: execute a passed proposal; its status is read first, so an unpassed one is explained, not sent."""
        if not self.can_sign("executing"):
            return
        self._check_executable(self.app)

    @work(thread=True, exclusive=True, group="execute-check")
    def _check_executable(self, app: App) -> None:
        try:
            data = app.session.client.proposal(self.proposal_id)
            status = (data.get("tally") or {}).get("status") or (data.get("proposal") or {}).get("status")
        except Exception as exc:            # noqa: BLE001 — said (App.report), never fatal
            to_ui(app, app.report, exc)
            return
        to_ui(app, self._offer_execute, status)

    def _offer_execute(self, status: Any) -> None:
        if not self.is_current:
            return
        if status != "passed":
            reason = (NOT_EXECUTABLE.get(status) if isinstance(status, str) else None) or \
                f"its status is {str(status)[:40]!r}, and only a passed proposal runs"
            self.app.notify(f"proposal {self.proposal_id} cannot be executed: {reason}", title="not executed",
                            severity="warning")
            return
        session = self.app.session

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_action(lambda: session.execute_proposal(self.proposal_id),
                                f"executed proposal {self.proposal_id}")
        self.app.push_screen(Confirm(f"Execute passed proposal {self.proposal_id}? Its messages run now."),
                             confirmed)

    def action_back(self) -> None:
        self.app.pop_screen()


# --- the new-proposal form's checks: refuse here what the chain would refuse, before anything is signed ------
def check_argument(kind: str, argument: str, prefix: str) -> str:
    """What a proposal of ``kind`` would do, in words, once its argument is checked (ActionError if wrong).

    Addresses must be bech32 addresses of this chain (prefix, checksum, lowercase), each given once."""
    words = argument.split()
    if kind in ("add-members", "remove-members"):
        if not words:
            raise ActionError(f"{kind}: give one or more member addresses, separated by spaces")
        if len(words) > MAX_ADDRESSES:
            raise ActionError(f"{kind}: at most {MAX_ADDRESSES} addresses per proposal, got {len(words)}")
        for word in words:
            _check_address(kind, word, prefix)
        repeated = sorted({w for w in words if words.count(w) > 1})
        if repeated:
            raise ActionError(f"{kind}: {short(repeated[0])} is given more than once")
        who = ", ".join(words)
        if kind == "add-members":
            return f"add {who} to the circle (pending until each pays the escrow)"
        return f"remove {who} from the circle (kicked out; nothing slashed, the escrow is returned after the freeze)"
    if kind == "grant-engagement":
        if len(words) != 2:
            raise ActionError(f"grant-engagement: give ADDRESS POINTS, e.g. {prefix}1… 10")
        _check_address(kind, words[0], prefix)
        points = words[1]
        if not (points.isascii() and points.isdigit()) or len(points) > 20 or int(points) > MAX_POINTS:
            raise ActionError(f"grant-engagement: POINTS must be a whole number from 0 to {MAX_POINTS}, "
                              f"got {points[:24]!r}")
        return f"set the engagement points of {words[0]} to {int(points)}"
    raise ActionError(f"unknown proposal kind {kind[:30]!r}: choose {', '.join(KINDS)}")


def _check_address(kind: str, word: str, prefix: str) -> None:
    try:
        decode_address(prefix, word)
    except AddressError as exc:
        raise ActionError(f"{kind}: {word[:60]!r} is not an address of this chain ({str(exc)[:80]}); "
                          f"addresses look like {prefix}1… (`conclave keys show NAME` prints one)") from None
