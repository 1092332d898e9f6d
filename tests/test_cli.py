"""The `conclave` command: wasm check on good, bad and missing files."""
from __future__ import annotations

import json

from chain.cli import main
from support import ARTIFACTS


def test_wasm_check_reports_a_good_contract(capsys):
    assert main(["wasm", "check", str(ARTIFACTS / "test_counter.wasm"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "execute" in report["entry_points"] and len(report["checksum"]) == 64


def test_wasm_check_refuses_garbage_with_the_reason(tmp_path, capsys):
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"definitely not wasm")
    assert main(["wasm", "check", str(bad)]) == 1
    assert "refused:" in capsys.readouterr().err


def test_wasm_check_missing_file(tmp_path, capsys):
    assert main(["wasm", "check", str(tmp_path / "nope.wasm")]) == 1
    assert "cannot read" in capsys.readouterr().err
