"""`conclave testnet-files`: the node homes of an N-validator network, for docker-compose.yml.

    conclave testnet-files --validators 4 --output testnet
    docker compose up --build

DIR/node0 .. DIR/node{N-1} are node homes (chain/node_home.py); docker-compose.yml mounts
./testnet/nodeI at /home/conclave in the container of service nodeI. Every key is fresh
(os.urandom): each node's p2p key, each validator's consensus key, and the accounts of the
operators and of three circle members (member1 also an admin), which go to DIR/keys — the
operator's keyring, never mounted into a container. The genesis is genesis/devnet.json's
parameters with these accounts, members and validators (equal power, so the network survives
any f < N/3 stopped validators), built and dry-run by chain/genesis_builder.py.

The homes are written into a temporary directory beside DIR and renamed into place at the end,
so a failure leaves no half-written network. An existing DIR is replaced only with --force, and
only if it holds nothing but what this command writes (a stray path is a mistake to report, not
to delete).
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from . import genesis_builder
from .codec import b64encode
from .crypto.keyfiles import validator_address
from .crypto.keys import Keyring, PrivateKey, SEED_BYTES
from .node_home import NodeHome, write_network

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_CONFIG = REPO_ROOT / "genesis" / "devnet.json"      # the parameters every generated network uses
ARTIFACTS = REPO_ROOT / "contracts" / "artifacts"

DEFAULT_CHAIN_ID = "conclave-testnet"
DEFAULT_HOSTNAME_TEMPLATE = "node{i}"
DEFAULT_API_PORT = 1317
DEFAULT_P2P_PORT = 26656
MAX_VALIDATORS = 100                      # the valset contract's default max_validators
MEMBERS = 3                               # member1..3; member1 is also the admin
KEYS_DIR = "keys"
NODE_DIR_RE = re.compile(r"^node[0-9]+$")
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")

# Genesis balances, as genesis/devnet.json gives them: fees for members, fees and some liquid
# stake for operators (their bonded stake is minted by genesis itself).
MEMBER_BALANCE = {"fee": 100_000_000}
OPERATOR_BALANCE = {"fee": 10_000_000, "stake": 1_000_000}
TESTNET_STAKE = 1_000_000
TESTNET_ENGAGEMENT = 100


class TestnetError(Exception):
    """Bad options or an output directory in the way; the message says what to do."""

    __test__ = False        # not a pytest test class, whatever its name


@dataclass(frozen=True)
class ValidatorEntry:
    """A genesis validator: operator account, consensus public key, initial stake and engagement."""

    operator: str
    pubkey: bytes
    stake: int
    engagement: int
    moniker: str | None = None


@dataclass(frozen=True)
class AccountKey:
    """A key of the operator's keyring and what it is for."""

    name: str
    address: str
    role: str


@dataclass(frozen=True)
class Testnet:
    """What ``create`` wrote: the homes (at their final paths) and the keyring's keys."""

    __test__ = False
    output: Path
    chain_id: str
    nodes: list[NodeHome]
    keys: list[AccountKey]
    powers: dict[bytes, int]                 # consensus pubkey -> voting power at genesis


# --- the genesis config ----------------------------------------------------------------------

def network_config(template: dict[str, Any], *, chain_id: str, genesis_time: str, members: Sequence[str],
                   admins: Sequence[str], validators: Sequence[ValidatorEntry]) -> dict[str, Any]:
    """``template``'s parameters with these members, admins and validators and their balances.

    With the demo keys and devnet_validators(4) this is genesis/devnet.json itself
    (tests/test_devnet.py checks it), so every generated network is "the devnet, resized".
    """
    config = copy.deepcopy(template)
    denoms = {"fee": genesis_builder.DEFAULT_FEE_DENOM, "stake": genesis_builder.DEFAULT_STAKE_DENOM,
              **config.get("denoms", {})}

    def coins(balance: dict[str, int]) -> list[dict[str, str]]:
        return [{"denom": denoms[kind], "amount": str(amount)} for kind, amount in balance.items()]

    config.update(
        chain_id=chain_id, genesis_time=genesis_time,
        accounts=[{"address": a, "coins": coins(MEMBER_BALANCE)} for a in members]
        + [{"address": v.operator, "coins": coins(OPERATOR_BALANCE)} for v in validators],
        members=list(members), admins=list(admins),
        validators=[{"operator": v.operator, "pubkey": b64encode(v.pubkey), "stake": str(v.stake),
                     "engagement": v.engagement, **({"moniker": v.moniker} if v.moniker else {})}
                    for v in validators])
    return config


def load_template(path: Path = TEMPLATE_CONFIG) -> dict[str, Any]:
    try:
        return genesis_builder.read_json_object(path, "the genesis template")
    except genesis_builder.GenesisBuildError as exc:
        raise TestnetError(str(exc)) from None


def build_genesis(config: dict[str, Any], artifacts: Path = ARTIFACTS) -> tuple[bytes, list[tuple[bytes, int]]]:
    """genesis.json for ``config`` with the artifacts embedded, proven to boot (GenesisBuildError if not),
    and the initial validator set that boot gave: [(consensus pubkey, power)]."""
    doc, result = genesis_builder.build_doc(config, artifacts)
    return doc.canonical_bytes(), list(result.validators)


# --- options ---------------------------------------------------------------------------------

def check_validator_count(n: int, option: str = "--validators") -> None:
    if not 1 <= n <= MAX_VALIDATORS:
        raise TestnetError(f"{option} must be 1..{MAX_VALIDATORS}, got {n}")


def check_port(port: int, option: str) -> None:
    if not 1 <= port <= 65535:
        raise TestnetError(f"{option} must be a port number 1..65535, got {port}")


def hostnames(template: str, n: int) -> list[str]:
    """The hostname of each node from a template such as "node{i}" (docker-compose's service names)."""
    if "{i}" not in template:
        raise TestnetError(f'--hostname-template must contain "{{i}}" (the node index), got {template!r}')
    try:
        names = [template.format(i=i) for i in range(n)]
    except (KeyError, IndexError, ValueError, AttributeError):
        raise TestnetError(f'--hostname-template {template!r}: only "{{i}}" may be substituted '
                           '(write a literal brace as "{{" or "}}")') from None
    for name in names:
        if not HOSTNAME_RE.match(name):
            raise TestnetError(f"--hostname-template gives {name!r}, not a valid hostname "
                               "(lowercase letters, digits, '-' and '.')")
    return names


# --- the command -----------------------------------------------------------------------------

def create(output: Path, validators: int, *, chain_id: str = DEFAULT_CHAIN_ID,
           hostname_template: str = DEFAULT_HOSTNAME_TEMPLATE, p2p_port: int = DEFAULT_P2P_PORT,
           api_port: int = DEFAULT_API_PORT, force: bool = False, genesis_time: str | None = None,
           template: Path = TEMPLATE_CONFIG, artifacts: Path = ARTIFACTS,
           random_bytes: Callable[[int], bytes] = os.urandom) -> Testnet:
    """Write DIR/node0..node{N-1} and DIR/keys for an N-validator network; see the module docstring.

    ``random_bytes`` is where every key comes from (tests pass a seeded generator).
    """
    check_validator_count(validators)
    check_port(p2p_port, "--p2p-port")
    check_port(api_port, "--api-port")
    if p2p_port == api_port:
        raise TestnetError(f"--api-port and --p2p-port are both {api_port}: a node listens on both")
    hosts = hostnames(hostname_template, validators)
    _check_output(output, force)
    genesis_time = genesis_time or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    base = load_template(template)

    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=output.parent, prefix=f".{output.name}.partial-"))
    try:
        def fresh_key() -> PrivateKey:
            seed = random_bytes(SEED_BYTES)
            if not isinstance(seed, bytes) or len(seed) != SEED_BYTES:
                raise TestnetError(f"the key source gave {len(seed)} bytes, expected {SEED_BYTES}")
            return PrivateKey.from_seed(seed)

        ring = Keyring(staging / KEYS_DIR, str(base.get("bech32_prefix", genesis_builder.DEFAULT_PREFIX)))
        keys: list[AccountKey] = []
        for n in range(1, MEMBERS + 1):
            info = ring.add(f"member{n}", seed=fresh_key().seed)
            keys.append(AccountKey(info.name, info.address, "circle member" + (" and admin" if n == 1 else "")))
        nodes, entries = [], []
        for i in range(validators):
            info = ring.add(f"operator{i + 1}", seed=fresh_key().seed)
            keys.append(AccountKey(info.name, info.address, f"validator operator (node{i})"))
            consensus = fresh_key()
            entries.append(ValidatorEntry(info.address, consensus.pubkey, TESTNET_STAKE, TESTNET_ENGAGEMENT,
                                          f"node{i}"))
            nodes.append(NodeHome(moniker=f"node{i}", home=staging / f"node{i}", node_key=fresh_key(),
                                  validator_key=consensus, api=f"0.0.0.0:{api_port}", p2p=f"0.0.0.0:{p2p_port}",
                                  dial=f"{hosts[i]}:{p2p_port}"))
        members = [k.address for k in keys if k.name.startswith("member")]
        config = network_config(base, chain_id=chain_id, genesis_time=genesis_time, members=members,
                                admins=members[:1], validators=entries)
        genesis, validator_set = build_genesis(config, artifacts)
        write_network(nodes, genesis)
        os.chmod(staging, 0o755)         # the homes inside are read by the containers' user
        if output.exists():              # only with --force, checked above
            shutil.rmtree(output)
        os.rename(staging, output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    placed = [replace(node, home=output / node.moniker) for node in nodes]
    return Testnet(output, chain_id, placed, keys, dict(validator_set))


def _check_output(output: Path, force: bool) -> None:
    if not output.exists() and not output.is_symlink():
        return
    if not output.is_dir() or output.is_symlink():
        raise TestnetError(f"{output} exists and is not a directory: choose another --output")
    entries = sorted(p.name for p in output.iterdir())
    if not entries:
        return
    if not force:
        raise TestnetError(f"{output} already exists: pass --force to replace it (its node data and keys "
                           "are deleted) or choose another --output")
    strays = [name for name in entries if not (NODE_DIR_RE.match(name) or name == KEYS_DIR)]
    if strays:
        raise TestnetError(f"{output} holds {', '.join(strays[:5])}, which testnet-files did not write: "
                           "--force replaces only a testnet directory; move those away or choose another --output")


def summary(net: Testnet) -> str:
    """What was written and what to do next, for the operator."""
    count = len(net.nodes)
    lines = [f"wrote {count} node home{'s' if count > 1 else ''} for chain {net.chain_id} in {net.output}/"]
    for node in net.nodes:
        assert node.validator_key is not None
        power = net.powers.get(node.validator_key.pubkey, 0)
        lines.append(f"  {node.moniker}: node id {node.node_id}, validator "
                     f"{validator_address(node.validator_key.pubkey)} (power {power}), peers dial it at {node.dial}")
    lines.append(f"keys (unencrypted, keep {net.output / KEYS_DIR} private; never mount it into a container):")
    lines += [f"  {k.name:<11} {k.address}  {k.role}" for k in net.keys]
    lines += ["next:",
              "  docker compose up --build        (docker-compose.yml mounts ./testnet/nodeI at "
              "/home/conclave of service nodeI)",
              f"  conclave query account {net.keys[0].address} --node http://127.0.0.1:1317",
              f"  conclave tx send member1 {net.keys[1].address} 1000ucnv --home {net.output} "
              "--node http://127.0.0.1:1317"]
    return "\n".join(lines)
