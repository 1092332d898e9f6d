"""The trusted circle: its escrow rules, my standing in it, the members with status and escrow;
deposit my escrow (D), leave (L, with the freeze shown first) and claim a frozen escrow back (C).

Every action is checked against what the screen last read (my status, escrow, balance, the block
time), so a member who may not do something is told why before anything is signed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Header, Static

from chain.api.client import CONTRACT_PAGE, read_pages

from ..format import short, styled, when
from ..session import MAX_UINT128, CircleRules, Session
from .base import MAX_ROWS, DataScreen
from .confirm import Confirm, Prompt

FULL_ADDRESS_COLUMNS = 100       # narrower screens shorten member addresses so the claim date still shows
ESCROW_HOLDERS = ("pending", "pending_paid", "voting")     # who may deposit_escrow (contract README)
NEVER_VOTED = ("non_voting", "pending", "pending_paid")    # leave removes them at once, escrow returned
_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))


def duration(seconds: int) -> str:
    """A span as people say it, two units at most: ``duration(7200) == "2 hours"``, "1 day 12 hours"."""
    seconds = max(0, int(seconds))
    parts = []
    for name, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts[:2]) or "0 seconds"


def parse_amount(text: str, default: int) -> int:
    """A typed escrow amount: whole digits only; empty means ``default``. ValueError says what is wrong."""
    text = text.strip().replace("_", "")
    if not text:
        if default > 0:
            return default
        raise ValueError("type an amount")
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"the amount must be a whole number, got {text[:20]!r}")
    if len(text) > len(str(MAX_UINT128)) or int(text) > MAX_UINT128:
        raise ValueError(f"{text[:20]}… is more than any escrow can hold")
    if int(text) == 0:
        raise ValueError("the amount must be more than 0")
    return int(text)


@dataclass
class CircleView:
    """What the circle screen shows, read in one worker pass."""

    rules: CircleRules
    members: list[dict[str, Any]]
    now_s: int                      # the latest block's time: the contract's "now" for claim_at
    address: str | None = None
    me: dict[str, Any] | None = None
    balance: int = 0                # my balance in the escrow denom

    @property
    def status(self) -> str | None:
        return (self.me or {}).get("status")

    @property
    def escrow(self) -> int:
        value = str((self.me or {}).get("escrow") or "0")
        return int(value) if value.isdigit() else 0

    @property
    def owed(self) -> int:
        """What I still have to deposit to hold the required escrow (0 when I hold it, or hold none)."""
        if self.status not in ESCROW_HOLDERS:
            return 0
        return max(0, self.rules.escrow_amount - self.escrow)

    @property
    def claim_at(self) -> int | None:
        value = (self.me or {}).get("claim_at")
        return value if isinstance(value, int) else None


class CircleScreen(DataScreen):
    BINDINGS = [("D", "deposit", "Deposit escrow"), ("L", "leave", "Leave circle"), ("C", "claim", "Claim escrow")]
    DEFAULT_CSS = "CircleScreen #standing { padding: 0 1; height: auto; }"

    circle_view: CircleView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("loading the circle…", id="standing")
        table = DataTable(id="members", cursor_type="row")
        table.add_columns("Member", "Status", "Escrow", "Claim at")
        yield table
        yield Footer()

    def fetch(self, session: Session) -> CircleView:
        client = session.client
        rules = session.rules()
        block_ns = client.status().get("latest_block_time_ns")
        members = read_pages(lambda after: client.circle_members(limit=CONTRACT_PAGE, start_after=after), "members",
                             "addr", MAX_ROWS)
        view = CircleView(rules, members,
                          block_ns // 1_000_000_000 if isinstance(block_ns, int) else 0)
        if session.address:
            view.address = session.address
            view.me = client.circle_member(session.address)
            balances = client.account(session.address).get("balances") or []
            view.balance = sum(int(c["amount"]) for c in balances if isinstance(c, dict)
                               and c.get("denom") == rules.denom and str(c.get("amount")).isdigit())
        return view

    def show(self, view: CircleView) -> None:
        self.circle_view = view
        self.query_one("#standing", Static).update(styled(standing(view, self.app.session.key_name)))
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        denom = view.rules.denom
        wide = self.size.width >= FULL_ADDRESS_COLUMNS
        for m in view.members:
            addr = str(m.get("addr"))
            name = (addr if wide else short(addr, 16)) + (" (me)" if addr == view.address else "")
            claim = when(m.get("claim_at")) if m.get("claim_at") else "-"
            cells = (name, str(m.get("status")), f"{m.get('escrow')}{denom}", claim)
            table.add_row(*(Text(cell) for cell in cells), key=str(m.get("addr")))
        if view.members:
            table.move_cursor(row=min(row, len(view.members) - 1))

    # --- actions: each checks what it can here, then confirms, then signs ------------------------
    def _my_view(self, what: str) -> CircleView | None:
        """The last view if I can act at all; otherwise say why (read-only, still loading)."""
        if not self.can_sign(what):
            return None
        if self.circle_view is None or self.circle_view.address != self.app.session.address:
            self.app.notify(f"{what}: the circle is still loading, try again in a moment", severity="warning")
            return None
        return self.circle_view

    def action_deposit(self) -> None:
        view = self._my_view("depositing escrow")
        if view is None:
            return
        if view.status not in ESCROW_HOLDERS:
            self.app.notify(f"only pending and voting members hold an escrow; you are {_standing_word(view)}",
                            title="cannot deposit", severity="warning")
            return
        denom, owed = view.rules.denom, view.owed
        hint = (f"you owe {owed}{denom}, Enter deposits that" if owed else
                f"you hold the required {view.rules.escrow_amount}{denom}, so this tops it up")
        self.app.push_screen(Prompt(f"Escrow to deposit ({denom}): {hint}", placeholder=str(owed or "amount")),
                             lambda text: self._deposit_amount(view, text))

    def _deposit_amount(self, view: CircleView, text: str | None) -> None:
        if text is None:
            return
        denom = view.rules.denom
        try:
            amount = parse_amount(text, view.owed)
        except ValueError as exc:
            self.app.notify(f"escrow deposit: {exc} (in {denom})", title="not sent", severity="error")
            return
        if amount > view.balance:
            self.app.notify(f"escrow deposit: you hold only {view.balance}{denom}, not {amount}{denom}",
                            title="not sent", severity="error")
            return
        after = view.escrow + amount
        session = self.app.session

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_action(lambda: session.deposit_escrow(amount), f"deposited {amount}{denom} escrow")
        self.app.push_screen(Confirm(f"Deposit {amount}{denom} as escrow? It becomes {after}{denom} "
                                     f"(the circle requires {view.rules.escrow_amount}{denom})."), confirmed)

    def action_leave(self) -> None:
        view = self._my_view("leaving the circle")
        if view is None:
            return
        rules, denom = view.rules, view.rules.denom
        if view.status is None:
            self.app.notify("you are not a member of the circle: there is nothing to leave",
                            title="cannot leave", severity="warning")
            return
        if view.status == "leaving":
            self.app.notify(f"you are already leaving; your escrow is claimable from {when(view.claim_at)} (C)",
                            title="already leaving", severity="warning")
            return
        if view.status in NEVER_VOTED:
            question = (f"Leave the trusted circle? You are {view.status}, so you are removed at once and your "
                        f"escrow of {view.escrow}{denom} is returned.")
        else:
            question = (f"Leave the trusted circle? Your vote stops counting now and your escrow of "
                        f"{view.escrow}{denom} is frozen for {duration(rules.freeze_s)} (two voting periods of "
                        f"{duration(rules.voting_period)}): claimable from about {when(view.now_s + rules.freeze_s)}.")
        session = self.app.session

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_action(session.leave, "left the circle")
        self.app.push_screen(Confirm(question), confirmed)

    def action_claim(self) -> None:
        view = self._my_view("claiming escrow")
        if view is None:
            return
        denom = view.rules.denom
        if view.status != "leaving" or view.claim_at is None:
            self.app.notify(f"only a member who left has a frozen escrow to claim; you are {_standing_word(view)}",
                            title="nothing to claim", severity="warning")
            return
        if view.now_s < view.claim_at:
            self.app.notify(f"your escrow of {view.escrow}{denom} is frozen until {when(view.claim_at)} "
                            f"(another {duration(view.claim_at - view.now_s)}); claim it then with C — the chain "
                            "also returns it in the first block after", title="still frozen", severity="warning",
                            timeout=8)
            return
        session = self.app.session

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_action(session.claim_escrow, f"claimed {view.escrow}{denom} escrow")
        question = f"Claim your escrow of {view.escrow}{denom} and leave the circle for good?"
        self.app.push_screen(Confirm(question), confirmed)


def _standing_word(view: CircleView) -> str:
    return view.status or "not a member of the circle"


def standing(view: CircleView, key_name: str | None) -> list:
    """The rules line and my line: what the circle asks, what I hold, what I owe or wait for."""
    rules, denom = view.rules, view.rules.denom
    lines: list = [[("Escrow", "bold"), f" {rules.escrow_amount}{denom} required · voting period "
                    f"{duration(rules.voting_period)} · frozen {duration(rules.freeze_s)} on leaving"]]
    if view.address is None:
        lines.append([("Read-only", "bold"), ": press s to sign in with a key to deposit or leave"])
        return lines
    me = [("Me", "bold"), f" {key_name or ''} {short(view.address)}: "]
    status, escrow = view.status, f"{view.escrow}{denom}"
    if status is None:
        me.append("not in the circle (a passed add-members proposal makes me pending)")
    elif status == "non_voting":
        me.append("non-voting member, no escrow")
    elif status == "leaving":
        if view.claim_at is not None and view.now_s >= view.claim_at:
            me.append(f"leaving, escrow {escrow} claimable now (C)")
        else:
            me.append(f"leaving, escrow {escrow} frozen until {when(view.claim_at)}")
    elif view.owed:
        me.append(f"{status}, escrow {escrow}; I owe {view.owed}{denom} (D deposits)")
    else:
        me.append(f"{status}, escrow {escrow} (paid in full)")
    lines.append(me)
    lines.append(f"   balance {view.balance}{denom}")
    return lines
