"""Every genesis contract that governance may privilege accepts the chain's privilege_change sudo."""
from __future__ import annotations

import pytest

from chain.testing import ContractError
from genesis_setup import build_genesis


@pytest.fixture
def genesis(app):
    members = [app.create_account(n, {"ucnv": 10_000}) for n in ("m1", "m2")]
    deployer = app.create_account("deployer", {"ucnv": 10_000})
    return build_genesis(app, members=members, admins=members[:1], deployer=deployer)


@pytest.mark.parametrize("name", ["engagement", "stake", "membership"])
def test_end_blockers_accept_promotion_and_demotion(app, genesis, name):
    contract = getattr(genesis, name)
    app.grant_privilege(contract, "end_blocker")            # sends {"privilege_change":{"promoted":{}}}
    assert contract in app.privileged("end_blocker")
    app.sudo(contract, {"privilege_change": {"demoted": {}}})
    app.sudo(contract, {"end_block": {}})                   # still does its end-block work


@pytest.mark.parametrize("name", ["engagement", "stake", "membership"])
def test_malformed_privilege_change_is_refused(app, genesis, name):
    contract = getattr(genesis, name)
    for bad in ({"privilege_change": {"crowned": {}}}, {"privilege_change": {}}, {"privilege_change": {"promoted": {"x": 1}}}):
        with pytest.raises(ContractError):
            app.sudo(contract, bad)
