"""The `conclave` command (wasmd-like conventions). Subcommands grow with the node and network."""
from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version
from pathlib import Path

from . import genesis_builder
from . import gov_cli
from . import node_cli
from .vm.validation import DEFAULT_CAPABILITIES, InvalidWasm, check_wasm

DEFAULT_HOME = Path.home() / ".conclave"
DEFAULT_ARTIFACTS = Path(__file__).resolve().parent.parent / "contracts" / "artifacts"
TUI_HTTP_TIMEOUT_S = 10.0      # the UI polls: a node that hangs must not hold a worker for a minute


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


def cmd_tui(args: argparse.Namespace) -> int:
    """Open the member terminal UI on a node: --key NAME (from the keyring) or FILE (a key file) signs, the UI asks
    an encrypted key's passphrase; without --key the UI offers the keyring's keys, or read-only mode."""
    try:
        from tui.app import ConclaveApp
        from tui.session import Session
    except ImportError as exc:
        print(f"conclave tui: the terminal UI needs the textual package ({exc}): `pip install -e .`", file=sys.stderr)
        return 1
    from .api.client import Client
    from .crypto.keys import KeyringError

    home = Path(args.home).expanduser() if args.home else DEFAULT_HOME
    try:
        keyring, key_name = tui_keyring(args.key, home / "keys", args.prefix)
    except KeyringError as exc:
        print(f"conclave tui: {exc}", file=sys.stderr)
        return 1
    app = ConclaveApp(Session(Client(args.node, timeout=TUI_HTTP_TIMEOUT_S), prefix=args.prefix), keyring=keyring,
                      key_name=key_name)
    app.run()
    return 0


def tui_keyring(key: str | None, keys_dir: Path, prefix: str):
    """The keyring and key name ``--key`` means: a keyring name, or a key file's path (its folder as the keyring).

    A key that cannot be read is refused here, before the full-screen UI opens (KeyringError says why)."""
    from .crypto.keys import SUFFIX, Keyring, KeyringError

    if key is None:
        return Keyring(keys_dir, prefix), None
    if "/" in key or key.endswith(SUFFIX):
        file = Path(key).expanduser()
        if not file.is_file():
            raise KeyringError(f"no key file at {file} (--key takes a keyring name or the path of a key file "
                               f"written by `conclave keys add`)")
        if not file.name.endswith(SUFFIX):
            raise KeyringError(f"{file} is not a key file: key files end in {SUFFIX}")
        keyring, key = Keyring(file.parent, prefix), file.name[:-len(SUFFIX)]
    else:
        keyring = Keyring(keys_dir, prefix)
    keyring.show(key)
    return keyring, key


def cmd_devnet(args: argparse.Namespace) -> int:
    """Prepare (once) and run the local devnet: N validator processes on loopback; see chain/devnet.py."""
    from . import devnet
    from .crypto.keyfiles import KeyFileError
    from .crypto.keys import KeyringError
    from .testnet_files import TestnetError

    home = Path(args.home).expanduser()
    try:
        devnet.check_options(args.validators, args.api_port, args.p2p_port)
        devnet.check_ports_free(args.validators, args.api_port, args.p2p_port)
        if args.reset or not (home / devnet.MANIFEST).exists():
            print(f"conclave devnet: preparing {home} ({args.validators} validators: genesis, demo keys, "
                  "node homes)", file=sys.stderr, flush=True)
        net = devnet.prepare(home, args.validators, reset=args.reset, api_port=args.api_port,
                             p2p_port=args.p2p_port)
    except devnet.DevnetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (genesis_builder.GenesisBuildError, TestnetError, KeyringError, KeyFileError, OSError) as exc:
        print(f"error: cannot prepare the devnet in {home}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"conclave devnet: interrupted while preparing {home}; nothing was left half-written",
              file=sys.stderr)
        return 130
    if net.reused:
        print(f"conclave devnet: reusing {home} ({len(net.nodes)} validators; --reset starts over)",
              file=sys.stderr, flush=True)
    return devnet.run(net)


def cmd_testnet_files(args: argparse.Namespace) -> int:
    """Write the node homes of an N-validator network for docker-compose.yml; see chain/testnet_files.py."""
    from . import testnet_files
    from .crypto.keyfiles import KeyFileError
    from .crypto.keys import KeyringError

    try:
        net = testnet_files.create(Path(args.output).expanduser(), args.validators, chain_id=args.chain_id,
                                   hostname_template=args.hostname_template, p2p_port=args.p2p_port,
                                   api_port=args.api_port, force=args.force)
    except (testnet_files.TestnetError, genesis_builder.GenesisBuildError, KeyringError, KeyFileError,
            OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(testnet_files.summary(net))
    return 0


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
            genesis_builder.add_validator(home, args.address, args.pubkey, args.stake, args.engagement,
                                          args.moniker)
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
    validator.add_argument("--moniker", default=None, help="the name members see for it (1-70 bytes, optional)")
    build = command("build", "embed the artifacts, dry-run genesis, write genesis.json")
    build.add_argument("--artifacts", default=str(DEFAULT_ARTIFACTS))
    build.add_argument("--output", default=None, help="default HOME/config/genesis.json")
    build.add_argument("--config", default=None, help="build this config file instead of HOME's (e.g. genesis/devnet.json)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conclave", description="A consortium chain governed by its members.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("version", help="print versions").set_defaults(func=cmd_version)
    tui = sub.add_parser("tui", help="the member terminal UI: dashboard, proposals and voting, circle, validators")
    tui.add_argument("--node", default="http://127.0.0.1:1317", help="node API URL (default http://127.0.0.1:1317)")
    tui.add_argument("--key", default=None, metavar="NAME|FILE",
                     help="the key that signs: a keyring name, or a key file's path such as ./alice.json "
                          "(default: choose one from the keyring, or read-only)")
    tui.add_argument("--home", default=None, help="home with the keyring in HOME/keys (default ~/.conclave)")
    tui.add_argument("--prefix", default=genesis_builder.DEFAULT_PREFIX, help="bech32 address prefix")
    tui.set_defaults(func=cmd_tui)
    wasm = sub.add_parser("wasm", help="contract tools").add_subparsers(dest="wasm_command", required=True)
    check = wasm.add_parser("check", help="run the chain's upload checks on a .wasm (or .wasm.gz) file")
    check.add_argument("file")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(func=cmd_wasm_check)
    _add_genesis_parser(sub)
    node_cli.add_parsers(sub, DEFAULT_HOME)
    gov_cli.add_parsers(sub, DEFAULT_HOME)
    devnet = sub.add_parser("devnet", help="run a local N-validator network (demo keys) as processes on loopback")
    devnet.add_argument("--validators", type=int, default=4, metavar="N",
                        help="validator processes (default 4: genesis/devnet.json)")
    devnet.add_argument("--home", default=".devnet", help="devnet directory (default ./.devnet), reused between runs")
    devnet.add_argument("--reset", action="store_true", help="delete the devnet directory and start over")
    devnet.add_argument("--api-port", type=int, default=1317, metavar="BASE",
                        help="node I serves its API on 127.0.0.1:BASE+I (default 1317)")
    devnet.add_argument("--p2p-port", type=int, default=26656, metavar="BASE",
                        help="node I listens for peers on 127.0.0.1:BASE+I (default 26656)")
    devnet.set_defaults(func=cmd_devnet)
    files = sub.add_parser("testnet-files", help="write the node homes of an N-validator network (for docker compose)")
    files.add_argument("--validators", type=int, required=True, metavar="N")
    files.add_argument("--output", required=True, metavar="DIR", help="DIR/node0..node{N-1} and DIR/keys")
    files.add_argument("--chain-id", default="conclave-testnet")
    files.add_argument("--hostname-template", default="node{i}",
                       help='how the nodes reach each other; "{i}" is the node index (default node{i})')
    files.add_argument("--p2p-port", type=int, default=26656, help="every node's p2p port (default 26656)")
    files.add_argument("--api-port", type=int, default=1317, help="every node's API port (default 1317)")
    files.add_argument("--force", action="store_true", help="replace an existing testnet directory")
    files.set_defaults(func=cmd_testnet_files)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
