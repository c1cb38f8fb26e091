"""Every waiting mode of the batched calls and of ``send_message_with_timeout``
(reference §1.4, §1.5, §2.6 receive_messages, §2.7, §2.13, §6.1 rows 7-8, E22, E24).

``receive_messages``: blocking without a socket timeout waits until *all* messages arrived;
with a socket timeout it returns the partial count when a wait times out (``TIMED_OUT`` with
none); non-blocking returns what is queued (``WOULD_BLOCK`` with none); a cancellation
mid-batch returns the partial count (``CANCELLED`` with none). ``Gio.DatagramBased`` takes an
explicit timeout instead. ``send_messages`` and ``send_message_with_timeout`` on a full socket.

Nothing can hang: a socket without a timeout is always paired with a `watchdog` that cancels
the call after 5 s (a socket timeout would change the semantics under test). Timing bounds
are generous: a lower bound shows that the call waited, an upper one that it did not hang.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import Sockets

from gsocklab import Gio, GLib

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
E = Gio.IOErrorEnum
IN, OUT = GLib.IOCondition.IN, GLib.IOCondition.OUT
CLOEXEC = 0x40000000
TRUNC = 0x20
WATCHDOG = 5.0
BIG = 8192  # datagram size used to fill a Unix socket's send buffer


@contextmanager
def watchdog(seconds: float = WATCHDOG) -> Iterator[Any]:
    """A Cancellable that another thread cancels after ``seconds``: bounds an endless wait."""
    cancellable = Gio.Cancellable.new()
    timer = threading.Timer(seconds, cancellable.cancel)
    timer.start()
    try:
        yield cancellable
    finally:
        timer.cancel()
        timer.join()


@contextmanager
def later(seconds: float, action: Callable[[], object]) -> Iterator[None]:
    """Run ``action`` in another thread after ``seconds``; joined on exit."""
    timer = threading.Timer(seconds, action)
    timer.start()
    try:
        yield
    finally:
        timer.join()


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """``(result or the GLib.Error raised, seconds)``."""
    start = time.monotonic()
    try:
        result = fn(*args)
    except GLib.Error as exc:
        result = exc
    return result, time.monotonic() - start


def is_error(result: Any, code: Gio.IOErrorEnum, message: str | None = None) -> bool:
    return (isinstance(result, GLib.Error) and result.code == code
            and (message is None or result.message == message))


def messages(n: int, size: int = 16) -> list[Any]:
    return [Gio.InputMessage([bytearray(size)]) for _ in range(n)]


def payloads(ms: list[Any], n: int) -> list[bytes]:
    return [m.payload for m in ms[:n]]


@pytest.fixture
def dgram(sockets: Sockets) -> tuple[Any, Any, Callable[[bytes], None]]:
    """(receiver with no socket timeout, sender, send(payload) to the receiver)."""
    a, b = sockets.udp_pair()
    a.set_timeout(0)
    dest = a.get_local_address()

    def send(payload: bytes) -> None:
        assert b.send_to(dest, payload, None) == len(payload)

    return a, b, send


def unix_dgram_pair(sockets: Sockets, sndbuf: int = 65536) -> tuple[Any, Any]:
    """A Unix datagram socketpair whose first end has a small send buffer (fills quickly)."""
    x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    x.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    return sockets.adopt(x), sockets.adopt(y)


def big_messages(n: int) -> list[Any]:
    return [Gio.OutputMessage(None, [bytes([i % 256]) * BIG]) for i in range(n)]


def fill_stream(sock: Any) -> int:
    """Send on a non-blocking stream socket until the kernel's buffers are full."""
    sock.set_blocking(False)
    chunk, total = b"x" * 1_048_576, 0
    for _ in range(2):  # twice, in case the peer's window opened a little meanwhile
        while True:
            result, _ = timed(sock.send, chunk, None)
            if isinstance(result, GLib.Error):
                assert result.code == E.WOULD_BLOCK
                break
            total += result
        time.sleep(0.05)
    return total


# --------------------------------------------------------------------------------------------
# receive_messages: blocking, no socket timeout -> waits for ALL messages
# --------------------------------------------------------------------------------------------


def test_blocking_without_timeout_waits_for_all(dgram: tuple[Any, Any, Any]) -> None:
    """§2.6, E22: 2 queued + 1 more after 0.3 s, 3 asked -> 3, after the third arrived."""
    a, _, send = dgram
    send(b"m0")
    send(b"m1")
    ms = messages(3)
    with watchdog() as cancellable, later(0.3, lambda: send(b"late")):
        result, seconds = timed(a.receive_messages, ms, 0, cancellable)
    assert result == 3
    assert 0.25 <= seconds < WATCHDOG - 0.5
    assert payloads(ms, 3) == [b"m0", b"m1", b"late"]


def test_blocking_without_timeout_cancelled_mid_batch(dgram: tuple[Any, Any, Any]) -> None:
    """§1.5, §2.6: a cancellation after one message arrived returns that count."""
    a, _, send = dgram
    send(b"only")
    ms = messages(3)
    cancellable = Gio.Cancellable.new()
    with later(0.3, cancellable.cancel):
        result, seconds = timed(a.receive_messages, ms, 0, cancellable)
    assert result == 1
    assert 0.25 <= seconds < 3
    assert payloads(ms, 1) == [b"only"]


def test_blocking_without_timeout_cancelled_with_none(dgram: tuple[Any, Any, Any]) -> None:
    """§6.1 rows 7-8: nothing queued, cancelled from another thread -> CANCELLED."""
    a, _, _ = dgram
    cancellable = Gio.Cancellable.new()
    with later(0.1, cancellable.cancel):
        result, seconds = timed(a.receive_messages, messages(1), 0, cancellable)
    assert is_error(result, E.CANCELLED, "Operation was cancelled")
    assert 0.05 <= seconds < 3


def test_pre_cancelled_beats_queued_data(dgram: tuple[Any, Any, Any]) -> None:
    """§1.3: the cancellable is checked before the first system call."""
    a, _, send = dgram
    send(b"queued")
    cancellable = Gio.Cancellable.new()
    cancellable.cancel()
    for blocking in (True, False):
        a.set_blocking(blocking)
        result, _ = timed(a.receive_messages, messages(1), 0, cancellable)
        assert is_error(result, E.CANCELLED, "Operation was cancelled")
    assert a.get_available_bytes() == 6


def test_blocking_without_timeout_on_closed_socket(dgram: tuple[Any, Any, Any]) -> None:
    a, _, _ = dgram
    a.close()
    result, _ = timed(a.receive_messages, messages(1), 0)
    assert is_error(result, E.CLOSED, "Socket is already closed")


# --------------------------------------------------------------------------------------------
# receive_messages: blocking with a socket timeout
# --------------------------------------------------------------------------------------------


def test_socket_timeout_returns_partial_count(dgram: tuple[Any, Any, Any]) -> None:
    """E22: 2 queued, 3 asked, timeout 1 -> 2 after ~1 s."""
    a, _, send = dgram
    a.set_timeout(1)
    send(b"m0")
    send(b"m1")
    ms = messages(3)
    ms[2].bytes_received = 99
    result, seconds = timed(a.receive_messages, ms, 0)
    assert result == 2
    assert 0.9 <= seconds < 3
    assert payloads(ms, 2) == [b"m0", b"m1"]
    assert ms[2].bytes_received == 99  # not received: untouched


def test_socket_timeout_with_none_is_timed_out(dgram: tuple[Any, Any, Any]) -> None:
    """§6.1 rows 7-8, E22: TIMED_OUT after ~1 s."""
    a, _, _ = dgram
    a.set_timeout(1)
    result, seconds = timed(a.receive_messages, messages(3), 0)
    assert is_error(result, E.TIMED_OUT, "Socket I/O timed out")
    assert 0.9 <= seconds < 3


def test_socket_timeout_is_an_inactivity_timeout(dgram: tuple[Any, Any, Any]) -> None:
    """§1.4: each arrival restarts a full socket timeout; the batch keeps waiting for more."""
    a, _, send = dgram
    a.set_timeout(1)
    send(b"m0")
    ms = messages(4)
    with later(0.6, lambda: send(b"m1")), later(1.2, lambda: send(b"m2")):
        result, seconds = timed(a.receive_messages, ms, 0)
    assert result == 3
    assert 2.0 <= seconds < 4.5  # the last arrival at 1.2 s, then one more second of silence
    assert payloads(ms, 3) == [b"m0", b"m1", b"m2"]


def test_socket_timeout_cancelled_mid_batch(dgram: tuple[Any, Any, Any]) -> None:
    a, _, send = dgram
    a.set_timeout(3)
    send(b"m0")
    cancellable = Gio.Cancellable.new()
    with later(0.3, cancellable.cancel):
        result, seconds = timed(a.receive_messages, messages(2), 0, cancellable)
    assert result == 1
    assert 0.25 <= seconds < 2


# --------------------------------------------------------------------------------------------
# receive_messages: non-blocking
# --------------------------------------------------------------------------------------------


def test_non_blocking_returns_what_is_queued(dgram: tuple[Any, Any, Any]) -> None:
    a, _, send = dgram
    a.set_blocking(False)
    send(b"m0")
    send(b"m1")
    ms = messages(3)
    result, seconds = timed(a.receive_messages, ms, 0)
    assert result == 2
    assert seconds < 0.5
    assert payloads(ms, 2) == [b"m0", b"m1"]
    result, seconds = timed(a.receive_messages, ms, 0)
    assert is_error(result, E.WOULD_BLOCK, "Resource temporarily unavailable")
    assert seconds < 0.5


def test_non_blocking_ignores_the_socket_timeout(dgram: tuple[Any, Any, Any]) -> None:
    a, _, _ = dgram
    a.set_blocking(False)
    a.set_timeout(3)
    result, seconds = timed(a.receive_messages, messages(1), 0)
    assert is_error(result, E.WOULD_BLOCK)
    assert seconds < 0.5


def test_peek_flag(dgram: tuple[Any, Any, Any]) -> None:
    """E22: MSG_PEEK through receive_messages leaves the datagram queued."""
    a, _, send = dgram
    a.set_blocking(False)
    send(b"peek")
    ms = messages(1)
    assert a.receive_messages(ms, Gio.SocketMsgFlags.PEEK) == 1
    assert ms[0].payload == b"peek"
    assert a.get_available_bytes() == 4
    assert a.receive_messages(ms, 0) == 1
    assert a.get_available_bytes() == 0


# --------------------------------------------------------------------------------------------
# receive_messages: the peer closed a stream or seqpacket connection
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("blocking", [True, False], ids=["blocking", "non-blocking"])
def test_seqpacket_peer_closed(sockets: Sockets, blocking: bool) -> None:
    """recvmmsg counts each read at end of stream as a message of 0 bytes (GLib 2.74 agrees:
    3 for 1 queued + EOF, then 3 again); GLib's "ret == 0: stop" never triggers."""
    x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    a, b = sockets.adopt(x), sockets.adopt(y)
    a.set_blocking(blocking)
    b.send(b"hello", None)
    b.close()
    ms = messages(3)
    result, seconds = timed(a.receive_messages, ms, 0)
    assert result == 3
    assert seconds < 1
    assert [m.bytes_received for m in ms] == [5, 0, 0]
    assert ms[0].payload == b"hello"
    assert a.receive_messages(ms, 0) == 3
    assert [m.bytes_received for m in ms] == [0, 0, 0]


def test_tcp_peer_closed(tcp_pair: tuple[Any, Any, Any]) -> None:
    _, client, server = tcp_pair
    client.send(b"abc", None)
    client.close()
    ms = messages(3, size=2)
    assert server.receive_messages(ms, 0) == 3
    assert [m.payload for m in ms] == [b"ab", b"c", b""]
    assert [m.address for m in ms] == [None, None, None]


def test_stream_peer_closes_while_blocked(sockets: Sockets) -> None:
    """Blocking without timeout, 1 of 3 queued: the peer's close ends the wait."""
    x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a, b = sockets.adopt(x), sockets.adopt(y)
    a.set_timeout(0)
    b.send(b"part", None)
    ms = messages(3, size=4)
    with watchdog() as cancellable, later(0.3, b.close):
        result, seconds = timed(a.receive_messages, ms, 0, cancellable)
    assert result == 3
    assert 0.25 <= seconds < WATCHDOG - 0.5
    assert [m.payload for m in ms] == [b"part", b"", b""]


# --------------------------------------------------------------------------------------------
# Gio.DatagramBased: explicit timeouts (§2.13)
# --------------------------------------------------------------------------------------------


def test_datagram_based_timeout_minus_one_waits_for_all(dgram: tuple[Any, Any, Any]) -> None:
    """The explicit timeout wins over the socket's blocking flag."""
    a, _, send = dgram
    a.set_blocking(False)
    send(b"m0")
    ms = messages(2)
    with watchdog() as cancellable, later(0.3, lambda: send(b"m1")):
        result, seconds = timed(Gio.DatagramBased.receive_messages, a, ms, 0, -1, cancellable)
    assert result == 2
    assert 0.25 <= seconds < WATCHDOG - 0.5
    assert payloads(ms, 2) == [b"m0", b"m1"]


def test_datagram_based_timeout_zero_never_waits(dgram: tuple[Any, Any, Any]) -> None:
    a, _, send = dgram
    assert a.get_blocking()
    send(b"m0")
    ms = messages(2)
    result, seconds = timed(Gio.DatagramBased.receive_messages, a, ms, 0, 0, None)
    assert result == 1
    assert seconds < 0.5
    result, seconds = timed(Gio.DatagramBased.receive_messages, a, ms, 0, 0, None)
    assert is_error(result, E.WOULD_BLOCK, "Resource temporarily unavailable")
    assert seconds < 0.5


def test_datagram_based_positive_timeout_is_a_deadline(dgram: tuple[Any, Any, Any]) -> None:
    a, _, send = dgram
    send(b"m0")
    ms = messages(2)
    result, seconds = timed(Gio.DatagramBased.receive_messages, a, ms, 0, 300_000, None)
    assert result == 1
    assert 0.25 <= seconds < 2
    result, seconds = timed(Gio.DatagramBased.receive_messages, a, ms, 0, 300_000, None)
    assert is_error(result, E.TIMED_OUT, "Socket I/O timed out")
    assert 0.25 <= seconds < 2
    # arrivals do not extend a deadline (unlike the socket timeout)
    with later(0.2, lambda: send(b"m1")):
        result, seconds = timed(Gio.DatagramBased.receive_messages, a, messages(3), 0, 500_000, None)
    assert result == 1
    assert 0.45 <= seconds < 2


def test_datagram_based_cancelled(dgram: tuple[Any, Any, Any]) -> None:
    a, _, send = dgram
    cancellable = Gio.Cancellable.new()
    with later(0.2, cancellable.cancel):
        result, _ = timed(Gio.DatagramBased.receive_messages, a, messages(1), 0, -1, cancellable)
    assert is_error(result, E.CANCELLED)
    send(b"m0")
    cancellable = Gio.Cancellable.new()
    with later(0.2, cancellable.cancel):
        result, _ = timed(Gio.DatagramBased.receive_messages, a, messages(2), 0, 3_000_000, cancellable)
    assert result == 1


NON_DATAGRAM = "Cannot use datagram operations on a non-datagram socket."
WITH_TIMEOUT = "Cannot use datagram operations on a socket with a timeout set."


def test_datagram_based_not_supported(sockets: Sockets, tcp_pair: tuple[Any, Any, Any]) -> None:
    """§2.13, E15: GLib loses this error (Python gets -1); gsocklab raises NOT_SUPPORTED."""
    _, client, _ = tcp_pair
    client.set_timeout(0)
    x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_stream = sockets.adopt(x)
    sockets.adopt(y)
    unix_stream.set_timeout(0)
    with_timeout = sockets.new(F.IPV4, T.DATAGRAM, timeout=1)
    cases = [(client, NON_DATAGRAM), (unix_stream, NON_DATAGRAM), (with_timeout, WITH_TIMEOUT)]
    for sock, message in cases:
        for call, arg in ((Gio.DatagramBased.receive_messages, messages(1)),
                          (Gio.DatagramBased.send_messages, [Gio.OutputMessage(None, [b"x"])])):
            result, _ = timed(call, sock, arg, 0, 0, None)
            assert is_error(result, E.NOT_SUPPORTED, message), (sock, call)
        result, _ = timed(Gio.DatagramBased.condition_wait, sock, OUT, 0, None)
        assert is_error(result, E.NOT_SUPPORTED, message)
        assert Gio.DatagramBased.condition_check(sock, OUT) == GLib.IOCondition.ERR
    with_timeout.set_timeout(0)
    assert Gio.DatagramBased.condition_check(with_timeout, OUT) == OUT


def test_datagram_based_condition_wait(dgram: tuple[Any, Any, Any]) -> None:
    a, _, send = dgram
    assert Gio.DatagramBased.condition_wait(a, OUT, 0, None) is True
    assert Gio.DatagramBased.condition_check(a, IN | OUT) == OUT
    result, seconds = timed(Gio.DatagramBased.condition_wait, a, IN, 200_000, None)
    assert is_error(result, E.TIMED_OUT, "Socket I/O timed out")
    assert 0.15 <= seconds < 2
    with later(0.2, lambda: send(b"x")):
        result, seconds = timed(Gio.DatagramBased.condition_wait, a, IN, 3_000_000, None)
    assert result is True
    assert 0.15 <= seconds < 2
    assert Gio.DatagramBased.condition_check(a, IN) == IN


def test_datagram_based_send_messages(sockets: Sockets) -> None:
    a, b = unix_dgram_pair(sockets)
    a.set_timeout(0)
    out = big_messages(40)
    sent, seconds = timed(Gio.DatagramBased.send_messages, a, out, 0, 0, None)
    assert 0 < sent < 40
    assert seconds < 0.5
    result, seconds = timed(Gio.DatagramBased.send_messages, a, out[sent:], 0, 0, None)
    assert is_error(result, E.WOULD_BLOCK)
    result, seconds = timed(Gio.DatagramBased.send_messages, a, out[sent:], 0, 300_000, None)
    assert is_error(result, E.TIMED_OUT)
    assert 0.25 <= seconds < 2
    done = threading.Event()

    def drain() -> None:
        for _ in range(40):
            assert b.receive_from(None, BIG)[0] == BIG
        done.set()

    reader = threading.Thread(target=drain)
    reader.start()
    with watchdog() as cancellable:
        result, _ = timed(Gio.DatagramBased.send_messages, a, out[sent:], 0, -1, cancellable)
    reader.join(10)
    assert result == 40 - sent
    assert done.is_set()


# --------------------------------------------------------------------------------------------
# send_messages on a full socket
# --------------------------------------------------------------------------------------------


def test_send_messages_non_blocking_on_full_socket(sockets: Sockets) -> None:
    a, b = unix_dgram_pair(sockets)
    a.set_blocking(False)
    out = big_messages(40)
    sent, seconds = timed(a.send_messages, out, 0)
    assert 0 < sent < 40
    assert seconds < 0.5
    assert [m.bytes_sent for m in out] == [BIG] * sent + [0] * (40 - sent)
    result, _ = timed(a.send_messages, out[sent:], 0)
    assert is_error(result, E.WOULD_BLOCK, "Resource temporarily unavailable")
    assert all(m.bytes_sent == 0 for m in out[sent:])
    for i in range(sent):  # what was sent arrives, in order
        count, _, data = b.receive_from(None, BIG)
        assert (count, bytes(data[:1])) == (BIG, bytes([i % 256]))


def test_send_messages_blocking_with_timeout_on_full_socket(sockets: Sockets) -> None:
    a, _ = unix_dgram_pair(sockets)
    a.set_timeout(1)
    out = big_messages(40)
    sent, seconds = timed(a.send_messages, out, 0)  # fills up, then waits 1 s for room
    assert 0 < sent < 40
    assert 0.9 <= seconds < 3
    result, seconds = timed(a.send_messages, out[sent:], 0)
    assert is_error(result, E.TIMED_OUT, "Socket I/O timed out")
    assert 0.9 <= seconds < 3


def test_send_messages_blocking_waits_for_room(sockets: Sockets) -> None:
    """Blocking without timeout: all messages go once a reader makes room."""
    a, b = unix_dgram_pair(sockets)
    a.set_timeout(0)
    out = big_messages(100)
    received: list[int] = []

    def drain() -> None:
        for _ in range(100):
            data = b.receive_from(None, BIG)[2]  # b has a 5 s timeout
            received.append(data[0])

    reader = threading.Thread(target=drain)
    with watchdog() as cancellable:
        reader.start()
        result, _ = timed(a.send_messages, out, 0, cancellable)
    reader.join(10)
    assert result == 100
    assert all(m.bytes_sent == BIG for m in out)
    assert received == [i % 256 for i in range(100)]


def test_send_messages_cancelled_on_full_socket(sockets: Sockets) -> None:
    a, _ = unix_dgram_pair(sockets)
    a.set_timeout(0)
    out = big_messages(40)
    cancellable = Gio.Cancellable.new()
    with later(0.3, cancellable.cancel):
        sent, seconds = timed(a.send_messages, out, 0, cancellable)
    assert 0 < sent < 40  # partial count, not an error
    assert 0.25 <= seconds < 3
    cancellable = Gio.Cancellable.new()
    with later(0.3, cancellable.cancel):
        result, seconds = timed(a.send_messages, out[sent:], 0, cancellable)
    assert is_error(result, E.CANCELLED, "Operation was cancelled")
    assert 0.25 <= seconds < 3


# --------------------------------------------------------------------------------------------
# send_message / send_message_with_timeout on a full stream (E24)
# --------------------------------------------------------------------------------------------


def test_send_message_with_timeout_on_full_stream(tcp_pair: tuple[Any, Any, Any]) -> None:
    _, client, server = tcp_pair
    assert fill_stream(client) > 0
    vector = Gio.OutputVector(b"y" * 10)
    result, seconds = timed(client.send_message_with_timeout, None, [vector], None, 0, 0)
    assert result == (Gio.PollableReturn.WOULD_BLOCK, 0)  # no exception
    assert seconds < 0.5
    result, seconds = timed(client.send_message_with_timeout, None, [vector], None, 0, 300_000)
    assert is_error(result, E.TIMED_OUT, "Socket I/O timed out")
    assert 0.28 <= seconds < 2
    client.set_timeout(1)  # the socket timeout caps each wait of a -1 call
    result, seconds = timed(client.send_message_with_timeout, None, [vector], None, 0, -1)
    assert is_error(result, E.TIMED_OUT)
    assert 0.9 <= seconds < 3
    result, seconds = timed(client.send_message_with_timeout, None, [vector], None, 0, 300_000)
    assert is_error(result, E.TIMED_OUT)  # the shorter explicit deadline wins
    assert 0.28 <= seconds < 0.9
    cancellable = Gio.Cancellable.new()
    with later(0.2, cancellable.cancel):
        result, seconds = timed(client.send_message_with_timeout, None, [vector], None, 0, 3_000_000,
                                cancellable)
    assert is_error(result, E.CANCELLED)
    # plain send_message: non-blocking -> WOULD_BLOCK raised; blocking -> TIMED_OUT (timeout 1)
    result, _ = timed(client.send_message, None, [vector], None, 0)
    assert is_error(result, E.WOULD_BLOCK, "Resource temporarily unavailable")
    client.set_blocking(True)
    result, seconds = timed(client.send_message, None, [vector], None, 0)
    assert is_error(result, E.TIMED_OUT)
    assert 0.9 <= seconds < 3
    # room again: the reader drains everything, then the send goes through
    server.set_blocking(False)
    drained = 0
    while True:
        try:
            drained += server.receive(None, 1_048_576)[0]
        except GLib.Error:
            break
    assert drained > 0
    result, _ = timed(client.send_message_with_timeout, None, [vector], None, 0, 1_000_000)
    assert result == (Gio.PollableReturn.OK, 10)
    assert result[1] == 10


def test_send_message_with_timeout_modes_when_there_is_room(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    dest = a.get_local_address()
    for timeout in (0, -1, 1_000_000):
        assert b.send_message_with_timeout(dest, [b"abc"], None, 0, timeout) == (Gio.PollableReturn.OK, 3)
        assert bytes(a.receive_from(None, 8)[2]) == b"abc"
    b.close()
    result, _ = timed(b.send_message_with_timeout, dest, [b"abc"], None, 0, 0)
    assert is_error(result, E.CLOSED)


# --------------------------------------------------------------------------------------------
# GLib's one-message-at-a-time fallback (no recvmmsg/sendmmsg in the C library)
# --------------------------------------------------------------------------------------------


@pytest.fixture
def fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gsocklab.core._socket_messages.RECVMMSG", None)
    monkeypatch.setattr("gsocklab.core._socket_messages.SENDMMSG", None)


@pytest.mark.usefixtures("fallback")
def test_fallback_modes(dgram: tuple[Any, Any, Any]) -> None:
    """§2.6 fallback: partial counts on WOULD_BLOCK/TIMED_OUT after the first message."""
    a, b, send = dgram
    dest = a.get_local_address()
    out = [Gio.OutputMessage(dest, [b"f0"]), Gio.OutputMessage(dest, [b"f", b"1"])]
    assert b.send_messages(out, 0) == 2
    assert [m.bytes_sent for m in out] == [2, 2]
    ms = messages(3)
    a.set_timeout(1)
    result, seconds = timed(a.receive_messages, ms, 0)
    assert result == 2
    assert 0.9 <= seconds < 3
    assert payloads(ms, 2) == [b"f0", b"f1"]
    result, _ = timed(a.receive_messages, ms, 0)
    assert is_error(result, E.TIMED_OUT)
    a.set_blocking(False)
    send(b"nb")
    assert a.receive_messages(ms, 0) == 1
    result, _ = timed(a.receive_messages, ms, 0)
    assert is_error(result, E.WOULD_BLOCK)


@pytest.mark.usefixtures("fallback")
def test_fallback_zero_length_and_zero_vectors(dgram: tuple[Any, Any, Any]) -> None:
    """§2.6 fallback: a 0-byte datagram stops the batch and is not counted; no vectors reads
    one discarded byte per message (unlike recvmmsg)."""
    a, _, send = dgram
    a.set_blocking(False)
    send(b"one")
    send(b"")
    send(b"three")
    ms = messages(3)
    assert a.receive_messages(ms, 0) == 1
    assert a.receive_messages(ms, 0) == 1
    assert ms[0].payload == b"three"
    send(b"hello")
    zero = [Gio.InputMessage()]
    assert a.receive_messages(zero, 0) == 1
    assert (zero[0].bytes_received, zero[0].flags) == (1, CLOEXEC | TRUNC)


@pytest.mark.usefixtures("fallback")
def test_fallback_flags_in_are_the_calls_flags(dgram: tuple[Any, Any, Any]) -> None:
    """§2.6 fallback: ``msg->flags = flags`` before each receive; the flags a message got last
    time (here MSG_TRUNC) are outputs, never fed back to recvmsg as inputs."""
    a, _, send = dgram
    a.set_blocking(False)
    ms = [Gio.InputMessage([bytearray(4)])]
    for _ in range(2):
        send(b"0123456789")
        assert a.receive_messages(ms, 0) == 1
        assert (ms[0].bytes_received, ms[0].flags, ms[0].payload) == (4, CLOEXEC | TRUNC, b"0123")
    ms[0].flags = int(Gio.SocketMsgFlags.PEEK)  # a stale value the caller left behind
    send(b"abc")
    assert a.receive_messages(ms, 0) == 1
    assert a.get_available_bytes() == 0  # consumed: PEEK was not taken from the message
