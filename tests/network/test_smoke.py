"""Four validators on loopback reach consensus: every node commits the same blocks."""
from __future__ import annotations

import pytest

from cluster import Cluster


@pytest.fixture
def cluster(tmp_path):
    net = Cluster(tmp_path, validators=4).start()
    yield net
    net.stop()


def test_four_validators_commit_identical_blocks(cluster):
    cluster.wait_height(5)
    assert cluster.assert_consistent() >= 5
