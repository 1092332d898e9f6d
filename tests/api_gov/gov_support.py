"""A single-validator node on the devnet genesis for the code-proposal API tests, and signing helpers.

The node runs as a real `conclave start` subprocess (blocks every 0.2 s); the devnet's demo
members sign: member1 is the one admin, member1..3 are the circle. ``post`` speaks raw HTTP with
urllib so tests can send exactly the bytes they mean (multipart included), as curl would.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chain.api.client import ApiClientError, Client
from chain.app.tx import CodeMigration, ProposeCode, Tx, build_tx
from chain.crypto.keys import Keyring, PrivateKey
from ports import free_port
from support import ROOT, devnet_genesis, devnet_key, make_validator_home

BLOCK_TIME = "0.2"
START_TIMEOUT_S = 120.0          # bounds, never assertions on speed
COMMIT_TIMEOUT_S = 60.0
PREFIX = "conclave"
PROPOSE_GAS = 10_000_000


def member(n: int) -> PrivateKey:
    return devnet_key("member", n)


def outsider() -> PrivateKey:
    """A key that is neither a member nor an admin (and has no account)."""
    return PrivateKey.from_seed(b"\x07" * 32)


@dataclass
class Response:
    status: int
    body: Any


class GovNode:
    """`conclave start` on a fresh home with the 1-validator devnet genesis; ``stop`` kills it."""

    def __init__(self, home: Path):
        genesis, self.contracts = devnet_genesis(validators=1)
        self.home = make_validator_home(home, genesis)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = Client(self.url, timeout=60)
        self.log = self.home / "node.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chain.cli", "start", "--home", str(self.home), "--api",
             f"127.0.0.1:{self.port}", "--block-time", BLOCK_TIME],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log.open("ab"), stdin=subprocess.DEVNULL)

    def wait_height(self, height: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the node exited: {self.log.read_text()[-3000:]}"
            try:
                if self.client.status()["height"] >= height:
                    return
            except ApiClientError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"the node did not reach height {height} in {START_TIMEOUT_S} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    # --- chain helpers ---------------------------------------------------------------------------
    @property
    def voting(self) -> str:
        return self.contracts["voting"]

    def sequence(self, key: PrivateKey) -> int:
        return self.client.account(key.address(PREFIX))["sequence"]

    def sign(self, key: PrivateKey, msgs: list, gas: int = PROPOSE_GAS, chain_id: str | None = None) -> Tx:
        return build_tx(key, chain_id or self.client.status()["chain_id"], self.sequence(key), msgs, gas_limit=gas)

    def propose_tx(self, key: PrivateKey, wasm: bytes, title: str = "New code", migrate: dict | None = None,
                   gas: int = PROPOSE_GAS) -> Tx:
        migration = None if migrate is None else CodeMigration(migrate["contract"], migrate["msg"])
        return self.sign(key, [ProposeCode(wasm, title, "a test proposal", migration)], gas)

    def commit(self, key: PrivateKey, msgs: list, gas: int = 1_000_000) -> dict:
        answer = self.client.submit_tx(self.sign(key, msgs, gas).raw, wait_commit=True)
        assert answer["result"]["code"] == 0, answer["result"]["log"]
        return answer

    def proposals(self) -> list[dict]:
        return self.client.smart(self.voting, {"list_proposals": {}})["proposals"]

    def post(self, path: str, body: bytes, content_type: str | None) -> Response:
        """POST raw bytes; the status and the parsed JSON answer (errors included)."""
        headers = {} if content_type is None else {"Content-Type": content_type}
        request = urllib.request.Request(self.url + path, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=COMMIT_TIMEOUT_S) as answer:
                return Response(answer.status, json.loads(answer.read()))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, json.loads(exc.read()))

    def post_json(self, path: str, obj: Any) -> Response:
        return self.post(path, json.dumps(obj).encode(), "application/json")

    def get(self, path: str) -> Response:
        try:
            with urllib.request.urlopen(self.url + path, timeout=COMMIT_TIMEOUT_S) as answer:
                return Response(answer.status, json.loads(answer.read()))
        except urllib.error.HTTPError as exc:
            return Response(exc.code, json.loads(exc.read()))


BOUNDARY = "conclave-test-boundary-7d1f"


def multipart(parts: list[tuple[str, bytes, str | None]], boundary: str = BOUNDARY) -> tuple[bytes, str]:
    """A multipart/form-data body as curl -F writes it: (name, content, filename or None) per part."""
    out = []
    for name, content, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        kind = "application/octet-stream" if filename else None
        out.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
                   + (f"Content-Type: {kind}\r\n".encode() if kind else b"") + b"\r\n" + content + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def keys_home(home: Path) -> Path:
    """A CLI home whose keyring holds member1..3 and an outsider (unencrypted demo keys)."""
    ring = Keyring(home / "keys", PREFIX)
    for n in (1, 2, 3):
        ring.add(f"member{n}", seed=member(n).seed)
    ring.add("outsider", seed=outsider().seed)
    return home
