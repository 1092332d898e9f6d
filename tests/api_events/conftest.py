"""One real node process per test session (per xdist worker) for the event stream, metrics and log tests."""
from __future__ import annotations

import pytest

from api_events.live_node import NodeProcess
from support import devnet_genesis, make_validator_home


@pytest.fixture(scope="session")
def built_genesis() -> tuple[bytes, dict[str, str]]:
    """The devnet genesis with one validator (whose key the node holds), and its contracts."""
    return devnet_genesis(validators=1)


@pytest.fixture(scope="session")
def contracts(built_genesis) -> dict[str, str]:
    return built_genesis[1]


@pytest.fixture(scope="session")
def node(tmp_path_factory, built_genesis) -> NodeProcess:
    home = make_validator_home(tmp_path_factory.mktemp("events-node"), built_genesis[0])
    process = NodeProcess(home).start()
    try:
        process.wait_height(2)
        yield process
    finally:
        process.stop()
