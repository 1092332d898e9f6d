"""The UI's pure parts on good and bad input: tally bars, message rendering, proposal forms, the feed, the CLI."""
from __future__ import annotations

import base64
import json

import pytest

from chain.cli import build_parser
from tui.app import activity_line
from chain.api.proposal_text import CodeFacts, ContractFacts, describe
from tui.format import colored_bar, status_text, styled, tally_bar
from chain.api.client import Client
from tui.errors import ActionError
from tui.session import Session, proposal_msgs

CONTRACTS = {"membership": "conclave1membership", "engagement": "conclave1engagement"}


def test_tally_bar_marks_votes_and_quorum():
    bar = tally_bar({"yes": 1, "no": 1}, 4, {"quorum": "0.3", "threshold": "0.51"}, width=8)
    assert bar.startswith("[##xx") and "quorum 30% threshold 51%" in bar and "/ 4" in bar


@pytest.mark.parametrize("votes,total,rules", [({}, 0, None), ({"yes": 5}, 2, {}), ({"yes": "x", "no": -3}, 2, {}),
                                               ({"yes": None}, "three", {"quorum": "lots"}), ({}, -1, {"quorum": "9"})])
def test_tally_bar_survives_odd_numbers(votes, total, rules):
    assert tally_bar(votes, total, rules).startswith("[")


def test_messages_read_as_actions():
    inner = base64.b64encode(json.dumps({"add_voting_members": {"addrs": ["conclave1x"]}}).encode()).decode()
    text = describe({"wasm": {"execute": {"contract_addr": "conclave1membership", "msg": inner, "funds": []}}})
    assert "add_voting_members" in text[0] and "execute on" in text[0]
    assert "send 5ucnv" in describe({"bank": {"send": {"to_address": "a", "amount": [{"amount": "5",
                                                                                         "denom": "ucnv"}]}}})[0]
    assert describe("garbage") == ['"garbage"']
    assert "not base64!" in describe({"wasm": {"execute": {"contract_addr": "c", "msg": "not base64!"}}})[0]
    for odd in ({"custom": {"migrate_contract": "x"}}, {"bank": {"send": {"amount": ["x"]}}}, {"custom": 5}, None):
        assert describe(odd)                                       # hostile shapes: a line, never a crash


def test_a_code_upgrade_shows_contract_old_and_new_checksum_and_size():
    old, new = "a" * 64, "b" * 64
    migrate = {"custom": {"migrate_contract": {"contract": "conclave1voting", "checksum": new,
                                               "msg": base64.b64encode(b'{"v":2}').decode()}}}
    facts = CodeFacts(sizes={new: 217_383}, code_ids={old: 3},
                      contracts={"conclave1voting": ContractFacts(label="governance", code_id=3, checksum=old)})
    lines = describe(migrate, facts)
    assert lines[0] == f'migrate conclave1voting to code sha256 {new} with {{"v":2}}'
    assert "governance runs code 3, sha256 " + old in lines[1]
    assert "(stored when executed), 217,383 bytes" in lines[2]
    executed = CodeFacts(sizes={new: 217_383}, code_ids={old: 3, new: 9}, contracts={"conclave1voting": ContractFacts(
        label="governance", code_id=9, checksum=new, previous_code_id=3, previous_checksum=old)})
    lines = describe(migrate, executed)
    assert "ran code 3, sha256 " + old in lines[1] and "new code 9, 217,383 bytes" in lines[2]
    unknown = describe(migrate)                                    # the node could not say: "?" not a crash
    assert "runs code ?, sha256 ?" in unknown[1] and "size unknown" in unknown[2]
    assert describe({"custom": {"store_code": {"checksum": new}}}, facts) == [f"store code sha256 {new} (217,383 bytes)"]


def test_styled_text_is_never_markup():
    text = styled([[("Title", "bold"), ": [bold]x[/nope] \\[ ["], "second"])
    assert text.plain == "Title: [bold]x[/nope] \\[ [\nsecond"


def test_proposal_forms_build_messages_and_refuse_bad_input():
    assert proposal_msgs("text", "", CONTRACTS) == []
    add = proposal_msgs("add-members", "conclave1a conclave1b", CONTRACTS)[0]["wasm"]["execute"]
    assert json.loads(base64.b64decode(add["msg"])) == {"add_voting_members": {"addrs": ["conclave1a", "conclave1b"]}}
    grant = proposal_msgs("grant-engagement", "conclave1a 10", CONTRACTS)[0]["wasm"]["execute"]
    assert grant["contract_addr"] == "conclave1engagement"
    kick = proposal_msgs("remove-members", "conclave1a", CONTRACTS)[0]["wasm"]["execute"]
    assert json.loads(base64.b64decode(kick["msg"]))["punish_members"]["punishments"][0]["kick_out"] is True
    for kind, argument in (("add-members", "  "), ("grant-engagement", "conclave1a lots"),
                           ("grant-engagement", "x"), ("nonsense", "")):
        with pytest.raises(ActionError):
            proposal_msgs(kind, argument, CONTRACTS)


def test_feed_messages_become_lines():
    assert activity_line({"height": 3, "kind": "block", "hash": "ab" * 32, "num_txs": 1}).startswith("#3 block")
    assert "failed 5" in activity_line({"height": 3, "kind": "tx", "hash": "cd", "code": 5, "log": "out of gas"})
    vote = {"height": 4, "kind": "event", "type": "wasm", "attributes": [{"key": "action", "value": "vote"},
                                                                         {"key": "proposal_id", "value": "1"}]}
    assert activity_line(vote) == "#4   vote proposal_id=1"
    assert activity_line({"height": 4, "kind": "event", "type": "wasm", "attributes": [
        {"key": "action", "value": "end_block"}]}) is None
    assert activity_line({"error": {"code": "bad", "message": "nope"}}) == "events: nope"
    assert activity_line({}) is None


def test_cli_takes_the_tui_options():
    args = build_parser().parse_args(["tui", "--node", "http://127.0.0.1:9", "--key", "alice", "--home", "/tmp/h"])
    assert (args.node, args.key, args.home) == ("http://127.0.0.1:9", "alice", "/tmp/h")


def test_read_only_session_refuses_to_sign_without_asking_the_node():
    session = Session(Client("http://127.0.0.1:9", timeout=1.0))
    for action in (lambda: session.vote(1, "yes"), lambda: session.execute_proposal(1), session.leave,
                   lambda: session.propose("t", "d", []), lambda: session.deposit_escrow(5)):
        with pytest.raises(ActionError, match="read-only"):
            action()
    with pytest.raises(ActionError, match="unknown vote"):
        session.vote(1, "maybe")
    with pytest.raises(ActionError, match="positive"):
        session.deposit_escrow(0)


def test_tally_bars_and_statuses_are_coloured_but_say_the_same():
    bar = tally_bar({"yes": 2, "no": 1, "veto": 1}, 8, {"quorum": "0.3", "threshold": "0.51"}, width=8)
    text = colored_bar(bar)
    assert text.plain == bar
    styles = {text.plain[span.start:span.end]: str(span.style) for span in text.spans}
    assert styles.get("#") == "green" and styles.get("x") == "red" and styles.get("!") == "magenta"
    assert colored_bar("no bar here").plain == "no bar here"          # odd input: shown as it came
    assert str(status_text("passed").style) == "green" and status_text("[bold]x").plain == "[bold]x"
    assert styled([["a ", colored_bar(bar)]]).plain == "a " + bar
