"""`sequence`: a lifeline diagram of a recording, in SVG and as Mermaid text.

Layout: one vertical lifeline per socket, left to right in order of first appearance;
time runs down. Each drawn call is an activation bar on its socket's lifeline (from its
start to its end, at least 4 px), with the time it waited shaded over it (``rect.wait``).
Each datagram or stream chunk is an arrow from the send to the receive that got it
(`gsocklab.record` ``flows()``); one that nobody received ends in a cross. Errors are marks
of their own shape and colour with the code written beside them; joins, leaves, binds and
option changes are notes beside the lifeline; a batch is one bar marked ``×N`` (the
messages it moved).

Calls that only read state (``get_*``, ``is_*``, ``condition_check``, …) are left out unless
they failed. Past ``max_calls`` drawn calls (default 2,000) only the first ones are drawn and
the footer says how many were left out: narrow the picture with ``sockets=`` or
``window=`` to see the rest.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ._picture import SequencePicture
from ._source import NOTE_OPS, QUIET_OPS, Recording, check_scale, load, payload_preview
from ._svg import COLOURS, INK, LOST, WAIT_FILL, Svg, error_mark, legend, mark, num, seconds_text

__all__ = ["sequence"]

MAX_CALLS = 2000
_TOP = 64.0  # where the lifelines start
_LANE = 170.0  # between lifelines
_MARGIN = 125.0  # left of the first lifeline and right of the last
_ORDER_STEP = 24.0  # per call, with scale="order"
_BAR = 10.0  # width of an activation bar
_GAP = 16.0  # least distance between the tops of two calls on the time scale


def _drawn_calls(rec: Recording, max_calls: int) -> tuple[pd.DataFrame, int]:
    calls = rec.calls
    quiet = calls["op"].astype(str).isin(QUIET_OPS) & calls["error"].isna()
    drawn = calls[~quiet.astype(bool)]
    total = len(drawn)
    return drawn.head(max_calls), total


def _moved_per_batch(df: pd.DataFrame) -> dict[int, int]:
    rows = df[df["batch"].notna() & df["index"].notna()]
    return {int(key): int(value) for key, value in rows.groupby("batch").size().items()}


def _call_text(row: Any, moved: dict[int, int]) -> str:
    parts = [f"#{row.seq} {row.socket} {row.op}"]
    if pd.notna(row.batch):
        parts.append(f"{moved.get(int(row.batch), 0)} messages")
    elif pd.notna(row.nbytes):
        parts.append(f"{int(row.nbytes)} B")
    if isinstance(row.peer, str):
        parts.append(("to " if row.direction == "out" else "from " if row.direction == "in" else "") + row.peer)
    parts.append(f"took {seconds_text(float(row.duration))}")
    if row.waited > 0:
        parts.append(f"waited {seconds_text(float(row.waited))}")
    if pd.notna(row.error):
        parts.append(f"{row.error}: {row.message}")
    elif isinstance(row.message, str) and row.message:
        parts.append(row.message)
    if isinstance(row.hint, str) and row.hint:
        parts.append(f"hint: {row.hint}")
    return " · ".join(parts)


class _Layout:
    """Where things go: lane x by socket; y by elapsed time, or by call order.

    On the time scale a call is never drawn closer than `_GAP` below the one before it:
    where calls crowd (microseconds apart, next to a wait of a second), the ones after are
    pushed down, and everything later with them, so time still runs down at one rate
    between the crowds. ``y_at`` applies the same push to any instant.
    """

    def __init__(self, rec: Recording, calls: pd.DataFrame, scale: str) -> None:
        self.lanes = {label: _MARGIN + i * _LANE for i, label in enumerate(rec.sockets)}
        self.scale = scale
        self.start, self.end = rec.start, max(rec.end, rec.start)
        self.tops: dict[int, float] = {}
        self._times: list[float] = []
        self._pushes: list[float] = []
        if scale == "order":
            self.tops = {int(seq): _TOP + i * _ORDER_STEP + 4 for i, seq in enumerate(calls["seq"].tolist())}
            self.height = max(len(calls), 1) * _ORDER_STEP
            self.per_second = 0.0
            return
        base = float(min(max(14.0 * len(calls), 200.0), 900.0)) if len(calls) else 120.0
        span = self.end - self.start
        self.per_second = base / span if span > 0 else 0.0
        push, last = 0.0, -math.inf
        order = calls.sort_values(["elapsed", "seq"], kind="stable")
        for seq, elapsed in zip(order["seq"].tolist(), order["elapsed"].tolist()):
            y = self._base(elapsed) + push
            if y < last + _GAP:
                push += last + _GAP - y
                y = last + _GAP
            self.tops[int(seq)] = last = y
            self._times.append(float(elapsed))
            self._pushes.append(push)
        self.height = max(base + push, (last - _TOP + _GAP) if self.tops else 0.0)

    def _base(self, elapsed: float) -> float:
        return _TOP + (elapsed - self.start) * self.per_second

    def y_at(self, elapsed: float) -> float:
        """The y of an instant, pushed down as the calls before it were."""
        index = bisect_right(self._times, elapsed) - 1
        return self._base(elapsed) + (self._pushes[index] if index >= 0 else 0.0)

    def call_span(self, seq: int, elapsed: float, duration: float, least: float = 4.0) -> tuple[float, float]:
        """Top and bottom of a call's activation bar, at least ``least`` px long."""
        top = self.tops.get(seq, _TOP)
        if self.scale == "order":
            return top, top + _ORDER_STEP - 8
        return top, max(self.y_at(elapsed + duration), top + least)


def _lifelines(svg: Svg, rec: Recording, layout: _Layout, bottom: float) -> None:
    local = rec.df.dropna(subset=["local"]).drop_duplicates("socket", keep="last").set_index("socket")["local"]
    for i, (label, x) in enumerate(layout.lanes.items()):
        colour = COLOURS[i % len(COLOURS)]
        address = str(local.get(label, ""))
        svg.open(class_="lifeline", data_socket=label)
        svg.tooltip(f"{label} {address}".strip())
        svg.rect(x - 70, 12, 140, 36, rx=4, fill="#fff", stroke=colour, stroke_width=2)
        svg.text(x, 27, label, text_anchor="middle", class_="title")
        svg.text(x, 41, address, text_anchor="middle", class_="small mono muted")
        svg.line(x, 48, x, bottom, stroke=colour, stroke_width=1.5, stroke_dasharray="5 4")
        svg.close()


def _calls(svg: Svg, calls: pd.DataFrame, layout: _Layout, moved: dict[int, int]) -> dict[int, tuple[float, float]]:
    """Draw every call; return each call's bar (top, bottom) by its first row's seq."""
    spans: dict[int, tuple[float, float]] = {}
    for row in calls.itertuples(index=False):
        x = layout.lanes.get(row.socket)
        if x is None:
            continue
        seq = int(row.seq)
        messages = moved.get(int(row.batch), 0) if pd.notna(row.batch) else 0
        top, bottom = layout.call_span(seq, float(row.elapsed), float(row.duration), min(4.0 + 2.0 * messages, 12.0))
        spans[seq] = (top, bottom)
        failed = pd.notna(row.error)
        op = str(row.op)
        classes = "call" + (" error" if failed else "") + (" note" if op in NOTE_OPS and not failed else "")
        svg.open(class_=classes, data_seq=seq, data_op=op, data_error=str(row.error) if failed else None)
        svg.tooltip(_call_text(row, moved))
        svg.rect(x - _BAR / 2, top, _BAR, bottom - top, fill="#f2f2f2", stroke=INK, stroke_width=0.8)
        waited = float(row.waited)
        if waited > 0:
            duration = float(row.duration)
            share = min(waited / duration, 1.0) if duration > 0 else 1.0
            svg.rect(x - _BAR / 2, top, _BAR, max((bottom - top) * share, 1.5),
                     f"waited {seconds_text(waited)} of {seconds_text(duration)}",
                     class_="wait", data_seq=seq, data_waited=repr(waited), fill=WAIT_FILL, fill_opacity=0.75)
        label_x, middle = x + _BAR / 2 + 4, (top + bottom) / 2
        if failed:
            shape, colour = error_mark(str(row.error))
            mark(svg, shape, label_x + 5, middle, 10, colour)
            svg.text(label_x + 13, middle + 4, str(row.error), class_="small")
        elif pd.notna(row.batch):  # sends: left of the lifeline, where no arrow leaves (mostly)
            if row.direction == "out":
                svg.text(x - _BAR / 2 - 4, middle + 4, f"{op} ×{messages}", text_anchor="end", class_="small")
            else:
                svg.text(label_x, middle + 4, f"{op} ×{messages}", class_="small")
        elif op in NOTE_OPS:
            value = row.message if isinstance(row.message, str) else ""
            text = f"{op.replace('_multicast_group', '').replace('_', ' ')} {value}".strip()[:40]
            box = 6 * len(text) + 10
            left = label_x if label_x + box <= svg.width - 4 else x - _BAR / 2 - 4 - box  # the last lane: left
            svg.rect(left, middle - 8, box, 15, rx=3, fill="#fffbe6", stroke="#c9b458")
            svg.text(left + 4, middle + 4, text, class_="small")
        elif op not in ("send", "send_to", "receive", "receive_from", "receive_bytes", "receive_bytes_from",
                        "send_with_blocking", "receive_with_blocking", "send_message", "receive_message"):
            svg.text(label_x, middle + 4, op, class_="small muted")
        svg.close()
    return spans


def _arrowhead(svg: Svg, x1: float, y1: float, x2: float, y2: float, colour: str) -> None:
    angle = math.atan2(y2 - y1, x2 - x1)
    points = [(x2, y2)]
    for side in (-0.45, 0.45):
        points.append((x2 - 9 * math.cos(angle + side), y2 - 9 * math.sin(angle + side)))
    svg.element("polygon", points=" ".join(f"{num(px)},{num(py)}" for px, py in points), fill=colour)


def _place(span: tuple[float, float], share: float) -> float:
    """A y within a call's bar: the messages of a batch spread over it, in order."""
    top, bottom = span
    return top + 2 + (bottom - top - 4) * share if bottom - top > 8 else (top + bottom) / 2


def _flows(svg: Svg, rec: Recording, layout: _Layout, spans: dict[int, tuple[float, float]],
           call_of: dict[int, int]) -> pd.DataFrame:
    """Draw the arrows; return the flows drawn (the picture's data)."""
    frame = rec.flows
    rows = rec.everything
    in_batch = rows[rows["index"].notna()]
    counts = in_batch.groupby("batch")["index"].transform("size")
    share = dict(zip(in_batch["seq"].astype(int).tolist(),
                     (in_batch["index"].astype("float64") / counts.clip(lower=1)).tolist()))
    first_of_batch = set(rows.loc[rows["index"] == 0, "seq"].astype(int).tolist())
    local_lane = {str(address): layout.lanes[label] for label, address in
                  rec.df.dropna(subset=["local"]).drop_duplicates("socket", keep="last")[["socket", "local"]]
                  .itertuples(index=False) if label in layout.lanes}
    drawn = []
    for i, flow in enumerate(frame.itertuples(index=False)):
        send_seq = int(flow.send_seq)
        x1 = layout.lanes.get(flow.sender)
        send_span = spans.get(call_of.get(send_seq, send_seq))
        if x1 is None or send_span is None:
            continue
        y1 = _place(send_span, share.get(send_seq, 0.0))
        lost = bool(flow.lost)
        size = "" if pd.isna(flow.nbytes) else f"{int(flow.nbytes)} B"
        preview = payload_preview(flow.payload)
        if lost:
            x2 = local_lane.get(str(flow.destination), x1 + (80 if x1 < max(layout.lanes.values()) else -80))
            if x2 == x1:
                x2 = x1 + 80
            end_x, end_y = x1 + (x2 - x1) * 0.7, y1 + 10
            svg.open(class_="flow lost", data_send_seq=send_seq)
            svg.tooltip(f"{flow.sender} → {flow.destination}: {size} {preview} — LOST (no receive in the recording)")
            svg.line(x1, y1, end_x, end_y, stroke=LOST, stroke_width=1.6, stroke_dasharray="6 3")
            mark(svg, "cross", end_x, end_y, 10, LOST)
            svg.close()
            drawn.append(i)
            continue
        receive_seq = int(flow.receive_seq)
        receiver_x = layout.lanes.get(flow.receiver)
        receive_span = spans.get(call_of.get(receive_seq, receive_seq))
        if receiver_x is None or receive_span is None:
            continue
        x2 = receiver_x
        y2 = _place(receive_span, share.get(receive_seq, 1.0)) if receive_seq in share else receive_span[1] - 2
        latency = "" if pd.isna(flow.latency) else f", latency {seconds_text(float(flow.latency))}"
        svg.open(class_="flow", data_send_seq=send_seq, data_receive_seq=receive_seq)
        svg.tooltip(f"{flow.sender} → {flow.receiver}: {size} {preview}{latency} (send #{send_seq}, "
                    f"receive #{receive_seq})")
        if x1 == x2:  # to itself: a loop out to the right
            d = f"M{num(x1 + 5)},{num(y1)} C{num(x1 + 45)},{num(y1)} {num(x1 + 45)},{num(y2)} {num(x1 + 8)},{num(y2)}"
            svg.element("path", d=d, fill="none", stroke=INK, stroke_width=1.3)
            _arrowhead(svg, x1 + 30, y2, x1 + 6, y2, INK)
        else:
            direction = 1 if x2 > x1 else -1
            start_x, end_x = x1 + direction * _BAR / 2, x2 - direction * _BAR / 2
            svg.line(start_x, y1, end_x, y2, stroke=INK, stroke_width=1.3)
            _arrowhead(svg, start_x, y1, end_x, y2, INK)
            if send_seq not in share or send_seq in first_of_batch:  # one size label per batch
                svg.text((start_x + end_x) / 2, (y1 + y2) / 2 - 4, size, text_anchor="middle", class_="small muted")
        svg.close()
        drawn.append(i)
    return frame.iloc[drawn].reset_index(drop=True)


_MERMAID_SAFE = re.compile(r"[^A-Za-z0-9 .:_/\[\]()@=+-]")


def _mermaid_text(text: object) -> str:
    """Text Mermaid takes as is: ``#`` as its entity code, other markup characters as ``_``."""
    return "#35;".join(_MERMAID_SAFE.sub("_", part) for part in str(text).split("#")).strip()


def _mermaid(rec: Recording, calls: pd.DataFrame, flows: pd.DataFrame, moved: dict[int, int]) -> str:
    ids = {label: f"s{i}" for i, label in enumerate(rec.sockets)}
    local = rec.df.dropna(subset=["local"]).drop_duplicates("socket", keep="last").set_index("socket")["local"]
    lines = ["sequenceDiagram"]
    for label, ident in ids.items():
        address = local.get(label)
        lines.append(f"    participant {ident} as {_mermaid_text(label)}"
                     + (f" ({_mermaid_text(address)})" if isinstance(address, str) else ""))
    by_send: dict[int, list[Any]] = {}
    for flow in flows.itertuples(index=False):
        by_send.setdefault(int(flow.send_seq), []).append(flow)
    for row in calls.itertuples(index=False):
        who = ids.get(row.socket)
        if who is None:
            continue
        ident = who
        op = str(row.op)
        if pd.notna(row.error):
            lines.append(f"    Note right of {ident}: {_mermaid_text(op)} {row.error}")
            continue
        if op in NOTE_OPS:
            value = f" {_mermaid_text(row.message)}" if isinstance(row.message, str) and row.message else ""
            lines.append(f"    Note over {ident}: {_mermaid_text(op)}{value}")
            continue
        seqs = [int(row.seq)]
        if pd.notna(row.batch):
            seqs = rec.df.loc[rec.df["batch"] == row.batch, "seq"].astype(int).tolist()
            lines.append(f"    Note over {ident}: {op} x{moved.get(int(row.batch), 0)}")
        for seq in seqs:
            for flow in by_send.get(seq, []):
                size = "" if pd.isna(flow.nbytes) else f"{int(flow.nbytes)} B"
                if bool(flow.lost):
                    lines.append(f"    {ident}-x{ident}: {size} to {_mermaid_text(flow.destination)} lost")
                elif flow.receiver in ids:
                    lines.append(f"    {ident}->>{ids[flow.receiver]}: {size}")
    return "\n".join(lines) + "\n"


def sequence(rec: object, *, sockets: Sequence[str] | None = None, window: object = None,
             scale: str = "time", max_calls: int = MAX_CALLS) -> SequencePicture:
    """A sequence (lifeline) diagram of a recording: who sent what to whom, and how calls ended.

    ``rec`` is a `gsocklab.record.Recorder` or a recording DataFrame. ``sockets`` (labels)
    and ``window`` (``(start, end)`` seconds from the recording's start) narrow it;
    ``scale="time"`` (default) places calls by when they ran, ``scale="order"`` evenly, one
    step per call. The picture's ``data`` is the flows it drew (`FLOWS_SCHEMA` columns).

    SVG contract (stable, for tests and CSS): root ``svg.gsocklab-sequence``; per socket
    ``g.lifeline[data-socket]``; per drawn call ``g.call[data-seq][data-op]``, with class
    ``error`` and ``data-error`` when it failed and ``note`` for option changes and
    memberships; per datagram or chunk ``g.flow[data-send-seq][data-receive-seq]``, or
    ``g.flow.lost[data-send-seq]`` when nothing received it; per wait
    ``rect.wait[data-seq][data-waited]`` (seconds, as recorded). Every mark has a ``<title>``.
    """
    scale = check_scale(scale)
    if not isinstance(max_calls, int) or isinstance(max_calls, bool) or max_calls < 1:
        raise ValueError(f"max_calls must be a positive int, not {max_calls!r}")
    recording = load(rec, sockets, window)
    calls, total = _drawn_calls(recording, max_calls)
    moved = _moved_per_batch(recording.df)
    layout = _Layout(recording, calls, scale)
    width = max(2 * _MARGIN + max(len(layout.lanes) - 1, 0) * _LANE, 520.0)
    bottom = _TOP + layout.height + 16
    height = bottom + 46
    title = f"Sequence of {len(calls)} calls on {len(layout.lanes)} sockets"
    svg = Svg("sequence", width, height, title)
    if not layout.lanes:
        svg.text(width / 2, 60, "nothing recorded (yet)", text_anchor="middle", class_="muted")
        empty = recording.flows.iloc[0:0]
        return SequencePicture(svg.markup(), empty, title, _mermaid(recording, calls, empty, moved))
    _lifelines(svg, recording, layout, bottom)
    batch_first = {int(seq): int(first) for seq, first in _first_of_batch(recording.df).items()}
    spans = _calls(svg, calls, layout, moved)
    drawn = _flows(svg, recording, layout, spans, batch_first)
    foot = bottom + 18
    last = legend(svg, 12, foot, [("line", INK, "datagram / chunk"), ("cross", LOST, "lost"),
                               ("square", WAIT_FILL, "waiting"), ("diamond", error_mark("TIMED_OUT")[1], "TIMED_OUT"),
                               ("square", error_mark("WOULD_BLOCK")[1], "WOULD_BLOCK"),
                               ("cross", error_mark("CANCELLED")[1], "CANCELLED"),
                               ("triangle", error_mark("OTHER")[1], "other error")])
    scale_text = ("time runs down" if scale == "time" else "one step per call") + (
        f" · first {len(calls)} of {total} calls drawn" if total > len(calls) else "")
    svg.text(12, last + 20, scale_text, class_="small muted")
    svg.height = max(svg.height, last + 28)
    return SequencePicture(svg.markup(), drawn, title, _mermaid(recording, calls, drawn, moved))


def _first_of_batch(df: pd.DataFrame) -> pd.Series[Any]:
    """seq of each batch row -> seq of its batch's first row."""
    rows = df[df["batch"].notna()]
    if not len(rows):
        return pd.Series(dtype="int64")
    first = rows.groupby("batch")["seq"].transform("min")
    return pd.Series(first.to_numpy(), index=rows["seq"].to_numpy())
