"""`conclave query ...` reads the new routes: each subcommand prints the API's JSON; a bad
argument is one clear line on stderr and exit status 1."""
from __future__ import annotations

import json

import pytest

from chain.cli import main
from api.node_process import member_key


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_query_subcommands_print_the_api_answers(capsys, node, chain):
    voting, m1 = chain.contracts["voting"], member_key(1).address()
    asked = {
        ("status",): lambda a: a["chain_id"] == "conclave-devnet",
        ("block",): lambda a: a["height"] >= 1 and "commit" in a,
        ("block-results", str(chain.send_height)): lambda a: a["tx_results"][0]["code"] == 0,
        ("txs", "--sender", m1, "--limit", "1"): lambda a: len(a["txs"]) == 1 and a["next"],
        ("txs", "--contract", voting): lambda a: len(a["txs"]) == 4,
        ("codes", "--limit", "2", "--start-after", "1"): lambda a: [c["code_id"] for c in a["codes"]] == [2, 3],
        ("code", "3"): lambda a: a["code_id"] == 3,
        ("contracts", "3"): lambda a: a["contracts"] == [voting],
        ("contract", voting): lambda a: a["label"] == "governance",
        ("contract-history", voting): lambda a: a["entries"][0]["operation"] == "init",
        ("raw", voting, "config"): lambda a: a["key"] == b"config".hex() and a["value"],
        ("raw", voting, b"config".hex(), "--hex", "--height", "2"): lambda a: a["height"] == 2,
        ("genesis-contracts",): lambda a: a == chain.contracts,
        ("proposals", "--status", "open"): lambda a: [p["id"] for p in a["proposals"]] == [chain.open_proposal],
        ("proposal", str(chain.passed_proposal)): lambda a: a["tally"]["status"] == "passed",
        ("votes", str(chain.open_proposal)): lambda a: len(a["votes"]) == 2,
        ("members",): lambda a: len(a["members"]) >= 3,
        ("member", m1): lambda a: a["status"] == "voting",
        ("admins",): lambda a: a["admins"],
        ("points",): lambda a: a["members"][0]["points"] > 0,
        ("validators",): lambda a: a["active"] and a["consensus"],
    }
    for argv, check in asked.items():
        code, out, err = run(capsys, "query", *argv, "--node", node.url)
        assert code == 0, (argv, err)
        assert check(json.loads(out)), (argv, out)


@pytest.mark.parametrize("argv,words", [
    (("txs",), "exactly one of --sender"),
    (("raw", "{voting}", "zz", "--hex"), "not hex"),
    (("proposal", "999"), "not_found"),
    (("proposals", "--status", "maybe"), "invalid_param"),
    (("member", "bad"), "invalid_address"),
    (("block", "0"), "invalid_height"),
])
def test_query_errors_are_one_line(capsys, node, chain, argv, words):
    argv = tuple(a.replace("{voting}", chain.contracts["voting"]) for a in argv)
    code, out, err = run(capsys, "query", *argv, "--node", node.url)
    assert code == 1 and err.startswith("error:") and words in err and err.count("\n") == 1, err
