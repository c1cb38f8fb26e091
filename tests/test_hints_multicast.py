"""The multicast hints say only what the recording and the socket's settings prove.

Regressions: with TTL 0 and loopback off on ``lo`` the receivers got the datagram, yet the
hint said nobody on the host would; ``not_joined`` said only joined sockets receive, which is
false on Linux (``IP_MULTICAST_ALL``). Now a send hint shows the actual TTL, is silent when the
recording shows the datagram received, and is given for a datagram that went nowhere. The lab
tests need `gsocklab.netlab` (skipped with the probe's reason where it cannot run, failed
instead with ``GSOCKLAB_REQUIRE_NETLAB=1``). Every receive is bounded.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from gsocklab import Gio, GLib, netlab
from gsocklab.record import Recorder, _analysis
from gsocklab.record._hints import HINTS

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
MISS = 0.2
MULTICAST_HINTS = {name for name in HINTS if name.startswith("multicast_")}
_groups = itertools.count(1)

NETLAB = netlab.probe()
needs_netlab = pytest.mark.skipif(
    NETLAB.mode is None and os.environ.get("GSOCKLAB_REQUIRE_NETLAB") != "1",
    reason=f"no lab network on this machine: {NETLAB.reason}")


def sa(host: str, port: int) -> Gio.InetSocketAddress:
    address = Gio.InetSocketAddress.new_from_string(host, port)
    assert address is not None
    return address


def receive(sock: Gio.Socket, timeout: float = 1.0) -> bytes | None:
    try:
        data, _ = sock.receive_bytes_from(2048, int(timeout * 1e6), None)
    except GLib.Error as error:
        if error.code != Gio.IOErrorEnum.TIMED_OUT:
            raise
        return None
    return bytes(data)


def send_hints(rec: Recorder) -> list[str | None]:
    """The hint of every send to a group, in order (None where there is none)."""
    df = rec.df
    sends = df[(df["op"] == "send_to").fillna(False)]
    return [None if pd.isna(hint) else str(hint) for hint in sends["hint"]]


def names(hints: list[str | None]) -> list[str | None]:
    by_text = {text: name for name, text in HINTS.items()}
    return [None if hint is None else by_text[hint] for hint in hints]


@pytest.fixture
def made() -> Iterator[list[Gio.Socket]]:
    sockets: list[Gio.Socket] = []
    yield sockets
    for sock in sockets:
        if not sock.is_closed():
            sock.close()


@pytest.fixture(scope="module")
def lan() -> Iterator[Any]:
    if NETLAB.mode is None:
        pytest.fail(f"GSOCKLAB_REQUIRE_NETLAB=1 but no lab network here: {NETLAB.reason}")
    with netlab.one_lan(2) as net:
        yield net


def test_ttl_0_loopback_off_on_lo_received_gives_no_hint(made: list[Gio.Socket]) -> None:
    group, rec = f"239.255.88.{next(_groups)}", Recorder()
    with rec:
        receivers = []
        for _ in range(2):
            rx = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
            made.append(rx)
            rx.bind(sa("0.0.0.0", receivers[0].get_local_address().get_port() if receivers else 0), True)
            rx.join_multicast_group(Gio.InetAddress.new_from_string(group), False, "lo")
            receivers.append(rx)
        tx = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
        made.append(tx)
        tx.bind(sa("127.0.0.1", 0), False)
        tx.set_multicast_ttl(0)
        tx.set_multicast_loopback(False)
        tx.send_to(sa(group, receivers[0].get_local_address().get_port()), b"still here")
        assert [receive(rx) for rx in receivers] == [b"still here", b"still here"]
    assert send_hints(rec) == [None]
    assert not set(rec.df["hint"].dropna()) & {HINTS[name] for name in MULTICAST_HINTS}


@needs_netlab
def test_ttl_0_loopback_off_across_hosts_names_ttl_0(made: list[Gio.Socket], lan: Any) -> None:
    group, rec = f"239.88.0.{next(_groups)}", Recorder()
    with rec:
        receivers = {}
        for host in ("h1", "h2"):
            rx = lan.host(host).socket(F.IPV4, T.DATAGRAM, P.UDP)
            made.append(rx)
            rx.bind(sa("0.0.0.0", 0), True)
            rx.join_multicast_group(Gio.InetAddress.new_from_string(group), False, "eth0")
            receivers[host] = rx
        tx = lan.host("h1").socket(F.IPV4, T.DATAGRAM, P.UDP)
        made.append(tx)
        tx.set_multicast_ttl(0)
        tx.set_multicast_loopback(False)
        for host, rx in receivers.items():
            tx.send_to(sa(group, rx.get_local_address().get_port()), f"to {host}".encode())
        assert [receive(rx, MISS) for rx in receivers.values()] == [None, None]
    hints = send_hints(rec)
    assert names(hints) == ["multicast_nowhere", "multicast_nowhere"]
    assert "the TTL is 0" in hints[0]
    assert "TTL is 1" not in hints[0]


@needs_netlab
def test_ttl_0_hint_is_silent_when_the_host_received_it(made: list[Gio.Socket], lan: Any) -> None:
    group, rec = f"239.88.0.{next(_groups)}", Recorder()
    with rec:
        home = lan.host("h1").socket(F.IPV4, T.DATAGRAM, P.UDP)
        away = lan.host("h2").socket(F.IPV4, T.DATAGRAM, P.UDP)
        made.extend([home, away])
        for rx in (home, away):
            rx.bind(sa("0.0.0.0", 0), True)
            rx.join_multicast_group(Gio.InetAddress.new_from_string(group), False, "eth0")
        tx = lan.host("h1").socket(F.IPV4, T.DATAGRAM, P.UDP)
        made.append(tx)
        tx.set_multicast_ttl(0)
        tx.send_to(sa(group, home.get_local_address().get_port()), b"home")  # loopback on: h1 gets it
        tx.send_to(sa(group, away.get_local_address().get_port()), b"away")  # h2 cannot
        assert receive(home) == b"home"
        assert receive(away, MISS) is None
    assert names(send_hints(rec)) == [None, "multicast_ttl_zero"]


@needs_netlab
def test_loopback_off_hint_is_silent_when_another_host_received_it(made: list[Gio.Socket], lan: Any) -> None:
    group, rec = f"239.88.0.{next(_groups)}", Recorder()
    with rec:
        away = lan.host("h2").socket(F.IPV4, T.DATAGRAM, P.UDP)
        made.append(away)
        away.bind(sa("0.0.0.0", 0), True)
        away.join_multicast_group(Gio.InetAddress.new_from_string(group), False, "eth0")
        tx = lan.host("h1").socket(F.IPV4, T.DATAGRAM, P.UDP)
        made.append(tx)
        tx.set_multicast_loopback(False)
        tx.send_to(sa(group, away.get_local_address().get_port()), b"over there")
        tx.send_to(sa(group, 9), b"to nobody")
        assert receive(away) == b"over there"
    hints = send_hints(rec)
    assert names(hints) == [None, "multicast_lan_only"]
    assert "the TTL is 1" in str(hints[1])


def test_not_joined_text_is_true_on_linux(made: list[Gio.Socket]) -> None:
    text = HINTS["not_joined"]
    assert "only while another socket on its host is a member" in text
    assert "reach only sockets that joined" not in text
    group, rec = f"239.255.88.{next(_groups)}", Recorder()
    with rec:
        rx = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
        made.append(rx)
        rx.bind(sa("0.0.0.0", 0), True)
        tx = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
        made.append(tx)
        tx.bind(sa("127.0.0.1", 0), False)
        tx.send_to(sa(group, rx.get_local_address().get_port()), b"members only")
        assert receive(rx, MISS) is None
    df = rec.df
    assert df.loc[df["error"] == "TIMED_OUT", "hint"].tolist() == [text]


def test_flows_is_not_worked_out_without_a_candidate_send(monkeypatch: pytest.MonkeyPatch,
                                                          made: list[Gio.Socket]) -> None:
    """Hints stay cheap: flows() runs only when some multicast send would get a hint."""
    def refuse(df: pd.DataFrame) -> pd.DataFrame:
        raise AssertionError("flows() was called")

    monkeypatch.setattr(_analysis, "flows", refuse)
    rec = Recorder()
    with rec:
        tx = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
        made.append(tx)
        tx.bind(sa("127.0.0.1", 0), False)
        tx.send_to(sa(f"239.255.88.{next(_groups)}", 9), b"defaults")
        tx.set_multicast_loopback(False)
        tx.send_to(sa(f"239.255.88.{next(_groups)}", 9), b"from lo")  # bound to 127.0.0.1: no hint either
    assert send_hints(rec) == [None, None]
