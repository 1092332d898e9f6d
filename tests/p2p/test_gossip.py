"""Flooding gossip: relayed past direct neighbours, exactly once, and not past a node that rejects it."""
from __future__ import annotations

from chain.p2p import Gossip, SeenCache, message_key
from p2p.harness import address_of, connect_all, eventually, fully_connected, make_node, run, running


def test_seen_cache_forgets_the_oldest_keys():
    seen = SeenCache(capacity=3)
    assert [seen.add(k) for k in "abc"] == [True, True, True]
    assert seen.add("a") is False                 # refreshes "a"
    assert seen.add("d") is True                  # evicts "b", the least recent
    assert "b" not in seen and "a" in seen and len(seen) == 3
    assert message_key("ch", {"x": 1, "y": 2}) == message_key("ch", {"y": 2, "x": 1})
    assert message_key("ch", {"x": 1}) != message_key("other", {"x": 1})


def test_gossip_crosses_a_line_of_nodes_once_and_stops_at_a_rejecting_node():
    async def scenario():
        nodes = [make_node(i) for i in range(4)]
        heard: list[list[dict]] = [[] for _ in nodes]

        def handler_for(index):
            def handle(peer_id, payload):
                heard[index].append(payload)
                return not (index == 2 and payload.get("bad"))      # node 2 refuses to pass on "bad"
            return handle
        gossips = [Gossip(node, "tx", handler_for(i)) for i, node in enumerate(nodes)]
        async with running(*nodes):
            for left, right in zip(nodes, nodes[1:]):               # 0 - 1 - 2 - 3
                left.add_peer(address_of(right))
            await eventually(lambda: [len(n.peers()) for n in nodes] == [1, 2, 2, 1], "the line")
            assert gossips[0].publish({"n": 1}) is True
            assert gossips[0].publish({"n": 1}) is False            # already seen
            await eventually(lambda: heard[3] == [{"n": 1}], "the far end")
            gossips[3].publish({"bad": True})
            gossips[3].publish({"n": 2})
            await eventually(lambda: heard[0] == [{"n": 2}], "the good one to reach node 0")
            assert heard[1] == [{"n": 1}, {"n": 2}] and heard[2] == [{"n": 1}, {"bad": True}, {"n": 2}]
            assert heard[3] == [{"n": 1}]
    run(scenario)


def test_gossip_in_a_full_mesh_is_handled_once_per_node():
    async def scenario():
        nodes = [make_node(i) for i in range(4)]
        heard: list[list[dict]] = [[] for _ in nodes]
        gossips = [Gossip(node, "tx", lambda peer, payload, i=i: heard[i].append(payload))
                   for i, node in enumerate(nodes)]
        async with running(*nodes):
            connect_all(nodes)
            await fully_connected(nodes)
            for n in range(20):
                gossips[n % 4].publish({"n": n})
            await eventually(lambda: all(len(h) >= 15 for h in heard), "every message everywhere")
            # Relays echo each message back and forth; a node handles each one once all the same.
            await eventually(lambda: all(p["queued"] == 0 for n in nodes for p in n.stats()["per_peer"].values()),
                             "the echoes to die out")
            for i in range(4):
                assert sorted(p["n"] for p in heard[i]) == [n for n in range(20) if n % 4 != i]
    run(scenario)
