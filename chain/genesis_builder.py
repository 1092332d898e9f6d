"""The operator's side of genesis (files): edit a genesis config, embed the artifacts, write genesis.json.

The config (HOME/config/genesis-config.json) is genesis JSON without the code; every edit is
validated by chain/app/genesis.py before it is saved. ``build`` embeds the seven contracts from
contracts/artifacts (each checked against checksums.txt), boots the chain once in memory as a
dry run so a config that cannot produce validators fails here with the reason, and writes
genesis.json atomically in canonical JSON.
"""
from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .app.address import Bech32Api
from .app.chain_messages import install_chain_messages
from .app.genesis import (GENESIS_CONTRACTS, GenesisDoc, GenesisResult, InvalidGenesis, apply_genesis,
                          genesis_context, parse_genesis)
from .app.kv import MemoryKV
from .app.wasm.keeper import WasmKeeper
from .crypto import sha256
from .vm import VM

CONFIG_NAME = "genesis-config.json"
GENESIS_NAME = "genesis.json"
CHECKSUMS_NAME = "checksums.txt"
DEFAULT_PREFIX = "conclave"
DEFAULT_FEE_DENOM = "ucnv"
DEFAULT_STAKE_DENOM = "ustake"
GENESIS_FILE_MODE = 0o644          # public: every node and operator reads it
COIN_RE = re.compile(r"^([0-9]+)([a-zA-Z][a-zA-Z0-9/:._-]{2,127})$")


class GenesisBuildError(Exception):
    """A genesis file or artifact could not be read or written; the message says which and why."""


def config_path(home: Path) -> Path:
    return home / "config" / CONFIG_NAME


def genesis_path(home: Path) -> Path:
    return home / "config" / GENESIS_NAME


def default_config(chain_id: str, prefix: str = DEFAULT_PREFIX, genesis_time: str | None = None) -> dict[str, Any]:
    """A config with the defaults of chain/app/genesis.py and no accounts, members or validators yet."""
    time_text = genesis_time or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"chain_id": chain_id, "genesis_time": time_text, "bech32_prefix": prefix,
            "denoms": {"fee": DEFAULT_FEE_DENOM, "stake": DEFAULT_STAKE_DENOM},
            "block": {}, "params": {}, "accounts": [], "members": [], "admins": [], "validators": [],
            "contract_params": {}}


def init(home: Path, chain_id: str, prefix: str = DEFAULT_PREFIX, genesis_time: str | None = None,
         overwrite: bool = False) -> Path:
    path = config_path(home)
    if path.exists() and not overwrite:
        raise GenesisBuildError(f"{path} already exists; remove it or pass --overwrite")
    config = default_config(chain_id, prefix, genesis_time)
    _validate_draft(config)
    write_atomic(path, _pretty(config))
    return path


def load_config(home: Path) -> dict[str, Any]:
    path = config_path(home)
    if not path.exists():
        raise GenesisBuildError(f"{path} not found; run `conclave genesis init --chain-id ID --home {home}` first")
    return read_json_object(path)


def edit_config(home: Path, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Load the config, apply ``change``, validate the result, save it. Nothing is saved on error."""
    config = load_config(home)
    change(config)
    _validate_draft(config)
    write_atomic(config_path(home), _pretty(config))
    return config


def _validate_draft(config: dict[str, Any]) -> None:
    """Validate a config that may not have members or validators yet (they are added one by one)."""
    draft = dict(config)
    draft.pop("code", None)
    try:
        placeholder = Bech32Api(str(draft.get("bech32_prefix", DEFAULT_PREFIX))).humanize(sha256(b"draft")[:20])
        if not draft.get("members"):
            draft["members"] = [placeholder]
        if not draft.get("validators"):
            draft["validators"] = [{"operator": placeholder, "pubkey": base64.b64encode(b"\x01" * 32).decode(),
                                    "stake": "1" + "0" * 30, "engagement": 1}]
        parse_genesis(draft, require_code=False)
    except (InvalidGenesis, ValueError) as exc:
        raise GenesisBuildError(f"invalid genesis config: {exc}") from None


def parse_coins_text(text: str) -> list[dict[str, str]]:
    """ "1000ucnv,500ustake" -> [{"denom","amount"}] (as `wasmd genesis add-genesis-account`)."""
    coins = []
    for part in text.split(","):
        match = COIN_RE.match(part.strip())
        if not match:
            raise GenesisBuildError(f"invalid coins {text!r}: expected AMOUNTDENOM[,AMOUNTDENOM] like 1000ucnv")
        coins.append({"denom": match.group(2), "amount": str(int(match.group(1)))})
    return coins


def add_account(home: Path, address: str, coins: str) -> None:
    parsed = parse_coins_text(coins)

    def change(config: dict[str, Any]) -> None:
        if any(a.get("address") == address for a in config.setdefault("accounts", [])):
            raise GenesisBuildError(f"account {address} is already in genesis; edit its coins in {CONFIG_NAME}")
        config["accounts"].append({"address": address, "coins": parsed})
    edit_config(home, change)


def _add_to_list(home: Path, key: str, address: str) -> None:
    def change(config: dict[str, Any]) -> None:
        if address in config.setdefault(key, []):
            raise GenesisBuildError(f"{address} is already in {key}")
        config[key].append(address)
    edit_config(home, change)


def add_member(home: Path, address: str) -> None:
    _add_to_list(home, "members", address)


def add_admin(home: Path, address: str) -> None:
    _add_to_list(home, "admins", address)


def add_validator(home: Path, operator: str, pubkey: str, stake: int, engagement: int,
                  moniker: str | None = None) -> None:
    def change(config: dict[str, Any]) -> None:
        entry: dict[str, Any] = {"operator": operator, "pubkey": pubkey, "stake": str(stake), "engagement": engagement}
        if moniker is not None:
            entry["moniker"] = moniker
        config.setdefault("validators", []).append(entry)
    edit_config(home, change)


def read_artifacts(artifacts: Path) -> list[dict[str, str]]:
    """The genesis contracts' code entries, each verified against checksums.txt."""
    try:
        listed = _read_checksums(artifacts / CHECKSUMS_NAME)
    except OSError as exc:
        raise GenesisBuildError(f"cannot read {artifacts / CHECKSUMS_NAME}: {exc.strerror}; run `make contracts`") from None
    code = []
    for name in GENESIS_CONTRACTS:
        path = artifacts / f"{name}.wasm"
        try:
            wasm = path.read_bytes()
        except OSError as exc:
            raise GenesisBuildError(f"missing artifact {path}: {exc.strerror}; run `make contracts`") from None
        checksum = sha256(wasm).hex()
        expected = listed.get(f"{name}.wasm")
        if expected is None:
            raise GenesisBuildError(f"{name}.wasm is not listed in {artifacts / CHECKSUMS_NAME}; run `make contracts`")
        if checksum != expected:
            raise GenesisBuildError(f"checksum mismatch for {path}: file hashes to {checksum}, {CHECKSUMS_NAME} "
                                    f"says {expected}; rebuild with `make contracts` or restore the committed file")
        code.append({"name": name, "checksum": checksum, "wasm": base64.b64encode(wasm).decode()})
    return code


def _read_checksums(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[1]] = parts[0]
    return out


def dry_run(doc: GenesisDoc) -> GenesisResult:
    """Boot the chain from ``doc`` in memory: what every node will do with the file."""
    api = Bech32Api(doc.bech32_prefix)
    keeper = WasmKeeper(VM(api), api)
    install_chain_messages(keeper)
    return apply_genesis(genesis_context(MemoryKV(), doc), keeper, doc)


def build_doc(config: dict[str, Any], artifacts: Path) -> tuple[GenesisDoc, GenesisResult]:
    """The genesis document for ``config`` with the artifacts embedded, proven to boot by a dry run."""
    config = dict(config, code=read_artifacts(artifacts))
    try:
        doc = parse_genesis(config)
        result = dry_run(doc)
    except InvalidGenesis as exc:
        raise GenesisBuildError(f"genesis does not boot: {exc}") from None
    return doc, result


def build(home: Path, artifacts: Path, output: Path | None = None,
          config_file: Path | None = None) -> tuple[Path, GenesisResult]:
    """Build HOME's config (or ``config_file``) into genesis.json (default HOME/config/genesis.json)."""
    config = load_config(home) if config_file is None else read_json_object(config_file)
    doc, result = build_doc(config, artifacts)
    target = output or genesis_path(home)
    write_atomic(target, doc.canonical_bytes())
    return target, result


def read_json_object(path: Path, what: str | None = None) -> dict[str, Any]:
    """A JSON object from a file (a genesis config or template); GenesisBuildError naming ``what`` and the path."""
    name = f"{what} {path}" if what else str(path)
    try:
        config = json.loads(path.read_bytes())
    except OSError as exc:
        raise GenesisBuildError(f"cannot read {name}: {exc.strerror}") from None
    except ValueError as exc:
        raise GenesisBuildError(f"{name}: malformed JSON ({exc})") from None
    if not isinstance(config, dict):
        raise GenesisBuildError(f"{name}: expected a JSON object")
    return config


def load_genesis(path: Path) -> GenesisDoc:
    """Read and validate a genesis.json (what a node does at start)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GenesisBuildError(f"cannot read {path}: {exc.strerror}") from None
    return parse_genesis(data)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename: readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, GENESIS_FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pretty(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2) + "\n").encode()
