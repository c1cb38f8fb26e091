"""`timeline`: what each call spent its time on, per socket over time — the "I/O models" figure.

One lane per socket; one bar per call from its start to its end, split into the time it
waited (pale, dashed outline: ``rect.wait``) and the rest (solid: ``rect.work``). The bar's
colour and outline say the mode the call ran in — blocking (blue, solid), blocking with a
timeout (green, dashed), non-blocking (orange, dotted) — and a mark at its end says how it
ended when it failed (``TIMED_OUT`` a diamond, ``WOULD_BLOCK`` a square, ``CANCELLED`` a
cross, others a triangle), with the code written beside it. This is Stevens' figure of the
I/O models (*UNIX Network Programming*, §6.2) drawn from real calls: a blocking receive is
one long wait, a non-blocking loop a row of short ``WOULD_BLOCK`` bars, a receive with a
timeout a wait that ends in a diamond.

``scale="order"`` gives every call the same width, which shows short calls that a time
scale squeezes to a line. Calls that only read state are left out unless they failed, and
past ``max_calls`` (default 5,000) only the first ones are drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ..record._schema import ERRORS, OPS, STRING
from ._picture import Picture
from ._source import QUIET_OPS, Recording, check_scale, load
from ._svg import COLOURS, MODE_COLOURS, MUTED, Svg, error_mark, legend, mark, nice_ticks, seconds_text

__all__ = ["MODES", "TIMELINE_SCHEMA", "timeline"]

MAX_CALLS = 5000
MODES = pd.CategoricalDtype(["blocking", "timeout", "non-blocking", "other"])
#: Columns of ``timeline(...).data``: one row per call drawn.
TIMELINE_SCHEMA: dict[str, object] = {
    "seq": "int64",          # the call's (first) row
    "socket": STRING,
    "op": OPS,
    "mode": MODES,           # blocking / timeout (blocking with a socket timeout) / non-blocking / other
    "start": "float64",      # seconds from the recording's start (``elapsed``)
    "duration": "float64",   # seconds for the whole call
    "waited": "float64",     # … of which waiting
    "working": "float64",    # … the rest (duration - waited, never below 0)
    "error": ERRORS,         # how it ended; <NA> when it succeeded
}
_WIDTH = 900.0
_LEFT = 110.0  # lane labels
_RIGHT = 96.0  # room for the error code after a bar that ends at the right
_TOP = 30.0
_LANE = 46.0
_BAR = 16.0
_OTHER = ("#999999", "")


def _modes(calls: pd.DataFrame) -> pd.Series[Any]:
    blocking = calls["blocking"]
    timeout = calls["timeout"].fillna(0.0).astype("float64")
    mode = pd.Series("other", index=calls.index, dtype="object")
    mode[(blocking == False).fillna(False).astype(bool)] = "non-blocking"  # noqa: E712 (nullable boolean)
    is_blocking = (blocking == True).fillna(False).astype(bool)  # noqa: E712
    mode[is_blocking & (timeout > 0)] = "timeout"
    mode[is_blocking & (timeout <= 0)] = "blocking"
    return mode.astype(MODES)


def _data(calls: pd.DataFrame) -> pd.DataFrame:
    duration = calls["duration"].astype("float64")
    waited = calls["waited"].astype("float64")
    frame = pd.DataFrame({
        "seq": calls["seq"].astype("int64"),
        "socket": calls["socket"].astype(STRING),
        "op": calls["op"].astype(OPS),
        "mode": _modes(calls),
        "start": calls["elapsed"].astype("float64"),
        "duration": duration,
        "waited": waited,
        "working": (duration - waited).clip(lower=0.0),
        "error": calls["error"].astype(ERRORS),
    })
    return frame.reset_index(drop=True).astype(TIMELINE_SCHEMA)


def _tooltip(row: Any) -> str:
    parts = [f"#{row.seq} {row.socket} {row.op}", f"{row.mode}", f"took {seconds_text(row.duration)}",
             f"waited {seconds_text(row.waited)}"]
    parts.append(f"ended {row.error}" if pd.notna(row.error) else "succeeded")
    return " · ".join(parts)


def _axis(svg: Svg, rec: Recording, scale: str, bottom: float, span: float, count: int) -> None:
    right = _WIDTH - _RIGHT
    svg.line(_LEFT, bottom, right, bottom, stroke=MUTED)
    if scale == "order":
        svg.text(_LEFT, bottom + 16, "calls in order (each the same width)", class_="small muted")
        return
    if span <= 0:
        return
    for tick in nice_ticks(0.0, span, 6):
        x = _LEFT + tick / span * (right - _LEFT)
        svg.line(x, bottom, x, bottom + 4, stroke=MUTED)
        svg.text(x, bottom + 15, seconds_text(tick) if tick else "0", text_anchor="middle", class_="small muted")
    svg.text(right, bottom + 30, f"seconds from {rec.start:.3f} s into the recording", text_anchor="end",
             class_="small muted")


def timeline(rec: object, *, sockets: Sequence[str] | None = None, window: object = None,
             scale: str = "time", max_calls: int = MAX_CALLS) -> Picture:
    """What each call spent its time on: waiting or working, in which mode, and how it ended.

    ``rec`` is a `gsocklab.record.Recorder` or a recording DataFrame; ``sockets`` and
    ``window`` narrow it as for `sequence`; ``scale="order"`` draws every call the same
    width. ``data`` has one row per drawn call (`TIMELINE_SCHEMA`).

    SVG contract: root ``svg.gsocklab-timeline``; per socket ``g.lane[data-socket]``; per
    call ``g.call[data-seq][data-op][data-mode]`` (with class ``error`` and ``data-error``
    when it failed) holding ``rect.work`` and, when it waited, ``rect.wait[data-seq]
    [data-waited]`` (seconds, as recorded). Every call has a ``<title>``.
    """
    scale = check_scale(scale)
    if not isinstance(max_calls, int) or isinstance(max_calls, bool) or max_calls < 1:
        raise ValueError(f"max_calls must be a positive int, not {max_calls!r}")
    recording = load(rec, sockets, window)
    calls = recording.calls
    quiet = calls["op"].astype(str).isin(QUIET_OPS) & calls["error"].isna()
    calls = calls[~quiet.astype(bool)]
    total = len(calls)
    data = _data(calls.head(max_calls))
    lanes = {label: _TOP + i * _LANE for i, label in enumerate(recording.sockets)}
    bottom = _TOP + max(len(lanes), 1) * _LANE + 4
    height = bottom + 72
    title = f"Timeline of {len(data)} calls on {len(lanes)} sockets"
    svg = Svg("timeline", _WIDTH, height, title)
    span = recording.end - recording.start
    right = _WIDTH - _RIGHT
    if not len(data):
        svg.text(_WIDTH / 2, _TOP + 20, "no calls recorded (yet)", text_anchor="middle", class_="muted")
    for i, (label, y) in enumerate(lanes.items()):
        svg.open(class_="lane", data_socket=label)
        svg.tooltip(label)
        svg.line(_LEFT, y + _LANE / 2, right, y + _LANE / 2, stroke="#e6e6e6")
        svg.text(_LEFT - 8, y + _LANE / 2 + 4, label, text_anchor="end", class_="title",
                 fill=COLOURS[i % len(COLOURS)])
        svg.close()
    slot = (right - _LEFT) / max(len(data), 1)
    ends: list[tuple[float, float, str, str]] = []  # error marks, drawn over all the bars
    for position, row in enumerate(data.itertuples(index=False)):
        lane = lanes.get(row.socket)
        if lane is None:
            continue
        if scale == "order":
            x0, width = _LEFT + position * slot + 1, max(slot * 0.8 - 2, 1.0)
        else:
            x0 = _LEFT + ((row.start - recording.start) / span * (right - _LEFT) if span > 0 else 0.0)
            width = max(row.duration / span * (right - _LEFT) if span > 0 else 0.0, 2.0)
        y = lane + (_LANE - _BAR) / 2
        colour, dash = MODE_COLOURS.get(str(row.mode), _OTHER)
        failed = pd.notna(row.error)
        svg.open(class_="call error" if failed else "call", data_seq=int(row.seq), data_op=str(row.op),
                 data_mode=str(row.mode), data_error=str(row.error) if failed else None)
        svg.tooltip(_tooltip(row))
        share = min(row.waited / row.duration, 1.0) if row.duration > 0 else (1.0 if row.waited > 0 else 0.0)
        wait_width = width * share
        if wait_width < width:
            svg.rect(x0 + wait_width, y, width - wait_width, _BAR, class_="work", fill=colour, stroke=colour,
                     stroke_dasharray=dash or None)
        if row.waited > 0:
            svg.rect(x0, y, max(wait_width, 1.0), _BAR, class_="wait", data_seq=int(row.seq),
                     data_waited=repr(float(row.waited)), fill=colour, fill_opacity=0.22, stroke=colour,
                     stroke_dasharray=dash or "3 2")
        room = width if scale == "time" else slot - 4
        label = f"{row.op} · {seconds_text(row.duration)}"
        if 5.6 * len(label) > room:
            label = str(row.op)
        if 5.6 * len(label) <= room:  # only where it fits; the tooltip has it all
            svg.text(x0 + 1, y - 3, label, class_="small")
        svg.close()
        if failed:
            ends.append((x0 + width, y + _BAR / 2, str(row.error), _tooltip(row)))
    written: dict[float, float] = {}  # per lane: where its last code ends, so codes never overlap
    for x, y, code, text in ends:
        shape, mark_colour = error_mark(code)
        mark(svg, shape, x + 6, y, 10, mark_colour, text, class_="end")
        fits = scale == "time" or slot * 0.2 + 4 >= 5.6 * len(code) + 14
        if fits and x + 13 >= written.get(y, -1.0):
            svg.text(x + 13, y + 4, code, class_="small")
            written[y] = x + 13 + 5.6 * len(code) + 6
    _axis(svg, recording, scale, bottom, span, len(data))
    items = [("square", MODE_COLOURS[m][0], m) for m in ("blocking", "timeout", "non-blocking")]
    items += [("square", "#cfe3f2", "waiting (pale)"), ("diamond", error_mark("TIMED_OUT")[1], "TIMED_OUT"),
              ("square", error_mark("WOULD_BLOCK")[1], "WOULD_BLOCK"),
              ("cross", error_mark("CANCELLED")[1], "CANCELLED"), ("triangle", error_mark("X")[1], "other error")]
    legend(svg, 12, height - 14, items)
    if total > len(data):
        svg.text(right, height - 30, f"first {len(data)} of {total} calls drawn", text_anchor="end",
                 class_="small muted")
    return Picture("timeline", svg.markup(), data, title)
