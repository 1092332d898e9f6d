"""The two nodes of tests/api_gov, started together (their startups overlap): one for the HTTP
tests, one for the CLI tests, so neither file's proposals and params changes reach the other."""
from __future__ import annotations

import pytest

from api_gov.gov_support import GovNode


@pytest.fixture(scope="session")
def gov_nodes(tmp_path_factory):
    nodes = {name: GovNode(tmp_path_factory.mktemp(f"gov-{name}")) for name in ("http", "cli")}
    try:
        for node in nodes.values():
            node.wait_height(1)
        yield nodes
    finally:
        for node in nodes.values():
            node.stop()
