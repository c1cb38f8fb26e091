"""HTML for the panels: every value that came from a socket or a user is escaped here.

A datagram can carry ``<script>``, an address or a label can hold ``<b>``: all of them are
shown as text through `esc`. Colours always come with a letter or a shape (the readiness
light writes ``IN``/``OUT``/``HUP``/``ERR`` in its dots), so nothing depends on colour alone.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

__all__ = ["counters", "esc", "light", "message", "payload_text", "table"]

_OK, _BAD, _OFF = "#009E73", "#D55E00", "#bbbbbb"


def esc(value: object) -> str:
    """``value`` as HTML text (quotes escaped too)."""
    return html.escape(str(value), quote=True)


def payload_text(data: bytes | bytearray | memoryview | None, limit: int = 48) -> str:
    """A printable preview of bytes (``b'…'`` form, cut at ``limit``), not yet escaped."""
    if data is None:
        return ""
    raw = bytes(data)
    text = repr(raw[:limit])
    return text + ("…" if len(raw) > limit else "")


def light(condition: int | None, names: Sequence[tuple[str, int]]) -> str:
    """Dots for ``IN``/``OUT``/``HUP``/``ERR``: filled and lettered when set; grey when the socket is closed."""
    parts = []
    for name, bit in names:
        on = condition is not None and bool(condition & bit)
        colour = _OFF if not on else (_BAD if name in ("HUP", "ERR") else _OK)
        mark = "●" if on else "○"
        parts.append(f'<span class="gs-light-{name.lower()}" data-on="{int(on)}" title="{name}: '
                     f'{"yes" if on else "no"}" style="color:{colour};margin-right:8px">{mark}&#8239;{name}</span>')
    return "".join(parts)


def message(kind: str, text: str, hint: str | None = None) -> str:
    """The last result (``kind`` ok) or error (``kind`` error), with its hint."""
    colour, mark = (_OK, "✔") if kind == "ok" else (_BAD, "✖") if kind == "error" else ("#555", "…")
    out = (f'<div class="gs-result gs-{esc(kind)}" style="color:{colour}">{mark} '
           f'<span class="gs-text">{esc(text)}</span></div>')
    if hint:
        out += f'<div class="gs-hint" style="color:#555;font-size:90%">hint: {esc(hint)}</div>'
    return out


def counters(totals: pd.DataFrame) -> str:
    """The totals of a recording (`Recorder.totals`), summed over its sockets, as one line."""
    sums = totals.sum(numeric_only=True) if len(totals) else pd.Series(dtype="int64")

    def get(name: str) -> int:
        value = sums.get(name, 0)
        return int(value) if not (isinstance(value, float) and math.isnan(value)) else 0

    errors = {name[6:]: get(name) for name in sums.index if str(name).startswith("error_") and get(name)}
    items = [("calls", get("calls")), ("out", f"{get('out_messages')} msg / {get('out_bytes')} B"),
             ("in", f"{get('in_messages')} msg / {get('in_bytes')} B"), ("errors", get("errors"))]
    text = " · ".join(f'<span class="gs-count-{name}"><b>{esc(name)}</b> {esc(value)}</span>' for name, value in items)
    if errors:
        text += " (" + ", ".join(f'<span class="gs-error-count" data-code="{esc(code)}">{esc(code)} {count}</span>'
                                 for code, count in sorted(errors.items())) + ")"
    return f'<div class="gs-counters">{text}</div>'


_PAD = "padding:1px 6px;border-bottom:1px solid #eee"
_COLUMNS = ("seq", "socket", "op", "peer", "nbytes", "payload", "waited", "error", "hint")


def _cell(name: str, value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if name == "payload":
        return esc(payload_text(value, 32))
    if name == "waited":
        return f"{float(value):.3f}" if value else ""
    return esc(value)


def table(rows: pd.DataFrame, columns: Iterable[str] = _COLUMNS) -> str:
    """The rows as an HTML table, newest first, every cell escaped."""
    names = [name for name in columns if name in rows.columns]
    head = "".join(f'<th style="{_PAD};text-align:left">{esc(name)}</th>' for name in names)
    body = []
    for record in reversed(list(rows[names].itertuples(index=False, name=None))):
        row = dict(zip(names, record))
        cls = ' class="gs-row-error"' if "error" in row and _cell("error", row["error"]) else ""
        body.append(f'<tr{cls} data-seq="{esc(row.get("seq", ""))}">'
                    + "".join(f'<td style="{_PAD}">{_cell(name, row[name])}</td>' for name in names) + "</tr>")
    return ('<table class="gs-rows" style="font-size:90%;border-collapse:collapse">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
