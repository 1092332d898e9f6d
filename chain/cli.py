"""The `conclave` command (wasmd-like conventions). Subcommands grow with the node and network."""
from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version
from pathlib import Path

from .vm.validation import DEFAULT_CAPABILITIES, InvalidWasm, check_wasm


def cmd_version(_args: argparse.Namespace) -> int:
    print(f"conclave {version('conclave')} (wasmtime {version('wasmtime')})")
    return 0


def cmd_wasm_check(args: argparse.Namespace) -> int:
    """Run the chain's upload checks on a contract file, as a proposal would meet them."""
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        report = check_wasm(data, DEFAULT_CAPABILITIES)
    except InvalidWasm as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    summary = {
        "file": str(path), "size": len(data), "checksum": report.checksum,
        "entry_points": sorted(report.entry_points),
        "required_capabilities": sorted(report.required_capabilities),
        "imports": list(report.imports), "functions": report.function_count,
    }
    print(json.dumps(summary, indent=2) if args.json else
          f"ok: {path} ({len(data)} bytes)\nchecksum: {report.checksum}\n"
          f"entry points: {', '.join(summary['entry_points'])}\n"
          f"capabilities: {', '.join(summary['required_capabilities']) or '-'}")
    return 0


def cmd_devnet(_args: argparse.Namespace) -> int:
    print("conclave devnet: the local multi-validator network is not built yet (it arrives with the\n"
          "node and network work, issues #4 and #5). What works today is the contract engine:\n"
          "  - chain.testing.TestApp runs CosmWasm contracts in-process (see README.md),\n"
          "  - `conclave wasm check FILE` applies the chain's upload checks to a contract.",
          file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conclave", description="A consortium chain governed by its members.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version", help="print versions").set_defaults(func=cmd_version)
    wasm = sub.add_parser("wasm", help="contract tools").add_subparsers(dest="wasm_command", required=True)
    check = wasm.add_parser("check", help="run the chain's upload checks on a .wasm (or .wasm.gz) file")
    check.add_argument("file")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(func=cmd_wasm_check)
    devnet = sub.add_parser("devnet", help="run a local network (not yet available)")
    devnet.add_argument("--validators", type=int, default=4)
    devnet.set_defaults(func=cmd_devnet)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
