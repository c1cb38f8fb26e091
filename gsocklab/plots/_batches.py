"""`batches`: per ``send_messages``/``receive_messages`` call, messages asked for against messages moved.

Layout: one bar per batched call, left to right in call order, labelled by batch number.
The outline is what the call was asked to move (when the recording says), the filled bar
what it moved; blue with a circle below the axis for ``send_messages``, bluish green with a
square for ``receive_messages``. A *partial* call — it moved fewer messages than asked, or
failed — has its bar in vermillion and a vermillion triangle above it. The lower panel has
the call's messages per second as a dot, on a logarithmic scale.

Past 2,000 calls only the first 2,000 are drawn, and the footer says so; the picture's
``data`` has them all. Narrow it with ``sockets=`` or ``window=`` to see the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ._io_graph import empty_text
from ._picture import Picture
from ._source import Recording, load
from ._svg import COLOURS, INK, LOST, Svg, legend, mark, nice_ticks, seconds_text

__all__ = ["MAX_BATCHES", "batches"]

MAX_BATCHES: Final = 2000
#: op -> (colour, marker shape below the axis)
OP_STYLE: Final = {"send_messages": (COLOURS[0], "circle"), "receive_messages": (COLOURS[2], "square")}
OTHER_OP: Final = (COLOURS[3], "diamond")

_WIDTH = 880.0
_LEFT, _RIGHT = 64.0, 16.0
_BAR_TOP, _BAR_HEIGHT = 60.0, 190.0  # the asked/moved panel
_RATE_TOP, _RATE_HEIGHT = 310.0, 90.0  # the messages-per-second panel


def _table(rec: Recording) -> pd.DataFrame:
    """`Recording.batches` with ``partial``: fewer moved than asked, or an error."""
    table = rec.batches
    partial = (table["moved"] < table["asked"]).fillna(False).astype(bool) | table["error"].notna()
    return table.assign(partial=partial.astype("boolean"))


def _rate_text(value: Any) -> str:
    if pd.isna(value):
        return "?"
    value = float(value)
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor:
            return f"{value / factor:.3g}{prefix}"
    return f"{value:.3g}"


def _tooltip(row: Any) -> str:
    asked = "?" if pd.isna(row.asked) else f"{int(row.asked):,}"
    parts = [f"batch {int(row.batch)} (#{int(row.seq)}) · {row.socket} · {row.op}",
             f"asked {asked} · moved {int(row.moved):,} · {int(row.nbytes):,} bytes",
             f"took {seconds_text(float(row.duration))}"
             + (f" (waited {seconds_text(float(row.waited))})" if row.waited > 0 else ""),
             f"{_rate_text(row.messages_per_second)} messages/s"]
    if pd.notna(row.error):
        parts.append(f"{row.error}: {row.message if isinstance(row.message, str) else ''}".rstrip(": "))
    if bool(row.partial):
        parts.append("PARTIAL")
    return " · ".join(parts)


def _y_ticks(high: float) -> list[float]:
    ticks = [t for t in nice_ticks(0.0, high, max(1, min(5, int(high)))) if float(t).is_integer()]
    if len(ticks) < 2:
        ticks = [0.0, float(max(math.ceil(high), 1))]
    while ticks[-1] < high:
        ticks.append(ticks[-1] + ticks[1] - ticks[0])
    return ticks


def _rate_scale(rates: np.ndarray) -> tuple[float, float]:
    """Decades ``(low, high)`` of log10(messages per second) covering the positive ``rates``."""
    positive = rates[np.isfinite(rates) & (rates > 0)]
    if not len(positive):
        return 0.0, 1.0
    low, high = math.floor(math.log10(positive.min())), math.ceil(math.log10(positive.max()))
    return float(low), float(max(high, low + 1))


def _axes(svg: Svg, ymax: float, ticks: list[float], decades: tuple[float, float], labels: list[tuple[float, int]],
          bar_bottom: float) -> None:
    right = _WIDTH - _RIGHT
    svg.open(class_="axes")
    svg.text(_LEFT, _BAR_TOP - 10, "messages per call: asked (outline) and moved (filled)", class_="title")
    for tick in ticks:
        y = bar_bottom - tick / ymax * _BAR_HEIGHT
        svg.line(_LEFT, y, right, y, stroke="#e6e6e6")
        svg.text(_LEFT - 6, y + 4, f"{tick:,.0f}", text_anchor="end", class_="small muted")
    svg.line(_LEFT, bar_bottom, right, bar_bottom, stroke=INK)
    svg.line(_LEFT, _BAR_TOP, _LEFT, bar_bottom, stroke=INK)
    for x, number in labels:
        svg.text(x, bar_bottom + 26, number, text_anchor="middle", class_="small")
    svg.text(right, bar_bottom + 40, "batched calls in order (batch number)", text_anchor="end", class_="small muted")
    svg.text(_LEFT, _RATE_TOP - 10, "messages per second (log scale)", class_="title")
    low, high = decades
    rate_bottom = _RATE_TOP + _RATE_HEIGHT
    for decade in range(int(low), int(high) + 1):
        y = rate_bottom - (decade - low) / (high - low) * _RATE_HEIGHT
        svg.line(_LEFT, y, right, y, stroke="#e6e6e6")
        svg.text(_LEFT - 6, y + 4, _rate_text(10.0 ** decade), text_anchor="end", class_="small muted")
    svg.line(_LEFT, rate_bottom, right, rate_bottom, stroke=INK)
    svg.line(_LEFT, _RATE_TOP, _LEFT, rate_bottom, stroke=INK)
    svg.close()


def _labels(drawn: pd.DataFrame) -> list[tuple[float, int]]:
    """The x-axis labels ``(x, batch number)``: every call, or about 12 evenly spaced."""
    slot = (_WIDTH - _LEFT - _RIGHT) / max(len(drawn), 1)
    every = max(1, math.ceil(len(drawn) / 12))
    numbers = drawn["batch"].tolist()
    return [(_LEFT + (i + 0.5) * slot, int(numbers[i])) for i in range(0, len(numbers), every)]


def _bars(svg: Svg, drawn: pd.DataFrame, ymax: float, decades: tuple[float, float]) -> None:
    """One group per call."""
    slot = (_WIDTH - _LEFT - _RIGHT) / max(len(drawn), 1)
    width = min(slot * 0.72, 28.0)
    size = max(min(slot * 0.9, 9.0), 2.0)
    bottom = _BAR_TOP + _BAR_HEIGHT
    low, high = decades
    for i, row in enumerate(drawn.itertuples(index=False)):
        x = _LEFT + (i + 0.5) * slot
        op = str(row.op)
        colour, shape = OP_STYLE.get(op, OTHER_OP)
        partial = bool(row.partial)
        asked = None if pd.isna(row.asked) else int(row.asked)
        moved = int(row.moved)
        svg.open(class_="batch partial" if partial else "batch", data_batch=int(row.batch), data_seq=int(row.seq),
                 data_socket=str(row.socket), data_op=op, data_asked=asked, data_moved=moved,
                 data_error=None if pd.isna(row.error) else str(row.error))
        svg.tooltip(_tooltip(row))
        top = bottom - max(moved, asked or 0) / ymax * _BAR_HEIGHT
        svg.rect(x - width / 2, bottom - moved / ymax * _BAR_HEIGHT, width, moved / ymax * _BAR_HEIGHT,
                 class_="moved", fill=LOST if partial else colour, fill_opacity=0.85)
        if asked is not None:
            svg.rect(x - width / 2, bottom - asked / ymax * _BAR_HEIGHT, width, asked / ymax * _BAR_HEIGHT,
                     class_="asked", fill="none", stroke=colour, stroke_width=1.4 if width > 3 else 0.6)
        if partial:
            mark(svg, "triangle-down", x, top - size / 2 - 2, size, LOST, class_="partial-mark")
        mark(svg, shape, x, bottom + 8, min(size, 7.0), colour, class_="op-mark")
        rate = row.messages_per_second
        if pd.notna(rate) and float(rate) > 0:
            y = _RATE_TOP + _RATE_HEIGHT - (math.log10(float(rate)) - low) / (high - low) * _RATE_HEIGHT
            mark(svg, shape, x, y, min(size, 7.0), colour, class_="rate")
        svg.close()


def batches(rec: object, *, sockets: Sequence[str] | None = None, window: object = None) -> Picture:
    """Each ``send_messages``/``receive_messages`` call: messages asked, messages moved, messages per second.

    ``rec`` is a `gsocklab.record.Recorder` or a recording DataFrame; ``sockets`` (labels) and
    ``window`` (``(start, end)`` seconds from the recording's start) narrow it. ``asked`` is
    known for a Recorder (it notes what each call was given) and missing for a bare frame.

    The picture's ``data`` is ``rec.batches()`` for the rows drawn — the `BATCHES_SCHEMA`
    columns, one row per call by batch number — plus ``partial`` (``boolean``): the call
    moved fewer messages than ``asked``, or it failed (``error`` set). It holds every call,
    also past the 2,000 drawn.

    SVG contract: root ``svg.gsocklab-batches``; per drawn call
    ``g.batch[data-batch][data-seq][data-socket][data-op][data-moved]``, with ``data-asked``
    when known, ``data-error`` when it failed and the class ``partial`` when it is partial;
    inside it ``rect.moved``, ``rect.asked`` (when asked is known), ``.partial-mark``,
    ``.op-mark`` and ``.rate`` (when messages per second is known and positive). Each group
    has a ``<title>``.
    """
    recording = load(rec, sockets, window)
    data = _table(recording)
    total = len(data)
    if not total:
        title = "Batched calls: none"
        svg = Svg("batches", _WIDTH, 120, title)
        said = empty_text(recording) or "no batched calls (send_messages / receive_messages) recorded"
        svg.text(_WIDTH / 2, 60, said, text_anchor="middle", class_="muted")
        return Picture("batches", svg.markup(), data, title)
    drawn = data.head(MAX_BATCHES)
    partial = int(data["partial"].sum())
    asked = "?" if data["asked"].isna().all() else f"{int(data['asked'].sum()):,}"
    title = (f"Batched calls: {total:,} ({partial:,} partial), {int(data['moved'].sum()):,} messages moved of "
             f"{asked} asked")
    highest = max(float(drawn["moved"].max()), float(drawn["asked"].max()) if drawn["asked"].notna().any() else 0.0)
    ticks = _y_ticks(highest)
    ymax = ticks[-1]
    decades = _rate_scale(drawn["messages_per_second"].to_numpy(dtype="float64", na_value=np.nan))
    height = _RATE_TOP + _RATE_HEIGHT + 62
    svg = Svg("batches", _WIDTH, height, title)
    svg.text(12, 18, title, class_="title")
    _axes(svg, ymax, ticks, decades, _labels(drawn), _BAR_TOP + _BAR_HEIGHT)
    svg.open(class_="bars")
    _bars(svg, drawn, ymax, decades)
    svg.close()
    foot = _RATE_TOP + _RATE_HEIGHT + 24
    legend(svg, 12, foot, [(OP_STYLE["send_messages"][1], OP_STYLE["send_messages"][0], "send_messages"),
                           (OP_STYLE["receive_messages"][1], OP_STYLE["receive_messages"][0], "receive_messages"),
                           ("triangle-down", LOST, "partial: moved < asked, or failed"),
                           ("square", "#bbbbbb", "filled: moved; outline: asked")])
    if total > len(drawn):
        svg.text(12, foot + 22, f"first {len(drawn):,} of {total:,} batched calls drawn: narrow with sockets= or "
                 "window= to see the rest", class_="small muted")
    return Picture("batches", svg.markup(), data, title)
