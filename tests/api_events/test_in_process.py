"""The stream's limits with small values, on a node running in this process: the total socket limit
(503), a replay longer than allowed, and /healthz (503 before consensus runs, then 200); a failing
block listener does not stop the chain, and the API's hooks leave the node when the app is cleaned up."""
from __future__ import annotations

import asyncio
import json
import shutil

import aiohttp
import pytest
from aiohttp import web

from api_events.live_node import WAIT_S, NodeProcess, free_port, receive_json, subscribe
from chain.api import events, metrics
from chain.api.context import NODE_KEY
from chain.api.errors import errors_middleware
from chain.node import Node
from support import make_validator_home

pytestmark = pytest.mark.timeout(240)
LIMITS = events.StreamLimits(per_ip=8, total=2, replay_heights=3)


async def wait_height(node: Node, height: int) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while node.height < height:
        assert asyncio.get_running_loop().time() < deadline, f"the node did not reach height {height}"
        await asyncio.sleep(0.02)


def test_small_limits_replay_bound_and_hooks(tmp_path, built_genesis, node: NodeProcess):
    home = make_validator_home(tmp_path, built_genesis[0])
    shutil.copytree(node.home / "wasm", home / "wasm")       # the session node's compiled modules: no recompiling
    local = Node(home, block_time=0.2)
    failures: list[int] = []

    def broken_listener(block, _response) -> None:
        failures.append(block.header.height)
        raise RuntimeError("an observer's bug")

    local.on_block_listeners.append(broken_listener)

    async def main() -> None:
        app = web.Application(middlewares=[errors_middleware])
        app[NODE_KEY] = local
        events.register(app, LIMITS)
        metrics.register(app)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as response:
            answer = await response.json()          # consensus has not started: not healthy, and why
            assert response.status == 503 and answer["status"] == "unhealthy" and "not running" in answer["reason"]
        running = asyncio.create_task(local.run())
        try:
            await wait_height(local, LIMITS.replay_heights + 3)
            assert len(failures) >= 3                   # the listener failed at every height, the chain went on
            async with aiohttp.ClientSession() as session:
                first, _ = await subscribe(session, f"{url}/events", kinds=["block"])
                second = await session.ws_connect(f"{url}/events")
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await session.ws_connect(f"{url}/events")
                assert refused.value.status == 503

                await second.send_str(json.dumps({"subscribe": {"from_height": 1}}))
                answer = await receive_json(second)
                assert answer["error"]["code"] == "replay_too_long" and "GET /blocks/" in answer["error"]["message"]
                start = local.height        # a replay of 1 height, still within the limit if 2 more commit meanwhile
                await second.send_str(json.dumps({"subscribe": {"kinds": ["block"], "from_height": start}}))
                ack = await receive_json(second)
                assert ack["subscribed"]["from_height"] == start
                assert (await receive_json(second))["height"] == start

                async with session.get(f"{url}/healthz") as response:
                    assert response.status == 200 and (await response.json())["status"] == "ok"
                await first.close()
                await second.close()
        finally:
            local.stop()
            await asyncio.wait_for(running, WAIT_S)
            await runner.cleanup()
        assert local.on_block_listeners == [broken_listener]      # the API's hooks are gone with the app

    try:
        asyncio.run(main())
    finally:
        local.close()
