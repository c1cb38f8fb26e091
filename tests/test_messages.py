"""Message I/O round trips: ``send_message``/``receive_message`` and the batched
``send_messages``/``receive_messages`` (reference §2.6, §2.7, §2.9, §5.7, §6.1 row 5, C.01).

What PyGObject cannot show (§7.2-7.3: its vectors are raw pointers and batched outputs are
never copied back) is checked here on gsocklab alone: the bytes land in the right vectors,
source addresses, per-message ``bytes_sent``/``bytes_received``/``flags`` (Linux reports
``MSG_CMSG_CLOEXEC`` 0x40000000, plus ``MSG_TRUNC`` 0x20 on truncation), scatter/gather,
the zero-vector special cases, batches up to and beyond ``UIO_MAXIOV`` and messages reused
and modified between calls (the native batch cache must notice). Loopback only; every
socket has a 5 s timeout (fixtures) unless a test makes it non-blocking.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from conftest import Sockets, loopback

from gsocklab import Gio, GLib

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
E = Gio.IOErrorEnum
IN = GLib.IOCondition.IN
CLOEXEC = 0x40000000  # MSG_CMSG_CLOEXEC: Linux echoes it in msg_flags (§2.6)
TRUNC = 0x20  # MSG_TRUNC
MIB = 1024 * 1024

# §6.1 row 5: GLib's testbuf2 cut into 7 vectors (one of size 0).
TESTBUF2 = b"0123456789abcdefghijklmnopqrstuvwxyz"
CUTS = [(0, 3), (3, 5), (8, 6), (14, 2), (16, 1), (17, 0), (17, 19)]


def wait_readable(sock: Any, seconds: float = 5.0) -> None:
    assert sock.condition_timed_wait(IN, int(seconds * 1_000_000), None)


def same_address(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a.to_string() == b.to_string()


def unix_socketpair(sockets: Sockets, kind: socket.SocketKind) -> tuple[Any, Any]:
    a, b = socket.socketpair(socket.AF_UNIX, kind)
    return sockets.adopt(a), sockets.adopt(b)


def big_receive_buffer(sock: Any) -> None:
    """Room for 1500 small datagrams: SO_RCVBUF 4 MiB (SO_RCVBUFFORCE where rmem_max is lower)."""
    sock.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * MIB)
    if sock.get_option(socket.SOL_SOCKET, socket.SO_RCVBUF)[1] < 4 * MIB:
        try:
            sock.set_option(socket.SOL_SOCKET, 33, 4 * MIB)  # SO_RCVBUFFORCE, needs CAP_NET_ADMIN
        except GLib.Error:
            pytest.skip("cannot get a 4 MiB receive buffer (net.core.rmem_max too low, not root)")


# --------------------------------------------------------------------------------------------
# send_message / receive_message
# --------------------------------------------------------------------------------------------


def test_gather_and_scatter_udp(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    dest = a.get_local_address()
    vectors = [b"hello", bytearray(b"-"), memoryview(b"wide world"), Gio.OutputVector(b"!?", 1)]
    assert b.send_message(dest, vectors, None, 0) == 17
    first, second = Gio.InputVector(size=4), Gio.InputVector(bytearray(32))
    count, address, controls, flags = a.receive_message([first, second], 0)
    assert count == 17
    assert same_address(address, b.get_local_address())
    assert address.get_family() == a.get_family()
    assert controls == []
    assert flags == CLOEXEC
    assert first.buffer == bytearray(b"hell")
    assert bytes(second.buffer[:13]) == b"o-wide world!"
    assert second.buffer[13:] == bytearray(19)


def test_receive_message_result_is_named(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    b.send_message(a.get_local_address(), [b"abc"], None, 0)
    result = a.receive_message([bytearray(8)], 0)
    assert result[0] == 3
    assert result.address is result[1]
    assert result.messages == [] == result[2]
    assert result.flags == CLOEXEC == result[3]


def test_receive_address_is_cached(udp_pair: tuple[Any, Any]) -> None:
    """§2.9 (E28): the same source gives the same address object, also across the batch path."""
    a, b = udp_pair
    dest = a.get_local_address()
    for payload in (b"1", b"2", b"3"):
        b.send_message(dest, [payload], None, 0)
    r1 = a.receive_message([bytearray(4)], 0)
    r2 = a.receive_message([bytearray(4)], 0)
    assert r1.address is r2.address
    message = Gio.InputMessage([bytearray(4)])
    assert a.receive_messages([message], 0) == 1
    assert same_address(message.address, r1.address)


def test_output_vector_size_limits_what_is_sent(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    vector = Gio.OutputVector(b"abcdef", 3)
    assert b.send_message(a.get_local_address(), [vector, Gio.OutputVector(b"XYZ", 0)], None, 0) == 3
    buf = bytearray(16)
    assert a.receive_message([Gio.InputVector(buf, 10)], 0)[0] == 3
    assert buf[:3] == b"abc"
    with pytest.raises(GLib.Error) as info:
        Gio.OutputVector(b"abc", 4)
    assert info.value.code == E.INVALID_ARGUMENT


def test_input_vector_size_limits_what_is_written(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    b.send_message(a.get_local_address(), [b"0123456789"], None, 0)
    buf = bytearray(b"." * 10)
    count, _, _, flags = a.receive_message([Gio.InputVector(buf, 4)], 0)
    assert (count, flags) == (4, CLOEXEC | TRUNC)
    assert buf == bytearray(b"0123......")


def test_truncated_datagram_reports_msg_trunc(udp_pair: tuple[Any, Any]) -> None:
    """§6.2 item 66 (s04): 4 of 13 bytes, flags 0x40000020; the rest of the datagram is gone."""
    a, b = udp_pair
    dest = a.get_local_address()
    b.send_message(dest, [b"hello-vectors"], None, 0)
    b.send_message(dest, [b"next"], None, 0)
    small = bytearray(4)
    count, _, _, flags = a.receive_message([small], 0)
    assert (count, flags, bytes(small)) == (4, CLOEXEC | TRUNC, b"hell")
    big = bytearray(64)
    count, _, _, flags = a.receive_message([big], 0)
    assert (count, flags, bytes(big[:count])) == (4, CLOEXEC, b"next")


def test_peek_leaves_the_datagram_queued(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    b.send_message(a.get_local_address(), [b"hello-vectors"], None, 0)
    buf = bytearray(64)
    assert a.receive_message([buf], Gio.SocketMsgFlags.PEEK)[0] == 13
    assert a.get_available_bytes() == 13
    buf2 = bytearray(64)
    assert a.receive_message([buf2], 0)[0] == 13
    assert buf[:13] == buf2[:13] == b"hello-vectors"


def test_send_message_without_vectors_sends_one_nul_byte(udp_pair: tuple[Any, Any]) -> None:
    """§2.7, §6.2 item 64: no vectors -> a single '\\0' (the carrier of control messages)."""
    a, b = udp_pair
    for vectors in ([], None, ()):
        assert b.send_message(a.get_local_address(), vectors, None, 0) == 1
        count, _, data = a.receive_from(None, 16)
        assert (count, bytes(data)) == (1, b"\x00")


def test_zero_size_vector_sends_an_empty_datagram(udp_pair: tuple[Any, Any]) -> None:
    """One vector of size 0 is not replaced by the NUL byte (§2.7 send_to)."""
    a, b = udp_pair
    assert b.send_message(a.get_local_address(), [b""], None, 0) == 0
    wait_readable(a)
    buf = bytearray(b"untouched")
    count, address, _, flags = a.receive_message([buf], 0)
    assert (count, flags, bytes(buf)) == (0, CLOEXEC, b"untouched")
    assert same_address(address, b.get_local_address())


def test_receive_message_without_vectors_discards_one_byte(udp_pair: tuple[Any, Any]) -> None:
    """§2.6, §6.2 item 65: a private 1-byte buffer; a 13-byte datagram is consumed, MSG_TRUNC."""
    a, b = udp_pair
    dest = a.get_local_address()
    b.send_message(dest, [b"hello-vectors"], None, 0)
    b.send_message(dest, [b"second"], None, 0)
    count, address, controls, flags = a.receive_message([], 0)
    assert (count, controls, flags) == (1, [], CLOEXEC | TRUNC)
    assert same_address(address, b.get_local_address())
    assert a.get_available_bytes() == 6  # the next datagram
    assert a.receive_message(None, 0)[0] == 1


def test_tcp_message_round_trip(tcp_pair: tuple[Any, Any, Any]) -> None:
    _, client, server = tcp_pair
    assert client.send_message(None, [b"abc", Gio.OutputVector(bytearray(b"defgh")), b""], None, 0) == 8
    wait_readable(server)
    v1, v2 = bytearray(2), bytearray(10)
    count, address, controls, flags = server.receive_message([v1, v2], 0)
    assert (count, address, controls, flags) == (8, None, [], CLOEXEC)  # no source on a stream
    assert bytes(v1) + bytes(v2[:6]) == b"abcdefgh"
    # a stream is never truncated: what does not fit stays queued
    client.send_message(None, [b"0123456789"], None, 0)
    wait_readable(server)
    small = bytearray(4)
    assert server.receive_message([small], 0)[:] == (4, None, [], CLOEXEC)
    assert bytes(small) == b"0123"
    rest = bytearray(16)
    assert server.receive_message([rest], 0)[0] == 6


def test_tcp_zero_vector_cases(tcp_pair: tuple[Any, Any, Any]) -> None:
    """§6.2 item 64 (E17): one NUL byte; receive_message([]) takes exactly one byte of a stream."""
    _, client, server = tcp_pair
    assert client.send_message(None, [], None, 0) == 1
    client.send_message(None, [b"xyz"], None, 0)
    wait_readable(server)
    buf = bytearray(1)
    assert server.receive_message([buf], 0)[0] == 1
    assert buf == b"\x00"
    assert server.receive_message([], 0)[:] == (1, None, [], CLOEXEC)
    rest = bytearray(8)
    assert server.receive_message([rest], 0)[0] == 2
    assert rest[:2] == b"yz"


def test_tcp_end_of_stream(tcp_pair: tuple[Any, Any, Any]) -> None:
    _, client, server = tcp_pair
    client.close()
    assert server.receive_message([bytearray(8)], 0)[:] == (0, None, [], CLOEXEC)
    assert server.receive_message([], 0)[0] == 0


def test_unix_stream_message_round_trip(unix_pair: tuple[Any, Any, Any], tmp_path: Path) -> None:
    _, client, server = unix_pair
    assert client.send_message(None, [b"over ", b"unix"], None, 0) == 9
    wait_readable(server)
    buf = bytearray(32)
    count, address, _, flags = server.receive_message([buf], 0)
    assert (count, address, flags) == (9, None, CLOEXEC)  # the client is unbound: no source
    assert buf[:9] == b"over unix"
    # the accepted socket carries the listener's path: the client sees it as the source
    server.send_message(None, [b"back"], None, 0)
    wait_readable(client)
    count, address, _, _ = client.receive_message([buf], 0)
    assert count == 4
    assert isinstance(address, Gio.UnixSocketAddress)
    assert address.get_path() == str(tmp_path / "sock")


def test_unix_datagram_bound_paths(sockets: Sockets, tmp_path: Path) -> None:
    a, b = sockets.new(F.UNIX, T.DATAGRAM), sockets.new(F.UNIX, T.DATAGRAM)
    a.bind(Gio.UnixSocketAddress.new(str(tmp_path / "a")), True)
    b.bind(Gio.UnixSocketAddress.new(str(tmp_path / "b")), True)
    assert b.send_message(a.get_local_address(), [b"to ", b"a"], None, 0) == 4
    buf = bytearray(3)
    count, address, _, flags = a.receive_message([buf], 0)
    assert (count, flags, bytes(buf)) == (3, CLOEXEC | TRUNC, b"to ")
    assert isinstance(address, Gio.UnixSocketAddress)
    assert address.get_path() == str(tmp_path / "b")


@pytest.mark.parametrize("kind", [socket.SOCK_DGRAM, socket.SOCK_SEQPACKET], ids=["dgram", "seqpacket"])
def test_unix_socketpair_messages(sockets: Sockets, kind: socket.SocketKind) -> None:
    a, b = unix_socketpair(sockets, kind)
    assert a.send_message(None, [b"abc", b"defg"], None, 0) == 7
    assert a.send_message(None, [b"0123456789"], None, 0) == 10
    assert a.send_message(None, [], None, 0) == 1
    buf = bytearray(16)
    count, address, _, flags = b.receive_message([buf], 0)
    assert (count, address, flags, bytes(buf[:7])) == (7, None, CLOEXEC, b"abcdefg")
    small = bytearray(4)
    count, _, _, flags = b.receive_message([small], 0)
    assert (count, flags, bytes(small)) == (4, CLOEXEC | TRUNC, b"0123")  # record boundaries kept
    count, _, _, flags = b.receive_message([buf], 0)
    assert (count, flags, buf[:1]) == (1, CLOEXEC, b"\x00")


def test_message_calls_on_a_closed_socket(sockets: Sockets) -> None:
    """§2.7: vectors are real buffers here, so GLib's "Message vectors too large" cannot happen;
    a closed socket fails CLOSED in every message call."""
    sock = sockets.new(F.IPV4, T.DATAGRAM)
    sock.close()
    with pytest.raises(GLib.Error) as info:
        sock.send_message(loopback(F.IPV4, 9), [b"x"], None, 0)
    assert info.value.code == E.CLOSED
    for call, args in ((sock.receive_message, ([bytearray(4)], 0)),
                       (sock.send_messages, ([Gio.OutputMessage(loopback(F.IPV4, 9), [b"x"])], 0)),
                       (sock.receive_messages, ([Gio.InputMessage([bytearray(4)])], 0))):
        with pytest.raises(GLib.Error) as info:
            call(*args)
        assert (info.value.code, info.value.message) == (E.CLOSED, "Socket is already closed")


# --------------------------------------------------------------------------------------------
# send_messages / receive_messages
# --------------------------------------------------------------------------------------------


def test_batch_round_trip(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    dest = a.get_local_address()
    out = [
        Gio.OutputMessage(dest, [b"one"]),
        Gio.OutputMessage(dest, [b"tw", b"o-", Gio.OutputVector(b"parts")]),
        Gio.OutputMessage(dest, [b"a longer third datagram"]),
    ]
    assert [m.bytes_sent for m in out] == [0, 0, 0]
    assert b.send_messages(out, 0) == 3
    assert [m.bytes_sent for m in out] == [3, 9, 23]
    wait_readable(a)
    ins = [
        Gio.InputMessage([bytearray(8)]),
        Gio.InputMessage([Gio.InputVector(size=4), Gio.InputVector(size=8)]),
        Gio.InputMessage([bytearray(5)]),
    ]
    assert a.receive_messages(ins, 0) == 3
    assert [m.bytes_received for m in ins] == [3, 9, 5]
    assert [m.flags for m in ins] == [CLOEXEC, CLOEXEC, CLOEXEC | TRUNC]
    assert [m.payload for m in ins] == [b"one", b"two-parts", b"a lon"]
    assert ins[1].vectors[0].buffer == bytearray(b"two-")
    assert bytes(ins[1].vectors[1].buffer[:5]) == b"parts"
    for m in ins:
        assert same_address(m.address, b.get_local_address())
        assert m.control_messages is None
        assert m.num_control_messages == 0
    assert ins[0].address is ins[1].address is ins[2].address  # §2.9 cache


def test_glib_datagram_scenario(udp_pair: tuple[Any, Any]) -> None:
    """§6.1 row 5 (/socket/ipv4_sync/datagram, /socket/ipv6_sync/datagram)."""
    a, b = udp_pair
    dest = a.get_local_address()
    v = [Gio.OutputVector(memoryview(TESTBUF2)[start:start + size]) for start, size in CUTS]
    assert b.send_message(dest, v, None, 0) == 36
    buf = bytearray(64)
    assert a.receive_message([buf], 0)[0] == 36
    assert buf[:36] == TESTBUF2

    m = [Gio.OutputMessage(dest, v[0:1]), Gio.OutputMessage(dest, v[0:6]), Gio.OutputMessage(dest, v[6:7])]
    assert b.send_messages(m, 0) == 3
    assert [x.bytes_sent for x in m] == [3, 17, 19]
    for expected in (TESTBUF2[:3], TESTBUF2[:17], TESTBUF2[17:]):
        count, _, data = a.receive_from(None, 128)
        assert (count, bytes(data)) == (len(expected), expected)

    assert b.send_messages(m, 0) == 3
    store = bytearray(36)
    iv = [Gio.InputVector(memoryview(store)[start:start + size]) for start, size in CUTS]
    im = [Gio.InputMessage(iv[0:1]), Gio.InputMessage(iv[0:6]), Gio.InputMessage(iv[6:7])]
    assert a.receive_messages(im, 0) == 3
    assert [x.bytes_received for x in im] == [3, 17, 19]
    assert [x.payload for x in im] == [TESTBUF2[:3], TESTBUF2[:17], TESTBUF2[17:]]
    assert store == TESTBUF2

    for x in m:
        x.bytes_sent = 0
    m[1].address = None
    assert b.send_messages(m, 0) == 1  # stops at the message without a destination
    assert [x.bytes_sent for x in m] == [3, 0, 0]

    for x in m:
        x.address = None
        x.bytes_sent = 0
    with pytest.raises(GLib.Error) as info:
        b.send_messages(m, 0)
    assert info.value.code == E.DESTINATION_UNSET
    assert info.value.message == "Error sending message: Destination address required"
    assert [x.bytes_sent for x in m] == [0, 0, 0]

    count, _, data = a.receive_from(None, 128)  # the one pending datagram of 3 bytes
    assert (count, bytes(data)) == (3, b"012")
    a.set_blocking(False)
    with pytest.raises(GLib.Error) as info:
        a.receive_from(None, 128)
    assert info.value.code == E.WOULD_BLOCK


def test_unsent_messages_keep_their_fields(udp_pair: tuple[Any, Any]) -> None:
    """§2.7: bytes_sent set for i < n only; §2.6: messages not received keep their values."""
    a, b = udp_pair
    dest = a.get_local_address()
    out = [Gio.OutputMessage(dest, [b"12345"]), Gio.OutputMessage(dest, [b"123"])]
    assert b.send_messages(out, 0) == 2
    out[1].address = None
    out[1].vectors = [b"1"]
    assert b.send_messages(out, 0) == 1
    assert [m.bytes_sent for m in out] == [5, 3]  # the unsent one keeps the old count
    ins = [Gio.InputMessage([bytearray(8)]) for _ in range(3)]
    assert a.receive_messages(ins, 0) == 3
    assert [m.bytes_received for m in ins] == [5, 3, 5]
    b.send_messages(out[:1], 0)
    a.set_blocking(False)
    stale_address = ins[1].address
    ins[0].vectors = [bytearray(2)]
    assert a.receive_messages(ins, 0) == 1
    assert [m.bytes_received for m in ins] == [2, 3, 5]
    assert [m.flags for m in ins] == [CLOEXEC | TRUNC, CLOEXEC, CLOEXEC]
    assert ins[1].address is stale_address


def test_zero_vector_batches(udp_pair: tuple[Any, Any]) -> None:
    """§2.6, §2.7, C.01, E31: sendmmsg sends empty datagrams (no NUL substitution); recvmmsg with
    no vectors consumes each datagram with bytes_received 0 and MSG_TRUNC."""
    a, b = udp_pair
    dest = a.get_local_address()
    out = [Gio.OutputMessage(dest), Gio.OutputMessage(dest, [])]
    assert b.send_messages(out, 0) == 2
    assert [m.bytes_sent for m in out] == [0, 0]
    for _ in range(2):
        count, _, data = a.receive_from(None, 16)
        assert (count, bytes(data)) == (0, b"")
    for payload in (b"hello", b"", b"x"):
        b.send_message(dest, [payload], None, 0)
    ins = [Gio.InputMessage() for _ in range(3)]
    assert a.receive_messages(ins, 0) == 3
    assert [m.bytes_received for m in ins] == [0, 0, 0]
    assert [m.flags for m in ins] == [CLOEXEC | TRUNC, CLOEXEC, CLOEXEC | TRUNC]
    assert all(same_address(m.address, b.get_local_address()) for m in ins)
    assert [m.payload for m in ins] == [b"", b"", b""]
    assert a.get_available_bytes() == 0  # all three consumed


def test_empty_lists(udp_pair: tuple[Any, Any]) -> None:
    """§6.2 item 72: zero messages -> 0, even non-blocking with nothing queued."""
    a, b = udp_pair
    a.set_blocking(False)
    assert b.send_messages([], 0) == 0
    assert a.receive_messages([], 0) == 0


def test_tcp_batches(tcp_pair: tuple[Any, Any, Any]) -> None:
    """sendmmsg/recvmmsg also work on a stream: each message takes what its vectors hold."""
    _, client, server = tcp_pair
    out = [Gio.OutputMessage(None, [b"abc"]), Gio.OutputMessage(None, [b"de", b"fgh"]),
           Gio.OutputMessage(None, [b"ij"])]
    assert client.send_messages(out, 0) == 3
    assert [m.bytes_sent for m in out] == [3, 5, 2]
    ins = [Gio.InputMessage([bytearray(4)]) for _ in range(3)]
    assert server.receive_messages(ins, 0) == 3  # blocking: waits until all three got data
    assert b"".join(m.payload for m in ins) == b"abcdefghij"
    assert sum(m.bytes_received for m in ins) == 10
    assert all(m.address is None and m.flags == CLOEXEC for m in ins)


@pytest.mark.parametrize("kind", [socket.SOCK_DGRAM, socket.SOCK_SEQPACKET], ids=["dgram", "seqpacket"])
def test_unix_socketpair_batches(sockets: Sockets, kind: socket.SocketKind) -> None:
    a, b = unix_socketpair(sockets, kind)
    out = [Gio.OutputMessage(None, [b"first"]), Gio.OutputMessage(None, [b"sec", b"ond"])]
    assert a.send_messages(out, 0) == 2
    assert [m.bytes_sent for m in out] == [5, 6]
    ins = [Gio.InputMessage([bytearray(3)]), Gio.InputMessage([bytearray(16)])]
    assert b.receive_messages(ins, 0) == 2
    assert [(m.bytes_received, m.flags, m.payload, m.address) for m in ins] == [
        (3, CLOEXEC | TRUNC, b"fir", None), (6, CLOEXEC, b"second", None)]


def test_unix_datagram_batch_addresses(sockets: Sockets, tmp_path: Path) -> None:
    a = sockets.new(F.UNIX, T.DATAGRAM)
    a.bind(Gio.UnixSocketAddress.new(str(tmp_path / "a")), True)
    senders = []
    for name in ("b", "c"):
        s = sockets.new(F.UNIX, T.DATAGRAM)
        s.bind(Gio.UnixSocketAddress.new(str(tmp_path / name)), True)
        senders.append(s)
    dest = a.get_local_address()
    assert senders[0].send_messages([Gio.OutputMessage(dest, [b"from b"])], 0) == 1
    assert senders[1].send_messages([Gio.OutputMessage(dest, [b"from c"])], 0) == 1
    ins = [Gio.InputMessage([bytearray(16)]) for _ in range(2)]
    assert a.receive_messages(ins, 0) == 2
    assert [m.address.get_path() for m in ins] == [str(tmp_path / "b"), str(tmp_path / "c")]
    assert [m.payload for m in ins] == [b"from b", b"from c"]


def test_batch_to_several_destinations(sockets: Sockets, inet_family: Gio.SocketFamily) -> None:
    receivers = [sockets.udp_pair(inet_family)[0] for _ in range(3)]
    sender = sockets.new(inet_family, T.DATAGRAM)
    sender.bind(loopback(inet_family), True)
    out = [Gio.OutputMessage(r.get_local_address(), [b"to %d" % i]) for i, r in enumerate(receivers)]
    out.append(Gio.OutputMessage(receivers[0].get_local_address(), [b"again 0"]))
    assert sender.send_messages(out, 0) == 4
    ins = [Gio.InputMessage([bytearray(16)]) for _ in range(2)]
    assert receivers[0].receive_messages(ins, 0) == 2
    assert [m.payload for m in ins] == [b"to 0", b"again 0"]
    for i, r in enumerate(receivers[1:], 1):
        assert r.receive_messages(ins[:1], 0) == 1
        assert ins[0].payload == b"to %d" % i
        assert same_address(ins[0].address, sender.get_local_address())


@pytest.mark.parametrize("n", [1, 64, 1024])
def test_batch_sizes(sockets: Sockets, inet_family: Gio.SocketFamily, n: int) -> None:
    a, b = sockets.udp_pair(inet_family)
    big_receive_buffer(a)
    dest = a.get_local_address()
    out = [Gio.OutputMessage(dest, [b"%05d" % i]) for i in range(n)]
    assert b.send_messages(out, 0) == n
    assert all(m.bytes_sent == 5 for m in out)
    ins = [Gio.InputMessage([bytearray(8)]) for _ in range(n)]
    assert a.receive_messages(ins, 0) == n  # blocking: waits for all of them
    assert [m.payload for m in ins] == [b"%05d" % i for i in range(n)]
    assert all(m.bytes_received == 5 and m.flags == CLOEXEC for m in ins)
    assert len({id(m.address) for m in ins}) == 1


def test_batch_beyond_uio_maxiov(sockets: Sockets, inet_family: Gio.SocketFamily) -> None:
    """§2.6/§2.7, E22/E23: 1500 asked -> clamped to UIO_MAXIOV (1024) per call, then the rest."""
    a, b = sockets.udp_pair(inet_family)
    big_receive_buffer(a)
    dest = a.get_local_address()
    out = [Gio.OutputMessage(dest, [b"%05d" % i]) for i in range(1500)]
    assert b.send_messages(out, 0) == 1024
    assert all(m.bytes_sent == 5 for m in out[:1024])
    assert all(m.bytes_sent == 0 for m in out[1024:])
    assert b.send_messages(out[1024:], 0) == 476
    ins = [Gio.InputMessage([bytearray(8)]) for _ in range(1500)]
    assert a.receive_messages(ins, 0) == 1024  # blocking would wait for all, but the clamp stops it
    first = [m.payload for m in ins[:1024]]
    assert all(m.bytes_received == 0 for m in ins[1024:])
    a.set_blocking(False)
    rest: list[bytes] = []
    while len(rest) < 476:
        wait_readable(a)
        got = a.receive_messages(ins, 0)
        assert 0 < got <= 476 - len(rest)
        rest += [m.payload for m in ins[:got]]
    assert first + rest == [b"%05d" % i for i in range(1500)]


# --------------------------------------------------------------------------------------------
# Messages reused and modified between calls (the native batch is cached)
# --------------------------------------------------------------------------------------------


def test_output_messages_reused_and_modified(sockets: Sockets, inet_family: Gio.SocketFamily) -> None:
    a, b = sockets.udp_pair(inet_family)
    other = sockets.udp_pair(inet_family)[0]
    dest = a.get_local_address()
    data = bytearray(b"aaaa")
    vector = Gio.OutputVector(data)
    out = [Gio.OutputMessage(dest, [vector]), Gio.OutputMessage(dest, [b"fixed"])]

    def expect(sock: Any, *payloads: bytes) -> None:
        for payload in payloads:
            got = sock.receive_from(None, 64)[2]
            assert bytes(got) == payload

    for _ in range(3):  # the same list again: same data
        assert b.send_messages(out, 0) == 2
        expect(a, b"aaaa", b"fixed")
    data[:] = b"bbbb"  # in place: the buffer is read at call time
    assert b.send_messages(out, 0) == 2
    expect(a, b"bbbb", b"fixed")
    vector.size = 2
    assert b.send_messages(out, 0) == 2
    assert out[0].bytes_sent == 2
    expect(a, b"bb", b"fixed")
    vector.buffer = b"swapped"  # size follows the new buffer
    assert b.send_messages(out, 0) == 2
    expect(a, b"swapped", b"fixed")
    out[1].vectors = [b"new ", b"vectors"]
    assert b.send_messages(out, 0) == 2
    assert [m.bytes_sent for m in out] == [7, 11]
    expect(a, b"swapped", b"new vectors")
    out[1].address = other.get_local_address()
    assert b.send_messages(out, 0) == 2
    expect(a, b"swapped")
    expect(other, b"new vectors")
    out.reverse()  # the list itself changed
    assert b.send_messages(out, 0) == 2
    expect(other, b"new vectors")
    expect(a, b"swapped")
    out[0] = Gio.OutputMessage(dest, [b"replaced"])
    assert b.send_messages(out, 0) == 2
    expect(a, b"replaced", b"swapped")


def test_output_read_only_view_of_a_mutable_buffer(unix_socketpair: tuple[Any, Any]) -> None:
    """A read-only memoryview over a bytearray: the data sent is the buffer's contents at call
    time, on the cached batch path as on send_message (the view is not a snapshot)."""
    a, b = unix_socketpair
    data = bytearray(b"aaaa")
    out = [Gio.OutputMessage(None, [Gio.OutputVector(memoryview(data).toreadonly())])]
    assert a.send_messages(out, 0) == 1
    assert bytes(b.receive_from(None, 16)[2]) == b"aaaa"
    data[:] = b"bbbb"
    assert a.send_message(None, out[0].vectors, None, 0) == 4
    assert bytes(b.receive_from(None, 16)[2]) == b"bbbb"
    assert a.send_messages(out, 0) == 1
    assert bytes(b.receive_from(None, 16)[2]) == b"bbbb"


def test_input_messages_reused_and_modified(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    dest = a.get_local_address()
    first, second = bytearray(8), bytearray(8)
    vector = Gio.InputVector(first)
    ins = [Gio.InputMessage([vector]), Gio.InputMessage([second])]

    def feed(*payloads: bytes) -> None:
        for payload in payloads:
            b.send_to(dest, payload, None)

    for i in range(3):  # same list, same buffers
        feed(b"one %d" % i, b"two %d" % i)
        assert a.receive_messages(ins, 0) == 2
        assert bytes(first[:5]) == b"one %d" % i
        assert bytes(second[:5]) == b"two %d" % i
    first[:] = bytes(8)
    second[:] = bytes(8)
    vector.size = 3  # smaller: truncates
    feed(b"abcdef", b"ghi")
    assert a.receive_messages(ins, 0) == 2
    assert (ins[0].bytes_received, ins[0].flags, bytes(first)) == (3, CLOEXEC | TRUNC, b"abc" + bytes(5))
    swapped = bytearray(16)
    vector.buffer = swapped  # size follows the new buffer
    feed(b"into swapped", b"jkl")
    assert a.receive_messages(ins, 0) == 2
    assert bytes(swapped[:12]) == b"into swapped"
    assert bytes(first) == b"abc" + bytes(5)  # the old buffer is left alone
    third = bytearray(4)
    ins[1].vectors = [third, Gio.InputVector(size=4)]
    feed(b"x", b"scattered")
    assert a.receive_messages(ins, 0) == 2
    assert bytes(third) == b"scat"
    assert ins[1].payload == b"scattere"
    assert ins[1].flags == CLOEXEC | TRUNC
    assert bytes(second[:5]) == b"jkl" + bytes(2)  # no longer in the message
    ins.append(Gio.InputMessage([bytearray(4)]))  # the list grew
    feed(b"1", b"2", b"3")
    assert a.receive_messages(ins, 0) == 3
    assert [m.payload for m in ins] == [b"1", b"2", b"3"]
    ins[0] = Gio.InputMessage([bytearray(4)])  # an element replaced
    feed(b"4", b"5", b"6")
    assert a.receive_messages(ins, 0) == 3
    assert [m.payload for m in ins] == [b"4", b"5", b"6"]
    assert bytes(swapped[:1]) == b"1"


def test_input_buffer_resize_while_cached(udp_pair: tuple[Any, Any]) -> None:
    """Resizing a cached bytearray may be refused (BufferError: it is locked while the native
    batch points into it); either way data lands where the message now says."""
    a, b = udp_pair
    buf = bytearray(8)
    ins = [Gio.InputMessage([buf])]
    b.send_to(a.get_local_address(), b"before", None)
    assert a.receive_messages(ins, 0) == 1
    try:
        buf.extend(b"more")
    except BufferError:
        resized = False
    else:
        resized = True
    fresh = bytearray(8)
    ins[0].vectors = [fresh]
    b.send_to(a.get_local_address(), b"after", None)
    assert a.receive_messages(ins, 0) == 1
    assert bytes(fresh[:5]) == b"after"
    assert bytes(buf[:6]) == b"before"
    if not resized:
        buf.extend(b"more")  # released once the batch no longer refers to it
        assert bytes(buf) == b"before\0\0more"


def test_same_messages_on_two_sockets(sockets: Sockets) -> None:
    a1, b1 = sockets.udp_pair()
    a2, b2 = sockets.udp_pair()
    ins = [Gio.InputMessage([bytearray(8)])]
    for i in range(3):
        b1.send_to(a1.get_local_address(), b"one %d" % i, None)
        b2.send_to(a2.get_local_address(), b"two %d" % i, None)
        assert a1.receive_messages(ins, 0) == 1
        assert ins[0].payload == b"one %d" % i
        assert same_address(ins[0].address, b1.get_local_address())
        assert a2.receive_messages(ins, 0) == 1
        assert ins[0].payload == b"two %d" % i
        assert same_address(ins[0].address, b2.get_local_address())
