"""Bad input on every route family is a 4xx with the error shape and a message that says what to
send; nothing makes the node answer 5xx or stop serving."""
from __future__ import annotations

import base64
import json

import pytest

from api.node_process import http, member_key

M1 = member_key(1).address()
ZERO_HASH = "00" * 32
GOOD_BODY = {"chain_id": "conclave-devnet", "pubkey": base64.b64encode(member_key(1).pubkey).decode(), "sequence": 0,
             "gas_limit": 200000, "fee": [], "msgs": [{"send": {"to_address": M1, "amount": [
                 {"denom": "ucnv", "amount": "1"}]}}], "memo": ""}


def _with(**changes) -> bytes:
    return json.dumps({**GOOD_BODY, **changes}).encode()


CASES = [
    # chain
    ("GET", "/status?verbose=1", None, 400, "invalid_param"),
    ("GET", "/blocks/abc", None, 400, "invalid_height"),
    ("GET", "/blocks/0", None, 400, "invalid_height"),
    ("GET", "/blocks/%EF%BC%91", None, 400, "invalid_height"),            # a fullwidth digit one
    ("GET", "/blocks/99999999999999999999999", None, 400, "invalid_height"),
    ("GET", "/blocks/999999999", None, 404, "not_found"),
    ("GET", "/blocks/999999999/results", None, 404, "not_found"),
    ("GET", "/accounts/cosmos1notours", None, 400, "invalid_address"),
    ("GET", "/accounts/" + "x" * 5000, None, 400, "invalid_address"),
    ("GET", "/accounts/" + M1.upper(), None, 400, "invalid_address"),
    # txs
    ("GET", "/txs", None, 400, "invalid_param"),
    ("GET", f"/txs?sender={M1}&contract={M1}", None, 400, "invalid_param"),
    ("GET", f"/txs?sender={M1}&sender={M1}", None, 400, "invalid_param"),
    ("GET", "/txs?sender=nobody", None, 400, "invalid_address"),
    ("GET", f"/txs?sender={M1}&limit=0", None, 400, "invalid_param"),
    ("GET", f"/txs?sender={M1}&limit=101", None, 400, "invalid_param"),
    ("GET", f"/txs?sender={M1}&limit=-5", None, 400, "invalid_param"),
    ("GET", f"/txs?sender={M1}&start_after={ZERO_HASH}", None, 400, "invalid_param"),
    ("GET", f"/txs?sender={M1}&start_after=zz", None, 400, "invalid_hash"),
    ("GET", "/txs/zz", None, 400, "invalid_hash"),
    ("GET", f"/txs/{ZERO_HASH}", None, 404, "not_found"),
    ("POST", "/txs?wait=soon", b'{"tx": "' + base64.b64encode(b"{}") + b'"}', 422, "tx_refused"),
    ("POST", "/txs?mode=sync", b'{"tx": "e30="}', 400, "invalid_param"),
    ("POST", "/txs", b"{not json", 400, "invalid_json"),
    ("POST", "/txs", b'{"tx": "' + b"A" * (3 * 1024 * 1024) + b'"}', 413, "body_too_large"),
    # sign-doc
    ("POST", "/txs/sign-doc", b"[]", 400, "invalid_request"),
    ("POST", "/txs/sign-doc", b"{", 400, "invalid_json"),
    ("POST", "/txs/sign-doc", _with(sequence=1.5), 400, "invalid_json"),
    ("POST", "/txs/sign-doc", b'{"sequence": NaN}', 400, "invalid_json"),
    ("POST", "/txs/sign-doc", _with(chain_id="another-chain"), 400, "wrong_chain"),
    ("POST", "/txs/sign-doc", _with(extra=1), 400, "invalid_tx"),
    ("POST", "/txs/sign-doc", _with(pubkey="AAAA"), 400, "invalid_tx"),
    ("POST", "/txs/sign-doc", _with(msgs=[]), 400, "invalid_tx"),
    ("POST", "/txs/sign-doc", _with(msgs=[{"store_code": {}}]), 400, "invalid_tx"),
    ("POST", "/txs/sign-doc", _with(memo="\ud800"), 400, "invalid_tx"),
    ("POST", "/txs/sign-doc", _with(sequence=2**64), 400, "invalid_tx"),
    ("POST", "/txs/sign-doc", b'{"body": ' * 3000 + b"1" + b"}" * 3000, 400, "invalid_json"),
    ("POST", "/txs/sign-doc", _with(private_key="never"), 400, "invalid_tx"),
    # contracts
    ("GET", "/codes?limit=51", None, 400, "invalid_param"),
    ("GET", "/codes?start_after=-1", None, 400, "invalid_param"),
    ("GET", "/codes/0", None, 400, "invalid_param"),
    ("GET", "/codes/99999", None, 404, "not_found"),
    ("GET", "/codes/99999/contracts", None, 404, "not_found"),
    ("GET", "/codes/1/contracts?start_after=" + "x" * 300, None, 400, "invalid_param"),
    ("GET", f"/contracts/{M1}", None, 404, "not_found"),
    ("GET", f"/contracts/{M1}/history", None, 404, "not_found"),
    ("GET", "/contracts/nope/history", None, 400, "invalid_address"),
    ("GET", "/contracts/{voting}/history?start_after=x", None, 400, "invalid_param"),
    ("GET", "/contracts/{voting}/raw/xyz", None, 400, "invalid_key"),
    ("GET", "/contracts/{voting}/raw/abc", None, 400, "invalid_key"),          # odd length
    ("GET", "/contracts/{voting}/raw/" + "ab" * 1025, None, 400, "invalid_key"),
    ("GET", "/contracts/{voting}/raw/00?height=0", None, 400, "invalid_height"),
    ("GET", "/contracts/{voting}/raw/00?height=999999999", None, 404, "not_found"),
    ("GET", "/contracts/{voting}/smart", None, 400, "invalid_request"),
    ("GET", "/contracts/{voting}/smart?msg=%%%", None, 400, "invalid_query"),
    ("POST", "/contracts/{voting}/smart", b"[1,2]", 400, "invalid_query"),
    ("POST", "/contracts/{voting}/smart", b'{"no_such_query": {}}', 400, "query_failed"),
    ("POST", f"/contracts/{M1}/smart", b'{"config": {}}', 400, "query_failed"),
    ("POST", "/contracts/{voting}/smart", b"[" * 100000 + b"]" * 100000, 400, "invalid_json"),
    # governance
    ("GET", "/gov/proposals?status=maybe", None, 400, "invalid_param"),
    ("GET", "/gov/proposals?order=sideways", None, 400, "invalid_param"),
    ("GET", "/gov/proposals?proposer=bad", None, 400, "invalid_address"),
    ("GET", "/gov/proposals?limit=31", None, 400, "invalid_param"),
    ("GET", "/gov/proposals?statu=open", None, 400, "invalid_param"),
    ("GET", "/gov/proposals/0", None, 400, "invalid_param"),
    ("GET", "/gov/proposals/abc", None, 400, "invalid_param"),
    ("GET", "/gov/proposals/999", None, 404, "not_found"),
    ("GET", "/gov/proposals/999/votes", None, 404, "not_found"),
    ("GET", "/gov/proposals/1/votes?start_after=bad", None, 400, "invalid_address"),
    ("GET", "/circle/members?start_after=bad", None, 400, "invalid_address"),
    ("GET", "/circle/members/bad", None, 400, "invalid_address"),
    ("GET", "/circle/admins?limit=x", None, 400, "invalid_param"),
    ("GET", "/poe/points/bad", None, 400, "invalid_address"),
    ("GET", "/poe/stake?limit=1000", None, 400, "invalid_param"),
    ("GET", "/validators?all=1", None, 400, "invalid_param"),
    ("GET", "/validators/jailed?start_after=bad", None, 400, "invalid_address"),
    # anywhere
    ("GET", "/nowhere", None, 404, "not_found"),
    ("DELETE", "/status", None, 405, "method_not_allowed"),
    ("PUT", "/gov/proposals", b"{}", 405, "method_not_allowed"),
]


@pytest.mark.parametrize("method,path,body,status,code", CASES)
def test_bad_input_is_a_4xx_with_the_error_shape(node, chain, method, path, body, status, code):
    path = path.replace("{voting}", chain.contracts["voting"])
    got_status, answer, headers = http(node.url + path, method, body)
    assert (got_status, (answer or {}).get("error", {}).get("code")) == (status, code), answer
    assert set(answer) == {"error"} and isinstance(answer["error"]["message"], str) and answer["error"]["message"]
    assert headers["Content-Type"].startswith("application/json")


def test_still_serving_after_the_bad_input(node):
    assert node.client.status()["height"] >= 1
