"""Modal dialogs: a yes/no confirmation, a one-line prompt (passphrase, amount, proposal fields)."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


class Confirm(ModalScreen[bool]):
    """Ask before anything is signed: Enter/y confirms, Escape/n cancels."""

    BINDINGS = [("y", "answer(True)", "Confirm"), ("n,escape", "answer(False)", "Cancel")]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.question), id="question")   # typed titles show literally
            with Horizontal(id="buttons"):
                yield Button("Confirm (y)", variant="primary", id="confirm")
                yield Button("Cancel (n)", id="cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class Prompt(ModalScreen[str | None]):
    """One line of input; Enter submits, Escape cancels (None)."""

    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(self, question: str, *, password: bool = False, placeholder: str = ""):
        super().__init__()
        self.question, self.password, self.placeholder = question, password, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text(self.question), id="question")   # typed titles show literally
            yield Input(password=self.password, placeholder=self.placeholder, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
