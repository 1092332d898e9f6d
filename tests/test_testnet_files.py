"""`conclave testnet-files`: per-node homes for docker, fresh keys, the genesis they share, refusals."""
from __future__ import annotations

import json
import random
import stat
from hashlib import sha256
from pathlib import Path

import pytest

from chain import testnet_files
from chain.app.genesis import parse_genesis
from chain.cli import main
from chain.crypto.keyfiles import load_node_key, load_validator_key, node_id
from chain.crypto.keys import Keyring
from chain.genesis_builder import GenesisBuildError

GENESIS_TIME = "2026-02-01T00:00:00Z"


def seeded(seed: int):
    """A deterministic stand-in for os.urandom."""
    rng = random.Random(seed)
    return rng.randbytes


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> testnet_files.Testnet:
    out = tmp_path_factory.mktemp("files") / "testnet"
    return testnet_files.create(out, 4, genesis_time=GENESIS_TIME, random_bytes=seeded(1))


def read_json(path: Path):
    return json.loads(path.read_bytes())


def test_layout_and_file_modes(net: testnet_files.Testnet) -> None:
    out = net.output
    assert sorted(p.name for p in out.iterdir()) == ["keys", "node0", "node1", "node2", "node3"]
    assert [n.home for n in net.nodes] == [out / f"node{i}" for i in range(4)]
    for i in range(4):
        config = out / f"node{i}" / "config"
        assert sorted(p.name for p in config.iterdir()) == ["genesis.json", "node.json", "node_key.json",
                                                             "priv_validator_key.json"]
        for name in ("node_key.json", "priv_validator_key.json"):
            assert stat.S_IMODE((config / name).stat().st_mode) == 0o600
        assert stat.S_IMODE((config / "genesis.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((out / "keys").stat().st_mode) == 0o700
    assert not list(out.parent.glob(".testnet.partial-*"))               # no staging left behind


def test_node_json_peers_with_every_other_node_by_hostname(net: testnet_files.Testnet) -> None:
    ids = [node_id(load_node_key(net.output / f"node{i}" / "config" / "node_key.json").pubkey) for i in range(4)]
    assert len(set(ids)) == 4
    for i in range(4):
        assert read_json(net.output / f"node{i}" / "config" / "node.json") == {
            "moniker": f"node{i}", "api": "0.0.0.0:1317", "p2p": "0.0.0.0:26656",
            "peers": [f"{ids[j]}@node{j}:26656" for j in range(4) if j != i], "validator": True}


def test_one_genesis_whose_validators_are_the_written_keys(net: testnet_files.Testnet) -> None:
    files = {(net.output / f"node{i}" / "config" / "genesis.json").read_bytes() for i in range(4)}
    assert len(files) == 1
    doc = parse_genesis(files.pop())
    assert doc.chain_id == "conclave-testnet" and doc.genesis_time == GENESIS_TIME
    keys = [load_validator_key(net.output / f"node{i}" / "config" / "priv_validator_key.json") for i in range(4)]
    assert [v.pubkey for v in doc.validators] == [k.pubkey for k in keys]
    ring = Keyring(net.output / "keys")
    assert [v.operator for v in doc.validators] == [ring.show(f"operator{n}").address for n in range(1, 5)]
    assert list(doc.members) == [ring.show(f"member{n}").address for n in range(1, 4)]
    assert list(doc.admins) == [ring.show("member1").address]
    assert sorted(net.powers) == sorted(k.pubkey for k in keys)            # the boot put every validator in the set
    assert len(set(net.powers.values())) == 1 and min(net.powers.values()) > 0   # equal: any 1 of 4 may fail


def test_keys_are_fresh_not_demo_seeds_and_the_operator_can_sign(net: testnet_files.Testnet) -> None:
    demo = {sha256(f"devnet/{role}/{n}".encode()).digest()
            for role in ("member", "operator", "consensus", "node") for n in range(1, 5)}
    ring = Keyring(net.output / "keys")
    seeds = [ring.load_signer(info.name).seed for info in ring.list()]
    seeds += [load_node_key(n.home / "config" / "node_key.json").seed for n in net.nodes]
    seeds += [load_validator_key(n.home / "config" / "priv_validator_key.json").seed for n in net.nodes]
    assert len(seeds) == 7 + 8 and len(set(seeds)) == len(seeds) and not demo & set(seeds)
    assert [k.name for k in net.keys] == [info.name for info in ring.list()]


def test_summary_tells_what_was_written_and_what_next(net: testnet_files.Testnet) -> None:
    text = testnet_files.summary(net)
    for node in net.nodes:
        assert node.node_id in text and f"peers dial it at {node.dial}" in text and "(power " in text
    assert "docker compose up" in text and "unencrypted" in text and net.keys[0].address in text


def test_options_shape_the_homes_and_force_replaces(tmp_path: Path, capsys) -> None:
    out = tmp_path / "custom"
    net = testnet_files.create(out, 2, chain_id="my-circle", hostname_template="val-{i}.circle.internal",
                               p2p_port=30000, api_port=8080, random_bytes=seeded(2))
    node1 = read_json(out / "node1" / "config" / "node.json")
    assert node1["api"] == "0.0.0.0:8080" and node1["p2p"] == "0.0.0.0:30000"
    assert node1["peers"] == [f"{net.nodes[0].node_id}@val-0.circle.internal:30000"]
    assert parse_genesis((out / "node0" / "config" / "genesis.json").read_bytes()).chain_id == "my-circle"

    with pytest.raises(testnet_files.TestnetError, match="already exists: pass --force"):
        testnet_files.create(out, 2, random_bytes=seeded(3))
    (out / "node0" / "data").mkdir()                                       # a node ran here
    assert main(["testnet-files", "--validators", "1", "--output", str(out), "--force"]) == 0
    assert f"wrote 1 node home for chain conclave-testnet in {out}/" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["keys", "node0"]
    replaced = load_node_key(out / "node0" / "config" / "node_key.json")
    assert node_id(replaced.pubkey) != net.nodes[0].node_id and not (out / "node0" / "data").exists()


def test_force_never_deletes_what_testnet_files_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "node0").mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(testnet_files.TestnetError, match="holds notes.txt, which testnet-files did not write"):
        testnet_files.create(out, 1, force=True)
    assert (out / "notes.txt").read_text() == "mine"
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(testnet_files.TestnetError, match="not a directory"):
        testnet_files.create(afile, 1, force=True)


@pytest.mark.parametrize("kwargs, message", [
    ({"validators": 0}, "--validators must be 1..100"),
    ({"validators": 101}, "--validators must be 1..100"),
    ({"hostname_template": "node"}, 'must contain "{i}"'),
    ({"hostname_template": "node{i}-{j}"}, 'only "{i}" may be substituted'),
    ({"hostname_template": "node{i}{"}, 'only "{i}" may be substituted'),
    ({"hostname_template": "Node_{i}"}, "not a valid hostname"),
    ({"hostname_template": "{i}" + "x" * 70}, "not a valid hostname"),
    ({"p2p_port": 0}, "--p2p-port must be a port number"),
    ({"api_port": 70000}, "--api-port must be a port number"),
    ({"api_port": 26656}, "both 26656"),
])
def test_bad_options_are_refused_before_anything_is_written(tmp_path: Path, kwargs, message) -> None:
    args = {"validators": 4, **kwargs}
    with pytest.raises(testnet_files.TestnetError, match=message):
        testnet_files.create(tmp_path / "out", args.pop("validators"), **args)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(GenesisBuildError, match="make contracts"):
        testnet_files.create(tmp_path / "out", 2, artifacts=tmp_path / "missing")
    bad = tmp_path / "template.json"
    bad.write_text("[]")
    with pytest.raises(testnet_files.TestnetError, match="expected a JSON object"):
        testnet_files.create(tmp_path / "out", 2, template=bad)
    with pytest.raises(GenesisBuildError, match="chain_id"):
        testnet_files.create(tmp_path / "out", 2, chain_id="bad chain id!")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["template.json"]


def test_the_command_line_reports_errors_in_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "testnet"
    (out / "node0").mkdir(parents=True)
    assert main(["testnet-files", "--validators", "1", "--output", str(out)]) == 1
    assert "already exists: pass --force" in capsys.readouterr().err
    assert main(["testnet-files", "--validators", "1", "--output", str(out), "--hostname-template", "x"]) == 1
    assert 'must contain "{i}"' in capsys.readouterr().err
