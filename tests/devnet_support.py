"""Helpers for the devnet tests: free loopback ports, stand-in nodes, and a devnet run in a subprocess.

A stand-in node is a tiny real process that behaves like a node as far as the devnet's
supervision can tell: it reads HOME/config/node.json, serves GET /status on its "api" address,
and prints to its log. Files in its home steer it, so tests need no timing:
HOME/crash makes it exit with status 3; HOME/stubborn makes it ignore SIGTERM.

Run as a script (``python devnet_support.py HOME N API_BASE P2P_BASE GRACE``) it runs
chain.devnet.run over N stand-in nodes, with the real signal handling of `conclave devnet`.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent

STAND_IN_NODE = r'''
import json, os, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, HTTPServer
home = sys.argv[1]
config = json.load(open(os.path.join(home, "config", "node.json")))
host, port = config["api"].rsplit(":", 1)
if os.path.exists(os.path.join(home, "stubborn")):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
class Status(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"moniker": config["moniker"], "height": 1}).encode()
        self.send_response(200 if self.path == "/status" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = HTTPServer((host, int(port)), Status)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(f"stand-in {config['moniker']} serving on {config['api']}", flush=True)
while not os.path.exists(os.path.join(home, "crash")):
    time.sleep(0.05)
print(f"stand-in {config['moniker']} crashing on purpose", flush=True)
sys.exit(3)
'''


def stand_in_command(home: Path) -> list[str]:
    return [sys.executable, "-c", STAND_IN_NODE, str(home)]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds (a bound, not a timing check)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def project_env() -> dict[str, str]:
    """This process's environment with the checkout first on PYTHONPATH: a child runs this tree's code."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}


def spawn_devnet(cwd: Path, home: Path, validators: int, api_base: int, p2p_base: int, out: Path,
                 err: Path) -> subprocess.Popen:
    """The real `conclave devnet` in a subprocess (as `python -m chain.cli`), stdout and stderr to files."""
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        return subprocess.Popen([sys.executable, "-m", "chain.cli", "devnet", "--validators", str(validators),
                                 "--home", str(home), "--api-port", str(api_base), "--p2p-port", str(p2p_base)],
                                stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=project_env(), cwd=cwd)


def start_devnet_of_stand_ins(home: Path, validators: int, api_base: int, p2p_base: int,
                              grace: float = 5.0) -> subprocess.Popen:
    """This file as a script in a subprocess: stdout and stderr go to HOME/../out.txt and err.txt."""
    home.mkdir(parents=True, exist_ok=True)
    out = open(home.parent / "out.txt", "wb")
    err = open(home.parent / "err.txt", "wb")
    return subprocess.Popen([sys.executable, __file__, str(home), str(validators), str(api_base), str(p2p_base),
                             str(grace)], stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=project_env())


def _main(argv: list[str]) -> int:
    from chain import devnet
    from chain.node_home import write_node_config

    home, validators, api_base, p2p_base, grace = Path(argv[0]), int(argv[1]), int(argv[2]), int(argv[3]), float(argv[4])
    nodes = devnet.plan_nodes(home, validators, api_base, p2p_base)
    for node in nodes:
        write_node_config(node, nodes)
    keys = [devnet.DemoKey("member1", "conclave1member", "circle member and admin"),
            devnet.DemoKey("operator1", "conclave1operator", "validator operator (node0)")]
    net = devnet.Devnet(home, "stand-in-devnet", nodes, keys, reused=False)
    return devnet.run(net, command=stand_in_command, stop_grace=grace, ready_timeout=60)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
