"""`MulticastLab`: groups, senders and receivers across virtual hosts, and who got what.

The panel drives a `MulticastSetup` (one LAN, two LANs and a router, or ``lo``): per host a
receiver that joins and leaves the group and a sender with its TTL, loopback and interface,
and **Send** for a burst. Every click is a real ``Gio.Socket`` call on the panel's worker
thread. A pump redraws, only when the recording or the setup changed, one HTML widget: the
delivery matrix (`gsocklab.plots.delivery`), a sequence diagram of the last calls, and
``Recorder.diagnose``'s findings ("why didn't I receive?").
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped, unused-ignore]

from .. import GLib, plots
from ..record import Recorder
from . import _html
from ._multicast_setup import DEFAULT_GROUPS, LO_LIMITS, STATIONS, TOPOLOGIES, MulticastSetup
from ._pump import Pump, busy_cell, close_all, route_to_sender

__all__ = ["MulticastLab"]

_SEQUENCE_ROWS = 60  # the last calls the sequence diagram draws
_BOX = '<div style="max-height:460px;overflow:auto;margin-top:4px">{}</div>'


class _Row:
    """The widgets of one station."""

    def __init__(self, name: str) -> None:
        small = widgets.Layout(width="auto")
        self.title = widgets.HTML()
        self.join = widgets.Button(description="Join", layout=small)
        self.leave = widgets.Button(description="Leave", layout=small)
        self.ttl = widgets.BoundedIntText(value=1, min=0, max=255, description="TTL",
                                          layout=widgets.Layout(width="110px"), style={"description_width": "30px"})
        self.loopback = widgets.Checkbox(value=True, description="loopback", indent=False, layout=small)
        self.interface = widgets.Dropdown(options=["default"], value="default", layout=widgets.Layout(width="95px"))
        self.send = widgets.Button(description="Send", layout=small, button_style="primary")
        for button, kind in ((self.join, "join"), (self.leave, "leave"), (self.send, "send")):
            button.add_class(f"gs-{kind}")
        self.box = widgets.HBox([self.title, self.join, self.leave, self.ttl, self.loopback, self.interface,
                                 self.send])
        self.box.add_class("gs-station")
        self.box.add_class(f"gs-station-{name}")

    @property
    def controls(self) -> tuple[Any, ...]:
        return self.join, self.leave, self.ttl, self.loopback, self.interface, self.send


class MulticastLab:
    """A multicast lab panel; display it (last expression of a cell, or ``lab.widget``).

    ``topology``: ``"one_lan"``, ``"two_lans"`` or ``"lo"`` (see `TOPOLOGIES`; all can be
    picked again in the panel, with **Build**); ``family``: ``"IPV4"``/``"IPV6"``; ``ssm``:
    source-specific (receivers accept only the source host picked in the panel); ``recorder``:
    where every call is recorded (a new `Recorder` if none). ``lab.setup`` is the
    `MulticastSetup` (stations, network), for scripts and tests: ``lab.submit("join", "h2")``
    does what the button does, ``lab.wait_idle()`` waits for it.
    """

    def __init__(self, topology: str = "one_lan", *, family: str = "IPV4", ssm: bool = False, port: int = 5000,
                 recorder: Recorder | None = None, burst: int = 5, rate: float = 5.0, mode: str | None = None) -> None:
        if topology not in TOPOLOGIES:
            raise ValueError(f"topology must be one of {', '.join(TOPOLOGIES)}, not {topology!r}")
        if family not in ("IPV4", "IPV6"):
            raise ValueError(f"family must be 'IPV4' or 'IPV6', not {family!r}")
        self._owns_recorder = recorder is None
        self.recorder = recorder if recorder is not None else Recorder()
        self.mode = mode
        self.setup: MulticastSetup | None = None
        self.result, self.error = "", ""
        self.findings: Any = None
        self._lock = threading.Lock()
        self._version = 0
        self._shown: object = None
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._rows: dict[str, _Row] = {}
        self.running: str | None = None
        self._build_controls(topology, family, ssm, port, burst)
        busy_cell()
        self._worker = threading.Thread(target=self._work, name="gsocklab-multicast-lab", daemon=True)
        self._worker.start()
        self.submit("build")
        self.pump = Pump(self.refresh, rate, name="gsocklab-multicast-pump")
        self.pump.start()

    # -- widgets -------------------------------------------------------------------------------

    def _build_controls(self, topology: str, family: str, ssm: bool, port: int, burst: int) -> None:
        small = widgets.Layout(width="auto")
        self.topology = widgets.Dropdown(options=[(text, key) for key, text in TOPOLOGIES.items()], value=topology,
                                         layout=widgets.Layout(width="330px"))
        self.family = widgets.Dropdown(options=["IPV4", "IPV6"], value=family, layout=widgets.Layout(width="80px"))
        self.ssm = widgets.Checkbox(value=ssm, description="source-specific", indent=False, layout=small)
        self.source = widgets.Dropdown(options=["h1"], value="h1", description="source",
                                       layout=widgets.Layout(width="140px"), style={"description_width": "48px"})
        self.group = widgets.Text(value=DEFAULT_GROUPS[(family, ssm)], description="group",
                                  layout=widgets.Layout(width="200px"), style={"description_width": "40px"})
        self.port = widgets.BoundedIntText(value=port, min=1, max=65535, description="port",
                                           layout=widgets.Layout(width="130px"), style={"description_width": "30px"})
        self.build = widgets.Button(description="Build", layout=small, button_style="warning")
        self.build.add_class("gs-build")
        self.burst = widgets.BoundedIntText(value=burst, min=1, max=1000, description="burst",
                                            layout=widgets.Layout(width="130px"), style={"description_width": "40px"})
        self.loss = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="router loss",
                                        readout_format=".0%", continuous_update=False)
        self.delay = widgets.BoundedFloatText(value=0.0, min=0.0, max=2.0, step=0.05, description="delay s",
                                              layout=widgets.Layout(width="150px"))
        self.stations = widgets.VBox()
        self.display = widgets.HTML()
        self.build.on_click(lambda _: self.submit("build"))
        for control in (self.family, self.ssm):
            control.observe(lambda _: self._default_group(), names="value")
        for control in (self.loss, self.delay):
            control.observe(lambda _: self.submit("link"), names="value")
        self.router_row = widgets.HBox([self.loss, self.delay])
        self.widget = widgets.VBox([
            widgets.HBox([self.topology, self.family, self.ssm, self.source]),
            widgets.HBox([self.group, self.port, self.build, self.burst]),
            self.stations, self.router_row, self.display,
        ])
        self.widget.add_class("gs-multicast-lab")
        route_to_sender(self.topology, self.family, self.ssm, self.source, self.group, self.port, self.build,
                        self.burst, self.loss, self.delay)

    def _default_group(self) -> None:
        if self.group.value in DEFAULT_GROUPS.values():
            self.group.value = DEFAULT_GROUPS[(self.family.value, bool(self.ssm.value))]

    def _ipython_display_(self) -> None:
        from IPython.display import display  # type: ignore[import-not-found, unused-ignore]

        display(self.widget)  # type: ignore[no-untyped-call, unused-ignore]

    def _station_rows(self, setup: MulticastSetup) -> None:
        """One row of controls per station of ``setup`` (made on the worker, after a build)."""
        rows = {}
        for name in setup.stations:
            row = _Row(name)
            row.interface.options = setup.interface_choices(name)
            row.interface.value = setup.stations[name].interface
            row.join.on_click(lambda _, n=name: self.submit("join", n))
            row.leave.on_click(lambda _, n=name: self.submit("leave", n))
            row.send.on_click(lambda _, n=name: self.submit("send", n))
            row.ttl.observe(lambda change, n=name: self.submit("ttl", n, change["new"]), names="value")
            row.loopback.observe(lambda change, n=name: self.submit("loopback", n, change["new"]), names="value")
            row.interface.observe(lambda change, n=name: self.submit("interface", n, change["new"]), names="value")
            route_to_sender(*row.controls)
            rows[name] = row
        old = list(self._rows.values())
        self._rows = rows
        self.stations.children = [row.box for row in rows.values()]
        self.router_row.layout.display = "" if setup.router is not None else "none"
        if list(self.source.options) != list(setup.stations):
            self.source.options = list(setup.stations)
        if setup.source is not None:
            self.source.value = setup.source
        for row in old:
            close_all(row.box)

    # -- the worker ------------------------------------------------------------------------------

    def submit(self, action: str, *args: Any) -> None:
        """Queue ``action`` (``build``, ``join``, ``leave``, ``send``, ``ttl``, ``loopback``, ``interface``,
        ``link``) with its arguments, as the buttons do; it runs on the panel's worker."""
        method = getattr(self, f"_do_{action}", None)
        if method is None:
            raise ValueError(f"no such action: {action!r}")
        self._jobs.put(lambda: self._run(action, lambda: method(*args)))
        self._changed()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued action ran; whether it did within ``timeout`` seconds."""
        done = threading.Event()
        self._jobs.put(done.set)
        return done.wait(timeout)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            job()

    def _run(self, name: str, action: Callable[[], str]) -> None:
        with self._lock:
            self.running = name
        self._changed()
        try:
            result, error = action(), ""
        except GLib.Error as exc:
            code = exc.code.name if hasattr(exc.code, "name") else exc.code
            result, error = "", f"{name}: {code}: {exc.message}"
        except KeyError as exc:  # an unknown station: its text, without KeyError's quotes
            result, error = "", f"{name}: {exc.args[0] if exc.args else exc}"
        except Exception as exc:  # a bad field, or a network this machine cannot build: shown, not raised
            result, error = "", f"{name}: {exc}"
        with self._lock:
            self.running, self.result, self.error = None, result, error
        self._changed()

    def _setup(self) -> MulticastSetup:
        if self.setup is None:
            raise RuntimeError("no topology built yet: press Build")
        return self.setup

    def _do_build(self) -> str:
        old, self.setup = self.setup, None
        if old is not None:
            old.close()
        if self._owns_recorder:
            self.recorder.clear()
        topology = self.topology.value
        names = STATIONS[topology]
        source = (self.source.value if self.source.value in names else names[0]) if self.ssm.value else None
        setup = MulticastSetup(topology, family=self.family.value, group=self.group.value.strip() or None,
                               source=source, port=int(self.port.value), recorder=self.recorder, mode=self.mode)
        self.setup = setup
        self._station_rows(setup)
        return f"built {TOPOLOGIES[topology]}"

    def _do_join(self, name: str) -> str:
        return self._setup().join(name)

    def _do_leave(self, name: str) -> str:
        return self._setup().leave(name)

    def _do_ttl(self, name: str, ttl: int) -> str:
        return self._setup().set_ttl(name, int(ttl))

    def _do_loopback(self, name: str, on: bool) -> str:
        return self._setup().set_loopback(name, bool(on))

    def _do_interface(self, name: str, interface: str) -> str:
        return self._setup().set_interface(name, interface)

    def _do_link(self) -> str:
        setup = self._setup()
        if setup.router is None:
            return "this topology has no router"
        return setup.set_link(float(self.loss.value), float(self.delay.value))

    def _do_send(self, name: str) -> str:
        got = self._setup().send_burst(name, int(self.burst.value))
        return f"{name} sent {int(self.burst.value)}: " + ", ".join(f"{k} got {v}" for k, v in got.items())

    # -- drawing -----------------------------------------------------------------------------------

    def _changed(self) -> None:
        with self._lock:
            self._version += 1

    def refresh(self) -> bool:
        """Redraw if the recording or the lab changed (what the pump calls); whether it drew."""
        recorder = self.recorder
        recorder.store_pending()
        with self._lock:
            key = (self._version, recorder.rows_recorded, busy_cell())
            if key == self._shown:
                return False
            running, result, error = self.running, self.result, self.error
        setup = self.setup
        parts = [self._titles(setup)]
        if running:
            parts.append(_html.message("running", f"{running}…"))
        elif error:
            parts.append(_html.message("error", error))
        elif result:
            parts.append(_html.message("ok", result))
        if setup is not None and setup.topology == "lo":
            parts.append(f'<div class="gs-note" style="color:#555">{_html.esc(LO_LIMITS)}</div>')
        if setup is not None and recorder.rows_recorded:
            parts.append(self._pictures(setup))
        value = "".join(parts)
        if value != self.display.value:
            self.display.value = value
        with self._lock:
            self._shown = key
        return True

    def _titles(self, setup: MulticastSetup | None) -> str:
        if setup is None:
            return ""
        for name, station in setup.stations.items():
            row = self._rows.get(name)
            if row is None:
                continue
            mark = ('<span class="gs-joined" data-joined="1" style="color:#009E73">● joined</span>' if station.joined
                    else '<span class="gs-joined" data-joined="0" style="color:#999">○ not joined</span>')
            where = f"LAN {station.lan} · " if station.lan else ""
            title = (f'<b>{_html.esc(name)}</b> <span style="color:#666">{_html.esc(where)}'
                     f'{_html.esc(station.address)}</span> {mark} · got {station.received}')
            if row.title.value != title:
                row.title.value = title
        return (f'<div class="gs-setup">group <code>{_html.esc(setup.group_text)}</code> port {setup.port}'
                + (f" · only from <b>{_html.esc(setup.source)}</b>" if setup.source else "") + "</div>")

    def _pictures(self, setup: MulticastSetup) -> str:
        recorder = self.recorder
        out = []
        try:
            out.append(_BOX.format(plots.delivery(recorder).svg))
            frame = recorder.tail(_SEQUENCE_ROWS)
            out.append(_BOX.format(plots.sequence(frame).svg))
        except Exception as exc:  # a picture that cannot be drawn says why; the lab goes on
            out.append(_html.message("error", f"picture: {exc}"))
        diagnose = getattr(recorder, "diagnose", None)
        if callable(diagnose):
            try:
                findings = diagnose(network=setup.network)
            except Exception as exc:
                out.append(_html.message("error", f"diagnose: {exc}"))
            else:
                self.findings = findings
                if len(findings):
                    out.append('<div class="gs-findings"><b>Why didn\'t I receive?</b>'
                               + _html.table(findings, ("socket", "seq", "code", "evidence", "fix")) + "</div>")
        return "".join(out)

    def close(self) -> None:
        """Stop the panel, close its sockets and network."""
        self.pump.stop()
        self._jobs.put(None)
        self._worker.join(timeout=30)
        if self.setup is not None:
            self.setup.close()
        close_all(self.widget)
