"""`conclave devnet`: a local network from genesis/devnet.json with its demo keys.

Today the devnet is one node producing blocks over the devnet genesis (its four genesis
validators are in state; Tendermint consensus among them, as separate processes, arrives with
the network issue). The home is prepared once — genesis built from the repository's config and
artifacts, demo keys imported into HOME/keys — and reused on the next run unless --reset.
The demo keys derive from public seeds: never use them outside a local network.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path

from . import genesis_builder
from .crypto.keys import Keyring

REPO_ROOT = Path(__file__).resolve().parent.parent
DEVNET_CONFIG = REPO_ROOT / "genesis" / "devnet.json"
ARTIFACTS = REPO_ROOT / "contracts" / "artifacts"
MEMBERS, OPERATORS = 3, 4


@dataclass(frozen=True)
class DemoKey:
    name: str
    address: str
    role: str


def demo_seed(role: str, n: int) -> bytes:
    """The public seed of devnet key N (1-based), as genesis/README.md documents."""
    return sha256(f"devnet/{role}/{n}".encode()).digest()


def prepare(home: Path, reset: bool = False, config: Path = DEVNET_CONFIG,
            artifacts: Path = ARTIFACTS) -> list[DemoKey]:
    """Build HOME's genesis and keyring if missing (or when ``reset``); return the demo keys."""
    if reset and home.exists():
        shutil.rmtree(home)
    genesis = genesis_builder.genesis_path(home)
    if not genesis.exists():
        genesis_builder.build(home, artifacts, output=genesis, config_file=config)
    keyring = Keyring(home / "keys")
    existing = {info.name for info in keyring.list()}
    keys = []
    for role, count, label in (("member", MEMBERS, "circle member"), ("operator", OPERATORS, "validator operator")):
        for n in range(1, count + 1):
            name = f"{role}{n}"
            info = keyring.show(name) if name in existing else keyring.add(name, seed=demo_seed(role, n))
            keys.append(DemoKey(name, info.address, label + (" and admin" if name == "member1" else "")))
    return keys


def banner(home: Path, api: str, keys: list[DemoKey]) -> str:
    lines = [
        f"Conclave devnet — home {home}",
        f"  API:    http://{api}   (try: curl http://{api}/status)",
        "  TUI:    arrives with the terminal UI issue (#7)",
        "  Keys (demo, public seeds — local use only):",
    ]
    lines += [f"    {k.name:<10} {k.address}  {k.role}" for k in keys]
    lines += [
        "  Try:",
        f"    conclave query account {keys[0].address} --node http://{api}",
        f"    conclave tx send member1 {keys[1].address} 1000ucnv --home {home} --node http://{api}",
        "  This devnet is one node producing the blocks; consensus among the four genesis",
        "  validators as separate processes arrives with the network issue (#5). Ctrl-C stops it;",
        "  the next `make devnet` continues from its data (`conclave devnet --reset` starts over).",
    ]
    return "\n".join(lines)
