"""`TrafficView`: a live view of a recording — counters, the newest rows, and a live picture.

The view pulls from the recorder; the recorder knows nothing of it. Its pump asks a few
times a second whether the recording grew (`Recorder.rows_recorded`, one integer) or a
filter changed; only then does it read the totals (`Recorder.totals`, counted
incrementally), the newest rows (`Recorder.tail`, only those rows are built) and draw the
picture of the last seconds, and send everything in one message.
"""

from __future__ import annotations

import time
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped, unused-ignore]
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from .. import plots
from . import _html
from ._pump import Pump, busy_cell, close_all, route_to_sender

__all__ = ["Part", "TrafficView"]

_ALL = "(all)"
PICTURE_SHARE = 0.1  # while the recording grows, the picture is redrawn after 1/PICTURE_SHARE times its cost


class Part:
    """One part of a view's HTML (``value``); the parts are sent together, in one widget."""

    def __init__(self) -> None:
        self.value = ""
PICTURE_ROWS = 80  # the most recent rows a live picture draws (a picture costs ~0.25 ms a row)


class TrafficView:
    """A live view of ``recorder``: display it (``view`` as the last expression, or ``view.widget``).

    ``rows``: how many of the newest rows the table shows (at most 1,000); ``picture``:
    ``"timeline"`` (the default), ``"sequence"`` (matching sends to receives costs ~0.1 s a
    drawing, so it is redrawn about once a second) or ``None``, of the last ``seconds`` seconds; ``rate``:
    refreshes per second at most (a refresh happens only when something changed). Filters
    by socket, op and errors, and **Pause**, are in the view.
    """

    def __init__(self, recorder: Any, *, rows: int = 200, picture: str | None = "timeline", seconds: float = 10.0,
                 rate: float = 5.0) -> None:
        if not callable(getattr(recorder, "totals", None)) or not callable(getattr(recorder, "tail", None)):
            raise TypeError(f"recorder must be a gsocklab.record.Recorder, not {type(recorder).__name__}")
        if not isinstance(rows, int) or isinstance(rows, bool) or not 1 <= rows <= 1000:
            raise ValueError(f"rows must be an int from 1 to 1000, not {rows!r}")
        if picture not in ("sequence", "timeline", None):
            raise ValueError(f"picture must be 'sequence', 'timeline' or None, not {picture!r}")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0:
            raise ValueError(f"seconds must be a positive number, not {seconds!r}")
        self.recorder = recorder
        self.rows, self.seconds = rows, float(seconds)
        self._shown: object = None
        self.sent = 0  # refreshes that sent something, for tests and benchmarks
        self.counters = Part()
        self.socket_filter = widgets.Dropdown(options=[_ALL], value=_ALL, description="socket")
        self.op_filter = widgets.Dropdown(options=[_ALL], value=_ALL, description="op")
        self.errors_only = widgets.Checkbox(value=False, description="errors only", indent=False)
        self.pause = widgets.ToggleButton(value=False, description="Pause")
        self.pause.add_class("gs-pause")
        self.picture_kind = widgets.Dropdown(options=["sequence", "timeline", "none"], value=picture or "none",
                                             description="picture")
        self.table, self.picture, self.status = Part(), Part(), Part()
        self.display = widgets.HTML()  # counters, picture, table and status: one message per refresh
        self._picture_at = -1.0
        self._picture_cost = 0.0
        self._picture_key: object = None
        self._picture_stale = False
        self.widget = widgets.VBox([
            widgets.HBox([self.socket_filter, self.op_filter, self.errors_only, self.pause, self.picture_kind]),
            self.display,
        ])
        self.widget.add_class("gs-traffic-view")
        busy_cell()
        self.pump = Pump(self.refresh, rate, name="gsocklab-view-pump")
        controls = (self.socket_filter, self.op_filter, self.errors_only, self.pause, self.picture_kind)
        for control in controls:
            control.observe(lambda _: self.pump.poke(), names="value")
        route_to_sender(*controls)
        self.refresh()
        self.pump.start()

    def _ipython_display_(self) -> None:
        from IPython.display import display  # type: ignore[import-not-found, unused-ignore]

        display(self.widget)  # type: ignore[no-untyped-call, unused-ignore]

    def refresh(self) -> bool:
        """Draw the view if the recording or a filter changed (what the pump calls); whether it drew."""
        recorder = self.recorder
        recorder.store_pending()  # steady traffic shows while it flows, not only when it stops
        filters = (self.socket_filter.value, self.op_filter.value, self.errors_only.value, self.picture_kind.value)
        paused, busy = bool(self.pause.value), busy_cell()
        key = (recorder.rows_recorded, filters, busy) if not paused else ("paused", busy)
        if key == self._shown and not (self._picture_stale and not paused):
            return False
        if paused:
            self.status.value = self._status("paused: press Pause again to follow the recording", busy)
        else:
            self._draw(filters, busy)
        changed = self._send()
        self._shown = key  # only once it is drawn: a failed drawing is tried again
        self.sent += changed
        return changed

    def _draw(self, filters: tuple[Any, ...], busy: bool) -> None:
        recorder = self.recorder
        totals = recorder.totals()
        tail = recorder.tail(self.rows)
        sockets = [_ALL, *sorted(str(label) for label in totals.index)]
        ops = [_ALL, *sorted({str(op) for op in tail["op"].dropna()} | ({filters[1]} - {_ALL}))]
        rows = tail
        if filters[0] != _ALL:
            rows = rows[rows["socket"] == filters[0]]
        if filters[1] != _ALL:
            rows = rows[rows["op"].astype(str) == filters[1]]
        if filters[2]:
            rows = rows[rows["error"].notna()]
        now = time.monotonic()
        picture_key = (filters[0], filters[3])
        self._picture_stale = True  # until drawn: the pump comes back for it
        if picture_key != self._picture_key or now - self._picture_at >= self._picture_cost / PICTURE_SHARE:
            self.picture.value = self._picture(tail, filters[0], filters[3])
            self._picture_cost = time.monotonic() - now
            self._picture_at, self._picture_key, self._picture_stale = now, picture_key, False
        self.counters.value = _html.counters(totals)
        self.table.value = _html.table(rows.tail(self.rows))
        total = int(totals["rows"].sum()) if len(totals) else 0
        self.status.value = self._status(f"{min(len(rows), self.rows)} newest of {total} rows", busy)
        with self.widget.hold_sync():
            if list(self.socket_filter.options) != sockets:
                self.socket_filter.options = sockets
            if list(self.op_filter.options) != ops:
                self.op_filter.options = ops

    def _send(self) -> bool:
        """Put the parts into the view's one HTML widget; whether that changed it (and so sent a message)."""
        box = '<div style="max-height:420px;overflow:auto">{}</div>'
        value = (self.counters.value + (box.format(self.picture.value) if self.picture.value else "")
                 + box.format(self.table.value) + self.status.value)
        if value == self.display.value:
            return False
        self.display.value = value
        return True

    def _picture(self, tail: pd.DataFrame, socket: str, kind: str) -> str:
        if kind == "none" or not len(tail):
            return ""
        recent = tail.tail(PICTURE_ROWS)
        start = float((recent["elapsed"] + recent["duration"]).max()) - self.seconds
        sockets = None if socket == _ALL else [socket]
        draw = plots.sequence if kind == "sequence" else plots.timeline
        return str(draw(recent, sockets=sockets, window=(start, None)).svg)

    def _status(self, text: str, busy: bool) -> str:
        cost = f" · last refresh {self.pump.last_cost * 1e3:.0f} ms" if hasattr(self, "pump") else ""
        note = " · kernel busy: a cell is running (the view keeps updating)" if busy else ""
        return f'<div class="gs-status" style="color:#666;font-size:90%">{_html.esc(text)}{cost}{note}</div>'

    def close(self) -> None:
        """Stop the pump and close the widgets (the recorder is not touched)."""
        self.pump.stop()
        close_all(self.widget)
