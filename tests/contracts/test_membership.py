"""The trusted circle (contracts/membership) on TestApp: batches and escrow, promotion, tg4
queries with snapshots, leaving and claims, punishment, deny list, rules, hooks, bad input.

The admin is a plain test account standing in for the voting contract.
"""
from __future__ import annotations

import pytest

from chain.app import bank
from chain.testing import AppError, ContractError
from support import artifact

DENOM = "ucnv"
ESCROW = 1_000
VP = 3_600  # voting_period, seconds


class Circle:
    """One instantiated trusted circle with two initial voting members m1, m2."""

    def __init__(self, app, hooks: bool = False):
        self.app = app
        self.admin = app.create_account("admin", {DENOM: 1_000_000, "uatom": 10_000})
        self.m1 = app.create_account("m1", {DENOM: 100_000})
        self.m2 = app.create_account("m2", {DENOM: 100_000})
        self.c1 = app.create_account("c1", {DENOM: 100_000, "uatom": 1_000})
        self.c2 = app.create_account("c2", {DENOM: 100_000})
        self.c3 = app.create_account("c3", {DENOM: 100_000})
        self.outsider = app.create_account("outsider", {DENOM: 100_000})
        self.code_id = app.store_code(artifact("membership"))
        self.addr = app.instantiate(self.code_id, self.config([self.m1, self.m2]), sender=self.admin,
                                    funds={DENOM: 2 * ESCROW}, label="trusted-circle", admin=self.admin)

    def config(self, members, deny=()):
        return {"denom": DENOM, "escrow_amount": str(ESCROW), "voting_period": VP, "admin": self.admin,
                "initial_members": list(members), "deny_list": list(deny)}

    def execute(self, msg, sender=None, funds=None):
        return self.app.execute(self.addr, msg, sender=sender or self.admin, funds=funds)

    def query(self, msg):
        return self.app.query(self.addr, msg)

    def status(self, addr):
        return self.query({"member_status": {"addr": addr}})

    def escrow(self, addr):
        return int(self.query({"escrow": {"addr": addr}})["amount"])

    def points(self, addr, at_height=None):
        return self.query({"member": {"addr": addr, "at_height": at_height}})["points"]

    def total(self, at_height=None):
        return self.query({"total_points": {"at_height": at_height}})["points"]

    def deposit(self, addr, amount):
        return self.execute({"deposit_escrow": {}}, sender=addr, funds={DENOM: amount})

    def snapshot(self):
        """Everything observable, to prove a failed call changed nothing."""
        return (self.query({"list_members_with_status": {"limit": 30}}), self.total(),
                self.query({"list_members": {"limit": 30}}), self.query({"pending_batches": {}}),
                self.query({"deny_list": {"limit": 30}}), self.query({"rules": {}}), self.query({"admin": {}}),
                self.query({"hooks": {}}), self.app.balance(self.addr, DENOM))


@pytest.fixture
def circle(app) -> Circle:
    return Circle(app)


def now(app) -> int:
    return app.block.time_ns // 10**9


def expect_error(circle: Circle, fn, text: str):
    before = circle.snapshot()
    with pytest.raises(ContractError) as err:
        fn()
    assert text in str(err.value), str(err.value)
    assert circle.snapshot() == before
    return err.value


# --- instantiate ---------------------------------------------------------------------------------------

def test_instantiate_initial_members_vote_with_escrow(app, circle):
    c = circle
    assert c.status(c.m1) == {"status": "voting", "claim_at": None}
    assert c.query({"escrow": {"addr": c.m2}}) == {"amount": str(ESCROW), "status": "voting"}
    assert c.total() == 2 and c.points(c.m1) == 1
    assert app.balance(c.addr, DENOM) == 2 * ESCROW
    assert c.query({"rules": {}}) == {"denom": DENOM, "escrow_amount": str(ESCROW), "voting_period": VP}
    assert c.query({"admin": {}}) == {"admin": c.admin}
    assert c.query({"hooks": {}}) == {"hooks": []}
    assert c.status(c.outsider) == {"status": None, "claim_at": None}
    assert c.query({"escrow": {"addr": c.outsider}}) == {"amount": "0", "status": None}


@pytest.mark.parametrize("funds, text", [
    (None, "must send exactly 2000ucnv"),
    ({DENOM: 1_999}, "must send exactly 2000ucnv"),
    ({DENOM: 2_001}, "must send exactly 2000ucnv"),
    ({"uatom": 2_000}, "must send exactly 2000ucnv"),
    ({DENOM: 2_000, "uatom": 1}, "must send exactly 2000ucnv"),
])
def test_instantiate_funds_must_equal_escrow_of_initial_members(app, circle, funds, text):
    with pytest.raises(ContractError, match=text):
        app.instantiate(circle.code_id, circle.config([circle.c1, circle.c2]), sender=circle.admin, funds=funds)


def test_instantiate_without_members_takes_no_funds(app, circle):
    with pytest.raises(ContractError, match="takes no funds"):
        app.instantiate(circle.code_id, circle.config([]), sender=circle.admin, funds={DENOM: 5})
    addr = app.instantiate(circle.code_id, circle.config([]), sender=circle.admin)
    assert app.query(addr, {"total_points": {}}) == {"points": 0}


@pytest.mark.parametrize("change, text", [
    ({"escrow_amount": "0"}, "escrow_amount must be greater than zero"),
    ({"voting_period": 0}, "voting_period must be between 1 and"),
    ({"voting_period": 10**12}, "voting_period must be between 1 and"),
    ({"denom": "u"}, "invalid denom"),
    ({"denom": "x" * 200}, "invalid denom"),
    ({"denom": "1abc"}, "invalid denom"),
    ({"admin": "not-an-address"}, "addr_validate"),
    ({"escrow_amount": 1000}, "Error parsing"),
    ({"surprise": 1}, "unknown field"),
])
def test_instantiate_bad_config(app, circle, change, text):
    msg = {**circle.config([]), **change}
    with pytest.raises(ContractError, match=text):
        app.instantiate(circle.code_id, msg, sender=circle.admin)


def test_instantiate_refuses_denied_or_duplicate_initial_members(app, circle):
    c = circle
    with pytest.raises(ContractError, match="deny list"):
        app.instantiate(c.code_id, c.config([c.c1], deny=[c.c1]), sender=c.admin, funds={DENOM: ESCROW})
    with pytest.raises(ContractError, match="duplicate address"):
        app.instantiate(c.code_id, c.config([c.c1, c.c1]), sender=c.admin, funds={DENOM: 2 * ESCROW})
    with pytest.raises(ContractError, match="at most 100 addresses"):
        app.instantiate(c.code_id, {**c.config([]), "deny_list": [c.c1] * 101}, sender=c.admin)


# --- batches and escrow ----------------------------------------------------------------------------------

def test_batch_lifecycle_promoted_when_all_paid(app, circle):
    c = circle
    result = c.execute({"add_voting_members": {"addrs": [c.c2, c.c1]}})
    assert result.wasm_attribute("batch_id") == "1"
    batch = c.query({"pending_batches": {}})["batches"]
    assert batch == [{"id": 1, "grace_ends_at": now(app) + VP, "members": sorted([c.c1, c.c2])}]
    assert c.status(c.c1)["status"] == "pending" and c.status(c.c2)["status"] == "pending"
    assert c.points(c.c1) is None and c.total() == 2

    c.deposit(c.c1, 400)
    assert c.status(c.c1)["status"] == "pending" and c.escrow(c.c1) == 400
    c.deposit(c.c1, 600)
    assert c.status(c.c1)["status"] == "pending_paid" and c.escrow(c.c1) == ESCROW
    app.next_block()
    c.execute({"check_pending": {}}, sender=c.outsider)          # c2 unpaid: nothing happens
    assert c.status(c.c1)["status"] == "pending_paid"
    c.deposit(c.c2, 1_500)                                         # all paid now
    assert c.status(c.c2)["status"] == "pending_paid"
    assert app.balance(c.addr, DENOM) == 2 * ESCROW + 2_500
    app.next_block()
    promoted_at = app.height
    c.execute({"check_pending": {}}, sender=c.outsider)          # the next execute promotes the batch
    assert c.status(c.c1)["status"] == "voting" and c.status(c.c2)["status"] == "voting"
    assert c.query({"pending_batches": {}}) == {"batches": []}
    assert c.total() == 4 and c.points(c.c2) == 1
    # tg4 snapshots: a change at height H is visible from H+1
    assert c.points(c.c1, at_height=promoted_at) is None
    assert c.points(c.c1, at_height=promoted_at + 1) == 1
    assert c.total(at_height=promoted_at) == 2 and c.total(at_height=promoted_at + 1) == 4
    assert c.total(at_height=1) == 0 and c.total(at_height=2) == 2


def test_batch_promoted_by_end_block(app, circle):
    c = circle
    c.execute({"add_voting_members": {"addrs": [c.c1]}})
    c.deposit(c.c1, ESCROW)
    assert c.status(c.c1)["status"] == "pending_paid"
    app.sudo(c.addr, {"end_block": {}})
    assert c.status(c.c1)["status"] == "voting"
    assert c.total() == 3


def test_grace_deadline_promotes_only_the_paid(app, circle):
    c = circle
    c.execute({"add_voting_members": {"addrs": [c.c1, c.c2]}})
    c.deposit(c.c1, ESCROW)
    c.deposit(c.c2, 10)
    app.next_block(seconds=VP - 10)
    app.sudo(c.addr, {"end_block": {}})                            # grace not over, not all paid
    assert c.status(c.c1)["status"] == "pending_paid"
    app.next_block(seconds=11)
    app.sudo(c.addr, {"end_block": {}})
    assert c.status(c.c1)["status"] == "voting"
    assert c.status(c.c2)["status"] == "pending"
    assert c.total() == 3
    assert c.query({"pending_batches": {}})["batches"][0]["members"] == [c.c2]
    # a late payer is promoted by the first check after paying
    c.deposit(c.c2, ESCROW - 10)
    assert c.status(c.c2)["status"] == "pending_paid"
    app.sudo(c.addr, {"end_block": {}})
    assert c.status(c.c2)["status"] == "voting"
    assert c.query({"pending_batches": {}}) == {"batches": []}


def test_grace_deadline_with_voting_period_plus_one(app, circle):
    c = circle
    c.execute({"add_voting_members": {"addrs": [c.c1, c.c2, c.c3]}})
    c.deposit(c.c1, ESCROW)
    c.deposit(c.c3, ESCROW)
    app.next_block(seconds=VP + 1)
    app.sudo(c.addr, {"end_block": {}})
    assert [c.status(a)["status"] for a in (c.c1, c.c2, c.c3)] == ["voting", "pending", "voting"]
    assert c.total() == 4


def test_add_voting_members_refusals(app, circle):
    c = circle
    c.execute({"add_voting_members": {"addrs": [c.c1]}})
    expect_error(c, lambda: c.execute({"add_voting_members": {"addrs": [c.m1]}}), "already in the trusted circle")
    expect_error(c, lambda: c.execute({"add_voting_members": {"addrs": [c.c1]}}), "status pending")
    expect_error(c, lambda: c.execute({"add_voting_members": {"addrs": []}}), "addrs is empty")
    expect_error(c, lambda: c.execute({"add_voting_members": {"addrs": [c.c2, c.c2]}}), "duplicate address")
    expect_error(c, lambda: c.execute({"add_voting_members": {"addrs": ["nonsense"]}}), "invalid bech32 address")
    expect_error(c, lambda: c.execute({"add_voting_members": {"addrs": [c.c2] * 101}}), "at most 100")


def test_non_voting_member_can_become_voting_candidate(app, circle):
    c = circle
    c.execute({"add_remove_non_voting_members": {"add": [c.c1]}})
    c.execute({"add_voting_members": {"addrs": [c.c1]}})
    assert c.status(c.c1)["status"] == "pending"


def test_deposit_escrow_bad_input(app, circle):
    c = circle
    c.execute({"add_voting_members": {"addrs": [c.c1]}})
    expect_error(c, lambda: c.execute({"deposit_escrow": {}}, sender=c.c1, funds={"uatom": 5}), "paid in ucnv only")
    expect_error(c, lambda: c.execute({"deposit_escrow": {}}, sender=c.c1, funds={DENOM: 5, "uatom": 5}),
                 "paid in ucnv only")
    expect_error(c, lambda: c.execute({"deposit_escrow": {}}, sender=c.c1), "no funds sent")
    expect_error(c, lambda: c.execute({"deposit_escrow": {}}, sender=c.outsider, funds={DENOM: 5}),
                 "not a member")
    # a zero coin is refused by the bank before the contract sees it
    before = c.snapshot()
    with pytest.raises(AppError, match="zero amount"):
        c.execute({"deposit_escrow": {}}, sender=c.c1, funds=[{"denom": DENOM, "amount": "0"}])
    assert c.snapshot() == before
    assert app.balance(c.c1, DENOM) == 100_000
    c.execute({"add_remove_non_voting_members": {"add": [c.c2]}})
    expect_error(c, lambda: c.deposit(c.c2, 5), "cannot deposit escrow with member status non_voting")


def test_voting_member_may_top_up_and_return_only_the_excess(app, circle):
    c = circle
    c.deposit(c.m1, 500)
    assert c.escrow(c.m1) == ESCROW + 500
    expect_error(c, lambda: c.execute({"return_escrow": {"amount": "501"}}, sender=c.m1), "can return at most 500")
    expect_error(c, lambda: c.execute({"return_escrow": {"amount": "0"}}, sender=c.m1), "nothing to return")
    before = app.balance(c.m1, DENOM)
    c.execute({"return_escrow": {"amount": "200"}}, sender=c.m1)
    assert app.balance(c.m1, DENOM) == before + 200 and c.escrow(c.m1) == ESCROW + 300
    c.execute({"return_escrow": {}}, sender=c.m1)                  # null = all of the excess
    assert app.balance(c.m1, DENOM) == before + 500 and c.escrow(c.m1) == ESCROW
    expect_error(c, lambda: c.execute({"return_escrow": {"amount": None}}, sender=c.m1), "nothing to return")
    c.execute({"add_voting_members": {"addrs": [c.c1]}})
    c.deposit(c.c1, 300)
    expect_error(c, lambda: c.execute({"return_escrow": {}}, sender=c.c1), "nothing to return")
    expect_error(c, lambda: c.execute({"return_escrow": {}}, sender=c.outsider), "not a member")


# --- leaving ---------------------------------------------------------------------------------------------

def test_leave_freezes_escrow_then_claim(app, circle):
    c = circle
    before = app.balance(c.m1, DENOM)
    app.next_block()
    c.execute({"leave": {}}, sender=c.m1)
    left_at = app.height
    claim_at = now(app) + 2 * VP
    assert c.status(c.m1) == {"status": "leaving", "claim_at": claim_at}
    assert c.points(c.m1) is None and c.total() == 1
    assert c.points(c.m1, at_height=left_at) == 1
    assert c.query({"list_members": {}})["members"] == [{"addr": c.m2, "points": 1, "start_height": None}]
    expect_error(c, lambda: c.execute({"leave": {}}, sender=c.m1), "cannot leave with member status leaving")
    expect_error(c, lambda: c.execute({"deposit_escrow": {}}, sender=c.m1, funds={DENOM: 1}), "status leaving")
    app.next_block(seconds=2 * VP - 5)
    expect_error(c, lambda: c.execute({"claim_escrow": {}}, sender=c.m1), f"escrow is frozen until {claim_at}")
    app.next_block(seconds=5)
    c.execute({"claim_escrow": {}}, sender=c.m1)
    assert app.balance(c.m1, DENOM) == before + ESCROW
    assert c.status(c.m1) == {"status": None, "claim_at": None}
    assert app.balance(c.addr, DENOM) == ESCROW
    expect_error(c, lambda: c.execute({"claim_escrow": {}}, sender=c.m1), "not a member")
    expect_error(c, lambda: c.execute({"claim_escrow": {}}, sender=c.m2), "status voting")


def test_end_block_returns_matured_escrows(app, circle):
    c = circle
    b1, b2 = app.balance(c.m1, DENOM), app.balance(c.m2, DENOM)
    c.execute({"leave": {}}, sender=c.m1)
    app.next_block(seconds=100)
    c.execute({"leave": {}}, sender=c.m2)
    assert c.total() == 0
    app.next_block(seconds=2 * VP - 100)
    app.sudo(c.addr, {"end_block": {}})                            # m1 matured, m2 not yet
    assert app.balance(c.m1, DENOM) == b1 + ESCROW and app.balance(c.m2, DENOM) == b2
    assert c.status(c.m1)["status"] is None and c.status(c.m2)["status"] == "leaving"
    app.next_block(seconds=100)
    app.sudo(c.addr, {"end_block": {}})
    assert app.balance(c.m2, DENOM) == b2 + ESCROW
    assert app.balance(c.addr, DENOM) == 0
    assert c.query({"list_members_with_status": {}}) == {"members": []}


def test_pending_and_non_voting_members_leave_at_once(app, circle):
    c = circle
    c.execute({"add_voting_members": {"addrs": [c.c1, c.c2]}})
    c.execute({"add_remove_non_voting_members": {"add": [c.c3]}})
    before = app.balance(c.c1, DENOM)
    c.deposit(c.c1, 700)
    c.execute({"leave": {}}, sender=c.c1)
    assert app.balance(c.c1, DENOM) == before and c.status(c.c1)["status"] is None
    assert c.query({"pending_batches": {}})["batches"][0]["members"] == [c.c2]
    c.execute({"leave": {}}, sender=c.c3)
    assert c.status(c.c3)["status"] is None
    c.execute({"leave": {}}, sender=c.c2)
    assert c.query({"pending_batches": {}}) == {"batches": []}
    expect_error(c, lambda: c.execute({"leave": {}}, sender=c.outsider), "not a member")


# --- punishment ------------------------------------------------------------------------------------------

def test_punish_burn(app, circle):
    c = circle
    supply = bank.supply(app.store, DENOM)
    result = c.execute({"punish_members": {"punishments": [
        {"member": c.m1, "slash_ratio": "0.25", "distribution": {"burn": {}}, "kick_out": False}]}})
    assert result.wasm_attribute("slashed") == "250"
    assert c.escrow(c.m1) == 750 and c.status(c.m1)["status"] == "voting"
    assert bank.supply(app.store, DENOM) == supply - 250
    assert app.balance(c.addr, DENOM) == 2 * ESCROW - 250


def test_punish_send_to_recipients(app, circle):
    c = circle
    before = [app.balance(a, DENOM) for a in (c.c1, c.c2, c.c3)]
    supply = bank.supply(app.store, DENOM)
    c.execute({"punish_members": {"punishments": [
        {"member": c.m2, "slash_ratio": "0.5", "distribution": {"send_to": [c.c1, c.c2, c.c3]}}]}})
    after = [app.balance(a, DENOM) for a in (c.c1, c.c2, c.c3)]
    gains = [a - b for a, b in zip(after, before)]
    assert sum(gains) == 500 and sorted(gains) == [166, 167, 167]
    assert c.escrow(c.m2) == 500
    assert bank.supply(app.store, DENOM) == supply


def test_punish_kick_out(app, circle):
    c = circle
    c.execute({"add_remove_non_voting_members": {"add": [c.c1]}})
    c.execute({"punish_members": {"punishments": [
        {"member": c.m1, "slash_ratio": "1", "distribution": {"burn": {}}, "kick_out": True},
        {"member": c.c1, "slash_ratio": "0", "distribution": {"burn": {}}, "kick_out": True}]}})
    assert c.status(c.m1) == {"status": "leaving", "claim_at": now(app) + 2 * VP}
    assert c.escrow(c.m1) == 0 and c.points(c.m1) is None and c.total() == 1
    assert c.status(c.c1)["status"] is None
    # a leaving member's frozen escrow can still be slashed
    c.execute({"leave": {}}, sender=c.m2)
    c.execute({"punish_members": {"punishments": [
        {"member": c.m2, "slash_ratio": "0.1", "distribution": {"burn": {}}}]}})
    assert c.escrow(c.m2) == 900 and c.status(c.m2)["status"] == "leaving"


def test_punish_bad_input(app, circle):
    c = circle

    def punish(**p):
        base = {"member": c.m1, "slash_ratio": "0.5", "distribution": {"burn": {}}}
        return lambda: c.execute({"punish_members": {"punishments": [{**base, **p}]}})

    expect_error(c, punish(slash_ratio="1.5"), "invalid slash_ratio")
    expect_error(c, punish(slash_ratio="-0.1"), "invalid slash_ratio")
    expect_error(c, punish(slash_ratio="0.1234567891"), "invalid slash_ratio")
    expect_error(c, punish(slash_ratio="abc"), "invalid slash_ratio")
    expect_error(c, punish(slash_ratio=0.5), "Error parsing")
    expect_error(c, punish(slash_ratio="0"), "neither slashes nor kicks out")
    expect_error(c, punish(member=c.outsider), "not a member")
    expect_error(c, punish(distribution={"send_to": []}), "send_to is empty")
    expect_error(c, punish(distribution={"mint": {}}), "unknown variant")
    expect_error(c, lambda: c.execute({"punish_members": {"punishments": []}}), "punishments is empty")


def test_pending_paid_slashed_below_escrow_is_pending_again(app, circle):
    c = circle
    c.execute({"add_voting_members": {"addrs": [c.c1, c.c2]}})
    c.deposit(c.c1, ESCROW)
    c.execute({"punish_members": {"punishments": [
        {"member": c.c1, "slash_ratio": "0.1", "distribution": {"burn": {}}}]}})
    assert c.status(c.c1)["status"] == "pending" and c.escrow(c.c1) == 900


# --- deny list, non-voting members, rules ----------------------------------------------------------------

def test_deny_list(app, circle):
    c = circle
    c.execute({"update_deny_list": {"add": [c.c1, c.c2]}})
    assert c.query({"is_denied": {"addr": c.c1}}) == {"denied": True}
    assert c.query({"deny_list": {}}) == {"deny_list": sorted([c.c1, c.c2])}
    expect_error(c, lambda: c.execute({"add_voting_members": {"addrs": [c.c3, c.c1]}}), "deny list")
    expect_error(c, lambda: c.execute({"add_remove_non_voting_members": {"add": [c.c2]}}), "deny list")
    assert c.status(c.c3)["status"] is None
    c.execute({"update_deny_list": {"remove": [c.c1]}})
    assert c.query({"is_denied": {"addr": c.c1}}) == {"denied": False}
    c.execute({"add_voting_members": {"addrs": [c.c1]}})
    assert c.status(c.c1)["status"] == "pending"
    expect_error(c, lambda: c.execute({"update_deny_list": {}}), "both empty")
    expect_error(c, lambda: c.execute({"update_deny_list": {"add": [c.c3], "remove": [c.c3]}}), "in both")


def test_non_voting_members(app, circle):
    c = circle
    c.execute({"add_remove_non_voting_members": {"add": [c.c1, c.c2], "remove": []}})
    assert c.status(c.c1) == {"status": "non_voting", "claim_at": None}
    assert c.points(c.c1) is None and c.total() == 2
    assert len(c.query({"list_members": {}})["members"]) == 2
    c.execute({"add_remove_non_voting_members": {"remove": [c.c1]}})
    assert c.status(c.c1)["status"] is None and c.status(c.c2)["status"] == "non_voting"
    expect_error(c, lambda: c.execute({"add_remove_non_voting_members": {"add": [c.c2]}}), "already in")
    expect_error(c, lambda: c.execute({"add_remove_non_voting_members": {"remove": [c.m1]}}),
                 "is not a non-voting member (status voting)")
    expect_error(c, lambda: c.execute({"add_remove_non_voting_members": {"remove": [c.c3]}}), "not a member")
    expect_error(c, lambda: c.execute({"add_remove_non_voting_members": {}}), "both empty")
    expect_error(c, lambda: c.execute({"add_remove_non_voting_members": {"add": [c.c3], "remove": [c.c3]}}),
                 "in both")


def test_edit_rules(app, circle):
    c = circle
    c.execute({"add_voting_members": {"addrs": [c.c1, c.c2]}})
    c.deposit(c.c1, ESCROW)
    c.deposit(c.c2, 500)
    c.execute({"edit_rules": {"escrow_amount": "1200", "voting_period": None}})
    assert c.query({"rules": {}}) == {"denom": DENOM, "escrow_amount": "1200", "voting_period": VP}
    assert c.status(c.c1)["status"] == "pending" and c.status(c.c2)["status"] == "pending"
    c.execute({"edit_rules": {"escrow_amount": "900"}})
    assert c.status(c.c1)["status"] == "pending_paid" and c.status(c.c2)["status"] == "pending"
    c.execute({"edit_rules": {"escrow_amount": "500"}})
    assert c.status(c.c2)["status"] == "pending_paid"
    c.execute({"check_pending": {}}, sender=c.outsider)            # all paid: promoted
    assert c.status(c.c1)["status"] == "voting" and c.status(c.c2)["status"] == "voting"
    assert c.total() == 4
    c.execute({"edit_rules": {"voting_period": 60}})
    assert c.query({"rules": {}})["voting_period"] == 60
    c.execute({"leave": {}}, sender=c.m1)
    assert c.status(c.m1)["claim_at"] == now(app) + 120
    expect_error(c, lambda: c.execute({"edit_rules": {}}), "nothing to edit")
    expect_error(c, lambda: c.execute({"edit_rules": {"escrow_amount": "0"}}), "greater than zero")
    expect_error(c, lambda: c.execute({"edit_rules": {"voting_period": 0}}), "voting_period must be")


# --- tg4 queries -----------------------------------------------------------------------------------------

def test_tg4_list_queries_and_paging(app, circle):
    c = circle
    c.execute({"add_voting_members": {"addrs": [c.c1, c.c2, c.c3]}})
    for a in (c.c1, c.c2, c.c3):
        c.deposit(a, ESCROW)
    app.sudo(c.addr, {"end_block": {}})
    everyone = sorted([c.m1, c.m2, c.c1, c.c2, c.c3])
    members = c.query({"list_members": {"start_after": None, "limit": None}})["members"]
    assert [m["addr"] for m in members] == everyone and all(m["points"] == 1 for m in members)
    page = c.query({"list_members": {"start_after": everyone[1], "limit": 2}})["members"]
    assert [m["addr"] for m in page] == everyone[2:4]
    by_points = c.query({"list_members_by_points": {}})["members"]
    assert by_points == members
    after = {"addr": everyone[2], "points": 1, "start_height": None}
    page = c.query({"list_members_by_points": {"start_after": after, "limit": 10}})["members"]
    assert [m["addr"] for m in page] == everyone[3:]
    assert c.query({"list_members": {"limit": 1000}})["members"] == members     # capped at 30
    statuses = c.query({"list_members_with_status": {"limit": 2}})["members"]
    assert statuses[0] == {"addr": everyone[0], "status": "voting", "claim_at": None, "escrow": str(ESCROW)}


# --- admin, hooks ------------------------------------------------------------------------------------------

def test_hooks_receive_voting_set_changes(app, circle):
    c = circle
    reflect = app.instantiate(app.store_code(artifact("test_reflect")), {}, sender=c.admin, label="reflect")
    c.execute({"add_hook": {"addr": reflect}})
    assert c.query({"hooks": {}}) == {"hooks": [reflect]}
    expect_error(c, lambda: c.execute({"add_hook": {"addr": reflect}}), "already a hook")
    # changes that do not touch the voting set send no hook
    c.execute({"add_voting_members": {"addrs": [c.c1]}})
    c.execute({"add_remove_non_voting_members": {"add": [c.c2]}})
    c.deposit(c.c1, ESCROW)
    # promotion and leaving change the voting set: test-reflect rejects member_changed_hook
    with pytest.raises(ContractError, match="member_changed_hook"):
        app.sudo(c.addr, {"end_block": {}})
    with pytest.raises(ContractError, match="member_changed_hook"):
        c.execute({"leave": {}}, sender=c.m1)
    assert c.status(c.c1)["status"] == "pending_paid" and c.status(c.m1)["status"] == "voting"
    c.execute({"remove_hook": {"addr": reflect}})
    expect_error(c, lambda: c.execute({"remove_hook": {"addr": reflect}}), "not a hook")
    app.sudo(c.addr, {"end_block": {}})
    c.execute({"leave": {}}, sender=c.m1)
    assert c.status(c.c1)["status"] == "voting" and c.status(c.m1)["status"] == "leaving"


def test_update_admin(app, circle):
    c = circle
    c.execute({"update_admin": {"admin": c.m1}})
    assert c.query({"admin": {}}) == {"admin": c.m1}
    expect_error(c, lambda: c.execute({"add_voting_members": {"addrs": [c.c1]}}), "Unauthorized")
    c.execute({"add_voting_members": {"addrs": [c.c1]}}, sender=c.m1)
    c.execute({"update_admin": {"admin": None}}, sender=c.m1)
    assert c.query({"admin": {}}) == {"admin": None}
    expect_error(c, lambda: c.execute({"update_admin": {"admin": c.m1}}, sender=c.m1), "Unauthorized")


ADMIN_MESSAGES = [
    {"add_voting_members": {"addrs": ["{c1}"]}},
    {"add_remove_non_voting_members": {"add": ["{c1}"], "remove": []}},
    {"punish_members": {"punishments": [{"member": "{m1}", "slash_ratio": "0.5", "distribution": {"burn": {}},
                                         "kick_out": True}]}},
    {"update_deny_list": {"add": ["{c1}"], "remove": []}},
    {"edit_rules": {"escrow_amount": "5", "voting_period": 5}},
    {"update_admin": {"admin": "{m1}"}},
    {"add_hook": {"addr": "{c1}"}},
    {"remove_hook": {"addr": "{c1}"}},
]


def _fill(value, c):
    if isinstance(value, str):
        return value.format(c1=c.c1, m1=c.m1)
    if isinstance(value, list):
        return [_fill(v, c) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, c) for k, v in value.items()}
    return value


@pytest.mark.parametrize("msg", ADMIN_MESSAGES, ids=[next(iter(m)) for m in ADMIN_MESSAGES])
def test_admin_messages_refuse_other_senders(app, circle, msg):
    c = circle
    for sender in (c.m1, c.outsider):
        expect_error(c, lambda: c.execute(_fill(msg, c), sender=sender), "Unauthorized")


# --- bad input ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("msg, text", [
    ({"mint_escrow": {}}, "unknown variant"),
    ({"add_voting_members": {}}, "missing field `addrs`"),
    ({"add_voting_members": {"addrs": "x"}}, "Error parsing"),
    ({"add_voting_members": {"addrs": [1]}}, "Error parsing"),
    ({"add_voting_members": {"addrs": [], "extra": 1}}, "unknown field"),
    ({"edit_rules": {"voting_period": -1}}, "Error parsing"),
    ({"edit_rules": {"escrow_amount": "1e3"}}, "Error parsing"),
    ({"add_hook": {"addr": "a" * 5000}}, "input too long for addr_validate"),
    ({"add_hook": {}}, "missing field `addr`"),
    ({"return_escrow": {"amount": 5}}, "Error parsing"),
    ({"leave": {"now": True}}, "unknown field"),
    ({"punish_members": {"punishments": [{"member": "x", "slash_ratio": "1", "distribution": {"burn": {}}}] * 101}},
     "at most 100 punishments"),
    ({"update_deny_list": {"add": ["{c1}"] * 101}}, "at most 100 addresses"),
    ({"add_remove_non_voting_members": {"add": ["{c1}"] * 101}}, "at most 100 addresses"),
])
def test_bad_execute_messages(app, circle, msg, text):
    expect_error(circle, lambda: circle.execute(_fill(msg, circle)), text)


def test_funds_refused_by_messages_that_take_none(app, circle):
    c = circle
    expect_error(c, lambda: c.execute({"check_pending": {}}, sender=c.m1, funds={DENOM: 5}), "takes no funds")
    expect_error(c, lambda: c.execute({"leave": {}}, sender=c.m1, funds={DENOM: 5}), "takes no funds")
    expect_error(c, lambda: c.execute({"add_voting_members": {"addrs": [c.c1]}}, funds={DENOM: 5}), "takes no funds")


@pytest.mark.parametrize("msg, text", [
    ({"members": {}}, "unknown variant"),
    ({"member": {}}, "missing field `addr`"),
    ({"member": {"addr": "bogus"}}, "invalid bech32 address"),
    ({"member_status": {"addr": 5}}, "Error parsing"),
    ({"total_points": {"at_height": "x"}}, "Error parsing"),
    ({"list_members": {"limit": -1}}, "Error parsing"),
    ({"rules": {"x": 1}}, "unknown field"),
])
def test_bad_queries(app, circle, msg, text):
    with pytest.raises(ContractError, match=text):
        circle.query(msg)


def test_sudo_unknown_message(app, circle):
    expect_error(circle, lambda: app.sudo(circle.addr, {"begin_block": {}}), "unknown variant")


def test_migrate_records_version(app, circle):
    c = circle
    app.migrate(c.addr, c.code_id, {}, sender=c.admin)
    assert b"conclave:membership" in app.query_raw(c.addr, b"contract_info")
    with pytest.raises(ContractError, match="unknown field"):
        app.migrate(c.addr, c.code_id, {"x": 1}, sender=c.admin)
