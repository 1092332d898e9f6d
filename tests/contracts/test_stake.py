"""The stake contract (tg4) on the in-process chain: bonding native tokens for points,
unbonding claims paid by claim and at end block, slashing by registered slashers, snapshots,
hooks whose failure reverts the change, and refusal of bad input (each refusal changes
nothing, funds included)."""
from __future__ import annotations

import pytest

from chain.testing import AppError, ContractError, TestApp
from support import artifact

DENOM = "ustake"
PERIOD = 3_600
CONFIG = {"denom": DENOM, "tokens_per_point": "1000", "min_bond": "1500", "unbonding_period": PERIOD}


@pytest.fixture
def admin(app: TestApp) -> str:
    return app.create_account("admin", {"ucnv": 1_000})


@pytest.fixture
def people(app: TestApp) -> dict[str, str]:
    return {name: app.create_account(name, {DENOM: 100_000, "ucnv": 1_000}) for name in ("alice", "bob", "carol")}


@pytest.fixture
def code_id(app: TestApp) -> int:
    return app.store_code(artifact("stake"))


@pytest.fixture
def stake(app: TestApp, code_id: int, admin: str) -> str:
    return app.instantiate(code_id, {**CONFIG, "admin": admin, "preauths_slashing": 0},
                           sender=admin, label="stake", admin=admin)


@pytest.fixture
def slasher(app: TestApp, stake: str, admin: str) -> str:
    addr = app.create_account("valset")
    app.execute(stake, {"add_slasher": {"addr": addr}}, sender=admin)
    return addr


def points(app, contract, addr, at_height=None):
    return app.query(contract, {"member": {"addr": addr, "at_height": at_height}})["points"]


def total(app, contract, at_height=None):
    return app.query(contract, {"total_points": {"at_height": at_height}})["points"]


def staked(app, contract, addr):
    answer = app.query(contract, {"staked": {"address": addr}})
    assert answer["stake"]["denom"] == DENOM
    return int(answer["stake"]["amount"])


def claims(app, contract, addr):
    return [(int(c["amount"]), c["release_at"]) for c in app.query(contract, {"claims": {"address": addr}})["claims"]]


def bond(app, contract, who, amount):
    return app.execute(contract, {"bond": {}}, sender=who, funds={DENOM: amount})


def unbond(app, contract, who, tokens):
    return app.execute(contract, {"unbond": {"tokens": str(tokens)}}, sender=who)


def now(app):
    return app.block.time_ns // 10**9


def test_instantiate_and_config(app, stake, admin):
    assert app.query(stake, {"config": {}}) == {**CONFIG, "preauths_slashing": 0}
    assert app.query(stake, {"admin": {}}) == {"admin": admin}
    assert app.query(stake, {"hooks": {}}) == {"hooks": []}
    assert app.query(stake, {"list_slashers": {}}) == {"slashers": []}
    assert total(app, stake) == 0
    assert app.query(stake, {"list_members": {}}) == {"members": []}


def test_instantiate_refuses_bad_config(app, code_id, admin):
    bad = [
        ({"tokens_per_point": "0"}, "^Invalid config: tokens_per_point must be at least 1$"),
        ({"min_bond": "0"}, "^Invalid config: min_bond must be at least 1$"),
        ({"denom": ""}, "^Invalid config: denom"),
        ({"denom": "u" * 129}, "^Invalid config: denom"),
        ({"denom": "9abc"}, "^Invalid config: denom"),
        ({"unbonding_period": 10**10}, "^Invalid config: unbonding_period"),
        ({"unbonding_period": -1}, "^Error parsing into type"),
        ({"tokens_per_point": "ten"}, "^Error parsing into type"),
        ({"admin": "bogus"}, "^Generic error: addr_validate errored"),
        ({"admin": "c" * 100}, "^Address too long"),
        ({"extra": True}, "unknown field `extra`"),
    ]
    for change, error in bad:
        with pytest.raises(ContractError, match=error):
            app.instantiate(code_id, {**CONFIG, **change}, sender=admin)
    for field in CONFIG:
        msg = {k: v for k, v in CONFIG.items() if k != field}
        with pytest.raises(ContractError, match=f"missing field `{field}`"):
            app.instantiate(code_id, msg, sender=admin)


def test_bond_gives_points_from_min_bond(app, stake, people):
    alice, bob = people["alice"], people["bob"]
    result = bond(app, stake, alice, 1_499)
    assert result.wasm_attribute("bonded") == "1499"
    assert points(app, stake, alice) is None                 # below min_bond: not a member
    assert staked(app, stake, alice) == 1_499
    bond(app, stake, alice, 1)
    assert points(app, stake, alice) == 1                    # floor(1500 / 1000)
    bond(app, stake, alice, 2_499)
    assert points(app, stake, alice) == 3                    # floor(3999 / 1000)
    bond(app, stake, bob, 10_000)
    assert total(app, stake) == 13
    assert app.balance(alice, DENOM) == 100_000 - 3_999
    assert app.balance(stake, DENOM) == 13_999
    assert app.query(stake, {"list_members_by_points": {}})["members"] == [
        {"addr": bob, "points": 10, "start_height": None}, {"addr": alice, "points": 3, "start_height": None}]


def test_bond_refuses_bad_funds(app, stake, people):
    alice = people["alice"]
    with pytest.raises(ContractError, match="^No funds sent: bond requires funds in the stake denom$"):
        app.execute(stake, {"bond": {}}, sender=alice)
    with pytest.raises(ContractError, match="^Wrong denom: expected ustake, got ucnv$"):
        app.execute(stake, {"bond": {}}, sender=alice, funds={"ucnv": 100})
    with pytest.raises(ContractError, match="^Bond accepts exactly one coin: the stake denom$"):
        app.execute(stake, {"bond": {}}, sender=alice, funds={DENOM: 2_000, "ucnv": 100})
    # a zero coin never reaches the contract: the chain refuses it (the contract would too)
    with pytest.raises(AppError, match="zero amount"):
        app.execute(stake, {"bond": {}}, sender=alice, funds=[{"denom": DENOM, "amount": "0"}])
    with pytest.raises(ContractError, match="unknown field `amount`"):
        app.execute(stake, {"bond": {"amount": "5"}}, sender=alice, funds={DENOM: 2_000})
    assert app.balance(alice, DENOM) == 100_000 and app.balance(alice, "ucnv") == 1_000
    assert staked(app, stake, alice) == 0 and points(app, stake, alice) is None


def test_unbond_creates_claims_and_refuses_bad_amounts(app, stake, people):
    alice = people["alice"]
    bond(app, stake, alice, 5_000)
    with pytest.raises(ContractError, match="^Cannot unbond 5001 tokens: only 5000 bonded$"):
        unbond(app, stake, alice, 5_001)
    with pytest.raises(ContractError, match="^Cannot unbond 1 tokens: only 0 bonded$"):
        unbond(app, stake, people["bob"], 1)
    with pytest.raises(ContractError, match="^Cannot unbond zero tokens$"):
        unbond(app, stake, alice, 0)
    with pytest.raises(ContractError, match="^Error parsing into type"):
        app.execute(stake, {"unbond": {"tokens": 5}}, sender=alice)
    with pytest.raises(ContractError, match="missing field `tokens`"):
        app.execute(stake, {"unbond": {}}, sender=alice)
    with pytest.raises(ContractError, match="^This message does not accept funds$"):
        app.execute(stake, {"unbond": {"tokens": "1"}}, sender=alice, funds={DENOM: 1})
    assert staked(app, stake, alice) == 5_000 and claims(app, stake, alice) == []
    unbond(app, stake, alice, 1_000)
    unbond(app, stake, alice, 500)                                     # same second: merged
    assert points(app, stake, alice) == 3
    app.next_block(seconds=10)
    unbond(app, stake, alice, 2_000)
    assert points(app, stake, alice) == 1                              # 1,500 left: exactly min_bond
    assert claims(app, stake, alice) == [(1_500, now(app) - 10 + PERIOD), (2_000, now(app) + PERIOD)]
    assert app.balance(stake, DENOM) == 5_000


def test_claims_mature_and_are_paid_by_claim_and_end_block(app, stake, people):
    alice, bob = people["alice"], people["bob"]
    bond(app, stake, alice, 5_000)
    bond(app, stake, bob, 5_000)
    unbond(app, stake, alice, 2_000)
    unbond(app, stake, bob, 3_000)
    app.next_block(seconds=PERIOD - 1)
    with pytest.raises(ContractError, match="^Nothing to claim: no claim has matured$"):
        app.execute(stake, {"claim": {}}, sender=alice)
    app.sudo(stake, {"end_block": {}})
    assert app.balance(alice, DENOM) == 95_000 and app.balance(bob, DENOM) == 95_000
    app.next_block(seconds=1)
    result = app.execute(stake, {"claim": {}}, sender=alice)
    assert result.wasm_attribute("amount") == "2000"
    assert app.balance(alice, DENOM) == 97_000
    assert claims(app, stake, alice) == []
    with pytest.raises(ContractError, match="^Nothing to claim"):
        app.execute(stake, {"claim": {}}, sender=alice)
    app.sudo(stake, {"end_block": {}})
    assert app.balance(bob, DENOM) == 98_000 and claims(app, stake, bob) == []
    assert app.balance(stake, DENOM) == 5_000
    app.sudo(stake, {"end_block": {}})                                 # nothing left: no-op
    assert app.balance(alice, DENOM) == 97_000 and app.balance(bob, DENOM) == 98_000
    assert staked(app, stake, alice) == 3_000 and staked(app, stake, bob) == 2_000


def test_slash_burns_bond_and_claims(app, stake, people, slasher):
    alice = people["alice"]
    bond(app, stake, alice, 10_000)
    unbond(app, stake, alice, 2_001)
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(stake, {"slash": {"addr": alice, "portion": "0.5"}}, sender=people["bob"])
    for portion in ("0", "0.0", "1.01", "2", "-0.5", "abc", "", "0.1234567891", "1" * 40):
        with pytest.raises(ContractError, match="^Invalid portion"):
            app.execute(stake, {"slash": {"addr": alice, "portion": portion}}, sender=slasher)
    with pytest.raises(ContractError, match="^Error parsing into type"):
        app.execute(stake, {"slash": {"addr": alice, "portion": 0.5}}, sender=slasher)
    assert staked(app, stake, alice) == 7_999 and claims(app, stake, alice)[0][0] == 2_001
    supply_before = app.balance(stake, DENOM)
    result = app.execute(stake, {"slash": {"addr": alice, "portion": "0.5"}}, sender=slasher)
    assert result.wasm_attribute("burned") == str(3_999 + 1_000)
    assert staked(app, stake, alice) == 4_000
    assert claims(app, stake, alice)[0][0] == 1_001
    assert points(app, stake, alice) == 4
    assert app.balance(stake, DENOM) == supply_before - 4_999
    app.execute(stake, {"slash": {"addr": alice, "portion": "1"}}, sender=slasher)
    assert staked(app, stake, alice) == 0 and claims(app, stake, alice) == []
    assert points(app, stake, alice) is None and total(app, stake) == 0
    assert app.balance(stake, DENOM) == 0
    # slashing someone with nothing bonded burns nothing
    result = app.execute(stake, {"slash": {"addr": people["carol"], "portion": "0.5"}}, sender=slasher)
    assert result.wasm_attribute("burned") == "0"


def test_slashers_managed_by_admin_and_preauths(app, code_id, admin, people):
    alice, bob = people["alice"], people["bob"]
    stake = app.instantiate(code_id, {**CONFIG, "admin": admin, "preauths_slashing": 1}, sender=admin)
    app.execute(stake, {"add_slasher": {"addr": alice}}, sender=alice)      # uses the preauthorisation
    assert app.query(stake, {"config": {}})["preauths_slashing"] == 0
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(stake, {"add_slasher": {"addr": bob}}, sender=bob)
    with pytest.raises(ContractError, match="^Slasher already registered"):
        app.execute(stake, {"add_slasher": {"addr": alice}}, sender=admin)
    app.execute(stake, {"add_slasher": {"addr": bob}}, sender=admin)
    assert app.query(stake, {"list_slashers": {}}) == {"slashers": [alice, bob]}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(stake, {"remove_slasher": {"addr": bob}}, sender=alice)
    with pytest.raises(ContractError, match="^Slasher not registered"):
        app.execute(stake, {"remove_slasher": {"addr": admin}}, sender=admin)
    app.execute(stake, {"remove_slasher": {"addr": alice}}, sender=admin)
    assert app.query(stake, {"list_slashers": {}}) == {"slashers": [bob]}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(stake, {"slash": {"addr": bob, "portion": "0.5"}}, sender=alice)
    with pytest.raises(ContractError, match="^Generic error: addr_validate errored"):
        app.execute(stake, {"add_slasher": {"addr": "nope"}}, sender=admin)
    for i in range(15):
        app.execute(stake, {"add_slasher": {"addr": app.create_account(f"s{i}")}}, sender=admin)
    with pytest.raises(ContractError, match="^Too many slashers: at most 16$"):
        app.execute(stake, {"add_slasher": {"addr": app.create_account("s-extra")}}, sender=admin)


def test_snapshots_answer_as_of_the_start_of_a_height(app, stake, people):
    alice = people["alice"]
    h1 = app.height
    bond(app, stake, alice, 3_000)
    assert points(app, stake, alice, h1) is None and points(app, stake, alice) == 3
    app.next_block()
    h2 = app.height
    unbond(app, stake, alice, 2_000)
    bond(app, stake, alice, 400)                              # 1,400 < min_bond: not a member
    assert points(app, stake, alice, h2) == 3 and total(app, stake, h2) == 3
    assert points(app, stake, alice) is None and total(app, stake) == 0
    app.next_block()
    assert points(app, stake, alice, app.height) is None and total(app, stake, app.height) == 0
    assert points(app, stake, alice, h2) == 3 and total(app, stake, h1) == 0


def test_failing_hook_reverts_bond_unbond_and_slash(app, stake, admin, people, slasher, reflect):
    alice = people["alice"]
    bond(app, stake, alice, 5_000)
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(stake, {"add_hook": {"addr": reflect}}, sender=alice)
    app.execute(stake, {"add_hook": {"addr": reflect}}, sender=admin)
    assert app.query(stake, {"hooks": {}}) == {"hooks": [reflect]}
    with pytest.raises(ContractError, match="^Hook already registered"):
        app.execute(stake, {"add_hook": {"addr": reflect}}, sender=admin)
    with pytest.raises(ContractError, match="unknown variant `member_changed_hook`"):
        bond(app, stake, alice, 1_000)
    with pytest.raises(ContractError, match="unknown variant `member_changed_hook`"):
        unbond(app, stake, alice, 1_000)
    with pytest.raises(ContractError, match="unknown variant `member_changed_hook`"):
        app.execute(stake, {"slash": {"addr": alice, "portion": "0.5"}}, sender=slasher)
    assert app.balance(alice, DENOM) == 95_000 and staked(app, stake, alice) == 5_000
    assert claims(app, stake, alice) == [] and app.balance(stake, DENOM) == 5_000
    bond(app, stake, alice, 1)                 # 5,001 tokens: still 5 points, no hook call
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(stake, {"remove_hook": {"addr": reflect}}, sender=alice)
    with pytest.raises(ContractError, match="^Hook not registered"):
        app.execute(stake, {"remove_hook": {"addr": alice}}, sender=admin)
    app.execute(stake, {"remove_hook": {"addr": reflect}}, sender=admin)
    unbond(app, stake, alice, 1_001)
    assert points(app, stake, alice) == 4


def test_update_admin(app, stake, admin, people):
    alice = people["alice"]
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(stake, {"update_admin": {"admin": alice}}, sender=alice)
    app.execute(stake, {"update_admin": {"admin": alice}}, sender=admin)
    assert app.query(stake, {"admin": {}}) == {"admin": alice}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(stake, {"add_slasher": {"addr": admin}}, sender=admin)
    app.execute(stake, {"update_admin": {"admin": None}}, sender=alice)
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(stake, {"add_hook": {"addr": alice}}, sender=alice)


def test_unknown_messages_and_bad_queries(app, stake, admin, people):
    alice = people["alice"]
    with pytest.raises(ContractError, match="unknown variant `delegate`"):
        app.execute(stake, {"delegate": {}}, sender=alice)
    with pytest.raises(ContractError, match="unknown field `all`"):
        app.execute(stake, {"claim": {"all": True}}, sender=alice)
    with pytest.raises(ContractError, match="^Error parsing into type"):
        app.execute(stake, {"add_hook": {"addr": ["x"]}}, sender=admin)
    with pytest.raises(ContractError, match="^Address too long"):
        app.execute(stake, {"add_hook": {"addr": "h" * 91}}, sender=admin)
    with pytest.raises(ContractError, match="^This message does not accept funds$"):
        app.execute(stake, {"claim": {}}, sender=alice, funds={DENOM: 5})
    with pytest.raises(ContractError, match="unknown variant `begin_block`"):
        app.sudo(stake, {"begin_block": {"evidence": []}})
    with pytest.raises(ContractError, match="unknown variant `balance`"):
        app.query(stake, {"balance": {}})
    with pytest.raises(ContractError, match="missing field `address`"):
        app.query(stake, {"staked": {}})
    with pytest.raises(ContractError, match="^Address too long"):
        app.query(stake, {"claims": {"address": "a" * 1000}})
    assert app.balance(alice, DENOM) == 100_000


def test_list_members_pages(app, stake):
    addrs = sorted(app.create_account(f"m{i}", {DENOM: 100_000}) for i in range(33))
    for i, addr in enumerate(addrs):
        bond(app, stake, addr, 2_000 + 1_000 * (i % 3))
    page = app.query(stake, {"list_members": {"limit": 50}})["members"]
    assert [m["addr"] for m in page] == addrs[:30]
    page = app.query(stake, {"list_members": {"start_after": addrs[29]}})["members"]
    assert [m["addr"] for m in page] == addrs[30:]
    first = app.query(stake, {"list_members_by_points": {"limit": 11}})["members"]
    assert [m["points"] for m in first] == [4] * 11
    rest = app.query(stake, {"list_members_by_points": {"start_after": first[-1], "limit": 30}})["members"]
    assert [m["points"] for m in rest] == [3] * 11 + [2] * 11


def test_migrate_records_version(app, stake, code_id, admin, people):
    bond(app, stake, people["alice"], 2_000)
    app.migrate(stake, code_id, {}, sender=admin)
    assert app.query_raw(stake, b"contract_info") == b'{"contract":"stake","version":"0.1.0"}'
    assert staked(app, stake, people["alice"]) == 2_000
