"""A real one-validator node for the TUI tests, with a proposal waiting for member 2's vote, and a keyring
holding member 2's devnet key; plus ``until``, the bounded wait the pilot tests poll with."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from chain.app.tx import Execute, build_tx
import hashlib
from chain.crypto.keys import Keyring
from nodeproc import NodeProcess
from support import devnet_genesis, devnet_key, make_validator_home

WAIT_S = 30.0
STEP_S = 0.05
MEMBER2_SEED = hashlib.sha256(b"devnet/member/2").digest()   # the public devnet seed (genesis/README.md)


@dataclass
class TuiChain:
    node: NodeProcess
    keyring: Keyring
    proposal_id: int
    title: str


def start_chain(tmp: Path, extra_titles: tuple[str, ...] = ()) -> TuiChain:
    """Start the node, open a text proposal by member 1 (its own yes counts), import member 2 as "member2".

    Each of ``extra_titles`` opens one more proposal (ids after the main one), e.g. a hostile title."""
    genesis, contracts = devnet_genesis(validators=1)
    node = NodeProcess(make_validator_home(tmp / "node", genesis)).start()
    try:
        node.wait_height(2)
        m1 = devnet_key("member", 1)
        title = "plant trees"
        ids = [_propose(node, m1, contracts["voting"], t) for t in (title, *extra_titles)]
        proposal_id = ids[0]
        keyring = Keyring(tmp / "keys")
        keyring.add("member2", seed=MEMBER2_SEED)
        return TuiChain(node, keyring, proposal_id, title)
    except BaseException:
        node.stop()
        raise


def _propose(node: NodeProcess, key, voting: str, title: str) -> int:
    status = node.client.status()
    sequence = node.client.account(key.address())["sequence"]
    msg = Execute(voting, {"propose": {"title": title, "description": f"a TUI test: {title}", "msgs": []}}, ())
    answer = node.client.submit_tx(build_tx(key, status["chain_id"], sequence, [msg]).raw, wait_commit=True)
    assert answer["result"]["code"] == 0, answer
    return int(next(a["value"] for e in answer["result"]["events"] for a in e["attributes"]
                    if a["key"] == "proposal_id"))


def plain(app, selector: str) -> str:
    """What a Static shows on screen, markup applied (so escaped brackets read as brackets)."""
    found = app.screen.query(selector)
    return found.first().visual.plain if found else ""


async def until(pilot, condition: Callable[[], bool], what: str, deadline_s: float = WAIT_S) -> None:
    """Let the app run until ``condition()`` holds; fail naming ``what`` after ``deadline_s``."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(STEP_S)
    raise AssertionError(f"timed out waiting for {what}")


def text(app, selector: str) -> str:
    """What a Static was last given to show (its markup text)."""
    found = app.screen.query(selector)
    return str(found.first().content) if found else ""      # "" until the screen has composed it
