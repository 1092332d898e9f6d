"""`conclave devnet`: the prepared directory (genesis, demo keys, node homes), reuse and reset, port
checks, the banner, and running the nodes — with stand-in nodes until the consensus node lands."""
from __future__ import annotations

import base64
import io
import json
import signal
import socket
import stat
import sys
from hashlib import sha256
from pathlib import Path

import pytest

from chain import devnet
from chain.app.genesis import parse_genesis
from chain.cli import main
from chain.crypto.keyfiles import load_node_key, load_validator_key, node_id
from chain.crypto.keys import Keyring
from devnet_support import process_gone, stand_in_command, start_devnet_of_stand_ins, wait_for
from ports import free_port_base
from support import ROOT

DEVNET_JSON = ROOT / "genesis" / "devnet.json"


@pytest.fixture(scope="module")
def four(tmp_path_factory: pytest.TempPathFactory) -> devnet.Devnet:
    """One prepared 4-validator devnet for the read-only checks (building genesis takes ~2 s)."""
    return devnet.prepare(tmp_path_factory.mktemp("devnet") / "net")


def read_json(path: Path):
    return json.loads(path.read_bytes())


# --- genesis and keys ------------------------------------------------------------------------

def test_devnet_json_is_the_generated_four_validator_config() -> None:
    """genesis/devnet.json stays the source of truth, and the generator for other N agrees with it."""
    assert devnet.generated_config(4) == read_json(DEVNET_JSON)


def test_devnet_json_keys_are_the_documented_public_seeds() -> None:
    config = read_json(DEVNET_JSON)
    pubkeys = [v["pubkey"] for v in config["validators"]]
    for n, pubkey in enumerate(pubkeys, start=1):
        seed = sha256(f"devnet/consensus/{n}".encode()).digest()
        assert devnet.demo_seed("consensus", n) == seed
        assert devnet.demo_key("consensus", n).pubkey == base64.b64decode(pubkey)
    assert config["members"] == [devnet.demo_key("member", n).address() for n in (1, 2, 3)]


def test_prepare_writes_the_node_homes(four: devnet.Devnet) -> None:
    home = four.home
    assert read_json(home / "devnet.json") == {"validators": 4, "chain_id": "conclave-devnet"}
    assert [n.moniker for n in four.nodes] == ["node0", "node1", "node2", "node3"] and not four.reused
    genesis = {(n.home / "config" / "genesis.json").read_bytes() for n in four.nodes}
    assert len(genesis) == 1                                              # the same file for every node
    doc = parse_genesis(genesis.pop())
    assert doc.chain_id == "conclave-devnet" and len(doc.validators) == 4
    for i, node in enumerate(four.nodes):
        config_dir = home / f"node{i}" / "config"
        node_key = load_node_key(config_dir / "node_key.json")
        validator_key = load_validator_key(config_dir / "priv_validator_key.json")
        assert node_key.seed == sha256(f"devnet/node/{i + 1}".encode()).digest()
        assert validator_key.pubkey == doc.validators[i].pubkey           # consensus key N = validator N
        for name in ("node_key.json", "priv_validator_key.json"):
            assert stat.S_IMODE((config_dir / name).stat().st_mode) == 0o600
        others = [load_node_key(home / f"node{j}" / "config" / "node_key.json") for j in range(4) if j != i]
        assert read_json(config_dir / "node.json") == {
            "moniker": f"node{i}", "api": f"127.0.0.1:{1317 + i}", "p2p": f"127.0.0.1:{26656 + i}",
            "peers": [f"{node_id(k.pubkey)}@127.0.0.1:{26656 + j}"
                      for k, j in zip(others, [j for j in range(4) if j != i])],
            "validator": True}


def test_prepare_imports_the_demo_keys(four: devnet.Devnet) -> None:
    doc = parse_genesis((four.nodes[0].home / "config" / "genesis.json").read_bytes())
    assert [k.name for k in four.keys] == ["member1", "member2", "member3",
                                           "operator1", "operator2", "operator3", "operator4"]
    assert {k.address for k in four.keys if k.name.startswith("member")} == set(doc.members)
    assert [k.address for k in four.keys if k.name.startswith("operator")] == [v.operator for v in doc.validators]
    assert [k.role for k in four.keys][:2] == ["circle member and admin", "circle member"]
    assert four.keys[3].role == "validator operator (node0)"
    for info in Keyring(four.home / "keys").list():
        assert stat.S_IMODE((four.home / "keys" / f"{info.name}.json").stat().st_mode) == 0o600
    signer = Keyring(four.home / "keys").load_signer("operator2")
    assert signer.seed == sha256(b"devnet/operator/2").digest()


def test_prepare_reuses_the_directory_and_rewrites_only_node_json(tmp_path: Path) -> None:
    home = tmp_path / "net"
    first = devnet.prepare(home, 2)
    genesis = home / "node0" / "config" / "genesis.json"
    before = genesis.stat().st_mtime_ns
    again = devnet.prepare(home, 2, api_port=5000, p2p_port=6000)
    assert again.reused and again.keys == first.keys and genesis.stat().st_mtime_ns == before
    assert read_json(home / "node1" / "config" / "node.json")["api"] == "127.0.0.1:5001"
    assert read_json(home / "node0" / "config" / "node.json")["peers"][0].endswith("@127.0.0.1:6001")
    doc = parse_genesis(genesis.read_bytes())                              # N != 4: generated, demo keys
    assert [v.pubkey for v in doc.validators] == [devnet.demo_key("consensus", n).pubkey for n in (1, 2)]
    assert [v.stake for v in doc.validators] == [2_000_000, 1_000_000]

    with pytest.raises(devnet.DevnetError, match="holds a 2-validator devnet.*--validators 3 .*--reset"):
        devnet.prepare(home, 3)
    (home / "node1" / "data").mkdir()
    devnet.prepare(home, 3, reset=True)
    assert read_json(home / "devnet.json")["validators"] == 3 and not (home / "node1" / "data").exists()


def test_prepare_refuses_foreign_old_and_damaged_directories(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(devnet.DevnetError, match="not a devnet home"):
        devnet.prepare(foreign)
    with pytest.raises(devnet.DevnetError, match="not deleting it"):
        devnet.prepare(foreign, reset=True)
    assert (foreign / "thesis.tex").read_text() == "precious"

    old = tmp_path / "old"
    (old / "config").mkdir(parents=True)
    (old / "keys").mkdir()
    with pytest.raises(devnet.DevnetError, match="older version.*--reset"):
        devnet.prepare(old)

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "devnet.json").write_text("{not json")
    with pytest.raises(devnet.DevnetError, match="unreadable.*--reset"):
        devnet.prepare(damaged)
    (damaged / "devnet.json").write_text('{"validators": "four", "chain_id": "x"}')
    with pytest.raises(devnet.DevnetError, match="must be"):
        devnet.prepare(damaged)
    (damaged / "devnet.json").write_text('{"validators": 1, "chain_id": "x"}')
    with pytest.raises(devnet.DevnetError, match="not found.*--reset"):
        devnet.prepare(damaged, 1)


def test_a_failed_preparation_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="run `make contracts`"):
        devnet.prepare(tmp_path / "net", artifacts=tmp_path / "no-artifacts")
    assert list(tmp_path.iterdir()) == []


# --- options and ports -----------------------------------------------------------------------

@pytest.mark.parametrize("validators, api, p2p, message", [
    (0, 1317, 26656, "--validators must be 1..100"),
    (101, 1317, 26656, "--validators must be 1..100"),
    (4, 0, 26656, "--api-port 0"),
    (4, 1317, 65534, "--p2p-port 65534: node I listens on BASE\\+I"),
    (4, 1317, 1319, "overlap"),
    (4, 26658, 26656, "overlap"),
])
def test_bad_options_are_refused_before_anything_is_written(tmp_path, validators, api, p2p, message) -> None:
    with pytest.raises(devnet.DevnetError, match=message):
        devnet.prepare(tmp_path / "net", validators, api_port=api, p2p_port=p2p)
    assert not (tmp_path / "net").exists()


def test_a_busy_port_is_named_with_the_option_that_moves_it(tmp_path: Path, capsys) -> None:
    base = free_port_base(8)
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", base + 1))
        listener.listen()
        with pytest.raises(devnet.DevnetError, match=f"port {base + 1} \\(API of node1\\).*--api-port BASE"):
            devnet.check_ports_free(4, base, base + 4)
        with pytest.raises(devnet.DevnetError, match=f"port {base + 1} \\(p2p of node0\\).*--p2p-port BASE"):
            devnet.check_ports_free(2, base + 4, base + 1)
        assert main(["devnet", "--home", str(tmp_path / "net"), "--api-port", str(base), "--p2p-port",
                     str(base + 4)]) == 1
    err = capsys.readouterr().err
    assert f"port {base + 1} (API of node1) on 127.0.0.1 is already in use" in err and "--api-port" in err
    assert not (tmp_path / "net").exists()


# --- the banner and running ------------------------------------------------------------------

def test_banner_lists_every_node_the_tui_command_and_the_keys(four: devnet.Devnet) -> None:
    text = devnet.banner(four, {"node0": 101, "node1": 102, "node2": 103, "node3": 104})
    for i in range(4):
        assert f"node{i}  pid {101 + i}" in text and f"API http://127.0.0.1:{1317 + i}" in text
    assert f"conclave tui --node http://127.0.0.1:1317 --key member1 --home {four.home}" in text
    for key in four.keys:
        assert f"{key.name:<11} {key.address}  {key.role}" in text
    assert "curl http://127.0.0.1:1317/status" in text and "public seeds" in text


def test_run_starts_every_node_and_stops_them_on_sigint(tmp_path: Path) -> None:
    """The real supervision path in its own process: stand-in nodes, banner, Ctrl-C, nothing left."""
    api, p2p = free_port_base(3), free_port_base(3, start=11000)
    proc = start_devnet_of_stand_ins(tmp_path / "net", 3, api, p2p)
    try:
        out = tmp_path / "out.txt"
        wait_for(lambda: "Ctrl-C stops every node" in out.read_text(), 60, "the banner")
        text = out.read_text()
        pids = [int(line.split("pid")[1].split()[0]) for line in text.splitlines() if " pid " in line]
        assert len(pids) == 3 and f"API http://127.0.0.1:{api + 2}" in text
        assert not any(process_gone(pid) for pid in pids)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()
    assert all(process_gone(pid) for pid in pids)
    err = (tmp_path / "err.txt").read_text()
    assert "node2 is up (3/3)" in err and "stopping 3 processes" in err
    assert "serving on" in (tmp_path / "net" / "node0" / "node.log").read_text()


def test_run_reports_a_crashed_node_and_stops_the_others(tmp_path: Path) -> None:
    api, p2p = free_port_base(2, start=12000), free_port_base(2, start=12300)
    proc = start_devnet_of_stand_ins(tmp_path / "net", 2, api, p2p)
    try:
        out = tmp_path / "out.txt"
        wait_for(lambda: "Ctrl-C stops every node" in out.read_text(), 60, "the banner")
        pids = [int(line.split("pid")[1].split()[0]) for line in out.read_text().splitlines() if " pid " in line]
        (tmp_path / "net" / "node1" / "crash").touch()
        assert proc.wait(timeout=60) == 1
    finally:
        proc.kill()
        proc.wait()
    err = (tmp_path / "err.txt").read_text()
    assert "error: node1 exited unexpectedly (exit status 3)" in err
    assert "| stand-in node1 crashing on purpose" in err
    assert all(process_gone(pid) for pid in pids)


def test_run_stops_a_node_that_ignores_sigterm(tmp_path: Path) -> None:
    api, p2p = free_port_base(1, start=13000), free_port_base(1, start=13300)
    (tmp_path / "net" / "node0").mkdir(parents=True)
    (tmp_path / "net" / "node0" / "stubborn").touch()
    proc = start_devnet_of_stand_ins(tmp_path / "net", 1, api, p2p, grace=0.5)
    try:
        wait_for(lambda: "Ctrl-C stops every node" in (tmp_path / "out.txt").read_text(), 60, "the banner")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()
    assert "did not stop within 0.5 s: killing" in (tmp_path / "err.txt").read_text()


def test_run_in_process_when_a_node_cannot_start(four: devnet.Devnet) -> None:
    """What `conclave start` failing on a home looks like: exit 1 with the node's own words."""
    err, out = io.StringIO(), io.StringIO()

    def failing(home: Path) -> list[str]:
        return [sys.executable, "-c", f"print('error: cannot start from {home}'); raise SystemExit(1)"]

    assert devnet.run(four, command=failing, out=out, err=err, handle_signals=False) == 1
    assert "exited unexpectedly (exit status 1)" in err.getvalue()
    assert "| error: cannot start from " + str(four.home) in err.getvalue()
    assert out.getvalue() == ""                                           # no banner for a devnet that is not up


def test_node_command_is_conclave_start_on_the_absolute_home(four: devnet.Devnet) -> None:
    argv = devnet.node_command(Path(".devnet") / "node0")
    assert argv[1:5] == ["-m", "chain.cli", "start", "--home"] and Path(argv[5]).is_absolute()
    assert stand_in_command(four.nodes[0].home)[0] == argv[0]
