"""The ``via`` column: which user-visible call made each socket call.

The Gio layers (`gsocklab.gio`: streams, `SocketClient`, `SocketListener`, `SocketService`)
wrap every public call in a span (`gsocklab.core._observe.via`); a recording recorder keeps
the outermost span of each thread: its name (``"DataInputStream.read_line"``), thread and
start and end (monotonic seconds). A row gets the name of the span of its thread that was
open when the socket call started; calls made directly on a socket have ``<NA>``.
"""

from __future__ import annotations

import collections
import threading
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

__all__ = ["Span", "Spans", "add_via"]

_SLACK = 1e-6  # seconds: rounding between the clocks' floats and the rows' nanoseconds


class Span(NamedTuple):
    """One user-visible call: ``name``, the ``thread`` name, ``t0`` and ``t1`` (monotonic seconds)."""

    name: str
    thread: str
    t0: float
    t1: float


class Spans:
    """The spans of a recording, at most ``limit`` (the oldest go first)."""

    def __init__(self, limit: int) -> None:
        self._spans: collections.deque[Span] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()

    def on_span(self, name: str, thread: str, t0: float, t1: float) -> None:
        """Keep one span (called by `gsocklab.core._observe.via`, in the calling thread)."""
        with self._lock:
            self._spans.append(Span(name, thread, t0, t1))

    def snapshot(self) -> list[Span]:
        """The spans kept, oldest first."""
        with self._lock:
            return list(self._spans)

    def clear(self) -> None:
        """Forget them all."""
        with self._lock:
            self._spans.clear()


def add_via(frame: pd.DataFrame, spans: list[Span], start_s: float) -> pd.DataFrame:
    """``frame`` with its ``via`` column set from ``spans`` (``start_s``: the recording's start
    on the monotonic clock, in seconds, which ``elapsed`` counts from)."""
    if not spans or not len(frame):
        return frame
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

    from ._schema import STRING

    elapsed = frame["elapsed"].to_numpy(dtype=float)
    threads = frame["thread"].to_numpy(dtype=object)
    values = np.full(len(frame), None, dtype=object)
    by_thread: dict[str, list[Span]] = {}
    for span in spans:
        by_thread.setdefault(span.thread, []).append(span)
    for thread, mine in by_thread.items():
        rows = np.flatnonzero(threads == thread)
        if not len(rows):
            continue
        mine.sort(key=lambda span: span.t0)
        starts = np.array([span.t0 - start_s for span in mine]) - _SLACK
        ends = np.array([span.t1 - start_s for span in mine]) + _SLACK
        names = np.array([span.name for span in mine], dtype=object)
        at = np.searchsorted(starts, elapsed[rows], side="right") - 1
        inside = (at >= 0) & (elapsed[rows] <= ends[np.clip(at, 0, None)])
        values[rows[inside]] = names[at[inside]]
    frame = frame.copy()
    frame["via"] = pd.array(values, dtype=STRING)
    return frame
