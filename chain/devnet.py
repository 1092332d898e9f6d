"""`conclave devnet`: N validators as separate processes on loopback, with demo members and keys.

    conclave devnet [--validators N] [--home DIR] [--reset] [--api-port BASE] [--p2p-port BASE]

DIR (default ./.devnet) is prepared once and reused on the next run:

    DIR/devnet.json     {"validators": N, "chain_id": ...}: what was prepared (written last)
    DIR/keys/           the demo keyring: member1..3 (member1 also the admin), operator1..N
    DIR/nodeI/          node I's home (chain/node_home.py): API 127.0.0.1:BASE+I, p2p BASE+I

Every demo key derives from a public seed (genesis/README.md): sha256("devnet/member/N"),
sha256("devnet/operator/N"), sha256("devnet/consensus/N") for validator N's consensus key and
sha256("devnet/node/N") for node N-1's p2p key. Anyone can recompute them: never use them
outside a local network. For 4 validators the genesis is built from genesis/devnet.json (the
source of truth); for another N the same parameters are resized to N validators
(chain/testnet_files.network_config). Ports are checked before anything starts, and node.json is
rewritten on every run so other base ports need no reset. Running the nodes is
chain/devnet_runner.py's job; ``run`` here wires it to the devnet and prints the banner.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from hashlib import sha256
from pathlib import Path
from typing import Callable, Sequence, TextIO

from .crypto.keyfiles import KeyFileError, load_node_key
from .crypto.keys import KeyInfo, Keyring, PrivateKey
from .devnet_runner import ChildSpec, Supervisor, SupervisorError
from .node_home import NODE_KEY_FILE, NodeHome, write_network, write_node_config
from .testnet_files import (ARTIFACTS, MAX_VALIDATORS, TEMPLATE_CONFIG, ValidatorEntry, build_genesis,
                            load_template, network_config)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEVNET_CONFIG = TEMPLATE_CONFIG             # genesis/devnet.json
DEFAULT_HOME = Path(".devnet")
DEFAULT_VALIDATORS = 4
DEFAULT_API_PORT = 1317
DEFAULT_P2P_PORT = 26656
LOOPBACK = "127.0.0.1"
MEMBERS = 3
MANIFEST = "devnet.json"
KEYS_DIR = "keys"
LOG_FILE = "node.log"
READY_TIMEOUT_S = 180.0          # four nodes compiling the genesis contracts on two cores take a while
STATUS_PROBE_TIMEOUT_S = 1.0
OLD_LAYOUT = {"config", "data", "keys", "wasm"}   # the single-node devnet of before


class DevnetError(Exception):
    """The devnet cannot be prepared or started as asked; the message says what to do."""


@dataclass(frozen=True)
class DemoKey:
    name: str
    address: str
    role: str


@dataclass(frozen=True)
class Devnet:
    """A prepared devnet: where it lives, its nodes (in order) and its demo keys."""

    home: Path
    chain_id: str
    nodes: list[NodeHome]
    keys: list[DemoKey]
    reused: bool


# --- demo keys -------------------------------------------------------------------------------

def demo_seed(role: str, n: int) -> bytes:
    """The public seed of devnet key N (1-based), as genesis/README.md documents."""
    return sha256(f"devnet/{role}/{n}".encode()).digest()


def demo_key(role: str, n: int) -> PrivateKey:
    return PrivateKey.from_seed(demo_seed(role, n))


def devnet_validators(n: int, prefix: str = "conclave") -> list[ValidatorEntry]:
    """Validator I (1-based) of N: operator I, consensus key I, stake (N-I+1) M, engagement (N-I+1)*100.

    For N = 4 these are genesis/devnet.json's validators (4M/400 down to 1M/100).
    """
    return [ValidatorEntry(demo_key("operator", i).address(prefix), demo_key("consensus", i).pubkey,
                           (n - i + 1) * 1_000_000, (n - i + 1) * 100, f"node{i - 1}") for i in range(1, n + 1)]


def generated_config(n: int, template: Path = DEVNET_CONFIG) -> dict:
    """The devnet config for N validators: genesis/devnet.json's parameters, demo keys, N validators."""
    base = load_template(template)
    prefix = str(base.get("bech32_prefix", "conclave"))
    members = [demo_key("member", i).address(prefix) for i in range(1, MEMBERS + 1)]
    return network_config(base, chain_id=base["chain_id"], genesis_time=base["genesis_time"], members=members,
                          admins=members[:1], validators=devnet_validators(n, prefix))


def devnet_config(n: int, template: Path = DEVNET_CONFIG) -> dict:
    """genesis/devnet.json itself for 4 validators; the same network resized otherwise."""
    return load_template(template) if n == DEFAULT_VALIDATORS else generated_config(n, template)


# --- nodes and ports -------------------------------------------------------------------------

def plan_nodes(home: Path, validators: int, api_port: int = DEFAULT_API_PORT,
               p2p_port: int = DEFAULT_P2P_PORT) -> list[NodeHome]:
    """Node I: home DIR/nodeI, API and p2p on loopback at BASE+I, demo node and consensus keys I+1."""
    return [NodeHome(moniker=f"node{i}", home=home / f"node{i}", node_key=demo_key("node", i + 1),
                     validator_key=demo_key("consensus", i + 1), api=f"{LOOPBACK}:{api_port + i}",
                     p2p=f"{LOOPBACK}:{p2p_port + i}", dial=f"{LOOPBACK}:{p2p_port + i}")
            for i in range(validators)]


def check_options(validators: int, api_port: int, p2p_port: int) -> None:
    """Counts and port ranges that make sense, before anything is written."""
    if not 1 <= validators <= MAX_VALIDATORS:
        raise DevnetError(f"--validators must be 1..{MAX_VALIDATORS}, got {validators}")
    for option, base in (("--api-port", api_port), ("--p2p-port", p2p_port)):
        if not 1 <= base <= 65535 - validators + 1:
            raise DevnetError(f"{option} {base}: node I listens on BASE+I, so BASE must be "
                              f"1..{65535 - validators + 1} for {validators} validators")
    if api_port < p2p_port + validators and p2p_port < api_port + validators:
        raise DevnetError(f"--api-port {api_port} and --p2p-port {p2p_port} overlap for {validators} nodes "
                          f"(each takes BASE..BASE+{validators - 1}): move one of them")


def check_ports_free(validators: int, api_port: int, p2p_port: int, host: str = LOOPBACK) -> None:
    """Fail naming the first busy port and the option that moves it."""
    for option, base, what in (("--api-port", api_port, "API"), ("--p2p-port", p2p_port, "p2p")):
        for i in range(validators):
            port = base + i
            if not port_is_free(host, port):
                raise DevnetError(
                    f"port {port} ({what} of node{i}) on {host} is already in use — is another devnet "
                    f"running? Stop it, or choose other ports with {option} BASE (node I uses BASE+I)")


def port_is_free(host: str, port: int) -> bool:
    """Whether a listener could bind host:port now (SO_REUSEADDR, as aiohttp binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


# --- preparing DIR ---------------------------------------------------------------------------

def prepare(home: Path, validators: int = DEFAULT_VALIDATORS, *, reset: bool = False,
            api_port: int = DEFAULT_API_PORT, p2p_port: int = DEFAULT_P2P_PORT,
            config: Path = DEVNET_CONFIG, artifacts: Path = ARTIFACTS) -> Devnet:
    """DIR ready to run: built the first time (or after ``reset``), checked and reused after that."""
    check_options(validators, api_port, p2p_port)
    if reset:
        _remove(home)
    nodes = plan_nodes(home, validators, api_port, p2p_port)
    manifest = _read_manifest(home)
    if manifest is None:
        _check_empty(home)
        chain_id = _create(home, nodes, devnet_config(validators, config), artifacts)
        reused = False
    else:
        if manifest["validators"] != validators:
            raise DevnetError(
                f"{home} holds a {manifest['validators']}-validator devnet, and {validators} validators were "
                f"asked for: run `conclave devnet --validators {validators} --home {home} --reset` to start "
                f"over (this deletes its chain data), or `--validators {manifest['validators']}` to continue it")
        _check_homes(home, nodes)
        for node in nodes:                       # ports may differ from the last run
            write_node_config(node, nodes)
        chain_id, reused = manifest["chain_id"], True
    prefix = str(load_template(config).get("bech32_prefix", "conclave"))
    keys = [DemoKey(info.name, info.address, _role(info.name)) for info in _demo_keyring(home, prefix, validators)]
    return Devnet(home, chain_id, nodes, keys, reused)


def _role(name: str) -> str:
    if name.startswith("member"):
        return "circle member" + (" and admin" if name == "member1" else "")
    return f"validator operator (node{int(name[len('operator'):]) - 1})"


def _demo_keyring(home: Path, prefix: str, validators: int) -> list[KeyInfo]:
    """The demo keys in DIR/keys, imported from their public seeds where missing."""
    ring = Keyring(home / KEYS_DIR, prefix)
    names = [(f"member{n}", "member", n) for n in range(1, MEMBERS + 1)]
    names += [(f"operator{n}", "operator", n) for n in range(1, validators + 1)]
    existing = {info.name for info in ring.list()}
    return [ring.show(name) if name in existing else ring.add(name, seed=demo_seed(role, n))
            for name, role, n in names]


def _create(home: Path, nodes: list[NodeHome], config: dict, artifacts: Path) -> str:
    """Write DIR in a temporary directory beside it, then rename it into place."""
    genesis, _validator_set = build_genesis(config, artifacts)
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=home.parent, prefix=f".{home.name}.partial-"))
    try:
        staged = [replace(node, home=staging / node.moniker) for node in nodes]
        write_network(staged, genesis)
        _demo_keyring(staging, str(config.get("bech32_prefix", "conclave")), len(nodes))
        manifest = {"validators": len(nodes), "chain_id": config["chain_id"]}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        staging.chmod(0o755)
        if home.exists():
            home.rmdir()                         # empty, checked by the caller
        staging.rename(home)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return str(config["chain_id"])


def _read_manifest(home: Path) -> dict | None:
    path = home / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise DevnetError(f"{path} is unreadable ({exc}): start over with --reset") from None
    if (not isinstance(manifest, dict) or type(manifest.get("validators")) is not int
            or not isinstance(manifest.get("chain_id"), str)):
        raise DevnetError(f'{path} must be {{"validators": N, "chain_id": ID}}: start over with --reset')
    return manifest


def _check_empty(home: Path) -> None:
    if not home.exists():
        return
    if not home.is_dir():
        raise DevnetError(f"{home} exists and is not a directory: choose another --home")
    entries = {p.name for p in home.iterdir()}
    if not entries:
        return
    if entries <= OLD_LAYOUT:
        raise DevnetError(f"{home} holds a single-node devnet of an older version: run `conclave devnet "
                          f"--home {home} --reset` to replace it with the multi-validator devnet")
    raise DevnetError(f"{home} exists but is not a devnet home (no {MANIFEST}): choose another --home, "
                      "or remove it yourself")


def _check_homes(home: Path, nodes: Sequence[NodeHome]) -> None:
    """A reused DIR must still hold the demo node keys: anything else is a damaged or foreign devnet."""
    for node in nodes:
        path = node.config_dir / NODE_KEY_FILE
        try:
            key = load_node_key(path)
        except KeyFileError as exc:
            raise DevnetError(f"{exc}: start over with `conclave devnet --home {home} --reset`") from None
        if key.pubkey != node.node_key.pubkey:
            raise DevnetError(f"{path} is not the demo node key of {node.moniker}: start over with --reset")


def _remove(home: Path) -> None:
    """--reset: delete DIR, but only if it is a devnet home (never a directory that merely exists)."""
    if not home.exists():
        return
    if home.is_dir() and not home.is_symlink():
        entries = {p.name for p in home.iterdir()}
        if MANIFEST in entries or entries <= OLD_LAYOUT:
            shutil.rmtree(home)
            return
    raise DevnetError(f"--reset: {home} does not look like a devnet home (no {MANIFEST}); "
                      "not deleting it — remove it yourself or choose another --home")


# --- running ---------------------------------------------------------------------------------

def node_command(home: Path) -> list[str]:
    """How the devnet starts one node: `conclave start` in a fresh interpreter."""
    return [sys.executable, "-m", "chain.cli", "start", "--home", str(home.resolve())]


def api_url(node: NodeHome) -> str:
    return f"http://{node.api}"


def status_answers(node: NodeHome, timeout: float = STATUS_PROBE_TIMEOUT_S) -> bool:
    """Whether the node's GET /status answers 200 with a JSON object."""
    try:
        with urllib.request.urlopen(f"{api_url(node)}/status", timeout=timeout) as response:
            return response.status == 200 and isinstance(json.loads(response.read()), dict)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def banner(net: Devnet, pids: dict[str, int] | None = None) -> str:
    first = api_url(net.nodes[0])
    lines = [f"Conclave devnet — {len(net.nodes)} validators, chain {net.chain_id}, home {net.home}"]
    for node in net.nodes:
        pid = f"pid {pids[node.moniker]:<7} " if pids and node.moniker in pids else ""
        lines.append(f"  {node.moniker:<6} {pid}API {api_url(node):<23} p2p {node.p2p:<17} "
                     f"log {node.home / LOG_FILE}")
    lines += [
        f"  TUI:   conclave tui --node {first} --key member1 --home {net.home}",
        f"  Keys (demo, public seeds — local use only) in {net.home / KEYS_DIR}:",
    ]
    lines += [f"    {k.name:<11} {k.address}  {k.role}" for k in net.keys]
    other = net.keys[1].address if len(net.keys) > 1 else net.keys[0].address
    lines += [
        "  Try:",
        f"    curl {first}/status",
        f"    conclave query account {net.keys[0].address} --node {first}",
        f"    conclave tx send member1 {other} 1000ucnv --home {net.home} --node {first}",
        "  Ctrl-C stops every node; the next `conclave devnet` continues from their data "
        "(`--reset` starts over).",
    ]
    return "\n".join(lines)


def run(net: Devnet, *, command: Callable[[Path], list[str]] = node_command,
        ready: Callable[[NodeHome], bool] = status_answers, ready_timeout: float = READY_TIMEOUT_S,
        stop_grace: float | None = None, out: TextIO | None = None, err: TextIO | None = None,
        handle_signals: bool = True) -> int:
    """Start every node, wait until each answers, print the banner, supervise until stopped.

    Exit status 0 after Ctrl-C/SIGTERM, 1 if a node failed to come up or exited on its own.
    ``command`` and ``ready`` are injectable so tests can run stand-in nodes.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    by_name = {node.moniker: node for node in net.nodes}
    # `-m chain.cli` must find this package whatever the working directory
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    specs = [ChildSpec(node.moniker, command(node.home), node.home / LOG_FILE, {"PYTHONPATH": path})
             for node in net.nodes]
    options = {} if stop_grace is None else {"stop_grace": stop_grace}
    supervisor = Supervisor(specs, err=err, **options)
    print(f"conclave devnet: starting {len(specs)} nodes (logs in {net.home}/nodeI/{LOG_FILE})", file=err, flush=True)
    try:
        with supervisor.signal_handlers(enabled=handle_signals):
            supervisor.start()
            if not supervisor.wait_ready(lambda spec: ready(by_name[spec.name]), ready_timeout):
                supervisor.stop()
                return 0                          # stopped while starting: nothing failed
            print(banner(net, supervisor.pids()), file=out, flush=True)
            return supervisor.supervise()
    except SupervisorError as exc:
        print(f"error: {exc}", file=err, flush=True)
        supervisor.stop()
        return 1
    except BaseException:
        supervisor.stop()
        raise
