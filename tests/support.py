"""Helpers the tests import by name (conftest modules are for fixtures: importing from one by
name breaks as soon as a subfolder gets a conftest of its own)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "contracts" / "artifacts"


def artifact(name: str) -> bytes:
    path = ARTIFACTS / f"{name}.wasm"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `make contracts`")
    return path.read_bytes()


DEVNET_CONFIG = ROOT / "genesis" / "devnet.json"


def devnet_key(role: str, n: int):
    """Devnet key N (1-based) of ``role`` (member, operator, consensus, node), from its public seed."""
    from hashlib import sha256

    from chain.crypto.keys import PrivateKey
    return PrivateKey.from_seed(sha256(f"devnet/{role}/{n}".encode()).digest())


_GENESIS_CACHE: dict[tuple, tuple[bytes, dict[str, str]]] = {}


def devnet_genesis(validators: int = 4, *, equal_power: bool = False, epoch_length: int | None = None,
                   member_stake: int = 0) -> tuple[bytes, dict[str, str]]:
    """genesis/devnet.json built with its first ``validators`` validators: (genesis bytes, contracts).

    ``equal_power`` gives them all the same stake and engagement (so any 3 of 4 hold 2/3 of the
    power, as fault tests need); ``epoch_length`` (seconds) overrides the valset's epoch;
    ``member_stake`` gives each circle member that much of the stake denom (to bond and validate).
    """
    import json

    from chain import genesis_builder
    key = (validators, equal_power, epoch_length, member_stake)
    if key not in _GENESIS_CACHE:
        config = json.loads(DEVNET_CONFIG.read_text())
        config["validators"] = config["validators"][:validators]
        if equal_power:
            for validator in config["validators"]:
                validator["stake"], validator["engagement"] = "2000000", 200
        if member_stake:
            for account in config["accounts"]:
                if account["address"] in config["members"]:
                    account["coins"].append({"denom": config["denoms"]["stake"], "amount": str(member_stake)})
        if epoch_length is not None:
            config["contract_params"]["valset"]["epoch_length"] = epoch_length
        doc, result = genesis_builder.build_doc(config, ARTIFACTS)
        _GENESIS_CACHE[key] = (doc.canonical_bytes(), dict(result.contracts))
    return _GENESIS_CACHE[key]


def make_validator_home(home: Path, genesis: bytes, n: int = 1, node_json: dict | None = None) -> Path:
    """A node home with ``genesis`` and devnet validator N's consensus key (and node.json if given)."""
    import json

    from chain.crypto.keyfiles import write_validator_key
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "genesis.json").write_bytes(genesis)
    write_validator_key(home / "config" / "priv_validator_key.json", devnet_key("consensus", n))
    if node_json is not None:
        (home / "config" / "node.json").write_text(json.dumps(node_json))
    return home
