"""The member UI's signed actions driven by the pilot against a real node: propose through the N form,
vote and execute, deposit escrow, leave with the freeze shown, claim too early; and the bad input and
cancels that must sign nothing.

The circle's voting members stay {member1, member2, member3} or, once member3 has left, {member1,
member2}: either way member1's yes alone does not pass a proposal and member1 + member2 do, so the
tests pass in any order. The newcomer who deposits never pays in full and so never votes.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from chain.api.client import Client
from chain.app.tx import Execute, Send, build_tx
from chain.crypto.keys import PrivateKey
from support import devnet_key
from tui.app import ConclaveApp
from tui.screens.circle import duration, parse_amount
from tui.screens.confirm import Confirm, Prompt
from tui.screens.proposals import ProposalDetailScreen, ProposalsScreen, check_argument
from tui.errors import ActionError
from tui.session import CircleRules, Session, proposal_msgs
from snapshots import rows
from tuinode import TuiChain, plain, start_chain, text, until

PREFIX = "conclave"


def _seed(name: str) -> bytes:
    return hashlib.sha256(f"tui-actions/{name}".encode()).digest()


def _fresh(name: str) -> str:
    """A deterministic address nobody has used yet (a candidate member)."""
    return PrivateKey.from_seed(_seed(name)).address(PREFIX)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory):
    chain = start_chain(tmp_path_factory.mktemp("tui-actions"))
    chain.keyring.add("member3", seed=hashlib.sha256(b"devnet/member/3").digest())
    chain.keyring.add("newcomer", seed=_seed("newcomer"))
    chain.keyring.add("stranger", seed=_seed("stranger"))
    yield chain
    chain.node.stop()


# --- signing directly, as another member would with the CLI ----------------------------------------
def _contracts(chain: TuiChain) -> dict[str, str]:
    return chain.node.client.genesis_contracts()


def _sequence(chain: TuiChain, address: str) -> int:
    return chain.node.client.account(address)["sequence"]


def _send(chain: TuiChain, key: PrivateKey, msg: Any) -> dict[str, Any]:
    client = chain.node.client
    tx = build_tx(key, client.status()["chain_id"], _sequence(chain, key.address()), [msg], gas_limit=5_000_000)
    answer = client.submit_tx(tx.raw, wait_commit=True)
    assert answer["result"]["code"] == 0, answer
    return answer


def _propose(chain: TuiChain, key: PrivateKey, title: str, msgs: list[dict[str, Any]]) -> int:
    voting = _contracts(chain)["voting"]
    answer = _send(chain, key, Execute(voting, {"propose": {"title": title, "description": "by test", "msgs": msgs}},
                                       ()))
    return int(next(a["value"] for e in answer["result"]["events"] for a in e["attributes"]
                    if a["key"] == "proposal_id"))


def _vote(chain: TuiChain, key: PrivateKey, proposal_id: int, vote: str = "yes") -> None:
    _send(chain, key, Execute(_contracts(chain)["voting"], {"vote": {"proposal_id": proposal_id, "vote": vote}}, ()))


def _status(chain: TuiChain, proposal_id: int) -> str:
    return chain.node.client.proposal(proposal_id)["tally"]["status"]


# --- driving the app ---------------------------------------------------------------------------------
def _app(chain: TuiChain, key: str | None) -> ConclaveApp:
    """Signed in as ``key``; read-only without the sign-in dialog when ``key`` is None."""
    return ConclaveApp(Session(Client(chain.node.url, timeout=10.0)), keyring=chain.keyring if key else None,
                       key_name=key, poll_s=0.2)


class Driver:
    """Answers the app's dialogs one after another, each a new one (a dismissed dialog is never answered twice)."""

    def __init__(self, app: ConclaveApp, pilot):
        self.app, self.pilot = app, pilot
        self.answered: list = []

    async def dialog(self, kind: type) -> Any:
        await until(self.pilot, lambda: isinstance(self.app.screen, kind)
                    and all(self.app.screen is not seen for seen in self.answered), f"a new {kind.__name__}")
        self.answered.append(self.app.screen)
        return self.app.screen

    async def prompt(self, value: str | None) -> Prompt:
        """Type ``value`` into the next prompt and press Enter; None presses Escape."""
        prompt = await self.dialog(Prompt)
        if value is None:
            await self.pilot.press("escape")
        else:
            prompt.query_one(Input).value = value
            await self.pilot.press("enter")
        return prompt

    async def confirm(self, yes: bool) -> Confirm:
        confirm = await self.dialog(Confirm)
        await self.pilot.press("y" if yes else "escape")
        return confirm

    async def notice(self, title: str, *words: str) -> str:
        """Wait for a notification titled ``title`` holding ``words``; the ones seen so far are cleared."""
        def found() -> str | None:
            for n in self.app._notifications:
                if n.title == title and all(w in str(n.message) for w in words):
                    return str(n.message)
            return None
        try:
            await until(self.pilot, lambda: found() is not None, f"a {title!r} notification with {words}")
        except AssertionError as exc:
            shown = [(n.title, str(n.message)[:160]) for n in self.app._notifications]
            raise AssertionError(f"{exc}; shown instead: {shown}") from None
        message = found()
        self.app.clear_notifications()
        await self.pilot.pause(0.05)
        assert not isinstance(self.app.screen, (Prompt, Confirm)), "a refused action left a dialog open"
        return message

    async def signed_in(self) -> None:
        await until(self.pilot, lambda: self.app.session.signer is not None, "sign-in")
        self.app.clear_notifications()

    async def circle(self, ready=lambda view: True) -> Any:
        """Show the circle screen and wait until its data satisfies ``ready``."""
        await self.pilot.press("c")
        await until(self.pilot, lambda: getattr(self.app.screen, "circle_view", None) is not None
                    and self.app.screen.circle_view.address == self.app.session.address
                    and ready(self.app.screen.circle_view), "the circle screen")
        return self.app.screen.circle_view

    async def proposals(self) -> DataTable:
        await self.pilot.press("p")
        await until(self.pilot, lambda: isinstance(self.app.screen, ProposalsScreen)
                    and self.app.screen.query_one(DataTable).row_count > 0, "the proposal list")
        return self.app.screen.query_one(DataTable)


def said(dialog: Prompt | Confirm) -> str:
    """A dialog's question as one line of words."""
    return " ".join(dialog.question.split())


def run(chain: TuiChain, key: str | None, scenario) -> None:
    async def main() -> None:
        app = _app(chain, key)
        async with app.run_test(size=(100, 32)) as pilot:
            driver = Driver(app, pilot)
            if key is not None:
                await driver.signed_in()
            await scenario(app, driver)
            assert app.is_running
    asyncio.run(main())


# --- the tests -----------------------------------------------------------------------------------------
def test_member_proposes_add_members_through_the_form(chain: TuiChain):
    member1, member2 = devnet_key("member", 1), devnet_key("member", 2)
    candidate = _fresh("candidate-a")
    found: dict[str, int] = {}

    async def scenario(app: ConclaveApp, ui: Driver) -> None:
        await ui.proposals()
        await ui.pilot.press("N")
        await ui.prompt("add-members")
        await ui.dialog(Prompt)
        await ui.pilot.press(*"welcome")                    # typed key by key, as a member would
        await ui.pilot.press("enter")
        await ui.prompt(candidate)
        confirm = await ui.confirm(True)
        assert candidate in said(confirm) and "add" in said(confirm)
        await ui.notice("done", "proposed add-members: welcome")
        mine = chain.node.client.proposals(proposer=member2.address(), limit=1)["proposals"][0]
        assert mine["title"] == "welcome"
        found["id"] = proposal_id = mine["id"]

        table = app.screen.query_one(DataTable)
        await until(ui.pilot, lambda: str(proposal_id) in table.rows, "the new proposal in the list")
        table.move_cursor(row=table.get_row_index(str(proposal_id)))
        await ui.pilot.press("enter")
        await until(ui.pilot, lambda: isinstance(app.screen, ProposalDetailScreen)
                    and "welcome" in plain(app, "#detail"), "the proposal's detail")
        detail = plain(app, "#detail")
        assert f"add {candidate} to the circle" in detail            # the description says what it does
        assert "add_voting_members" in detail and candidate in detail  # and the message itself, decoded
    run(chain, "member2", scenario)

    proposal_id = found["id"]
    on_chain = chain.node.client.proposal(proposal_id)["proposal"]
    inner = json.loads(base64.b64decode(on_chain["msgs"][0]["wasm"]["execute"]["msg"]))
    assert inner == {"add_voting_members": {"addrs": [candidate]}}
    assert _status(chain, proposal_id) == "open"                   # member2's own yes is not enough
    _vote(chain, member1, proposal_id)                             # member1 sees it on chain and votes
    assert _status(chain, proposal_id) == "passed"


def test_vote_pass_execute_and_the_new_member_shows(chain: TuiChain):
    member1 = devnet_key("member", 1)
    candidate = _fresh("candidate-b")
    msgs = proposal_msgs("add-members", candidate, _contracts(chain))
    proposal_id = _propose(chain, member1, "bring in b", msgs)

    async def scenario(app: ConclaveApp, ui: Driver) -> None:
        app.push_screen(ProposalDetailScreen(proposal_id))
        await until(ui.pilot, lambda: "bring in b" in plain(app, "#detail"), "the proposal")
        await ui.pilot.press("e")                                  # not passed yet: told, nothing sent
        await ui.notice("not executed", f"proposal {proposal_id}", "still open")

        await ui.pilot.press("y")
        await ui.confirm(True)
        await ui.notice("done", "voted yes")
        await until(ui.pilot, lambda: "[passed]" in plain(app, "#detail"), "the passed status")

        await ui.pilot.press("e")
        confirm = await ui.confirm(True)
        assert f"Execute passed proposal {proposal_id}" in said(confirm)
        await ui.notice("done", f"executed proposal {proposal_id}")
        await until(ui.pilot, lambda: "[executed]" in plain(app, "#detail"), "the executed status")
        await ui.pilot.press("e")                                  # executing twice is explained too
        await ui.notice("not executed", "executed already")

        await ui.pilot.press("escape")
        await ui.circle()
        table = app.screen.query_one(DataTable)
        await until(ui.pilot, lambda: candidate in table.rows, "the new member in the circle")
        assert [str(cell) for cell in table.get_row(candidate)[1:3]] == ["pending", "0ucnv"]
    run(chain, "member2", scenario)
    assert _status(chain, proposal_id) == "executed"


def test_deposit_escrow_grows_the_escrow_shown(chain: TuiChain):
    member1, member2 = devnet_key("member", 1), devnet_key("member", 2)
    newcomer = PrivateKey.from_seed(_seed("newcomer")).address(PREFIX)
    _send(chain, member1, Send(newcomer, (("ucnv", 2_000_000),)))
    proposal_id = _propose(chain, member1, "bring in the newcomer",
                           proposal_msgs("add-members", newcomer, _contracts(chain)))
    _vote(chain, member2, proposal_id)
    _send(chain, member1, Execute(_contracts(chain)["voting"], {"execute": {"proposal_id": proposal_id}}, ()))

    async def scenario(app: ConclaveApp, ui: Driver) -> None:
        view = await ui.circle(lambda v: v.status == "pending")
        assert (view.escrow, view.owed, view.balance) == (0, 1_000_000, 2_000_000)
        standing = text(app, "#standing")
        assert "Escrow 1000000ucnv required" in standing and "voting period 1 hour" in standing
        assert "I owe 1000000ucnv" in standing

        await ui.pilot.press("D")
        prompt = await ui.prompt("400000")
        assert "you owe 1000000ucnv" in said(prompt)            # the prompt says what is missing
        confirm = await ui.confirm(True)
        assert "Deposit 400000ucnv" in said(confirm) and "becomes 400000ucnv" in said(confirm)
        await ui.notice("done", "deposited 400000ucnv escrow")
        view = await ui.circle(lambda v: v.escrow == 400_000)
        assert view.owed == 600_000 and view.status == "pending"
        await until(ui.pilot, lambda: "I owe 600000ucnv" in text(app, "#standing"), "what I still owe")
        assert str(app.screen.query_one(DataTable).get_row(newcomer)[2]) == "400000ucnv"

        await ui.pilot.press("D")
        prompt = await ui.prompt("250000")
        assert "you owe 600000ucnv" in said(prompt)
        await ui.confirm(True)
        await ui.notice("done", "deposited 250000ucnv escrow")
        view = await ui.circle(lambda v: v.escrow == 650_000)      # grew by exactly the amount
        assert view.status == "pending"

        await ui.pilot.press("d")                                   # the dashboard: denom and the requirement
        await until(ui.pilot, lambda: "escrow 650000ucnv of 1000000ucnv required (owe 350000)" in text(app, "#me"),
                    "the escrow on the dashboard")
    run(chain, "newcomer", scenario)


def test_leave_shows_the_freeze_and_an_early_claim_is_refused(chain: TuiChain):
    member3 = devnet_key("member", 3)
    before = _sequence(chain, member3.address())

    async def scenario(app: ConclaveApp, ui: Driver) -> None:
        view = await ui.circle(lambda v: v.status == "voting")
        await ui.pilot.press("C")                                   # nothing to claim while voting
        await ui.notice("nothing to claim", "you are voting")

        await ui.pilot.press("L")
        dialog = await ui.dialog(Confirm)
        await ui.pilot.pause(0.2)
        shown = " ".join(" ".join(row.replace("┃", " ").split()) for row in rows(app.export_screenshot()))
        assert " ".join(said(dialog).split()[-6:]) in shown           # wrapped, not clipped: the end shows too
        await ui.pilot.press("y")
        confirm = dialog
        assert "frozen for 2 hours (two voting periods of 1 hour)" in said(confirm)
        assert "claimable from about 20" in said(confirm) and "1000000ucnv" in said(confirm)
        await ui.notice("done", "left the circle")
        view = await ui.circle(lambda v: v.status == "leaving")
        assert view.claim_at is not None and view.claim_at >= view.now_s + 2 * 3600 - 60
        await until(ui.pilot, lambda: "leaving, escrow 1000000ucnv frozen until 20" in text(app, "#standing"),
                    "the freeze on the circle screen")
        row = app.screen.query_one(DataTable).get_row(member3.address())
        assert str(row[1]) == "leaving" and str(row[3]).startswith("20")

        await ui.pilot.press("C")                                   # too early: said clearly, nothing sent
        message = await ui.notice("still frozen", "frozen until", "(another ", " hour")
        assert "1000000ucnv" in message
        await ui.pilot.press("L")
        await ui.notice("already leaving", "claimable from")
        await ui.pilot.press("D")
        await ui.notice("cannot deposit", "you are leaving")
    run(chain, "member3", scenario)
    assert _sequence(chain, member3.address()) == before + 1       # the leave, and nothing else


def test_bad_input_and_cancels_sign_nothing(chain: TuiChain):
    member2 = devnet_key("member", 2)
    valid = _fresh("candidate-c")
    other_chain = PrivateKey.from_seed(_seed("candidate-c")).address("cosmos")
    before = _sequence(chain, member2.address())

    async def scenario(app: ConclaveApp, ui: Driver) -> None:
        await ui.circle(lambda v: v.status == "voting")
        # (the pure checks take every other shape: test_amounts_and_durations_read_as_people_write_them)
        for amount, words in (("abc", "whole number"), ("0", "more than 0"), ("9" * 60, "more than any escrow"),
                              ("500000000", "you hold only"), ("", "type an amount")):   # member2 owes nothing
            await ui.pilot.press("D")
            await ui.prompt(amount)
            await ui.notice("not sent", words)
        await ui.pilot.press("D")
        await ui.prompt(None)                                        # escape at the amount
        await ui.pilot.press("D")
        await ui.prompt("5")
        await ui.confirm(False)                                      # escape at the confirmation
        await ui.pilot.press("L")
        await ui.confirm(False)

        await ui.proposals()
        forms = [  # (answers to the prompts, the refusal's words); None = escape there
            ([None], None),
            (["bogus"], "unknown kind"),
            (["add-members", None], None),
            (["add-members", "  "], "needs a title"),
            (["add-members", "t", None], None),
            (["add-members", "t", "conclave1notanaddress"], "not an address of this chain"),
            (["remove-members", "t", other_chain], "wrong address prefix"),
            (["add-members", "t", f"{valid} {valid}"], "more than once"),
            (["grant-engagement", "t", f"{valid} lots"], "POINTS must be a whole number"),
            (["text", "t", "x" * 17_000], "at most 16384 bytes"),
            (["add-members", "t", devnet_key("member", 1).address()], "already in the circle"),   # would fail later
            (["remove-members", "t", valid], "not in the circle"),
        ]  # (every other shape: test_proposal_arguments_are_checked_before_signing)
        for answers, refusal in forms:
            await ui.pilot.press("N")
            for answer in answers:
                await ui.prompt(answer)
            if refusal is not None:
                await ui.notice("not proposed", refusal)
            else:
                await ui.pilot.pause(0.05)
                assert not isinstance(app.screen, (Prompt, Confirm))
        for answers in (["add-members", "t", valid], ["text", "t", ""]):
            await ui.pilot.press("N")
            for answer in answers:
                await ui.prompt(answer)
            await ui.confirm(False)                                  # a well-formed proposal, cancelled

        app.push_screen(ProposalDetailScreen(chain.proposal_id))    # "plant trees": member1's yes only
        await until(ui.pilot, lambda: chain.title in plain(app, "#detail"), "an open proposal")
        await ui.pilot.press("e")
        await ui.notice("not executed", "still open")
        assert not any(n.title == "done" for n in app._notifications)
    run(chain, "member2", scenario)
    assert _sequence(chain, member2.address()) == before             # nothing was signed


def test_non_members_and_read_only_are_told_before_signing(chain: TuiChain):
    stranger = PrivateKey.from_seed(_seed("stranger")).address(PREFIX)

    async def scenario(app: ConclaveApp, ui: Driver) -> None:
        view = await ui.circle()
        assert view.status is None
        assert "not in the circle" in text(app, "#standing")
        for key, title, words in (("D", "cannot deposit", "not a member of the circle"),
                                  ("L", "cannot leave", "not a member of the circle"),
                                  ("C", "nothing to claim", "not a member of the circle")):
            await ui.pilot.press(key)
            await ui.notice(title, words)
        await ui.proposals()
        await ui.pilot.press("N")
        await ui.notice("cannot propose", "only voting members may propose")
    run(chain, "stranger", scenario)
    assert _sequence(chain, stranger) == 0

    async def read_only(app: ConclaveApp, ui: Driver) -> None:
        await until(ui.pilot, lambda: "Read-only" in text(app, "#me"), "the read-only dashboard")
        await ui.pilot.press("c")
        await until(ui.pilot, lambda: "Read-only" in text(app, "#standing"), "the read-only circle")
        assert "Escrow 1000000ucnv required" in text(app, "#standing")
        for key in ("D", "L", "C"):
            await ui.pilot.press(key)
            await until(ui.pilot, lambda: any("read-only" in str(n.message) for n in app._notifications),
                        "the read-only notice")
            app.clear_notifications()
            assert not isinstance(app.screen, (Prompt, Confirm))
    run(chain, None, read_only)


# --- the pure checks behind the forms ---------------------------------------------------------------------
def test_rules_parse_and_refuse_odd_answers():
    rules = CircleRules.parse({"denom": "ucnv", "escrow_amount": "1000", "voting_period": 3600})
    assert (rules.denom, rules.escrow_amount, rules.freeze_s) == ("ucnv", 1000, 7200)
    for answer in (None, [], {}, {"denom": "", "escrow_amount": "1", "voting_period": 1},
                   {"denom": "u", "escrow_amount": 5, "voting_period": 1},
                   {"denom": "u", "escrow_amount": "-1", "voting_period": 1},
                   {"denom": "u", "escrow_amount": "1", "voting_period": True},
                   {"denom": "u", "escrow_amount": "1", "voting_period": 0}):
        with pytest.raises(ActionError, match="unexpected shape"):
            CircleRules.parse(answer)


def test_amounts_and_durations_read_as_people_write_them():
    assert parse_amount(" 1_000 ", 0) == 1000 and parse_amount("", 600) == 600
    for bad in ("", "0", "-1", "1.5", "1e3", "²", "١٢", "9" * 40, str(2 ** 128), "0x10"):
        with pytest.raises(ValueError):
            parse_amount(bad, 0)
    assert duration(7200) == "2 hours" and duration(3600) == "1 hour"
    assert duration(129_600) == "1 day 12 hours" and duration(0) == "0 seconds" and duration(61) == "1 minute 1 second"


def test_proposal_arguments_are_checked_before_signing():
    a, b = _fresh("x"), _fresh("y")
    assert check_argument("add-members", f"{a} {b}", PREFIX).startswith(f"add {a}, {b} to the circle")
    assert check_argument("remove-members", a, PREFIX).startswith(f"remove {a}")
    assert check_argument("grant-engagement", f"{a} 0", PREFIX) == f"set the engagement points of {a} to 0"
    assert parse_amount(str(2 ** 128 - 1), 0) == 2 ** 128 - 1
    cosmos = PrivateKey.from_seed(_seed("x")).address("cosmos")
    broken = a[:-1] + ("q" if a[-1] != "q" else "p")
    for kind, argument, words in (
            ("add-members", "", "one or more"), ("add-members", f"{a} {a}", "more than once"),
            ("add-members", " ".join(_fresh(str(i)) for i in range(101)), "at most 100"),
            ("add-members", a.upper(), "lowercase"), ("add-members", broken, "invalid bech32"),
            ("add-members", cosmos, "wrong address prefix"), ("remove-members", "nobody", "not an address"),
            ("remove-members", "conclave1", "not an address"), ("add-members", "x" * 5000, "not an address"),
            ("grant-engagement", a, "ADDRESS POINTS"), ("grant-engagement", f"{a} ３", "whole number"),
            ("grant-engagement", f"{a} {2 ** 64}", "whole number"), ("grant-engagement", f"{a} -1", "whole number"),
            ("grant-engagement", "oops 10", "not an address"), ("nonsense", a, "unknown proposal kind")):
        with pytest.raises(ActionError, match=words):
            check_argument(kind, argument, PREFIX)
