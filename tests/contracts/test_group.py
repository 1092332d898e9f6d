"""The group contract (tg4) on the in-process chain: members, admin, snapshots per height,
paging, and member-changed hooks whose failure reverts the change."""
from __future__ import annotations

import pytest

from chain.testing import ContractError, TestApp
from support import artifact


@pytest.fixture
def admin(app: TestApp) -> str:
    return app.create_account("admin", {"ucnv": 1_000})


@pytest.fixture
def people(app: TestApp) -> dict[str, str]:
    return {name: app.create_account(name) for name in ("alice", "bob", "carol", "dave")}


@pytest.fixture
def group(app: TestApp, admin: str, people: dict[str, str]) -> str:
    code_id = app.store_code(artifact("group"))
    return app.instantiate(code_id, {"admin": admin, "members": [
        {"addr": people["alice"], "points": 10},
        {"addr": people["bob"], "points": 7},
    ]}, sender=admin, label="admins")


def points(app: TestApp, group: str, addr: str, at_height: int | None = None) -> int | None:
    return app.query(group, {"member": {"addr": addr, "at_height": at_height}})["points"]


def total(app: TestApp, group: str, at_height: int | None = None) -> int:
    return app.query(group, {"total_points": {"at_height": at_height}})["points"]


def update(app: TestApp, group: str, sender: str, add=(), remove=()):
    return app.execute(group, {"update_members": {"add": list(add), "remove": list(remove)}}, sender=sender)


def test_instantiate_sets_members_admin_and_total(app, group, admin, people):
    assert app.query(group, {"admin": {}}) == {"admin": admin}
    assert app.query(group, {"member": {"addr": people["alice"]}}) == {"points": 10, "start_height": app.height}
    assert points(app, group, people["carol"]) is None
    assert total(app, group) == 17
    assert app.query(group, {"hooks": {}}) == {"hooks": []}


def test_admin_updates_members_and_others_are_refused(app, group, admin, people):
    result = update(app, group, admin, add=[{"addr": people["carol"], "points": 5},
                                            {"addr": people["alice"], "points": 3}],
                    remove=[people["bob"]])
    assert result.wasm_attribute("total_points") == "8"
    assert points(app, group, people["alice"]) == 3
    assert points(app, group, people["bob"]) is None
    assert points(app, group, people["carol"]) == 5
    assert total(app, group) == 8

    with pytest.raises(ContractError, match="^Unauthorized$"):
        update(app, group, people["alice"], add=[{"addr": people["dave"], "points": 100}])
    assert points(app, group, people["dave"]) is None
    assert total(app, group) == 8


def test_update_admin(app, group, admin, people):
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(group, {"update_admin": {"admin": people["bob"]}}, sender=people["bob"])
    app.execute(group, {"update_admin": {"admin": people["bob"]}}, sender=admin)
    assert app.query(group, {"admin": {}}) == {"admin": people["bob"]}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        update(app, group, admin, remove=[people["alice"]])
    app.execute(group, {"update_admin": {"admin": None}}, sender=people["bob"])
    assert app.query(group, {"admin": {}}) == {"admin": None}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        update(app, group, people["bob"], remove=[people["alice"]])


def test_snapshots_answer_as_of_the_start_of_a_height(app, group, admin, people):
    h0 = app.height                       # instantiated here
    app.next_block()
    h1 = app.height
    update(app, group, admin, add=[{"addr": people["alice"], "points": 1}], remove=[people["bob"]])
    # Changes made at h1 are not visible at h1, only from h1 + 1.
    assert points(app, group, people["alice"], h1) == 10
    assert points(app, group, people["bob"], h1) == 7
    assert total(app, group, h1) == 17
    app.next_block()
    h2 = app.height
    assert points(app, group, people["alice"], h2) == 1
    assert points(app, group, people["bob"], h2) is None
    assert total(app, group, h2) == 1
    update(app, group, admin, add=[{"addr": people["bob"], "points": 4}])
    update(app, group, admin, add=[{"addr": people["bob"], "points": 6}])   # same block
    app.next_block()
    h3 = app.height

    assert points(app, group, people["alice"], h0) is None               # before instantiation
    assert total(app, group, h0) == 0
    expected = {h1: (10, 7, 17), h2: (1, None, 1), h3: (1, 6, 7)}
    for height, (alice, bob, sum_) in expected.items():
        assert points(app, group, people["alice"], height) == alice, height
        assert points(app, group, people["bob"], height) == bob, height
        assert total(app, group, height) == sum_, height
    assert points(app, group, people["bob"]) == 6
    assert total(app, group) == 7


def test_list_members_pages_in_address_order(app, admin):
    code_id = app.store_code(artifact("group"))
    addrs = [app.create_account(f"m{i}") for i in range(35)]
    group = app.instantiate(code_id, {"admin": admin, "members": [
        {"addr": a, "points": i % 4} for i, a in enumerate(addrs)]}, sender=admin)

    first = app.query(group, {"list_members": {}})["members"]
    assert len(first) == 10                                           # default limit
    assert len(app.query(group, {"list_members": {"limit": 100}})["members"]) == 30   # max limit

    seen, start_after = [], None
    while True:
        page = app.query(group, {"list_members": {"start_after": start_after, "limit": 8}})["members"]
        if not page:
            break
        seen.extend(page)
        start_after = page[-1]["addr"]
    assert [m["addr"] for m in seen] == sorted(addrs)
    assert first == seen[:10]
    by_addr = {a: i % 4 for i, a in enumerate(addrs)}
    assert all(m["points"] == by_addr[m["addr"]] for m in seen)


def test_list_members_by_points_orders_by_points_then_address(app, admin):
    code_id = app.store_code(artifact("group"))
    addrs = [app.create_account(f"p{i}") for i in range(12)]
    group = app.instantiate(code_id, {"admin": admin, "members": [
        {"addr": a, "points": i % 3} for i, a in enumerate(addrs)]}, sender=admin)
    seen, start_after = [], None
    while True:
        page = app.query(group, {"list_members_by_points": {"start_after": start_after, "limit": 5}})["members"]
        if not page:
            break
        seen.extend(page)
        start_after = page[-1]
    expected = sorted(((i % 3, a) for i, a in enumerate(addrs)), key=lambda p: (-p[0], p[1]))
    assert [(m["points"], m["addr"]) for m in seen] == expected


def test_failing_hook_reverts_the_update(app, group, admin, people, reflect):
    app.execute(group, {"add_hook": {"addr": reflect}}, sender=admin)
    assert app.query(group, {"hooks": {}}) == {"hooks": [reflect]}
    with pytest.raises(ContractError, match="^Hook already registered"):
        app.execute(group, {"add_hook": {"addr": reflect}}, sender=admin)
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(group, {"remove_hook": {"addr": reflect}}, sender=people["alice"])

    # test-reflect does not know member_changed_hook: the hook fails, so the update must not stick.
    with pytest.raises(ContractError, match="unknown variant `member_changed_hook`") as failure:
        update(app, group, admin, add=[{"addr": people["carol"], "points": 5}], remove=[people["alice"]])
    assert failure.value.contract == reflect
    assert points(app, group, people["carol"]) is None
    assert points(app, group, people["alice"]) == 10
    assert total(app, group) == 17
    members = app.query(group, {"list_members": {}})["members"]
    assert sorted(m["addr"] for m in members) == sorted([people["alice"], people["bob"]])

    app.execute(group, {"remove_hook": {"addr": reflect}}, sender=admin)
    assert app.query(group, {"hooks": {}}) == {"hooks": []}
    with pytest.raises(ContractError, match="^Hook not registered"):
        app.execute(group, {"remove_hook": {"addr": reflect}}, sender=admin)
    update(app, group, admin, add=[{"addr": people["carol"], "points": 5}], remove=[people["alice"]])
    assert points(app, group, people["carol"]) == 5
    assert points(app, group, people["alice"]) is None
    assert total(app, group) == 12


def test_bad_input_is_refused(app, group, admin, people):
    with pytest.raises(ContractError, match="^Generic error: addr_validate errored: invalid bech32 address"):
        update(app, group, admin, add=[{"addr": "not-an-address", "points": 1}])
    with pytest.raises(ContractError, match=f"^Duplicate member: {people['carol']}$"):
        update(app, group, admin, add=[{"addr": people["carol"], "points": 1},
                                       {"addr": people["carol"], "points": 2}])
    with pytest.raises(ContractError, match="^Error parsing into type"):
        app.execute(group, b"{not json", sender=admin)
    with pytest.raises(ContractError, match="^Error parsing into type"):
        app.execute(group, {"update_members": {"add": [{"addr": people["carol"]}]}}, sender=admin)
    with pytest.raises(ContractError, match="^Error parsing into type"):
        app.execute(group, {"mint": {}}, sender=admin)
    assert total(app, group) == 17

    code_id = app.store_code(artifact("group"))
    with pytest.raises(ContractError, match=f"^Duplicate member: {people['dave']}$"):
        app.instantiate(code_id, {"admin": admin, "members": [{"addr": people["dave"], "points": 1},
                                                              {"addr": people["dave"], "points": 1}]},
                        sender=admin)
    with pytest.raises(ContractError, match="^Generic error: addr_validate errored"):
        app.instantiate(code_id, {"admin": "nobody", "members": []}, sender=admin)


def test_migrate_keeps_members(app, admin, people):
    code_id = app.store_code(artifact("group"))
    group = app.instantiate(code_id, {"admin": admin, "members": [{"addr": people["alice"], "points": 2}]},
                            sender=admin, admin=admin)
    result = app.migrate(group, code_id, {}, sender=admin)
    assert result.wasm_attribute("version") == "0.1.0"
    assert points(app, group, people["alice"]) == 2
