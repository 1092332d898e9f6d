"""The node's commands of `conclave`: init, start, keys, tx, query (chain/cli.py wires them in).

    conclave init --home DIR --chain-id ID
    conclave start --home DIR [--api 127.0.0.1:1317] [--block-time 1] [--log-level INFO] [--log-format text|json]
                   [--deterministic-time] [--txs-file FILE]        (these two: tests only)
    conclave keys add|list|show [NAME] [--home DIR] [--passphrase-env VAR]
    conclave tx send FROM TO AMOUNT [--node URL] [--home DIR]
    conclave tx execute FROM CONTRACT JSON [--funds COINS]
    conclave query status|account|tx|txs|block|block-results|smart|raw|codes|code|contracts|contract|
                   contract-history|genesis-contracts|proposals|proposal|votes|members|member|admins|
                   points|validators ... [--node URL]         (`conclave query NAME --help` for each)

tx and query talk to a running node through its HTTP API (chain/api/client.py). Every failure
prints one line saying what was wrong and exits 1.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from . import genesis_builder
from .api.client import DEFAULT_NODE, Client
from .app.tx import Execute, Send, build_tx
from .cli_common import CliError, coins_arg, guarded, home_of, keyring_of, passphrase_of
from .log_format import LOG_FORMATS, configure_logging
from .node import NodeConfig

DEFAULT_GAS_LIMIT = 200_000


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2))


# --- commands ----------------------------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    home = home_of(args)
    path = genesis_builder.init(home, args.chain_id, args.prefix, None, args.overwrite)
    print(f"wrote {path}\nnext: `conclave genesis add-account|add-member|add-validator ... --home {home}`, "
          f"`conclave genesis build --home {home}`, then `conclave start --home {home}`")
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    home = home_of(args)
    configure_logging(args.log_level, args.log_format, sys.stderr)
    return run_node(home, args.api or NodeConfig.load(home).api, args.block_time,
                    deterministic_time=args.deterministic_time or None, txs_file=args.txs_file)


def run_node(home: Path, listen: str, block_time: float | None, *, deterministic_time: bool | None = None,
             txs_file: str | None = None) -> int:
    """Run the node in HOME with its API on ``listen`` until SIGINT/SIGTERM (start and devnet)."""
    from .api.server import parse_listen, serve
    from .node import Node

    parse_listen(listen)
    node = Node(home, block_time=block_time, deterministic_time=deterministic_time, txs_file=txs_file)
    # what startup built (modules, genesis, caches) lives as long as the node: keep the collector off it,
    # and collect the young generation less often (bench/node.py measured ~11% more tx/s)
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, node.stop)
        print(f"conclave node {node.chain_id} at height {node.height}, API on http://{listen}", flush=True)
        await serve(node, listen)

    profile_to = os.environ.get("CONCLAVE_PROFILE")      # developers: cProfile the node into this file
    profiler = None
    if profile_to:
        import cProfile
        profiler = cProfile.Profile()
        profiler.enable()
    try:
        asyncio.run(main())
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile_to)
        node.close()
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    ring = keyring_of(args)
    if args.keys_command == "add":
        info = ring.add(args.name, passphrase_of(args))
        _print(info.to_json())
    elif args.keys_command == "list":
        _print([info.to_json() for info in ring.list()])
    else:
        _print(ring.show(args.name).to_json())
    return 0


def _sign_and_send(args: argparse.Namespace, msgs: list) -> int:
    client = Client(args.node)
    key = keyring_of(args).load_signer(args.sender, passphrase_of(args))
    chain_id = client.status()["chain_id"]
    sequence = client.account(key.address(args.prefix))["sequence"]
    tx = build_tx(key, chain_id, sequence, msgs, gas_limit=args.gas, fee=coins_arg(args.fees, "--fees") if args.fees else (),
                  memo=args.memo)
    answer = client.submit_tx(tx.raw, wait_commit=True)
    _print(answer)
    result = answer["result"]
    if result.get("code", 0) != 0:
        raise CliError(f"tx {answer['hash']} was committed at height {answer['height']} but failed "
                       f"(code {result.get('code')}): {result.get('log', '')}")
    return 0


def cmd_tx(args: argparse.Namespace) -> int:
    if args.tx_command == "send":
        return _sign_and_send(args, [Send(args.to, coins_arg(args.amount, "AMOUNT"))])
    try:
        msg = json.loads(args.msg)
    except ValueError:
        raise CliError(f"JSON: the execute message is not JSON: {args.msg[:80]!r}") from None
    funds = coins_arg(args.funds, "--funds") if args.funds else ()
    return _sign_and_send(args, [Execute(args.contract, msg, funds)])


def _smart(client: Client, args: argparse.Namespace) -> Any:
    try:
        msg = json.loads(args.msg)
    except ValueError:
        raise CliError(f"JSON: the query is not JSON: {args.msg[:80]!r}") from None
    return client.smart(args.contract, msg)


def _raw(client: Client, args: argparse.Namespace) -> Any:
    if args.hex:
        try:
            key = bytes.fromhex(args.key)
        except ValueError:
            raise CliError(f"KEY: --hex given but {args.key[:80]!r} is not hex") from None
    else:
        key = args.key.encode()
    return client.raw_state(args.contract, key, height=args.height)


def _txs(client: Client, args: argparse.Namespace) -> Any:
    if (args.sender is None) == (args.contract is None):
        raise CliError("give exactly one of --sender ADDRESS or --contract ADDRESS")
    return client.txs(sender=args.sender, contract=args.contract, limit=args.limit, start_after=args.start_after)


def _page(args: argparse.Namespace) -> dict[str, Any]:
    return {"limit": args.limit, "start_after": args.start_after}


# `conclave query NAME`: (help, positional arguments, options, what to ask the client)
_LIST = ("--limit", "--start-after")
QUERIES: dict[str, tuple[str, tuple, tuple, Any]] = {
    "status": ("the node: height, app hash, validators, catching up", (), (), lambda c, a: c.status()),
    "account": ("an account's sequence and balances", ("address",), (), lambda c, a: c.account(a.address)),
    "tx": ("a tx by hash", ("hash",), (), lambda c, a: c.tx(a.hash)),
    "txs": ("committed txs of --sender or --contract, newest first", (), ("--sender", "--contract", *_LIST), _txs),
    "block": ("a block with its commit and results (default: the latest)", ("height?",), (),
              lambda c, a: c.block(a.height)),
    "block-results": ("what a block's execution did (default: the latest)", ("height?",), (),
                      lambda c, a: c.block_results(a.height)),
    "smart": ("a contract's answer to a JSON query", ("contract", "msg"), (), _smart),
    "raw": ("a contract's raw storage value with its Merkle proof (KEY as text, or --hex)", ("contract", "key"),
            ("--hex", "--height"), _raw),
    "codes": ("stored codes", (), _LIST, lambda c, a: c.codes(**_page(a))),
    "code": ("one stored code", ("code_id",), (), lambda c, a: c.code(a.code_id)),
    "contracts": ("the contracts running a code", ("code_id",), _LIST,
                  lambda c, a: c.code_contracts(a.code_id, **_page(a))),
    "contract": ("a contract's info", ("address",), (), lambda c, a: c.contract(a.address)),
    "contract-history": ("a contract's instantiate and migrate entries", ("address",), _LIST,
                         lambda c, a: c.contract_history(a.address, **_page(a))),
    "genesis-contracts": ("the genesis contracts by name", (), (), lambda c, a: c.genesis_contracts()),
    "proposals": ("governance proposals, newest first", (), ("--status", "--proposer", "--order", *_LIST),
                  lambda c, a: c.proposals(status=a.status, proposer=a.proposer, order=a.order, **_page(a))),
    "proposal": ("a proposal with its tally", ("proposal_id",), (), lambda c, a: c.proposal(a.proposal_id)),
    "votes": ("a proposal's votes", ("proposal_id",), _LIST, lambda c, a: c.votes(a.proposal_id, **_page(a))),
    "members": ("the trusted circle with statuses and escrows", (), _LIST, lambda c, a: c.circle_members(**_page(a))),
    "member": ("one address's circle status and escrow", ("address",), (), lambda c, a: c.circle_member(a.address)),
    "admins": ("the admins group", (), _LIST, lambda c, a: c.admins(**_page(a))),
    "points": ("PoE points: of ADDRESS (with engagement, stake), or the list", ("address?",), _LIST,
               lambda c, a: c.points(a.address) if a.address else c.poe_points(**_page(a))),
    "validators": ("validators: in effect, active, jailed, next epoch's", (), (), lambda c, a: c.validators()),
}


def cmd_query(args: argparse.Namespace) -> int:
    _print(QUERIES[args.query_command][3](Client(args.node), args))
    return 0


# --- parsers -----------------------------------------------------------------------------------

def add_parsers(sub, default_home: Path) -> None:
    def common(parser: argparse.ArgumentParser, *, node: bool = False, signer: bool = False) -> None:
        parser.add_argument("--home", default=str(default_home), help="node home (default ~/.conclave)")
        parser.add_argument("--prefix", default=genesis_builder.DEFAULT_PREFIX, help="bech32 address prefix")
        if node:
            parser.add_argument("--node", default=DEFAULT_NODE, help=f"node API URL (default {DEFAULT_NODE})")
        if signer:
            parser.add_argument("--passphrase-env", default=None, metavar="VAR",
                                help="read the key's passphrase from this environment variable")
            parser.add_argument("--gas", type=int, default=DEFAULT_GAS_LIMIT, help="gas limit")
            parser.add_argument("--fees", default="", help="fee coins, e.g. 100ucnv (default none)")
            parser.add_argument("--memo", default="")

    init = sub.add_parser("init", help="start a node home: HOME/config/genesis-config.json")
    common(init)
    init.add_argument("--chain-id", required=True)
    init.add_argument("--overwrite", action="store_true")
    init.set_defaults(func=guarded(cmd_init))

    start = sub.add_parser("start", help="run a node (consensus, p2p, HTTP API) from HOME/config/node.json")
    common(start)
    start.add_argument("--api", default=None, help="listen HOST:PORT (default 127.0.0.1:1317)")
    start.add_argument("--block-time", type=float, default=None,
                       help="seconds between blocks: the commit timeout (default 1)")
    start.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                       help="log verbosity on stderr (default INFO)")
    start.add_argument("--log-format", default="text", choices=list(LOG_FORMATS),
                       help="text, or json: one JSON object per line with time, level, logger, message "
                            "(default text)")
    start.add_argument("--deterministic-time", action="store_true",
                       help="FOR TESTS ONLY: block time = genesis time + height * block time, not the clock")
    start.add_argument("--txs-file", default=None, metavar="FILE",
                       help='FOR TESTS ONLY: each block\'s txs from FILE ({"<height>": [base64 tx, ...]}), '
                            "not the mempool; submitted txs are refused")
    start.set_defaults(func=guarded(cmd_start))

    keys = sub.add_parser("keys", help="manage keys in HOME/keys").add_subparsers(dest="keys_command", required=True)
    for name, text in (("add", "create a key (encrypted with --passphrase-env)"), ("show", "show a key"),
                       ("list", "list keys")):
        parser = keys.add_parser(name, help=text)
        common(parser)
        if name != "list":
            parser.add_argument("name")
        if name == "add":
            parser.add_argument("--passphrase-env", default=None, metavar="VAR",
                                help="encrypt with the passphrase in this environment variable")
        parser.set_defaults(func=guarded(cmd_keys))

    tx = sub.add_parser("tx", help="sign and submit a transaction").add_subparsers(dest="tx_command", required=True)
    send = tx.add_parser("send", help="send coins: FROM (a key name) TO AMOUNT")
    common(send, node=True, signer=True)
    send.add_argument("sender", metavar="FROM")
    send.add_argument("to", metavar="TO")
    send.add_argument("amount", metavar="AMOUNT")
    send.set_defaults(func=guarded(cmd_tx))
    execute = tx.add_parser("execute", help="execute a contract: FROM CONTRACT JSON")
    common(execute, node=True, signer=True)
    execute.add_argument("sender", metavar="FROM")
    execute.add_argument("contract", metavar="CONTRACT")
    execute.add_argument("msg", metavar="JSON")
    execute.add_argument("--funds", default="", help="coins sent with the message, e.g. 10ucnv")
    execute.set_defaults(func=guarded(cmd_tx))

    query = sub.add_parser("query", help="query a node").add_subparsers(dest="query_command", required=True)
    for name, (text, positional, options, _) in QUERIES.items():
        parser = query.add_parser(name, help=text)
        common(parser, node=True)
        for field in positional:
            if field.endswith("?"):
                parser.add_argument(field[:-1], nargs="?", default="latest" if field == "height?" else None)
            else:
                parser.add_argument(field, type=int if field.endswith("_id") else str)
        for option in options:
            if option == "--hex":
                parser.add_argument(option, action="store_true", help="KEY is hex")
            else:
                parser.add_argument(option, default=None, type=int if option in ("--limit", "--height") else str)
        parser.set_defaults(func=guarded(cmd_query))
