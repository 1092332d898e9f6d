"""Reading a whole (capped) list from the API's pages: the UI shows lists, the API and contracts hand out pages."""
from __future__ import annotations

from typing import Any, Callable

PAGE = 30                  # the contracts' largest page (the API's limit for contract lists)
MAX_ROWS = 200             # rows read per reload: a screen reloads every block, and a longer list helps no one


def read_pages(page: Callable[[str | None], dict[str, Any]], key: str, cursor: str,
               cap: int = MAX_ROWS) -> list[dict[str, Any]]:
    """Up to ``cap`` items of a paged list: follows the API's ``next``, or the last item's ``cursor`` field
    while pages come back full (a contract's own list has no ``next``)."""
    items: list[dict[str, Any]] = []
    after: str | None = None
    while len(items) < cap:
        answer = page(after)
        got = [i for i in answer.get(key) or [] if isinstance(i, dict)]
        items += got
        after = answer.get("next") if "next" in answer else (got[-1].get(cursor) if len(got) == PAGE else None)
        if not got or not isinstance(after, str):
            break
    return items[:cap]
