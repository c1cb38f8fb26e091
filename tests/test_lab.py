"""Widget panels without a kernel (issue 11): buttons run real calls, fields report bad input, text is escaped.

ipywidgets works outside a kernel (its comms are dummies), so a click is ``button.click()``,
which runs the same handlers as a click in the browser. Actions run on the panel's worker
thread: each test waits for it with ``wait_idle`` (bounded). Sockets are on 127.0.0.1 with
the panel's 5 s socket timeout as the safety net.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import ipywidgets as widgets
import pytest

from gsocklab import Gio, GLib
from gsocklab.lab import Lab, SocketPanel, TrafficView, parse_address
from gsocklab.record import Recorder

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


@pytest.fixture
def lab() -> Iterator[Lab]:
    lab = Lab()
    try:
        yield lab
    finally:
        lab.close()
        widgets.Widget.close_all()


def _bound(lab: Lab) -> tuple[SocketPanel, SocketPanel]:
    a, b = lab.panels
    a.buttons["Bind"].click()
    b.buttons["Bind"].click()
    assert a.wait_idle()
    assert b.wait_idle()
    a.remote.value = b.sock.get_local_address().to_string()
    return a, b


def _view_rows(lab: Lab) -> str:
    lab.recorder.flush()
    lab.view.refresh()
    return str(lab.view.table.value)


def test_bind_send_receive_move_a_datagram_and_are_recorded(lab: Lab) -> None:
    a, b = _bound(lab)
    assert a.error == ""
    assert a.result.startswith("bound to 127.0.0.1:")
    a.payload.value = "hello"
    a.buttons["Send"].click()
    assert a.wait_idle()
    b.buttons["Receive"].click()
    assert b.wait_idle()
    assert b.received == b"hello"
    assert b.result.startswith("received 5 bytes from 127.0.0.1:")
    df = lab.recorder.df
    ops = df[["socket", "op"]].astype(str).values.tolist()
    assert ["peer1", "send_to"] in ops
    assert ["peer2", "receive_from"] in ops
    rows = _view_rows(lab)
    assert "send_to" in rows
    assert "receive_from" in rows
    a.refresh()
    assert "state <b>open</b>" in a.state.value
    assert 'data-on="1"' in a.light.value, "a bound UDP socket is writable: OUT lights up"
    assert "condition_check" not in set(df["op"].astype(str)), "the light does not fill the recording"


def test_hostile_payloads_are_shown_as_text(lab: Lab) -> None:
    a, b = _bound(lab)
    a.payload.value = HOSTILE
    a.buttons["Send"].click()
    b.buttons["Receive"].click()
    assert a.wait_idle()
    assert b.wait_idle()
    b._shown = None
    b.refresh()
    for html in (b.message.value, _view_rows(lab)):
        assert "<script>" not in html
        assert "<img" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_hex_payload(lab: Lab) -> None:
    a, b = _bound(lab)
    a.hex.value = True
    a.payload.value = "00ff 10"
    a.buttons["Send"].click()
    b.buttons["Receive"].click()
    assert a.wait_idle()
    assert b.wait_idle()
    assert b.received == b"\x00\xff\x10"
    a.payload.value = "zz"
    a.buttons["Send"].click()
    assert a.wait_idle()
    assert a.error == "Send: payload is not hex: 'zz'"


@pytest.mark.parametrize(("field", "value", "button", "expected"), [
    ("local", "nonsense", "Bind", "Bind: 'nonsense' is not host:port (for example 127.0.0.1:5000)"),
    ("local", "300.1.1.1:5", "Bind", "Bind: '300.1.1.1:5' is not an IP address and port"),
    ("remote", "127.0.0.1:99999", "Connect", "Connect: '127.0.0.1:99999' is not an IP address and port"),
    ("group", "10.0.0.1", "Join", "Join: '10.0.0.1' is not a multicast group address"),
])
def test_bad_input_is_reported_in_the_panel(lab: Lab, field: str, value: str, button: str, expected: str) -> None:
    panel = lab.panels[0]
    getattr(panel, field).value = value
    panel.buttons[button].click()  # never raises out of the callback
    assert panel.wait_idle()
    assert panel.error == expected
    panel.refresh()
    assert "gs-error" in panel.message.value


def test_socket_errors_show_the_code_and_the_recorders_hint(lab: Lab) -> None:
    _, b = _bound(lab)
    b.blocking.value = False
    assert b.wait_idle()
    b.buttons["Receive"].click()
    assert b.wait_idle()
    assert b.error.startswith("Receive: WOULD_BLOCK: ")
    assert b.hint, "the recorder's hint for WOULD_BLOCK"
    b.refresh()
    assert "hint:" in b.message.value


def test_options_run_the_real_setters(lab: Lab) -> None:
    panel = lab.panels[0]
    panel.timeout.value = 3
    panel.ttl.value = 7
    panel.multicast_loopback.value = False
    panel.broadcast.value = True
    assert panel.wait_idle()
    sock = panel.sock
    assert (sock.get_timeout(), sock.get_ttl(), sock.get_multicast_loopback(), sock.get_broadcast()) == (
        3, 7, False, True)
    lab.recorder.flush()
    ops = set(lab.recorder.df["op"].astype(str))
    assert {"set_timeout", "set_ttl", "set_multicast_loopback", "set_broadcast"} <= ops


def test_close_ends_a_receive_the_worker_waits_in(lab: Lab) -> None:
    _, b = _bound(lab)
    b.buttons["Receive"].click()  # nothing queued: the worker waits (socket timeout 5 s)
    deadline = time.monotonic() + 2
    while b.running != "Receive" and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.monotonic()
    b.buttons["Close"].click()
    assert b.wait_idle()
    assert time.monotonic() - start < 1.0
    assert b.error == "Receive: CLOSED: Socket is already closed"
    b.refresh()
    assert 'data-state="closed"' in b.state.value


def test_close_from_a_panel_ends_a_receive_blocked_elsewhere() -> None:
    """What a Close click does to a cell blocked in receive(): it ends it with CLOSED."""
    sock = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    sock.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    sock.set_timeout(5)
    panel = SocketPanel(sock)
    errors: list[Any] = []

    def blocked() -> None:
        try:
            sock.receive(None, 64)
        except GLib.Error as exc:
            errors.append(exc.code)

    thread = threading.Thread(target=blocked)
    try:
        thread.start()
        time.sleep(0.2)
        panel.buttons["Close"].click()
        thread.join(2)
        assert not thread.is_alive()
        assert errors == [Gio.IOErrorEnum.CLOSED]
    finally:
        panel.close()
        sock.close()


def test_listen_accept_connect_makes_a_panel_for_the_connection() -> None:
    lab = Lab(labels=["server", "client"])
    try:
        server, client = lab.panels
        for panel in (server, client):
            panel.type_picker.value = "STREAM"
            panel.buttons["New socket"].click()
            assert panel.wait_idle()
        assert (server.sock.label, client.sock.label) == ("server", "client"), "a new socket keeps the label"
        assert lab.server is server
        server.buttons["Bind"].click()
        server.buttons["Listen"].click()
        assert server.wait_idle()
        client.remote.value = server.sock.get_local_address().to_string()
        client.buttons["Connect"].click()
        assert client.wait_idle()
        server.buttons["Accept"].click()
        assert server.wait_idle()
        assert server.error == ""
        assert len(server.accepted) == 1
        assert len(lab.panels) == 3, "the accepted connection got a panel"
        conn = lab.panels[2]
        client.payload.value = "over tcp"
        client.buttons["Send"].click()
        conn.buttons["Receive"].click()
        assert client.wait_idle()
        assert conn.wait_idle()
        assert conn.received == b"over tcp"
    finally:
        lab.close()
        widgets.Widget.close_all()


def test_traffic_view_counts_filters_and_pauses(lab: Lab) -> None:
    a, b = _bound(lab)
    for i in range(3):
        a.payload.value = f"m{i}"
        a.buttons["Send"].click()
        b.buttons["Receive"].click()
    b.blocking.value = False
    b.buttons["Receive"].click()  # WOULD_BLOCK
    assert a.wait_idle()
    assert b.wait_idle()
    view = lab.view
    lab.recorder.flush()
    assert view.refresh()
    assert not view.refresh(), "nothing changed: nothing is sent"
    counters = view.counters.value
    assert "<b>out</b> 3 msg / 6 B" in counters
    assert "<b>in</b> 3 msg / 6 B" in counters
    assert 'data-code="WOULD_BLOCK"' in counters
    view.socket_filter.value = "peer1"
    view.refresh()
    assert "receive_from" not in view.table.value
    view.socket_filter.value = "(all)"
    view.errors_only.value = True
    view.refresh()
    assert view.table.value.count("<tr class=\"gs-row-error\"") == view.table.value.count("<tr ") >= 1
    view.pause.value = True
    view.refresh()
    assert "paused" in view.status.value
    assert "gsocklab-timeline" in view.picture.value, "the default live picture"
    view.picture_kind.value = "sequence"
    view.pause.value = False
    view.refresh()
    assert "gsocklab-sequence" in view.picture.value


def test_the_pumps_refresh_only_when_something_changed() -> None:
    rec = Recorder()
    view = TrafficView(rec, rate=10)
    try:
        time.sleep(0.5)
        sent = view.sent
        time.sleep(0.5)
        assert view.sent == sent, "an idle recording sends nothing"
        assert view.pump.running
    finally:
        view.close()
        widgets.Widget.close_all()


def test_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match=r"sock must be a Gio\.Socket"):
        SocketPanel("not a socket")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="recorder must be"):
        TrafficView(object())
    with pytest.raises(ValueError, match="rows"):
        TrafficView(Recorder(), rows=0)
    with pytest.raises(ValueError, match="peers"):
        Lab(0)
    with pytest.raises(ValueError, match="rate"):
        TrafficView(Recorder(), rate=50)
    assert parse_address("[::1]:80", Gio.SocketFamily.IPV6).to_string() == "[::1]:80"
    widgets.Widget.close_all()


def test_import_gsocklab_does_not_import_widgets() -> None:
    import subprocess
    import sys

    code = "import sys, gsocklab; print('ipywidgets' in sys.modules, 'IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False"]
