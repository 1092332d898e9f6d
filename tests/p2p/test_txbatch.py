"""Tx gossip batches: each peer gets every queued tx but its own, in few frames, a big tx alone, nothing lost."""
from __future__ import annotations

import asyncio

from chain.p2p.txbatch import MAX_BATCH_TXS, TxBatcher, batch_items
from p2p.harness import connect_all, eventually, fully_connected, make_node, run, running


def test_each_peer_gets_the_txs_it_did_not_send_in_few_frames():
    async def scenario():
        nodes = [make_node(i) for i in range(3)]
        a, b, c = nodes
        frames: dict[str, list[list[str]]] = {"b": [], "c": []}
        b.on_message("txs", lambda _p, _ch, payload: frames["b"].append(batch_items(payload)))
        c.on_message("txs", lambda _p, _ch, payload: frames["c"].append(batch_items(payload)))
        batcher = TxBatcher(a, "txs", window_s=0.05, max_chars=1000)
        async with running(*nodes):
            connect_all(nodes)
            await fully_connected(nodes)
            for i in range(60):                                    # 60 small txs, every 3rd came from b
                batcher.add(f"tx{i:03d}", exclude=b.node_id if i % 3 == 0 else None)
            batcher.add("B" * 5000)                                # larger than a batch: goes alone
            await eventually(lambda: sum(map(len, frames["c"])) == 61, "all 61 txs at c")
            await eventually(lambda: sum(map(len, frames["b"])) == 41, "the 41 not from b at b")
            got_b = [tx for frame in frames["b"] for tx in frame]
            assert got_b == [f"tx{i:03d}" for i in range(60) if i % 3] + ["B" * 5000]
            assert [tx for frame in frames["c"] for tx in frame][:60] == [f"tx{i:03d}" for i in range(60)]
            assert len(frames["c"]) <= 4 and ["B" * 5000] in frames["c"]      # batched, not 61 frames
            assert all(sum(map(len, f)) <= 1000 or len(f) == 1 for f in frames["c"])
    run(scenario)


def test_a_batch_leaves_after_the_window_even_if_small():
    async def scenario():
        nodes = [make_node(i) for i in range(3, 5)]
        heard: list[list[str]] = []
        nodes[1].on_message("txs", lambda _p, _ch, payload: heard.append(batch_items(payload)))
        batcher = TxBatcher(nodes[0], "txs", window_s=0.02)
        async with running(*nodes):
            connect_all(nodes)
            await fully_connected(nodes)
            batcher.add("only")
            await eventually(lambda: heard == [["only"]], "the lone tx")
            await asyncio.sleep(0.1)
            assert heard == [["only"]] and batcher.batches_sent == 1
    run(scenario)


def test_malformed_batches_are_ignored_whole_or_filtered():
    assert batch_items({"txs": ["a", 5, None, "b"]}) == ["a", "b"]
    for bad in ({"txs": "a"}, {"tx": "a"}, [], None, {"txs": ["a"] * (MAX_BATCH_TXS + 1)}, {"txs": {"a": 1}}):
        assert batch_items(bad) == []
