"""Misuse: wrong argument types, closed sockets, pre-cancelled calls, unconnected sockets,
invalid addresses, GLib's precondition failures (which gsocklab raises), and a leak check
over thousands of failing calls.

GLib only logs a CRITICAL and returns FALSE/0 for a failed precondition; gsocklab raises
``GLib.Error`` instead (code chosen by gsocklab: only a non-empty message is asserted).
Wrong argument types raise ``TypeError`` naming the parameter, as PyGObject does.
"""

from __future__ import annotations

import gc
import os
import socket
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Sockets, fd_count, loopback, unused_port

from gsocklab import Gio, GLib

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
IN, OUT = GLib.IOCondition.IN, GLib.IOCondition.OUT
E = Gio.IOErrorEnum
CLOSED_MESSAGE = "Socket is already closed"


def error_of(fn: Callable[[], Any]) -> GLib.Error:
    """The ``GLib.Error`` that ``fn`` raises (fails the test if it raises nothing)."""
    with pytest.raises(GLib.Error) as info:
        fn()
    assert info.value.domain == "g-io-error-quark"
    return info.value


def cancelled() -> Gio.Cancellable:
    c = Gio.Cancellable()
    c.cancel()
    return c


# --------------------------------------------------------------------------------------------
# Wrong argument types: TypeError naming the parameter
# --------------------------------------------------------------------------------------------

WRONG_TYPES: list[tuple[str, str, Callable[[Any, Any], Any]]] = [
    ("new family str", "family", lambda s, u: Gio.Socket.new("ipv4", T.STREAM, P.DEFAULT)),
    ("new family out of enum", "family", lambda s, u: Gio.Socket.new(9999, T.STREAM, P.DEFAULT)),
    ("new type str", "type", lambda s, u: Gio.Socket.new(F.IPV4, "stream", P.DEFAULT)),
    ("new protocol str", "protocol", lambda s, u: Gio.Socket.new(F.IPV4, T.STREAM, "tcp")),
    ("new_from_fd str", "fd", lambda s, u: Gio.Socket.new_from_fd("3")),
    ("bind str", "address", lambda s, u: s.bind("127.0.0.1:0", True)),
    ("bind None", "address", lambda s, u: s.bind(None, True)),
    ("bind InetAddress", "address", lambda s, u: s.bind(Gio.InetAddress.new_loopback(F.IPV4), True)),
    ("connect None", "address", lambda s, u: s.connect(None, None)),
    ("connect tuple", "address", lambda s, u: s.connect(("127.0.0.1", 1), None)),
    ("connect cancellable", "cancellable", lambda s, u: s.connect(loopback(F.IPV4, 1), object())),
    ("accept cancellable", "cancellable", lambda s, u: s.accept("cancel")),
    ("send str", "buffer", lambda s, u: s.send("text", None)),
    ("send int", "buffer", lambda s, u: s.send(5, None)),
    ("send cancellable", "cancellable", lambda s, u: s.send(b"x", 1)),
    ("send_to str address", "address", lambda s, u: u.send_to("127.0.0.1", b"x", None)),
    ("send_to str buffer", "buffer", lambda s, u: u.send_to(loopback(F.IPV4, 9), "x", None)),
    ("send_with_blocking str", "buffer", lambda s, u: u.send_with_blocking("x", False, None)),
    ("receive size str", "size", lambda s, u: u.receive(None, "10")),
    ("receive cancellable", "cancellable", lambda s, u: u.receive(object())),
    ("receive_from size str", "size", lambda s, u: u.receive_from(None, "10")),
    ("receive_bytes size str", "size", lambda s, u: u.receive_bytes("10", 0, None)),
    ("receive_bytes timeout str", "timeout_us", lambda s, u: u.receive_bytes(10, "0", None)),
    ("receive_bytes_from timeout", "timeout_us", lambda s, u: u.receive_bytes_from(10, 1.5, None)),
    ("set_timeout str", "timeout", lambda s, u: s.set_timeout("5")),
    ("set_ttl str", "ttl", lambda s, u: u.set_ttl("x")),
    ("set_multicast_ttl str", "ttl", lambda s, u: u.set_multicast_ttl("x")),
    ("set_listen_backlog str", "backlog", lambda s, u: s.set_listen_backlog("3")),
    ("condition_timed_wait str", "timeout_us", lambda s, u: s.condition_timed_wait(IN, "1000", None)),
    ("condition_timed_wait cancellable", "cancellable", lambda s, u: s.condition_timed_wait(IN, 0, "c")),
    ("condition_check str", "condition", lambda s, u: s.condition_check("in")),
    ("condition_wait str", "condition", lambda s, u: s.condition_wait("in", None)),
    ("get_option str", "optname", lambda s, u: s.get_option(socket.SOL_SOCKET, "b")),
    ("set_option str level", "level", lambda s, u: s.set_option("a", 1, 1)),
    ("set_option str value", "value", lambda s, u: s.set_option(socket.SOL_SOCKET, socket.SO_BROADCAST, "1")),
    ("join str group", "group", lambda s, u: u.join_multicast_group("239.255.0.1", False, "lo")),
    ("join iface int", "iface", lambda s, u: u.join_multicast_group(Gio.InetAddress.new_from_string(
        "239.255.0.1"), False, 5)),
    ("join_ssm str source", "source_specific", lambda s, u: u.join_multicast_group_ssm(
        Gio.InetAddress.new_from_string("239.255.0.1"), "127.0.0.1", "lo")),
    ("leave str group", "group", lambda s, u: u.leave_multicast_group(b"239.255.0.1", False, "lo")),
]


@pytest.mark.parametrize(("param", "call"), [(p, c) for _, p, c in WRONG_TYPES], ids=[i for i, _, _ in WRONG_TYPES])
def test_wrong_type_raises_type_error_naming_the_parameter(
    sockets: Sockets, param: str, call: Callable[[Any, Any], Any]
) -> None:
    s = sockets.new(F.IPV4, T.STREAM)
    u = sockets.new(F.IPV4, T.DATAGRAM)
    u.bind(loopback(F.IPV4), True)
    with pytest.raises(TypeError) as info:
        call(s, u)
    assert param in str(info.value)


def test_enum_members_and_their_int_values_are_accepted(sockets: Sockets) -> None:
    """Drop-in code passes ints that are enum values (appendix A.0 uses protocol 0)."""
    s = sockets.add(Gio.Socket.new(int(F.IPV4), int(T.DATAGRAM), 0))
    assert s.get_family() == F.IPV4
    assert s.get_socket_type() == T.DATAGRAM
    assert s.get_protocol() == P.DEFAULT
    assert s.condition_check(int(OUT)) & OUT


# --------------------------------------------------------------------------------------------
# Closed sockets
# --------------------------------------------------------------------------------------------


def test_closed_socket_every_io_call_is_closed(sockets: Sockets) -> None:
    s = sockets.new(F.IPV4, T.DATAGRAM)
    s.bind(loopback(F.IPV4), True)
    assert s.close() is True
    assert s.close() is True
    group = Gio.InetAddress.new_from_string("239.255.0.2")
    calls: list[Callable[[], Any]] = [
        lambda: s.bind(loopback(F.IPV4), True),
        s.listen,
        lambda: s.accept(None),
        lambda: s.accept(cancelled()),  # CLOSED is checked before the cancellable (§1.3)
        lambda: s.connect(loopback(F.IPV4, 9), None),
        lambda: s.connect(loopback(F.IPV4, 9), cancelled()),
        s.check_connect_result,
        lambda: s.send(b"x", None),
        lambda: s.send(b"x", cancelled()),
        lambda: s.send_to(loopback(F.IPV4, 9), b"x", None),
        lambda: s.send_with_blocking(b"x", True, None),
        lambda: s.receive(None),
        lambda: s.receive(cancelled()),
        lambda: s.receive_with_blocking(False, None),
        lambda: s.receive_from(None),
        lambda: s.receive_bytes(10, 0, None),
        lambda: s.receive_bytes_from(10, -1, None),
        lambda: s.shutdown(False, False),
        lambda: s.shutdown(True, True),
        lambda: s.condition_wait(IN, None),
        lambda: s.condition_timed_wait(IN, 0, None),
        s.get_credentials,
        lambda: s.get_option(socket.SOL_SOCKET, socket.SO_TYPE),
        lambda: s.set_option(socket.SOL_SOCKET, socket.SO_BROADCAST, 1),
        lambda: s.join_multicast_group(group, False, "lo"),
        lambda: s.leave_multicast_group(group, False, "lo"),
        lambda: s.join_multicast_group_ssm(group, None, "lo"),
        lambda: s.leave_multicast_group_ssm(group, None, "lo"),
    ]
    for call in calls:
        e = error_of(call)
        assert (e.code, e.message) == (E.CLOSED, CLOSED_MESSAGE)
    assert s.condition_check(IN | OUT) == 0
    assert s.get_available_bytes() == -1
    assert s.get_fd() == -1
    assert s.is_closed()
    assert not s.is_connected()
    assert error_of(s.get_local_address).message == "could not get local address: Bad file descriptor"
    assert error_of(s.get_remote_address).message == "could not get remote address: Bad file descriptor"
    assert s.props.local_address is None
    s.set_blocking(False)
    s.set_timeout(2)
    assert (s.get_blocking(), s.get_timeout(), s.speaks_ipv4()) == (False, 2, True)


# --------------------------------------------------------------------------------------------
# Pre-cancelled cancellables: CANCELLED before any syscall, nothing consumed or sent
# --------------------------------------------------------------------------------------------


def test_precancelled_receives_leave_data_queued(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    b.send_to(a.get_local_address(), b"keep me", None)
    assert a.condition_timed_wait(IN, 2_000_000, None)
    for call in (
        lambda c: a.receive(c),
        lambda c: a.receive_with_blocking(False, c),
        lambda c: a.receive_with_blocking(True, c),
        lambda c: a.receive_from(c),
        lambda c: a.receive_bytes(100, 0, c),
        lambda c: a.receive_bytes_from(100, -1, c),
    ):
        e = error_of(lambda call=call: call(cancelled()))
        assert (e.code, e.message) == (E.CANCELLED, "Operation was cancelled")
        assert a.get_available_bytes() == 7
    a.set_blocking(False)
    error_of(lambda: a.receive(cancelled()))
    assert a.receive(None) == (7, b"keep me")


def test_precancelled_sends_send_nothing(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    for call in (
        lambda c: b.send_to(a.get_local_address(), b"no", c),
        lambda c: b.send_with_blocking(b"no", False, c),
    ):
        assert error_of(lambda call=call: call(cancelled())).code == E.CANCELLED
    b.connect(a.get_local_address(), None)
    assert error_of(lambda: b.send(b"no", cancelled())).code == E.CANCELLED
    time.sleep(0.05)
    assert a.get_available_bytes() == 0
    assert a.condition_check(IN) == 0


@pytest.mark.parametrize("blocking", [True, False], ids=["blocking", "nonblocking"])
def test_precancelled_accept_and_connect(sockets: Sockets, blocking: bool) -> None:
    """HEAD (§0.1): nothing happens — no connection attempt, the pending connection stays."""
    listener = sockets.new(F.IPV4, T.STREAM)
    listener.bind(loopback(F.IPV4), True)
    listener.listen()
    listener.set_blocking(blocking)
    client = sockets.new(F.IPV4, T.STREAM)
    client.set_blocking(blocking)
    assert error_of(lambda: client.connect(listener.get_local_address(), cancelled())).code == E.CANCELLED
    assert not client.is_connected()
    time.sleep(0.05)
    assert listener.condition_check(IN) == 0  # no connection was attempted
    with socket.create_connection(("127.0.0.1", listener.get_local_address().get_port()), timeout=5):
        assert listener.condition_timed_wait(IN, 2_000_000, None)
        assert error_of(lambda: listener.accept(cancelled())).code == E.CANCELLED
        assert listener.condition_check(IN) & IN  # still pending
        sockets.add(listener.accept(None))


def test_precancelled_waits(udp_pair: tuple[Any, Any]) -> None:
    a, _ = udp_pair
    for call in (
        lambda: a.condition_wait(OUT, cancelled()),
        lambda: a.condition_timed_wait(OUT, 0, cancelled()),
        lambda: a.condition_timed_wait(OUT, -1, cancelled()),
    ):
        assert error_of(call).code == E.CANCELLED


def test_reset_cancellable_works_again(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    c = cancelled()
    assert error_of(lambda: a.condition_wait(OUT, c)).code == E.CANCELLED
    c.reset()
    assert a.condition_wait(OUT, c) is True
    b.send_to(a.get_local_address(), b"ok", None)
    assert a.condition_timed_wait(IN, 2_000_000, c)
    assert a.receive(c) == (2, b"ok")


# --------------------------------------------------------------------------------------------
# Unbound / unconnected misuse and invalid addresses (gsocklab-side; exact texts in conformance)
# --------------------------------------------------------------------------------------------


def test_unconnected_misuse(sockets: Sockets) -> None:
    t = sockets.new(F.IPV4, T.STREAM)
    u = sockets.new(F.IPV4, T.DATAGRAM)
    cases: list[tuple[Callable[[], Any], E, str, type[BaseException] | None]] = [
        (lambda: t.send(b"x", None), E.BROKEN_PIPE, "Error sending data: Broken pipe", BrokenPipeError),
        (lambda: t.receive(None), E.NOT_CONNECTED, "Error receiving data: Transport endpoint is not connected", None),
        (lambda: t.shutdown(False, True), E.NOT_CONNECTED,
         "Unable to shutdown socket: Transport endpoint is not connected", None),
        (t.get_remote_address, E.NOT_CONNECTED,
         "could not get remote address: Transport endpoint is not connected", None),
        (lambda: t.accept(None), E.INVALID_ARGUMENT, "Error accepting connection: Invalid argument", None),
        (u.listen, E.NOT_SUPPORTED, "could not listen: Operation not supported", None),
        (lambda: u.accept(None), E.NOT_SUPPORTED, "Error accepting connection: Operation not supported", None),
        (lambda: u.send(b"x", None), E.DESTINATION_UNSET, "Error sending data: Destination address required", None),
        (lambda: u.send_to(None, b"x", None), E.DESTINATION_UNSET,
         "Error sending message: Destination address required", None),
    ]
    for call, code, message, pyclass in cases:
        e = error_of(call)
        assert (e.code, e.message) == (code, message)
        if pyclass is not None:
            assert isinstance(e, pyclass)


def test_invalid_addresses(sockets: Sockets, tmp_path: Path) -> None:
    v4 = sockets.new(F.IPV4, T.STREAM)
    e = error_of(lambda: v4.bind(loopback(F.IPV6), False))
    assert (e.code, e.message) == (
        E.NOT_SUPPORTED, "Error binding to address [::1]:0: Address family not supported by protocol")
    e = error_of(lambda: v4.connect(loopback(F.IPV6, 9), None))
    assert (e.code, e.message) == (E.NOT_SUPPORTED, "Address family not supported by protocol")
    assert error_of(lambda: v4.bind(Gio.UnixSocketAddress.new(str(tmp_path / "x")), True)).message
    refused = error_of(lambda: sockets.new(F.IPV4, T.STREAM).connect(loopback(F.IPV4, 0), None))
    assert refused.code == E.CONNECTION_REFUSED
    assert isinstance(refused, ConnectionRefusedError)
    unix = sockets.new(F.UNIX, T.STREAM)
    e = error_of(lambda: unix.connect(Gio.UnixSocketAddress.new(str(tmp_path / "missing")), None))
    assert (e.code, e.message) == (E.NOT_FOUND, "No such file or directory")
    assert error_of(lambda: unix.bind(loopback(F.IPV4), True)).message


def test_new_failures() -> None:
    cases = [
        ((F.INVALID, T.STREAM, P.DEFAULT), E.INVALID_ARGUMENT, "Unable to create socket: Unknown family was specified"),
        ((F.IPV4, T.STREAM, P.UNKNOWN), E.INVALID_ARGUMENT, "Unable to create socket: Unknown protocol was specified"),
        ((F.UNIX, T.STREAM, P.TCP), E.NOT_SUPPORTED, "Unable to create socket: Protocol not supported"),
        ((F.IPV4, T.DATAGRAM, P.TCP), E.NOT_SUPPORTED, "Unable to create socket: Protocol not supported"),
        ((F.IPV4, T.SEQPACKET, P.DEFAULT), E.NOT_SUPPORTED, "Unable to create socket: Socket type not supported"),
    ]
    for args, code, message in cases:
        e = error_of(lambda args=args: Gio.Socket.new(*args))
        assert (e.code, e.message) == (code, message)


# --------------------------------------------------------------------------------------------
# GLib preconditions (CRITICAL + FALSE in GLib) raise in gsocklab
# --------------------------------------------------------------------------------------------


def test_preconditions_raise(sockets: Sockets) -> None:
    stream = sockets.new(F.IPV4, T.STREAM)
    unix = sockets.new(F.UNIX, T.DATAGRAM)
    dgram = sockets.new(F.IPV6, T.DATAGRAM)
    group = Gio.InetAddress.new_from_string("239.255.0.3")
    calls: list[Callable[[], Any]] = [
        lambda: stream.join_multicast_group(group, False, "lo"),
        lambda: stream.leave_multicast_group(group, False, "lo"),
        lambda: stream.join_multicast_group_ssm(group, None, "lo"),
        lambda: dgram.join_multicast_group_ssm(Gio.InetAddress.new_from_string("ff35::3"), None, ""),
        unix.get_ttl,
        lambda: unix.set_ttl(3),
        unix.get_multicast_ttl,
        lambda: unix.set_multicast_ttl(3),
        unix.get_multicast_loopback,
        lambda: unix.set_multicast_loopback(False),
        lambda: dgram.receive_bytes(0, 0, None),  # size 0: buffer != NULL fails (§2.6)
    ]
    for call in calls:
        assert error_of(call).message
    stream.listen()
    assert error_of(lambda: stream.set_listen_backlog(3)).message
    assert stream.get_listen_backlog() == 10


# --------------------------------------------------------------------------------------------
# Thousands of failing calls leak no file descriptor
# --------------------------------------------------------------------------------------------


def _failing_calls(listener: Any, listener_addr: Any, refused: Any) -> list[Callable[[], Any]]:
    """One failing call of each kind; each makes (and closes) whatever it needs."""

    def new_bad_protocol() -> None:
        Gio.Socket.new(F.IPV4, T.DATAGRAM, P.TCP)

    def new_from_pipe() -> None:
        r, w = os.pipe()
        try:
            Gio.Socket.new_from_fd(r)  # fails, and (like GLib, §1.2) closes r
        finally:
            os.close(w)

    def new_from_closed_fd() -> None:
        fd = os.open("/dev/null", os.O_RDONLY)
        os.close(fd)
        Gio.Socket.new_from_fd(fd)

    def init_failure() -> None:
        s = Gio.Socket(family=F.INVALID, type=T.STREAM, protocol=P.DEFAULT)
        s.init(None)

    def with_socket(family: Any, type_: Any, action: Callable[[Any], Any]) -> Callable[[], None]:
        def call() -> None:
            s = Gio.Socket.new(family, type_, P.DEFAULT)
            s.set_timeout(5)
            try:
                action(s)
            finally:
                s.close()

        return call

    def precancelled_wait(s: Any) -> None:
        c = Gio.Cancellable()
        c.get_fd()
        c.cancel()
        s.condition_wait(IN, c)

    def wait_with_cancellable(s: Any) -> None:
        s.condition_timed_wait(IN, 0, Gio.Cancellable())

    def closed_send() -> None:
        s = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.DEFAULT)
        s.close()
        s.send_to(refused, b"x", None)

    def nonblocking_receive(s: Any) -> None:
        s.set_blocking(False)
        s.receive(None)

    def nonblocking_accept() -> None:
        listener.accept(None)

    return [
        new_bad_protocol,
        new_from_pipe,
        new_from_closed_fd,
        lambda: Gio.Socket.new_from_fd(-1),
        init_failure,
        with_socket(F.IPV4, T.STREAM, lambda s: s.bind(listener_addr, True)),
        with_socket(F.IPV4, T.STREAM, lambda s: s.connect(refused, None)),
        with_socket(F.IPV4, T.STREAM, lambda s: s.accept(None)),
        with_socket(F.IPV4, T.STREAM, lambda s: s.send(b"x", None)),
        with_socket(F.IPV4, T.DATAGRAM, lambda s: s.listen()),
        with_socket(F.IPV4, T.DATAGRAM, nonblocking_receive),
        with_socket(F.IPV4, T.DATAGRAM, precancelled_wait),
        with_socket(F.IPV4, T.DATAGRAM, wait_with_cancellable),
        with_socket(F.UNIX, T.STREAM, lambda s: s.connect(Gio.UnixSocketAddress.new("/nonexistent/gsocklab"), None)),
        closed_send,
        nonblocking_accept,
    ]


def test_thousands_of_failures_leak_no_fds(sockets: Sockets) -> None:
    listener = sockets.new(F.IPV4, T.STREAM)
    listener.bind(loopback(F.IPV4), True)
    listener.listen()
    listener.set_blocking(False)
    refused = loopback(F.IPV4, unused_port())
    calls = _failing_calls(listener, listener.get_local_address(), refused)
    rounds = 3000 // len(calls) + 1

    def run_round() -> None:
        for call in calls:
            with pytest.raises(GLib.Error):
                call()

    run_round()  # warm-up: lazy imports, caches
    before = fd_count()
    for _ in range(rounds):
        run_round()
    gc.collect()
    after = fd_count()
    assert after == before, f"{after - before} fds leaked over {rounds * len(calls)} failing calls"


def test_dropped_sockets_release_their_fds() -> None:
    """Sockets dropped without close(), even never-initialised ones, free their fd when collected."""

    def make_and_drop() -> None:
        Gio.Socket.new(F.IPV4, T.DATAGRAM, P.DEFAULT)
        Gio.Socket(family=F.IPV4, type=T.STREAM, protocol=P.DEFAULT)  # not init()ed
        a, b = socket.socketpair()
        Gio.Socket.new_from_fd(a.detach())
        Gio.Socket.new_from_fd(b.detach())
        c = Gio.Cancellable()
        c.get_fd()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the fds matter here, not the warning
        make_and_drop()
        before = fd_count()
        for _ in range(300):
            make_and_drop()
        after = fd_count()
    assert after == before
