"""`conclave gov ...` against a real single-validator node: the upgrade told through the CLI.

An admin proposes code (checked locally first), members vote, anyone executes; the contract's
code id changes, its history shows the migration, its state is kept. Bad files, bad options and
non-admins end with one line on stderr and exit status 1. Tests run in file order on one node.
"""
from __future__ import annotations

import base64
import hashlib
import json

import pytest

from chain.app.tx import Instantiate
from chain.cli import main
from api_gov.gov_support import GovNode, keys_home, member, multipart
from support import ARTIFACTS, artifact

pytestmark = pytest.mark.timeout(300)

V1_FILE = ARTIFACTS / "test_counter.wasm"
V2_FILE = ARTIFACTS / "test_counter_v2.wasm"
REFLECT_FILE = ARTIFACTS / "test_reflect.wasm"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def node(gov_nodes) -> GovNode:
    return gov_nodes["cli"]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return keys_home(tmp_path_factory.mktemp("gov-cli-keys"))


@pytest.fixture
def gov(node, home, capsys):
    """Run `conclave gov ...` in-process against the node: (exit status, stdout, stderr)."""
    def run(*args: str) -> tuple[int, str, str]:
        status = main(["gov", *args, "--home", str(home), "--node", node.url])
        out, err = capsys.readouterr()
        return status, out, err
    return run


@pytest.fixture(scope="module")
def state() -> dict:
    """What the story's steps hand each other (the counter's address, proposal ids)."""
    return {}


def test_a_bad_file_is_refused_locally_with_the_reason(gov, tmp_path):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\x00asm\x01\x00\x00\x00 not a module")
    status, out, err = gov("propose-upgrade", "--wasm", str(bad), "--from", "member1")
    assert status == 1 and out == ""
    assert err.startswith(f"error: --wasm {bad} refused by the chain's checks: ") and len(err.splitlines()) == 1
    status, _, err = gov("propose-upgrade", "--wasm", str(tmp_path / "missing.wasm"), "--from", "member1")
    assert status == 1 and "cannot read it" in err


@pytest.mark.parametrize("args,message", [
    (["propose-upgrade", "--wasm", str(V2_FILE), "--from", "member1", "--migrate-msg", "{}"],
     "--migrate-msg needs --contract"),
    (["propose-upgrade", "--wasm", str(V2_FILE), "--from", "member1", "--contract", "x", "--migrate-msg", "[1]"],
     "must be a JSON object"),
    (["propose-upgrade", "--wasm", str(V2_FILE), "--from", "member1", "--contract", "x", "--migrate-msg", "{oops"],
     "not JSON"),
    (["propose-upgrade", "--wasm", str(V2_FILE), "--from", "nobody"], "nobody"),
    (["vote", "first", "yes", "--from", "member2"], "PROPOSAL_ID must be a positive integer"),
    (["execute", "0", "--from", "member2"], "PROPOSAL_ID must be a positive integer"),
    (["show", "999"], "error: "),
])
def test_bad_options_end_with_one_line(gov, args, message):
    status, out, err = gov(*args)
    assert status == 1 and message in err and len(err.splitlines()) == 1, err


def test_a_vote_must_be_one_of_the_four(gov):
    with pytest.raises(SystemExit) as exc:
        gov("vote", "1", "maybe", "--from", "member2")
    assert exc.value.code == 2


def test_a_non_admin_is_refused_before_anything_is_spent(gov, node):
    status, out, err = gov("propose-upgrade", "--wasm", str(V1_FILE), "--from", "member2")
    assert status == 1 and "proposal_refused" in err and "admins" in err
    assert node.sequence(member(2)) == 0 and node.proposals() == []
    status, out, err = gov("list")
    assert status == 0 and out.strip() == "no proposals"


def test_an_admin_stores_code_through_a_vote(gov, node, state):
    status, out, err = gov("propose-upgrade", "--wasm", str(V1_FILE), "--from", "member1")
    assert status == 0, err
    assert out.startswith("proposal 1 opened: Store code ")
    assert f"link      {node.url}/gov/proposals/1" in out and sha(V1_FILE.read_bytes()) in out
    status, out, _ = gov("show", "1")
    assert status == 0 and "proposal 1: Store code" in out and "[open]" in out
    assert f"1. store code sha256 {sha(V1_FILE.read_bytes())} ({len(V1_FILE.read_bytes()):,} bytes)" in out
    assert "yes 1, no 0" in out
    status, out, err = gov("vote", "1", "yes", "--from", "member2")
    assert status == 0 and "member2 voted yes on proposal 1" in out and "now passed" in out, err
    status, out, err = gov("execute", "1", "--from", "member3")
    assert status == 0, err
    stored = [line for line in out.splitlines() if "stored    code id" in line]
    assert len(stored) == 1 and sha(V1_FILE.read_bytes()) in stored[0]
    state["v1_code_id"] = int(stored[0].split("code id ")[1].split()[0])
    status, out, err = gov("execute", "1", "--from", "member3")
    assert status == 1 and "executing proposal 1 failed" in err


def test_an_admin_upgrades_a_contract_and_its_state_is_kept(gov, node, state):
    answer = node.commit(member(1), [Instantiate(state["v1_code_id"], {"count": 5}, (), "counter", node.voting)])
    counter = next(a["value"] for e in answer["result"]["events"] if e["type"] == "instantiate"
                   for a in e["attributes"] if a["key"] == "_contract_address")
    status, out, err = gov("propose-upgrade", "--wasm", str(V2_FILE), "--contract", counter, "--migrate-msg",
                           '{"count": 40}', "--title", "Counter v2", "--description", "increment adds 2",
                           "--from", "member1")
    assert status == 0 and out.startswith("proposal 2 opened: Counter v2"), err
    status, out, _ = gov("show", "2")
    v2 = sha(V2_FILE.read_bytes())
    assert f"2. migrate {counter} to code sha256 {v2} with {{\"count\":40}}" in out
    assert f"contract counter runs code {state['v1_code_id']}, sha256 {sha(V1_FILE.read_bytes())}" in out
    assert f"new code (stored when executed), {len(V2_FILE.read_bytes()):,} bytes" in out
    assert "description  increment adds 2" in out
    assert gov("vote", "2", "yes", "--from", "member3")[0] == 0
    status, out, err = gov("execute", "2", "--from", "member2")
    assert status == 0, err
    new_code_id = int(out.split("stored    code id ")[1].split()[0])
    assert f"migrated  {counter} to code id {new_code_id}" in out
    assert node.client.contract(counter)["code_id"] == new_code_id != state["v1_code_id"]
    history = node.client.contract_history(counter)["entries"]
    assert [(h["operation"], h["code_id"]) for h in history] == [("init", state["v1_code_id"]),
                                                                 ("migrate", new_code_id)]
    assert node.client.smart(counter, {"count": {}}) == {"count": 40}
    assert node.client.smart(counter, {"version": {}}) == {"version": 2}
    status, out, _ = gov("show", "2", "--json")
    assert status == 0 and json.loads(out)["proposal"]["status"] == "executed"
    status, out, _ = gov("list")
    rows = out.splitlines()
    assert rows[0].split() == ["ID", "STATUS", "YES/NO/ABS/VETO", "TITLE"]
    assert rows[1].split()[:3] == ["1", "executed", "2/0/0/0"] and rows[2].split()[:4] == ["2", "executed",
                                                                                       "2/0/0/0", "Counter"]
    assert [p["id"] for p in json.loads(gov("list", "--start-after", "1", "--json")[1])] == [2]


def test_signed_tx_out_signs_for_curl_without_submitting(gov, node, tmp_path):
    out_file = tmp_path / "tx.b64"
    status, out, err = gov("propose-upgrade", "--wasm", str(REFLECT_FILE), "--from", "member1",
                           "--signed-tx-out", str(out_file))
    assert status == 0 and "not submitted" in out and f"-F signed_tx=<{out_file}" in out, err
    assert node.client.pending_code() == []                                   # nothing submitted yet
    signed = out_file.read_bytes()
    body, kind = multipart([("signed_tx", signed, None), ("wasm", artifact("test_reflect"), "test_reflect.wasm")])
    answer = node.post("/gov/code-proposals?wait=commit", body, kind)
    assert answer.status == 200 and answer.body["proposal_id"] == 3, answer.body
    assert json.loads(base64.b64decode(signed))["body"]["msgs"][0]["propose_code"]["title"].startswith("Store code")
