"""`conclave devnet` preparation: the genesis and the demo keys, built once and reused."""
from __future__ import annotations

import stat

from chain import devnet, genesis_builder
from chain.app.genesis import parse_genesis
from chain.cli import main
from chain.crypto.keys import Keyring


def test_prepare_builds_genesis_and_imports_the_demo_keys_once(tmp_path):
    home = tmp_path / "devnet"
    keys = devnet.prepare(home)
    genesis = genesis_builder.genesis_path(home)
    doc = parse_genesis(genesis.read_bytes())
    assert doc.chain_id == "conclave-devnet" and len(doc.validators) == 4
    assert [k.name for k in keys] == ["member1", "member2", "member3",
                                      "operator1", "operator2", "operator3", "operator4"]
    assert {k.address for k in keys if k.name.startswith("member")} == set(doc.members)
    assert {k.address for k in keys if k.name.startswith("operator")} == {v.operator for v in doc.validators}
    for info in Keyring(home / "keys").list():
        assert stat.S_IMODE((home / "keys" / f"{info.name}.json").stat().st_mode) == 0o600
    before = genesis.stat().st_mtime_ns
    assert devnet.prepare(home) == keys and genesis.stat().st_mtime_ns == before   # reused, not rebuilt
    devnet.prepare(home, reset=True)
    assert genesis.exists()


def test_devnet_refuses_other_validator_counts(capsys):
    assert main(["devnet", "--validators", "3", "--home", "/nonexistent"]) == 2
    assert "only the 4-validator devnet" in capsys.readouterr().err
