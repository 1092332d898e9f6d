"""The engagement contract (tg4) on the in-process chain: points granted by the admin,
halflife decay at end block, snapshots per height, paging, hooks whose failure reverts the
change, and refusal of bad input (each refusal changes nothing)."""
from __future__ import annotations

import pytest

from chain.testing import ContractError, TestApp
from support import artifact

HALFLIFE = 1_000


@pytest.fixture
def admin(app: TestApp) -> str:
    return app.create_account("admin", {"ucnv": 1_000})


@pytest.fixture
def people(app: TestApp) -> dict[str, str]:
    return {name: app.create_account(name) for name in ("alice", "bob", "carol", "dave")}


@pytest.fixture
def code_id(app: TestApp) -> int:
    return app.store_code(artifact("engagement"))


@pytest.fixture
def engagement(app: TestApp, code_id: int, admin: str, people: dict[str, str]) -> str:
    return app.instantiate(code_id, {"admin": admin, "halflife": HALFLIFE, "members": [
        {"addr": people["alice"], "points": 10},
        {"addr": people["bob"], "points": 7},
    ]}, sender=admin, label="engagement", admin=admin)


def points(app, contract, addr, at_height=None):
    return app.query(contract, {"member": {"addr": addr, "at_height": at_height}})["points"]


def total(app, contract, at_height=None):
    return app.query(contract, {"total_points": {"at_height": at_height}})["points"]


def members(app, contract):
    return {m["addr"]: m["points"] for m in app.query(contract, {"list_members": {"limit": 30}})["members"]}


def end_block(app, contract):
    return app.sudo(contract, {"end_block": {}})


def test_instantiate_sets_members_admin_halflife(app, engagement, admin, people):
    assert app.query(engagement, {"admin": {}}) == {"admin": admin}
    assert app.query(engagement, {"member": {"addr": people["alice"]}}) == {"points": 10, "start_height": None}
    assert points(app, engagement, people["carol"]) is None
    assert total(app, engagement) == 17
    assert app.query(engagement, {"hooks": {}}) == {"hooks": []}
    now = app.block.time_ns // 10**9
    assert app.query(engagement, {"halflife": {}}) == {
        "halflife": HALFLIFE, "last_halflife": now, "next_halflife": now + HALFLIFE}


def test_instantiate_without_halflife_or_admin(app, code_id, admin, people):
    contract = app.instantiate(code_id, {"admin": None, "members": []}, sender=admin)
    assert app.query(contract, {"admin": {}}) == {"admin": None}
    assert app.query(contract, {"halflife": {}})["next_halflife"] is None
    app.next_block(seconds=10**9)
    end_block(app, contract)
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(contract, {"add_points": {"addr": people["alice"], "points": 1}}, sender=admin)


def test_instantiate_refuses_bad_input(app, code_id, admin, people):
    alice = people["alice"]
    bad = [
        ({"admin": admin, "members": [{"addr": alice, "points": 1}, {"addr": alice, "points": 2}]},
         f"^Address listed more than once: {alice}$"),
        ({"admin": admin, "members": [], "halflife": 0}, "^Invalid halflife"),
        ({"admin": admin, "members": [], "extra": 1}, "^Error parsing into type .*unknown field `extra`"),
        ({"admin": admin}, "^Error parsing into type .*missing field `members`"),
        ({"admin": admin, "members": [{"addr": alice, "points": "1"}]}, "^Error parsing into type"),
        ({"admin": admin, "members": [{"addr": alice, "points": -1}]}, "^Error parsing into type"),
        ({"admin": "nonsense", "members": []}, "^Generic error: addr_validate errored"),
        ({"admin": admin, "members": [{"addr": "x" * 200, "points": 1}]}, "^Address too long"),
        ({"admin": admin, "members": [{"addr": alice, "points": i} for i in range(501)]}, "^Too many members: at most 500$"),
    ]
    for msg, error in bad:
        with pytest.raises(ContractError, match=error):
            app.instantiate(code_id, msg, sender=admin)
    with pytest.raises(ContractError, match="^This message does not accept funds$"):
        app.instantiate(code_id, {"admin": admin, "members": []}, sender=admin, funds={"ucnv": 1})


def test_update_members_by_admin_only(app, engagement, admin, people):
    msg = {"update_members": {"add": [{"addr": people["carol"], "points": 5}, {"addr": people["alice"], "points": 3}],
                              "remove": [people["bob"]]}}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(engagement, msg, sender=people["alice"])
    assert members(app, engagement) == {people["alice"]: 10, people["bob"]: 7}
    app.execute(engagement, msg, sender=admin)
    assert members(app, engagement) == {people["alice"]: 3, people["carol"]: 5}
    assert total(app, engagement) == 8
    # removing a non-member and omitting a list are fine
    app.execute(engagement, {"update_members": {"remove": [people["dave"]]}}, sender=admin)
    assert total(app, engagement) == 8


def test_update_members_refuses_bad_input(app, engagement, admin, people):
    before = members(app, engagement)
    alice = people["alice"]
    bad = [
        ({"add": [{"addr": alice, "points": 1}], "remove": [alice]}, f"^Address listed more than once: {alice}$"),
        ({"add": [{"addr": people["carol"], "points": 1}] * 2}, "^Address listed more than once"),
        ({"add": [{"addr": "conclave1nothing", "points": 1}]}, "^Generic error: addr_validate errored"),
        ({"add": [{"addr": alice}]}, "missing field `points`"),
        ({"add": [{"addr": alice, "points": 1, "weight": 2}]}, "unknown field `weight`"),
        ({"add": [{"addr": alice, "points": 2**64}]}, "^Error parsing into type"),
        ({"add": {"addr": alice}}, "^Error parsing into type"),
        ({"remove": ["y" * 91]}, "^Address too long: at most 90 bytes$"),
        ({"add": [{"addr": alice, "points": 1}] * 101}, "^Too many members to add: at most 100$"),
        ({"remove": [alice] * 101}, "^Too many members to remove: at most 100$"),
    ]
    for msg, error in bad:
        with pytest.raises(ContractError, match=error):
            app.execute(engagement, {"update_members": msg}, sender=admin)
    with pytest.raises(ContractError, match="^This message does not accept funds$"):
        app.execute(engagement, {"update_members": {"remove": [alice]}}, sender=admin, funds={"ucnv": 1})
    assert members(app, engagement) == before


def test_add_points_accumulates(app, engagement, admin, people):
    app.execute(engagement, {"add_points": {"addr": people["alice"], "points": 5}}, sender=admin)
    result = app.execute(engagement, {"add_points": {"addr": people["alice"], "points": 6}}, sender=admin)
    assert result.wasm_attribute("points") == "21"
    app.execute(engagement, {"add_points": {"addr": people["carol"], "points": 4}}, sender=admin)
    assert points(app, engagement, people["alice"]) == 21
    assert points(app, engagement, people["carol"]) == 4
    assert total(app, engagement) == 32
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(engagement, {"add_points": {"addr": people["bob"], "points": 1}}, sender=people["bob"])
    with pytest.raises(ContractError, match="^Points overflow"):
        app.execute(engagement, {"add_points": {"addr": people["alice"], "points": 2**64 - 1}}, sender=admin)
    with pytest.raises(ContractError, match="missing field `points`"):
        app.execute(engagement, {"add_points": {"addr": people["alice"]}}, sender=admin)
    assert points(app, engagement, people["bob"]) == 7
    assert total(app, engagement) == 32


def test_halflife_halves_once_per_elapsed_window(app, engagement, admin, people):
    alice, bob = people["alice"], people["bob"]
    app.next_block(seconds=HALFLIFE - 1)
    end_block(app, engagement)
    assert (points(app, engagement, alice), points(app, engagement, bob)) == (10, 7)
    app.next_block(seconds=1)
    result = end_block(app, engagement)
    assert result.wasm_attribute("action") == "halflife"
    assert (points(app, engagement, alice), points(app, engagement, bob)) == (5, 3)
    assert total(app, engagement) == 8
    end_block(app, engagement)                      # same block, window just restarted
    app.next_block(seconds=HALFLIFE - 1)
    end_block(app, engagement)
    assert points(app, engagement, alice) == 5
    # three windows elapsed at once: still one halving, and the window restarts now
    app.next_block(seconds=3 * HALFLIFE)
    end_block(app, engagement)
    assert (points(app, engagement, alice), points(app, engagement, bob)) == (2, 1)
    now = app.block.time_ns // 10**9
    assert app.query(engagement, {"halflife": {}})["last_halflife"] == now
    for _ in range(2):
        app.next_block(seconds=HALFLIFE)
        end_block(app, engagement)
    # members reaching 0 stay, with 0 points
    assert members(app, engagement) == {alice: 0, bob: 0}
    assert total(app, engagement) == 0


def test_update_halflife(app, engagement, admin, people):
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(engagement, {"update_halflife": {"halflife": 5}}, sender=people["alice"])
    with pytest.raises(ContractError, match="^Invalid halflife"):
        app.execute(engagement, {"update_halflife": {"halflife": 0}}, sender=admin)
    app.execute(engagement, {"update_halflife": {"halflife": None}}, sender=admin)
    app.next_block(seconds=10 * HALFLIFE)
    end_block(app, engagement)
    assert points(app, engagement, people["alice"]) == 10
    app.execute(engagement, {"update_halflife": {"halflife": 5}}, sender=admin)
    info = app.query(engagement, {"halflife": {}})
    assert info["halflife"] == 5 and info["next_halflife"] == info["last_halflife"] + 5
    end_block(app, engagement)   # last_halflife kept: long overdue, halves now
    assert points(app, engagement, people["alice"]) == 5


def test_snapshots_answer_as_of_the_start_of_a_height(app, engagement, admin, people):
    alice, carol = people["alice"], people["carol"]
    h0 = app.height
    assert points(app, engagement, alice, h0) is None        # created in this block
    app.next_block()
    h1 = app.height
    assert points(app, engagement, alice, h1) == 10
    assert total(app, engagement, h0) == 0 and total(app, engagement, h1) == 17
    app.execute(engagement, {"add_points": {"addr": carol, "points": 4}}, sender=admin)
    app.execute(engagement, {"update_members": {"add": [{"addr": alice, "points": 1}]}}, sender=admin)
    app.execute(engagement, {"add_points": {"addr": alice, "points": 2}}, sender=admin)
    assert points(app, engagement, alice, h1) == 10 and points(app, engagement, carol, h1) is None
    app.next_block()
    h2 = app.height
    assert points(app, engagement, alice, h2) == 3 and points(app, engagement, carol, h2) == 4
    assert total(app, engagement, h1) == 17 and total(app, engagement, h2) == 14
    app.next_block(seconds=HALFLIFE)
    end_block(app, engagement)
    assert points(app, engagement, alice, app.height) == 3
    assert points(app, engagement, alice, app.height + 1) == 1
    assert points(app, engagement, alice, h0) is None
    assert total(app, engagement, app.height) == 14 and total(app, engagement) == 1 + 3 + 2


def test_list_members_pages(app, code_id, admin):
    addrs = sorted(app.create_account(f"m{i}") for i in range(35))
    contract = app.instantiate(code_id, {"admin": admin, "members": [
        {"addr": a, "points": i % 4} for i, a in enumerate(addrs)]}, sender=admin)
    page = app.query(contract, {"list_members": {}})["members"]
    assert [m["addr"] for m in page] == addrs[:10]
    assert page[0] == {"addr": addrs[0], "points": 0, "start_height": None}
    page = app.query(contract, {"list_members": {"start_after": addrs[9], "limit": 100}})["members"]
    assert [m["addr"] for m in page] == addrs[10:40]          # max 30
    by_points = []
    start = None
    while True:
        page = app.query(contract, {"list_members_by_points": {"start_after": start, "limit": 7}})["members"]
        if not page:
            break
        by_points += page
        start = page[-1]
    expected = sorted(((i % 4, a) for i, a in enumerate(addrs)), key=lambda p: (-p[0], p[1]))
    assert [(m["points"], m["addr"]) for m in by_points] == expected


def test_hooks_managed_by_admin(app, engagement, admin, people, reflect):
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(engagement, {"add_hook": {"addr": reflect}}, sender=people["alice"])
    app.execute(engagement, {"add_hook": {"addr": reflect}}, sender=admin)
    assert app.query(engagement, {"hooks": {}}) == {"hooks": [reflect]}
    with pytest.raises(ContractError, match="^Hook already registered"):
        app.execute(engagement, {"add_hook": {"addr": reflect}}, sender=admin)
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(engagement, {"remove_hook": {"addr": reflect}}, sender=people["alice"])
    with pytest.raises(ContractError, match="^Hook not registered"):
        app.execute(engagement, {"remove_hook": {"addr": people["bob"]}}, sender=admin)
    for name in ("alice", "bob", "carol", "dave"):
        app.execute(engagement, {"add_hook": {"addr": people[name]}}, sender=admin)
    others = [app.create_account(f"hook{i}") for i in range(11)]
    for addr in others:
        app.execute(engagement, {"add_hook": {"addr": addr}}, sender=admin)
    with pytest.raises(ContractError, match="^Too many hooks: at most 16$"):
        app.execute(engagement, {"add_hook": {"addr": app.create_account("one-more")}}, sender=admin)
    app.execute(engagement, {"remove_hook": {"addr": reflect}}, sender=admin)
    assert reflect not in app.query(engagement, {"hooks": {}})["hooks"]


def test_failing_hook_reverts_the_change(app, engagement, admin, people, reflect):
    alice = people["alice"]
    app.execute(engagement, {"add_hook": {"addr": reflect}}, sender=admin)
    # test-reflect refuses the unknown member_changed_hook message: the update fails with it
    with pytest.raises(ContractError, match="unknown variant `member_changed_hook`"):
        app.execute(engagement, {"update_members": {"add": [{"addr": alice, "points": 1}]}}, sender=admin)
    with pytest.raises(ContractError, match="unknown variant `member_changed_hook`"):
        app.execute(engagement, {"add_points": {"addr": alice, "points": 1}}, sender=admin)
    app.next_block(seconds=HALFLIFE)
    with pytest.raises(ContractError, match="unknown variant `member_changed_hook`"):
        end_block(app, engagement)
    assert points(app, engagement, alice) == 10 and total(app, engagement) == 17
    # no change of points, no hook call: succeeds
    app.execute(engagement, {"update_members": {"add": [{"addr": alice, "points": 10}]}}, sender=admin)
    app.execute(engagement, {"remove_hook": {"addr": reflect}}, sender=admin)
    app.execute(engagement, {"update_members": {"add": [{"addr": alice, "points": 1}]}}, sender=admin)
    end_block(app, engagement)
    assert points(app, engagement, alice) == 0 and points(app, engagement, people["bob"]) == 3


def test_update_admin(app, engagement, admin, people):
    alice = people["alice"]
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(engagement, {"update_admin": {"admin": alice}}, sender=alice)
    with pytest.raises(ContractError, match="^Generic error: addr_validate errored"):
        app.execute(engagement, {"update_admin": {"admin": "bogus"}}, sender=admin)
    app.execute(engagement, {"update_admin": {"admin": alice}}, sender=admin)
    assert app.query(engagement, {"admin": {}}) == {"admin": alice}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(engagement, {"add_points": {"addr": alice, "points": 1}}, sender=admin)
    app.execute(engagement, {"update_admin": {"admin": None}}, sender=alice)
    assert app.query(engagement, {"admin": {}}) == {"admin": None}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(engagement, {"update_admin": {"admin": alice}}, sender=alice)


def test_unknown_messages_and_bad_queries(app, engagement, admin, people):
    with pytest.raises(ContractError, match="unknown variant `grant`"):
        app.execute(engagement, {"grant": {}}, sender=admin)
    with pytest.raises(ContractError, match="unknown field `extra`"):
        app.execute(engagement, {"add_points": {"addr": people["alice"], "points": 1, "extra": 1}}, sender=admin)
    with pytest.raises(ContractError, match="^Error parsing into type"):
        app.execute(engagement, {"add_points": {"addr": 5, "points": 1}}, sender=admin)
    with pytest.raises(ContractError, match="^Error parsing into type"):
        app.execute(engagement, b"not json", sender=admin)
    with pytest.raises(ContractError, match="unknown variant `begin_block`"):
        app.sudo(engagement, {"begin_block": {}})
    with pytest.raises(ContractError, match="unknown variant `voters`"):
        app.query(engagement, {"voters": {}})
    with pytest.raises(ContractError, match="missing field `addr`"):
        app.query(engagement, {"member": {}})
    with pytest.raises(ContractError, match="^Address too long"):
        app.query(engagement, {"member": {"addr": "z" * 100}})
    with pytest.raises(ContractError, match="^Error parsing into type"):
        app.query(engagement, {"list_members": {"limit": -1}})
    assert total(app, engagement) == 17


def test_migrate_records_version_and_keeps_members(app, engagement, code_id, admin, people):
    app.migrate(engagement, code_id, {}, sender=admin)
    assert app.query_raw(engagement, b"contract_info") == b'{"contract":"engagement","version":"0.1.0"}'
    assert points(app, engagement, people["alice"]) == 10
    with pytest.raises(ContractError, match="unknown field"):
        app.migrate(engagement, code_id, {"x": 1}, sender=admin)
