"""`CheckFailed`: what a check expected, what the recording shows, and the rows concerned."""

from __future__ import annotations

from typing import Any, Final

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

__all__ = ["CheckFailed", "rows_text"]

#: The columns a failure shows of the rows concerned (before the check's own), and how many rows at most.
SHOWN_COLUMNS: Final = ("seq", "socket", "op", "peer", "nbytes", "payload", "error")
SHOWN_ROWS: Final = 8


def _payload_text(value: object) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return repr(bytes(value)[:24])
    return ""  # not captured: None, <NA> or NaN


def rows_text(rows: pd.DataFrame | None, limit: int = SHOWN_ROWS, columns: tuple[str, ...] = ()) -> str:
    """The rows as a small text table (the first ``limit``, then how many more), with the
    usual columns and then ``columns``."""
    if rows is None or not len(rows):
        return ""
    names = [name for name in dict.fromkeys((*SHOWN_COLUMNS, *columns)) if name in rows.columns]
    shown = rows[names].head(limit).copy()
    if "payload" in shown.columns:
        shown["payload"] = shown["payload"].map(_payload_text)
    text = str(shown.to_string(index=False, na_rep=""))
    if len(rows) > limit:
        text += f"\n… and {len(rows) - limit} more rows"
    return text


class CheckFailed(AssertionError):
    """A check of a recording failed. ``str()`` says what was expected, what the recording
    shows and lists the rows concerned; the parts are attributes too (``check``,
    ``expected``, ``found``, ``rows``, ``hint``), for graders. ``columns`` names the
    columns the table shows besides the usual ones (``timeout`` for a check of timeouts)."""

    def __init__(self, check: str, expected: str, found: str, rows: pd.DataFrame | None = None,
                 hint: str | None = None, columns: tuple[str, ...] = ()) -> None:
        self.check, self.expected, self.found, self.hint = check, expected, found, hint
        self.rows: Any = rows
        self.columns = tuple(columns)
        parts = [f"{check}: expected {expected}", f"  found: {found}"]
        if hint:
            parts.append(f"  hint: {hint}")
        table = rows_text(rows, columns=self.columns)
        if table:
            parts.append("  rows:\n" + "\n".join("    " + line for line in table.splitlines()))
        super().__init__("\n".join(parts))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.check, self.expected, self.found, self.rows, self.hint, self.columns))
