"""A small synchronous client of the node's HTTP API (urllib: the CLI needs no event loop).

    client = Client("http://127.0.0.1:1317")
    client.status()["height"]
    client.submit_tx(tx.raw, wait_commit=True)["result"]["code"]

Errors come back as ApiClientError with the server's error code and message, or code
"unreachable" when no node answers.
"""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_NODE = "http://127.0.0.1:1317"
DEFAULT_TIMEOUT_S = 60.0
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class ApiClientError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code = status, code


class Client:
    def __init__(self, url: str = DEFAULT_NODE, timeout: float = DEFAULT_TIMEOUT_S):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return json.loads(response.read(MAX_RESPONSE_BYTES))
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read(MAX_RESPONSE_BYTES))["error"]
                raise ApiClientError(exc.code, error["code"], error["message"]) from None
            except (ValueError, KeyError, TypeError):
                raise ApiClientError(exc.code, "http_error", f"{method} {path}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiClientError(0, "unreachable", f"no node answers at {self.url} ({reason}): "
                                 "start one with `conclave start` or pass --node URL") from None

    def status(self) -> dict[str, Any]:
        return self.request("GET", "/status")

    def submit_tx(self, raw: bytes, wait_commit: bool = False) -> dict[str, Any]:
        path = "/txs?wait=commit" if wait_commit else "/txs"
        return self.request("POST", path, {"tx": base64.b64encode(raw).decode()})

    def tx(self, tx_hash: str) -> dict[str, Any]:
        return self.request("GET", f"/txs/{urllib.parse.quote(tx_hash, safe='')}")

    def block(self, height: int | str) -> dict[str, Any]:
        return self.request("GET", f"/blocks/{urllib.parse.quote(str(height), safe='')}")

    def account(self, address: str) -> dict[str, Any]:
        return self.request("GET", f"/accounts/{urllib.parse.quote(address, safe='')}")

    def smart(self, contract: str, msg: Any) -> Any:
        return self.request("POST", f"/contracts/{urllib.parse.quote(contract, safe='')}/smart", msg)["data"]
