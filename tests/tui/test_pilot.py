"""The member UI driven by Textual's pilot against a real node: sign in, dashboard, open a proposal,
vote with confirmation, see the tally change, survive the node going away and coming back."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chain.api.client import Client
from tui.app import ConclaveApp
from tui.screens.confirm import Confirm
from tui.screens.proposals import ProposalDetailScreen
from tui.session import Session
from tuinode import TuiChain, plain, start_chain, text, until

HOSTILE_TITLE = "[bold red]pwn[/nope] [link=x] \\[ ["


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory):
    chain = start_chain(tmp_path_factory.mktemp("tui"), extra_titles=(HOSTILE_TITLE,))
    yield chain
    chain.node.stop()


def _app(chain: TuiChain, key: str | None = "member2") -> ConclaveApp:
    return ConclaveApp(Session(Client(chain.node.url, timeout=5.0)), keyring=chain.keyring, key_name=key,
                       poll_s=0.2)


def _notified(app: ConclaveApp, title: str) -> bool:
    return any(n.title == title for n in app._notifications)


def test_sign_in_dashboard_open_proposal_vote_and_see_the_tally(chain: TuiChain):
    async def scenario() -> None:
        app = _app(chain)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.session.signer is not None, "sign-in")
            await until(pilot, lambda: "height" in app.sub_title, "the header's height")
            assert app.sub_title.startswith("conclave-devnet")
            await until(pilot, lambda: "conclave-devnet" in text(app, "#chain"), "the dashboard")
            await until(pilot, lambda: chain.title in text(app, "#todo"), "the proposal needing my vote")
            assert "voting" in text(app, "#me")

            await pilot.press("p")
            await until(pilot, lambda: app.screen.query("DataTable") and app.screen.query_one("DataTable").row_count,
                        "the proposal list")
            table = app.screen.query_one("DataTable")
            table.move_cursor(row=table.get_row_index(str(chain.proposal_id)))      # newest first: ours is below
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ProposalDetailScreen), "the proposal detail")
            assert app.screen.proposal_id == chain.proposal_id
            await until(pilot, lambda: chain.title in text(app, "#detail"), "the proposal's text")
            assert "yes 1 no 0" in text(app, "#detail")

            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, Confirm), "the confirmation")
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, ProposalDetailScreen), "back from the confirmation")
            await until(pilot, lambda: "yes 2 no 0" in text(app, "#detail"), "the tally with my vote")
            assert _notified(app, "done")
    asyncio.run(scenario())


def test_read_only_cannot_vote(chain: TuiChain):
    async def scenario() -> None:
        app = _app(chain, key=None)
        app.keyring = None                       # no sign-in dialog: straight to read-only
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: "Read-only" in text(app, "#me"), "the read-only dashboard")
            app.push_screen(ProposalDetailScreen(chain.proposal_id))
            await until(pilot, lambda: chain.title in text(app, "#detail"), "the proposal")
            await pilot.press("y")
            await pilot.pause(0.1)
            assert isinstance(app.screen, ProposalDetailScreen)     # no confirmation: nothing to sign with
            await pilot.press("t")
            assert app.theme == "textual-light"
            await pilot.press("t")
            assert app.theme == "textual-dark"
    asyncio.run(scenario())


def test_hostile_title_shows_literally(chain: TuiChain):
    async def scenario() -> None:
        app = _app(chain, key=None)
        app.keyring = None
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("p")
            await until(pilot, lambda: bool(app.screen.query("DataTable"))
                        and app.screen.query_one("DataTable").row_count >= 2, "both proposals listed")
            app.push_screen(ProposalDetailScreen(chain.proposal_id + 1))
            await until(pilot, lambda: HOSTILE_TITLE in plain(app, "#detail"), "the hostile title, literally")
            assert app.is_running
    asyncio.run(scenario())


def test_unknown_key_is_a_notification_not_a_crash(chain: TuiChain):
    async def scenario() -> None:
        app = _app(chain, key="nobody")
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: any("no key named" in str(n.message) for n in app._notifications),
                        "the unknown-key notification")
            assert app.session.read_only and app.is_running
    asyncio.run(scenario())


def test_node_goes_away_and_comes_back(chain: TuiChain):
    async def scenario() -> None:
        app = _app(chain)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.connected is True, "the first status")
            await pilot.press("v")
            await until(pilot, lambda: "Active set" in text(app, "#validators"), "the validators")
            chain.node.kill()
            await until(pilot, lambda: app.connected is False, "the node's absence")
            assert _notified(app, "node unreachable") and app.is_running
            await pilot.press("c")                       # still usable while the node is away
            await pilot.press("d")
            before = app.height
            chain.node.start()
            await until(pilot, lambda: app.connected is True, "the node's return", deadline_s=90)
            assert _notified(app, "reconnected")
            await until(pilot, lambda: app.height is not None and app.height > before, "new blocks")
            await until(pilot, lambda: "conclave-devnet" in text(app, "#chain"), "the dashboard again")
    asyncio.run(scenario())
