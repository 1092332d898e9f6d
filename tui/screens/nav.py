"""The one-line bar of screens under the header: which screen is shown, the key (or click) that opens each.

The footer then only carries the shown screen's own actions, so both fit in 80 columns."""
from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

#: mode name -> (key, label), in the order the bar shows them.
SCREENS = {"dashboard": ("d", "Dashboard"), "proposals": ("p", "Proposals"), "circle": ("c", "Circle"),
           "validators": ("v", "Validators"), "activity": ("a", "Activity")}


class NavBar(Static):
    """Screens as " d Dashboard  p Proposals …"; the current one highlighted, each clickable."""

    DEFAULT_CSS = """
    NavBar { height: 1; background: $panel; color: $text-muted; }
    """

    def on_mount(self) -> None:
        self.refresh_bar()

    def refresh_bar(self) -> None:
        current = self.app.current_mode
        parts = []
        for mode, (key, label) in SCREENS.items():
            style = "bold reverse" if mode == current else ""
            parts.append(Content.assemble((f" {key} ", f"bold $accent {style}".strip()),
                                          (f"{label} ", style or "")).stylize(f"@click=app.switch_mode('{mode}')"))
        self.update(Content(" ").join(parts))
