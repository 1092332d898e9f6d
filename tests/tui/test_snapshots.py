"""Every screen at 80x24 and 120x40 against its saved SVG snapshot (signed in as member 2, on a node of its own).

The snapshots live in docs/screenshots, where the user guide shows them: a changed screen changes its picture."""
from __future__ import annotations

import asyncio

import pytest

from chain.api.client import Client
from snapshots import check
from tui.app import ConclaveApp
from tui.screens.proposals import ProposalDetailScreen
from tui.session import Session
from tuinode import TuiChain, start_chain, text, until

SIZES = ((80, 24), (120, 40))


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory):
    chain = start_chain(tmp_path_factory.mktemp("tui-snap"))
    yield chain
    chain.node.stop()


def _table_filled(app) -> bool:
    tables = app.screen.query("DataTable")
    return bool(tables) and tables.first().row_count > 0


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_screen_matches_its_snapshot(chain: TuiChain, size: tuple[int, int]):
    async def scenario() -> None:
        app = ConclaveApp(Session(Client(chain.node.url, timeout=5.0)), keyring=chain.keyring, key_name="member2",
                          poll_s=0.2)
        suffix = f"{size[0]}x{size[1]}"
        async with app.run_test(size=size) as pilot:
            await until(pilot, lambda: app.session.signer is not None, "sign-in")
            await until(pilot, lambda: chain.title in text(app, "#todo") and "member2" in text(app, "#me"),
                        "the dashboard")
            shots = [("dashboard", lambda: True),
                     ("proposals", lambda: _table_filled(app)),
                     ("circle", lambda: _table_filled(app)),
                     ("validators", lambda: "Active set" in text(app, "#validators")),
                     ("activity", lambda: len(app.activity) > 0)]
            for name, ready in shots:
                await pilot.press(name[0])
                await until(pilot, ready, f"the {name} screen")
                app.clear_notifications()
                await pilot.pause(0.5)       # the footer redraws its bindings after a screen change
                check(app, f"{name}_{suffix}")
            await pilot.press("p")
            app.push_screen(ProposalDetailScreen(chain.proposal_id))
            await until(pilot, lambda: chain.title in text(app, "#detail"), "the proposal detail")
            app.clear_notifications()
            await pilot.pause(0.5)
            check(app, f"proposal_{suffix}")
    asyncio.run(scenario())
