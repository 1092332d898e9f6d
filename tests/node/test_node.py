"""A real single-validator node as a subprocess (`python -m chain.cli start`) on the devnet genesis:
it produces blocks, takes a signed send from the CLI, answers queries, survives kill -9 with
nothing committed lost, and answers bad input with 4xx and the error shape while it keeps serving."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from hashlib import sha256
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chain.cli import main
from chain.crypto.keys import Keyring, PrivateKey
from nodeproc import NodeProcess, free_port
from support import ROOT, devnet_genesis, make_validator_home



def member_key(n: int) -> PrivateKey:
    """Devnet member N (1-based), from the public seed genesis/README.md names."""
    return PrivateKey.from_seed(sha256(f"devnet/member/{n}".encode()).digest())


@pytest.fixture(scope="module")
def built_genesis() -> tuple[bytes, dict[str, str]]:
    """The devnet genesis with one validator, whose key the test nodes hold."""
    return devnet_genesis(validators=1)


@pytest.fixture(scope="module")
def genesis_json(built_genesis) -> bytes:
    return built_genesis[0]


@pytest.fixture
def start_node(tmp_path_factory, genesis_json, request):
    """Factory of nodes on a fresh home with the devnet genesis; every process is killed at teardown."""
    nodes: list[NodeProcess] = []

    def start() -> NodeProcess:
        home = make_validator_home(tmp_path_factory.mktemp("node"), genesis_json)
        node = NodeProcess(home).start()
        nodes.append(node)
        return node

    request.addfinalizer(lambda: [n.kill() for n in nodes])
    return start


@pytest.fixture(scope="module")
def served(tmp_path_factory, genesis_json):
    """One running node for the read-only and bad-input tests."""
    home = make_validator_home(tmp_path_factory.mktemp("served"), genesis_json)
    node = NodeProcess(home).start()
    try:
        node.wait_height(1)
        yield node
    finally:
        node.kill()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "chain.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_send_via_cli_is_committed_and_survives_kill_9(start_node):
    node = start_node()
    node.wait_height(2)
    Keyring(node.home / "keys").add("member1", seed=member_key(1).seed)
    recipient = member_key(2).address()
    before = int(node.client.account(recipient)["balances"][0]["amount"])

    sent = cli("tx", "send", "member1", recipient, "1234ucnv", "--home", str(node.home), "--node", node.url)
    assert sent.returncode == 0, sent.stderr
    answer = json.loads(sent.stdout)
    assert answer["status"] == "committed" and answer["result"]["code"] == 0
    tx_hash, tx_height = answer["hash"], answer["height"]

    assert node.client.tx(tx_hash)["height"] == tx_height
    queried = json.loads(cli("query", "tx", tx_hash.lower(), "--node", node.url).stdout)
    assert queried["hash"] == tx_hash
    block = node.client.block(tx_height)["block"]
    assert base64.b64encode(base64.b64decode(block["txs"][0])).decode() in block["txs"]
    balances = {c["denom"]: int(c["amount"]) for c in node.client.account(recipient)["balances"]}
    assert balances["ucnv"] == before + 1234
    assert node.client.account(member_key(1).address())["sequence"] == 1

    height = node.client.status()["height"]
    node.kill()
    node.start()
    status = node.wait_height(height)          # resumes from its data: the height did not go back
    assert status["height"] >= height
    assert node.client.tx(tx_hash)["height"] == tx_height
    node.wait_height(status["height"] + 2)     # and the next blocks come
    again = cli("tx", "send", "member1", recipient, "1ucnv", "--home", str(node.home), "--node", node.url)
    assert again.returncode == 0, again.stderr
    assert node.client.account(member_key(1).address())["sequence"] == 2


def test_status_block_and_smart_query(served, built_genesis):
    status = served.client.status()
    assert status["chain_id"] == "conclave-devnet" and len(status["app_hash"]) == 64
    block = served.client.block(1)
    assert block["height"] == 1 and block["results"]["app_hash"]
    voting = built_genesis[1]["voting"]
    assert served.client.smart(voting, {"list_proposals": {}}) == {"proposals": []}
    msg = base64.b64encode(b'{"list_proposals": {}}').decode()
    assert _http(f"{served.url}/contracts/{voting}/smart?msg={msg}")[1]["data"] == {"proposals": []}
    printed = cli("query", "smart", voting, '{"list_proposals": {}}', "--node", served.url)
    assert printed.returncode == 0 and json.loads(printed.stdout) == {"proposals": []}


def _http(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("method,path,body,status,code", [
    ("POST", "/txs", b'{"tx": "not base64 !!"}', 400, "invalid_base64"),
    ("POST", "/txs", b"{this is not json", 400, "invalid_json"),
    ("POST", "/txs", b'["tx"]', 400, "invalid_request"),
    ("POST", "/txs", b'{"tx": "Z2FyYmFnZQ="}', 400, "invalid_base64"),          # bad padding
    ("POST", "/txs", b'{"tx": 12}', 400, "invalid_request"),
    ("POST", "/txs?wait=later", b'{"tx": "e30="}', 422, "tx_refused"),
    ("POST", "/txs", b'{"tx": "' + base64.b64encode(b"{}") + b'"}', 422, "tx_refused"),
    ("POST", "/txs", b'{"tx": "' + b"A" * (3 * 1024 * 1024) + b'"}', 413, "body_too_large"),
    ("GET", "/nowhere", None, 404, "not_found"),
    ("DELETE", "/status", None, 405, "method_not_allowed"),
    ("GET", "/accounts/cosmos1notours", None, 400, "invalid_address"),
    ("GET", "/accounts/" + "x" * 5000, None, 400, "invalid_address"),
    ("GET", "/blocks/abc", None, 400, "invalid_height"),
    ("GET", "/blocks/0", None, 400, "invalid_height"),
    ("GET", "/blocks/-1", None, 400, "invalid_height"),
    ("GET", "/blocks/99999999999999999999999", None, 400, "invalid_height"),
    ("GET", "/blocks/999999999", None, 404, "not_found"),
    ("GET", "/txs/zz", None, 400, "invalid_hash"),
    ("GET", "/txs/" + "ab" * 32, None, 404, "not_found"),
    ("GET", "/contracts/bad/smart?msg=e30=", None, 400, "invalid_address"),
    ("GET", "/contracts/{contract}/smart", None, 400, "invalid_request"),
    ("GET", "/contracts/{contract}/smart?msg=%%%", None, 400, "invalid_query"),
    ("POST", "/contracts/{contract}/smart", b"[1,2]", 400, "invalid_query"),
    ("POST", "/contracts/{contract}/smart", b'{"no_such_query": {}}', 400, "query_failed"),
])
def test_bad_input_is_a_4xx_with_the_error_shape(served, method, path, body, status, code):
    path = path.replace("{contract}", member_key(1).address())   # an account, not a contract
    got_status, answer = _http(served.url + path, method, body)
    assert (got_status, answer["error"]["code"]) == (status, code), answer
    assert isinstance(answer["error"]["message"], str) and answer["error"]["message"]
    assert served.client.status()["height"] >= 1     # still serving


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_random_tx_bytes_are_refused_not_500(served, raw):
    status, answer = _http(served.url + "/txs", "POST", json.dumps({"tx": base64.b64encode(raw).decode()}).encode())
    assert 400 <= status < 500 and answer["error"]["code"] == "tx_refused"


def test_cli_keys_and_clear_errors(tmp_path, capsys, served, monkeypatch):
    monkeypatch.setenv("KEY_PASS", "correct horse")
    assert main(["keys", "add", "alice", "--home", str(tmp_path), "--passphrase-env", "KEY_PASS"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["encrypted"] is True and added["address"].startswith("conclave1")
    assert main(["keys", "add", "bob", "--home", str(tmp_path)]) == 0
    capsys.readouterr()
    assert oct((tmp_path / "keys" / "alice.json").stat().st_mode & 0o777) == "0o600"
    assert main(["keys", "list", "--home", str(tmp_path)]) == 0
    assert [k["name"] for k in json.loads(capsys.readouterr().out)] == ["alice", "bob"]
    assert main(["keys", "show", "alice", "--home", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["address"] == added["address"]

    # each failure: one clear line on stderr, exit 1
    failures = [
        (["keys", "add", "alice", "--home", str(tmp_path)], "already exists"),
        (["keys", "show", "nobody", "--home", str(tmp_path)], "nobody"),
        (["tx", "send", "alice", member_key(2).address(), "5ucnv", "--home", str(tmp_path), "--node", served.url],
         "encrypted"),
        (["tx", "send", "bob", "not-an-address", "5ucnv", "--home", str(tmp_path), "--node", served.url], "error"),
        (["tx", "send", "bob", member_key(2).address(), "five", "--home", str(tmp_path), "--node", served.url],
         "AMOUNT"),
        (["tx", "send", "bob", member_key(2).address(), "5ucnv", "--home", str(tmp_path), "--node", served.url],
         "insufficient"),
        (["query", "tx", "zz", "--node", served.url], "invalid_hash"),
        (["query", "block", "0", "--node", served.url], "invalid_height"),
        (["query", "smart", member_key(1).address(), "{not json", "--node", served.url], "not JSON"),
        (["query", "account", member_key(1).address(), "--node", f"http://127.0.0.1:{free_port()}"], "unreachable"),
    ]
    for argv, words in failures:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert err.startswith("error:") and words.lower() in err.lower(), (argv, err)
    assert os.environ["KEY_PASS"] == "correct horse"
