"""/openapi.json matches the routes: every route the application serves is documented, every
documented operation is routed, the document is valid OpenAPI 3.1, the answers of real requests
match their documented schemas, and a property-based run of generated requests (hostile values
included) against the live node gets no 5xx and the error shape on every refusal."""
from __future__ import annotations

import json
import shutil
import urllib.parse
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from openapi_spec_validator import validate as validate_openapi

from chain.api import openapi, routes_chain, routes_contracts, routes_gov, routes_txs
from chain.api.server import make_app
from chain.node import Node
from support import devnet_genesis, make_validator_home
from api.node_process import http, member_key

METHODS = ("get", "post", "put", "patch", "delete")
OUR_MODULES = (routes_chain, routes_txs, routes_contracts, routes_gov, openapi)


@pytest.fixture(scope="module")
def document(node) -> dict[str, Any]:
    status, doc, headers = http(node.url + "/openapi.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    return doc


@pytest.fixture(scope="module")
def served_routes(node, tmp_path_factory) -> set[tuple[str, str]]:
    """(METHOD, path template) of every route make_app registers, on a real Node of the same chain."""
    home = make_validator_home(tmp_path_factory.mktemp("routes-node"), devnet_genesis(validators=1)[0])
    shutil.copytree(node.home / "wasm", home / "wasm")     # the live node's compiled modules: no recompiling
    local = Node(home)
    try:
        app = make_app(local)
        return {(route.method, route.resource.canonical) for route in app.router.routes()
                if route.method != "HEAD"}
    finally:
        local.close()


def test_every_route_is_documented_and_every_documented_route_exists(document, served_routes):
    documented = {(method.upper(), path) for path, ops in document["paths"].items()
                  for method in ops if method in METHODS}
    assert served_routes - documented == set(), "routes without documentation (add them to OPENAPI_PATHS)"
    assert documented - served_routes == set(), "documented routes that nothing serves"


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate_openapi(document)
    ids = [op["operationId"] for ops in document["paths"].values() for m, op in ops.items() if m in METHODS]
    assert len(ids) == len(set(ids)), "operationIds are unique"
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            if method not in METHODS:
                continue
            assert op.get("summary"), (method, path)
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == {part[1:-1] for part in path.split("/") if part.startswith("{")}, (method, path)


def _examples(node, chain) -> dict[tuple[str, str], str]:
    """(method, documented path) -> a concrete URL path with real data, for our own GET routes."""
    voting, m1 = chain.contracts["voting"], member_key(1).address()
    operator = node.client.validators()["active"][0]["operator"]
    smart = urllib.parse.quote("eyJydWxlcyI6e319")     # {"rules":{}}
    return {
        ("get", "/status"): "/status",
        ("get", "/blocks/{height}"): "/blocks/2",
        ("get", "/blocks/{height}/results"): f"/blocks/{chain.send_height}/results",
        ("get", "/accounts/{address}"): f"/accounts/{m1}",
        ("get", "/txs"): f"/txs?sender={m1}&limit=1",
        ("get", "/txs/{hash}"): f"/txs/{chain.send_hash}",
        ("get", "/codes"): "/codes?limit=3",
        ("get", "/codes/{code_id}"): "/codes/1",
        ("get", "/codes/{code_id}/contracts"): "/codes/3/contracts",
        ("get", "/contracts/{address}"): f"/contracts/{voting}",
        ("get", "/contracts/{address}/history"): f"/contracts/{voting}/history",
        ("get", "/contracts/{address}/raw/{key}"): f"/contracts/{voting}/raw/{b'config'.hex()}?height=2",
        ("get", "/contracts/{address}/smart"): f"/contracts/{voting}/smart?msg={smart}",
        ("get", "/genesis/contracts"): "/genesis/contracts",
        ("get", "/gov/proposals"): "/gov/proposals?order=asc",
        ("get", "/gov/proposals/{proposal_id}"): f"/gov/proposals/{chain.open_proposal}",
        ("get", "/gov/proposals/{proposal_id}/votes"): f"/gov/proposals/{chain.open_proposal}/votes",
        ("get", "/circle/members"): "/circle/members?limit=2",
        ("get", "/circle/members/{address}"): f"/circle/members/{m1}",
        ("get", "/circle/admins"): "/circle/admins",
        ("get", "/poe/points"): "/poe/points",
        ("get", "/poe/engagement"): "/poe/engagement",
        ("get", "/poe/stake"): "/poe/stake",
        ("get", "/poe/points/{address}"): f"/poe/points/{operator}",
        ("get", "/validators"): "/validators",
        ("get", "/validators/jailed"): "/validators/jailed",
        ("get", "/openapi.json"): "/openapi.json",
    }


def _schema(document: dict[str, Any], op: dict[str, Any], status: str) -> dict[str, Any]:
    response = op["responses"].get(status) or op["responses"]["default"]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    # the document's components ride along so "#/components/..." references resolve
    return {**response["content"]["application/json"]["schema"], "components": document["components"]}


def test_real_answers_match_their_documented_schemas(node, chain, document):
    examples = _examples(node, chain)
    ours = {(m, p) for module in OUR_MODULES for p, ops in module.OPENAPI_PATHS.items() for m in ops if m == "get"}
    assert ours == set(examples), "each of our GET routes has an example here"
    for (method, path), url in examples.items():
        status, body, _ = http(node.url + url)
        assert status == 200, (url, body)
        jsonschema.validate(body, _schema(document, document["paths"][path][method], "200"))
    status, body, _ = http(node.url + "/blocks/abc")
    jsonschema.validate(body, _schema(document, document["paths"]["/blocks/{height}"]["get"], "400"))


# --- generated requests ------------------------------------------------------------------------
HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "-1", "0", "00", "1e3", "1.5", "18446744073709551616", "99999999999999999999999",
                     "%", "%00", "..", "../status", "null", "true", "[]", "{}", "ä", "x" * 300, "latest",
                     "conclave1", "cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a"]))


def _value(schema: dict[str, Any], known: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """Values for one parameter: mostly what its schema asks for (so requests get past the checks), often hostile."""
    options: list[st.SearchStrategy[str]] = []
    for sub in schema.get("anyOf", [schema]):
        if "enum" in sub:
            options.append(st.sampled_from([str(v) for v in sub["enum"]]))
        elif "const" in sub:
            options.append(st.just(str(sub["const"])))
        elif sub.get("type") == "integer":
            low = sub.get("minimum", 0)
            options.append(st.integers(low, sub.get("maximum", 10)).map(str))
            options.append(st.integers(0, 2**70).map(str))
        elif "bech32" in sub.get("description", ""):
            options.append(st.sampled_from(known["address"]))
        elif sub.get("pattern", "").startswith("^[0-9a-fA-F]{64}"):
            options.append(st.sampled_from(known["hash"]) | st.binary(min_size=32, max_size=32).map(bytes.hex))
        elif sub.get("contentEncoding") == "base64":
            options.append(st.sampled_from(["eyJydWxlcyI6e319", "e30=", "bm90IGpzb24="]))
        elif "pattern" in sub:
            options.append(st.binary(max_size=12).map(bytes.hex))
    return st.one_of(*options, HOSTILE) if options else HOSTILE


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                      max_size=4), max_leaves=12)
BODY_FIELDS = ("chain_id", "pubkey", "sequence", "gas_limit", "fee", "msgs", "memo", "tx", "body")


def _body() -> st.SearchStrategy[bytes]:
    shaped = st.dictionaries(st.sampled_from(BODY_FIELDS), JSON_VALUES, max_size=8)
    return st.one_of(
        st.binary(max_size=200),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        shaped.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=120).map(lambda b: json.dumps({"tx": __import__("base64").b64encode(b).decode()}).encode()),
        st.just(b'{"a":' * 5000 + b"1" + b"}" * 5000),
    )


def test_generated_requests_never_5xx_and_refusals_have_the_error_shape(node, chain, document):
    known = {"address": [*chain.contracts.values(), member_key(1).address(), member_key(9).address()],
             "hash": [chain.send_hash, *chain.vote_hashes]}
    operations = sorted((path, method) for path, ops in document["paths"].items() for method in ops if method in METHODS)

    @settings(max_examples=250, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def run(data) -> None:
        path, method = data.draw(st.sampled_from(operations), label="operation")
        op = document["paths"][path][method]
        url, query = path, []
        for param in op.get("parameters", []):
            if param["in"] == "path":
                value = data.draw(_value(param["schema"], known), label=param["name"])
                url = url.replace("{" + param["name"] + "}", urllib.parse.quote(value, safe=""))
            elif data.draw(st.booleans(), label=f"send {param['name']}"):
                query.append((param["name"], data.draw(_value(param["schema"], known), label=param["name"])))
        if data.draw(st.integers(0, 9), label="unknown parameter") == 0:
            query.append(("surprise", "1"))
        if query:
            url += "?" + urllib.parse.urlencode(query)
        body = data.draw(_body(), label="body") if "requestBody" in op else None
        status, answer, _ = http(node.url + url, method.upper(), body)
        assert status < 500, (method, url, status, answer)
        if status >= 400:
            assert isinstance(answer, dict) and set(answer) == {"error"}, (method, url, status, answer)
            assert isinstance(answer["error"]["code"], str) and answer["error"]["message"], answer

    run()
    assert node.client.status()["height"] >= 1      # and it still serves
