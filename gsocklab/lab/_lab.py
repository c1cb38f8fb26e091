"""`Lab`: several `SocketPanel`s and a `TrafficView` over one `Recorder`, in one cell."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped, unused-ignore]

from .. import Gio
from ..record import Recorder
from ._pump import close_all
from ._socket_panel import SocketPanel
from ._traffic_view import TrafficView

__all__ = ["Lab"]


class Lab:
    """Panels for ``sockets`` (or ``peers`` new UDP sockets) side by side, and a live view of their traffic.

    Every socket is attached to ``recorder`` (a new `Recorder` if none is given) under its
    label (``labels``, default ``peer1``, ``peer2``, …). A connection that a panel accepts
    gets a panel of its own. ``lab.panels``, ``lab.view`` and ``lab.recorder`` give the
    parts; ``lab.close()`` stops them and closes the sockets the lab made.
    """

    def __init__(self, peers: int = 2, *, sockets: list[Gio.Socket] | None = None, recorder: Recorder | None = None,
                 labels: list[str] | None = None, rate: float = 5.0) -> None:
        if not isinstance(peers, int) or isinstance(peers, bool) or not 1 <= peers <= 8:
            raise ValueError(f"peers must be an int from 1 to 8, not {peers!r}")
        self.recorder = recorder if recorder is not None else Recorder()
        given = list(sockets) if sockets is not None else [None] * peers
        names = list(labels) if labels is not None else [f"peer{i + 1}" for i in range(len(given))]
        if len(names) != len(given):
            raise ValueError(f"{len(names)} labels for {len(given)} sockets")
        self._made = [i for i, sock in enumerate(given) if sock is None]
        self._given = len(given)
        self.panels = [SocketPanel(sock, recorder=self.recorder, label=name, rate=rate)
                       for sock, name in zip(given, names)]
        self.view = TrafficView(self.recorder, rate=rate)
        self._row = widgets.HBox([panel.widget for panel in self.panels],
                                 layout=widgets.Layout(flex_flow="row wrap"))
        self.widget = widgets.VBox([self._row, self.view.widget])
        self.widget.add_class("gs-lab")
        for panel in self.panels:
            panel.on_accept.append(self._accepted)

    def _accepted(self, conn: Gio.Socket) -> None:
        panel = SocketPanel(conn, recorder=self.recorder, label=f"{conn.label}")
        panel.on_accept.append(self._accepted)
        self.panels.append(panel)
        self._row.children = [*self._row.children, panel.widget]

    def _ipython_display_(self) -> None:
        from IPython.display import display  # type: ignore[import-not-found, unused-ignore]

        display(self.widget)  # type: ignore[no-untyped-call, unused-ignore]

    def close(self) -> None:
        """Stop every panel and the view; close the sockets the lab made itself."""
        for i, panel in enumerate(self.panels):
            panel.close()
            if i in self._made or i >= self._given:  # made here, or accepted by a panel
                panel.sock.close()
        self.view.close()
        close_all(self.widget)

    def __getattr__(self, name: str) -> Any:  # lab.peer1 → its panel
        for panel in self.__dict__.get("panels", []):
            if panel.sock.label == name:
                return panel
        raise AttributeError(name)
