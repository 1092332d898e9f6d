"""The `conclave` command (wasmd-like conventions). Subcommands grow with the node and network."""
from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version
from pathlib import Path

from . import genesis_builder
from . import node_cli
from .vm.validation import DEFAULT_CAPABILITIES, InvalidWasm, check_wasm

DEFAULT_HOME = Path.home() / ".conclave"
DEFAULT_ARTIFACTS = Path(__file__).resolve().parent.parent / "contracts" / "artifacts"


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


def cmd_devnet(args: argparse.Namespace) -> int:
    """Prepare (once) and run the local devnet; see chain/devnet.py."""
    from . import devnet
    from .node_cli import run_node

    if args.validators != 4:
        print("conclave devnet: only the 4-validator devnet genesis exists today (genesis/devnet.json)",
              file=sys.stderr)
        return 2
    home = Path(args.home).expanduser()
    try:
        keys = devnet.prepare(home, reset=args.reset)
    except Exception as exc:  # noqa: BLE001 - every preparation failure is reported the same way
        print(f"error: cannot prepare the devnet in {home}: {exc}", file=sys.stderr)
        return 1
    print(devnet.banner(home, args.api, keys), flush=True)
    return run_node(home, args.api, args.block_time)


def cmd_genesis(args: argparse.Namespace) -> int:
    """`conclave genesis init|add-account|add-member|add-admin|add-validator|build`."""
    home = Path(args.home)
    try:
        if args.genesis_command == "init":
            path = genesis_builder.init(home, args.chain_id, args.prefix, args.genesis_time, args.overwrite)
            print(f"wrote {path}")
        elif args.genesis_command == "add-account":
            genesis_builder.add_account(home, args.address, args.coins)
        elif args.genesis_command == "add-member":
            genesis_builder.add_member(home, args.address)
        elif args.genesis_command == "add-admin":
            genesis_builder.add_admin(home, args.address)
        elif args.genesis_command == "add-validator":
            genesis_builder.add_validator(home, args.address, args.pubkey, args.stake, args.engagement)
        else:
            output = Path(args.output) if args.output else None
            config = Path(args.config) if args.config else None
            path, result = genesis_builder.build(home, Path(args.artifacts), output, config)
            print(f"wrote {path}: {len(result.validators)} validators, total power "
                  f"{sum(power for _, power in result.validators)}; governance {result.contracts['voting']}")
    except genesis_builder.GenesisBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _add_genesis_parser(sub) -> None:
    genesis = sub.add_parser("genesis", help="build genesis.json from a config").add_subparsers(
        dest="genesis_command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = genesis.add_parser(name, help=help_text)
        parser.add_argument("--home", default=str(DEFAULT_HOME), help="node home (default ~/.conclave)")
        parser.set_defaults(func=cmd_genesis)
        return parser

    init = command("init", "write HOME/config/genesis-config.json with defaults")
    init.add_argument("--chain-id", required=True)
    init.add_argument("--prefix", default=genesis_builder.DEFAULT_PREFIX, help="bech32 address prefix")
    init.add_argument("--genesis-time", default=None, help="RFC 3339 (default: now)")
    init.add_argument("--overwrite", action="store_true")
    account = command("add-account", "give an account a genesis balance")
    account.add_argument("address")
    account.add_argument("coins", help="e.g. 1000000ucnv,5000000ustake")
    command("add-member", "add a voting member of the trusted circle (escrow paid at genesis)").add_argument("address")
    command("add-admin", "add a member of the admins group (may propose code)").add_argument("address")
    validator = command("add-validator", "add a validator: operator, consensus key, stake, engagement")
    validator.add_argument("address", help="operator account address")
    validator.add_argument("--pubkey", required=True, help="ed25519 consensus public key, base64")
    validator.add_argument("--stake", type=int, required=True, help="initial stake (stake denom), bonded at genesis")
    validator.add_argument("--engagement", type=int, required=True, help="initial engagement points")
    build = command("build", "embed the artifacts, dry-run genesis, write genesis.json")
    build.add_argument("--artifacts", default=str(DEFAULT_ARTIFACTS))
    build.add_argument("--output", default=None, help="default HOME/config/genesis.json")
    build.add_argument("--config", default=None, help="build this config file instead of HOME's (e.g. genesis/devnet.json)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conclave", description="A consortium chain governed by its members.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version", help="print versions").set_defaults(func=cmd_version)
    wasm = sub.add_parser("wasm", help="contract tools").add_subparsers(dest="wasm_command", required=True)
    check = wasm.add_parser("check", help="run the chain's upload checks on a .wasm (or .wasm.gz) file")
    check.add_argument("file")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(func=cmd_wasm_check)
    _add_genesis_parser(sub)
    node_cli.add_parsers(sub, DEFAULT_HOME)
    devnet = sub.add_parser("devnet", help="run the local devnet (genesis/devnet.json, demo keys) on loopback")
    devnet.add_argument("--validators", type=int, default=4, help="genesis validators (only 4 for now)")
    devnet.add_argument("--home", default=".devnet", help="devnet home (default: ./.devnet)")
    devnet.add_argument("--api", default="127.0.0.1:1317", help="API listen address (loopback by default)")
    devnet.add_argument("--block-time", type=float, default=1.0, help="seconds between blocks")
    devnet.add_argument("--reset", action="store_true", help="delete the devnet home and start over")
    devnet.set_defaults(func=cmd_devnet)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
