"""Words that agree with their numbers: "1 invoice", "3 invoices"."""

from __future__ import annotations


def count_of(count: int, one: str, many: str | None = None) -> str:
    """``count`` and the word for it: ``count_of(1, "link")`` is "1 link", 2 gives "2 links"."""
    return f"{count:,} {one if count == 1 else (many or one + 's')}"
