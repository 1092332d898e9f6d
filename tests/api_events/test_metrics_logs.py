"""/metrics parses as Prometheus text and agrees with /status; /healthz is 200 on a live node; the
node started with --log-format json writes one JSON object per line."""
from __future__ import annotations

import json
import re

import pytest

from api_events.live_node import NodeProcess

pytestmark = pytest.mark.timeout(240)

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({_NAME})(\{{(?:{_LABEL}(?:,{_LABEL})*)?\}})? (\S+)$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
REQUIRED = {
    "conclave_height": "gauge", "conclave_round": "gauge", "conclave_peers": "gauge",
    "conclave_mempool_txs": "gauge", "conclave_mempool_bytes": "gauge", "conclave_tx_per_second": "gauge",
    "conclave_block_interval_seconds": "gauge", "conclave_wasm_cache_hits_total": "counter",
    "conclave_wasm_cache_misses_total": "counter", "conclave_consensus_dropped_messages_total": "counter",
    "conclave_p2p_frames_total": "counter", "conclave_event_subscribers": "gauge",
}


def parse_prometheus(text: str) -> dict[str, dict]:
    """{family: {"help", "type", "samples": [(labels text, value)]}}; fails on any line out of format."""
    assert text.endswith("\n"), "the exposition ends with a newline"
    families: dict[str, dict] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("# HELP "):
            name, _, help_text = line[len("# HELP "):].partition(" ")
            assert re.fullmatch(_NAME, name) and help_text, line
            assert name not in families, f"{name} described twice"
            families[name] = {"help": help_text, "type": None, "samples": []}
        elif line.startswith("# TYPE "):
            name, _, kind = line[len("# TYPE "):].partition(" ")
            assert name in families and families[name]["type"] is None and kind in TYPES, line
            families[name]["type"] = kind
        elif line.startswith("#"):
            continue
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, labels, value = match.groups()
            assert name in families and families[name]["type"], f"{name}: a sample before its HELP and TYPE"
            families[name]["samples"].append((labels or "", float(value)))    # float() takes NaN and +Inf
    return families


def test_metrics_parse_as_prometheus_text_and_height_matches_status(node: NodeProcess):
    status, headers, body = node.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = parse_prometheus(body.decode())
    for name, kind in REQUIRED.items():
        assert families[name]["type"] == kind and families[name]["samples"], name
    for name, family in families.items():
        assert family["samples"], f"{name} has no samples"
        if family["type"] == "counter":
            assert name.endswith("_total") and all(value >= 0 for _, value in family["samples"])
    assert {labels for labels, _ in families["conclave_p2p_frames_total"]["samples"]} == {
        '{direction="in"}', '{direction="out"}'}
    assert {labels for labels, _ in families["conclave_wasm_cache_hits_total"]["samples"]} == {
        '{tier="memory"}', '{tier="disk"}'}
    assert sum(v for _, v in families["conclave_wasm_cache_hits_total"]["samples"]) > 0   # contracts ran

    for _ in range(50):                          # the height moves: compare when it held still around a scrape
        before = node.client.status()["height"]
        scraped = parse_prometheus(node.get("/metrics")[2].decode())["conclave_height"]["samples"][0][1]
        after = node.client.status()["height"]
        if before == after:
            assert scraped == before
            break
        assert before <= scraped <= after
    else:
        pytest.fail("the height never held still for one scrape")


def test_healthz_is_ok_on_a_live_node(node: NodeProcess):
    status, headers, body = node.get("/healthz")
    answer = json.loads(body)
    assert status == 200 and headers["Content-Type"].startswith("application/json"), answer
    assert answer["status"] == "ok" and answer["height"] >= 2
    assert answer["max_age_s"] >= 30 and 0 <= answer["last_commit_age_s"] <= answer["max_age_s"]


def test_json_log_lines_parse(node: NodeProcess):
    node.wait_height(node.height() + 1)
    text = node.log_path.read_text()
    complete = text[:text.rfind("\n") + 1]                   # the node may be writing the last line right now
    lines = [line for line in complete.splitlines() if line.strip()]
    assert lines
    records = [json.loads(line) for line in lines]             # every line is one JSON object
    for record in records:
        assert isinstance(record, dict) and {"time", "level", "logger", "message"} <= set(record), record
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", record["time"])
        assert record["level"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    assert any(r["logger"] == "conclave.consensus" and r["message"].startswith("committed height") for r in records)
