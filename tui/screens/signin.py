"""Sign-in: choose a key from the keyring, or go on read-only."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

READ_ONLY = "\x00read-only"


class SignInScreen(ModalScreen[str | None]):
    """Dismisses with the chosen key's name, or None for read-only."""

    BINDINGS = [("escape", "read_only", "Read-only")]

    def __init__(self, keys: list):
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Sign in with a key (Enter), or Escape for read-only", id="question")
            options = [Option(f"{k.name}  {k.address[:20]}…" + ("  (encrypted)" if k.encrypted else ""), id=k.name)
                       for k in self.keys]
            yield OptionList(*options, Option("read-only (no key)", id=READ_ONLY))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(None if event.option.id == READ_ONLY else event.option.id)

    def action_read_only(self) -> None:
        self.dismiss(None)
