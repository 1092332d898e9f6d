"""The one error the UI's actions raise: its message says why and what to do."""
from __future__ import annotations


class ActionError(Exception):
    """A signed action the chain refused (or could not be sent), or input refused before signing."""
