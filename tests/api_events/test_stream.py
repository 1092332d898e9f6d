"""GET /events on a real node: live blocks and a tx's events, resume from a past height, filters by
contract, event type and proposal, bad subscribe messages answered without closing, the per-address
limit, and a client that stops reading is disconnected while the chain keeps committing."""
from __future__ import annotations

import asyncio
import base64
import json
import time
from hashlib import sha256

import aiohttp
import pytest

from api_events.live_node import WAIT_S, NodeProcess, RawWebSocket, read_until, receive_json, subscribe
from chain.api.events import MAX_SUBSCRIBERS_PER_IP
from chain.app.tx import Execute, Send
from chain.codec import canonical_json
from support import devnet_key

pytestmark = pytest.mark.timeout(240)


def attrs(event: dict) -> dict[str, str]:
    return {a["key"]: a["value"] for a in event["attributes"]}


def block_after(height: int):
    """The end condition 'a block above ``height`` arrived': everything of ``height`` came before it."""
    return lambda m: m["kind"] == "block" and m["height"] > height


def test_live_blocks_then_a_sends_tx_and_events(node: NodeProcess):
    sender, recipient = devnet_key("member", 1), devnet_key("member", 2)

    async def main() -> tuple[dict, dict, list[dict]]:
        async with aiohttp.ClientSession() as session:
            ws, ack = await subscribe(session, node.ws_url)
            answer = await asyncio.to_thread(node.send, sender, Send(recipient.address(), (("ucnv", 5),)))
            got = await read_until(ws, block_after(answer["height"]))
            await ws.close()
            again, _ = await subscribe(session, node.ws_url, from_height=answer["height"])
            replayed = await read_until(again, block_after(answer["height"]))
            await again.close()
            assert [m for m in replayed if m["height"] == answer["height"]] == [
                m for m in got if m["height"] == answer["height"]]          # a resumed client reads the same
            return ack, answer, got

    ack, answer, messages = asyncio.run(main())
    assert ack["kinds"] == ["block", "tx", "event"] and ack["from_height"] is None
    assert answer["result"]["code"] == 0, answer
    heights = [m["height"] for m in messages]
    assert heights == sorted(heights)
    blocks = [m["height"] for m in messages if m["kind"] == "block"]
    assert blocks == list(range(ack["latest_height"] + 1, answer["height"] + 2))   # live: after the ack's height

    [tx] = [m for m in messages if m["kind"] == "tx"]
    assert (tx["hash"], tx["height"], tx["index"], tx["code"]) == (answer["hash"], answer["height"], 0, 0)
    assert sha256(base64.b64decode(tx["tx"])).hexdigest().upper() == tx["hash"]
    events = [m for m in messages if m["kind"] == "event" and m["source"] == "tx"]
    assert [{"type": e["type"], "attributes": e["attributes"]} for e in events] == tx["events"]
    assert all(e["tx_hash"] == tx["hash"] and e["tx_index"] == 0 and e["height"] == tx["height"] for e in events)
    transfer = [attrs(e) for e in events if e["type"] == "transfer"]
    assert {"recipient": recipient.address(), "amount": "5ucnv"}.items() <= transfer[0].items()
    others = [m for m in messages if m["kind"] == "event" and m["source"] != "tx"]
    assert others and all(m["tx_hash"] is None and m["source"] in ("begin_block", "end_block") for m in others)


def test_resume_from_a_past_height_replays_in_order_then_goes_live(node: NodeProcess):
    start = node.height()
    node.wait_height(start + 3)

    async def main() -> tuple[dict, list[dict]]:
        async with aiohttp.ClientSession() as session:
            ws, ack = await subscribe(session, node.ws_url, kinds=["block"], from_height=start)
            got = await read_until(ws, lambda m: m["height"] >= ack["latest_height"] + 3)
            await ws.close()
            return ack, got

    ack, messages = asyncio.run(main())
    assert ack["latest_height"] >= start + 3 and ack["from_height"] == start
    assert [m["height"] for m in messages] == list(range(start, ack["latest_height"] + 4))   # no gap, no repeat
    assert {m["kind"] for m in messages} == {"block"}
    for message in messages[:3]:
        stored = node.client.block(message["height"])
        assert message["hash"] == sha256(canonical_json(stored["block"]["header"])).hexdigest()
        assert message["app_hash"] == stored["results"]["app_hash"]
        following = node.client.block(message["height"] + 1)["block"]["header"]
        assert following["last_block_hash"] == message["hash"]


def test_filters_by_contract_event_type_and_proposal(node: NodeProcess, contracts: dict[str, str]):
    voting = contracts["voting"]
    proposer, voter = devnet_key("member", 1), devnet_key("member", 2)
    latest = node.client.smart(voting, {"reverse_proposals": {"limit": 1}})["proposals"]
    first = latest[0]["id"] + 1 if latest else 1

    def propose(title: str) -> Execute:
        return Execute(voting, {"propose": {"title": title, "description": "an event stream test", "msgs": []}}, ())

    def send_all() -> dict[str, dict]:
        sent = {"p1": node.send(proposer, propose("first")), "p2": node.send(proposer, propose("second"))}
        sent["vote"] = node.send(voter, Execute(voting, {"vote": {"proposal_id": first, "vote": "yes"}}, ()))
        sent["send"] = node.send(proposer, Send(voter.address(), (("ucnv", 7),)))
        return sent

    async def main() -> tuple[dict[str, dict], dict[str, list[dict]]]:
        async with aiohttp.ClientSession() as session:
            sockets = {
                "proposal": (await subscribe(session, node.ws_url, kinds=["block", "event"], proposal_id=first))[0],
                "contract": (await subscribe(session, node.ws_url, contract=voting))[0],
                "type": (await subscribe(session, node.ws_url, kinds=["tx", "event", "block"],
                                         event_type="transfer"))[0],
            }
            sent = await asyncio.to_thread(send_all)
            last = max(answer["height"] for answer in sent.values())
            got = {name: await read_until(ws, block_after(last)) for name, ws in sockets.items()}
            for ws in sockets.values():
                await ws.close()
            return sent, got

    sent, got = asyncio.run(main())
    assert all(answer["result"]["code"] == 0 for answer in sent.values()), sent
    hashes = {name: answer["hash"] for name, answer in sent.items()}

    def txs(name: str) -> set[str]:
        return {m["hash"] for m in got[name] if m["kind"] == "tx"}

    def events(name: str) -> list[dict]:
        return [m for m in got[name] if m["kind"] == "event"]

    # by proposal: the propose and the vote of proposal `first`, nothing of the second proposal
    by_proposal = events("proposal")
    assert all(attrs(e).get("proposal_id") == str(first) for e in by_proposal)
    assert {attrs(e).get("action") for e in by_proposal} >= {"propose", "vote"}
    assert {e["tx_hash"] for e in by_proposal} == {hashes["p1"], hashes["vote"]}
    assert txs("proposal") == set()                                  # kinds: txs were not asked for

    # by contract: every voting tx, each event from the voting contract, and not the bank send
    assert txs("contract") == {hashes["p1"], hashes["p2"], hashes["vote"]}
    assert events("contract") and all(attrs(e)["_contract_address"] == voting for e in events("contract"))
    for message in got["contract"]:
        if message["kind"] == "tx":
            assert any(attrs(e).get("_contract_address") == voting for e in message["events"])

    # by event type: the send's transfer, none of the voting txs
    assert hashes["send"] in txs("type") and not txs("type") & {hashes["p1"], hashes["p2"], hashes["vote"]}
    assert events("type") and all(e["type"] == "transfer" for e in events("type"))

    # blocks always pass a filter: each socket saw every height up to the last tx's
    for name in got:
        blocks = [m["height"] for m in got[name] if m["kind"] == "block"]
        assert blocks == list(range(blocks[0], blocks[-1] + 1))


BAD_MESSAGES = [
    ("nope", "invalid_json"),
    ("[" * 20_000, "invalid_json"),                                   # a nesting bomb
    ("[1]", "invalid_request"),
    ('{"subscribe": []}', "invalid_request"),
    ('{"subscribe": {}, "and": 1}', "invalid_request"),
    ('{"subscribe": {"colour": "red"}}', "invalid_request"),
    ('{"subscribe": {"kinds": ["blocks"]}}', "invalid_kinds"),
    ('{"subscribe": {"kinds": []}}', "invalid_kinds"),
    ('{"subscribe": {"kinds": "block"}}', "invalid_kinds"),
    ('{"subscribe": {"contract": "cosmos1notours"}}', "invalid_address"),
    ('{"subscribe": {"contract": 5}}', "invalid_address"),
    ('{"subscribe": {"event_type": ""}}', "invalid_event_type"),
    ('{"subscribe": {"event_type": "' + "w" * 200 + '"}}', "invalid_event_type"),
    ('{"subscribe": {"proposal_id": -1}}', "invalid_proposal_id"),
    ('{"subscribe": {"proposal_id": "1"}}', "invalid_proposal_id"),
    ('{"subscribe": {"proposal_id": 1.5}}', "invalid_proposal_id"),
    ('{"subscribe": {"from_height": 0}}', "invalid_from_height"),
    ('{"subscribe": {"from_height": true}}', "invalid_from_height"),
    ('{"subscribe": {"from_height": 100000000000000000000000}}', "invalid_from_height"),
    ("x" * (100 * 1024), "message_too_large"),
    ('{"subscribe": {"event_type": "' + "é" * 40_000 + '"}}', "message_too_large"),   # 80 KB in UTF-8
]


def test_bad_subscribe_messages_get_the_error_shape_and_keep_the_socket(node: NodeProcess):
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(node.ws_url)
            for text, code in BAD_MESSAGES:
                await ws.send_str(text)
                answer = await receive_json(ws)
                assert set(answer) == {"error"} and answer["error"]["code"] == code, (text[:60], answer)
                assert len(answer["error"]["message"]) > 10
            await ws.send_bytes(b"\x00\x01binary")
            assert (await receive_json(ws))["error"]["code"] == "invalid_request"

            await ws.send_str(json.dumps({"subscribe": {"kinds": ["block"]}}))   # the same socket still works
            ack = await receive_json(ws)
            assert ack["subscribed"]["kinds"] == ["block"]
            await ws.send_str(json.dumps({"subscribe": {"kinds": ["tx"]}}))
            messages = await read_until(ws, lambda m: "error" in m)
            assert messages[-1]["error"]["code"] == "already_subscribed"
            block = await receive_json(ws)                                       # and the stream goes on
            assert block["kind"] == "block" and block["height"] > ack["subscribed"]["latest_height"]
            await ws.close()

    asyncio.run(main())


def test_a_plain_get_is_told_to_use_a_websocket(node: NodeProcess):
    status, _, body = node.get("/events")
    assert status == 400 and json.loads(body)["error"]["code"] == "websocket_required"


def wait_for_no_subscribers(node: NodeProcess) -> None:
    """Sockets of earlier tests are released by the node shortly after they close."""
    deadline = time.monotonic() + WAIT_S
    while node.metric("conclave_event_subscribers") != 0:
        assert time.monotonic() < deadline, "event sockets of earlier tests are still open"
        time.sleep(0.05)


def test_too_many_subscribers_from_one_address_are_refused(node: NodeProcess):
    wait_for_no_subscribers(node)
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": base64.b64encode(b"0123456789abcdef").decode()}

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            sockets = [await session.ws_connect(node.ws_url) for _ in range(MAX_SUBSCRIBERS_PER_IP)]
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(node.ws_url)
            assert refused.value.status == 429
            async with session.get(node.ws_url, headers=upgrade) as response:
                assert response.status == 429
                assert (await response.json())["error"]["code"] == "too_many_subscribers"
            for ws in sockets[1:]:                  # the open ones still serve
                await ws.send_str('{"subscribe": {"kinds": ["block"]}}')
                assert "subscribed" in await receive_json(ws)
            await sockets[0].close()
            deadline = asyncio.get_running_loop().time() + WAIT_S
            while True:                             # its slot is free once the node has released it
                try:
                    sockets[0] = await session.ws_connect(node.ws_url)
                    break
                except aiohttp.WSServerHandshakeError:
                    assert asyncio.get_running_loop().time() < deadline, "a closed socket's slot never came back"
                    await asyncio.sleep(0.05)
            for ws in sockets:
                await ws.close()

    asyncio.run(main())


def test_a_client_that_never_reads_is_disconnected_while_the_chain_keeps_committing(node: NodeProcess,
                                                                                   contracts: dict[str, str]):
    # a ~0.5 MB tx (it fails for want of gas, but it is in a block): its message alone outgrows the
    # socket buffers, so the stalled client's queue starts filling at once
    big = node.send(devnet_key("member", 3), Execute(contracts["voting"], {"junk": "x" * 400_000}, ()))
    kicked_before = node.metric("conclave_event_slow_disconnects_total")
    client = RawWebSocket(node.port)
    try:
        client.send_text(json.dumps({"subscribe": {"from_height": big["height"]}}))
        start = node.height()
        deadline = time.monotonic() + WAIT_S * 2
        while node.metric("conclave_event_slow_disconnects_total") == kicked_before:
            assert time.monotonic() < deadline, "the stalled client was never disconnected"
            time.sleep(0.1)
        kicked_at = node.height()
        assert kicked_at > start                     # blocks kept coming while the client did not read
        node.wait_height(kicked_at + 2, WAIT_S)      # and keep coming after

        texts, code, reason = client.read_until_close()
        assert code == 1008, (code, reason)
        assert reason == f"slow consumer: resume with from_height={big['height']}"
        assert "subscribed" in json.loads(texts[0])
        assert all(json.loads(text)["height"] == big["height"] for text in texts[1:])
    finally:
        client.close()
    status, _, body = node.get("/healthz")
    assert status == 200, body
