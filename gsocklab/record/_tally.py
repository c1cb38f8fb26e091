"""Running totals of a recording, kept up to date from the store's numpy columns.

`Recorder.totals` counts each row once, when it first reads it, with numpy on the column
copies of the new rows only: no DataFrame is built, so a live view can ask five times a
second while 100,000 calls a second are recorded. The counts follow `summary`'s rules: a
batched call is one call and each of its messages one message; a message is "moved" when
it carried data (not a failed call, not the end of a stream).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ._schema import direction_of
from ._store import Columns

__all__ = ["TOTALS_COLUMNS", "Tally"]

#: Columns of `Recorder.totals`, before the ``error_<CODE>`` counts.
TOTALS_COLUMNS = ("rows", "calls", "out_messages", "out_bytes", "in_messages", "in_bytes", "errors")


class Tally:
    """Totals per socket label; `add` the columns of new rows, read them with `frame`."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}

    def add(self, columns: Columns) -> None:
        """Count the rows of ``columns``."""
        n = len(columns)
        if not n:
            return
        a, tables = columns.arrays, columns.tables
        sock, op, error, nbytes = a["sock"], a["op"], a["error"], a["nbytes"]
        batch, index = a["batch"], a["index"]
        ways = np.asarray([{"out": 1, "in": 2}.get(direction_of(name) or "", 0) for name in tables.ops] or [0],
                          dtype=np.int8)[op]
        stream = np.asarray([state.type == "STREAM" for state in tables.sockets] or [False])[sock]
        moved = (nbytes >= 0) & (error == 0) & ~(stream & (nbytes == 0))
        call = (batch < 0) | (index <= 0)
        size = max(len(tables.sockets), 1)

        def per_socket(mask: Any, weights: Any = None) -> Any:
            return np.bincount(sock[mask], weights=None if weights is None else weights[mask], minlength=size)

        figures = {
            "rows": np.bincount(sock, minlength=size),
            "calls": per_socket(call),
            "out_messages": per_socket(moved & (ways == 1)),
            "out_bytes": per_socket(moved & (ways == 1), nbytes),
            "in_messages": per_socket(moved & (ways == 2)),
            "in_bytes": per_socket(moved & (ways == 2), nbytes),
            "errors": per_socket(error != 0),
        }
        for code in np.flatnonzero(figures["rows"]):
            label = tables.sockets[code].label
            counts = self.counts.setdefault(label, Counter())
            for name, values in figures.items():
                counts[name] += int(values[code])
        failed = np.flatnonzero(error != 0)
        if len(failed):
            pairs, times = np.unique(np.stack([sock[failed], error[failed]]), axis=1, return_counts=True)
            for (code, err), count in zip(pairs.T.tolist(), times.tolist()):
                name = tables.errors[err][0] or "FAILED"
                self.counts[tables.sockets[code].label][f"error_{name}"] += count

    def frame(self) -> pd.DataFrame:
        """One row per socket label (in order of first count): `TOTALS_COLUMNS`, then ``error_<CODE>``."""
        codes = sorted({key for counts in self.counts.values() for key in counts if key.startswith("error_")})
        names = list(TOTALS_COLUMNS) + codes
        rows = [[counts.get(name, 0) for name in names] for counts in self.counts.values()]
        frame = pd.DataFrame(rows, columns=names, dtype="int64")
        frame.index = pd.Index(list(self.counts), dtype=pd.StringDtype(), name="socket")
        return frame
