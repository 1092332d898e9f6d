"""tests/tui's helpers import as top-level modules: the folder's name is taken by the real `tui` package."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
