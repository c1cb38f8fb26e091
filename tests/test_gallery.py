"""The README's gallery: every picture drawn from one real recording, kept in ``docs/gallery/``.

The scenario (all on 127.0.0.1 and ``lo``): a sensor sends readings to a collector, one of
them to a port nobody reads; the collector waits with a timeout and polls without blocking;
a multicast announcement reaches two listeners; a batch of readings goes out in one call
and comes back in a receive that asks for more than arrived.

``GSOCKLAB_UPDATE_GALLERY=1 pytest tests/test_gallery.py`` rewrites the SVG files. Every other
run draws the same pictures afresh and checks that the committed files still have the same
structure (the same kinds and numbers of marks, the same error codes): ports and timings
differ from run to run, what the pictures show does not.
"""

from __future__ import annotations

import os
import socket
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gsocklab import Gio, GLib, plots
from gsocklab.record import Recorder

GALLERY = Path(__file__).resolve().parents[1] / "docs" / "gallery"
F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
GROUP = "239.255.42.7"


def _udp(label: str, rec: Recorder, host: str = "127.0.0.1", port: int = 0) -> Any:
    sock = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
    rec.attach(sock, label=label)
    sock.bind(Gio.InetSocketAddress.new_from_string(host, port), host != "127.0.0.1")
    sock.set_timeout(1)
    return sock


@pytest.fixture(scope="module")
def recording() -> Iterator[Recorder]:
    rec = Recorder()
    sockets: list[Any] = []
    try:
        sensor, collector, nobody = (_udp(name, rec) for name in ("sensor", "collector", "nobody"))
        sockets += [sensor, collector, nobody]
        listeners = [_udp("listener-1", rec, "0.0.0.0")]
        port = listeners[0].get_local_address().get_port()
        listeners.append(_udp("listener-2", rec, "0.0.0.0", port))
        sockets += listeners
        group = Gio.InetAddress.new_from_string(GROUP)
        with rec:
            to = collector.get_local_address()
            for i in range(3):
                sensor.send_to(to, f"reading {i}".encode())
                collector.receive_from(None, size=256)
            sensor.send_to(nobody.get_local_address(), b"lost reading")
            with pytest.raises(GLib.Error):
                collector.receive_from(None, size=256)  # TIMED_OUT after 1 s
            collector.set_blocking(False)
            with pytest.raises(GLib.Error):
                collector.receive(None, size=256)  # WOULD_BLOCK
            for listener in listeners:
                listener.join_multicast_group(group, False, "lo")
            sensor.set_option(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                              int.from_bytes(socket.inet_aton("127.0.0.1"), "little"))
            sensor.send_to(Gio.InetSocketAddress.new(group, port), b"hello, group")
            for listener in listeners:
                listener.receive_from(None, size=256)
            batch = [Gio.OutputMessage(address=to, vectors=[Gio.OutputVector(buffer=b"batched reading %d" % i)])
                     for i in range(6)]
            sensor.send_messages(batch, 0)
            inbox = [Gio.InputMessage(vectors=[Gio.InputVector(size=256)]) for _ in range(10)]
            collector.receive_messages(inbox, 0)
        yield rec
    finally:
        for sock in sockets:
            sock.close()


def _structure(svg: str) -> Counter[str]:
    """What a picture shows, without ports and timings: its marks by class, and error codes."""
    root = ET.fromstring(svg)
    shape: Counter[str] = Counter()
    shape[f"root:{root.get('class')}"] += 1
    for element in root.iter():
        for cls in (element.get("class") or "").split():
            if cls in ("lifeline", "lane", "call", "flow", "lost", "error", "note", "wait", "series", "batch",
                       "partial", "cell"):
                shape[cls] += 1
        if element.get("data-error"):
            shape[f"error:{element.get('data-error')}"] += 1
    return shape


PICTURES = {
    "sequence": lambda rec: plots.sequence(rec),
    "timeline": lambda rec: plots.timeline(rec),
    "io-graph": lambda rec: plots.io_graph(rec),
    "batches": lambda rec: plots.batches(rec),
    "delivery": lambda rec: plots.delivery(rec),
}


@pytest.mark.parametrize("name", list(PICTURES))
def test_gallery_picture(recording: Recorder, name: str) -> None:
    picture = PICTURES[name](recording)
    path = GALLERY / f"{name}.svg"
    if os.environ.get("GSOCKLAB_UPDATE_GALLERY") == "1":
        GALLERY.mkdir(parents=True, exist_ok=True)
        picture.save(path)
    assert path.exists(), f"{path} is missing: run GSOCKLAB_UPDATE_GALLERY=1 pytest tests/test_gallery.py"
    assert _structure(path.read_text(encoding="utf-8")) == _structure(picture.svg), (
        f"{path.name} no longer shows what the code draws: run GSOCKLAB_UPDATE_GALLERY=1 pytest tests/test_gallery.py")
