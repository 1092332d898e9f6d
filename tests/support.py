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
