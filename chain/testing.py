"""TestApp: the whole contract engine in-process, for contract and chain tests (like cw-multi-test).

    app = TestApp()
    alice = app.create_account("alice", coins={"ucnv": 1_000})
    code_id = app.store_code(open("contracts/artifacts/test_counter.wasm", "rb").read())
    counter = app.instantiate(code_id, {"count": 1}, sender=alice, label="counter")
    result = app.execute(counter, {"increment": {}}, sender=alice)
    assert app.query(counter, {"count": {}}) == {"count": 2}

It runs the real VM (wasmtime), the real wasm module and bank of chain/app over an in-memory
store; each execute/instantiate/migrate/sudo is atomic like a transaction: on any error its
state changes are discarded and the error is raised. A contract's own error raises
``ContractError`` carrying its message; exhausting the gas limit raises ``OutOfGas``. Gas is
charged on failure as on success: a raised error carries ``gas_used``.

Custom messages and queries go to the chain's real handlers (chain/app/chain_messages.py), so
a contract needs a privilege (``app.grant_privilege``, test-only) to send them; new code enters
by ``app.propose_code`` and a vote, or by the test-only ``app.store_code`` bypass.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .app.address import Bech32Api
from .app.coins import parse_coins
from .app.context import BlockInfo, Context
from .app.errors import AppError, ContractError, InvalidRequest, NotFound, Unauthorized
from .app.events import Event
from .app.kv import CacheKV, MemoryKV
from .app import bank, code_proposals, privileges
from .app.chain_messages import install_chain_messages
from .app.wasm import state
from .app.wasm.keeper import CustomMessageHandler, CustomQueryHandler, Outcome, WasmKeeper
from .crypto import sha256
from .vm import VM, GasMeter, OutOfGas, VmError

__all__ = ["TestApp", "ExecuteResult", "ContractError", "OutOfGas", "VmError", "AppError",
           "NotFound", "Unauthorized", "InvalidRequest", "Event"]

GENESIS_TIME_NS = 1_767_225_600 * 10**9   # 2026-01-01T00:00:00Z: fixed, so tests are reproducible
DEFAULT_GAS_LIMIT = 2_000_000             # SDK gas per call (a counter increment uses ~2,500)
Funds = Mapping[str, int] | Sequence[Mapping[str, Any]] | None


@dataclass
class ExecuteResult:
    events: list[Event]
    data: bytes | None
    gas_used: int
    address: str | None = None

    def wasm_attribute(self, key: str) -> str | None:
        """The first value of ``key`` among the "wasm" events (the contract's own attributes)."""
        for event in self.events:
            if event.type == "wasm":
                value = event.get(key)
                if value is not None:
                    return value
        return None

    @property
    def data_json(self) -> Any:
        return json.loads(self.data) if self.data else None


@dataclass
class _Block:
    height: int = 1
    time_ns: int = GENESIS_TIME_NS
    tx_index: int = 0


class TestApp:
    __test__ = False  # not a pytest test class

    def __init__(self, chain_id: str = "conclave-test", prefix: str = "conclave",
                 cache_dir: Path | None = None, gas_limit: int = DEFAULT_GAS_LIMIT,
                 custom_message: CustomMessageHandler | None = None,
                 custom_query: CustomQueryHandler | None = None,
                 debug_handler: Callable[[str], None] | None = None):
        self.chain_id = chain_id
        self.api = Bech32Api(prefix)
        self.gas_limit = gas_limit
        self.store = MemoryKV()
        self.vm = VM(self.api, cache_dir=cache_dir, debug_handler=debug_handler)
        self.keeper = WasmKeeper(self.vm, self.api)
        install_chain_messages(self.keeper)          # the chain's real custom messages and queries
        if custom_message is not None:
            self.keeper.custom_message = custom_message
        if custom_query is not None:
            self.keeper.custom_query = custom_query
        self.block = _Block()
        self.accounts: dict[str, str] = {}

    # --- accounts and blocks -----------------------------------------------------------------
    def create_account(self, name: str, coins: Mapping[str, int] | None = None) -> str:
        """A fresh address derived from ``name``, funded (minted) with ``coins``."""
        address = self.api.humanize(sha256(b"conclave-test-account:" + name.encode())[:20])
        self.accounts[name] = address
        if coins:
            bank.mint(self.store, address, _funds(coins))
        return address

    def address(self, name: str) -> str:
        return self.accounts[name]

    def balance(self, address: str, denom: str) -> int:
        return bank.balance(self.store, address, denom)

    def next_block(self, seconds: int = 5) -> None:
        self.block.height += 1
        self.block.time_ns += seconds * 10**9
        self.block.tx_index = 0

    @property
    def height(self) -> int:
        return self.block.height

    # --- code and contracts --------------------------------------------------------------------
    def store_code(self, wasm: bytes, creator: str | None = None) -> int:
        """TEST-ONLY bypass of governance: on a live chain code enters only by a passed proposal."""
        info, _ = self._atomic(lambda ctx: self.keeper.store_code(ctx, creator or self._nobody(), wasm))
        return info.code_id

    def store_code_file(self, path: str | Path) -> int:
        return self.store_code(Path(path).read_bytes())

    def instantiate(self, code_id: int, msg: Any, sender: str, funds: Funds = None, label: str = "",
                    admin: str | None = None, gas_limit: int | None = None) -> str:
        """Instantiate and return the new contract's address (an empty label becomes "contract")."""
        result = self.instantiate_full(code_id, msg, sender, funds, label, admin, gas_limit)
        assert result.address is not None
        return result.address

    def instantiate_full(self, code_id: int, msg: Any, sender: str, funds: Funds = None, label: str = "",
                         admin: str | None = None, gas_limit: int | None = None) -> ExecuteResult:
        return self._run(lambda ctx: self.keeper.instantiate(
            ctx, sender, code_id, _msg(msg), _funds(funds), label or "contract", admin), gas_limit)

    def execute(self, contract: str, msg: Any, sender: str, funds: Funds = None,
                gas_limit: int | None = None) -> ExecuteResult:
        return self._run(lambda ctx: self.keeper.execute(ctx, sender, contract, _msg(msg), _funds(funds)), gas_limit)

    def migrate(self, contract: str, code_id: int, msg: Any, sender: str,
                gas_limit: int | None = None) -> ExecuteResult:
        return self._run(lambda ctx: self.keeper.migrate(ctx, sender, contract, code_id, _msg(msg)), gas_limit)

    def sudo(self, contract: str, msg: Any, gas_limit: int | None = None) -> ExecuteResult:
        return self._run(lambda ctx: self.keeper.sudo(ctx, contract, _msg(msg)), gas_limit)

    def update_admin(self, contract: str, new_admin: str | None, sender: str) -> ExecuteResult:
        return self._run(lambda ctx: self.keeper.update_admin(ctx, sender, contract, new_admin), None)

    def query(self, contract: str, msg: Any) -> Any:
        """The contract's JSON answer, parsed."""
        ctx = self._context(GasMeter.with_sdk_gas(self.keeper.query_gas_limit), self.store)
        return json.loads(self.keeper.query_smart(ctx, contract, _msg(msg), ctx.meter))

    def query_raw(self, contract: str, key: bytes) -> bytes | None:
        return self.keeper.query_raw(self._context(GasMeter(0), self.store), contract, key)

    def contract_info(self, contract: str) -> state.ContractInfo:
        return self.keeper.contract_info(self._context(GasMeter(0), self.store), contract)

    def code_info(self, code_id: int) -> state.CodeInfo:
        return self.keeper.code_info(self._context(GasMeter(0), self.store), code_id)

    def contract_history(self, contract: str) -> list[state.HistoryEntry]:
        return state.contract_history(self.store, contract)

    # --- privileges and governance-gated upload -------------------------------------------------
    def grant_privilege(self, contract: str, name: str) -> list[Event]:
        """TEST-ONLY shortcut for what genesis or a passed set_privilege proposal does (sudo promoted included)."""
        return self._atomic(lambda ctx: privileges.grant(self.keeper, ctx, contract, name))

    def revoke_privilege(self, contract: str, name: str) -> list[Event]:
        """TEST-ONLY shortcut for a passed set_privilege {grant: false} proposal (sudo demoted included)."""
        return self._atomic(lambda ctx: privileges.revoke(self.keeper, ctx, contract, name))

    def privileged(self, name: str) -> list[str]:
        return privileges.holders(self.store, name)

    def propose_code(self, sender: str, wasm: bytes, title: str, description: str,
                     migrate: Mapping[str, Any] | None = None, gas_limit: int | None = None) -> int:
        """Submit a code proposal as the propose_code transaction does; return the proposal id.

        ``migrate`` is ``{"contract": ADDR, "msg": JSON}`` or None.
        """
        request = code_proposals.parse_migrate(self.api, dict(migrate) if migrate is not None else None)
        return self._atomic(lambda ctx: code_proposals.propose_code(
            self.keeper, ctx, sender, wasm, title, description, request), gas_limit)

    def pending_code(self, checksum: str) -> code_proposals.PendingCode | None:
        return code_proposals.pending(self.store, code_proposals.parse_checksum(checksum))

    def codes(self) -> list[state.CodeInfo]:
        return state.all_codes(self.store)

    def end_block(self) -> list[Event]:
        """The app's end-block housekeeping that exists so far: pruning pending code."""
        return self._atomic(lambda ctx: code_proposals.prune_expired_code(self.keeper, ctx))

    # --- internals -----------------------------------------------------------------------------
    def _nobody(self) -> str:
        return self.api.humanize(b"\x00" * 20)

    def _context(self, meter: GasMeter, store) -> Context:
        return Context(store=store, block=BlockInfo(self.block.height, self.block.time_ns, self.chain_id),
                       meter=meter, tx_index=self.block.tx_index)

    def _atomic(self, fn: Callable[[Context], Any], gas_limit: int | None = None) -> Any:
        branch = CacheKV(self.store)
        ctx = self._context(GasMeter.with_sdk_gas(gas_limit or self.gas_limit), branch)
        result = fn(ctx)          # raises: the branch is dropped, nothing is written
        branch.write()
        self.block.tx_index += 1
        return result

    def _run(self, fn: Callable[[Context], Outcome], gas_limit: int | None) -> ExecuteResult:
        meter_holder: list[GasMeter] = []

        def call(ctx: Context) -> Outcome:
            meter_holder.append(ctx.meter)
            return fn(ctx)

        try:
            outcome = self._atomic(call, gas_limit)
        except (AppError, VmError) as exc:
            if meter_holder:
                exc.gas_used = meter_holder[0].gas_used  # type: ignore[attr-defined]  # gas is charged on failure too
            raise
        return ExecuteResult(events=outcome.events, data=outcome.data,
                             gas_used=meter_holder[0].gas_used, address=outcome.address)


def _msg(msg: Any) -> bytes:
    if isinstance(msg, (bytes, bytearray)):
        return bytes(msg)
    return json.dumps(msg, separators=(",", ":")).encode()


def _funds(funds: Funds) -> list[tuple[str, int]]:
    if not funds:
        return []
    if isinstance(funds, Mapping):
        funds = [{"denom": d, "amount": str(a)} for d, a in sorted(funds.items())]
    return parse_coins(list(funds))
