"""The voting contract (governance) on the in-process chain, with group contracts as the
electorate and as the admins group: proposing, snapshot-weighted votes, the ThresholdQuorum
tally, early ends, expiry, execution of passed proposals, code proposals reserved to admins,
sudo propose_on_behalf, rule changes only through governance itself, paging and bad input."""
from __future__ import annotations

import base64
import json

import pytest

from chain.testing import AppError, ContractError, TestApp
from support import artifact

PERIOD = 100
RULES = {"voting_period": PERIOD, "quorum": "0.3", "threshold": "0.51", "allow_end_early": True}


def b64json(obj) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


def wasm_execute(contract: str, msg: dict) -> dict:
    return {"wasm": {"execute": {"contract_addr": contract, "msg": b64json(msg), "funds": []}}}


STORE_CODE = {"custom": {"store_code": {"checksum": "00" * 32}}}


class Gov:
    """A deployed governance: electorate group, admins group, voting contract and its users."""

    def __init__(self, app: TestApp, rules: dict | None = None, proposers: str = "members",
                 members: dict[str, int] | None = None):
        self.app = app
        self.owner = app.create_account("owner")
        self.people = {name: app.create_account(name) for name in ("alice", "bob", "carol", "dave", "erin")}
        members = members or {"alice": 1, "bob": 1, "carol": 1}
        self.group_code = app.store_code(artifact("group"))
        self.electorate = app.instantiate(self.group_code, {"admin": self.owner, "members": [
            {"addr": self.people[n], "points": p} for n, p in members.items()]}, sender=self.owner, label="electorate")
        self.admins = app.instantiate(self.group_code, {"admin": self.owner, "members": [
            {"addr": self.people["alice"], "points": 1}]}, sender=self.owner, label="admins")
        self.voting_code = app.store_code(artifact("voting"))
        self.voting = app.instantiate(self.voting_code, {
            "rules": rules or RULES, "electorate": self.electorate, "admins_group": self.admins,
            "proposers": proposers}, sender=self.owner, label="governance", admin=self.owner)
        app.next_block()   # members set at instantiation count from the next height on

    def __getitem__(self, name: str) -> str:
        return self.people[name]

    def propose(self, who: str, msgs=(), title: str = "a proposal", description: str = "because") -> int:
        result = self.app.execute(self.voting, {"propose": {"title": title, "description": description,
                                                            "msgs": list(msgs)}}, sender=self.people.get(who, who))
        return int(result.wasm_attribute("proposal_id"))

    def vote(self, who: str, proposal_id: int, vote: str):
        return self.app.execute(self.voting, {"vote": {"proposal_id": proposal_id, "vote": vote}},
                                sender=self.people.get(who, who))

    def execute(self, proposal_id: int, sender: str = "erin"):
        return self.app.execute(self.voting, {"execute": {"proposal_id": proposal_id}}, sender=self.people[sender])

    def close(self, proposal_id: int, sender: str = "erin"):
        return self.app.execute(self.voting, {"close": {"proposal_id": proposal_id}}, sender=self.people[sender])

    def proposal(self, proposal_id: int) -> dict:
        return self.app.query(self.voting, {"proposal": {"proposal_id": proposal_id}})

    def status(self, proposal_id: int) -> str:
        return self.proposal(proposal_id)["status"]

    def tally(self, proposal_id: int) -> dict:
        return self.app.query(self.voting, {"tally": {"proposal_id": proposal_id}})

    def ids(self, query: dict) -> list[int]:
        return [p["id"] for p in self.app.query(self.voting, query)["proposals"]]

    def set_members(self, add: dict[str, int] = {}, remove=()):
        self.app.execute(self.electorate, {"update_members": {
            "add": [{"addr": self.people[n], "points": p} for n, p in add.items()],
            "remove": [self.people[n] for n in remove]}}, sender=self.owner)

    def group_points(self, group: str, name: str):
        return self.app.query(group, {"member": {"addr": self.people[name], "at_height": None}})["points"]


@pytest.fixture
def gov(app: TestApp) -> Gov:
    return Gov(app)


# --- instantiate, config, rules -----------------------------------------------------------------

def test_instantiate_and_config(app, gov):
    assert app.query(gov.voting, {"rules": {}}) == RULES
    assert app.query(gov.voting, {"config": {}}) == {
        "electorate": gov.electorate, "admins_group": gov.admins, "proposers": "members"}
    assert app.query(gov.voting, {"list_proposals": {}}) == {"proposals": []}
    assert app.query(gov.voting, {"voter": {"address": gov["bob"]}}) == {"points": 1}
    assert app.query(gov.voting, {"voter": {"address": gov["erin"]}}) == {"points": None}


def test_decimals_are_canonical(app):
    gov = Gov(app, rules={"voting_period": 10, "quorum": "0.300", "threshold": "1.0", "allow_end_early": False})
    assert app.query(gov.voting, {"rules": {}}) == {
        "voting_period": 10, "quorum": "0.3", "threshold": "1", "allow_end_early": False}


@pytest.mark.parametrize("change, message", [
    ({"quorum": "0"}, "quorum must be greater than 0 and at most 1"),
    ({"quorum": "1.000000001"}, "quorum must be greater than 0 and at most 1"),
    ({"threshold": "0.499999999"}, "threshold must be between 0.5 and 1"),
    ({"threshold": "1.1"}, "threshold must be between 0.5 and 1"),
    ({"voting_period": 0}, "voting_period must be between 1 and 31536000 seconds"),
    ({"voting_period": 31_536_001}, "voting_period must be between 1 and 31536000 seconds"),
    ({"quorum": "0.1234567891"}, "invalid decimal '0.1234567891'"),
    ({"quorum": "-0.3"}, "invalid decimal '-0.3'"),
    ({"quorum": 0.3}, "invalid type"),
    ({"allow_end_early": "yes"}, "invalid type"),
    ({"extra": 1}, "unknown field `extra`"),
])
def test_instantiate_rejects_bad_rules(app, gov, change, message):
    rules = {**RULES, **change}
    with pytest.raises(ContractError, match=message):
        app.instantiate(gov.voting_code, {"rules": rules, "electorate": gov.electorate}, sender=gov.owner)


def test_instantiate_rejects_bad_electorates_and_fields(app, gov):
    code = gov.voting_code
    with pytest.raises(ContractError, match="electorate .* is not a tg4 contract"):
        app.instantiate(code, {"rules": RULES, "electorate": gov["bob"]}, sender=gov.owner)
    with pytest.raises(ContractError, match="admins_group .* is not a tg4 contract"):
        app.instantiate(code, {"rules": RULES, "electorate": gov.electorate, "admins_group": gov["bob"]},
                        sender=gov.owner)
    with pytest.raises(ContractError, match="[Ii]nvalid"):
        app.instantiate(code, {"rules": RULES, "electorate": "not-an-address"}, sender=gov.owner)
    with pytest.raises(ContractError, match="missing field `electorate`"):
        app.instantiate(code, {"rules": RULES}, sender=gov.owner)
    with pytest.raises(ContractError, match="unknown variant `everyone`"):
        app.instantiate(code, {"rules": RULES, "electorate": gov.electorate, "proposers": "everyone"},
                        sender=gov.owner)
    with pytest.raises(ContractError, match="unknown field `owner`"):
        app.instantiate(code, {"rules": RULES, "electorate": gov.electorate, "owner": gov.owner}, sender=gov.owner)


# --- propose ---------------------------------------------------------------------------------------

def test_member_proposes_and_its_points_vote_yes(app, gov):
    result = app.execute(gov.voting, {"propose": {"title": "t", "description": "d", "msgs": []}}, sender=gov["alice"])
    assert result.wasm_attribute("proposal_id") == "1"
    assert result.wasm_attribute("status") == "open"
    block_seconds = app.block.time_ns // 10**9
    assert gov.proposal(1) == {
        "id": 1, "title": "t", "description": "d", "msgs": [], "status": "open", "proposer": gov["alice"],
        "created_height": app.height, "expires_at": block_seconds + PERIOD, "rules": RULES, "total_points": 3,
        "votes": {"yes": 1, "no": 0, "abstain": 0, "veto": 0}}
    assert app.query(gov.voting, {"vote": {"proposal_id": 1, "voter": gov["alice"]}}) == {
        "vote": {"proposal_id": 1, "voter": gov["alice"], "vote": "yes", "points": 1}}
    assert app.query(gov.voting, {"vote": {"proposal_id": 1, "voter": gov["bob"]}}) == {"vote": None}


def test_non_member_cannot_propose(app, gov):
    with pytest.raises(ContractError, match="only members of the electorate with points may propose"):
        gov.propose("dave")
    assert app.query(gov.voting, {"list_proposals": {}}) == {"proposals": []}
    # A member with 0 points is not enough either.
    gov.set_members(add={"dave": 0})
    with pytest.raises(ContractError, match="only members of the electorate"):
        gov.propose("dave")
    assert app.query(gov.voting, {"list_proposals": {}}) == {"proposals": []}


def test_anyone_may_propose_in_anyone_mode(app):
    gov = Gov(app, proposers="anyone")
    proposal_id = gov.propose("erin")
    assert gov.proposal(proposal_id)["votes"] == {"yes": 0, "no": 0, "abstain": 0, "veto": 0}
    with pytest.raises(ContractError, match="no points in the electorate at the creation of proposal 1"):
        gov.vote("erin", proposal_id, "yes")


@pytest.mark.parametrize("body, message", [
    ({"title": "", "description": "d", "msgs": []}, "title must not be empty"),
    ({"title": "x" * 257, "description": "d", "msgs": []}, "title too long: at most 256"),
    ({"title": "t", "description": "d" * 16_385, "msgs": []}, "description too long: at most 16384"),
    ({"title": "t", "description": "d", "msgs": [{"bank": {"burn": {"amount": []}}}] * 33}, "msgs too long: at most 32"),
    ({"title": "t", "msgs": []}, "missing field `description`"),
    ({"title": 5, "description": "d", "msgs": []}, "invalid type"),
    ({"title": "t", "description": "d", "msgs": [{"teleport": {}}]}, "unknown variant `teleport`"),
    ({"title": "t", "description": "d", "msgs": {}}, "invalid type"),
    ({"title": "t", "description": "d", "msgs": [], "deposit": "1"}, "unknown field `deposit`"),
])
def test_propose_rejects_bad_input(app, gov, body, message):
    with pytest.raises(ContractError, match=message):
        app.execute(gov.voting, {"propose": body}, sender=gov["alice"])
    assert app.query(gov.voting, {"list_proposals": {}}) == {"proposals": []}


# --- votes -------------------------------------------------------------------------------------------

def test_vote_weights_come_from_the_creation_snapshot(app, gov):
    gov.set_members(add={"dave": 5})           # visible from the next height on
    app.next_block()
    proposal_id = gov.propose("alice")         # snapshot: alice 1, bob 1, carol 1, dave 5
    gov.set_members(add={"erin": 9, "bob": 7}, remove=["carol"])   # same block, after creation
    app.next_block()
    assert gov.proposal(proposal_id)["total_points"] == 8

    with pytest.raises(ContractError, match="no points in the electorate at the creation of proposal"):
        gov.vote("erin", proposal_id, "yes")
    gov.vote("bob", proposal_id, "no")         # 1 point then, though 7 now
    gov.vote("carol", proposal_id, "abstain")  # removed since, still votes with its snapshot point
    assert gov.tally(proposal_id) == {"yes": 1, "no": 1, "abstain": 1, "veto": 0, "total": 8,
                                      "quorum_reached": True, "status": "open"}
    gov.vote("dave", proposal_id, "veto")
    # yes 1 + nothing outstanding < ceil(0.51 * (8 - 1)) = 4: rejected early.
    assert gov.tally(proposal_id) == {"yes": 1, "no": 1, "abstain": 1, "veto": 5, "total": 8,
                                      "quorum_reached": True, "status": "rejected"}
    votes = app.query(gov.voting, {"list_votes": {"proposal_id": proposal_id}})["votes"]
    assert sorted((v["voter"], v["vote"], v["points"]) for v in votes) == sorted([
        (gov["alice"], "yes", 1), (gov["bob"], "no", 1), (gov["carol"], "abstain", 1), (gov["dave"], "veto", 5)])
    assert [v["voter"] for v in votes] == sorted(v["voter"] for v in votes)


def test_member_added_in_the_creation_block_cannot_vote(app, gov):
    gov.set_members(add={"dave": 4})           # same block as the proposal: not in its snapshot
    proposal_id = gov.propose("alice")
    assert gov.proposal(proposal_id)["total_points"] == 3
    app.next_block()
    with pytest.raises(ContractError, match="no points in the electorate"):
        gov.vote("dave", proposal_id, "yes")
    assert gov.tally(proposal_id)["yes"] == 1


def test_double_vote_is_refused(app, gov):
    proposal_id = gov.propose("alice")
    gov.vote("bob", proposal_id, "no")
    with pytest.raises(ContractError, match=f"^Already voted on proposal {proposal_id}$"):
        gov.vote("bob", proposal_id, "yes")
    with pytest.raises(ContractError, match="Already voted"):
        gov.vote("alice", proposal_id, "no")   # the proposer voted yes when proposing
    assert gov.tally(proposal_id)["yes"] == 1 and gov.tally(proposal_id)["no"] == 1


def test_vote_after_expiry_is_refused(app, gov):
    proposal_id = gov.propose("alice")
    app.next_block(seconds=PERIOD - 1)
    gov.vote("bob", proposal_id, "no")          # still open one second before the end
    app.next_block(seconds=1)
    with pytest.raises(ContractError, match=f"Voting on proposal {proposal_id} is over"):
        gov.vote("carol", proposal_id, "yes")
    assert gov.tally(proposal_id)["yes"] == 1


@pytest.mark.parametrize("body, message", [
    ({"proposal_id": 1, "vote": "maybe"}, "unknown variant `maybe`"),
    ({"proposal_id": "1", "vote": "yes"}, "invalid type"),
    ({"proposal_id": 1}, "missing field `vote`"),
    ({"proposal_id": 1, "vote": "yes", "points": 5}, "unknown field `points`"),
    ({"proposal_id": 7, "vote": "yes"}, "^Proposal 7 not found$"),
])
def test_vote_rejects_bad_input(app, gov, body, message):
    gov.propose("alice")
    with pytest.raises(ContractError, match=message):
        app.execute(gov.voting, {"vote": body}, sender=gov["bob"])
    assert gov.tally(1)["no"] + gov.tally(1)["yes"] == 1


# --- outcomes, execute, close --------------------------------------------------------------------

def test_passes_early_and_executes_a_group_update(app, gov):
    app.execute(gov.admins, {"update_admin": {"admin": gov.voting}}, sender=gov.owner)
    msg = wasm_execute(gov.admins, {"update_members": {"add": [{"addr": gov["dave"], "points": 1}], "remove": []}})
    proposal_id = gov.propose("alice", [msg])
    with pytest.raises(ContractError, match="cannot be executed: it is open"):
        gov.execute(proposal_id)
    result = gov.vote("bob", proposal_id, "yes")        # 2 of 3 >= ceil(0.51 * 3) = 2
    assert result.wasm_attribute("status") == "passed"
    assert gov.status(proposal_id) == "passed"
    with pytest.raises(ContractError, match="not open for voting: it is passed"):
        gov.vote("carol", proposal_id, "no")

    assert gov.group_points(gov.admins, "dave") is None
    gov.execute(proposal_id)                            # anyone may execute
    assert gov.group_points(gov.admins, "dave") == 1
    assert gov.status(proposal_id) == "executed"
    with pytest.raises(ContractError, match="cannot be executed: it is executed"):
        gov.execute(proposal_id)
    assert app.query(gov.admins, {"total_points": {"at_height": None}}) == {"points": 2}


def test_a_failing_message_fails_execution_and_the_proposal_stays_passed(app, gov):
    # The voting contract is not yet the electorate's admin: update_members will fail.
    msg = wasm_execute(gov.electorate, {"update_members": {"add": [{"addr": gov["erin"], "points": 2}], "remove": []}})
    proposal_id = gov.propose("alice", [msg])
    gov.vote("carol", proposal_id, "yes")
    with pytest.raises(ContractError, match="^Unauthorized$"):
        gov.execute(proposal_id)
    assert gov.status(proposal_id) == "passed"
    assert gov.group_points(gov.electorate, "erin") is None

    app.execute(gov.electorate, {"update_admin": {"admin": gov.voting}}, sender=gov.owner)
    gov.execute(proposal_id)
    assert gov.status(proposal_id) == "executed"
    assert gov.group_points(gov.electorate, "erin") == 2


def test_rejected_early_then_closed(app, gov):
    proposal_id = gov.propose("alice")
    gov.vote("bob", proposal_id, "no")
    assert gov.status(proposal_id) == "open"            # carol's yes could still pass it
    result = gov.vote("carol", proposal_id, "veto")
    assert result.wasm_attribute("status") == "rejected"
    with pytest.raises(ContractError, match="cannot be executed: it is rejected"):
        gov.execute(proposal_id)
    result = gov.close(proposal_id)
    assert result.wasm_attribute("status") == "rejected"
    assert gov.status(proposal_id) == "rejected"
    with pytest.raises(ContractError, match=f"^Proposal {proposal_id} is already closed$"):
        gov.close(proposal_id)


def test_expires_without_quorum_then_closed(app):
    gov = Gov(app, proposers="anyone", rules={**RULES, "quorum": "0.5"})
    proposal_id = gov.propose("erin")
    gov.vote("alice", proposal_id, "yes")               # 1 of 3 < quorum ceil(1.5) = 2
    with pytest.raises(ContractError, match="cannot be closed: it is open"):
        gov.close(proposal_id)
    app.next_block(seconds=PERIOD)
    assert gov.tally(proposal_id) == {"yes": 1, "no": 0, "abstain": 0, "veto": 0, "total": 3,
                                      "quorum_reached": False, "status": "expired"}
    with pytest.raises(ContractError, match="cannot be executed: it is expired"):
        gov.execute(proposal_id)
    gov.close(proposal_id)
    assert gov.status(proposal_id) == "expired"
    with pytest.raises(ContractError, match="already closed"):
        gov.close(proposal_id)


def test_without_early_end_the_outcome_waits_for_expiry(app):
    gov = Gov(app, rules={**RULES, "allow_end_early": False})
    passing = gov.propose("alice")
    failing = gov.propose("bob")
    for who in ("bob", "carol"):
        gov.vote(who, passing, "yes")
    gov.vote("alice", failing, "no")
    gov.vote("carol", failing, "abstain")
    assert (gov.status(passing), gov.status(failing)) == ("open", "open")
    with pytest.raises(ContractError, match="cannot be closed: it is open"):
        gov.close(failing)
    app.next_block(seconds=PERIOD)
    # failing: 3 votes >= quorum; yes 1 of 2 opinions < ceil(0.51 * 2) = 2.
    assert (gov.status(passing), gov.status(failing)) == ("passed", "rejected")
    with pytest.raises(ContractError, match="cannot be closed: it is passed"):
        gov.close(passing)
    gov.execute(passing)
    gov.close(failing)
    assert (gov.status(passing), gov.status(failing)) == ("executed", "rejected")


def test_abstain_is_excluded_from_the_threshold(app):
    gov = Gov(app, rules={**RULES, "allow_end_early": False},
              members={"alice": 2, "bob": 3, "carol": 5})
    proposal_id = gov.propose("alice")                  # yes 2
    gov.vote("bob", proposal_id, "no")                  # no 3 would beat yes 2 ...
    gov.vote("carol", proposal_id, "abstain")
    app.next_block(seconds=PERIOD)
    assert gov.tally(proposal_id)["status"] == "rejected"   # 2 < ceil(0.51 * 5) = 3

    gov2 = Gov(app, rules={**RULES, "allow_end_early": False},
               members={"alice": 3, "bob": 2, "carol": 5})
    proposal_id = gov2.propose("alice")                 # yes 3, no 2, abstain 5: 3 >= ceil(2.55) = 3
    gov2.vote("bob", proposal_id, "no")
    gov2.vote("carol", proposal_id, "abstain")
    gov2.app.next_block(seconds=PERIOD)
    assert gov2.tally(proposal_id) == {"yes": 3, "no": 2, "abstain": 5, "veto": 0, "total": 10,
                                       "quorum_reached": True, "status": "passed"}


def test_quorum_boundary_on_chain(app):
    # total 100, quorum 0.3: 29 points voting miss it, 30 reach it.
    people = {"alice": 29, "bob": 1, "carol": 70}
    gov = Gov(app, rules={**RULES, "allow_end_early": False}, members=people)
    short = gov.propose("alice")
    enough = gov.propose("alice")
    gov.vote("bob", enough, "abstain")
    app.next_block(seconds=PERIOD)
    assert gov.tally(short)["quorum_reached"] is False and gov.status(short) == "expired"
    assert gov.tally(enough)["quorum_reached"] is True and gov.status(enough) == "passed"


def test_execute_and_close_unknown_proposal(app, gov):
    with pytest.raises(ContractError, match="^Proposal 3 not found$"):
        gov.execute(3)
    with pytest.raises(ContractError, match="^Proposal 3 not found$"):
        gov.close(3)
    with pytest.raises(ContractError, match="Proposal 3 not found"):
        app.query(gov.voting, {"proposal": {"proposal_id": 3}})
    with pytest.raises(ContractError, match="Proposal 3 not found"):
        app.query(gov.voting, {"tally": {"proposal_id": 3}})


# --- code proposals, sudo --------------------------------------------------------------------------

def test_code_proposals_only_from_admins(app, gov):
    for msg in (STORE_CODE, {"custom": {"pin_code": {"checksum": "00" * 32}}},
                {"custom": {"migrate_contract": {"contract": gov.electorate, "checksum": "00" * 32, "msg": "e30="}}}):
        with pytest.raises(ContractError, match="only from members of the admins group"):
            gov.propose("bob", [msg])
    assert app.query(gov.voting, {"list_proposals": {}}) == {"proposals": []}
    proposal_id = gov.propose("alice", [STORE_CODE])
    assert gov.proposal(proposal_id)["msgs"] == [STORE_CODE]
    # Other custom messages are ordinary proposals.
    gov.propose("bob", [{"custom": {"update_params": {}}}])
    # TestApp refuses custom messages from unprivileged contracts: execution fails, stays passed.
    gov.vote("bob", proposal_id, "yes")
    with pytest.raises(AppError, match="custom messages are not accepted"):
        gov.execute(proposal_id)
    assert gov.status(proposal_id) == "passed"


def test_passed_code_proposal_dispatches_its_custom_message(module_cache_dir):
    seen = []

    def handler(ctx, contract, msg):
        seen.append((contract, msg))
        return [], None

    app = TestApp(cache_dir=module_cache_dir, custom_message=handler)
    gov = Gov(app)
    proposal_id = gov.propose("alice", [STORE_CODE])
    gov.vote("carol", proposal_id, "yes")
    gov.execute(proposal_id)
    assert len(seen) == 1 and seen[0][0] == gov.voting
    custom = seen[0][1] if isinstance(seen[0][1], dict) else json.loads(seen[0][1])
    assert custom == STORE_CODE["custom"]


def test_code_proposals_need_an_admins_group(app, gov):
    voting = app.instantiate(gov.voting_code, {"rules": RULES, "electorate": gov.electorate}, sender=gov.owner)
    with pytest.raises(ContractError, match="Code proposals are disabled"):
        app.execute(voting, {"propose": {"title": "t", "description": "", "msgs": [STORE_CODE]}}, sender=gov["alice"])
    assert app.query(voting, {"list_proposals": {}}) == {"proposals": []}


def test_sudo_propose_on_behalf(app, gov):
    def on_behalf(who: str, msgs):
        return app.sudo(gov.voting, {"propose_on_behalf": {
            "proposer": gov.people.get(who, who), "title": "new code", "description": "upload", "msgs": msgs}})

    with pytest.raises(ContractError, match="only from members of the admins group"):
        on_behalf("bob", [STORE_CODE])
    with pytest.raises(ContractError, match="only members of the electorate"):
        on_behalf("erin", [])
    with pytest.raises(ContractError, match="[Ii]nvalid"):
        on_behalf("nonsense", [])
    with pytest.raises(ContractError, match="missing field `proposer`"):
        app.sudo(gov.voting, {"propose_on_behalf": {"title": "t", "description": "", "msgs": []}})
    assert app.query(gov.voting, {"list_proposals": {}}) == {"proposals": []}

    result = on_behalf("alice", [STORE_CODE])
    proposal_id = int(result.wasm_attribute("proposal_id"))
    proposal = gov.proposal(proposal_id)
    assert (proposal["proposer"], proposal["msgs"], proposal["votes"]["yes"]) == (gov["alice"], [STORE_CODE], 1)


def test_sudo_privilege_change_is_accepted_and_unknown_sudo_refused(app, gov):
    app.sudo(gov.voting, {"privilege_change": {"promoted": {}}})
    app.sudo(gov.voting, {"privilege_change": {"demoted": {}}})
    with pytest.raises(ContractError, match="unknown variant `end_block`"):
        app.sudo(gov.voting, {"end_block": {}})


# --- update_rules ----------------------------------------------------------------------------------

def test_update_rules_only_through_a_passed_proposal(app, gov):
    new_rules = {"voting_period": 500, "quorum": "0.5", "threshold": "0.66", "allow_end_early": False}
    for who in ("alice", "owner"):
        sender = gov.owner if who == "owner" else gov["alice"]
        with pytest.raises(ContractError, match="^Unauthorized$"):
            app.execute(gov.voting, {"update_rules": new_rules}, sender=sender)
    assert app.query(gov.voting, {"rules": {}}) == RULES

    proposal_id = gov.propose("alice", [wasm_execute(gov.voting, {"update_rules": new_rules})])
    other = gov.propose("bob")
    gov.vote("bob", proposal_id, "yes")
    gov.execute(proposal_id)
    assert app.query(gov.voting, {"rules": {}}) == new_rules
    assert gov.proposal(other)["rules"] == RULES            # open proposals keep their rules
    later = gov.propose("carol")
    assert gov.proposal(later)["rules"] == new_rules
    assert gov.proposal(later)["expires_at"] == app.block.time_ns // 10**9 + 500


def test_update_rules_partial_and_invalid(app, gov):
    bad = gov.propose("alice", [wasm_execute(gov.voting, {"update_rules": {"threshold": "0.4"}})])
    gov.vote("bob", bad, "yes")
    with pytest.raises(ContractError, match="threshold must be between 0.5 and 1"):
        gov.execute(bad)
    assert gov.status(bad) == "passed"
    partial = gov.propose("alice", [wasm_execute(gov.voting, {"update_rules": {"quorum": "1"}})])
    gov.vote("carol", partial, "yes")
    gov.execute(partial)
    assert app.query(gov.voting, {"rules": {}}) == {**RULES, "quorum": "1"}


# --- queries ---------------------------------------------------------------------------------------

def test_proposal_lists_page_both_ways(app, gov):
    for _ in range(35):
        gov.propose("alice")
    assert gov.ids({"list_proposals": {}}) == list(range(1, 11))
    assert gov.ids({"list_proposals": {"start_after": 10, "limit": 5}}) == list(range(11, 16))
    assert gov.ids({"list_proposals": {"start_after": 20, "limit": 100}}) == list(range(21, 36))
    assert gov.ids({"list_proposals": {"start_after": 35}}) == []
    assert gov.ids({"reverse_proposals": {}}) == list(range(35, 25, -1))
    assert gov.ids({"reverse_proposals": {"start_before": 26, "limit": 3}}) == [25, 24, 23]
    assert gov.ids({"reverse_proposals": {"start_before": 3, "limit": 30}}) == [2, 1]
    assert len(gov.ids({"reverse_proposals": {"limit": 1000}})) == 30
    collected, start = [], None
    while True:
        page = gov.ids({"reverse_proposals": {"start_before": start, "limit": 7}})
        if not page:
            break
        collected += page
        start = page[-1]
    assert collected == list(range(35, 0, -1))


def test_list_votes_pages(app):
    gov = Gov(app, members={"alice": 1, "bob": 1, "carol": 1, "dave": 1, "erin": 1})
    proposal_id = gov.propose("alice")
    for who in ("bob", "carol", "dave"):
        gov.vote(who, proposal_id, "no")
    voters = sorted(gov[n] for n in ("alice", "bob", "carol", "dave"))
    first = app.query(gov.voting, {"list_votes": {"proposal_id": proposal_id, "limit": 2}})["votes"]
    assert [v["voter"] for v in first] == voters[:2]
    rest = app.query(gov.voting, {"list_votes": {"proposal_id": proposal_id, "start_after": voters[1]}})["votes"]
    assert [v["voter"] for v in rest] == voters[2:]
    assert app.query(gov.voting, {"list_votes": {"proposal_id": 99}}) == {"votes": []}


@pytest.mark.parametrize("msg, message", [
    ({"proposals": {}}, "unknown variant `proposals`"),
    ({"proposal": {}}, "missing field `proposal_id`"),
    ({"proposal": {"proposal_id": -1}}, "invalid value"),
    ({"list_proposals": {"limit": "ten"}}, "invalid type"),
    ({"rules": {"x": 1}}, "unknown field `x`"),
    ({"vote": {"proposal_id": 1, "voter": "BAD"}}, "addr_validate errored"),
    ({"voter": {}}, "missing field `address`"),
])
def test_bad_queries(app, gov, msg, message):
    with pytest.raises(ContractError, match=message):
        app.query(gov.voting, msg)


@pytest.mark.parametrize("msg, message", [
    ({"frobnicate": {}}, "unknown variant `frobnicate`"),
    ({"execute": {}}, "missing field `proposal_id`"),
    ({"close": {"proposal_id": "x"}}, "invalid type"),
    ({"update_rules": {"quorum": "0.5", "hack": True}}, "unknown field `hack`"),
    ({"propose": {"title": "t", "description": "d", "msgs": [{"wasm": {"execute": {"contract_addr": "x"}}}]}},
     "missing field"),
])
def test_bad_execute_messages(app, gov, msg, message):
    with pytest.raises(ContractError, match=message):
        app.execute(gov.voting, msg, sender=gov["alice"])
    assert app.query(gov.voting, {"list_proposals": {}}) == {"proposals": []}


def test_migrate_keeps_state(app, gov):
    gov.propose("alice")
    app.migrate(gov.voting, gov.voting_code, {}, sender=gov.owner)
    assert gov.status(1) == "open"
    assert app.query(gov.voting, {"rules": {}}) == RULES
    with pytest.raises(ContractError, match="unknown field"):
        app.migrate(gov.voting, gov.voting_code, {"x": 1}, sender=gov.owner)
