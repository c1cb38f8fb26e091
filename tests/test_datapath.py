"""The data path, which the PyGObject oracle cannot check (its ``receive*`` lose data, §7.1).

The bytes received are the bytes sent (UDP, TCP, Unix; IPv4 and IPv6), in every receive
flavour; datagram truncation; 1 MiB over TCP with a reader thread; IPv4 peers reaching a
dual-stack IPv6 socket; and peers that are not gsocklab: ``socat`` and a stdlib socket in
another process. Loopback only; every socket has a timeout (fixtures) so nothing can hang.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Sockets, any_address, loopback, unused_port

from gsocklab import Gio, GLib

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
IN = GLib.IOCondition.IN
E = Gio.IOErrorEnum


def wait_readable(sock: Any, seconds: float = 5.0) -> None:
    assert sock.condition_timed_wait(IN, int(seconds * 1_000_000), None)


def send_all(sock: Any, data: bytes) -> None:
    """``send`` until everything went (blocking sends may be short, §2.7)."""
    view = memoryview(data)
    while view:
        n = sock.send(view, None)
        assert n > 0
        view = view[n:]


def receive_exactly(sock: Any, n: int) -> bytes:
    chunks: list[bytes] = []
    while n:
        count, data = sock.receive(None, min(n, 65536))
        assert count == len(data) > 0, "unexpected end of stream"
        chunks.append(data)
        n -= count
    return b"".join(chunks)


def receive_to_eof(sock: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        count, data = sock.receive(None, 65536)
        if count == 0:
            return b"".join(chunks)
        chunks.append(data)


# --------------------------------------------------------------------------------------------
# Datagrams
# --------------------------------------------------------------------------------------------


def test_udp_every_receive_flavour(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    dest, src = a.get_local_address(), b.get_local_address()
    for payload in (b"one", b"\x00\xff" * 10, bytes(range(256))):
        assert b.send_to(dest, payload, None) == len(payload)
    wait_readable(a)
    result = a.receive(None)
    assert result == (3, b"one")
    assert isinstance(result.buffer, bytes)
    assert result.buffer == b"one"
    count, address, data = a.receive_from(None, 65536)
    assert (count, data) == (20, b"\x00\xff" * 10)
    assert address.get_port() == src.get_port()
    assert address.get_address().to_string() == src.get_address().to_string()
    assert address.get_family() == a.get_family()
    assert a.receive_with_blocking(True, None, 1000) == (256, bytes(range(256)))
    b.send_to(dest, b"bytes", None)
    b.send_to(dest, b"bytes-from", None)
    wait_readable(a)
    assert a.receive_bytes(100, 2_000_000, None) == b"bytes"
    data, address = a.receive_bytes_from(100, 2_000_000, None)
    assert data == b"bytes-from"
    assert address.get_port() == src.get_port()


def test_udp_largest_datagram(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    payload = os.urandom(65507 if a.get_family() == F.IPV4 else 65527)
    assert b.send_to(a.get_local_address(), payload, None) == len(payload)
    wait_readable(a)
    assert a.get_available_bytes() == len(payload)
    count, data = a.receive(None)  # default size 65536
    assert count == len(payload)
    assert data == payload


def test_datagram_truncation(udp_pair: tuple[Any, Any]) -> None:
    """receive(size=10) of a 100-byte datagram gives 10 bytes; the other 90 are discarded."""
    a, b = udp_pair
    first, second = bytes(range(100)), b"next datagram"
    b.send_to(a.get_local_address(), first, None)
    b.send_to(a.get_local_address(), second, None)
    wait_readable(a)
    assert a.receive(None, 10) == (10, first[:10])
    assert a.receive(None) == (len(second), second)
    b.send_to(a.get_local_address(), first, None)
    wait_readable(a)
    count, _, data = a.receive_from(None, 7)
    assert (count, data) == (7, first[:7])
    b.send_to(a.get_local_address(), first, None)
    wait_readable(a)
    assert a.receive_bytes(1, 1_000_000, None) == first[:1]
    b.send_to(a.get_local_address(), first, None)
    wait_readable(a)
    assert a.receive_bytes_from(0, 1_000_000, None)[0] == b""  # size 0 consumes the datagram (§2.6)
    assert a.get_available_bytes() == 0


def test_zero_length_datagram(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    assert b.send_to(a.get_local_address(), b"", None) == 0
    wait_readable(a)
    assert a.receive(None) == (0, b"")


def test_connected_udp_send_and_receive(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    assert b.connect(a.get_local_address(), None)
    assert a.connect(b.get_local_address(), None)
    assert b.send(b"ping", None) == 4
    wait_readable(a)
    assert a.receive(None) == (4, b"ping")
    assert a.send_with_blocking(b"pong", False, None) == 4
    wait_readable(b)
    assert b.receive_with_blocking(False, None) == (4, b"pong")


def test_receive_into_caller_buffer(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    b.send_to(a.get_local_address(), b"into buffer", None)
    wait_readable(a)
    buf = bytearray(32)
    count, _ = a.receive(None, 32, buf)
    assert count == 11
    assert bytes(buf[:count]) == b"into buffer"


def test_dual_stack_any_socket_sees_ipv4_peers(sockets: Sockets) -> None:
    server = sockets.new(F.IPV6, T.DATAGRAM)
    server.set_option(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    server.bind(any_address(F.IPV6), True)
    port = server.get_local_address().get_port()
    v4 = sockets.new(F.IPV4, T.DATAGRAM)
    v4.bind(loopback(F.IPV4), True)
    assert v4.send_to(loopback(F.IPV4, port), b"from v4", None) == 7
    wait_readable(server)
    count, source, data = server.receive_from(None, 100)
    assert (count, data) == (7, b"from v4")
    assert source.get_family() == F.IPV4
    assert source.get_address().to_string() == "127.0.0.1"
    assert source.get_port() == v4.get_local_address().get_port()
    assert server.send_to(source, b"back to v4", None) == 10
    wait_readable(v4)
    count, source, data = v4.receive_from(None, 100)
    assert data == b"back to v4"
    assert source.get_port() == port
    v6 = sockets.new(F.IPV6, T.DATAGRAM)
    v6.bind(loopback(F.IPV6), True)
    v6.send_to(loopback(F.IPV6, port), b"from v6", None)
    wait_readable(server)
    _, source, data = server.receive_from(None, 100)
    assert data == b"from v6"
    assert source.get_family() == F.IPV6
    assert source.get_address().to_string() == "::1"


def test_dual_stack_tcp_accepts_ipv4(sockets: Sockets) -> None:
    listener = sockets.new(F.IPV6, T.STREAM)
    listener.bind(any_address(F.IPV6), True)
    listener.listen()
    client = sockets.new(F.IPV4, T.STREAM)
    client.connect(loopback(F.IPV4, listener.get_local_address().get_port()), None)
    server = sockets.add(listener.accept(None))
    server.set_timeout(5)
    assert server.get_family() == F.IPV6
    assert server.get_remote_address().get_family() == F.IPV4
    send_all(client, b"dual stack")
    assert receive_exactly(server, 10) == b"dual stack"


def test_unix_datagrams(sockets: Sockets, tmp_path: Path) -> None:
    a = sockets.new(F.UNIX, T.DATAGRAM)
    b = sockets.new(F.UNIX, T.DATAGRAM)
    a.bind(Gio.UnixSocketAddress.new(str(tmp_path / "a")), True)
    b.bind(Gio.UnixSocketAddress.new(str(tmp_path / "b")), True)
    a.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    b.set_option(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    big = os.urandom(100_000)
    assert b.send_to(a.get_local_address(), big, None) == len(big)
    assert b.send_to(a.get_local_address(), b"small", None) == 5
    wait_readable(a)
    assert a.get_available_bytes() == 65536  # the 64 KiB peek buffer cap (§2.5)
    count, source, data = a.receive_from(None, 200_000)
    assert (count, data) == (len(big), big)
    assert source.get_path() == str(tmp_path / "b")
    assert a.receive(None, 3) == (3, b"sma")  # truncated; "ll" discarded
    assert a.get_available_bytes() == 0


# --------------------------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------------------------


def test_tcp_every_receive_flavour(tcp_pair: tuple[Any, Any, Any]) -> None:
    _, client, server = tcp_pair
    send_all(client, b"0123456789")
    wait_readable(server)
    time.sleep(0.02)
    assert server.receive(None, 4) == (4, b"0123")
    assert server.receive_from(None, 3) == (3, None, b"456")
    assert server.receive_with_blocking(False, None, 2) == (2, b"78")
    assert server.receive_bytes(100, 1_000_000, None) == b"9"
    send_all(client, b"tail")
    wait_readable(server)
    assert server.receive_bytes_from(100, 1_000_000, None) == (b"tail", None)
    client.shutdown(False, True)
    assert server.receive(None) == (0, b"")
    assert server.receive_bytes(10, 1_000_000, None) == b""


def test_one_mebibyte_over_tcp_with_reader_thread(tcp_pair: tuple[Any, Any, Any]) -> None:
    _, client, server = tcp_pair
    payload = os.urandom(1 << 20)
    received: list[bytes] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            received.append(receive_to_eof(server))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    send_all(client, payload)
    client.shutdown(False, True)
    thread.join(30)
    assert not thread.is_alive()
    assert not errors
    assert hashlib.sha256(received[0]).hexdigest() == hashlib.sha256(payload).hexdigest()
    assert len(received[0]) == len(payload)


def test_tcp_both_directions_at_once(tcp_pair: tuple[Any, Any, Any]) -> None:
    """Two writer threads and two readers: full-duplex, nothing lost or reordered."""
    _, client, server = tcp_pair
    up, down = os.urandom(300_000), os.urandom(300_000)
    got: dict[str, bytes] = {}

    def run(name: str, sock: Any, data: bytes | None) -> None:
        if data is None:
            got[name] = receive_exactly(sock, 300_000)
        else:
            send_all(sock, data)

    threads = [
        threading.Thread(target=run, args=args, daemon=True)
        for args in (("w1", client, up), ("w2", server, down), ("up", server, None), ("down", client, None))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert got["up"] == up
    assert got["down"] == down


def test_unix_stream_data(unix_pair: tuple[Any, Any, Any]) -> None:
    _, client, server = unix_pair
    payload = os.urandom(200_000)
    thread = threading.Thread(target=send_all, args=(client, payload), daemon=True)
    thread.start()
    assert receive_exactly(server, len(payload)) == payload
    thread.join(10)
    assert server.get_credentials().get_unix_pid() == os.getpid()


def test_socketpair_data(unix_socketpair: tuple[Any, Any]) -> None:
    a, b = unix_socketpair
    assert a.send(b"pair", None) == 4
    wait_readable(b)
    assert b.receive(None) == (4, b"pair")
    assert b.send(b"back", None) == 4
    wait_readable(a)
    assert a.receive_from(None) == (4, None, b"back")  # stream sockets report no source (§2.6)


def test_receive_bytes_timeouts(udp_pair: tuple[Any, Any]) -> None:
    """§6.1 rows 28-29 (GLib >= 2.80): receive_bytes and receive_bytes_from timeouts."""
    a, _ = udp_pair
    with pytest.raises(GLib.Error) as info:
        a.receive_bytes(10, 0, None)
    assert info.value.code == E.WOULD_BLOCK
    start = time.monotonic()
    with pytest.raises(GLib.Error) as info:
        a.receive_bytes(10, 10, None)
    assert info.value.code == E.TIMED_OUT
    assert info.value.message == "Socket I/O timed out"
    assert time.monotonic() - start < 1.0  # far below the 5 s socket timeout
    start = time.monotonic()
    with pytest.raises(GLib.Error) as info:
        a.receive_bytes_from(10, 200_000, None)
    assert info.value.code == E.TIMED_OUT
    assert 0.15 < time.monotonic() - start < 2.0
    cancelled = Gio.Cancellable()
    cancelled.cancel()
    for call in (lambda: a.receive_bytes(10, -1, cancelled), lambda: a.receive_bytes_from(10, -1, cancelled)):
        with pytest.raises(GLib.Error) as info:
            call()
        assert info.value.code == E.CANCELLED


def test_receive_error_prefixes(sockets: Sockets) -> None:
    """'Error receiving data' for receive*/receive_bytes; 'Error receiving message' for *_from (§4.4)."""
    t = sockets.new(F.IPV4, T.STREAM)
    expected = {
        "Error receiving data: Transport endpoint is not connected": [
            lambda: t.receive(None),
            lambda: t.receive_with_blocking(True, None),
            lambda: t.receive_bytes(10, -1, None),
        ],
        "Error receiving message: Transport endpoint is not connected": [
            lambda: t.receive_from(None),
            lambda: t.receive_bytes_from(10, -1, None),
        ],
    }
    for message, calls in expected.items():
        for call in calls:
            with pytest.raises(GLib.Error) as info:
                call()
            assert info.value.code == E.NOT_CONNECTED
            assert info.value.message == message


def test_receive_blocking_modes(udp_pair: tuple[Any, Any]) -> None:
    a, _ = udp_pair
    a.set_timeout(1)
    with pytest.raises(BlockingIOError) as info:
        a.receive_with_blocking(False, None)
    assert info.value.message == "Resource temporarily unavailable"
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        a.receive(None)
    assert 0.9 <= time.monotonic() - start < 3.0
    a.set_blocking(False)
    with pytest.raises(GLib.Error) as info:
        a.receive(None)
    assert info.value.matches(Gio.io_error_quark(), E.WOULD_BLOCK)


def _fill(sock: Any) -> None:
    """Send without blocking until the socket's buffers are full."""
    chunk = bytes(1 << 16)
    while True:
        try:
            sock.send_with_blocking(chunk, False, None)
        except BlockingIOError:
            return


BLOCKED_CALLS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "receive": lambda c, listener, conn: conn.receive(c),
    "receive_from": lambda c, listener, conn: conn.receive_from(c),
    "receive_bytes": lambda c, listener, conn: conn.receive_bytes(10, -1, c),
    "receive_bytes_from": lambda c, listener, conn: conn.receive_bytes_from(10, 4_000_000, c),
    "condition_wait": lambda c, listener, conn: conn.condition_wait(IN, c),
    "accept": lambda c, listener, conn: listener.accept(c),
    "send_full": lambda c, listener, conn: (_fill(conn), conn.send(b"x" * 100_000, c)),
}


@pytest.mark.parametrize("call", list(BLOCKED_CALLS.values()), ids=list(BLOCKED_CALLS))
def test_cancel_from_thread_wakes_a_blocked_call_quickly(
    tcp_pair: tuple[Any, Any, Any], call: Callable[[Any, Any, Any], Any]
) -> None:
    """A cancel from another thread wakes a blocked call within 50 ms (§1.5)."""
    listener, client, _ = tcp_pair
    c = Gio.Cancellable()
    cancelled_at: list[float] = []

    def cancel() -> None:
        time.sleep(0.2)
        cancelled_at.append(time.monotonic())
        c.cancel()

    thread = threading.Thread(target=cancel, daemon=True)
    thread.start()
    with pytest.raises(GLib.Error) as info:
        call(c, listener, client)
    woke = time.monotonic()
    thread.join(5)
    assert info.value.code == E.CANCELLED
    assert woke - cancelled_at[0] < 0.05


# --------------------------------------------------------------------------------------------
# Peers that are not gsocklab
# --------------------------------------------------------------------------------------------

SOCAT = shutil.which("socat")
needs_socat = pytest.mark.skipif(SOCAT is None, reason="socat not installed (CI installs it)")


@pytest.fixture
def spawn() -> Iterator[Any]:
    """Start helper processes; each is waited for (or killed) afterwards."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stderr is not None:
            proc.stderr.close()
        if proc.stdout is not None:
            proc.stdout.close()


def readable_within(sock: Any, timeout_us: int) -> bool:
    """``condition_timed_wait`` as a boolean: False when it timed out."""
    try:
        return bool(sock.condition_timed_wait(IN, timeout_us, None))
    except GLib.Error as exc:
        if exc.code != E.TIMED_OUT:
            raise
        return False


def _accept(listener: Any, sockets: Sockets) -> Any:
    wait_readable(listener, 10)
    server = sockets.add(listener.accept(None))
    server.set_timeout(5)
    return server


@needs_socat
@pytest.mark.parametrize(("family", "target"), [(F.IPV4, "TCP4:127.0.0.1:{}"), (F.IPV6, "TCP6:[::1]:{}")],
                         ids=["ipv4", "ipv6"])
def test_socat_tcp_echo(sockets: Sockets, spawn: Any, family: Gio.SocketFamily, target: str) -> None:
    """socat connects to a gsocklab listener and echoes everything back (PIPE)."""
    listener = sockets.new(family, T.STREAM)
    listener.bind(loopback(family), True)
    listener.listen()
    port = listener.get_local_address().get_port()
    proc = spawn([str(SOCAT), "-T", "10", target.format(port), "PIPE"])
    server = _accept(listener, sockets)
    assert server.get_remote_address().get_address().get_is_loopback()
    payload = os.urandom(100_000)
    echoed: list[bytes] = []
    reader = threading.Thread(target=lambda: echoed.append(receive_exactly(server, len(payload))), daemon=True)
    reader.start()
    send_all(server, payload)
    reader.join(20)
    assert echoed == [payload]
    server.shutdown(False, True)
    assert server.receive(None) == (0, b"")  # socat closes after our EOF
    assert proc.wait(timeout=10) == 0


@needs_socat
def test_socat_unix_echo(sockets: Sockets, spawn: Any, tmp_path: Path) -> None:
    path = str(tmp_path / "echo.sock")
    listener = sockets.new(F.UNIX, T.STREAM)
    listener.bind(Gio.UnixSocketAddress.new(path), True)
    listener.listen()
    proc = spawn([str(SOCAT), "-T", "10", f"UNIX-CONNECT:{path}", "PIPE"])
    server = _accept(listener, sockets)
    send_all(server, b"over a unix socket")
    assert receive_exactly(server, 18) == b"over a unix socket"
    server.shutdown(False, True)
    assert server.receive(None) == (0, b"")
    assert proc.wait(timeout=10) == 0


@needs_socat
@pytest.mark.parametrize("family", [F.IPV4, F.IPV6], ids=["ipv4", "ipv6"])
def test_socat_udp_echo(sockets: Sockets, spawn: Any, family: Gio.SocketFamily) -> None:
    """socat UDP-LISTEN echoes datagrams; resend until it is up (datagrams before that are lost)."""
    port = unused_port(family)
    host = "127.0.0.1" if family == F.IPV4 else "[::1]"
    kind = "UDP4-LISTEN" if family == F.IPV4 else "UDP6-LISTEN"
    spawn([str(SOCAT), "-T", "3", f"{kind}:{port},bind={host}", "PIPE"])
    sock = sockets.new(family, T.DATAGRAM)
    sock.bind(loopback(family), True)
    dest = loopback(family, port)
    deadline = time.monotonic() + 10
    while True:
        sock.send_to(dest, b"hello socat", None)
        if readable_within(sock, 200_000):
            break
        assert time.monotonic() < deadline, "socat never answered"
    count, source, data = sock.receive_from(None, 100)
    assert (count, data) == (11, b"hello socat")
    assert source.get_port() == port
    for n in (1, 1000, 8000):
        payload = os.urandom(n)
        sock.send_to(dest, payload, None)
        wait_readable(sock)
        assert sock.receive(None) == (n, payload)


PEER_SCRIPT = textwrap.dedent(
    """
    import hashlib, socket, sys
    kind = sys.argv[1]
    if kind == "tcp":
        s = socket.create_server(("127.0.0.1", 0))
        print(s.getsockname()[1], flush=True)
        s.settimeout(10)
        conn, _ = s.accept()
        conn.settimeout(10)
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        conn.sendall(hashlib.sha256(data).hexdigest().encode() + b" %d" % len(data))
        conn.close()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(10)
        print(s.getsockname()[1], flush=True)
        for _ in range(3):
            data, peer = s.recvfrom(65536)
            s.sendto(data[::-1], peer)
    """
)


def _peer(spawn: Any, kind: str) -> tuple[subprocess.Popen[bytes], int]:
    proc = spawn([sys.executable, "-c", PEER_SCRIPT, kind], stdout=subprocess.PIPE)
    line = proc.stdout.readline()
    assert line, proc.stderr.read().decode()
    return proc, int(line)


def test_stdlib_tcp_peer_in_another_process(sockets: Sockets, spawn: Any) -> None:
    proc, port = _peer(spawn, "tcp")
    client = sockets.new(F.IPV4, T.STREAM)
    client.connect(loopback(F.IPV4, port), None)
    assert client.is_connected()
    payload = os.urandom(500_000)
    send_all(client, payload)
    client.shutdown(False, True)
    reply = receive_to_eof(client)
    assert reply == hashlib.sha256(payload).hexdigest().encode() + b" 500000"
    assert proc.wait(timeout=10) == 0


def test_stdlib_udp_peer_in_another_process(sockets: Sockets, spawn: Any) -> None:
    proc, port = _peer(spawn, "udp")
    sock = sockets.new(F.IPV4, T.DATAGRAM)
    sock.bind(loopback(F.IPV4), True)
    for payload in (b"abc", b"", os.urandom(60_000)):
        assert sock.send_to(loopback(F.IPV4, port), payload, None) == len(payload)
        wait_readable(sock)
        count, source, data = sock.receive_from(None)
        assert (count, data) == (len(payload), payload[::-1])
        assert source.get_port() == port
    assert proc.wait(timeout=10) == 0
