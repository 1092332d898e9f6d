"""The upgrade story on a real 4-validator devnet (`conclave devnet` as a subprocess), with curl and the CLI.

An admin (member1) checks a contract with curl, signs a code proposal with the CLI and posts it
with curl; the circle (member1..3) votes with `conclave gov vote`, anyone executes, and the new
code id appears. Then the admin upgrades the live genesis voting contract to its version 2
(contracts/test/voting-v2: v1's code linked as a library, plus a `{"version":{}}` query and a
migrate that accepts only voting 0.1.0) with `conclave gov propose-upgrade`: after the vote and
execution voting runs the new code id, its history shows the migration, its proposals and votes
are all there, the new query answers on every node (v1 refused it), and governance goes on on
v2: every later proposal of the story is opened, voted and executed by the upgraded contract.
A test counter governed by voting is upgraded the same way (v1 -> v2 with a new behaviour);
a non-admin's proposal is refused at once, a proposal the members reject stores nothing and its
code is pruned, and migrations that fail (the migrate entry point errors, or the new code has
none) leave the counter's code, state and history exactly as they were.
"""
from __future__ import annotations

import base64
import hashlib
import json
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from chain.api.client import ApiClientError, Client
from chain.app.tx import Instantiate, ProposeCode, build_tx
from devnet_support import project_env, spawn_devnet, wait_for
from ports import free_port_base
from support import ARTIFACTS, devnet_key

pytestmark = pytest.mark.timeout(900)

VALIDATORS = 4
BANNER_END = "Ctrl-C stops every node"
START_TIMEOUT_S = 300          # genesis build plus four nodes compiling the genesis contracts on two cores
STEP_TIMEOUT_S = 120
STOP_TIMEOUT_S = 60
CURL = shutil.which("curl")
V1, V2 = ARTIFACTS / "test_counter.wasm", ARTIFACTS / "test_counter_v2.wasm"
REFLECT, HOSTILE = ARTIFACTS / "test_reflect.wasm", ARTIFACTS / "test_hostile.wasm"
VOTING_V2 = ARTIFACTS / "test_voting_v2.wasm"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Story:
    """The devnet's first node, its keyring home, and the tools a person would use."""

    def __init__(self, devnet_home: Path, urls: list[str], work: Path):
        self.home, self.urls, self.work = devnet_home, urls, work
        self.url = urls[0]
        self.client = Client(self.url, timeout=120)
        self.env = project_env()

    def cli(self, *args: str) -> tuple[int, str, str]:
        """`conclave ...` as a person runs it (a separate process), against node0 with the devnet keys."""
        done = subprocess.run([sys.executable, "-m", "chain.cli", *args, "--home", str(self.home), "--node", self.url],
                              capture_output=True, text=True, timeout=STEP_TIMEOUT_S, env=self.env, cwd=self.work)
        return done.returncode, done.stdout, done.stderr

    def ok(self, *args: str) -> str:
        status, out, err = self.cli(*args)
        assert status == 0, f"conclave {' '.join(args)} failed: {err}"
        return out

    def curl(self, *args: str) -> tuple[int, dict]:
        """curl -sS, answering (HTTP status, JSON body); urllib with the same multipart if curl is missing."""
        if CURL is None:
            return self._curl_by_urllib(*args)
        done = subprocess.run([CURL, "-sS", "-w", "\n%{http_code}", *args], capture_output=True, text=True,
                              timeout=STEP_TIMEOUT_S, cwd=self.work)
        assert done.returncode == 0, done.stderr
        body, _, status = done.stdout.rpartition("\n")
        return int(status), json.loads(body)

    def _curl_by_urllib(self, *args: str) -> tuple[int, dict]:
        from api_gov.gov_support import multipart

        parts, url, body, headers = [], args[-1], None, {}
        for flag, value in zip(args[:-1:2], args[1:-1:2]):
            if flag == "-H":
                name, _, header = value.partition(": ")
                headers[name] = header
            elif flag == "-d":
                body = value.encode()
            else:
                assert flag == "-F", flag
                name, _, spec = value.partition("=")
                path = self.work / spec[1:]
                parts.append((name, path.read_bytes(), path.name if spec[0] == "@" else None))
        if parts:
            body, headers["Content-Type"] = multipart(parts)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
        try:
            with urllib.request.urlopen(request, timeout=STEP_TIMEOUT_S) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def proposal(self, proposal_id: int) -> dict:
        return self.client.smart(self.voting, {"proposal": {"proposal_id": proposal_id}})

    @property
    def voting(self) -> str:
        return self.client.genesis_contracts()["voting"]

    def code_ids(self) -> set[int]:
        return {c["code_id"] for c in self.client.codes(limit=50)["codes"]}

    def snapshot(self, contract: str) -> tuple:
        """All a failed migration must leave as it was."""
        return (sorted(self.code_ids()), self.client.contract(contract)["code_id"],
                self.client.contract_history(contract)["entries"], self.client.smart(contract, {"count": {}}),
                self.client.smart(contract, {"version": {}}))


def opened_id(out: str) -> int:
    assert out.startswith("proposal "), out
    return int(out.split()[1])


def stored_code_id(out: str) -> int:
    return int(out.split("stored    code id ")[1].split()[0])


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    work = tmp_path_factory.mktemp("upgrade-story")
    api = free_port_base(VALIDATORS, start=15000)
    p2p = free_port_base(VALIDATORS, start=15300)
    for artifact in (V1, V2, REFLECT, HOSTILE, VOTING_V2):
        shutil.copy(artifact, work / artifact.name)
    out, err = work / "devnet.out", work / "devnet.err"
    proc = spawn_devnet(work, work / "devnet", VALIDATORS, api, p2p, out, err)
    try:
        def banner_or_exit() -> bool:
            assert proc.poll() is None, f"conclave devnet exited ({proc.returncode}): {err.read_text()[-3000:]}"
            return BANNER_END in out.read_text()

        wait_for(banner_or_exit, START_TIMEOUT_S, "the devnet banner", interval=0.5)
        urls = [f"http://127.0.0.1:{api + i}" for i in range(VALIDATORS)]
        story = Story(work / "devnet", urls, work)

        def every_node_at_height_2() -> bool:
            assert proc.poll() is None, err.read_text()[-3000:]
            try:
                return all(Client(url, timeout=5).status()["height"] >= 2 for url in urls)
            except ApiClientError:
                return False

        wait_for(every_node_at_height_2, START_TIMEOUT_S, "height 2 on every node", interval=0.5)
        yield story
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=STOP_TIMEOUT_S) == 0, err.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def chapter() -> dict:
    """What one chapter of the story hands the next (code ids, the counter's address)."""
    return {}


def test_1_an_admin_proposes_code_with_curl_and_the_circle_stores_it(story, chapter):
    status, checked = story.curl("-F", f"wasm=@{V1.name}", f"{story.url}/gov/code-proposals/check")
    assert status == 200 and checked["ok"] is True and checked["checksum"] == sha(V1), checked
    (story.work / "broken.wasm").write_bytes(V1.read_bytes()[:5000])
    status, checked = story.curl("-F", "wasm=@broken.wasm", f"{story.url}/gov/code-proposals/check")
    assert status == 200 and checked["ok"] is False and "invalid wasm" in checked["error"]

    # a bad file in a signed proposal: refused at once with the reason, nothing spent
    key = devnet_key("member", 1)
    sequence = story.client.account(key.address())["sequence"]
    bad = build_tx(key, story.client.status()["chain_id"], sequence,
                   [ProposeCode(V1.read_bytes()[:5000], "Broken", "truncated", None)], gas_limit=10_000_000)
    (story.work / "bad.b64").write_text(base64.b64encode(bad.raw).decode())
    status, refused = story.curl("-F", "signed_tx=<bad.b64", f"{story.url}/gov/code-proposals?wait=commit")
    assert status == 422 and refused["error"]["code"] == "invalid_wasm", refused
    assert "invalid wasm" in refused["error"]["message"]
    assert story.client.account(key.address())["sequence"] == sequence

    # the admin signs with the CLI (no key reaches the node) and posts with curl
    out = story.ok("gov", "propose-upgrade", "--wasm", V1.name, "--title", "Counter v1", "--from", "member1",
                   "--signed-tx-out", "v1.b64")
    assert "curl -sS -F signed_tx=<v1.b64" in out
    status, opened = story.curl("-F", "signed_tx=<v1.b64", "-F", f"wasm=@{V1.name}",
                                f"{story.url}/gov/code-proposals?wait=commit")
    assert status == 200, opened
    proposal_id = opened["proposal_id"]
    assert opened["links"]["proposal"] == f"/gov/proposals/{proposal_id}" and opened["checksum"] == sha(V1)
    status, linked = story.curl(story.url + opened["links"]["proposal"])
    assert status == 200 and linked["proposal"]["status"] == "open" and linked["proposal"]["title"] == "Counter v1"

    codes_before = story.code_ids()
    assert "now passed" in story.ok("gov", "vote", str(proposal_id), "yes", "--from", "member2")
    out = story.ok("gov", "execute", str(proposal_id), "--from", "member3")
    chapter["v1"] = stored_code_id(out)
    assert story.code_ids() == codes_before | {chapter["v1"]}
    assert story.client.code(chapter["v1"])["checksum"] == sha(V1)


def test_2_an_admin_upgrades_the_genesis_voting_contract(story, chapter):
    voting = story.voting
    v1_code = story.client.contract(voting)["code_id"]
    history = story.client.contract_history(voting)["entries"]
    with pytest.raises(ApiClientError, match="unknown variant"):                     # v1 has no version query
        story.client.smart(voting, {"version": {}})
    status, checked = story.curl("-F", f"wasm=@{VOTING_V2.name}", f"{story.url}/gov/code-proposals/check")
    assert status == 200 and checked["ok"] is True and "migrate" in checked["entry_points"], checked

    out = story.ok("gov", "propose-upgrade", "--wasm", VOTING_V2.name, "--contract", voting, "--migrate-msg", "{}",
                   "--title", "Voting v2", "--description", "adds the version query", "--from", "member1")
    proposal_id = opened_id(out)
    shown = story.ok("gov", "show", str(proposal_id))
    assert "[open]" in shown and f"migrate {voting} to code sha256 {sha(VOTING_V2)} with {{}}" in shown
    old_checksum = story.client.code(v1_code)["checksum"]
    assert f"contract governance runs code {v1_code}, sha256 {old_checksum}" in shown       # what a voter compares
    assert f"new code (stored when executed), {len(VOTING_V2.read_bytes()):,} bytes" in shown
    assert "now passed" in story.ok("gov", "vote", str(proposal_id), "yes", "--from", "member2")
    proposals = story.client.smart(voting, {"list_proposals": {}})["proposals"]
    votes = {p["id"]: story.client.smart(voting, {"list_votes": {"proposal_id": p["id"]}})["votes"] for p in proposals}
    config = story.client.smart(voting, {"config": {}})
    codes_before = story.code_ids()
    out = story.ok("gov", "execute", str(proposal_id), "--from", "member3")
    v2 = chapter["voting_v2"] = stored_code_id(out)
    assert f"migrated  {voting} to code id {v2}" in out

    assert v2 not in codes_before and story.code_ids() == codes_before | {v2}           # the new code id
    assert story.client.contract(voting)["code_id"] == v2 != v1_code
    after = story.client.contract_history(voting)["entries"]
    assert after[:len(history)] == history
    assert [(h["operation"], h["code_id"]) for h in after[len(history):]] == [("migrate", v2)]
    kept = story.client.smart(voting, {"list_proposals": {}})["proposals"]               # state preserved
    assert [p["id"] for p in kept] == [p["id"] for p in proposals]
    assert [p for p in kept if p["id"] != proposal_id] == [p for p in proposals if p["id"] != proposal_id]
    assert story.proposal(proposal_id)["status"] == "executed"
    assert {p["id"]: story.client.smart(voting, {"list_votes": {"proposal_id": p["id"]}})["votes"]
            for p in kept} == votes
    assert story.client.smart(voting, {"config": {}}) == config
    for url in story.urls:                                                              # new behaviour, everywhere
        node = Client(url, timeout=30)
        wait_for(lambda: node.contract(voting)["code_id"] == v2, STEP_TIMEOUT_S, f"voting on v2 at {url}")
        status, answer = story.curl("-H", "Content-Type: application/json", "-d", '{"version":{}}',
                                    f"{url}/contracts/{voting}/smart")
        assert status == 200 and answer["data"] == {"contract": "voting", "version": "2.0.0"}, answer
    assert "[executed]" in story.ok("gov", "show", str(proposal_id))


def test_3_governance_goes_on_with_voting_v2(story, chapter):
    """A counter governed by voting is upgraded by a proposal opened, voted and executed on v2."""
    assert story.client.contract(story.voting)["code_id"] == chapter["voting_v2"]
    key = devnet_key("member", 1)
    answer = story.client.submit_tx(build_tx(
        key, story.client.status()["chain_id"], story.client.account(key.address())["sequence"],
        [Instantiate(chapter["v1"], {"count": 5}, (), "counter", story.voting)], gas_limit=1_000_000).raw,
        wait_commit=True)
    assert answer["result"]["code"] == 0, answer["result"]["log"]
    counter = next(a["value"] for e in answer["result"]["events"] if e["type"] == "instantiate"
                   for a in e["attributes"] if a["key"] == "_contract_address")
    chapter["counter"] = counter
    story.ok("tx", "execute", "member2", counter, '{"increment":{}}')
    assert story.client.smart(counter, {"count": {}}) == {"count": 6}

    out = story.ok("gov", "propose-upgrade", "--wasm", V2.name, "--contract", counter, "--migrate-msg", "{}",
                   "--title", "Counter v2", "--description", "increment adds 2", "--from", "member1")
    proposal_id = opened_id(out)
    assert "now passed" in story.ok("gov", "vote", str(proposal_id), "yes", "--from", "member2")
    out = story.ok("gov", "execute", str(proposal_id), "--from", "member3")
    v2 = stored_code_id(out)
    assert f"migrated  {counter} to code id {v2}" in out
    history = story.client.contract_history(counter)["entries"]
    assert [(h["operation"], h["code_id"]) for h in history] == [("init", chapter["v1"]), ("migrate", v2)]
    assert story.client.smart(counter, {"count": {}}) == {"count": 6}                   # state preserved
    assert story.client.smart(counter, {"migrated_from": {}}) == {"version": 1}
    story.ok("tx", "execute", "member3", counter, '{"increment":{}}')
    wait_for(lambda: story.client.smart(counter, {"count": {}}) == {"count": 8}, STEP_TIMEOUT_S, "count 8")
    assert story.client.smart(counter, {"version": {}}) == {"version": 2}


def test_4_a_non_admin_cannot_propose(story):
    before = story.client.smart(story.voting, {"list_proposals": {}})["proposals"]
    status, out, err = story.cli("gov", "propose-upgrade", "--wasm", REFLECT.name, "--from", "member2")
    assert status == 1 and "proposal_refused" in err and "admins" in err, err
    assert story.client.smart(story.voting, {"list_proposals": {}})["proposals"] == before
    assert story.client.pending_code() == []


def test_5_a_proposal_that_fails_the_vote_stores_nothing(story):
    proposal_id = opened_id(story.ok("gov", "propose-upgrade", "--wasm", REFLECT.name, "--title", "Reflect",
                                     "--from", "member1"))
    assert [p["proposal_id"] for p in story.client.pending_code()] == [proposal_id]
    assert "now open" in story.ok("gov", "vote", str(proposal_id), "no", "--from", "member2")
    assert "now rejected" in story.ok("gov", "vote", str(proposal_id), "veto", "--from", "member3")
    status, _, err = story.cli("gov", "execute", str(proposal_id), "--from", "member1")
    assert status == 1 and f"executing proposal {proposal_id} failed" in err
    wait_for(lambda: story.client.pending_code() == [], STEP_TIMEOUT_S, "the rejected proposal's code pruned")
    assert story.client.check_code(REFLECT.read_bytes())["stored_code_id"] is None
    assert story.proposal(proposal_id)["status"] == "rejected"


def test_6_failed_migrations_leave_nothing_half_applied(story, chapter):
    counter = chapter["counter"]
    before = story.snapshot(counter)
    # v1's migrate entry point refuses an unknown field: the migration errors, the counter stays on v2
    proposal_id = opened_id(story.ok("gov", "propose-upgrade", "--wasm", V1.name, "--contract", counter,
                                     "--migrate-msg", '{"bogus": 1}', "--title", "Back to v1", "--from", "member1"))
    assert "now passed" in story.ok("gov", "vote", str(proposal_id), "yes", "--from", "member2")
    status, _, err = story.cli("gov", "execute", str(proposal_id), "--from", "member3")
    assert status == 1 and "failed" in err and "bogus" in err, err
    assert story.snapshot(counter) == before
    assert story.proposal(proposal_id)["status"] == "passed"

    # new code whose migration cannot run: neither the code nor the migration is kept
    proposal_id = opened_id(story.ok("gov", "propose-upgrade", "--wasm", HOSTILE.name, "--contract", counter,
                                     "--title", "Hostile", "--from", "member1"))
    assert "now passed" in story.ok("gov", "vote", str(proposal_id), "yes", "--from", "member3")
    status, _, err = story.cli("gov", "execute", str(proposal_id), "--from", "member2")
    assert status == 1 and "migrate" in err, err
    assert story.snapshot(counter) == before
    check = story.client.check_code(HOSTILE.read_bytes())
    assert check["stored_code_id"] is None and check["pending_in_proposal"] == proposal_id
    rows = [line.split()[:2] for line in story.ok("gov", "list").splitlines()[1:]]
    assert rows == [["1", "executed"], ["2", "executed"], ["3", "executed"], ["4", "rejected"], ["5", "passed"],
                    [str(proposal_id), "passed"]]
    assert story.client.smart(story.voting, {"version": {}}) == {"contract": "voting", "version": "2.0.0"}
