"""POST /gov/code-proposals and its companions against a real single-validator node.

A bad file, a non-admin, a malformed or mis-signed tx are refused at once with the reason and
nothing spent (the proposer's sequence stays, no proposal opens, no code is held); an admin's
proposal opens in the JSON and the multipart forms and the answer links it; the size limit is the
governance parameter's. Tests run in file order on one node: later ones see earlier proposals.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chain.app.tx import Execute, ProposeCode, Send, TxBody, encode_tx, sign_doc
from chain.vm.validation import MAX_WASM_SIZE
from api_gov.gov_support import GovNode, member, multipart, outsider
from support import artifact

pytestmark = pytest.mark.timeout(300)

V1 = artifact("test_counter")
V2 = artifact("test_counter_v2")
REFLECT = artifact("test_reflect")
HOSTILE = artifact("test_hostile")
GARBAGE = b"\x00asm\x01\x00\x00\x00 this is not a module"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def node(gov_nodes) -> GovNode:
    return gov_nodes["http"]


def assert_error(answer, status: int, code: str, *fragments: str) -> None:
    assert answer.status == status, answer.body
    assert set(answer.body) == {"error"} and answer.body["error"]["code"] == code, answer.body
    for fragment in fragments:
        assert fragment in answer.body["error"]["message"], answer.body["error"]["message"]


# --- POST /gov/code-proposals/check -----------------------------------------------------------------

def test_check_accepts_a_good_file_in_every_form(node):
    body, kind = multipart([("wasm", V1, "test_counter.wasm")])
    answers = [node.post("/gov/code-proposals/check", body, kind),
               node.post_json("/gov/code-proposals/check", {"wasm": b64(V1)}),
               node.post("/gov/code-proposals/check", V1, "application/wasm"),
               node.post("/gov/code-proposals/check", V1, "application/octet-stream")]
    for answer in answers:
        assert answer.status == 200 and answer.body["ok"] is True, answer.body
        assert answer.body["checksum"] == sha(V1) and answer.body["size"] == len(V1)
        assert "migrate" in answer.body["entry_points"] and isinstance(answer.body["capabilities"], list)
        assert answer.body["stored_code_id"] is None and answer.body["pending_in_proposal"] is None
    zipped = gzip.compress(V1, mtime=0)
    answer = node.post("/gov/code-proposals/check", zipped, "application/wasm")
    assert answer.body["ok"] is True and answer.body["checksum"] == sha(V1)      # the inflated code's checksum
    assert answer.body["size"] == len(zipped) and answer.body["upload_checksum"] == sha(zipped)
    genesis_code = node.post("/gov/code-proposals/check", artifact("voting"), "application/wasm").body
    assert genesis_code["ok"] is True and genesis_code["stored_code_id"] is not None


@pytest.mark.parametrize("wasm,reason", [
    (b"", "empty"),
    (GARBAGE, "invalid wasm"),
    (b"MZ\x90\x00 an exe", "invalid wasm"),
    (b"\x00asm\x01\x00\x00\x00" + b"\x00" * MAX_WASM_SIZE, "the limit is 819200 bytes"),
    (gzip.compress(b"\x00" * (5 << 20)), "invalid wasm"),                # a gzip bomb
])
def test_check_gives_the_reason_for_a_bad_file(node, wasm, reason):
    answer = node.post("/gov/code-proposals/check", wasm, "application/wasm")
    assert answer.status == 200 and answer.body["ok"] is False, answer.body
    assert reason in answer.body["error"] and answer.body["size"] == len(wasm)


@pytest.mark.parametrize("body,kind,status,code", [
    (b"{}", None, 415, "unsupported_media_type"),
    (b"hello", "text/plain", 415, "unsupported_media_type"),
    (b"{not json", "application/json", 400, "invalid_json"),
    (b'{"wasm": "AAAA", "extra": 1}', "application/json", 400, "invalid_request"),
    (b'{"wasm": 5}', "application/json", 400, "invalid_request"),
    (b'{"wasm": "not base64!"}', "application/json", 400, "invalid_base64"),
    (b"[]", "application/json", 400, "invalid_request"),
    (b"garbage without any boundary", "multipart/form-data; boundary=xyz", 400, "invalid_multipart"),
    (b"", "multipart/form-data", 400, "invalid_multipart"),
    (b'--xyz\r\nContent-Disposition: form-data; name="wasm"\r\n\r\n\x00asm', "multipart/form-data; boundary=xyz",
     400, "invalid_multipart"),                                             # no closing boundary
    (b"--xyz\r\n\r\nno headers\r\n--xyz--\r\n", "multipart/form-data; boundary=xyz", 400, "invalid_multipart"),
    (b"--xyz\r\nContent-Type: multipart/mixed; boundary=abc\r\n\r\n--abc--\r\n--xyz--\r\n",
     "multipart/form-data; boundary=xyz", 400, "invalid_multipart"),       # a nested multipart
])
def test_check_refuses_malformed_requests(node, body, kind, status, code):
    assert_error(node.post("/gov/code-proposals/check", body, kind), status, code)


def test_check_refuses_bad_multipart_parts(node):
    body, kind = multipart([("file", V1, "x.wasm")])
    assert_error(node.post("/gov/code-proposals/check", body, kind), 400, "invalid_multipart", "unexpected part")
    body, kind = multipart([("wasm", V1, "a.wasm"), ("wasm", V1, "b.wasm")])
    assert_error(node.post("/gov/code-proposals/check", body, kind), 400, "invalid_multipart", "twice")
    body, kind = multipart([])
    assert_error(node.post("/gov/code-proposals/check", body, kind), 400, "invalid_request", "wasm part is missing")
    body, kind = multipart([("wasm", b"\x00" * (MAX_WASM_SIZE + 2), "big.wasm")])
    assert_error(node.post("/gov/code-proposals/check", body, kind), 413, "body_too_large")


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/gov/code-proposals", "/gov/code-proposals/check"]),
       kind=st.sampled_from([None, "application/json", "application/wasm", "multipart/form-data; boundary=b",
                             "multipart/form-data", "text/plain"]),
       body=st.binary(max_size=512) | st.builds(lambda tail: b"--b\r\nContent-Disposition: form-data; name=\"signed_tx\""
                                                             b"\r\n\r\n" + tail, st.binary(max_size=256)))
def test_hostile_bodies_are_refused_with_the_error_shape(node, path, kind, body):
    answer = node.post(path, body, kind)
    assert answer.status < 500, answer.body
    if answer.status >= 400:
        assert set(answer.body) == {"error"} and {"code", "message"} <= set(answer.body["error"])


# --- POST /gov/code-proposals: refusals -------------------------------------------------------------

def test_bad_wasm_in_a_signed_proposal_is_refused_at_once_with_the_reason(node):
    before = {1: node.sequence(member(1))}
    tx = node.propose_tx(member(1), GARBAGE, "refused")
    answer = node.post_json("/gov/code-proposals?wait=commit", {"tx": b64(tx.raw)})
    assert_error(answer, 422, "invalid_wasm", "code proposal refused: invalid wasm")
    body, kind = multipart([("signed_tx", b64(tx.raw).encode(), None), ("wasm", GARBAGE, "bad.wasm")])
    assert_error(node.post("/gov/code-proposals", body, kind), 422, "invalid_wasm", "invalid wasm")
    assert node.proposals() == [] and node.client.pending_code() == []
    assert node.sequence(member(1)) == before[1]


def test_an_oversized_wasm_is_refused_with_the_limit(node):
    key = member(1)
    big = b"\x00asm\x01\x00\x00\x00" + b"\x01" * (MAX_WASM_SIZE + 100)
    body = TxBody(node.client.status()["chain_id"], key.pubkey, node.sequence(key), 5_000_000, (),
                  (ProposeCode(big, "refused", "too big", None),), "")
    raw = encode_tx(body, key.sign(sign_doc(body)))             # build_tx itself refuses such a tx
    answer = node.post_json("/gov/code-proposals", {"tx": b64(raw)})
    assert_error(answer, 422, "invalid_wasm", f"the wasm is {len(big)} bytes; the limit is {MAX_WASM_SIZE} bytes")
    form, kind = multipart([("signed_tx", b64(raw).encode(), None), ("wasm", big, "big.wasm")])
    assert_error(node.post("/gov/code-proposals", form, kind), 413, "body_too_large", "wasm part")
    assert_error(node.post_json("/gov/code-proposals", {"tx": "A" * (3 << 20)}), 413, "body_too_large")
    assert node.proposals() == []


@pytest.mark.parametrize("who,reason", [(2, "admins"), (3, "admins"), ("outsider", "members of the electorate")])
def test_a_non_admin_is_refused_at_once(node, who, reason):
    key = outsider() if who == "outsider" else member(who)
    before = node.sequence(key)
    tx = node.propose_tx(key, V1, "refused")
    answer = node.post_json("/gov/code-proposals?wait=commit", {"tx": b64(tx.raw)})
    assert_error(answer, 422, "proposal_refused", f"code proposal refused for {key.address('conclave')}")
    assert reason in answer.body["error"]["message"]
    assert node.sequence(key) == before and node.proposals() == [] and node.client.pending_code() == []


def test_txs_that_are_not_a_signed_code_proposal_are_refused(node):
    key = member(1)
    chain_id = node.client.status()["chain_id"]
    send = node.sign(key, [Send(member(2).address("conclave"), (("ucnv", 1),))])
    assert_error(node.post_json("/gov/code-proposals", {"tx": b64(send.raw)}), 400, "not_a_code_proposal",
                 "send other txs to POST /txs")
    two = node.sign(key, [ProposeCode(V1, "a", "", None), Execute(node.voting, {"x": {}}, ())])
    assert_error(node.post_json("/gov/code-proposals", {"tx": b64(two.raw)}), 400, "not_a_code_proposal")
    foreign = node.sign(key, [ProposeCode(V1, "a", "", None)], chain_id="another-chain")
    assert_error(node.post_json("/gov/code-proposals", {"tx": b64(foreign.raw)}), 400, "wrong_chain", chain_id)
    good = node.propose_tx(key, V1, "x")
    doc = json.loads(good.raw)
    doc["signature"] = b64(bytes(64))
    forged = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    assert_error(node.post_json("/gov/code-proposals", {"tx": b64(forged)}), 400, "invalid_signature")
    spaced = json.dumps(json.loads(good.raw), indent=1).encode()
    assert_error(node.post_json("/gov/code-proposals", {"tx": b64(spaced)}), 400, "invalid_tx", "canonical")
    assert_error(node.post_json("/gov/code-proposals", {"tx": "%%%"}), 400, "invalid_base64")
    assert_error(node.post_json("/gov/code-proposals", {"tx": b64(b"\xff\xfe")}), 400, "invalid_tx")
    assert_error(node.post_json("/gov/code-proposals", {"signed": b64(good.raw)}), 400, "invalid_request")
    assert_error(node.post("/gov/code-proposals", good.raw, "application/octet-stream"), 415,
                 "unsupported_media_type")
    assert_error(node.post_json("/gov/code-proposals?wait=soon", {"tx": b64(good.raw)}), 400, "invalid_param")
    assert_error(node.post_json("/gov/code-proposals?block=1", {"tx": b64(good.raw)}), 400, "invalid_param")
    form, kind = multipart([("wasm", V1, "v1.wasm")])
    assert_error(node.post("/gov/code-proposals", form, kind), 400, "invalid_request", "signed_tx part is missing")
    assert node.proposals() == [] and node.sequence(key) == 0


def test_an_unknown_migrate_target_and_a_short_gas_limit_are_refused_at_once(node):
    nobody = member(3).address("conclave")
    tx = node.propose_tx(member(1), V2, "refused", migrate={"contract": nobody, "msg": {}})
    assert_error(node.post_json("/gov/code-proposals", {"tx": b64(tx.raw)}), 422, "proposal_refused",
                 "no such contract")
    tx = node.propose_tx(member(1), V2, "refused", gas=10_000)
    assert_error(node.post_json("/gov/code-proposals", {"tx": b64(tx.raw)}), 422, "proposal_refused", "gas")
    assert node.proposals() == [] and node.sequence(member(1)) == 0


def test_the_wasm_part_must_be_the_file_the_tx_proposes(node):
    tx = node.propose_tx(member(1), V1, "refused")
    form, kind = multipart([("signed_tx", b64(tx.raw).encode(), None), ("wasm", V2, "v2.wasm")])
    assert_error(node.post("/gov/code-proposals", form, kind), 400, "wasm_mismatch", sha(V2), sha(V1))
    assert node.proposals() == []


# --- POST /gov/code-proposals: an admin's proposals open ----------------------------------------------

def test_an_admin_proposal_in_multipart_opens_and_is_linked(node):
    tx = node.propose_tx(member(1), V1, "Counter v1")
    form, kind = multipart([("wasm", V1, "test_counter.wasm"), ("signed_tx", b64(tx.raw).encode() + b"\n", None)])
    answer = node.post("/gov/code-proposals?wait=commit", form, kind)
    assert answer.status == 200, answer.body
    proposal_id = answer.body["proposal_id"]
    assert answer.body == {"hash": tx.hash, "status": "committed", "height": answer.body["height"],
                           "proposal_id": proposal_id, "checksum": sha(V1), "gas_used": answer.body["gas_used"],
                           "links": {"proposal": f"/gov/proposals/{proposal_id}", "tx": f"/txs/{tx.hash}"}}
    proposal = node.client.smart(node.voting, {"proposal": {"proposal_id": proposal_id}})
    assert proposal["status"] == "open" and proposal["proposer"] == member(1).address("conclave")
    assert proposal["msgs"] == [{"custom": {"store_code": {"checksum": sha(V1)}}}]
    assert node.client.tx(tx.hash)["status"] == "committed"
    [pending] = node.client.pending_code()
    assert pending["checksum"] == sha(V1) and pending["proposal_id"] == proposal_id
    assert node.client.check_code(V1)["pending_in_proposal"] == proposal_id
    again = node.propose_tx(member(1), V1, "Counter v1 again")
    assert_error(node.post_json("/gov/code-proposals", {"tx": b64(again.raw)}), 422, "proposal_refused",
                 f"already pending in proposal {proposal_id}")


def test_an_admin_proposal_in_json_is_admitted_then_committed(node):
    tx = node.propose_tx(member(1), V2, "Counter v2 code")
    answer = node.post_json("/gov/code-proposals", {"tx": b64(tx.raw)})
    assert answer.status == 202, answer.body
    assert answer.body["status"] == "pending" and answer.body["proposal_id"] is None
    assert answer.body["links"] == {"tx": f"/txs/{tx.hash}"} and answer.body["simulated_gas"] > len(V2)
    node.wait_height(node.client.status()["height"] + 2)
    record = node.client.tx(tx.hash)
    assert record["status"] == "committed" and record["result"]["code"] == 0
    assert {p["checksum"] for p in node.client.pending_code()} == {sha(V1), sha(V2)}


def test_signed_tx_part_may_be_the_tx_json_itself(node):
    tx = node.propose_tx(member(1), REFLECT, "Reflect code")
    form, kind = multipart([("signed_tx", tx.raw, "tx.json")])
    answer = node.post("/gov/code-proposals?wait=commit", form, kind)
    assert answer.status == 200 and answer.body["checksum"] == sha(REFLECT), answer.body


def test_the_client_posts_a_proposal_and_members_pass_it(node):
    tx = node.propose_tx(member(1), HOSTILE, "Hostile code")
    answer = node.client.propose_code(tx.raw)
    proposal_id = answer["proposal_id"]
    node.commit(member(2), [Execute(node.voting, {"vote": {"proposal_id": proposal_id, "vote": "yes"}}, ())])
    result = node.commit(member(3), [Execute(node.voting, {"execute": {"proposal_id": proposal_id}}, ())])["result"]
    stored = [e for e in result["events"] if e["type"] == "store_code"]
    assert len(stored) == 1
    code_id = int(next(a["value"] for a in stored[0]["attributes"] if a["key"] == "code_id"))
    assert node.client.check_code(HOSTILE)["stored_code_id"] == code_id
    assert sha(HOSTILE) not in {p["checksum"] for p in node.client.pending_code()}


# --- the upgrade is visible through the API -----------------------------------------------------------

def test_pending_code_and_openapi_document_the_routes(node):
    assert all(set(p) == {"checksum", "size", "proposer", "expires_at", "proposal_id", "governance"}
               for p in node.client.pending_code())
    assert_error(node.get("/gov/pending-code?limit=3"), 400, "invalid_param")
    paths = node.client.openapi()["paths"]
    assert set(paths["/gov/code-proposals"]) == {"post"} and set(paths["/gov/code-proposals/check"]) == {"post"}
    assert "multipart/form-data" in paths["/gov/code-proposals"]["post"]["requestBody"]["content"]
    assert set(paths["/gov/pending-code"]) == {"get"}


# --- the size limit is governance's (last: it changes the chain's params) ---------------------------

def test_the_size_limit_is_the_governance_parameter(node):
    update = {"custom": {"update_params": {"max_code_proposal_bytes": 100_000}}}
    opened = node.commit(member(2), [Execute(node.voting, {"propose": {
        "title": "Smaller uploads", "description": "", "msgs": [update]}}, ())])["result"]
    proposal_id = next(int(a["value"]) for e in opened["events"] for a in e["attributes"] if a["key"] == "proposal_id")
    node.commit(member(3), [Execute(node.voting, {"vote": {"proposal_id": proposal_id, "vote": "yes"}}, ())])
    node.commit(member(3), [Execute(node.voting, {"execute": {"proposal_id": proposal_id}}, ())])
    group = artifact("group")
    tx = node.propose_tx(member(1), group, "refused", migrate={"contract": node.contracts["group"], "msg": {}})
    assert_error(node.post_json("/gov/code-proposals", {"tx": b64(tx.raw)}), 422, "invalid_wasm",
                 f"the wasm is {len(group)} bytes; the limit is 100000 bytes (param max_code_proposal_bytes")
    check = node.client.check_code(group)
    assert check["ok"] is False and "limit is 100000 bytes" in check["error"]
