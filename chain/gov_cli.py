"""`conclave gov ...`: admins propose upgrades, members vote, anyone executes — through a node's API.

    conclave gov propose-upgrade --wasm FILE [--contract ADDR [--migrate-msg JSON]] --from KEY
                                 [--title T] [--description D] [--signed-tx-out FILE]
    conclave gov vote PROPOSAL_ID yes|no|abstain|veto --from KEY
    conclave gov execute PROPOSAL_ID --from KEY
    conclave gov show PROPOSAL_ID [--json]
    conclave gov list [--start-after ID] [--limit N] [--json]

Every command takes --node URL and --home DIR (keys in DIR/keys). The governance (voting)
contract's address comes from the node (GET /genesis/contracts). propose-upgrade checks the
wasm locally first (the chain's own static checks), signs with the keyring key and posts the
signed tx to POST /gov/code-proposals, which checks it again and dry-runs the proposal before
anything is spent; with --signed-tx-out it only writes the signed tx, for curl. Failures print
one line and exit 1 (chain/node_cli.py's convention).
"""
from __future__ import annotations

import argparse
import base64
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import genesis_builder
from .api.client import DEFAULT_NODE, Client
from .api.proposal_text import code_facts, describe
from .app.tx import CodeMigration, Execute, ProposeCode, build_tx
from .cli_common import CliError, coins_arg, guarded, keyring_of, passphrase_of
from .vm.validation import DEFAULT_CAPABILITIES, InvalidWasm, check_wasm

VOTES = ("yes", "no", "abstain", "veto")
DEFAULT_VOTE_GAS = 500_000
DEFAULT_EXECUTE_GAS = 5_000_000       # executing may store code (checks, compile) and run a migration
# A propose_code tx pays 10 gas per tx byte (the wasm travels as base64: 4/3 of its size) and 1 per
# wasm byte for the checks, plus the voting contract's work.
PROPOSE_BASE_GAS = 1_000_000
PROPOSE_GAS_PER_BYTE = 16
DEFAULT_LIST_LIMIT = 30
MAX_TITLE_CHARS = 140


# --- helpers -------------------------------------------------------------------------------------

def _governance(client: Client) -> str:
    """The voting contract's address, as the node reports the genesis contracts."""
    voting = client.genesis_contracts().get("voting")
    if not isinstance(voting, str):
        raise CliError(f"the node at {client.url} reports no genesis voting contract (GET /genesis/contracts)")
    return voting


def _signed(args: argparse.Namespace, client: Client, msgs: list, gas: int) -> Any:
    key = keyring_of(args).load_signer(args.sender, passphrase_of(args))
    chain_id = client.status()["chain_id"]
    sequence = client.account(key.address(args.prefix))["sequence"]
    fee = coins_arg(args.fees, "--fees") if args.fees else ()
    return build_tx(key, chain_id, sequence, msgs, gas_limit=gas, fee=fee, memo=args.memo)


def _commit(args: argparse.Namespace, client: Client, msgs: list, gas: int, what: str) -> dict[str, Any]:
    """Sign, submit, wait for the block; the committed record, or CliError with the chain's reason."""
    tx = _signed(args, client, msgs, gas)
    answer = client.submit_tx(tx.raw, wait_commit=True)
    result = answer.get("result", {})
    if result.get("code", 0) != 0:
        raise CliError(f"{what} failed in block {answer.get('height')} (tx {answer.get('hash')}, code "
                       f"{result.get('code')}): {result.get('log', '')}")
    return answer


def _attribute(result: dict[str, Any], event_type: str, key: str) -> list[str]:
    return [a["value"] for e in result.get("events", []) if e.get("type") == event_type
            for a in e.get("attributes", []) if a.get("key") == key]


def _json_object(text: str, option: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise CliError(f"{option}: not JSON: {text[:80]!r}") from None
    if not isinstance(value, dict):
        raise CliError(f'{option}: must be a JSON object, e.g. {{}} or {{"count": 1}}')
    return value


def _proposal_id(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise CliError(f"PROPOSAL_ID must be a positive integer, got {text[:20]!r}")
    return int(text)


def _when(seconds: int | None) -> str:
    if not isinstance(seconds, int):
        return "-"
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- commands ------------------------------------------------------------------------------------

def cmd_propose_upgrade(args: argparse.Namespace) -> int:
    path = Path(args.wasm)
    try:
        wasm = path.read_bytes()
    except OSError as exc:
        raise CliError(f"--wasm {path}: cannot read it ({exc.strerror})") from None
    try:
        report = check_wasm(wasm, DEFAULT_CAPABILITIES)
    except InvalidWasm as exc:
        raise CliError(f"--wasm {path} refused by the chain's checks: {exc}") from None
    if args.migrate_msg is not None and args.contract is None:
        raise CliError("--migrate-msg needs --contract: the contract to migrate")
    migrate = None
    if args.contract is not None:
        migrate = CodeMigration(args.contract, _json_object(args.migrate_msg or "{}", "--migrate-msg"))
    short = report.checksum[:12]
    title = args.title or (f"Upgrade {args.contract} to code {short}" if migrate else f"Store code {short}")
    description = args.description if args.description is not None else (
        f"{path.name}: sha256 {report.checksum}, {len(wasm)} bytes"
        + (f"; migrate {args.contract} with {json.dumps(migrate.msg)}" if migrate else ""))
    client = Client(args.node)
    gas = args.gas or PROPOSE_BASE_GAS + PROPOSE_GAS_PER_BYTE * len(wasm)
    tx = _signed(args, client, [ProposeCode(wasm, title[:MAX_TITLE_CHARS], description, migrate)], gas)
    if args.signed_tx_out:
        out = Path(args.signed_tx_out)
        out.write_text(base64.b64encode(tx.raw).decode() + "\n")
        print(f"wrote the signed propose_code tx {tx.hash} to {out} (not submitted); submit it with\n"
              f"  curl -sS -F signed_tx=<{out} -F wasm=@{path} '{client.url}/gov/code-proposals?wait=commit'")
        return 0
    answer = client.propose_code(tx.raw, wait_commit=True)
    proposal_id = answer.get("proposal_id")
    print(f"proposal {proposal_id} opened: {title[:MAX_TITLE_CHARS]}\n"
          f"  code      sha256 {answer.get('checksum')} ({len(wasm)} bytes)\n"
          f"  link      {client.url}{answer.get('links', {}).get('proposal', '')}\n"
          f"  tx        {answer.get('hash')} at height {answer.get('height')}\n"
          f"  next      conclave gov vote {proposal_id} yes --from MEMBER; then conclave gov execute {proposal_id}")
    return 0


def cmd_vote(args: argparse.Namespace) -> int:
    client = Client(args.node)
    proposal_id = _proposal_id(args.proposal_id)
    voting = _governance(client)
    msg = Execute(voting, {"vote": {"proposal_id": proposal_id, "vote": args.vote}}, ())
    answer = _commit(args, client, [msg], args.gas or DEFAULT_VOTE_GAS, f"voting on proposal {proposal_id}")
    tally = client.smart(voting, {"tally": {"proposal_id": proposal_id}})
    print(f"{args.sender} voted {args.vote} on proposal {proposal_id} (height {answer['height']}): "
          f"now {tally.get('status')} — {_tally_line(tally)}")
    return 0


def cmd_execute(args: argparse.Namespace) -> int:
    client = Client(args.node)
    proposal_id = _proposal_id(args.proposal_id)
    voting = _governance(client)
    msg = Execute(voting, {"execute": {"proposal_id": proposal_id}}, ())
    answer = _commit(args, client, [msg], args.gas or DEFAULT_EXECUTE_GAS, f"executing proposal {proposal_id}")
    result = answer["result"]
    lines = [f"proposal {proposal_id} executed at height {answer['height']} (tx {answer['hash']})"]
    for code_id, checksum in zip(_attribute(result, "store_code", "code_id"),
                                 _attribute(result, "store_code", "code_checksum")):
        lines.append(f"  stored    code id {code_id} (sha256 {checksum})")
    for contract, code_id in zip(_attribute(result, "migrate", "_contract_address"),
                                 _attribute(result, "migrate", "code_id")):
        lines.append(f"  migrated  {contract} to code id {code_id}")
    print("\n".join(lines))
    return 0


def _tally_line(tally: dict[str, Any]) -> str:
    quorum = "quorum reached" if tally.get("quorum_reached") else "no quorum yet"
    return (f"yes {tally.get('yes')}, no {tally.get('no')}, abstain {tally.get('abstain')}, veto "
            f"{tally.get('veto')} of {tally.get('total')} ({quorum})")


def cmd_show(args: argparse.Namespace) -> int:
    client = Client(args.node)
    proposal_id = _proposal_id(args.proposal_id)
    voting = _governance(client)
    proposal = client.smart(voting, {"proposal": {"proposal_id": proposal_id}})
    tally = client.smart(voting, {"tally": {"proposal_id": proposal_id}})
    if args.json:
        print(json.dumps({"proposal": proposal, "tally": tally}, indent=2))
        return 0
    lines = [f"proposal {proposal.get('id')}: {proposal.get('title')}  [{proposal.get('status')}]",
             f"  proposer     {proposal.get('proposer')}",
             f"  created      height {proposal.get('created_height')}; voting ends {_when(proposal.get('expires_at'))}",
             f"  votes        {_tally_line(tally)}",
             f"  link         {client.url}/gov/proposals/{proposal_id}"]
    if proposal.get("description"):
        lines.append(f"  description  {proposal['description']}")
    msgs = proposal.get("msgs") or []
    lines.append(f"  messages     {len(msgs)}")
    facts = code_facts(client, msgs)
    for i, msg in enumerate(msgs, 1):
        first, *details = describe(msg, facts)
        lines += [f"    {i}. {first}", *(f"    {d}" for d in details)]
    print("\n".join(lines))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    client = Client(args.node)
    voting = _governance(client)
    query: dict[str, Any] = {"limit": args.limit}
    if args.start_after is not None:
        query["start_after"] = args.start_after
    proposals = client.smart(voting, {"list_proposals": query}).get("proposals", [])
    if args.json:
        print(json.dumps(proposals, indent=2))
        return 0
    if not proposals:
        print("no proposals")
        return 0
    print(f"{'ID':>4}  {'STATUS':<9} {'YES/NO/ABS/VETO':<16} TITLE")
    for p in proposals:
        v = p.get("votes", {})
        votes = f"{v.get('yes')}/{v.get('no')}/{v.get('abstain')}/{v.get('veto')}"
        print(f"{p.get('id'):>4}  {p.get('status', ''):<9} {votes:<16} {str(p.get('title', ''))[:60]}")
    return 0


# --- parsers -------------------------------------------------------------------------------------

def add_parsers(sub, default_home: Path) -> None:
    """`conclave gov ...` on the top-level subparsers."""
    gov = sub.add_parser("gov", help="governance: propose upgrades (admins), vote, execute, show proposals")
    commands = gov.add_subparsers(dest="gov_command", required=True)

    def command(name: str, help_text: str, func, *, signer: bool) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help_text)
        parser.add_argument("--home", default=str(default_home), help="home with the keyring in HOME/keys "
                                                                      "(default ~/.conclave)")
        parser.add_argument("--prefix", default=genesis_builder.DEFAULT_PREFIX, help="bech32 address prefix")
        parser.add_argument("--node", default=DEFAULT_NODE, help=f"node API URL (default {DEFAULT_NODE})")
        if signer:
            parser.add_argument("--from", dest="sender", required=True, metavar="KEY", help="key name that signs")
            parser.add_argument("--passphrase-env", default=None, metavar="VAR",
                                help="read the key's passphrase from this environment variable")
            parser.add_argument("--gas", type=int, default=None, help="gas limit (default: enough for the command)")
            parser.add_argument("--fees", default="", help="fee coins, e.g. 100ucnv (default none)")
            parser.add_argument("--memo", default="")
        parser.set_defaults(func=guarded(func))
        return parser

    propose = command("propose-upgrade", "admins: propose new contract code, optionally migrating a contract to it",
                      cmd_propose_upgrade, signer=True)
    propose.add_argument("--wasm", required=True, metavar="FILE", help="the contract (.wasm or .wasm.gz)")
    propose.add_argument("--contract", default=None, metavar="ADDR", help="migrate this contract to the new code")
    propose.add_argument("--migrate-msg", default=None, metavar="JSON", help="the migrate message (default {})")
    propose.add_argument("--title", default=None)
    propose.add_argument("--description", default=None)
    propose.add_argument("--signed-tx-out", default=None, metavar="FILE",
                         help="only sign: write the base64 signed tx to FILE for curl, submit nothing")

    vote = command("vote", "vote on a proposal", cmd_vote, signer=True)
    vote.add_argument("proposal_id", metavar="PROPOSAL_ID")
    vote.add_argument("vote", choices=VOTES)

    execute = command("execute", "execute a passed proposal (anyone may)", cmd_execute, signer=True)
    execute.add_argument("proposal_id", metavar="PROPOSAL_ID")

    show = command("show", "a proposal with its tally and messages", cmd_show, signer=False)
    show.add_argument("proposal_id", metavar="PROPOSAL_ID")
    show.add_argument("--json", action="store_true", help="print the proposal and tally as JSON")

    listing = command("list", "proposals, oldest first", cmd_list, signer=False)
    listing.add_argument("--start-after", type=int, default=None, metavar="ID")
    listing.add_argument("--limit", type=int, default=DEFAULT_LIST_LIMIT, help=f"at most this many "
                         f"(default {DEFAULT_LIST_LIMIT})")
    listing.add_argument("--json", action="store_true")
