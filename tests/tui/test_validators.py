"""The validators screen: the active set, the jailed, the next epoch and a PoE bar chart, and registering
my consensus key — driven with the pilot against a real node where member 2 has earned PoE points;
plus the chart and key checks on their own, without a node."""
from __future__ import annotations

import asyncio
import base64
import os
import random
import threading
from pathlib import Path

import pytest
from textual.widgets import Input

from chain.api.client import Client, read_pages
from chain.app.tx import Execute, Send, build_tx
from chain.crypto.keyfiles import write_validator_key
from chain.crypto.keys import PrivateKey
from support import devnet_key
from tui.app import ConclaveApp
from tui.format import points_bar
from tui.screens.base import MAX_ROWS
from tui.screens.confirm import Confirm, Prompt
from tui.screens.validators import (ValidatorsScreen, active_lines, epoch_line, jailed_lines, my_key_lines,
                                    next_epoch_lines, poe_chart)
from tui.errors import ActionError
from tui.session import Session
from tui.validator_key import check_moniker, check_pubkey_b64, validator_pubkey
from tuinode import TuiChain, start_chain, text, until

HOSTILE_MONIKER = "[bold red]node[/nope] \\[ ["
M2_STAKE = 100_000           # ustake: 100 stake points at 1000 per point
M2_ENGAGEMENT = 100          # with 100 stake points: 100 PoE points (geometric mean)
RNG = random.Random(7)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory):
    chain = start_chain(tmp_path_factory.mktemp("tui-validators"))
    try:
        _earn_points_for_member2(chain)
        yield chain
    finally:
        chain.node.stop()


def _send(chain: TuiChain, key: PrivateKey, msg) -> dict:
    client = chain.node.client
    sequence = client.account(key.address())["sequence"]
    tx = build_tx(key, client.status()["chain_id"], sequence, [msg], gas_limit=2_000_000)
    answer = client.submit_tx(tx.raw, wait_commit=True)
    assert answer["result"]["code"] == 0, answer
    return answer


def _earn_points_for_member2(chain: TuiChain) -> None:
    """Member 2 bonds stake (sent by validator 1's operator) and the circle grants it engagement by vote:
    the valset takes keys only from members with PoE points."""
    contracts = chain.node.client.genesis_contracts()
    m1, m2, op1 = devnet_key("member", 1), devnet_key("member", 2), devnet_key("operator", 1)
    _send(chain, op1, Send(m2.address(), (("ustake", M2_STAKE),)))
    _send(chain, m2, Execute(contracts["stake"], {"bond": {}}, (("ustake", M2_STAKE),)))
    grant = base64.b64encode(b'{"add_points":{"addr":"%s","points":%d}}' % (m2.address().encode(),
                                                                           M2_ENGAGEMENT)).decode()
    proposed = _send(chain, m1, Execute(contracts["voting"], {"propose": {
        "title": "engage member2", "description": "member2 runs a validator",
        "msgs": [{"wasm": {"execute": {"contract_addr": contracts["engagement"], "funds": [], "msg": grant}}}]}}, ()))
    proposal_id = int(next(a["value"] for e in proposed["result"]["events"] for a in e["attributes"]
                           if a["key"] == "proposal_id"))
    _send(chain, m2, Execute(contracts["voting"], {"vote": {"proposal_id": proposal_id, "vote": "yes"}}, ()))
    _send(chain, m1, Execute(contracts["voting"], {"execute": {"proposal_id": proposal_id}}, ()))
    assert chain.node.client.points(m2.address())["poe"] > 0


def _app(chain: TuiChain, key: str | None = "member2") -> ConclaveApp:
    app = ConclaveApp(Session(Client(chain.node.url, timeout=5.0)), keyring=chain.keyring if key else None,
                      key_name=key, poll_s=0.2)
    return app


def _messages(app: ConclaveApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def _said(app: ConclaveApp, words: str) -> bool:
    return any(words in m for m in _messages(app))


async def _answer(pilot, app: ConclaveApp, value: str) -> None:
    """Type ``value`` into the open prompt and submit it."""
    await until(pilot, lambda: isinstance(app.screen, Prompt), "the prompt")
    app.screen.query_one(Input).value = value
    await pilot.press("enter")


async def _validators_screen(pilot, app: ConclaveApp, member: str | None) -> None:
    await pilot.press("v")
    await until(pilot, lambda: "Active set" in text(app, "#validators"), "the validators screen")
    if member:
        await until(pilot, lambda: "(me)" in text(app, "#poe-chart"), "my bar in the PoE chart")


# --- against the node ---------------------------------------------------------------------------
def test_read_only_sees_the_set_and_cannot_register(chain: TuiChain):
    async def scenario() -> None:
        app = _app(chain, key=None)
        async with app.run_test(size=(120, 40)) as pilot:
            await _validators_screen(pilot, app, None)
            shown = text(app, "#validators")
            operator1 = devnet_key("operator", 1).address()
            assert operator1 in shown                                   # whole addresses at 120 columns
            assert "Next epoch" in shown and "Jailed: 0, none" in shown and "every 60 s" in shown
            chart = text(app, "#poe-chart")
            assert "PoE points: 2 members with points" in chart and "█" in chart
            await pilot.press("R")
            await until(pilot, lambda: _said(app, "read-only"), "the read-only notification")
            assert isinstance(app.screen, ValidatorsScreen) and app.is_running
    asyncio.run(scenario())


def test_bad_keys_and_monikers_are_refused_before_signing(chain: TuiChain, tmp_path: Path):
    good = tmp_path / "good.json"
    write_validator_key(good, PrivateKey.from_seed(bytes(RNG.getrandbits(8) for _ in range(32))))
    huge = tmp_path / "huge.json"
    with huge.open("wb") as fh:
        fh.truncate(10 * 1024 * 1024)
    (tmp_path / "garbage.json").write_text("{not json")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    bad_sources = [("not base64", "is not base64"),
                   (base64.b64encode(bytes(31)).decode(), "is 31"),
                   (base64.b64encode(bytes(32)).decode(), "not a usable ed25519 public key"),
                   (str(tmp_path / "missing.json"), "no key file at"),
                   (str(tmp_path), "is a directory"),
                   (str(huge), "larger than"),
                   (str(tmp_path / "garbage.json"), "not JSON"),
                   (str(fifo), "not a regular file"),
                   ("x" * 5000, "neither a file path nor a public key")]

    async def scenario() -> None:
        app = _app(chain)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.session.signer is not None, "sign-in")
            await _validators_screen(pilot, app, "member2")
            assert "no validator key: press R" in text(app, "#validators")
            for source, complaint in bad_sources:
                await pilot.press("R")
                await _answer(pilot, app, source)
                await until(pilot, lambda: _said(app, complaint), f"the complaint {complaint!r}")
                assert isinstance(app.screen, ValidatorsScreen)              # no moniker prompt after it
            for moniker, complaint in (("   ", "moniker is empty"), ("é" * 36, "72 bytes")):
                await pilot.press("R")
                await _answer(pilot, app, str(good))
                await _answer(pilot, app, moniker)
                await until(pilot, lambda: _said(app, complaint), f"the complaint {complaint!r}")
                assert isinstance(app.screen, ValidatorsScreen)              # no confirmation after it
            await pilot.press("R")                                       # Escape anywhere: nothing happens
            await until(pilot, lambda: isinstance(app.screen, Prompt), "the prompt")
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, ValidatorsScreen), "back after Escape")
            assert app.is_running and not any(n.title == "done" for n in app._notifications)
    asyncio.run(scenario())
    assert chain.node.client.smart(chain.node.client.genesis_contracts()["valset"], {"validator": {
        "operator": devnet_key("member", 2).address()}})["validator"] is None


def test_register_my_key_from_a_key_file_then_see_it(chain: TuiChain, tmp_path: Path):
    key_file = tmp_path / "priv_validator_key.json"
    fresh = PrivateKey.from_seed(bytes(RNG.getrandbits(8) for _ in range(32)))
    write_validator_key(key_file, fresh)
    pubkey = base64.b64encode(fresh.pubkey).decode()

    async def scenario() -> None:
        app = _app(chain)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.session.signer is not None, "sign-in")
            await _validators_screen(pilot, app, "member2")
            await pilot.press("R")
            await _answer(pilot, app, str(key_file))
            await _answer(pilot, app, HOSTILE_MONIKER)
            await until(pilot, lambda: isinstance(app.screen, Confirm), "the confirmation")
            assert pubkey in app.screen.question and HOSTILE_MONIKER in app.screen.question
            await pilot.press("y")
            await until(pilot, lambda: any(n.title == "done" for n in app._notifications), "the registration")
            assert _said(app, HOSTILE_MONIKER)                              # the notification shows it literally
            await until(pilot, lambda: pubkey in text(app, "#validators"), "my key on the screen")
            shown = text(app, "#validators")
            assert f"moniker {HOSTILE_MONIKER}" in shown
            assert "(me) joins with power" in shown or "  in the active set" in shown

            await pilot.press("R")                                          # a second key: refused at once
            await until(pilot, lambda: _said(app, "already registered"), "the already-registered notice")
            assert isinstance(app.screen, ValidatorsScreen) and app.is_running

            other = base64.b64encode(PrivateKey.from_seed(bytes(range(32))).pubkey).decode()
            refused: list[str] = []                                         # and the session refuses it too
            worker = threading.Thread(target=lambda: _try(lambda: app.session.register_validator_key(other, "x"),
                                                          refused))
            worker.start()
            worker.join(timeout=30)
            assert refused and "already registered key " + pubkey in refused[0]
    asyncio.run(scenario())
    registered = chain.node.client.smart(chain.node.client.genesis_contracts()["valset"], {"validator": {
        "operator": devnet_key("member", 2).address()}})["validator"]
    assert registered["validator_pubkey"] == {"ed25519": pubkey}
    assert registered["metadata"]["moniker"] == HOSTILE_MONIKER


def _try(action, errors: list[str]) -> None:
    try:
        action()
    except ActionError as exc:
        errors.append(str(exc))


# --- without a node -----------------------------------------------------------------------------
def test_points_bar_scales_to_the_widest():
    assert points_bar(100, 100, 10) == "█" * 10
    assert points_bar(50, 100, 10) == "█" * 5 + " " * 5
    assert points_bar(1, 100, 10) == "▏" + " " * 9                   # a little is still visible
    assert points_bar(3, 8, 1) == "▍"                                 # eighths of a cell
    assert points_bar(250, 100, 4) == "████"                          # above the widest: capped


@pytest.mark.parametrize("points,widest", [(0, 100), (None, 100), (-5, 100), ("12", 100), (True, 1), (3.5, 10),
                                           ([], 1), ({"x": 1}, 1)])
def test_points_bar_draws_nothing_for_no_points(points, widest):
    assert points_bar(points, widest, 6) == " " * 6


@pytest.mark.parametrize("width", [0, -3, None, "10", 1, 2, 5000])
def test_points_bar_is_always_its_width(width):
    bar = points_bar(7, 9, width)
    assert len(bar) == (min(width, 1000) if isinstance(width, int) and width > 0 else 0)


def test_points_bar_takes_huge_and_odd_widest_values():
    top = 2 ** 64 - 1
    assert points_bar(top, top, 20) == "█" * 20
    assert points_bar(top // 2, top, 20) == "█" * 10 + " " * 10      # integer arithmetic: no float rounding
    assert points_bar(5, None, 4) == "████" and points_bar(5, -1, 4) == "████" and points_bar(5, 0, 4) == "████"
    assert points_bar(1, 10 ** 40, 3) == "▏  "


def test_poe_chart_sorts_marks_me_and_fits_narrow_screens():
    members = [{"addr": "conclave1aaaa", "points": 10}, {"addr": "conclave1bbbb", "points": 1000},
               {"addr": "conclave1cccc", "points": 0}, {"addr": "conclave1dddd", "points": None},
               {"addr": "conclave1eeee", "points": -3}, "junk", {"points": 5}]
    lines = [_plain(line) for line in poe_chart(members, "conclave1aaaa", 60)]
    assert lines[0] == "PoE points: 3 members with points"
    assert [line.split()[0] for line in lines[1:]] == ["conclave1bbbb", "conclave1aaaa", "-"]
    assert "(me)" in lines[2] and "(me)" not in lines[1]
    assert all(len(line) <= 60 for line in lines)
    assert lines[1].count("█") > lines[2].count("█") and lines[1].rstrip().endswith("1000")
    narrow = [_plain(line) for line in poe_chart(members, None, 10)]   # no room for a bar: label and value stay
    assert narrow[1].split() == ["conclave1bbbb", "1000"] and "█" not in "".join(narrow)
    assert "none yet" in _plain(poe_chart([], None, 80)[1])


def test_epoch_jailed_and_next_epoch_lines():
    line = _plain(epoch_line({"epoch_length": 60, "current_epoch": 5, "next_update_time": 1_767_225_660},
                             1_767_225_600 * 10 ** 9))
    assert line == "Validator set: epoch 5, every 60 s; next update 00:01:00 UTC (in 60 s)"
    assert "next update 2026-01-01 00:01:00 UTC" in _plain(epoch_line({"next_update_time": 1_767_225_660}, None))
    assert "2026-01-03" in _plain(epoch_line({"next_update_time": 1_767_225_660 + 2 * 86_400}, 1_767_225_600 * 10 ** 9))
    assert "(due at the next block)" in _plain(epoch_line({"next_update_time": 5}, 6 * 10 ** 9))
    assert "no update yet" in _plain(epoch_line({}, None)) and "-" in _plain(epoch_line("junk", "x"))
    assert "next update -" in _plain(epoch_line({"next_update_time": 10 ** 30}, None))
    jailed = [_plain(x) for x in jailed_lines([{"operator": "conclave1a", "jailed_until": {"forever": {}}},
                                               {"operator": "conclave1b", "jailed_until": {"until": 0}}, 7],
                                              "conclave1b", "conclave1b")]
    assert jailed[0] == "Jailed: 2+" and "forever" in jailed[1] and "(me)  until 1970-01-01" in jailed[2]
    assert "and more" in jailed[3]
    active = [{"operator": "conclave1a", "power": 10}, {"operator": "conclave1b", "power": 5}]
    changes = [_plain(x) for x in next_epoch_lines(active, [{"operator": "conclave1a", "power": 12},
                                                            {"operator": "conclave1c", "power": 3}], "conclave1c")]
    assert changes[0] == "Next epoch (if it ended now): 2 validators, total power 15"
    assert changes[1:] == ["  ~ conclave1a power 10 → 12", "  + conclave1c (me) joins with power 3",
                           "  - conclave1b leaves"]
    assert _plain(next_epoch_lines(active, active, None)[1]) == "  no change"


def test_active_set_table_shows_monikers_literally_and_fits():
    active = [{"operator": "conclave1" + "q" * 38, "power": 7}, {"operator": "conclave1" + "z" * 38, "power": 70},
              "junk"]
    monikers = {"conclave1" + "q" * 38: HOSTILE_MONIKER + " 日本語 and a very long tail indeed"}
    lines = [_plain(x) for x in active_lines([a for a in active if isinstance(a, dict)], {}, monikers, None, 76)]
    assert lines[0] == "Active set: 2 validators, total power 77"
    assert lines[2].split()[0] == "conclave1z…zzzzzz" and HOSTILE_MONIKER[:10] in lines[3]
    assert all(len(line) <= 76 for line in lines)
    wide = [_plain(x) for x in active_lines(active[:2], {}, {}, "conclave1" + "z" * 38, 120)]
    assert "conclave1" + "z" * 38 + " (me)" in wide[2]
    assert _plain(active_lines([], {}, {}, None, 80)[1]) == "  none"


def test_my_key_lines():
    assert "read-only" in _plain(my_key_lines(None, None, None, None)[0])
    assert "press R" in _plain(my_key_lines("conclave1me", "alice", None, 5)[1])
    assert "PoE points are needed" in _plain(my_key_lines("conclave1me", "alice", None, 0)[1])
    mine = {"validator_pubkey": {"ed25519": "KEY="}, "metadata": {"moniker": "[b]x"}, "active_validator": True,
            "jailed_until": {"forever": {}}}
    lines = [_plain(x) for x in my_key_lines("conclave1me", "alice", mine, 5)]
    assert lines == ["Me alice conclave1me  PoE points 5  in the active set, jailed forever",
                     "  key KEY=  moniker [b]x"]


def test_read_pages_follows_next_and_cursors_up_to_the_cap():
    pages = {None: {"members": [{"addr": "a"}], "next": "a"}, "a": {"members": [{"addr": "b"}], "next": None}}
    assert [m["addr"] for m in read_pages(lambda after: pages[after], "members", "addr", MAX_ROWS)] == ["a", "b"]
    full = lambda after: {"validators": [{"operator": f"{after or ''}{i:02}"} for i in range(30)]}
    assert len(read_pages(full, "validators", "operator", cap=75)) == 75
    assert read_pages(lambda after: {"validators": []}, "validators", "operator", MAX_ROWS) == []
    codes = {None: {"codes": [{"code_id": 1}, "junk"], "next": 1}, 1: {"codes": [{"code_id": 2}], "next": None}}
    assert read_pages(lambda after: codes[after], "codes", "code_id", 10) == [{"code_id": 1}, {"code_id": 2}]
    bool_next = {"codes": [{"code_id": 1}], "next": True}                  # not a cursor: the list ends
    assert read_pages(lambda after: bool_next, "codes", "code_id", 10) == [{"code_id": 1}]


def test_key_and_moniker_checks(tmp_path: Path):
    key = PrivateKey.from_seed(bytes(range(1, 33)))
    b64 = base64.b64encode(key.pubkey).decode()
    assert check_pubkey_b64(f"  {b64}\n") == b64 and validator_pubkey(b64) == b64
    write_validator_key(tmp_path / "k.json", key)
    os.chmod(tmp_path / "k.json", 0o644)                     # readable by others: still read, no warning raised
    assert validator_pubkey(str(tmp_path / "k.json")) == b64
    for bad, words in (("", "give a path"), ("~/nope/priv_validator_key.json", "no key file at"),
                       (b64[:-4] + "!!!=", "not base64"), ("AAAA", "is 3"), ("a\x00b", "not base64")):
        with pytest.raises(ActionError, match=words):
            validator_pubkey(bad)
    assert check_moniker("  my node ") == "my node" and check_moniker(HOSTILE_MONIKER) == HOSTILE_MONIKER
    assert check_moniker("x" * 70) == "x" * 70
    for bad, words in (("", "empty"), ("x" * 71, "71 bytes"), ("a\x1b[31mb", "U\\+001B"), ("a\u202eb", "U\\+202E"),
                       ("a\nb", "U\\+000A"), (None, "empty")):
        with pytest.raises(ActionError, match=words):
            check_moniker(bad)


def test_read_only_session_refuses_to_register_without_asking_the_node():
    session = Session(Client("http://127.0.0.1:9", timeout=1.0))
    with pytest.raises(ActionError, match="read-only"):
        session.register_validator_key("AAAA", "x")


def _plain(line) -> str:
    """A screen line (str, (text, style) or a list of those) as the text it shows."""
    parts = line if isinstance(line, list) else [line]
    return "".join(p[0] if isinstance(p, tuple) else p for p in parts)
