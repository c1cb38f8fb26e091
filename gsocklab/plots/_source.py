"""What every picture starts from: a recording, its filters, and the analyses it needs.

A picture takes a `gsocklab.record.Recorder` (a snapshot is taken) or a recording
DataFrame (``rec.df``, or one loaded with ``Recorder.load``), then keeps the rows of the
``sockets`` asked for and of the time ``window`` asked for. Flows are matched on the whole
recording first, so an arrow from a socket left out of the picture still finds its end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ..record._analysis import batches, flows
from ..record._schema import TRAFFIC_SCHEMA

__all__ = ["Recording", "load"]

#: Ops that only read state: drawn only when they failed.
QUIET_OPS = frozenset({
    "condition_check", "get_available_bytes", "get_blocking", "get_broadcast", "get_credentials", "get_family",
    "get_fd", "get_keepalive", "get_listen_backlog", "get_local_address", "get_multicast_loopback",
    "get_multicast_ttl", "get_option", "get_property", "get_protocol", "get_remote_address", "get_socket_type",
    "get_timeout", "get_ttl", "is_closed", "is_connected", "list_property_names", "speaks_ipv4", "create_source",
    "new", "new_from_fd", "init",
})
#: Ops drawn as a note beside the lifeline (with the value the ``message`` column holds).
NOTE_OPS = frozenset({
    "join_multicast_group", "join_multicast_group_ssm", "leave_multicast_group", "leave_multicast_group_ssm",
    "set_blocking", "set_broadcast", "set_keepalive", "set_listen_backlog", "set_multicast_loopback",
    "set_multicast_ttl", "set_option", "set_property", "set_timeout", "set_ttl", "bind", "listen", "shutdown",
})


@dataclass(frozen=True)
class Recording:
    """The rows a picture draws (``df``, by ``seq``), with the recording's flows and batches."""

    df: pd.DataFrame  # the filtered rows
    everything: pd.DataFrame = field(repr=False)  # the whole recording, for matching
    asked: dict[int, int] | None = field(repr=False)
    sockets: list[str] = field(default_factory=list)  # labels, in order of first appearance
    start: float = 0.0  # the elapsed time the picture starts at
    end: float = 0.0

    @cached_property
    def flows(self) -> pd.DataFrame:
        """`flows()` of the whole recording, narrowed to sends or receives of ``df``."""
        matched = flows(self.everything)
        seqs = set(self.df["seq"].tolist())
        keep = matched["send_seq"].isin(seqs) | matched["receive_seq"].isin(seqs).fillna(False).astype(bool)
        return matched[keep].reset_index(drop=True)

    @cached_property
    def batches(self) -> pd.DataFrame:
        """`batches()` of the rows drawn."""
        return batches(self.df, self.asked)

    @cached_property
    def calls(self) -> pd.DataFrame:
        """One row per call: every row outside a batch, and the first row of each batch."""
        df = self.df
        first = df["batch"].isna() | ~df["batch"].duplicated()
        return df[first.astype(bool)]


def _frame_of(source: object) -> tuple[pd.DataFrame, dict[int, int] | None]:
    to_dataframe = getattr(source, "to_dataframe", None)
    if callable(to_dataframe):
        sizes = getattr(source, "batch_sizes", None)  # the messages each batched call was given
        if callable(sizes):
            sizes = sizes()
        return to_dataframe(), dict(sizes) if isinstance(sizes, dict) else None
    if isinstance(source, pd.DataFrame):
        missing = [name for name in TRAFFIC_SCHEMA if name not in source.columns and name != "via"]
        if missing:
            raise ValueError(f"rec is not a recording: it lacks the columns {', '.join(missing[:5])}")
        return source, None
    raise TypeError(f"rec must be a gsocklab.record.Recorder or a recording DataFrame, not {type(source).__name__}")


def _window(window: object) -> tuple[float, float]:
    if window is None:
        return -math.inf, math.inf
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise TypeError("window must be (start, end) in seconds of the recording, either may be None")
    bounds = []
    for value, default in zip(window, (-math.inf, math.inf)):
        if value is None:
            bounds.append(default)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            bounds.append(float(value))
        else:
            raise TypeError(f"window bounds must be numbers of seconds or None, not {type(value).__name__}")
    if bounds[0] > bounds[1]:
        raise ValueError(f"window starts after it ends: {window!r}")
    return bounds[0], bounds[1]


def load(source: object, sockets: Sequence[str] | None = None, window: object = None) -> Recording:
    """The `Recording` of ``source`` (a Recorder or a recording frame), narrowed by the filters.

    ``sockets``: labels to keep (``["udp4#1", "udp4#2"]``), in the order to draw them;
    ``window``: ``(start, end)`` in seconds from the recording's start (``elapsed``), either
    ``None`` for open. A call is kept when it started inside the window.
    """
    frame, asked = _frame_of(source)
    frame = frame.sort_values("seq", kind="stable").reset_index(drop=True)
    start, end = _window(window)
    rows = frame
    if sockets is not None:
        if isinstance(sockets, str) or not all(isinstance(label, str) for label in sockets):
            raise TypeError("sockets must be a list of socket labels (str)")
        rows = rows[rows["socket"].isin(list(sockets)).fillna(False).astype(bool)]
    if math.isfinite(start) or math.isfinite(end):
        elapsed = rows["elapsed"]
        rows = rows[(elapsed >= start) & (elapsed <= end)]
    labels = list(dict.fromkeys(rows["socket"].dropna().tolist()))
    if sockets is not None:
        labels = [label for label in sockets if label in set(labels)]
    if len(rows):
        first = float(rows["elapsed"].min())
        last = float((rows["elapsed"] + rows["duration"]).max())
    else:
        first = last = 0.0
    return Recording(rows.reset_index(drop=True), frame, asked, labels,
                     first if not math.isfinite(start) else start, last if not math.isfinite(end) else end)


def check_scale(scale: object) -> str:
    """``scale`` if it is ``"time"`` or ``"order"``."""
    if scale not in ("time", "order"):
        raise ValueError(f"scale must be 'time' or 'order', not {scale!r}")
    return str(scale)


def payload_preview(payload: Any, limit: int = 24) -> str:
    """A short printable preview of captured bytes, for tooltips (escaped when written)."""
    if payload is None or not isinstance(payload, (bytes, bytearray, memoryview)):
        return ""
    data = bytes(payload)
    return repr(data[:limit])[2:-1] + ("…" if len(data) > limit else "")
