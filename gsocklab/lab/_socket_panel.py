"""`SocketPanel`: buttons and fields that drive one `Gio.Socket`, and a live view of its state.

Every button runs the real ``Gio.Socket`` call, through the public API only, so a
`Recorder` records it like any other call. The call runs on the panel's worker thread, one
at a time: a click returns at once (a blocking ``Receive`` or ``Accept`` never freezes the
notebook), and **Close** works while a call waits, since ``close()`` from any thread ends
it with ``CLOSED``. What the panel shows (addresses, state, the readiness light, the last
result or error with its hint) is kept in plain attributes under a lock and drawn by the
panel's pump (`gsocklab.lab._pump`), a few times a second, only when it changed, as one
HTML widget (one message). Callbacks never print or display anything, and clicks run on the
thread the front end sends them to (`route_to_sender`).
"""

from __future__ import annotations

import queue
import select
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets  # type: ignore[import-untyped, unused-ignore]
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from .. import Gio, GLib
from . import _html
from ._pump import Pump, busy_cell, close_all, route_to_sender

__all__ = ["SocketPanel"]

_CONDITIONS = (("IN", int(GLib.IOCondition.IN)), ("OUT", int(GLib.IOCondition.OUT)),
               ("HUP", int(GLib.IOCondition.HUP)), ("ERR", int(GLib.IOCondition.ERR)))
_PROTOCOLS = {"DATAGRAM": "UDP", "STREAM": "TCP", "SEQPACKET": "DEFAULT"}


def parse_address(text: str, family: Gio.SocketFamily) -> Gio.SocketAddress:
    """``host:port``, ``[v6]:port`` or a unix path as a socket address; ``ValueError`` saying why not."""
    text = text.strip()
    if family == Gio.SocketFamily.UNIX:
        if not text:
            raise ValueError("enter a path for the unix socket")
        return Gio.UnixSocketAddress.new(text)
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{text!r} is not host:port (for example 127.0.0.1:5000)")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    address = Gio.InetSocketAddress.new_from_string(host, int(port))
    if address is None or int(port) > 65535:
        raise ValueError(f"{text!r} is not an IP address and port")
    return address


def _address_text(address: Any) -> str:
    if address is None:
        return "—"
    if isinstance(address, Gio.InetSocketAddress) and address.get_port() == 0:
        return "not bound"
    return str(address.to_string())


class SocketPanel:
    """A control panel for one socket; display it (it is the last expression of a cell, or ``panel.widget``).

    ``SocketPanel()`` makes a UDP/IPv4 socket (pick another family and type and press
    **New socket**); ``SocketPanel(sock)`` drives an existing one. With ``recorder``, the
    socket is attached to it (with ``label``) and an error shows the recorder's hint. The
    panel's state is in attributes too, for tests and scripts: ``result``, ``error``,
    ``hint``, ``received`` (the last payload), ``accepted`` (sockets from **Accept**).
    """

    def __init__(self, sock: Gio.Socket | None = None, *, recorder: Any = None, label: str | None = None,
                 rate: float = 5.0) -> None:
        if sock is not None and not isinstance(sock, Gio.Socket):
            raise TypeError(f"sock must be a Gio.Socket or None, not {type(sock).__name__}")
        self.recorder = recorder
        self._lock = threading.Lock()
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._version = 0  # bumped by every change of what the panel shows
        self._shown: object = None  # what the last drawing showed
        self.result, self.error, self.hint = "", "", ""
        self.received: bytes | None = None
        self.accepted: list[Gio.Socket] = []
        self.on_accept: list[Callable[[Gio.Socket], object]] = []
        self.running: str | None = None  # the call the worker is in
        self._build_widgets()
        self.sock = sock if sock is not None else self._new_socket()
        if recorder is not None:
            recorder.attach(self.sock, label=label)
        elif label is not None:
            self.sock.label = label
        self._read_options()
        busy_cell()  # registers the cell-running hooks from the main thread
        self._worker = threading.Thread(target=self._work, name="gsocklab-panel", daemon=True)
        self._worker.start()
        self.pump = Pump(self.refresh, rate, name="gsocklab-panel-pump")
        self.refresh()
        self.pump.start()

    # -- widgets ---------------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        def text(**kwargs: Any) -> widgets.Text:
            return widgets.Text(layout=widgets.Layout(width="220px"), style={"description_width": "70px"}, **kwargs)

        small = widgets.Layout(width="auto")
        number = widgets.Layout(width="160px")
        self.family_picker = widgets.Dropdown(options=["IPV4", "IPV6", "UNIX"], value="IPV4", layout=small)
        self.type_picker = widgets.Dropdown(options=["DATAGRAM", "STREAM"], value="DATAGRAM", layout=small)
        self.title = widgets.HTML()
        self.local = text(value="127.0.0.1:0", description="local", placeholder="127.0.0.1:0")
        self.remote = text(value="", description="remote", placeholder="127.0.0.1:5000")
        self.payload = text(value="hello", description="payload")
        self.hex = widgets.Checkbox(value=False, description="hex", indent=False, layout=small)
        self.size = widgets.BoundedIntText(value=2048, min=0, max=1 << 20, description="size", layout=number)
        self.group = text(value="239.255.10.10", description="group")
        self.iface = text(value="lo", description="interface")
        self.blocking = widgets.Checkbox(description="blocking", indent=False, layout=small)
        self.timeout = widgets.BoundedIntText(min=0, max=3600, description="timeout s", layout=number)
        self.ttl = widgets.BoundedIntText(min=0, max=255, description="TTL", layout=number)
        self.multicast_ttl = widgets.BoundedIntText(min=0, max=255, description="mcast TTL", layout=number)
        self.multicast_loopback = widgets.Checkbox(description="mcast loopback", indent=False, layout=small)
        self.broadcast = widgets.Checkbox(description="broadcast", indent=False, layout=small)
        self.keepalive = widgets.Checkbox(description="keepalive", indent=False, layout=small)
        self.state, self.light, self.message, self.busy = _Part(), _Part(), _Part(), _Part()
        self.info = widgets.HTML()  # state, light, result and busy note: one message per refresh
        self.buttons: dict[str, widgets.Button] = {}
        for name in ("New socket", "Bind", "Connect", "Listen", "Accept", "Send", "Receive", "Join", "Leave",
                     "Close"):
            button = widgets.Button(description=name, layout=widgets.Layout(width="auto"))
            button.add_class(f"gs-{name.lower().replace(' ', '-')}")
            button.on_click(self._clicked(name))
            self.buttons[name] = button
        for name in ("blocking", "timeout", "ttl", "multicast_ttl", "multicast_loopback", "broadcast", "keepalive"):
            getattr(self, name).observe(self._option_changed(name), names="value")
        b = self.buttons
        row = widgets.HBox
        self.widget = widgets.VBox([
            row([self.title, self.family_picker, self.type_picker, b["New socket"]]),
            row([self.local, b["Bind"], b["Listen"], b["Accept"]]),
            row([self.remote, b["Connect"]]),
            row([self.payload, self.hex, b["Send"]]),
            row([self.size, b["Receive"]]),
            row([self.group, self.iface, b["Join"], b["Leave"]]),
            row([self.blocking, self.timeout, self.ttl]),
            row([self.multicast_ttl, self.multicast_loopback, self.broadcast, self.keepalive]),
            b["Close"], self.info,
        ])
        self.widget.layout = widgets.Layout(width="500px", border="1px solid #ddd", padding="4px", margin="2px")
        route_to_sender(*self.buttons.values(), self.local, self.remote, self.payload, self.hex, self.size,
                        self.group, self.iface, self.blocking, self.timeout, self.ttl, self.multicast_ttl,
                        self.multicast_loopback, self.broadcast, self.keepalive, self.family_picker,
                        self.type_picker)
        self.widget.add_class("gs-socket-panel")

    def _ipython_display_(self) -> None:
        from IPython.display import display  # type: ignore[import-not-found, unused-ignore]

        display(self.widget)  # type: ignore[no-untyped-call, unused-ignore]

    # -- the worker: one call at a time, off the callback's thread --------------------------------

    def _clicked(self, name: str) -> Callable[[Any], None]:
        def clicked(_: Any) -> None:
            self.submit(name)

        return clicked

    def submit(self, name: str) -> None:
        """Queue the action of button ``name`` (what a click does); it runs on the panel's worker."""
        action = getattr(self, "_do_" + name.lower().replace(" ", "_"), None)
        if action is None:
            raise ValueError(f"no such action: {name!r}")
        if name == "Close":  # at once, from this thread: it must end a call the worker waits in
            self._run(name, action)
            return
        self._jobs.put(lambda: self._run(name, action))
        self._changed()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queued action ran (for tests and scripts); whether it did in ``timeout`` s."""
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
            result, error, hint = action(), "", ""
        except GLib.Error as exc:
            result, error, hint = "", f"{name}: {exc.code.name if hasattr(exc.code, 'name') else exc.code}: " \
                                      f"{exc.message}", self._hint_for(exc)
        except (ValueError, TypeError, OverflowError) as exc:  # bad input in a field
            result, error, hint = "", f"{name}: {exc}", ""
        with self._lock:
            self.running = None
            self.result, self.error, self.hint = result, error, hint
        self._changed()

    def _hint_for(self, exc: GLib.Error) -> str:
        """The recorder's hint for the call that just failed, if a recorder watches this socket."""
        recorder = self.recorder
        if recorder is None:
            return ""
        try:
            recorder.flush()
            rows = recorder.tail(20)
        except Exception:  # a hint is a nicety; the error itself is shown anyway
            return ""
        mine = rows[(rows["socket"] == self.sock.label) & rows["error"].notna()]
        if not len(mine):
            return ""
        hint = mine["hint"].iloc[-1]
        return "" if pd.isna(hint) else str(hint)

    # -- the actions (each returns the text of its result) ----------------------------------------

    def _new_socket(self) -> Gio.Socket:
        family = Gio.SocketFamily[self.family_picker.value]
        kind = Gio.SocketType[self.type_picker.value]
        protocol = Gio.SocketProtocol[_PROTOCOLS[kind.name]] if family != Gio.SocketFamily.UNIX else (
            Gio.SocketProtocol.DEFAULT)
        sock = Gio.Socket.new(family, kind, protocol)
        sock.set_timeout(5)  # a blocking call from a panel never waits forever
        return sock

    def _do_new_socket(self) -> str:
        old = self.sock
        self.sock = self._new_socket()
        label = old.label
        old.close()
        if self.recorder is not None:
            self.recorder.attach(self.sock, label=label)
        else:
            self.sock.label = label
        self._read_options()
        return f"new socket {self.sock.label} (was {label})"

    def _do_bind(self) -> str:
        self.sock.bind(parse_address(self.local.value, self.sock.get_family()), True)
        return f"bound to {_address_text(self.sock.get_local_address())}"

    def _do_connect(self) -> str:
        self.sock.connect(parse_address(self.remote.value, self.sock.get_family()))
        return f"connected to {self.remote.value.strip()}"

    def _do_listen(self) -> str:
        self.sock.listen()
        return "listening"

    def _do_accept(self) -> str:
        conn = self.sock.accept()
        self.accepted.append(conn)
        for callback in list(self.on_accept):
            callback(conn)
        return f"accepted {conn.label} from {_address_text(conn.get_remote_address())}"

    def _payload_bytes(self) -> bytes:
        text = str(self.payload.value)
        if self.hex.value:
            try:
                return bytes.fromhex(text)
            except ValueError:
                raise ValueError(f"payload is not hex: {text!r}") from None
        return text.encode()

    def _do_send(self) -> str:
        data = self._payload_bytes()
        if self.sock.is_connected() or self.sock.get_socket_type() != Gio.SocketType.DATAGRAM:
            sent = self.sock.send(data)
            return f"sent {sent} bytes"
        to = parse_address(self.remote.value, self.sock.get_family())
        sent = self.sock.send_to(to, data)
        return f"sent {sent} bytes to {_address_text(to)}"

    def _do_receive(self) -> str:
        size = int(self.size.value)
        if self.sock.get_socket_type() == Gio.SocketType.DATAGRAM:
            count, source, data = self.sock.receive_from(None, size)
            origin = f" from {_address_text(source)}"
        else:
            count, data = self.sock.receive(None, size)
            origin = ""
        self.received = bytes(data)
        return f"received {count} bytes{origin}: {_html.payload_text(self.received)}"

    def _membership(self) -> tuple[Gio.InetAddress, str | None]:
        group = Gio.InetAddress.new_from_string(self.group.value.strip())
        if group is None or not group.get_is_multicast():
            raise ValueError(f"{self.group.value!r} is not a multicast group address")
        return group, self.iface.value.strip() or None

    def _do_join(self) -> str:
        group, iface = self._membership()
        self.sock.join_multicast_group(group, False, iface)
        return f"joined {group.to_string()}" + (f" on {iface}" if iface else "")

    def _do_leave(self) -> str:
        group, iface = self._membership()
        self.sock.leave_multicast_group(group, False, iface)
        return f"left {group.to_string()}"

    def _do_close(self) -> str:
        self.sock.close()
        return "closed"

    # -- options: each change is the real set_* call ----------------------------------------------

    def _read_options(self) -> None:
        sock = self.sock
        self._reading: Gio.Socket | None = sock
        try:
            values = {"blocking": sock.get_blocking(), "timeout": sock.get_timeout(), "ttl": 0,
                      "multicast_ttl": 0, "multicast_loopback": False, "broadcast": False,
                      "keepalive": sock.get_keepalive()}
            if sock.get_family() != Gio.SocketFamily.UNIX and sock.get_socket_type() == Gio.SocketType.DATAGRAM:
                values.update(ttl=sock.get_ttl(), multicast_ttl=sock.get_multicast_ttl(),
                              multicast_loopback=sock.get_multicast_loopback(), broadcast=sock.get_broadcast())
            for name, value in values.items():
                getattr(self, name).value = value
        except GLib.Error:
            pass  # a closed socket: the fields keep what they showed
        finally:
            self._reading = None

    def _option_changed(self, name: str) -> Callable[[dict[str, Any]], None]:
        def changed(change: dict[str, Any]) -> None:
            if getattr(self, "_reading", None) is not None:
                return  # the panel itself is filling in the fields
            value = change["new"]
            setter = getattr(self.sock, f"set_{name}")
            self._jobs.put(lambda: self._run(f"set_{name}", lambda: (setter(value), f"{name} = {value}")[1]))
            self._changed()

        return changed

    # -- drawing ----------------------------------------------------------------------------------

    def _changed(self) -> None:
        with self._lock:
            self._version += 1

    def refresh(self) -> bool:
        """Draw the panel if anything changed since the last time (what the pump calls); whether it drew."""
        sock = self.sock
        closed = sock.is_closed()
        condition = None if closed else _ready(sock)
        busy = busy_cell()
        with self._lock:
            key = (self._version, condition, closed, busy)
            if key == self._shown:
                return False
            self._shown = key
            running, result, error, hint = self.running, self.result, self.error, self.hint
        state = "closed" if closed else "connected" if sock.is_connected() else "open"
        local = "—" if closed else _address_text(_quiet(sock.get_local_address))
        remote = "—" if closed or not sock.is_connected() else _address_text(_quiet(sock.get_remote_address))
        with self.widget.hold_sync():
            self.title.value = (f'<b class="gs-label">{_html.esc(sock.label)}</b> '
                                f'<span style="color:#666">{_html.esc(sock.get_family().name)} '
                                f'{_html.esc(sock.get_socket_type().name)}</span>')
            self.state.value = (f'<div class="gs-state" data-state="{state}">state <b>{state}</b> · local '
                                f'<code>{_html.esc(local)}</code> · remote <code>{_html.esc(remote)}</code></div>')
            self.light.value = _html.light(condition, _CONDITIONS)
            if running:
                self.message.value = _html.message("running", f"{running}…")
            elif error:
                self.message.value = _html.message("error", error, hint)
            elif result:
                self.message.value = _html.message("ok", result)
            self.busy.value = ('<div class="gs-busy" style="color:#a60">kernel busy: a cell is running; without '
                               "comms over subshells, clicks wait until it ends</div>") if busy else ""
            self.info.value = self.light.value + self.state.value + self.message.value + self.busy.value
        return True

    def close(self) -> None:
        """Stop the panel's threads and close its widgets (the socket stays as it is)."""
        self.pump.stop()
        self._jobs.put(None)
        close_all(self.widget)


class _Part:
    """One part of the panel's status HTML (``value``); the parts are sent together."""

    def __init__(self) -> None:
        self.value = ""


def _ready(sock: Gio.Socket) -> int | None:
    """What ``condition_check(IN | OUT | HUP | ERR)`` would say, without the call.

    The light polls the descriptor (``get_fd()``) itself, as ``condition_check`` does, so
    that five looks a second do not fill the recording with ``condition_check`` rows.
    """
    fd = sock.get_fd()
    if fd < 0:
        return None
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLOUT | select.POLLPRI)
    events = dict(poller.poll(0)).get(fd, 0)
    if events & select.POLLNVAL:
        return None  # closed meanwhile
    return sum(bit for flag, bit in ((select.POLLIN, _CONDITIONS[0][1]), (select.POLLOUT, _CONDITIONS[1][1]),
                                     (select.POLLHUP, _CONDITIONS[2][1]), (select.POLLERR, _CONDITIONS[3][1]))
               if events & flag)


def _quiet(getter: Callable[[], Any]) -> Any:
    try:
        return getter()
    except GLib.Error:
        return None
