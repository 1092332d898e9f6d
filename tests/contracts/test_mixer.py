"""The mixer contract (tg4 PoE points) on the in-process chain, over two instances of the
group contract as the engagement (left) and stake (right) groups: membership only in both
groups, points following the function, hooks in and out, slashing pass-through."""
from __future__ import annotations

import math

import pytest

from chain.testing import ContractError, TestApp
from support import artifact

GENESIS_SIGMOID = {"sigmoid": {"max_points": "1000000", "p": "0.62", "s": "0.00001"}}


@pytest.fixture
def admin(app: TestApp) -> str:
    return app.create_account("admin", {"ucnv": 1_000, "ustake": 10_000_000})


@pytest.fixture
def people(app: TestApp) -> dict[str, str]:
    return {name: app.create_account(name, {"ustake": 10_000_000})
            for name in ("alice", "bob", "carol", "dave", "erin")}


@pytest.fixture
def group_code(app: TestApp) -> int:
    return app.store_code(artifact("group"))


@pytest.fixture
def mixer_code(app: TestApp) -> int:
    return app.store_code(artifact("mixer"))


def make_group(app, code, admin, members, label):
    return app.instantiate(code, {"admin": admin, "members": [{"addr": a, "points": p} for a, p in members]},
                           sender=admin, label=label)


@pytest.fixture
def groups(app, group_code, admin, people) -> tuple[str, str]:
    """left = engagement: alice 16, bob 9, carol 4; right = stake: alice 4, bob 1, dave 7."""
    left = make_group(app, group_code, admin, [(people["alice"], 16), (people["bob"], 9), (people["carol"], 4)],
                      "engagement")
    right = make_group(app, group_code, admin, [(people["alice"], 4), (people["bob"], 1), (people["dave"], 7)],
                       "stake")
    return left, right


def make_mixer(app, code, admin, left, right, function=None):
    mixer = app.instantiate(code, {"left_group": left, "right_group": right,
                                   "function": function or {"geometric_mean": {}}, "admin": admin},
                            sender=admin, label="mixer")
    for group in {left, right}:
        app.execute(group, {"add_hook": {"addr": mixer}}, sender=admin)
    return mixer


@pytest.fixture
def mixer(app, mixer_code, admin, groups) -> str:
    return make_mixer(app, mixer_code, admin, *groups)


def points(app, contract, addr, at_height=None):
    return app.query(contract, {"member": {"addr": addr, "at_height": at_height}})["points"]


def total(app, contract, at_height=None):
    return app.query(contract, {"total_points": {"at_height": at_height}})["points"]


def by_points(app, contract, start_after=None, limit=None):
    answer = app.query(contract, {"list_members_by_points": {"start_after": start_after, "limit": limit}})
    return [(m["addr"], m["points"]) for m in answer["members"]]


def update(app, group, admin, add=(), remove=()):
    return app.execute(group, {"update_members": {"add": [{"addr": a, "points": p} for a, p in add],
                                                  "remove": list(remove)}}, sender=admin)


def f64_sigmoid(stake, engagement, max_points=1_000_000, p=0.62, s=0.00001):
    x = s * (stake * engagement) ** p
    return max_points * math.tanh(x / 2)   # = max_points * (2 / (1 + e^-x) - 1)


# --- instantiate and membership ----------------------------------------------------------

def test_instantiate_takes_members_of_both_groups(app, mixer, admin, groups, people):
    left, right = groups
    assert points(app, mixer, people["alice"]) == 8      # isqrt(4 * 16)
    assert points(app, mixer, people["bob"]) == 3        # isqrt(1 * 9)
    assert points(app, mixer, people["carol"]) is None   # engagement only
    assert points(app, mixer, people["dave"]) is None    # stake only
    assert total(app, mixer) == 11
    assert app.query(mixer, {"groups": {}}) == {"left": left, "right": right}
    assert app.query(mixer, {"admin": {}}) == {"admin": admin}
    assert app.query(mixer, {"hooks": {}}) == {"hooks": []}
    assert app.query(mixer, {"list_slashers": {}}) == {"slashers": []}
    assert app.query(mixer, {"function": {}}) == {"function": {"geometric_mean": {}}}
    assert app.query(left, {"hooks": {}}) == {"hooks": [mixer]}


def test_instantiate_pages_through_many_members(app, group_code, mixer_code, admin):
    addrs = [app.create_account(f"m{i}") for i in range(75)]
    left = make_group(app, group_code, admin, [(a, i + 1) for i, a in enumerate(addrs)], "left")
    right = make_group(app, group_code, admin, [(a, 4) for a in addrs[::2]], "right")
    mixer = make_mixer(app, mixer_code, admin, left, right)
    listed = []
    start = None
    while True:
        page = app.query(mixer, {"list_members": {"start_after": start, "limit": 30}})["members"]
        listed += page
        if len(page) < 30:
            break
        start = page[-1]["addr"]
    assert len(listed) == 38
    assert total(app, mixer) == sum(math.isqrt(4 * (i + 1)) for i in range(0, 75, 2))


def test_update_of_either_group_updates_points(app, mixer, admin, groups, people):
    left, right = groups
    update(app, left, admin, add=[(people["alice"], 25), (people["dave"], 7)])
    assert points(app, mixer, people["alice"]) == 10     # isqrt(4 * 25)
    assert points(app, mixer, people["dave"]) == 7       # isqrt(7 * 7): now in both
    update(app, right, admin, add=[(people["carol"], 9)])
    assert points(app, mixer, people["carol"]) == 6      # isqrt(9 * 4)
    assert total(app, mixer) == 10 + 3 + 7 + 6


def test_removal_from_either_group_ends_membership(app, mixer, admin, groups, people):
    left, right = groups
    update(app, right, admin, remove=[people["alice"]])
    assert points(app, mixer, people["alice"]) is None
    update(app, left, admin, remove=[people["bob"]])
    assert points(app, mixer, people["bob"]) is None
    assert total(app, mixer) == 0
    assert by_points(app, mixer) == []
    # zero points in a group: not a member either
    update(app, left, admin, add=[(people["dave"], 0)])
    assert points(app, mixer, people["dave"]) is None


def test_snapshots_at_height(app, mixer, admin, groups, people):
    left, _ = groups
    h0 = app.height
    app.next_block()
    update(app, left, admin, add=[(people["alice"], 100)])
    h1 = app.height
    app.next_block()
    assert points(app, mixer, people["alice"], at_height=h1) == 8
    assert points(app, mixer, people["alice"], at_height=h1 + 1) == 20
    assert points(app, mixer, people["carol"], at_height=h0) is None
    assert total(app, mixer, at_height=h1) == 11
    assert total(app, mixer, at_height=h1 + 1) == 23


def test_list_members_by_points_order_and_paging(app, mixer, admin, groups, people):
    left, right = groups
    update(app, right, admin, add=[(people["carol"], 9), (people["erin"], 1)])   # carol 6
    update(app, left, admin, add=[(people["erin"], 36), (people["dave"], 7)])    # erin 6, dave 7
    expected = [(people["alice"], 8), (people["dave"], 7)]
    expected += sorted([(people["carol"], 6), (people["erin"], 6)])
    expected += [(people["bob"], 3)]
    assert by_points(app, mixer) == expected
    first = app.query(mixer, {"list_members_by_points": {"limit": 2}})["members"]
    assert [(m["addr"], m["points"]) for m in first] == expected[:2]
    assert by_points(app, mixer, start_after=first[-1], limit=2) == expected[2:4]
    assert by_points(app, mixer, start_after={"addr": expected[3][0], "points": 6}) == expected[4:]
    assert app.query(mixer, {"list_members": {"limit": 100}})["members"][0]["start_height"] is None
    assert len(app.query(mixer, {"list_members": {"limit": 1000}})["members"]) == 5


# --- hooks -------------------------------------------------------------------------------

def test_hook_only_accepted_from_the_two_groups(app, mixer, admin, people, group_code):
    diffs = {"member_changed_hook": {"diffs": [{"key": people["carol"], "old": None, "new": 100}]}}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(mixer, diffs, sender=people["carol"])
    other = make_group(app, group_code, admin, [(people["carol"], 100)], "other")
    app.execute(other, {"add_hook": {"addr": mixer}}, sender=admin)
    with pytest.raises(ContractError, match="Unauthorized"):
        update(app, other, admin, add=[(people["carol"], 50)])
    assert points(app, other, people["carol"]) == 100        # the failing hook reverted the update
    assert points(app, mixer, people["carol"]) is None
    assert total(app, mixer) == 11


def test_mixer_sends_its_own_hooks(app, mixer, mixer_code, admin, groups, group_code, people):
    left, right = groups
    # a second mixer over (first mixer, a third group) is a hook of the first one
    third = make_group(app, group_code, admin, [(people["alice"], 2), (people["bob"], 3)], "third")
    outer = app.instantiate(mixer_code, {"left_group": mixer, "right_group": third,
                                         "function": {"geometric_mean": {}}, "admin": admin}, sender=admin)
    app.execute(mixer, {"add_hook": {"addr": outer}}, sender=admin)
    app.execute(third, {"add_hook": {"addr": outer}}, sender=admin)
    assert app.query(mixer, {"hooks": {}}) == {"hooks": [outer]}
    assert points(app, outer, people["alice"]) == 4          # isqrt(8 * 2)
    update(app, left, admin, add=[(people["alice"], 64)])    # mixer: alice 16 -> outer isqrt(32) = 5
    assert points(app, mixer, people["alice"]) == 16
    assert points(app, outer, people["alice"]) == 5
    update(app, right, admin, remove=[people["bob"]])
    assert points(app, outer, people["bob"]) is None
    # an update that changes nothing in the mixer sends no hook (outer would refuse nothing anyway)
    result = update(app, left, admin, add=[(people["carol"], 5)])
    assert any(e.get("changed") == "0" for e in result.events if e.type == "wasm")
    with pytest.raises(ContractError, match="^Hook already registered"):
        app.execute(mixer, {"add_hook": {"addr": outer}}, sender=admin)
    app.execute(mixer, {"remove_hook": {"addr": outer}}, sender=admin)
    with pytest.raises(ContractError, match="^Hook not registered"):
        app.execute(mixer, {"remove_hook": {"addr": outer}}, sender=admin)
    assert app.query(mixer, {"hooks": {}}) == {"hooks": []}


def test_too_many_hooks(app, mixer, admin):
    for i in range(16):
        app.execute(mixer, {"add_hook": {"addr": app.create_account(f"hook{i}")}}, sender=admin)
    with pytest.raises(ContractError, match="Too many hooks"):
        app.execute(mixer, {"add_hook": {"addr": app.create_account("hook16")}}, sender=admin)


# --- functions ---------------------------------------------------------------------------

def test_sigmoid_with_genesis_parameters_matches_f64(app, group_code, mixer_code, admin, people):
    left = make_group(app, group_code, admin, [(people["alice"], 1000), (people["bob"], 50_000)], "eng")
    right = make_group(app, group_code, admin, [(people["alice"], 1000), (people["bob"], 3_000_000)], "stk")
    mixer = make_mixer(app, mixer_code, admin, left, right, GENESIS_SIGMOID)
    assert app.query(mixer, {"function": {}}) == {"function": GENESIS_SIGMOID}
    assert points(app, mixer, people["alice"]) == math.floor(f64_sigmoid(1000, 1000))
    assert abs(points(app, mixer, people["bob"]) - f64_sigmoid(3_000_000, 50_000)) <= 1
    cases = [(0, 0), (0, 10**9), (1, 1), (1, 10), (7, 3), (1000, 1000), (5, 20_000), (100_000, 100_000),
             (10**6, 7 * 10**6), (10**7, 10**7), (2**63, 2**63), (2**64 - 1, 2**64 - 1), (2**64 - 1, 1)]
    for stake, engagement in cases:
        got = int(app.query(mixer, {"mixer_function": {"stake": str(stake), "engagement": str(engagement)}})["points"])
        want = f64_sigmoid(stake, engagement)
        assert abs(got - want) <= max(1e-6 * want, 1.0), (stake, engagement, got, want)
    assert app.query(mixer, {"mixer_function": {"stake": "0", "engagement": "5"}}) == {"points": "0"}
    assert app.query(mixer, {"mixer_function": {"stake": str(2**64 - 1), "engagement": str(2**64 - 1)}}) \
        == {"points": "1000000"}


def test_sigmoid_other_parameters(app, groups, mixer_code, admin):
    for max_points, p, s in [("18446744073709551615", "1", "0.000001"), ("1000000000", "0.5", "0.01"),
                             ("500", "0.75", "0.02"), ("1000000", "0.000000000000000001", "3")]:
        fn = {"sigmoid": {"max_points": max_points, "p": p, "s": s}}
        mixer = app.instantiate(mixer_code, {"left_group": groups[0], "right_group": groups[1], "function": fn},
                                sender=admin)
        for stake, engagement in [(1000, 1000), (40, 50), (123_456, 654_321), (2**64 - 1, 2**64 - 1)]:
            got = int(app.query(mixer, {"mixer_function": {"stake": str(stake), "engagement": str(engagement)}})[
                "points"])
            want = f64_sigmoid(stake, engagement, int(max_points), float(p), float(s))
            assert abs(got - want) <= max(1e-6 * want, 1.0), (fn, stake, engagement, got, want)


def test_geometric_mean_is_exact_on_huge_inputs(app, mixer):
    for stake, engagement in [(2**64 - 1, 2**64 - 1), (2**64 - 1, 1), (10**18, 10**18 + 7), (3, 0)]:
        got = app.query(mixer, {"mixer_function": {"stake": str(stake), "engagement": str(engagement)}})
        assert got == {"points": str(math.isqrt(stake * engagement))}


def test_huge_points_do_not_overflow_the_total(app, mixer_code, admin, groups, people):
    left, right = groups
    big = 2**64 - 1
    saturating = {"sigmoid": {"max_points": str(big), "p": "1", "s": "1"}}
    mixer = make_mixer(app, mixer_code, admin, left, right, saturating)
    assert points(app, mixer, people["alice"]) == big        # x = 64: saturated
    assert 0 < points(app, mixer, people["bob"]) < big        # x = 9: just below saturation
    update(app, right, admin, add=[(people["bob"], 100)])
    assert points(app, mixer, people["bob"]) == big
    assert total(app, mixer) == big                          # capped in the answer, exact inside
    update(app, left, admin, remove=[people["alice"]])
    assert total(app, mixer) == big
    update(app, left, admin, remove=[people["bob"]])
    assert total(app, mixer) == 0


# --- slashing ----------------------------------------------------------------------------

def test_slash_needs_admin_or_slasher_and_fails_on_a_group_without_slash(app, mixer, admin, groups, people):
    slash = {"slash": {"addr": people["alice"], "portion": "0.5"}}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(mixer, slash, sender=people["bob"])
    # authorised, but the right group (a plain group) has no `slash`: the call fails and reverts
    with pytest.raises(ContractError, match="slash"):
        app.execute(mixer, slash, sender=admin)
    app.execute(mixer, {"add_slasher": {"addr": people["carol"]}}, sender=admin)
    assert app.query(mixer, {"list_slashers": {}}) == {"slashers": [people["carol"]]}
    with pytest.raises(ContractError, match="slash"):
        app.execute(mixer, slash, sender=people["carol"])
    with pytest.raises(ContractError, match="^Slasher already registered"):
        app.execute(mixer, {"add_slasher": {"addr": people["carol"]}}, sender=admin)
    app.execute(mixer, {"remove_slasher": {"addr": people["carol"]}}, sender=admin)
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(mixer, slash, sender=people["carol"])
    with pytest.raises(ContractError, match="^Slasher not registered"):
        app.execute(mixer, {"remove_slasher": {"addr": people["carol"]}}, sender=admin)
    assert points(app, mixer, people["alice"]) == 8


@pytest.mark.parametrize("portion", ["0", "1.5", "-0.5", "0.0000000001", "half", "", "1" * 40])
def test_slash_refuses_bad_portions(app, mixer, admin, people, portion):
    with pytest.raises(ContractError, match="Invalid slash portion"):
        app.execute(mixer, {"slash": {"addr": people["alice"], "portion": portion}}, sender=admin)


def test_slash_is_forwarded_to_the_stake_contract(app, group_code, mixer_code, admin, people):
    stake = app.instantiate(app.store_code(artifact("stake")), {
        "denom": "ustake", "tokens_per_point": "1000", "min_bond": "1", "unbonding_period": 100,
        "admin": admin, "preauths_slashing": 0}, sender=admin, label="stake")
    app.execute(stake, {"bond": {}}, sender=people["alice"], funds={"ustake": 64_000})
    left = make_group(app, group_code, admin, [(people["alice"], 16)], "eng")
    mixer = make_mixer(app, mixer_code, admin, left, stake)
    assert points(app, mixer, people["alice"]) == 32          # isqrt(64 * 16)
    app.execute(stake, {"add_slasher": {"addr": mixer}}, sender=admin)
    app.execute(mixer, {"slash": {"addr": people["alice"], "portion": "0.75"}}, sender=admin)
    assert app.query(stake, {"staked": {"address": people["alice"]}})["stake"]["amount"] == "16000"
    assert points(app, mixer, people["alice"]) == 16          # the stake hook came back: isqrt(16 * 16)


# --- admin and bad input -----------------------------------------------------------------

@pytest.mark.parametrize("msg", [
    {"add_hook": {"addr": "ADDR"}}, {"remove_hook": {"addr": "ADDR"}},
    {"add_slasher": {"addr": "ADDR"}}, {"remove_slasher": {"addr": "ADDR"}},
    {"update_admin": {"admin": "ADDR"}},
])
def test_admin_messages_refuse_others(app, mixer, people, msg):
    name = next(iter(msg))
    msg = {name: {k: people["bob"] for k in msg[name]}}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(mixer, msg, sender=people["bob"])
    assert app.query(mixer, {"hooks": {}}) == {"hooks": []}
    assert app.query(mixer, {"list_slashers": {}}) == {"slashers": []}


def test_update_admin(app, mixer, admin, people):
    app.execute(mixer, {"update_admin": {"admin": people["bob"]}}, sender=admin)
    assert app.query(mixer, {"admin": {}}) == {"admin": people["bob"]}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(mixer, {"add_hook": {"addr": people["carol"]}}, sender=admin)
    app.execute(mixer, {"update_admin": {}}, sender=people["bob"])
    assert app.query(mixer, {"admin": {}}) == {"admin": None}
    with pytest.raises(ContractError, match="^Unauthorized$"):
        app.execute(mixer, {"add_hook": {"addr": people["carol"]}}, sender=people["bob"])


@pytest.mark.parametrize("function, error", [
    ({"sigmoid": {"max_points": "0", "p": "0.62", "s": "0.00001"}}, "max_points must be > 0"),
    ({"sigmoid": {"max_points": "10", "p": "0", "s": "0.00001"}}, "p must be in"),
    ({"sigmoid": {"max_points": "10", "p": "1.01", "s": "0.00001"}}, "p must be in"),
    ({"sigmoid": {"max_points": "10", "p": "0.5", "s": "0"}}, "s must be > 0"),
    ({"sigmoid": {"max_points": "10", "p": "0.5", "s": "1e-5"}}, "Invalid decimal for s"),
    ({"sigmoid": {"max_points": "10", "p": "-0.5", "s": "1"}}, "Invalid decimal for p"),
    ({"sigmoid": {"max_points": "10", "p": "0." + "1" * 50, "s": "1"}}, "Invalid decimal for p"),
    ({"sigmoid": {"max_points": "10", "p": "0.5"}}, "missing field `s`"),
    ({"sigmoid": {"max_points": 10, "p": "0.5", "s": "1"}}, "Error parsing"),
    ({"sigmoid": {"max_points": "10", "p": "0.5", "s": "1", "q": "1"}}, "unknown field"),
    ({"geometric_mean": {"x": 1}}, "unknown field"),
    ({"harmonic_mean": {}}, "unknown variant"),
])
def test_instantiate_refuses_bad_functions(app, groups, mixer_code, admin, function, error):
    with pytest.raises(ContractError, match=error):
        app.instantiate(mixer_code, {"left_group": groups[0], "right_group": groups[1], "function": function},
                        sender=admin)


def test_instantiate_refuses_bad_input(app, groups, mixer_code, admin):
    base = {"left_group": groups[0], "right_group": groups[1], "function": {"geometric_mean": {}}}
    for msg, error in [
        ({**base, "left_group": "nope"}, "addr_validate"),
        ({**base, "admin": "Bad Admin"}, "addr_validate"),
        ({k: v for k, v in base.items() if k != "function"}, "missing field `function`"),
        ({**base, "extra": 1}, "unknown field"),
        ({**base, "left_group": 7}, "Error parsing"),
        ({**base, "left_group": "x" * 5000}, "addr_validate"),
    ]:
        with pytest.raises(ContractError, match=error):
            app.instantiate(mixer_code, msg, sender=admin)
    # a group that is not a tg4 contract
    with pytest.raises(ContractError):
        app.instantiate(mixer_code, {**base, "left_group": admin}, sender=admin)


@pytest.mark.parametrize("msg, error", [
    ({"poke": {}}, "unknown variant"),
    ({"add_hook": {}}, "missing field `addr`"),
    ({"add_hook": {"addr": 5}}, "Error parsing"),
    ({"add_hook": {"addr": "conclave1" + "q" * 5000}}, "addr_validate"),
    ({"slash": {"addr": "x"}}, "missing field `portion`"),
    ({"member_changed_hook": {"diffs": "all"}}, "Error parsing"),
    ({"member_changed_hook": {}}, "missing field `diffs`"),
    ({"add_slasher": {"addr": "a", "extra": 1}}, "unknown field"),
])
def test_execute_refuses_bad_input(app, mixer, admin, msg, error):
    with pytest.raises(ContractError, match=error):
        app.execute(mixer, msg, sender=admin)
    assert app.query(mixer, {"hooks": {}}) == {"hooks": []}
    assert total(app, mixer) == 11


@pytest.mark.parametrize("msg", [
    {"poke": {}}, {"member": {}}, {"mixer_function": {"stake": 5, "engagement": "1"}},
    {"mixer_function": {"stake": "18446744073709551616", "engagement": "1"}},
    {"mixer_function": {"stake": "-1", "engagement": "1"}}, {"groups": {"x": 1}},
    {"list_members": {"limit": "ten"}},
])
def test_query_refuses_bad_input(app, mixer, msg):
    with pytest.raises(Exception):
        app.query(mixer, msg)


def test_migrate_records_version(app, groups, mixer_code, admin):
    mixer = app.instantiate(mixer_code, {"left_group": groups[0], "right_group": groups[1],
                                         "function": {"geometric_mean": {}}}, sender=admin, admin=admin)
    app.migrate(mixer, mixer_code, {}, sender=admin)
    assert app.query_raw(mixer, b"contract_info") == b'{"contract":"mixer","version":"0.1.0"}'
    with pytest.raises(ContractError, match="unknown field"):
        app.migrate(mixer, mixer_code, {"x": 1}, sender=admin)
    assert total(app, mixer) == 11
