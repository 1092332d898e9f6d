"""What every data screen shares: a threaded fetch whose result is shown on the UI thread, errors as notifications."""
from __future__ import annotations

from typing import Any, Callable

from textual import work
from textual.app import App
from textual.screen import Screen
from textual.widgets import Header

from chain.api.client import ApiClientError

from ..errors import ActionError
from ..session import Session
from .nav import NavBar


MAX_ROWS = 200      # a list's rows read per reload (every block): beyond that, a screen helps no one


class AppScreen(Screen):
    """A full screen of the app: the screens bar goes under its header."""

    def on_mount(self) -> None:
        headers = self.query(Header)
        if headers:
            self.mount(NavBar(), after=headers.first())


class DataScreen(AppScreen):
    """A screen that reloads its data from the node when it is shown and on every new block."""

    def fetch(self, session: Session) -> Any:
        """Runs in a worker thread: ask the node (through ``session``) for what this screen shows.

        It must not touch ``self.app``: the screen may be gone (popped, app closing) by the time it runs."""
        raise NotImplementedError

    def show(self, data: Any) -> None:
        """Runs on the UI thread with what ``fetch`` returned."""
        raise NotImplementedError

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        if self.is_attached:
            self._load(self.app)

    @work(thread=True, exclusive=True, group="load")
    def _load(self, app: App) -> None:
        try:
            data = self.fetch(app.session)
        except Exception as exc:            # noqa: BLE001 — said (App.report), never fatal
            to_ui(app, app.report, exc)
            return
        to_ui(app, self._show_if_mounted, data)

    def _show_if_mounted(self, data: Any) -> None:
        if self.is_mounted:
            try:
                self.show(data)
            except Exception as exc:        # noqa: BLE001 — same: the screen keeps what it showed before
                self.app.unexpected_answer(exc)

    def can_sign(self, what: str) -> bool:
        """True when signed in; otherwise say how to sign in (s, or --key) and False: nothing is asked or sent."""
        if not self.app.session.read_only:
            return True
        self.app.notify(f"{what}: read-only mode — press s to sign in with a key (or start with --key NAME)",
                        title="read-only", severity="warning")
        return False

    def run_action(self, action: Callable[[], Any], done: str) -> None:
        """Run a signed action in a thread; notify how it went and reload."""
        self._act(self.app, action, done)

    @work(thread=True, group="action")
    def _act(self, app: App, action: Callable[[], Any], done: str) -> None:
        try:
            answer = action()
        except (ApiClientError, ActionError) as exc:
            to_ui(app, app.notify, str(exc), title="refused", severity="error", timeout=8)
            return
        except Exception as exc:            # noqa: BLE001 — the node answered nonsense mid-action
            to_ui(app, app.unexpected_answer, exc)
            return
        height = answer.get("height") if isinstance(answer, dict) else None
        to_ui(app, app.notify, f"{done} (height {height})", title="done")
        to_ui(app, self.reload)


def to_ui(app: App, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run ``callback`` on the UI thread; nothing if the app has closed meanwhile."""
    try:
        app.call_from_thread(callback, *args, **kwargs)
    except RuntimeError:        # the app's loop is gone: there is no screen left to update
        pass
