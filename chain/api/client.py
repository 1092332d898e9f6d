"""A small synchronous client of the node's HTTP API (urllib: the CLI and the TUI need no event loop).

    client = Client("http://127.0.0.1:1317")
    client.status()["height"]
    client.submit_tx(tx.raw, wait_commit=True)["result"]["code"]
    client.proposals(status="open")["proposals"]

One method per route (chain/api/server.py lists them; GET /openapi.json documents them). List
methods take ``limit`` and ``start_after`` and answer a page whose ``next`` is the following
page's ``start_after`` (None at the end). Errors come back as ApiClientError with the server's
error code and message, or code "unreachable" when no node answers.
"""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable

DEFAULT_NODE = "http://127.0.0.1:1317"
DEFAULT_TIMEOUT_S = 60.0
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
CONTRACT_PAGE = 30               # the genesis contracts' largest page: their lists (and routes over them) stop here


class ApiClientError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code


class Client:
    def __init__(self, url: str = DEFAULT_NODE, timeout: float = DEFAULT_TIMEOUT_S):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        """``query``'s None values are left out; the rest are sent as given (str() of each)."""
        if query:
            given = {k: str(v) for k, v in query.items() if v is not None}
            if given:
                path += "?" + urllib.parse.urlencode(given)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                raw = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read(MAX_RESPONSE_BYTES))["error"]
                raise ApiClientError(exc.code, str(error["code"]), str(error["message"])) from None
            except (ValueError, KeyError, TypeError, RecursionError):
                raise ApiClientError(exc.code, "http_error", f"{method} {path}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiClientError(0, "unreachable", f"no node answers at {self.url} ({reason}): "
                                 "start one with `conclave start` or pass --node URL") from None
        if len(raw) > MAX_RESPONSE_BYTES:
            raise ApiClientError(response.status, "bad_response",
                                 f"{method} {path}: the answer is larger than {MAX_RESPONSE_BYTES} bytes")
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            raise ApiClientError(response.status, "bad_response", f"{method} {path}: the answer is not JSON — is "
                                 f"{self.url} a Conclave node's API?") from None

    # --- chain ---------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return self.request("GET", "/status")

    def block(self, height: int | str = "latest") -> dict[str, Any]:
        """The block, the commit that decided it and its results; ``height`` may be "latest"."""
        return self.request("GET", f"/blocks/{_seg(height)}")

    def block_results(self, height: int | str = "latest") -> dict[str, Any]:
        return self.request("GET", f"/blocks/{_seg(height)}/results")

    def account(self, address: str) -> dict[str, Any]:
        return self.request("GET", f"/accounts/{_seg(address)}")

    # --- txs -----------------------------------------------------------------------------------
    def submit_tx(self, raw: bytes, wait_commit: bool = False) -> dict[str, Any]:
        path = "/txs?wait=commit" if wait_commit else "/txs"
        return self.request("POST", path, {"tx": base64.b64encode(raw).decode()})

    def tx(self, tx_hash: str) -> dict[str, Any]:
        return self.request("GET", f"/txs/{_seg(tx_hash)}")

    def txs(self, *, sender: str | None = None, contract: str | None = None, limit: int | None = None,
            start_after: str | None = None) -> dict[str, Any]:
        """Committed txs of a sender or of a contract, newest first: {"txs", "next"}."""
        return self.request("GET", "/txs", query={"sender": sender, "contract": contract, "limit": limit,
                                                  "start_after": start_after})

    def sign_doc(self, body: dict[str, Any]) -> dict[str, Any]:
        """The exact bytes to sign for an unsigned tx body: {"sign_bytes" (base64), "sign_bytes_sha256", ...}."""
        return self.request("POST", "/txs/sign-doc", body)

    # --- contracts -------------------------------------------------------------------------------
    def codes(self, limit: int | None = None, start_after: int | None = None) -> dict[str, Any]:
        return self.request("GET", "/codes", query={"limit": limit, "start_after": start_after})

    def code(self, code_id: int) -> dict[str, Any]:
        return self.request("GET", f"/codes/{_seg(code_id)}")

    def code_contracts(self, code_id: int, limit: int | None = None, start_after: str | None = None) -> dict[str, Any]:
        return self.request("GET", f"/codes/{_seg(code_id)}/contracts", query={"limit": limit, "start_after": start_after})

    def contract(self, address: str) -> dict[str, Any]:
        return self.request("GET", f"/contracts/{_seg(address)}")

    def contract_history(self, address: str, limit: int | None = None,
                         start_after: int | None = None) -> dict[str, Any]:
        return self.request("GET", f"/contracts/{_seg(address)}/history",
                            query={"limit": limit, "start_after": start_after})

    def raw_state(self, address: str, key: bytes, height: int | None = None) -> dict[str, Any]:
        """A raw storage value with its Merkle proof: verify with chain.store.proofs.verify_proof."""
        return self.request("GET", f"/contracts/{_seg(address)}/raw/{key.hex()}", query={"height": height})

    def smart(self, contract: str, msg: Any) -> Any:
        return self.request("POST", f"/contracts/{_seg(contract)}/smart", msg)["data"]

    def genesis_contracts(self) -> dict[str, str]:
        return self.request("GET", "/genesis/contracts")

    # --- governance ------------------------------------------------------------------------------
    def proposals(self, *, status: str | None = None, proposer: str | None = None, order: str | None = None,
                  limit: int | None = None, start_after: int | None = None) -> dict[str, Any]:
        return self.request("GET", "/gov/proposals", query={"status": status, "proposer": proposer, "order": order,
                                                            "limit": limit, "start_after": start_after})

    def proposal(self, proposal_id: int) -> dict[str, Any]:
        """{"proposal", "tally"}."""
        return self.request("GET", f"/gov/proposals/{_seg(proposal_id)}")

    def votes(self, proposal_id: int, limit: int | None = None, start_after: str | None = None) -> dict[str, Any]:
        return self.request("GET", f"/gov/proposals/{_seg(proposal_id)}/votes",
                            query={"limit": limit, "start_after": start_after})

    def circle_members(self, limit: int | None = None, start_after: str | None = None) -> dict[str, Any]:
        return self.request("GET", "/circle/members", query={"limit": limit, "start_after": start_after})

    def circle_member(self, address: str) -> dict[str, Any]:
        return self.request("GET", f"/circle/members/{_seg(address)}")

    def admins(self, limit: int | None = None, start_after: str | None = None) -> dict[str, Any]:
        return self.request("GET", "/circle/admins", query={"limit": limit, "start_after": start_after})

    def poe_points(self, limit: int | None = None, start_after: str | None = None) -> dict[str, Any]:
        return self.request("GET", "/poe/points", query={"limit": limit, "start_after": start_after})

    def engagement_points(self, limit: int | None = None, start_after: str | None = None) -> dict[str, Any]:
        return self.request("GET", "/poe/engagement", query={"limit": limit, "start_after": start_after})

    def stake_points(self, limit: int | None = None, start_after: str | None = None) -> dict[str, Any]:
        return self.request("GET", "/poe/stake", query={"limit": limit, "start_after": start_after})

    def points(self, address: str) -> dict[str, Any]:
        """One address's PoE, engagement and stake points and bonded tokens."""
        return self.request("GET", f"/poe/points/{_seg(address)}")

    def validators(self) -> dict[str, Any]:
        """{"consensus", "active", "jailed", "jailed_next", "simulated_next", "epoch"}."""
        return self.request("GET", "/validators")

    def jailed_validators(self, limit: int | None = None, start_after: str | None = None) -> dict[str, Any]:
        return self.request("GET", "/validators/jailed", query={"limit": limit, "start_after": start_after})

    def openapi(self) -> dict[str, Any]:
        return self.request("GET", "/openapi.json")

    # --- admins: code proposals (chain/api/gov.py) -----------------------------------------------
    def propose_code(self, raw: bytes, wait_commit: bool = True) -> dict[str, Any]:
        """POST a signed propose_code tx; a bad wasm or a non-admin is refused at once (ApiClientError)."""
        return self.request("POST", "/gov/code-proposals", {"tx": base64.b64encode(raw).decode()},
                            query={"wait": "commit" if wait_commit else None})

    def check_code(self, wasm: bytes) -> dict[str, Any]:
        """The chain's static checks on a file: {"ok": true, "checksum", ...} or {"ok": false, "error"}."""
        return self.request("POST", "/gov/code-proposals/check", {"wasm": base64.b64encode(wasm).decode()})

    def pending_code(self) -> list[dict[str, Any]]:
        """Code held for proposals that have not stored it yet."""
        return self.request("GET", "/gov/pending-code")["pending"]


def read_pages(page: Callable[[Any], dict[str, Any]], key: str, cursor: str, cap: int,
               page_size: int = CONTRACT_PAGE) -> list[dict[str, Any]]:
    """Up to ``cap`` items of a paged list, ``page(after)`` giving each page: follows the API's ``next``
    (an address, id or sequence), or, for a contract's own list that has none, the last item's ``cursor``
    field while pages come back full (``page_size`` items). Items that are not objects are left out."""
    items: list[dict[str, Any]] = []
    after: Any = None
    while len(items) < cap:
        answer = page(after)
        got = [i for i in answer.get(key) or [] if isinstance(i, dict)]
        items += got
        after = answer.get("next") if "next" in answer else (got[-1].get(cursor) if len(got) == page_size else None)
        if not got or not isinstance(after, (str, int)) or isinstance(after, bool):
            break
    return items[:cap]


def _seg(value: Any) -> str:
    """One path segment, escaped (an address or hash with a '/' cannot reach another route)."""
    return urllib.parse.quote(str(value), safe="")
