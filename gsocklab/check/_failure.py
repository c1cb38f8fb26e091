"""`CheckFailed`: what a check expected, what the recording shows, and the rows concerned."""

from __future__ import annotations

from typing import Any, Final

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

__all__ = ["CheckFailed", "rows_text"]

#: The columns a failure shows of the rows concerned, and how many rows at most.
SHOWN_COLUMNS: Final = ("seq", "socket", "op", "peer", "nbytes", "payload", "error")
SHOWN_ROWS: Final = 8


def rows_text(rows: pd.DataFrame | None, limit: int = SHOWN_ROWS) -> str:
    """The rows as a small text table (the first ``limit``, then how many more)."""
    if rows is None or not len(rows):
        return ""
    columns = [name for name in SHOWN_COLUMNS if name in rows.columns]
    shown = rows[columns].head(limit).copy()
    if "payload" in shown.columns:
        shown["payload"] = shown["payload"].map(lambda p: "" if p is None else repr(bytes(p)[:24]))
    text = str(shown.to_string(index=False, na_rep=""))
    if len(rows) > limit:
        text += f"\n… and {len(rows) - limit} more rows"
    return text


class CheckFailed(AssertionError):
    """A check of a recording failed. ``str()`` says what was expected, what the recording
    shows and lists the rows concerned; the parts are attributes too (``check``,
    ``expected``, ``found``, ``rows``), for graders."""

    def __init__(self, check: str, expected: str, found: str, rows: pd.DataFrame | None = None,
                 hint: str | None = None) -> None:
        self.check, self.expected, self.found, self.hint = check, expected, found, hint
        self.rows: Any = rows
        parts = [f"{check}: expected {expected}", f"  found: {found}"]
        if hint:
            parts.append(f"  hint: {hint}")
        table = rows_text(rows)
        if table:
            parts.append("  rows:\n" + "\n".join("    " + line for line in table.splitlines()))
        super().__init__("\n".join(parts))
