"""The member UI driven by Textual's pilot against a real node: sign in, dashboard, open a proposal,
vote with confirmation, see the tally change, survive the node going away and coming back."""
from __future__ import annotations

import asyncio
import hashlib

import pytest
from nacl.pwhash import argon2id
from textual.widgets import Input

from chain.api.client import Client
from chain.api.proposal_text import StoredCodes
from chain.crypto.keys import Keyring
from chain.app.tx import CodeMigration, ProposeCode, build_tx
from tui.app import ConclaveApp
from tui.screens.confirm import Confirm, Prompt
from tui.screens.proposals import ProposalDetailScreen, ProposalsScreen
from tui.screens.signin import SignInScreen
from tui.session import Session
from snapshots import rows
from support import ARTIFACTS, devnet_key
from tuinode import MEMBER2_SEED, TuiChain, plain, start_chain, text, until

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


def test_every_screen_fits_80_columns_and_the_bar_switches_screens(chain: TuiChain):
    """At 80x24 the footer ends with Quit and the palette (nothing cut off) and the bar names every screen;
    clicking a name in the bar opens that screen, and ? shows the keys panel."""
    async def scenario() -> None:
        app = _app(chain)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.session.signer is not None, "sign-in")
            for key, mode in (("d", "dashboard"), ("p", "proposals"), ("c", "circle"), ("v", "validators"),
                              ("a", "activity")):
                await pilot.press(key)
                await until(pilot, lambda: app.current_mode == mode and app.screen.query("NavBar"), f"the {mode} bar")
                await pilot.pause(0.3)          # the footer redraws its bindings after a screen change
                shown = rows(app.export_screenshot())
                footer = next(row for row in reversed(shown) if row.strip())
                assert "q Quit" in footer and "palette" in footer, f"{mode}: footer cut at 80 columns: {footer!r}"
                bar = next(row for row in shown if "Dashboard" in row)
                assert all(label in bar for label in ("Proposals", "Circle", "Validators", "Activity")), bar
            app.push_screen(ProposalDetailScreen(chain.proposal_id))
            await until(pilot, lambda: chain.title in text(app, "#detail"), "the proposal")
            await pilot.pause(0.3)
            footer = next(row for row in reversed(rows(app.export_screenshot())) if row.strip())
            assert all(k in footer for k in ("y Yes", "x Veto", "e Execute", "q Quit", "palette")), footer

            await pilot.press("d")
            await until(pilot, lambda: app.current_mode == "dashboard", "the dashboard")
            bar = app.screen.query_one("NavBar")
            column = str(bar.visual.plain if hasattr(bar.visual, "plain") else bar.content).index("Circle")
            await pilot.click(bar, offset=(column + 1, 0))
            await until(pilot, lambda: app.current_mode == "circle", "the circle screen after a click")
            await pilot.press("question_mark")
            await until(pilot, lambda: bool(app.screen.query("HelpPanel")), "the keys panel")
            await pilot.press("question_mark")
            await until(pilot, lambda: not app.screen.query("HelpPanel"), "the keys panel closed")
    asyncio.run(scenario())


def test_proposal_pages_and_the_status_filter(chain: TuiChain, monkeypatch: pytest.MonkeyPatch):
    """One proposal per page: ] goes to older ones and [ back; f shows only one status at a time."""
    monkeypatch.setattr(ProposalsScreen, "page_size", 1)

    def ids() -> list[int]:
        table = app.screen.query_one("DataTable")
        return [int(table.get_row_at(i)[0].plain) for i in range(table.row_count)]

    app = _app(chain, key=None)
    app.keyring = None

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("p")
            await until(pilot, lambda: "page 1" in text(app, "#page") and ids(), "the first page")
            newest = ids()
            assert len(newest) == 1 and "] older" in text(app, "#page")
            await pilot.press("right_square_bracket")
            await until(pilot, lambda: "page 2" in text(app, "#page") and ids() and ids() != newest, "page 2")
            assert ids()[0] < newest[0] and "[ newer" in text(app, "#page")
            await pilot.press("left_square_bracket")
            await until(pilot, lambda: "page 1" in text(app, "#page") and ids() == newest, "page 1 again")
            await pilot.press("left_square_bracket")           # nothing newer: said, not crashed
            await until(pilot, lambda: any("newest page" in str(n.message) for n in app._notifications), "the notice")
            for status in ("open", "passed"):
                await pilot.press("f")
                await until(pilot, lambda: text(app, "#page").startswith(f"{status} proposals"), f"the {status} filter")
                await pilot.pause(0.5)
                table = app.screen.query_one("DataTable")
                assert all(table.get_row_at(i)[1].plain == status for i in range(table.row_count))
    asyncio.run(scenario())


def test_a_code_upgrade_shows_the_contract_its_code_now_and_the_new_code(chain: TuiChain):
    """An admin's upgrade proposal (voting -> test_voting_v2) read in the UI: what a voter must compare."""
    admin = devnet_key("member", 1)
    client = chain.node.client
    voting = client.genesis_contracts()["voting"]
    wasm = (ARTIFACTS / "test_voting_v2.wasm").read_bytes()
    status = client.status()
    tx = build_tx(admin, status["chain_id"], client.account(admin.address())["sequence"],
                  [ProposeCode(wasm, "Voting v2", "adds the version query", CodeMigration(voting, {}))],
                  gas_limit=10_000_000)
    proposal_id = client.propose_code(tx.raw, wait_commit=True)["proposal_id"]
    now = client.code(client.contract(voting)["code_id"])

    async def scenario() -> None:
        app = _app(chain, key=None)
        app.keyring = None
        async with app.run_test(size=(120, 40)) as pilot:
            app.push_screen(ProposalDetailScreen(proposal_id))
            await until(pilot, lambda: "Voting v2" in plain(app, "#detail"), "the upgrade proposal")
            shown = plain(app, "#detail")
            assert f"to code sha256 {hashlib.sha256(wasm).hexdigest()}" in shown
            assert f"contract governance runs code {now['code_id']}, sha256 {now['checksum']}" in shown
            assert f"new code (stored when executed), {len(wasm):,} bytes" in shown
    asyncio.run(scenario())


def test_an_encrypted_key_asks_its_passphrase_again_until_right(chain: TuiChain, tmp_path):
    """Sign-in dialog → encrypted key → a wrong passphrase asks again (not read-only) → the right one signs in;
    s reopens the dialog later to switch keys."""
    keyring = Keyring(tmp_path / "keys", kdf_opslimit=argon2id.OPSLIMIT_MIN, kdf_memlimit=argon2id.MEMLIMIT_MIN)
    keyring.add("alice", "correct horse", seed=MEMBER2_SEED)
    keyring.add("bob")
    app = ConclaveApp(Session(Client(chain.node.url, timeout=5.0)), keyring=keyring, poll_s=0.2)

    async def type_into_prompt(pilot, value: str) -> None:
        await until(pilot, lambda: isinstance(app.screen, Prompt), "the passphrase prompt")
        app.screen.query_one(Input).value = value
        await pilot.press("enter")

    async def scenario() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, SignInScreen), "the sign-in dialog")
            await pilot.press("enter")                                   # alice, the first key
            await type_into_prompt(pilot, "wrong")
            await until(pilot, lambda: any("wrong passphrase" in str(n.message) for n in app._notifications),
                        "the wrong-passphrase notice")
            await type_into_prompt(pilot, "correct horse")               # asked again, not dropped to read-only
            await until(pilot, lambda: app.session.key_name == "alice", "signed in as alice")
            assert app.session.address == keyring.show("alice").address
            await until(pilot, lambda: "alice" in text(app, "#me"), "my dashboard")
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, SignInScreen), "the dialog again")
            await pilot.press("down", "enter")                           # bob: not encrypted, no prompt
            await until(pilot, lambda: app.session.key_name == "bob", "signed in as bob")
    asyncio.run(scenario())


def test_stored_codes_are_read_once_then_only_the_new_ones(chain: TuiChain):
    """The proposal screen reloads every block: its code index asks only for codes stored since."""
    client = chain.node.client
    stored = StoredCodes()
    stored.refresh(client)
    listed = client.codes(limit=50)["codes"]
    assert sorted(stored.by_id) == [c["code_id"] for c in listed] and len(listed) >= 7
    del stored.by_id[1]                                  # a refresh reads after the highest id it has...
    stored.refresh(client)
    assert 1 not in stored.by_id and sorted(stored.by_id) == [c["code_id"] for c in listed][1:]   # ...not from 1
