"""Validators: the epoch, my consensus key, the active set, the jailed, the next epoch's set, a PoE bar chart.

R registers my consensus key with the valset (from a priv_validator_key.json or a base64 key): the key
and moniker are checked as the valset checks them before the confirmation, and signing happens only
after it. Everything the chain says (addresses, monikers) is shown literally, never as markup.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rich.cells import set_cell_size
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.widgets import Footer, Header, Static

from chain.api.client import CONTRACT_PAGE, read_pages

from ..errors import ActionError
from ..format import Line, points_bar, short, styled
from ..session import Session
from ..validator_key import check_moniker, validator_pubkey
from .base import MAX_ROWS, DataScreen
from .confirm import Confirm, Prompt

WIDE = 110                 # from this many columns on, the active set shows whole addresses
CHROME = 4                 # padding and the scrollbar: columns a line may not use
MONIKER_CELLS = (10, 28)   # the moniker column's narrowest and widest
ME = " (me)"
DAY_S = 86_400             # a next update further away than this shows its date


class ValidatorsScreen(DataScreen):
    BINDINGS = [("R", "register", "Register key")]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("loading validators…", id="validators")
            yield Static("", id="poe-chart")
        yield Footer()

    # --- data (worker thread) ---------------------------------------------------------------------
    def fetch(self, session: Session) -> dict[str, Any]:
        client = session.client
        valset = session.contract("valset")
        data = client.validators()
        data["block_time_ns"] = client.status().get("latest_block_time_ns")
        data["poe"] = read_pages(lambda after: client.poe_points(limit=CONTRACT_PAGE, start_after=after), "members",
                                 "addr", MAX_ROWS)
        data["registered"] = read_pages(lambda after: client.smart(valset, {"list_validators": {
            "start_after": after, "limit": CONTRACT_PAGE}}), "validators", "operator", MAX_ROWS)
        data["me"] = me = session.address
        data["key_name"] = session.key_name
        if me:
            data["mine"] = client.smart(valset, {"validator": {"operator": me}}).get("validator")
            data["my_points"] = client.points(me).get("poe")
        return data

    # --- rendering (UI thread) --------------------------------------------------------------------
    def show(self, data: dict[str, Any]) -> None:
        self.data = data
        width = max(20, self.size.width - CHROME)
        me = data.get("me")
        monikers = {v.get("operator"): (v.get("metadata") or {}).get("moniker")
                    for v in data.get("registered") or [] if isinstance(v, dict)}
        poe = {m.get("addr"): m.get("points") for m in data.get("poe") or [] if isinstance(m, dict)}
        active = [v for v in data.get("active") or [] if isinstance(v, dict)]
        lines: list[Line] = [epoch_line(data.get("epoch"), data.get("block_time_ns"))]
        lines += my_key_lines(me, data.get("key_name"), data.get("mine"), data.get("my_points"))
        lines += [""] + active_lines(active, poe, monikers, me, width)
        lines += [""] + jailed_lines(data.get("jailed"), data.get("jailed_next"), me)
        lines += [""] + next_epoch_lines(active, data.get("simulated_next"), me)
        self.query_one("#validators", Static).update(styled(lines))
        self.query_one("#poe-chart", Static).update(styled([""] + poe_chart(data.get("poe") or [], me, width)))

    def on_resize(self, event: Resize) -> None:
        if self.data is not None:
            self.show(self.data)       # bars and columns follow the terminal's width

    # --- register my key --------------------------------------------------------------------------
    def action_register(self) -> None:
        session = self.app.session
        if not self.can_sign("registering a validator key"):
            return
        mine = (self.data or {}).get("mine")
        if isinstance(mine, dict) and (self.data or {}).get("me") == session.address:
            self.app.notify(f"you already registered key {_key_of(mine)} (moniker \"{_moniker_of(mine)}\"); the valset "
                            "keeps one key per operator and it cannot be changed", severity="warning", timeout=8)
            return

        def got_key(source: str | None) -> None:
            if source is None or not source.strip():
                return
            try:
                pubkey = validator_pubkey(source)
            except ActionError as exc:
                self.app.notify(str(exc), title="not a validator key", severity="error", timeout=8)
                return
            self.app.push_screen(Prompt("Moniker: the name members see for your validator (1-70 bytes)",
                                        placeholder="my-node"), lambda moniker: got_moniker(pubkey, moniker))

        def got_moniker(pubkey: str, moniker: str | None) -> None:
            if moniker is None:
                return
            try:
                moniker = check_moniker(moniker)
            except ActionError as exc:
                self.app.notify(str(exc), title="bad moniker", severity="error", timeout=8)
                return

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self.run_action(lambda: session.register_validator_key(pubkey, moniker),
                                    f'registered validator key {pubkey} as "{moniker}"')
            self.app.push_screen(Confirm(f"Register this consensus key with the valset?\n  {pubkey}\nmoniker\n  "
                                         f"{moniker}\noperator\n  {session.address}\n"
                                         "The valset keeps one key per operator, for good."), confirmed)

        self.app.push_screen(Prompt("Path to a priv_validator_key.json, or a base64 ed25519 public key",
                                    placeholder="~/.conclave/config/priv_validator_key.json"), got_key)


# --- reading --------------------------------------------------------------------------------------
# --- the parts of the screen, as lines (pure, so tests need no node) ------------------------------
def epoch_line(epoch: Any, block_time_ns: Any) -> Line:
    """When the valset last chose and will next choose its set: epoch number, length, next update."""
    epoch = epoch if isinstance(epoch, dict) else {}
    length, current, next_at = (epoch.get(k) for k in ("epoch_length", "current_epoch", "next_update_time"))
    which = f"epoch {current}" if isinstance(current, int) and current > 0 else "no update yet"
    every = f"every {length} s" if isinstance(length, int) else "length ?"
    left = None
    if isinstance(next_at, int) and isinstance(block_time_ns, int):
        left = next_at - block_time_ns // 1_000_000_000
    if left is None or left > DAY_S:
        at = _clock(next_at)
    else:
        at = f"{_clock(next_at, '%H:%M:%S UTC')} " + (f"(in {left} s)" if left > 0 else "(due at the next block)")
    return [("Validator set", "bold"), f": {which}, {every}; next update {at}"]


def my_key_lines(me: str | None, key_name: str | None, mine: Any, points: Any) -> list[Line]:
    """My consensus key as the valset knows it, or how to register one."""
    if not me:
        return [[("Me", "bold"), ": read-only — press s to sign in and register a validator key"]]
    who = [("Me", "bold"), f" {key_name or ''} {short(me)}  PoE points {_int_or(points, 0)}"]
    if not isinstance(mine, dict):
        hint = "press R to register one" if _int_or(points, 0) > 0 else "PoE points are needed to register one"
        return [who, f"  no validator key: {hint}"]
    who.append("  in the active set" if mine.get("active_validator") else "  not in the active set")
    if mine.get("jailed_until"):
        who.append(f", jailed {_jail(mine['jailed_until'])}")
    return [who, [f"  key {_key_of(mine)}  moniker ", (_moniker_of(mine), "bold")]]


def active_lines(active: list[dict[str, Any]], poe: dict[Any, Any], monikers: dict[Any, Any], me: str | None,
                 width: int) -> list[Line]:
    """The active set as a table: operator, moniker, power, PoE points (by power, as the valset ranks them)."""
    total = sum(_int_or(v.get("power"), 0) for v in active)
    lines: list[Line] = [[("Active set", "bold"), f": {len(active)} validator{'s' * (len(active) != 1)}, "
                          f"total power {total}"]]
    if not active:
        return lines + ["  none"]
    full = width >= WIDE
    who = max(len(_operator(v.get("operator"), me, full)) for v in active)
    numbers = 10
    moniker_w = max(MONIKER_CELLS[0], min(MONIKER_CELLS[1], width - 2 - who - 2 * (numbers + 2) - 2))
    lines.append((f"  {'operator':<{who}}  {set_cell_size('moniker', moniker_w)}  {'power':>{numbers}}  "
                  f"{'PoE':>{numbers}}", "dim"))
    for v in sorted(active, key=lambda v: (-_int_or(v.get("power"), 0), str(v.get("operator")))):
        operator = v.get("operator")
        moniker = set_cell_size(str(monikers.get(operator) or "-"), moniker_w)
        lines.append(f"  {_operator(operator, me, full):<{who}}  {moniker}  {_int_or(v.get('power'), '?'):>{numbers}}"
                     f"  {_int_or(poe.get(operator), '-'):>{numbers}}")
    return lines


def jailed_lines(jailed: Any, more: Any, me: str | None) -> list[Line]:
    """The jailed operators, each until when (or forever)."""
    jailed = [j for j in jailed or [] if isinstance(j, dict)]
    lines: list[Line] = [[("Jailed", "bold"), f": {len(jailed)}{'+' if more else ''}" + ("" if jailed else ", none")]]
    lines += [f"  {_operator(j.get('operator'), me, False)}  {_jail(j.get('jailed_until'))}" for j in jailed]
    if more:
        lines.append("  … and more (GET /validators/jailed lists them all)")
    return lines


def next_epoch_lines(active: list[dict[str, Any]], simulated: Any, me: str | None) -> list[Line]:
    """The set the valset would choose if the epoch ended now, as changes against the active set."""
    simulated = [v for v in simulated or [] if isinstance(v, dict)]
    now = {v.get("operator"): _int_or(v.get("power"), 0) for v in active}
    then = {v.get("operator"): _int_or(v.get("power"), 0) for v in simulated}
    lines: list[Line] = [[("Next epoch", "bold"), f" (if it ended now): {len(then)} validator"
                          f"{'s' * (len(then) != 1)}, total power {sum(then.values())}"]]
    changes: list[Line] = []
    for operator in sorted(then, key=lambda o: (-then[o], str(o))):
        if operator not in now:
            changes.append([("  + ", "green"), f"{_operator(operator, me, False)} joins with power {then[operator]}"])
        elif now[operator] != then[operator]:
            changes.append(f"  ~ {_operator(operator, me, False)} power {now[operator]} → {then[operator]}")
    for operator in sorted((o for o in now if o not in then), key=str):
        changes.append([("  - ", "red"), f"{_operator(operator, me, False)} leaves"])
    return lines + (changes or ["  no change"])


def poe_chart(members: list[Any], me: str | None, width: int) -> list[Line]:
    """A horizontal bar chart of the members with PoE points, most first, bars scaled to the largest.

    Each row is ``label bar value`` within ``width`` columns; too narrow for a bar, a row keeps its
    label and value."""
    rows = sorted(((m.get("addr"), m.get("points")) for m in members
                   if isinstance(m, dict) and _int_or(m.get("points"), 0) > 0),
                  key=lambda row: (-row[1], str(row[0])))
    title: Line = [("PoE points", "bold"), f": {len(rows)} member{'s' * (len(rows) != 1)} with points"]
    if not rows:
        return [title, "  none yet: points come from bonded stake and engagement"]
    labels = [_operator(addr, me, False) for addr, _ in rows]
    label_w = max(len(label) for label in labels)
    value_w = max(len(str(points)) for _, points in rows)
    bar_w = width - 2 - label_w - 1 - 1 - value_w
    lines: list[Line] = [title]
    for label, (_, points) in zip(labels, rows):
        bar = points_bar(points, rows[0][1], bar_w) + " " if bar_w > 0 else ""
        style = "bold" if label.endswith(ME) else ""
        lines.append([f"  {label:<{label_w}} ", (bar, "cyan"), (f"{points:>{value_w}}", style)])
    return lines


# --- small renderings -----------------------------------------------------------------------------
def _operator(address: Any, me: str | None, full: bool) -> str:
    text = str(address or "-") if full else short(address)
    return text + (ME if me is not None and address == me else "")


def _int_or(value: Any, default: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _clock(seconds: Any, form: str = "%Y-%m-%d %H:%M:%S UTC") -> str:
    if not isinstance(seconds, int) or not 0 <= seconds < 253402300800:     # datetime's year 9999
        return "-"
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime(form)


def _jail(until: Any) -> str:
    if isinstance(until, dict) and "forever" in until:
        return "forever"
    if isinstance(until, dict) and "until" in until:
        return f"until {_clock(until['until'])}"
    return "?"


def _key_of(validator: dict[str, Any]) -> str:
    return str((validator.get("validator_pubkey") or {}).get("ed25519") or "?")


def _moniker_of(validator: dict[str, Any]) -> str:
    return str((validator.get("metadata") or {}).get("moniker") or "-")
