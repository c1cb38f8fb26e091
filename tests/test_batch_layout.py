"""Batches laid out afresh every call (issue 9): every shape of batch against a model of it.

`gsocklab.core._batch_layout` reads each batch column by column and keeps per-thread arenas
whose constant columns it only rewrites when the shape of the batch changes. These tests
send and receive batches of every shape the layout distinguishes — one vector or several,
whole buffers or sizes, bytes, bytearray, memoryview and wide-item arrays, rooms the vectors
own or the caller's, one destination or several, calls that change shape from one to the
next — and compare what arrives with what a plain model of GLib's semantics says. Real UDP
on 127.0.0.1; every wait is bounded by the sockets' timeout.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsocklab import Gio, GLib

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol


def _udp(timeout: int = 5) -> Any:
    sock = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
    sock.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    sock.set_timeout(timeout)
    return sock


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Any, Any]]:
    a, b = _udp(), _udp()
    yield a, b
    a.close()
    b.close()


# -- a model of what a batch sends and receives ---------------------------------------------

def _sent_bytes(vectors: list[Any]) -> bytes:
    """The datagram a message's vectors make: each vector's first ``size`` bytes, in order."""
    return b"".join(memoryview(v.buffer).cast("B")[:v.size].tobytes() for v in vectors)


def _scatter(datagram: bytes, sizes: list[int]) -> list[bytes]:
    """How a datagram lands in rooms of ``sizes`` bytes (the rest of it is cut off)."""
    out, offset = [], 0
    for size in sizes:
        out.append(datagram[offset:offset + size])
        offset += size
    return out


_KINDS = ("bytes", "bytearray", "memoryview", "array-I", "sized")


def _output_vector(data: bytes, kind: str) -> Any:
    if kind == "bytes":
        return Gio.OutputVector(buffer=data)
    if kind == "bytearray":
        return Gio.OutputVector(buffer=bytearray(data))
    if kind == "memoryview":
        return Gio.OutputVector(buffer=memoryview(b"<" + data + b">")[1:-1])
    if kind == "array-I":  # items 4 bytes wide: size and length differ
        padded = data + bytes(-len(data) % 4)
        return Gio.OutputVector(buffer=array("I", padded), size=len(data))
    return Gio.OutputVector(buffer=data + b"-never-sent-", size=len(data))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.tuples(st.binary(max_size=40), st.sampled_from(_KINDS)), max_size=3),
                min_size=1, max_size=12),
       st.lists(st.lists(st.integers(0, 48), min_size=1, max_size=3), min_size=1, max_size=12),
       st.booleans())
def test_any_batch_shape_matches_the_model(pair: tuple[Any, Any], shapes: list[list[tuple[bytes, str]]],
                                           rooms: list[list[int]], owned: bool) -> None:
    a, b = pair
    dest = b.get_local_address()
    out = [Gio.OutputMessage(dest, [_output_vector(data, kind) for data, kind in shape]) for shape in shapes]
    expected = [_sent_bytes(list(m.vectors)) for m in out]
    assert a.send_messages(out, 0) == len(out)
    assert [m.bytes_sent for m in out] == [len(d) for d in expected]

    rooms = (rooms * len(out))[:len(out)]
    inbox = [Gio.InputMessage([Gio.InputVector(size=s) if owned else bytearray(s) for s in sizes])
             for sizes in rooms]
    got = 0
    while got < len(out):
        got += b.receive_messages(inbox[got:], 0)
    for message, datagram, sizes in zip(inbox, expected, rooms):
        fits = sum(sizes)
        assert message.bytes_received == min(len(datagram), fits)
        assert message.payload == datagram[:fits]
        assert bool(message.flags & 0x20) == (len(datagram) > fits)  # MSG_TRUNC
        assert message.address == a.get_local_address()
        for vector, piece, size in zip(message.vectors, _scatter(datagram, sizes), sizes):
            assert len(vector.buffer) == size
            assert bytes(vector.buffer[:len(piece)]) == piece


def test_owned_rooms_make_their_buffer_only_when_read(pair: tuple[Any, Any]) -> None:
    a, b = pair
    a.send_to(b.get_local_address(), b"hello")
    vector = Gio.InputVector(size=2048)
    message = Gio.InputMessage([vector])
    assert b.receive_messages([message], 0) == 1
    assert message.payload == b"hello"
    assert vector._buffer is None, "payload reads the received bytes without making the room"
    buffer = vector.buffer
    assert type(buffer) is bytearray
    assert len(buffer) == 2048
    assert buffer[:5] == b"hello"
    assert buffer[5:] == bytes(2043)
    assert vector.buffer is buffer, "once made, the buffer stays the vector's"
    a.send_to(b.get_local_address(), b"again")
    assert b.receive_messages([message], 0) == 1
    assert buffer[:5] == b"again", "a made buffer is received into like a caller's"


def test_owned_room_size_can_change_before_the_buffer_is_made() -> None:
    vector = Gio.InputVector(size=64)
    vector.size = 16
    assert (vector.size, len(vector.buffer)) == (16, 64)
    with pytest.raises(GLib.Error, match="does not fit"):
        vector.size = 65


def test_owned_buffer_made_by_several_threads_at_once_is_one_buffer() -> None:
    for _ in range(50):
        vector = Gio.InputVector(size=1 << 16)
        seen: list[Any] = []
        barrier = threading.Barrier(4)

        def read(v: Any = vector, barrier: threading.Barrier = barrier, seen: list[Any] = seen) -> None:
            barrier.wait(timeout=5)
            seen.append(v.buffer)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=5)
        assert len(seen) == 4
        assert all(buffer is seen[0] for buffer in seen)


def test_mixed_owned_and_caller_rooms_in_one_batch(pair: tuple[Any, Any]) -> None:
    a, b = pair
    dest = b.get_local_address()
    assert a.send_messages([Gio.OutputMessage(dest, [b"%d" % i * 3]) for i in range(4)], 0) == 4
    mine = [bytearray(8), bytearray(8)]
    inbox = [Gio.InputMessage([mine[0]]), Gio.InputMessage([Gio.InputVector(size=8)]),
             Gio.InputMessage([mine[1]]), Gio.InputMessage([Gio.InputVector(size=8)])]
    assert b.receive_messages(inbox, 0) == 4
    assert [m.payload for m in inbox] == [b"000", b"111", b"222", b"333"]
    assert mine == [bytearray(b"000" + bytes(5)), bytearray(b"222" + bytes(5))]


def test_destinations_that_are_equal_but_not_the_same_object(pair: tuple[Any, Any]) -> None:
    a, b = pair
    c = _udp()
    try:
        port_b, port_c = b.get_local_address().get_port(), c.get_local_address().get_port()
        out = [Gio.OutputMessage(Gio.InetSocketAddress.new_from_string("127.0.0.1", port), [b"%d" % i])
               for i, port in enumerate([port_b, port_b, port_c, port_b, port_c])]
        assert a.send_messages(out, 0) == 5
        for receiver, expected in ((b, [b"0", b"1", b"3"]), (c, [b"2", b"4"])):
            inbox = [Gio.InputMessage([Gio.InputVector(size=4)]) for _ in expected]
            assert receiver.receive_messages(inbox, 0) == len(expected)
            assert [m.payload for m in inbox] == expected
    finally:
        c.close()


def test_shapes_change_from_call_to_call(pair: tuple[Any, Any]) -> None:
    """The arena remembers its constant columns; every change of shape must rewrite them."""
    a, b = pair
    dest = b.get_local_address()
    other = _udp()
    try:
        steps = [
            ([[b"a" * 10]] * 5, [[16]] * 5, dest),
            ([[b"b" * 10, b"c" * 5]] * 3, [[4, 20]] * 3, dest),  # several vectors: iovecs move
            ([[b"d" * 30]] * 6, [[16]] * 6, other.get_local_address()),  # another destination, truncation
            ([[b"e" * 7]] * 2, [[7], [3, 4]], dest),
            ([[b"f" * 20]] * 8, [[32]] * 8, dest),  # more messages than before, one vector again
        ]
        for shapes, rooms, to in steps:
            receiver = other if to is not dest else b
            out = [Gio.OutputMessage(to, list(shape)) for shape in shapes]
            assert a.send_messages(out, 0) == len(out)
            inbox = [Gio.InputMessage([Gio.InputVector(size=s) for s in sizes]) for sizes in rooms]
            assert receiver.receive_messages(inbox, 0) == len(out)
            for message, shape, sizes in zip(inbox, shapes, rooms):
                datagram = b"".join(shape)
                assert message.payload == datagram[:sum(sizes)]
                assert message.address == a.get_local_address()
    finally:
        other.close()


def test_a_batch_bigger_than_the_kept_arena(pair: tuple[Any, Any]) -> None:
    """Calls with 300 rooms of 64 KiB (19 MiB) use memory of their own; later calls are unaffected.

    Datagrams go 100 at a time (the receive buffer holds that many) into a new list of 300
    rooms, received without blocking.
    """
    a, b = pair
    dest = b.get_local_address()
    expected = [bytes([i % 256]) * (100 + i) for i in range(300)]
    received: list[bytes] = []
    b.set_blocking(False)
    try:
        for start in range(0, 300, 100):
            out = [Gio.OutputMessage(dest, [data]) for data in expected[start:start + 100]]
            assert a.send_messages(out, 0) == 100
            while len(received) < start + 100:
                assert b.condition_timed_wait(GLib.IOCondition.IN, 5_000_000)
                inbox = [Gio.InputMessage([Gio.InputVector(size=65536)]) for _ in range(300)]
                got = b.receive_messages(inbox, 0)
                received += [m.payload for m in inbox[:got]]
        assert received == expected
        small = [Gio.InputMessage([bytearray(8)])]
        a.send_to(dest, b"small")
        assert b.receive_messages(small, 0) == 1
        assert small[0].payload == b"small"
    finally:
        b.set_blocking(True)


def test_batches_in_several_threads_at_once() -> None:
    """Each thread has its own arenas: four threads each run 200 rounds on their own sockets."""
    errors: list[BaseException] = []

    def run(tag: int) -> None:
        a, b = _udp(), _udp()
        try:
            dest = b.get_local_address()
            for i in range(200):
                payloads = [b"%d:%d:%d" % (tag, i, j) * (1 + (i + j) % 5) for j in range(16)]
                assert a.send_messages([Gio.OutputMessage(dest, [p]) for p in payloads], 0) == 16
                inbox = [Gio.InputMessage([Gio.InputVector(size=64)]) for _ in range(16)]
                got = 0
                while got < 16:
                    got += b.receive_messages(inbox[got:], 0)
                assert [m.payload for m in inbox] == payloads
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            a.close()
            b.close()

    threads = [threading.Thread(target=run, args=(tag,)) for tag in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors[0]


def test_wrong_message_types_fail_before_anything_is_received(pair: tuple[Any, Any]) -> None:
    a, b = pair
    a.send_to(b.get_local_address(), b"keep me")
    with pytest.raises(TypeError, match=r"Gio\.InputMessage"):
        b.receive_messages([Gio.OutputMessage(None, [bytearray(16)])], 0)
    with pytest.raises(TypeError, match=r"Gio\.OutputMessage"):
        a.send_messages([Gio.InputMessage([bytearray(16)])], 0)
    inbox = [Gio.InputMessage([Gio.InputVector(size=16)])]
    assert b.receive_messages(inbox, 0) == 1
    assert inbox[0].payload == b"keep me"
