"""A node that answers nonsense — not JSON, the wrong shapes, errors without bodies, deep nesting, huge or slow
answers — must never crash the UI: each failure is a notification and the app keeps running and usable.

The "node" here is a small aiohttp server in the test (a broken or hostile peer of ours, not a mock of our
code); the UI, its client and its workers are the real ones.
"""
from __future__ import annotations

import asyncio
import itertools

from aiohttp import web

from chain.api.client import ApiClientError, Client
from tui.app import ConclaveApp
from tui.screens.confirm import Confirm
from tui.screens.proposals import ProposalDetailScreen
from tui.session import Session
from tuinode import MEMBER2_SEED, until
from chain.crypto.keys import Keyring

SLOW_S = 1.5          # longer than the client's timeout below
CLIENT_TIMEOUT_S = 0.5


def hostile_answers():
    """An endless cycle of bad answers: every route gets each kind in turn."""
    deep = "[" * 100_000 + "]" * 100_000
    kinds = [
        lambda: web.Response(text="<html>not json</html>", content_type="text/html"),
        lambda: web.json_response([1, 2, 3]),
        lambda: web.json_response("a string"),
        lambda: web.json_response({}),
        lambda: web.json_response({"height": "high", "chain_id": ["x"], "proposals": "none", "members": {"a": 1},
                                   "proposal": [], "tally": None, "votes": 5, "next": {}, "codes": [None],
                                   "validators": "v", "active": 7, "epoch": [], "status": {"x": 1}}),
        lambda: web.Response(status=500, text="Internal Server Error"),
        lambda: web.json_response({"error": "not an object"}, status=400),
        lambda: web.Response(text=deep, content_type="application/json"),
        lambda: web.json_response({"proposals": [{"id": "x", "title": None}, 5, None], "next": None}),
        lambda: web.json_response({"members": [{"addr": None, "status": 3}, "m"], "next": 12}),
        "slow",
    ]
    return itertools.cycle(kinds)


async def start_hostile_node() -> tuple[web.AppRunner, str]:
    answers = hostile_answers()

    async def anything(_request: web.Request) -> web.StreamResponse:
        answer = next(answers)
        if answer == "slow":
            await asyncio.sleep(SLOW_S)
            return web.json_response({})
        return answer()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


def test_a_hostile_node_never_crashes_the_ui(tmp_path):
    keyring = Keyring(tmp_path / "keys")
    keyring.add("member2", seed=MEMBER2_SEED)

    async def scenario() -> None:
        runner, url = await start_hostile_node()
        try:
            app = ConclaveApp(Session(Client(url, timeout=CLIENT_TIMEOUT_S)), keyring=keyring, key_name="member2",
                              poll_s=0.05)
            async with app.run_test(size=(80, 24)) as pilot:
                await until(pilot, lambda: app.session.signer is not None, "sign-in")
                for _ in range(3):
                    for key in "dpcva":
                        await pilot.press(key)
                        await pilot.pause(0.3)
                        assert app.is_running
                app.push_screen(ProposalDetailScreen(1))
                await pilot.pause(0.5)
                for key in "ye":                          # sign a vote, execute: against nonsense
                    await pilot.press(key)
                    await pilot.pause(0.5)
                    if isinstance(app.screen, Confirm):
                        await pilot.press("y")
                        await pilot.pause(1.0)
                    assert app.is_running
                await pilot.press("escape", "c", "D")
                await pilot.pause(0.5)
                await pilot.press("escape", "v", "R")
                await pilot.pause(0.5)
                await pilot.press("escape", "p", "N")
                await pilot.pause(0.5)
                assert app.is_running
                assert app._notifications, "the failures were never shown"
                said = " ".join(str(n.message) for n in app._notifications)
                assert "Traceback" not in said
        finally:
            await runner.cleanup()
    asyncio.run(scenario())


def test_the_client_turns_nonsense_into_api_errors():
    """Not JSON, too deep to parse, an error without the error shape: each an ApiClientError saying what."""
    cases = [(web.Response(text="<html>", content_type="text/html"), "bad_response", "not JSON"),
             (web.Response(text="[" * 100_000 + "]" * 100_000, content_type="application/json"), "bad_response",
              "not JSON"),
             (web.json_response({"error": "flat"}, status=400), "http_error", "HTTP 400"),
             (web.Response(status=502, text="Bad Gateway"), "http_error", "HTTP 502")]

    async def scenario() -> None:
        for answer, code, words in cases:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", _answering(answer))
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
            try:
                try:
                    await asyncio.to_thread(Client(url, timeout=5).status)
                except ApiClientError as exc:
                    assert exc.code == code and words in str(exc), (code, str(exc))
                else:
                    raise AssertionError(f"{code}: no error raised")
            finally:
                await runner.cleanup()
    asyncio.run(scenario())


def _answering(response: web.Response):
    async def handler(_request: web.Request) -> web.Response:
        return response
    return handler
