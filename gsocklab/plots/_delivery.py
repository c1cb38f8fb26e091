"""`delivery`: the delivery matrix — where the datagrams sent to each destination ended up.

Layout: one row per destination (the address a sender sent to, in order of the first send
to it), one column per receiving socket (in the recording's order), and a last column
``lost`` apart from the others. A cell holds the number of datagrams (or stream chunks)
sent to that destination that the socket received, shaded from light to dark blue with
the count; a lost cell is vermillion with a cross and holds the number that nobody
received. A datagram sent to a multicast group counts once in every member's column.

The counts come from `gsocklab.record` ``flows()``, so they add up to it exactly. Past 60
destinations or 20 receiving sockets only the first are drawn and the footer says so; the
picture's ``data`` has them all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ..record._schema import STRING
from ._io_graph import empty_text
from ._picture import Picture
from ._source import Recording, load
from ._svg import LOST, Svg, legend, mark, seconds_text

__all__ = ["DELIVERY_SCHEMA", "delivery"]

#: Columns of ``delivery(...).data``, in order (see `delivery`).
DELIVERY_SCHEMA: Final = {
    "destination": STRING,  # where the sender sent to (its ``peer``); <NA> if the recording does not say
    "receiver": STRING,     # label of the receiving socket; <NA> on the row of lost datagrams
    "delivered": "int64",   # datagrams to ``destination`` that ``receiver`` received
    "lost": "int64",        # datagrams to ``destination`` that nobody received (on the <NA> receiver row)
}

MAX_DESTINATIONS: Final = 60
MAX_RECEIVERS: Final = 20
LIGHT: Final = (0xDE, 0xEB, 0xF7)  # the blue of a count of 1 …
DARK: Final = (0x08, 0x30, 0x6B)   # … and of the highest count

_WIDTH = 880.0
_CELL_HEIGHT = 26.0
_GAP = 10.0  # between the receivers and the lost column
_LABEL = 24  # characters of a header before it is cut (the tooltip has it all)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in DELIVERY_SCHEMA.items()})


def _cut(text: str) -> str:
    return text if len(text) <= _LABEL else text[: _LABEL - 1] + "…"


def _blue(share: float) -> str:
    return "#" + "".join(f"{round(a + (b - a) * share):02x}" for a, b in zip(LIGHT, DARK))


def _share(count: int, most: int) -> float:
    """Where ``count`` falls between light (a few) and dark (``most``): logarithmic, so small counts show."""
    return 0.12 + 0.88 * math.log1p(count) / math.log1p(max(most, 1))


def _count_text(count: int) -> str:
    return f"{count}" if count < 10_000 else f"{count / 1000:.0f}k" if count < 1_000_000 else f"{count / 1e6:.1f}M"


def _matrix(rec: Recording) -> tuple[pd.DataFrame, pd.DataFrame, list[object], list[str]]:
    """``(data, cells, destinations, receivers)``: the tidy data, per-cell totals, and both orders."""
    flows = rec.flows
    destination = pd.Series(flows["destination"].to_numpy(dtype=object, na_value=None))
    lost = flows["lost"].to_numpy(dtype=bool, na_value=False)
    codes, uniques = pd.factorize(destination, use_na_sentinel=False)
    destinations: list[object] = [None if pd.isna(value) else str(value) for value in uniques]
    receiver = flows["receiver"].to_numpy(dtype=object, na_value=None)
    present = list(dict.fromkeys(receiver[~lost].tolist()))
    receivers = [label for label in rec.sockets if label in set(present)]
    receivers += [label for label in present if label not in set(receivers)]
    column = {label: i for i, label in enumerate(receivers)}
    parts = pd.DataFrame({
        "row": codes.astype("int64"),
        "column": [len(receivers) if gone else column[label] for label, gone in zip(receiver, lost)],
        "count": np.ones(len(flows), dtype="int64"),
        "nbytes": flows["nbytes"].to_numpy(dtype="float64", na_value=np.nan),
        "latency": flows["latency"].to_numpy(dtype="float64", na_value=np.nan),
    })
    cells = parts.groupby(["row", "column"], sort=True).agg(
        count=("count", "sum"), nbytes=("nbytes", "sum"), latency=("latency", "median")).reset_index()
    gone = cells["column"] == len(receivers)
    data = pd.DataFrame({
        "destination": [destinations[row] for row in cells["row"]],
        "receiver": [None if g else receivers[c] for c, g in zip(cells["column"], gone)],
        "delivered": cells["count"].where(~gone, 0),
        "lost": cells["count"].where(gone, 0),
    }).astype(DELIVERY_SCHEMA)
    return data, cells, destinations, receivers


def _cell(svg: Svg, x: float, y: float, width: float, count: int, share: float, tooltip: str, lost: bool,
          **attributes: Any) -> None:
    svg.open(class_="cell lost" if lost else "cell", data_count=count, **attributes)
    svg.tooltip(tooltip)
    if lost:
        svg.rect(x + 1, y + 1, width - 2, _CELL_HEIGHT - 2, fill=LOST, fill_opacity=0.18 + 0.5 * share,
                 stroke=LOST, stroke_width=1.2)
        mark(svg, "cross", x + 8, y + 8, 7, LOST)
        svg.text(x + width / 2 + 4, y + 17, _count_text(count), text_anchor="middle", class_="small")
    else:
        svg.rect(x + 1, y + 1, width - 2, _CELL_HEIGHT - 2, fill=_blue(share))
        svg.text(x + width / 2, y + 17, _count_text(count), text_anchor="middle", class_="small",
                 style_="fill:#ffffff" if share > 0.5 else None)
    svg.close()


def delivery(rec: object, *, sockets: Sequence[str] | None = None, window: object = None) -> Picture:
    """Datagrams per destination and receiving socket, with the ones nobody received in a ``lost`` column.

    ``rec`` is a `gsocklab.record.Recorder` or a recording DataFrame; ``sockets`` (labels) and
    ``window`` (``(start, end)`` seconds from the recording's start) narrow it to the flows
    whose send or receive is among the rows kept (flows are matched on the whole recording).

    The picture's ``data`` is tidy, columns `DELIVERY_SCHEMA`: one row per destination and
    receiving socket with ``delivered > 0`` (``lost`` 0), and one row per destination with
    losses (``receiver`` missing, ``delivered`` 0, ``lost`` > 0); ordered by destination (first
    send) then receiver, the lost row last. So ``data.delivered.sum()`` is the number of
    flow rows that are not lost and ``data.lost.sum()`` the number that are, as in ``flows()``.

    SVG contract: root ``svg.gsocklab-delivery``; per delivered pair
    ``g.cell[data-destination][data-receiver][data-count]``, per destination with losses
    ``g.cell.lost[data-destination][data-count]`` (``data-destination`` is left out when the
    destination is unknown); empty cells are ``rect.empty``; headers are
    ``g.destination[data-destination]`` and ``g.receiver[data-receiver]``. Every cell and
    header has a ``<title>``.
    """
    recording = load(rec, sockets, window)
    if not len(recording.flows):
        title = "Delivery: no datagrams sent"
        svg = Svg("delivery", _WIDTH, 120, title)
        said = empty_text(recording) or "no datagrams or stream chunks were sent"
        svg.text(_WIDTH / 2, 60, said, text_anchor="middle", class_="muted")
        return Picture("delivery", svg.markup(), _empty(), title)
    data, cells, destinations, receivers = _matrix(recording)
    rows, columns = destinations[:MAX_DESTINATIONS], receivers[:MAX_RECEIVERS]
    names = ["(unknown)" if d is None else str(d) for d in rows]
    left = min(max(7.0 * max(len(_cut(n)) for n in names) + 20, 120.0), 200.0)
    longest = max([len(_cut(label)) for label in columns] + [4])
    top = 40 + min(7.0 * longest * 0.64 + 14, 120.0)
    width_cell = min(max((_WIDTH - left - _GAP - 60) / max(len(columns) + 1, 1), 32.0), 64.0)
    lost_x = left + len(columns) * width_cell + _GAP
    delivered, lost = int(data["delivered"].sum()), int(data["lost"].sum())
    title = (f"Delivery: {delivered + lost:,} datagrams to {len(destinations)} destination"
             f"{'s' * (len(destinations) != 1)}, {delivered:,} delivered, {lost:,} lost")
    width = max(lost_x + width_cell + 16, 480.0, 7.5 * len(title) + 24)
    bottom = top + len(rows) * _CELL_HEIGHT
    height = bottom + 64
    svg = Svg("delivery", width, height, title)
    svg.text(12, 18, title, class_="title")
    svg.text(12, top - 8, "destination ↓  receiver →", class_="small muted")
    local = recording.df.dropna(subset=["local"]).drop_duplicates("socket", keep="last").set_index("socket")["local"]
    for j, label in enumerate([*columns, "lost"]):
        x = (lost_x if j == len(columns) else left + j * width_cell) + width_cell / 2
        is_lost = j == len(columns)
        svg.open(class_="receiver lost" if is_lost else "receiver", data_receiver=None if is_lost else label)
        svg.tooltip("sent to the destination, received by nobody in the recording" if is_lost
                    else f"{label} {local.get(label, '')}".strip())
        svg.text(x, top - 6, _cut(label), transform=f"rotate(-40 {x:.1f} {top - 6:.1f})", class_="small",
                 style_=f"fill:{LOST}" if is_lost else None)
        svg.close()
    slots: list[str | None] = [*columns, None]
    by_cell = {(int(c.row), int(c.column)): c for c in cells.itertuples(index=False)}
    counts, is_lost = cells["count"].to_numpy(), (cells["column"] == len(receivers)).to_numpy()
    most, most_lost = int(counts[~is_lost].max(initial=1)), int(counts[is_lost].max(initial=1))
    for i, name in enumerate(names):
        y = top + i * _CELL_HEIGHT
        key = None if rows[i] is None else name
        mine = cells[cells["row"] == i]
        sent = int(mine.loc[mine["column"] < len(receivers), "count"].sum())
        gone = int(mine.loc[mine["column"] == len(receivers), "count"].sum())
        svg.open(class_="destination", data_destination=key)
        svg.tooltip(f"to {name}: {sent:,} delivered (a multicast datagram once per receiver), {gone:,} lost")
        svg.text(left - 8, y + 17, _cut(name), text_anchor="end", class_="small mono")
        svg.close()
        for j, who in enumerate(slots):
            column = len(receivers) if who is None else j
            x = lost_x if who is None else left + j * width_cell
            found = by_cell.get((i, column))
            if found is None:
                svg.rect(x + 1, y + 1, width_cell - 2, _CELL_HEIGHT - 2, "nothing lost" if who is None
                         else f"{name} → {who}: none", class_="empty", fill="#f7f7f7", stroke="#e3e3e3")
                continue
            count = int(found.count)
            size = "" if math.isnan(found.nbytes) else f", {int(found.nbytes):,} bytes"
            if who is None:
                _cell(svg, x, y, width_cell, count, _share(count, most_lost), f"{name}: {count:,} lost{size} (nobody "
                      "received them)", True, data_destination=key)
            else:
                latency = "" if math.isnan(found.latency) else f", median latency {seconds_text(found.latency)}"
                _cell(svg, x, y, width_cell, count, _share(count, most), f"{name} → {who}: {count:,} delivered{size}"
                      f"{latency}", False, data_destination=key, data_receiver=who)
    foot = bottom + 22
    legend(svg, 12, foot, [("square", _blue(0.12), "few"), ("square", _blue(1.0), "many delivered"),
                           ("cross", LOST, "lost: nobody received it")])
    cut = []
    if len(destinations) > len(rows):
        cut.append(f"first {len(rows)} of {len(destinations)} destinations")
    if len(receivers) > len(columns):
        cut.append(f"first {len(columns)} of {len(receivers)} receivers")
    if cut:
        svg.text(12, foot + 22, " and ".join(cut) + " drawn: narrow with sockets= or window=", class_="small muted")
    return Picture("delivery", svg.markup(), data, title)
