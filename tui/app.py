"""The member terminal UI: a Textual app over one node's HTTP API and /events websocket.

    ConclaveApp(Session(Client(url)), keyring=Keyring(home / "keys"), key_name="alice").run()

Screens are modes switched with d/p/c/v/a (tui/screens/). A status poll in a worker thread keeps the
header's chain id and height live and is the reconnect loop: while the node is away the app says so
once, keeps polling, and says when it is back; every screen reloads on each new block. The websocket
feeds the activity screen and reconnects on its own.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from typing import Any, Iterable

import aiohttp
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import get_current_worker

from chain.api.client import ApiClientError
from chain.crypto.keys import Keyring, KeyringError, WrongPassphrase

from .format import short
from .screens.activity import ActivityScreen
from .screens.base import DataScreen, to_ui
from .screens.circle import CircleScreen
from .screens.confirm import Prompt
from .screens.dashboard import DashboardScreen
from .screens.nav import SCREENS
from .screens.proposals import ProposalsScreen
from .screens.signin import SignInScreen
from .screens.validators import ValidatorsScreen
from .errors import ActionError
from .session import Session

POLL_S = 0.5
WS_RETRY_S = 1.0
ACTIVITY_LINES = 500


class ConclaveApp(App):
    TITLE = "Conclave"
    CSS_PATH = "app.tcss"
    MODES = {"dashboard": DashboardScreen, "proposals": ProposalsScreen, "circle": CircleScreen,
             "validators": ValidatorsScreen, "activity": ActivityScreen}
    # The screen keys live in the bar under the header (screens/nav.py) and t (theme) in the palette, so the footer
    # keeps to the screen's actions and fits 80 columns.
    BINDINGS = [*(Binding(key, f"switch_mode('{mode}')", label, show=False) for mode, (key, label) in SCREENS.items()),
                Binding("t", "toggle_theme", "Theme", show=False), Binding("s", "sign_in", "Sign in", show=False),
                Binding("question_mark", "keys", "Keys"),
                ("q", "quit", "Quit")]

    def __init__(self, session: Session, *, keyring: Keyring | None = None, key_name: str | None = None,
                 poll_s: float = POLL_S):
        super().__init__()
        self.session = session
        self.keyring = keyring
        self.key_name = key_name
        self.poll_s = poll_s
        self.height: int | None = None
        self.chain_id: str | None = None
        self.connected: bool | None = None
        self._last_error: str | None = None
        self.activity: deque[str] = deque(maxlen=ACTIVITY_LINES)

    def notify(self, message: str, *, title: str = "", severity: str = "information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Notifications carry chain and node text (logs with JSON arrays): shown literally, never as markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # --- start-up and sign-in -------------------------------------------------------------------
    def on_mount(self) -> None:
        self.switch_mode("dashboard")
        self.sub_title = f"connecting to {self.session.client.url}"
        if self.key_name is not None:
            self.sign_in(self.key_name)
        elif self.keyring is not None and self._keys():
            self.push_screen(SignInScreen(self._keys()), self._signed_in_choice)
        self.poll_status()
        self.follow_events()

    def _keys(self) -> list:
        try:
            return self.keyring.list() if self.keyring else []
        except KeyringError as exc:
            self.notify(str(exc), severity="error")
            return []

    def _signed_in_choice(self, name: str | None) -> None:
        if name:
            self.sign_in(name)

    def sign_in(self, name: str) -> None:
        """Unlock ``name`` from the keyring, asking its passphrase if it is encrypted; read-only on failure."""
        if self.keyring is None:
            self.notify("no keyring: read-only mode", severity="warning")
            return
        try:
            info = self.keyring.show(name)
        except KeyringError as exc:
            self.notify(f"{exc}; read-only mode", severity="error", timeout=8)
            return
        if info.encrypted:
            self.push_screen(Prompt(f"Passphrase for key {name!r}", password=True),
                             lambda passphrase: passphrase is not None and self._unlock(name, passphrase))
        else:
            self._unlock(name, None)

    @work(thread=True, group="unlock")
    def _unlock(self, name: str, passphrase: str | None) -> None:
        try:
            key = self.keyring.load_signer(name, passphrase)
        except WrongPassphrase as exc:
            to_ui(self, self.notify, f"{exc}: try again, or Escape for read-only", severity="error", timeout=8)
            to_ui(self, self.sign_in, name)
            return
        except KeyringError as exc:
            to_ui(self, self.notify, f"{exc}; read-only mode", severity="error", timeout=8)
            return
        to_ui(self, self._signed_in, name, key)

    def action_sign_in(self) -> None:
        """Choose (another) key from the keyring, e.g. after going on read-only."""
        keys = self._keys()
        if not keys:
            self.notify("no keys in the keyring: add one with `conclave keys add NAME`", severity="warning")
            return
        self.push_screen(SignInScreen(keys), self._signed_in_choice)

    def _signed_in(self, name: str, key: Any) -> None:
        self.session.signer, self.session.key_name = key, name
        self.notify(f"signed in as {name} ({short(self.session.address)})", title="signed in")
        self._reload_screen()

    # --- live status: the reconnect loop --------------------------------------------------------
    @work(thread=True, exclusive=True, group="status")
    def poll_status(self) -> None:
        me = get_current_worker()
        while not me.is_cancelled:
            try:
                status = self.session.client.status()
                if not isinstance(status, dict):
                    raise TypeError(f"/status answered a {type(status).__name__}, not an object")
            except Exception as exc:        # noqa: BLE001 — every failure is said (report), never fatal
                to_ui(self, self.report, exc)
            else:
                to_ui(self, self._status, status)
            time.sleep(self.poll_s)  # bounded: the loop sees the cancel within one period

    def report(self, exc: Exception, title: str = "") -> None:
        """Say why a worker's call to the node failed: an API error (or the node's absence), an action the UI
        refused (``title`` heads it), or an answer of the wrong shape. The one place workers send failures."""
        if isinstance(exc, ApiClientError):
            self.api_error(exc)
        elif isinstance(exc, ActionError):
            self.notify(str(exc), title=title, severity="error")
        else:
            self.unexpected_answer(exc)

    def api_error(self, exc: ApiClientError) -> None:
        """A failed API call: an absent node starts the outage; any other refusal is shown once."""
        if exc.code == "unreachable" or exc.status == 0:
            self.network_error(str(exc))
        elif str(exc) != self._last_error:
            self._last_error = str(exc)
            self.notify(f"{exc} ({exc.code})", title="node refused", severity="error", timeout=8)

    def unexpected_answer(self, exc: Exception) -> None:
        """The node answered something the UI cannot read (wrong shape or types): say so once per kind."""
        message = f"the node at {self.session.client.url} sent an answer the UI does not understand " \
                  f"({type(exc).__name__}: {str(exc)[:120]}); is it a Conclave node of this version?"
        if message != self._last_error:
            self._last_error = message
            self.notify(message, title="unexpected answer", severity="error", timeout=8)

    def network_error(self, message: str) -> None:
        """Say once that the node is away (the poll keeps trying); the screens keep their last data."""
        if self.connected is not False:
            self.connected = False
            self.sub_title = f"{self.chain_id or '?'} · node unreachable, retrying"
            self.notify(f"{message}. Retrying…", title="node unreachable", severity="error", timeout=8)

    def _status(self, status: dict[str, Any]) -> None:
        if self.connected is False:
            self.notify(f"the node at {self.session.client.url} answers again", title="reconnected")
        self.connected = True
        self.chain_id = status.get("chain_id")
        height = status.get("height")
        self.sub_title = f"{self.chain_id} · height {height}"
        if height != self.height:
            self.height = height
            self._reload_screen()

    def _reload_screen(self) -> None:
        top = self._top_screen()
        if isinstance(top, DataScreen):
            top.reload()

    def _top_screen(self) -> Screen | None:
        """The screen on top, or None while the app starts or closes (``self.screen`` would raise)."""
        stack = self.screen_stack
        return stack[-1] if stack else None

    # --- activity feed ----------------------------------------------------------------------------
    @work(exclusive=True, group="events")
    async def follow_events(self) -> None:
        """Read /events forever: block, tx and event messages become activity lines; reconnect after a loss."""
        url = self.session.client.url + "/events"
        next_height: int | None = None
        while True:
            try:
                async with aiohttp.ClientSession() as http, http.ws_connect(url, heartbeat=10) as ws:
                    await ws.send_json({"subscribe": {"kinds": ["block", "tx", "event"], "from_height": next_height}})
                    async for frame in ws:
                        if frame.type != aiohttp.WSMsgType.TEXT:
                            break
                        message = json.loads(frame.data)
                        if isinstance(message.get("height"), int):
                            next_height = message["height"] + 1 if message.get("kind") == "block" else next_height
                        line = activity_line(message)
                        if line:
                            self.add_activity(line)
            except (aiohttp.ClientError, OSError, ValueError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(WS_RETRY_S)

    def add_activity(self, line: str) -> None:
        self.activity.append(line)
        top = self._top_screen()
        if isinstance(top, ActivityScreen):
            top.append(line)

    # --- actions ------------------------------------------------------------------------------
    def action_keys(self) -> None:
        """? shows every key of the current screen in a side panel (and hides it again)."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme != "textual-light" else "textual-dark"

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, (key, label) in SCREENS.items():
            yield SystemCommand(label, f"show the {label.lower()} screen ({key})",
                                lambda mode=mode: self.switch_mode(mode))
        yield SystemCommand("Light/dark theme", "toggle the theme (t)", self.action_toggle_theme)
        yield SystemCommand("Sign in", "choose the key that signs (s)", self.action_sign_in)


def activity_line(message: dict[str, Any]) -> str | None:
    """One feed message as a line of the activity log; None for what is not worth a line."""
    height, kind = message.get("height"), message.get("kind")
    if kind == "block":
        return f"#{height} block {str(message.get('hash'))[:12]} txs {message.get('num_txs')}"
    if kind == "tx":
        result = "ok" if message.get("code") == 0 else f"failed {message.get('code')}: {message.get('log')}"
        return f"#{height}   tx {str(message.get('hash'))[:12]} {result}"
    if kind == "event" and message.get("type") == "wasm":
        attrs = {a.get("key"): a.get("value") for a in message.get("attributes") or []}
        action = attrs.pop("action", None)
        if action in (None, "begin_block", "end_block"):
            return None
        attrs.pop("_contract_address", None)
        detail = " ".join(f"{k}={short(v)}" for k, v in list(attrs.items())[:4])
        return f"#{height}   {action} {detail}"
    if "error" in message:
        return f"events: {message['error'].get('message')}"
    return None
