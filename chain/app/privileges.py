"""The privilege registry: which contracts may act for the chain (block hooks, governance, minting).

Set at genesis and changed only by governance (the set_privilege custom message). A contract
learns of a change through sudo ``{"privilege_change":{"promoted":{}}}`` / ``{"demoted":{}}``:
a contract without a sudo entry point is granted silently (it needs no set-up), while an
error from its sudo fails the grant or revocation, so a contract can refuse a role it cannot
play. validator_set_updater has at most one holder: granting it to another contract moves it
(the previous holder is demoted first), and it cannot be revoked from its holder, only moved,
so once set the chain always has exactly one.
"""
from __future__ import annotations

from ..vm.errors import OutOfGas, VmError
from .context import Context
from .errors import AppError, InvalidRequest, NotFound
from .events import Event
from .kv import KVStore, iterate_prefix
from .wasm import state as wasm_state

BEGIN_BLOCKER = "begin_blocker"
END_BLOCKER = "end_blocker"
VALIDATOR_SET_UPDATER = "validator_set_updater"
GOV_EXECUTOR = "gov_executor"
TOKEN_MINTER = "token_minter"
PRIVILEGES = (BEGIN_BLOCKER, END_BLOCKER, VALIDATOR_SET_UPDATER, GOV_EXECUTOR, TOKEN_MINTER)
EXCLUSIVE = frozenset({VALIDATOR_SET_UPDATER})   # exactly one holder at a time

PROMOTED_MSG = b'{"privilege_change":{"promoted":{}}}'
DEMOTED_MSG = b'{"privilege_change":{"demoted":{}}}'
EVENT_TYPE = "privilege"
_HOLDER = b"priv/"               # privilege name || "/" || address -> b""


class PrivilegeRefused(AppError):
    """The contract's sudo privilege_change failed, so the change did not happen."""


def validate_privilege(name: object) -> str:
    if not isinstance(name, str) or name not in PRIVILEGES:
        raise InvalidRequest(f"unknown privilege {name!r}; privileges are: {', '.join(PRIVILEGES)}")
    return name


def _key(name: str, contract: str) -> bytes:
    return _HOLDER + name.encode() + b"/" + contract.encode()


def holders(store: KVStore, name: str) -> list[str]:
    """The contracts holding ``name``, in address order (the order block hooks run in)."""
    prefix = _HOLDER + validate_privilege(name).encode() + b"/"
    return [key[len(prefix):].decode() for key, _ in iterate_prefix(store, prefix)]


def has(store: KVStore, contract: str, name: str) -> bool:
    return store.get(_key(validate_privilege(name), contract)) is not None


def grant(keeper, ctx: Context, contract: str, name: str) -> list[Event]:
    """Give ``contract`` the privilege and tell it (sudo promoted). Granting a held privilege is a no-op."""
    validate_privilege(name)
    _ensure_contract(ctx, contract)
    if has(ctx.store, contract, name):
        return []
    events: list[Event] = []
    if name in EXCLUSIVE:
        for previous in holders(ctx.store, name):
            events += _change(keeper, ctx, previous, name, granted=False)
    events += _change(keeper, ctx, contract, name, granted=True)
    return events


def grant_at_genesis(ctx: Context, contract: str, name: str) -> list[Event]:
    """Record a holder while genesis wires the chain, without the privilege_change sudo.

    Genesis instantiates each contract into its role, so there is nothing to tell it; and
    engagement, stake and membership answer only end_block to sudo (they would refuse the
    notification). Every change after genesis goes through ``grant``/``revoke``.
    """
    validate_privilege(name)
    _ensure_contract(ctx, contract)
    if name in EXCLUSIVE and holders(ctx.store, name):
        raise InvalidRequest(f"{name} already has a holder at genesis; it has exactly one")
    ctx.store.set(_key(name, contract), b"")
    return [Event(EVENT_TYPE, [("contract", contract), ("privilege", name), ("change", "promoted")])]


def revoke(keeper, ctx: Context, contract: str, name: str) -> list[Event]:
    """Take the privilege away and tell the contract (sudo demoted)."""
    validate_privilege(name)
    if not has(ctx.store, contract, name):
        raise NotFound(f"contract {contract} does not hold privilege {name}; nothing to revoke")
    if name in EXCLUSIVE:
        raise InvalidRequest(f"{name} must always have exactly one holder: grant it to another contract "
                             f"instead (that moves it from {contract})")
    return _change(keeper, ctx, contract, name, granted=False)


def _change(keeper, ctx: Context, contract: str, name: str, granted: bool) -> list[Event]:
    if granted:
        ctx.store.set(_key(name, contract), b"")
    else:
        ctx.store.delete(_key(name, contract))
    events = [Event(EVENT_TYPE, [("contract", contract), ("privilege", name),
                                 ("change", "promoted" if granted else "demoted")])]
    if not _has_sudo(keeper, ctx, contract):
        return events                       # nothing to tell: the contract needs no set-up
    try:
        outcome = keeper.sudo(ctx, contract, PROMOTED_MSG if granted else DEMOTED_MSG)
    except OutOfGas:
        raise
    except (AppError, VmError) as exc:
        verb = "granting" if granted else "revoking"
        raise PrivilegeRefused(f"{verb} privilege {name} failed: contract {contract} refused "
                               f"privilege_change: {exc}") from None
    return events + outcome.events


def _has_sudo(keeper, ctx: Context, contract: str) -> bool:
    info = keeper.contract_info(ctx, contract)
    code = keeper.code_info(ctx, info.code_id)
    checksum = bytes.fromhex(code.checksum)
    store = ctx.store
    return "sudo" in keeper.vm.entry_points(checksum, lambda: wasm_state.load_wasm(store, checksum) or b"")


def _ensure_contract(ctx: Context, contract: str) -> None:
    if wasm_state.load_contract(ctx.store, contract) is None:
        raise NotFound(f"no such contract: {contract} (privileges are held by contracts only)")


def snapshot(store: KVStore) -> dict[str, list[str]]:
    """Every privilege with its holders (for queries, genesis export and tests)."""
    return {name: holders(store, name) for name in PRIVILEGES}
