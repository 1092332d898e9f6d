"""Governance-gated code upload and upgrade, end to end on TestApp with the real genesis contracts.

An admin proposes new code with a migration, the circle votes, anyone executes, and the
voting contract (holding gov_executor) stores the code and migrates the contract. Every other
road for new code is closed, failures leave nothing half-applied, and blobs of failed
proposals are pruned.
"""
from __future__ import annotations

import gzip
import hashlib

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from chain.app.params import MAX_WASM_SIZE
from chain.testing import AppError, ContractError, InvalidRequest, VmError
from support import artifact
from genesis_setup import DENOM, build_genesis

V2 = artifact("test_counter_v2")
V2_CHECKSUM = hashlib.sha256(V2).hexdigest()


class Circle:
    """The genesis contracts with three members (m1 also the one admin) and a counter governed by vote."""

    def __init__(self, app):
        self.app = app
        self.m1, self.m2, self.m3 = (app.create_account(n, {DENOM: 10_000}) for n in ("m1", "m2", "m3"))
        self.outsider = app.create_account("outsider", {DENOM: 10_000})
        deployer = app.create_account("deployer", {DENOM: 10_000})
        self.g = build_genesis(app, members=[self.m1, self.m2, self.m3], admins=[self.m1], deployer=deployer)
        self.voting = self.g.voting
        app.grant_privilege(self.voting, "gov_executor")
        self.counter_code = app.store_code(artifact("test_counter"))    # TEST-ONLY: genesis-style
        self.counter = app.instantiate(self.counter_code, {"count": 5}, sender=self.m1, label="counter",
                                       admin=self.voting)
        app.execute(self.counter, {"increment": {}}, sender=self.m2)     # count 6
        app.next_block()

    def proposal(self, proposal_id: int) -> dict:
        return self.app.query(self.voting, {"proposal": {"proposal_id": proposal_id}})

    def proposals(self) -> list[dict]:
        return self.app.query(self.voting, {"list_proposals": {}})["proposals"]

    def vote(self, voter: str, proposal_id: int, vote: str = "yes") -> None:
        self.app.execute(self.voting, {"vote": {"proposal_id": proposal_id, "vote": vote}}, sender=voter)

    def execute(self, proposal_id: int, sender: str | None = None):
        return self.app.execute(self.voting, {"execute": {"proposal_id": proposal_id}}, sender=sender or self.outsider)

    def snapshot(self) -> tuple:
        """Everything a failed upgrade must leave as it was."""
        info = self.app.contract_info(self.counter)
        return (len(self.app.codes()), info.code_id, self.app.contract_history(self.counter),
                self.app.query(self.counter, {"count": {}}), self.app.query(self.counter, {"version": {}}))


@pytest.fixture
def circle(app):
    return Circle(app)


def test_admin_upgrades_a_contract_through_a_vote(app, circle):
    c = circle
    codes_before = len(app.codes())
    proposal_id = c.app.propose_code(c.m1, V2, "Counter v2", "increment adds 2",
                                     migrate={"contract": c.counter, "msg": {}})
    pending = app.pending_code(V2_CHECKSUM)
    assert pending is not None and pending.proposer == c.m1 and pending.proposal_id == proposal_id
    assert pending.size == len(V2)
    proposal = c.proposal(proposal_id)
    assert proposal["proposer"] == c.m1 and proposal["status"] == "open"
    assert proposal["msgs"] == [
        {"custom": {"store_code": {"checksum": V2_CHECKSUM}}},
        {"custom": {"migrate_contract": {"contract": c.counter, "checksum": V2_CHECKSUM, "msg": "e30="}}},   # base64 of {}
    ]
    assert len(app.codes()) == codes_before                          # nothing stored before the vote

    c.vote(c.m2, proposal_id)
    assert c.proposal(proposal_id)["status"] == "passed"
    result = c.execute(proposal_id)                                   # anyone may execute

    stored = next(e for e in result.events if e.type == "store_code")
    new_code_id = int(stored.get("code_id"))
    assert stored.get("code_checksum") == V2_CHECKSUM and stored.get("proposal_id") == str(proposal_id)
    assert len(app.codes()) == codes_before + 1
    assert app.code_info(new_code_id).checksum == V2_CHECKSUM and app.code_info(new_code_id).creator == c.m1
    assert app.contract_info(c.counter).code_id == new_code_id
    history = app.contract_history(c.counter)
    assert [(h.operation, h.code_id) for h in history] == [("init", c.counter_code), ("migrate", new_code_id)]
    # state preserved, new behaviour live
    assert app.query(c.counter, {"count": {}}) == {"count": 6}
    assert app.query(c.counter, {"migrated_from": {}}) == {"version": 1}
    assert app.query(c.counter, {"version": {}}) == {"version": 2}
    app.execute(c.counter, {"increment": {}}, sender=c.m3)
    assert app.query(c.counter, {"count": {}}) == {"count": 8}
    assert app.pending_code(V2_CHECKSUM) is None                      # the blob became the code
    assert c.proposal(proposal_id)["status"] == "executed"
    with pytest.raises(ContractError):
        c.execute(proposal_id)                                        # only once


def test_upload_without_migration_stores_the_code_only(app, circle):
    c = circle
    proposal_id = app.propose_code(c.m1, V2, "Counter v2 code", "no migration")
    assert c.proposal(proposal_id)["msgs"] == [{"custom": {"store_code": {"checksum": V2_CHECKSUM}}}]
    c.vote(c.m2, proposal_id)
    c.execute(proposal_id)
    assert [code.checksum for code in app.codes()][-1] == V2_CHECKSUM
    assert app.contract_info(c.counter).code_id == c.counter_code

    # the code is now on chain: a later proposal only migrates to it
    migrate_id = app.propose_code(c.m1, V2, "Migrate to v2", "code already stored",
                                  migrate={"contract": c.counter, "msg": {"count": 40}})
    assert [next(iter(m["custom"])) for m in c.proposal(migrate_id)["msgs"]] == ["migrate_contract"]
    assert app.pending_code(V2_CHECKSUM) is None
    c.vote(c.m3, migrate_id)
    c.execute(migrate_id)
    assert app.query(c.counter, {"count": {}}) == {"count": 40}
    with pytest.raises(InvalidRequest, match="already stored as code id"):
        app.propose_code(c.m1, V2, "Again", "nothing to do")


@pytest.mark.parametrize("who", ["m2", "outsider"])
def test_non_admin_cannot_propose_code_and_no_blob_is_kept(app, circle, who):
    c = circle
    with pytest.raises(ContractError, match="admins group|member"):
        app.propose_code(getattr(c, who), V2, "Sneaky", "not an admin", migrate={"contract": c.counter, "msg": {}})
    assert app.pending_code(V2_CHECKSUM) is None
    assert c.proposals() == []


def test_rejected_proposal_prunes_its_blob_and_stores_nothing(app, circle):
    c = circle
    codes_before = len(app.codes())
    proposal_id = app.propose_code(c.m1, V2, "Counter v2", "members say no")
    c.vote(c.m2, proposal_id, "no")
    c.vote(c.m3, proposal_id, "veto")
    assert c.proposal(proposal_id)["status"] == "rejected"
    app.execute(c.voting, {"close": {"proposal_id": proposal_id}}, sender=c.outsider)
    assert app.pending_code(V2_CHECKSUM) is not None                 # until end_block prunes it
    events = app.end_block()
    assert [(e.type, e.get("code_checksum"), e.get("reason")) for e in events] == [
        ("prune_code", V2_CHECKSUM, "proposal_rejected")]
    assert app.pending_code(V2_CHECKSUM) is None
    assert len(app.codes()) == codes_before and V2_CHECKSUM not in {code.checksum for code in app.codes()}
    with pytest.raises(ContractError):
        c.execute(proposal_id)
    # the same code may be proposed afresh
    assert app.propose_code(c.m1, V2, "Counter v2, again", "second try") == proposal_id + 1


def test_expired_blob_is_pruned_and_cannot_be_stored_later(app, circle):
    c = circle
    proposal_id = app.propose_code(c.m1, V2, "Counter v2", "passes but is executed too late")
    c.vote(c.m2, proposal_id)
    assert app.end_block() == []                                      # a passed proposal keeps its blob
    expires_at = app.pending_code(V2_CHECKSUM).expires_at
    app.next_block(seconds=expires_at - app.block.time_ns // 10**9)
    assert [e.get("reason") for e in app.end_block()] == ["expired"]
    codes_before = len(app.codes())
    with pytest.raises(AppError, match="no pending code with checksum"):
        c.execute(proposal_id)
    assert len(app.codes()) == codes_before
    assert c.proposal(proposal_id)["status"] == "passed"


def test_failing_migration_leaves_nothing_half_applied(app, circle):
    c = circle
    hostile = artifact("test_hostile")                                # has no migrate entry point
    proposal_id = app.propose_code(c.m1, hostile, "Break the counter", "hostile has no migrate",
                                   migrate={"contract": c.counter, "msg": {}})
    c.vote(c.m2, proposal_id)
    before = c.snapshot()
    with pytest.raises(VmError, match="no migrate entry point"):
        c.execute(proposal_id)
    assert c.snapshot() == before                                     # code count, code id, history, state
    assert app.pending_code(hashlib.sha256(hostile).hexdigest()) is not None   # the blob survived the rollback
    assert c.proposal(proposal_id)["status"] == "passed"


def test_storing_code_any_other_way_is_refused(app, circle):
    c = circle
    reflect = app.instantiate(app.store_code(artifact("test_reflect")), {}, sender=c.m1, label="reflect")
    store = {"custom": {"store_code": {"checksum": V2_CHECKSUM}}}
    with pytest.raises(AppError, match="holds no privilege gov_executor.*only through a passed code proposal"):
        app.execute(reflect, {"dispatch": {"msgs": [{"id": 0, "payload": "", "msg": store, "gas_limit": None,
                                                     "reply_on": "never"}]}}, sender=c.m1)
    # an admin writing the store_code message by hand: the vote passes, but there is no pending blob
    result = app.execute(c.voting, {"propose": {"title": "Store by hand", "description": "", "msgs": [store]}},
                         sender=c.m1)
    proposal_id = int(result.wasm_attribute("proposal_id"))
    c.vote(c.m2, proposal_id)
    codes_before = len(app.codes())
    with pytest.raises(AppError, match="no pending code .*only through a passed code proposal"):
        c.execute(proposal_id)
    assert len(app.codes()) == codes_before


def test_params_changed_by_governance_bound_code_proposals(app, circle):
    c = circle
    update = {"custom": {"update_params": {"max_code_proposal_bytes": 100_000}}}
    result = app.execute(c.voting, {"propose": {"title": "Smaller uploads", "description": "", "msgs": [update]}},
                         sender=c.m2)                                   # not a code proposal: any member
    proposal_id = int(result.wasm_attribute("proposal_id"))
    c.vote(c.m3, proposal_id)
    c.execute(proposal_id)
    with pytest.raises(InvalidRequest, match="limit is 100000 bytes .*max_code_proposal_bytes"):
        app.propose_code(c.m1, V2, "Counter v2", "too big now")
    assert c.proposals()[-1]["id"] == proposal_id


@pytest.mark.parametrize("wasm,reason", [
    (b"", "invalid wasm: the wasm code is empty"),
    (b"\x00asm garbage", "invalid wasm"),
    (b"not wasm at all" * 10, "invalid wasm"),
    (b"\x00asm\x01\x00\x00\x00" + b"\xff" * (MAX_WASM_SIZE + 1), "the limit is"),
    (gzip.compress(b"\x00" * (5 << 20)), "invalid wasm"),             # a gzip bomb inflating past the limit
])
def test_bad_wasm_is_refused_at_once(app, circle, wasm, reason):
    c = circle
    with pytest.raises(InvalidRequest, match=reason):
        app.propose_code(c.m1, wasm, "Bad", "bad wasm", migrate={"contract": c.counter, "msg": {}})
    assert c.proposals() == []
    assert app.end_block() == []


@pytest.mark.parametrize("migrate,reason", [
    ({"contract": "conclave1nope", "msg": {}}, "invalid migrate.contract"),
    ({"contract": None, "msg": {}}, "invalid migrate.contract"),
    ({"contract": "x"}, "invalid migrate"),
])
def test_bad_migrate_target_is_refused_at_once(app, circle, migrate, reason):
    with pytest.raises(InvalidRequest, match=reason):
        app.propose_code(circle.m1, V2, "Bad", "bad target", migrate=migrate)
    assert circle.proposals() == []


def test_migrate_target_must_exist(app, circle):
    with pytest.raises(AppError, match="no such contract"):
        app.propose_code(circle.m1, V2, "Bad", "no such contract", migrate={"contract": circle.m2, "msg": {}})
    assert circle.proposals() == [] and app.pending_code(V2_CHECKSUM) is None


def test_same_code_twice_while_pending_is_refused(app, circle):
    first = app.propose_code(circle.m1, V2, "Counter v2", "first")
    with pytest.raises(InvalidRequest, match=f"already pending in proposal {first}"):
        app.propose_code(circle.m1, V2, "Counter v2", "second")


def test_the_voting_contract_refuses_a_bad_title_and_nothing_is_kept(app, circle):
    with pytest.raises(ContractError):
        app.propose_code(circle.m1, V2, "   ", "blank title")
    assert app.pending_code(V2_CHECKSUM) is None


def test_no_governance_contract_no_code_proposals(app, circle):
    app.revoke_privilege(circle.voting, "gov_executor")
    with pytest.raises(AppError, match="grant gov_executor to the voting contract"):
        app.propose_code(circle.m1, V2, "Counter v2", "no executor")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2048) | st.builds(lambda tail: b"\x00asm\x01\x00\x00\x00" + tail, st.binary(max_size=512)))
def test_random_bytes_never_open_a_proposal(app, circle, wasm):
    with pytest.raises(InvalidRequest, match="code proposal refused"):
        app.propose_code(circle.m1, wasm, "Fuzz", "random bytes")
    assert circle.proposals() == []
