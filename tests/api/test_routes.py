"""Every route's happy path on a real node with real chain data: blocks with their commit, txs
found by sender and by contract, codes and contracts, raw state whose Merkle proof verifies
against the block's app hash, proposals with filters, tally and votes, the circle, PoE points,
validators, and the sign-doc route driving a submission from nothing but JSON and ed25519."""
from __future__ import annotations

import base64
import hashlib
import json

from chain.app.tx import Send, TxBody, sign_doc
from chain.codec import canonical_json
from chain.crypto.keys import verify
from chain.store import Proof, verify_proof
from api.node_process import member_key


def test_status_and_blocks_with_commit_and_results(node, chain):
    status = node.client.status()
    assert status["chain_id"] == "conclave-devnet" and status["catching_up"] is False
    assert len(status["app_hash"]) == 64 and status["validators"][0]["power"] > 0

    got = node.client.block(chain.send_height)
    assert got["height"] == chain.send_height and got["block"]["header"]["height"] == chain.send_height
    assert len(got["block"]["txs"]) == 1
    commit = got["commit"]
    assert commit["height"] == chain.send_height and commit["signatures"]
    following = node.client.block(chain.send_height + 1)
    # the next block carries the same decision as its last commit, and the state root after our block
    assert following["block"]["last_commit"]["block_hash"] == commit["block_hash"]
    results = node.client.block_results(chain.send_height)
    assert results == got["results"] and results["tx_results"][0]["code"] == 0
    assert following["block"]["header"]["app_hash"] == results["app_hash"]
    latest = node.client.block("latest")
    assert latest["height"] >= chain.send_height + 1


def test_tx_by_hash_and_search_by_sender_and_by_contract(node, chain):
    record = node.client.tx(chain.send_hash)
    assert record["height"] == chain.send_height and record["status"] == "committed"
    assert node.client.tx(chain.send_hash.lower())["hash"] == chain.send_hash

    m1 = member_key(1).address()
    mine = node.client.txs(sender=m1)
    assert mine["next"] is None and chain.send_hash in [t["hash"] for t in mine["txs"]]
    assert [t["height"] for t in mine["txs"]] == sorted((t["height"] for t in mine["txs"]), reverse=True)

    voting = node.client.txs(contract=chain.contracts["voting"])
    hashes = [t["hash"] for t in voting["txs"]]
    assert len(hashes) == 4 and set(chain.vote_hashes) <= set(hashes) and chain.send_hash not in hashes

    first = node.client.txs(contract=chain.contracts["voting"], limit=3)      # paging: 3, then 1
    assert len(first["txs"]) == 3 and first["next"] == first["txs"][-1]["hash"]
    rest = node.client.txs(contract=chain.contracts["voting"], limit=3, start_after=first["next"])
    assert [t["hash"] for t in first["txs"] + rest["txs"]] == hashes and rest["next"] is None


def test_account(node):
    account = node.client.account(member_key(1).address())
    assert account["sequence"] >= 2 and {c["denom"] for c in account["balances"]} >= {"ucnv"}


def test_codes_contracts_and_history(node, chain):
    codes = node.client.codes()
    assert [c["code_id"] for c in codes["codes"]] == list(range(1, 8)) and codes["next"] is None
    page = node.client.codes(limit=2, start_after=2)
    assert [c["code_id"] for c in page["codes"]] == [3, 4] and page["next"] == 4
    voting = node.client.contract(chain.contracts["voting"])
    code = node.client.code(voting["code_id"])
    assert len(code["checksum"]) == 64 and code["size"] > 0 and voting["label"] == "governance"
    assert node.client.code_contracts(voting["code_id"])["contracts"] == [chain.contracts["voting"]]
    assert node.client.genesis_contracts() == chain.contracts
    history = node.client.contract_history(chain.contracts["voting"])
    assert [(e["operation"], e["code_id"], e["seq"]) for e in history["entries"]] == [("init", voting["code_id"], 1)]
    assert history["entries"][0]["msg"]["electorate"] == chain.contracts["membership"]


def test_raw_state_proof_verifies_against_the_block_app_hash(node, chain):
    voting = chain.contracts["voting"]
    height = chain.send_height
    raw = node.client.raw_state(voting, b"config", height=height)
    assert raw["height"] == height and raw["key"] == b"config".hex()
    value = base64.b64decode(raw["value"])
    assert json.loads(value)["electorate"] == chain.contracts["membership"]
    app_hash = bytes.fromhex(node.client.block_results(height)["app_hash"])
    assert raw["app_hash"] == app_hash.hex()
    assert app_hash.hex() == node.client.block(height + 1)["block"]["header"]["app_hash"]
    proof = Proof.from_json(raw["proof"])
    store_key = bytes.fromhex(raw["store_key"])
    assert store_key.endswith(b"config") and verify_proof(app_hash, store_key, value, proof)
    assert not verify_proof(app_hash, store_key, value + b" ", proof)

    # the proposal count changed after the send's block: an older height proves the older value
    count_now = node.client.raw_state(voting, b"proposal_count")
    assert json.loads(base64.b64decode(count_now["value"])) == chain.passed_proposal
    absent = node.client.raw_state(voting, b"no such key", height=height)
    assert absent["value"] is None
    assert verify_proof(app_hash, bytes.fromhex(absent["store_key"]), None, Proof.from_json(absent["proof"]))


def test_smart_query_get_and_post(node, chain):
    voting = chain.contracts["voting"]
    assert node.client.smart(voting, {"rules": {}})["threshold"] == "0.51"
    msg = base64.b64encode(b'{"rules": {}}').decode()
    from api.node_process import http
    status, answer, _ = http(f"{node.url}/contracts/{voting}/smart?msg={msg}")
    assert status == 200 and answer["data"]["threshold"] == "0.51"


def test_proposals_filters_detail_tally_and_votes(node, chain):
    every = node.client.proposals()
    assert [p["id"] for p in every["proposals"]] == [chain.passed_proposal, chain.open_proposal]
    assert every["next"] is None
    ascending = node.client.proposals(order="asc")
    assert [p["id"] for p in ascending["proposals"]] == [chain.open_proposal, chain.passed_proposal]
    assert [p["id"] for p in node.client.proposals(status="open")["proposals"]] == [chain.open_proposal]
    assert [p["id"] for p in node.client.proposals(status="passed")["proposals"]] == [chain.passed_proposal]
    assert node.client.proposals(status="rejected")["proposals"] == []
    by_m2 = node.client.proposals(proposer=member_key(2).address())
    assert [p["id"] for p in by_m2["proposals"]] == [chain.passed_proposal]
    first = node.client.proposals(limit=1)
    assert first["next"] == chain.passed_proposal
    assert [p["id"] for p in node.client.proposals(limit=1, start_after=first["next"])["proposals"]] == \
        [chain.open_proposal]

    detail = node.client.proposal(chain.open_proposal)
    assert detail["proposal"]["title"] == "stays open"
    assert (detail["tally"]["yes"], detail["tally"]["no"], detail["tally"]["status"]) == (1, 1, "open")
    votes = node.client.votes(chain.open_proposal)
    assert sorted((v["voter"], v["vote"]) for v in votes["votes"]) == sorted(
        [(member_key(1).address(), "yes"), (member_key(2).address(), "no")])
    one = node.client.votes(chain.open_proposal, limit=1)
    assert len(one["votes"]) == 1 and one["next"] == one["votes"][0]["voter"]
    assert len(node.client.votes(chain.open_proposal, limit=1, start_after=one["next"])["votes"]) == 1


def test_circle_admins_points_and_validators(node):
    members = node.client.circle_members()
    addresses = {m["addr"] for m in members["members"]}
    assert {member_key(n).address() for n in (1, 2, 3)} <= addresses
    assert {m["status"] for m in members["members"]} == {"voting"} and members["members"][0]["escrow"]
    one = node.client.circle_member(member_key(1).address())
    assert one["status"] == "voting" and int(one["escrow"]) > 0
    stranger = node.client.circle_member(member_key(9).address())
    assert stranger["status"] is None
    assert node.client.admins()["admins"]

    validators = node.client.validators()
    operator = validators["active"][0]["operator"]
    assert validators["consensus"][0]["pubkey"] == validators["active"][0]["validator_pubkey"]["ed25519"]
    assert validators["simulated_next"] and validators["jailed"] == [] and validators["epoch"]["epoch_length"] > 0
    assert node.client.jailed_validators() == {"jailed": [], "next": None}
    points = node.client.points(operator)
    assert points["poe"] > 0 and points["engagement"] > 0 and points["stake"] > 0 and points["staked"]["amount"]
    assert [m["addr"] for m in node.client.poe_points()["members"]] == [operator]
    assert node.client.engagement_points()["members"][0]["points"] == points["engagement"]
    assert node.client.stake_points()["members"][0]["points"] == points["stake"]


def test_sign_doc_gives_the_bytes_a_client_signs_and_the_assembled_tx_commits(node):
    """A client with only JSON and ed25519: ask for the sign bytes, sign, assemble, submit."""
    key, to = member_key(3), member_key(1).address()
    sequence = node.client.account(key.address())["sequence"]
    body = {"chain_id": "conclave-devnet", "pubkey": base64.b64encode(key.pubkey).decode(), "sequence": sequence,
            "gas_limit": 200000, "fee": [], "msgs": [{"send": {"to_address": to,
                                                               "amount": [{"denom": "ucnv", "amount": "5"}]}}],
            "memo": "signed from the sign doc"}
    doc = node.client.sign_doc(body)
    sign_bytes = base64.b64decode(doc["sign_bytes"])
    assert sign_bytes == canonical_json(body) == sign_doc(TxBody(
        "conclave-devnet", key.pubkey, sequence, 200000, (), (Send(to, (("ucnv", 5),)),), "signed from the sign doc"))
    assert doc["sign_bytes_sha256"] == hashlib.sha256(sign_bytes).hexdigest() and doc["signer"] == key.address()
    assert node.client.sign_doc({"body": body}) == doc

    signature = key.sign(sign_bytes)
    assert verify(key.pubkey, sign_bytes, signature)
    tx = canonical_json({"body": body, "signature": base64.b64encode(signature).decode()})
    answer = node.client.submit_tx(tx, wait_commit=True)
    assert answer["result"]["code"] == 0 and answer["hash"] == hashlib.sha256(tx).hexdigest().upper()


def test_no_cors_headers_and_json_everywhere(node):
    from api.node_process import http
    status, body, headers = http(node.url + "/status", headers={"Origin": "https://evil.example"})
    assert status == 200 and body["height"] >= 1
    assert not [h for h in headers if h.lower().startswith("access-control-")]
    status, body, headers = http(node.url + "/status", method="OPTIONS",
                                 headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert status == 405 and body["error"]["code"] == "method_not_allowed"
    assert not [h for h in headers if h.lower().startswith("access-control-")]
