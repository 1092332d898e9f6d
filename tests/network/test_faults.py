"""Fault runs on a real 4-validator network (separate processes, every link through a FaultProxy).

One cluster serves the module's scenarios in order; each scenario ends with the network healed and
every node caught up, then checks the invariants CometBFT's e2e runner checks: identical block and
app hashes on every node at every height, and every tx a node acknowledged as committed present
in every node's chain. Everything is seeded and every wait is bounded.
"""
from __future__ import annotations

import random
import time

import pytest

from cluster import Cluster, TxLoad
from support import devnet_genesis

pytestmark = pytest.mark.timeout(600)
PAUSE_S = 4.0            # > propose + prevote + precommit timeouts of round 0 (FAST_TIMEOUTS: 1 + 0.4 + 0.4 s)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    genesis, _ = devnet_genesis(4, equal_power=True)        # any 3 of 4 hold 2/3 of the power
    cluster = Cluster(tmp_path_factory.mktemp("faults"), validators=4, genesis=genesis).start()
    cluster.wait_height(2)
    yield cluster
    cluster.stop()


def settle(net: Cluster, load: TxLoad | None = None) -> None:
    """Heal everything, let all four commit past the current top, then check the invariants."""
    net.mesh.heal_all()
    for i in range(4):
        net.resume(i)
    net.wait_progress(2)
    if load is not None:
        load.stop()
        load.assert_all_committed()
    net.assert_consistent()


def test_kill_9_and_restart_each_validator_in_turn(net):
    load = TxLoad(net, seed=1).start()
    for i in range(4):
        net.kill(i)
        net.wait_progress(2, among=[j for j in range(4) if j != i])     # 3 of 4 keep committing
        net.nodes[i].start()
        net.wait_progress(1)
    settle(net, load)
    assert load.acknowledged, "no tx was committed during the run"


def test_pause_one_longer_than_the_timeouts(net):
    net.pause(3)                                        # SIGSTOP: alive, holding its sockets, silent
    net.wait_progress(3, among=[0, 1, 2])
    time.sleep(PAUSE_S)                                 # longer than every timeout of a round
    net.wait_progress(1, among=[0, 1, 2])
    net.resume(3)
    settle(net)


def test_partition_two_two_stops_commits_then_heal_resumes(net):
    net.mesh.partition([{0, 1}, {2, 3}])
    stuck = max(h for h in net.heights().values() if h is not None)
    with pytest.raises(AssertionError):                 # no side has 2/3 of the power: nothing commits
        net.wait_height(stuck + 2, among=[0], timeout=4)
    net.mesh.heal_all()
    net.wait_height(stuck + 2)
    settle(net)


def test_isolated_validator_catches_up_on_heal(net):
    net.mesh.isolate(0)
    top = net.wait_progress(4, among=[1, 2, 3])
    assert net.heights([0])[0] < top
    net.mesh.heal_all()
    net.wait_height(top)
    settle(net)


def test_thirty_random_perturbations(net):
    rnd = random.Random(20261123)
    load = TxLoad(net, seed=2).start()
    for _ in range(30):
        victim = rnd.randrange(4)
        action = rnd.choice(["kill", "restart", "pause", "isolate", "partition", "nothing"])
        if action == "kill":
            net.kill(victim)
            net.wait_progress(1, among=[j for j in range(4) if j != victim])
            net.nodes[victim].start()
        elif action == "restart":
            net.restart(victim)
        elif action == "pause":
            net.pause(victim)
            net.wait_progress(1, among=[j for j in range(4) if j != victim])
            net.resume(victim)
        elif action == "isolate":
            net.mesh.isolate(victim)
            net.wait_progress(1, among=[j for j in range(4) if j != victim])
            net.mesh.heal_all()
        elif action == "partition":
            pair = set(rnd.sample(range(4), 2))
            net.mesh.partition([pair, set(range(4)) - pair])
            net.mesh.heal_all()
        net.wait_progress(1)
    settle(net, load)
