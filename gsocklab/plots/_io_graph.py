"""`io_graph`: messages and bytes per interval, out and in, per socket (Wireshark's I/O graph for API calls).

Layout: two panels sharing one time axis (seconds of the recording, ``elapsed``): messages
per interval on top, bytes per interval below. Each socket and direction is one line
through the middle of the intervals: a colour and a marker shape per socket, solid for
``out`` (sent) and dashed for ``in`` (received), so the lines stay apart in greyscale.
Every interval with traffic has a marker with a tooltip; intervals without traffic are
zero on the line.

A message is counted where `gsocklab.record` ``summary()`` counts it (a row with direction
``out``/``in`` that moved data: ``nbytes`` set, not the zero-byte end of a stream; each
message of a batch counts), so the picture's totals are ``rec.summary()``'s
``out_messages``, ``out_bytes``, ``in_messages`` and ``in_bytes``. It is placed at the end
of its call (``elapsed + duration``): the moment the data had been handed over.

Limits: at most 500 intervals (a smaller ``interval`` is refused) and 8 sockets drawn (the
footer says how many were left out; the picture's ``data`` has them all).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ..record._analysis import _moved
from ..record._schema import DIRECTIONS, STRING
from ._picture import Picture
from ._source import Recording, load
from ._svg import COLOURS, INK, Svg, legend, mark, nice_ticks, num, seconds_text

__all__ = ["IO_GRAPH_SCHEMA", "io_graph"]

#: Columns of ``io_graph(...).data``, in order: one row per socket, direction and interval with traffic.
IO_GRAPH_SCHEMA: Final = {
    "socket": STRING,         # the socket's label
    "direction": DIRECTIONS,  # "out" (sent) or "in" (received)
    "start": "float64",       # the interval's start, seconds from the recording's start (as ``elapsed``)
    "messages": "int64",      # messages moved in the interval (a batch counts each message)
    "bytes": "int64",         # their bytes
}

MAX_BINS: Final = 500  # intervals over the picture's span, at most (under 2 px each at 880 px)
MAX_SOCKETS: Final = 8  # sockets drawn, one colour each (all of them are in ``data``)
SHAPES: Final = ("circle", "square", "diamond", "triangle", "triangle-down", "cross")
DASH: Final = {"out": None, "in": "5 3"}

_WIDTH = 880.0
_LEFT, _RIGHT = 64.0, 16.0
_PANEL = 150.0  # height of each panel
_TOPS = (56.0, 56.0 + _PANEL + 48.0)  # top of the messages panel, of the bytes panel


def _interval(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"interval must be a number of seconds or None, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"interval must be a positive number of seconds, not {value!r}")
    return float(value)


def auto_interval(span: float) -> float:
    """The round interval (1, 2 or 5 x 10^k seconds) that cuts ``span`` seconds into closest to 50 intervals."""
    span = max(span, 1e-6)
    target = math.log10(span / 50)
    best = min((m * 10.0 ** k for k in range(math.floor(target) - 1, math.floor(target) + 2) for m in (1, 2, 5)),
               key=lambda step: abs(math.log10(step) - target))
    return float(f"{best:.12g}")


def _empty() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in IO_GRAPH_SCHEMA.items()})


def _counts(rec: Recording, interval: float | None) -> tuple[pd.DataFrame, float, int, int]:
    """``(data, interval, first bin, last bin)``; bin ``i`` is ``[i * interval, (i + 1) * interval)``."""
    df = rec.df
    direction = df["direction"]
    moved = _moved(df) & direction.isin(["out", "in"]).fillna(False).astype(bool)
    rows = df[moved.to_numpy()]
    if not len(rows):
        return _empty(), interval or 1.0, 0, -1
    at = (rows["elapsed"] + rows["duration"]).to_numpy(dtype="float64")
    start = min(rec.start, float(at.min()))
    end = max(rec.end, float(at.max()))
    step = interval if interval is not None else auto_interval(end - start)
    first, last = math.floor(start / step), math.floor(end / step)
    if last - first + 1 > MAX_BINS:
        raise ValueError(f"interval={step!r} cuts the {seconds_text(end - start)} drawn into {last - first + 1:,} "
                         f"intervals; at most {MAX_BINS:,}: choose a larger interval or a narrower window")
    parts = pd.DataFrame({
        "socket": rows["socket"].to_numpy(dtype=object),
        "direction": rows["direction"].astype(str).to_numpy(),
        "bin": np.floor(at / step).astype("int64"),
        "messages": np.ones(len(rows), dtype="int64"),
        "bytes": rows["nbytes"].to_numpy(dtype="int64"),
    })
    totals = parts.groupby(["socket", "direction", "bin"], sort=False, dropna=False).sum().reset_index()
    order = {label: i for i, label in enumerate(rec.sockets)}
    totals["rank"] = totals["socket"].map(order).fillna(len(order))
    totals["way"] = (totals["direction"] == "in").astype("int64")
    totals = totals.sort_values(["rank", "socket", "way", "bin"], kind="stable")
    data = pd.DataFrame({
        "socket": totals["socket"],
        "direction": totals["direction"],
        "start": np.round(totals["bin"].to_numpy(dtype="float64") * step, 12),
        "messages": totals["messages"],
        "bytes": totals["bytes"],
    }).astype(IO_GRAPH_SCHEMA).reset_index(drop=True)
    return data, step, first, last


def empty_text(rec: Recording) -> str:
    """What an empty picture says when there are no rows at all: ``""`` when there are some."""
    if not len(rec.everything):
        return "nothing recorded (yet)"
    return "" if len(rec.df) else "nothing recorded on the sockets and in the window asked for"


def _si(value: float, unit: str = "") -> str:
    """``950``, ``1.2k``, ``3.4M`` (with ``unit`` after it)."""
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{prefix}{unit}"
    return f"{value:.3g}{' ' + unit if unit else ''}"


def _y_ticks(high: float) -> list[float]:
    """Round ticks from 0 to at least ``high`` (whole numbers: these are counts)."""
    if high <= 0:
        return [0.0, 1.0]
    ticks = [t for t in nice_ticks(0.0, high, max(1, min(4, int(high)))) if float(t).is_integer()]
    if len(ticks) < 2:
        ticks = [0.0, float(math.ceil(high))]
    step = ticks[1] - ticks[0]
    while ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


class _Axes:
    """x by elapsed seconds over the bins; y of each panel by its own maximum."""

    def __init__(self, first: int, last: int, step: float, highs: tuple[float, float]) -> None:
        self.low, self.high = first * step, (last + 1) * step
        self.step = step
        self.per_second = (_WIDTH - _LEFT - _RIGHT) / (self.high - self.low)
        self.yticks = [_y_ticks(high) for high in highs]

    def x(self, seconds: float) -> float:
        return _LEFT + (seconds - self.low) * self.per_second

    def y(self, panel: int, value: float) -> float:
        return _TOPS[panel] + _PANEL - value / self.yticks[panel][-1] * _PANEL


def _frame(svg: Svg, axes: _Axes) -> None:
    """Both panels' grid lines, y ticks, x ticks (seconds) and titles."""
    right = _WIDTH - _RIGHT
    xticks = [t for t in nice_ticks(axes.low, axes.high, 8) if axes.low <= t <= axes.high]
    gap = xticks[1] - xticks[0] if len(xticks) > 1 else axes.high - axes.low
    decimals = next((d for d in range(13) if all(abs(round(t, d) - t) < gap * 1e-6 for t in xticks)), 12)
    for panel, (top, name, unit) in enumerate(zip(_TOPS, ("messages", "bytes"), ("", "B"))):
        svg.open(class_="panel", data_panel=name)
        svg.text(_LEFT, top - 8, f"{name} per {seconds_text(axes.step)}", class_="title")
        for tick in axes.yticks[panel]:
            y = axes.y(panel, tick)
            svg.line(_LEFT, y, right, y, stroke="#e6e6e6")
            svg.text(_LEFT - 6, y + 4, _si(tick, unit), text_anchor="end", class_="small muted")
        bottom = top + _PANEL
        svg.line(_LEFT, bottom, right, bottom, stroke=INK)
        svg.line(_LEFT, top, _LEFT, bottom, stroke=INK)
        for tick in xticks:
            x = axes.x(tick)
            svg.line(x, bottom, x, bottom + 4, stroke=INK)
            svg.text(x, bottom + 16, f"{tick:.{decimals}f}", text_anchor="middle", class_="small")
        svg.close()
    svg.text(right, _TOPS[1] + _PANEL + 32, "seconds from the recording's start", text_anchor="end",
             class_="small muted")


def _points(values: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> str:
    """Polyline points, without the inner points of runs of equal values (flat stretches)."""
    keep = np.ones(len(values), dtype=bool)
    if len(values) > 2:
        same = values[1:-1] == values[:-2]
        keep[1:-1] = ~(same & (values[1:-1] == values[2:]))
    return " ".join(f"{num(x)},{num(y)}" for x, y in zip(xs[keep], ys[keep]))


def _series(svg: Svg, axes: _Axes, first: int, last: int, label: str, way: str, rows: pd.DataFrame,
            colour: str, shape: str) -> None:
    step = axes.step
    bins = np.round(rows["start"].to_numpy(dtype="float64") / step).astype("int64") - first
    messages = np.zeros(last - first + 1, dtype="int64")
    nbytes = np.zeros(last - first + 1, dtype="int64")
    messages[bins], nbytes[bins] = rows["messages"].to_numpy(), rows["bytes"].to_numpy()
    xs = _LEFT + ((first + np.arange(len(messages)) + 0.5) * step - axes.low) * axes.per_second
    what = "sent" if way == "out" else "received"
    svg.open(class_="series", data_socket=label, data_direction=way)
    svg.tooltip(f"{label} {what}: {int(messages.sum()):,} messages, {int(nbytes.sum()):,} bytes")
    for panel, values in enumerate((messages, nbytes)):
        ys = _TOPS[panel] + _PANEL - values / axes.yticks[panel][-1] * _PANEL
        svg.element("polyline", points=_points(values, xs, ys), fill="none", stroke=colour, stroke_width=1.6,
                    stroke_dasharray=DASH[way], stroke_linejoin="round")
        for i in np.flatnonzero(messages):
            begin = (first + i) * step
            text = (f"{label} {way} · {begin:.6g} to {begin + step:.6g} s · {int(messages[i]):,} messages · "
                    f"{int(nbytes[i]):,} bytes")
            mark(svg, shape, float(xs[i]), float(ys[i]), 6.5, colour, text, class_="point",
                 data_start=f"{begin:.12g}", data_messages=int(messages[i]), data_bytes=int(nbytes[i]))
    svg.close()


def _wrap(items: Iterable[tuple[str, str, str]]) -> list[list[tuple[str, str, str]]]:
    """Legend items cut into lines that fit the width (as `legend` spaces them)."""
    lines: list[list[tuple[str, str, str]]] = [[]]
    width = 0.0
    for item in items:
        size = 7 * len(item[2]) + 34
        if lines[-1] and width + size > _WIDTH - 24:
            lines.append([])
            width = 0.0
        lines[-1].append(item)
        width += size
    return lines


def io_graph(rec: object, *, interval: float | None = None, sockets: Sequence[str] | None = None,
             window: object = None) -> Picture:
    """Messages and bytes per ``interval`` seconds, sent and received, per socket.

    ``rec`` is a `gsocklab.record.Recorder` or a recording DataFrame; ``sockets`` (labels) and
    ``window`` (``(start, end)`` seconds from the recording's start) narrow it. ``interval``
    is the width of an interval in seconds (a positive number; else ``TypeError`` or
    ``ValueError``); ``None`` picks a round one (1, 2 or 5 x 10^k s) that gives about 50
    intervals (32 to 80). Intervals start at whole multiples of ``interval`` on the
    recording's clock; a message counts in the interval where its call ended. An
    ``interval`` giving more than 500 intervals raises ``ValueError``. Past 8 sockets only
    the first 8 are drawn and the footer says so (``data`` has them all).

    The picture's ``data`` has the columns `IO_GRAPH_SCHEMA` — ``socket``, ``direction``,
    ``start`` (seconds), ``messages``, ``bytes`` — with one row per socket, direction and
    interval *that had traffic* (intervals without any are left out), ordered by socket,
    direction (out, in) and start. Its sums by socket and direction equal ``rec.summary()``'s
    ``out_messages``, ``out_bytes``, ``in_messages`` and ``in_bytes`` for the same rows.

    SVG contract: root ``svg.gsocklab-io-graph``; ``g.panel[data-panel=messages|bytes]``; per
    socket and direction with traffic ``g.series[data-socket][data-direction=out|in]``
    holding a polyline in each panel and, per interval with traffic and panel, a marker
    ``.point[data-start][data-messages][data-bytes]`` with a ``<title>``.
    """
    step = _interval(interval)
    recording = load(rec, sockets, window)
    data, step_used, first, last = _counts(recording, step)
    if not len(data):
        title = "I/O graph: no messages"
        svg = Svg("io-graph", _WIDTH, 120, title)
        said = empty_text(recording) or "no messages were sent or received"
        svg.text(_WIDTH / 2, 60, said, text_anchor="middle", class_="muted")
        return Picture("io-graph", svg.markup(), data, title)

    labels = list(dict.fromkeys(data["socket"].tolist()))
    drawn = labels[:MAX_SOCKETS]
    style = {label: (COLOURS[i % len(COLOURS)], SHAPES[i % len(SHAPES)]) for i, label in enumerate(labels)}
    title = (f"I/O graph: {int(data['messages'].sum()):,} messages, {_si(float(data['bytes'].sum()), 'B')} "
             f"on {len(labels)} socket{'s' * (len(labels) != 1)}, per {seconds_text(step_used)}")
    shown = data[data["socket"].isin(drawn)]
    axes = _Axes(first, last, step_used, (float(shown["messages"].max()), float(shown["bytes"].max())))
    items = [("line", INK, "out (sent)"), ("line:5 3", INK, "in (received)")]
    lines = _wrap([*items, *((style[label][1], style[label][0], label) for label in drawn)])
    legend_y = _TOPS[1] + _PANEL + 52
    height = legend_y + 18 * len(lines) + 22
    svg = Svg("io-graph", _WIDTH, height, title)
    svg.text(12, 18, title, class_="title")
    _frame(svg, axes)
    for (label, way), rows in shown.groupby(["socket", "direction"], sort=False, observed=True):
        colour, shape = style[str(label)]
        _series(svg, axes, first, last, str(label), str(way), rows, colour, shape)
    for i, line in enumerate(lines):
        legend(svg, 12, legend_y + 18 * i, line)
    if len(labels) > len(drawn):
        svg.text(12, height - 8, f"first {len(drawn)} of {len(labels)} sockets drawn: narrow with sockets=",
                 class_="small muted")
    return Picture("io-graph", svg.markup(), data, title)
