"""A node's home directory as the node reads it: genesis, node.json and the two key files.

    HOME/config/genesis.json            the chain's genesis (the same file for every node), 0644
    HOME/config/node.json               {"moniker", "api", "p2p", "peers", "validator"}, 0644
    HOME/config/node_key.json           the p2p identity (CometBFT format), 0600
    HOME/config/priv_validator_key.json the consensus key (CometBFT format), 0600, validators only
    HOME/data/, HOME/wasm/              created by the node itself

`conclave devnet` (loopback) and `conclave testnet-files` (docker) both describe their nodes as
NodeHome values and write them here, so the two can never disagree on the layout. Peers are
every other node of the network, dialled as "<node_id>@host:port" (CometBFT's persistent_peers).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .crypto.keyfiles import node_id, write_node_key, write_validator_key
from .crypto.keys import PrivateKey
from .genesis_builder import write_atomic

CONFIG_DIR = "config"
GENESIS_FILE = "genesis.json"
NODE_CONFIG_FILE = "node.json"
NODE_KEY_FILE = "node_key.json"
VALIDATOR_KEY_FILE = "priv_validator_key.json"


@dataclass(frozen=True)
class NodeHome:
    """One node of a network: its home, its keys, where it listens and where its peers reach it."""

    moniker: str
    home: Path
    node_key: PrivateKey
    validator_key: PrivateKey | None
    api: str            # HTTP API listen address, host:port
    p2p: str            # p2p listen address, host:port
    dial: str           # host:port the other nodes connect to

    @property
    def node_id(self) -> str:
        return node_id(self.node_key.pubkey)

    @property
    def peer_address(self) -> str:
        """How the other nodes name this one in their peers list."""
        return f"{self.node_id}@{self.dial}"

    @property
    def config_dir(self) -> Path:
        return self.home / CONFIG_DIR


def node_config(node: NodeHome, peers: Sequence[str]) -> dict[str, object]:
    """node.json for ``node``: the consensus timeouts are left to the node's defaults."""
    return {"moniker": node.moniker, "api": node.api, "p2p": node.p2p, "peers": list(peers),
            "validator": node.validator_key is not None}


def peers_of(node: NodeHome, network: Sequence[NodeHome]) -> list[str]:
    """Every other node of the network, in order."""
    return [other.peer_address for other in network if other.moniker != node.moniker]


def write_node_config(node: NodeHome, network: Sequence[NodeHome]) -> Path:
    """(Re)write node.json: it holds no secrets and no state, so it may change between runs."""
    path = node.config_dir / NODE_CONFIG_FILE
    write_atomic(path, (json.dumps(node_config(node, peers_of(node, network)), indent=2) + "\n").encode())
    return path


def write_home(node: NodeHome, network: Sequence[NodeHome], genesis: bytes) -> None:
    """Write a fresh home: genesis, node.json and the key files (which are never overwritten)."""
    write_atomic(node.config_dir / GENESIS_FILE, genesis)
    write_node_config(node, network)
    write_node_key(node.config_dir / NODE_KEY_FILE, node.node_key)
    if node.validator_key is not None:
        write_validator_key(node.config_dir / VALIDATOR_KEY_FILE, node.validator_key)


def write_network(network: Sequence[NodeHome], genesis: bytes) -> None:
    """Every node's home, each peering with all the others."""
    monikers = [node.moniker for node in network]
    if len(set(monikers)) != len(monikers):
        raise ValueError(f"node monikers must be unique, got {monikers}")
    for node in network:
        write_home(node, network, genesis)
