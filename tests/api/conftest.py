"""One populated node per test session (per xdist worker) for every live-API test in this folder."""
from __future__ import annotations

import pytest

from api.node_process import ChainData, NodeProcess, start_populated_node


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> tuple[NodeProcess, ChainData]:
    node, data = start_populated_node(tmp_path_factory.mktemp("api-node"))
    try:
        yield node, data
    finally:
        node.stop()


@pytest.fixture(scope="session")
def node(live) -> NodeProcess:
    return live[0]


@pytest.fixture(scope="session")
def chain(live) -> ChainData:
    return live[1]
