"""Behaviour tests of gsocklab's Gio layer (no oracle), over real peers.

Streams on `SocketConnection`, data and buffered streams, Unix and memory streams, async
pairs, `SocketClient`, `SocketListener`/`SocketService`/`ThreadedSocketService`, signals,
the recorder's ``via`` column, `GLib.Bytes` and vectors with raw addresses. Peers are stdlib
sockets on 127.0.0.1 or Unix socket pairs, pipes and other threads. Every blocking call is
bounded: sockets get a timeout, waits a deadline, threads a join timeout; "promptly" means
within `PROMPT` seconds of the call made in another thread.
"""

from __future__ import annotations

import ctypes
import gc
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from gsocklab import Gio, GLib, Recorder
from gsocklab.record import _persist

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
E = Gio.IOErrorEnum
EV = Gio.SocketClientEvent
LIMIT = 5.0  # seconds: the bound on every wait
PROMPT = 0.5  # seconds: how soon a call from another thread must end a blocked one


# -- helpers ------------------------------------------------------------------------------------


def fd_count() -> int:
    """Open descriptors of this process, after a garbage collection."""
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


def gsocklab_threads() -> list[threading.Thread]:
    """The worker threads of gsocklab's async calls still running."""
    return [t for t in threading.enumerate() if t.name.startswith("gsocklab ")]


def pump(predicate: Callable[[], bool], limit: float = LIMIT, context: GLib.MainContext | None = None) -> None:
    """Iterate ``context`` (the default one) without blocking until ``predicate()`` holds."""
    context = context or GLib.MainContext.default()
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        context.iteration(False)
        time.sleep(0.002)


def settle() -> None:
    """Let gsocklab's async workers end and deliver their callbacks (a closed service's
    last accept), so that nothing of a test runs in the next one."""
    pump(lambda: not gsocklab_threads())
    for _ in range(5):
        GLib.MainContext.default().iteration(False)


def later(delay: float, function: Callable[[], Any]) -> tuple[threading.Thread, list[float]]:
    """Call ``function()`` in a new thread after ``delay`` s; the thread and ``[monotonic time of the call]``."""
    when: list[float] = []

    def body() -> None:
        time.sleep(delay)
        when.append(time.monotonic())
        function()

    thread = threading.Thread(target=body, name="later", daemon=True)
    thread.start()
    return thread, when


def lo4(port: int = 0) -> Gio.InetSocketAddress:
    return Gio.InetSocketAddress.new_from_string("127.0.0.1", port)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def connection_pair() -> tuple[Any, socket.socket]:
    """(gsocklab `SocketConnection` on one end of a Unix socket pair, the stdlib other end)."""
    a, b = socket.socketpair()
    b.settimeout(LIMIT)
    sock = Gio.Socket.new_from_fd(a.detach())
    sock.set_timeout(int(LIMIT))
    return sock.connection_factory_create_connection(), b


def code(info: pytest.ExceptionInfo[Any]) -> Any:
    return info.value.code


@pytest.fixture
def listening() -> Iterator[tuple[socket.socket, int]]:
    """A stdlib TCP listener on 127.0.0.1 (backlog 16): (socket, port)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        server.settimeout(LIMIT)
        yield server, server.getsockname()[1]


@pytest.fixture
def no_leak() -> Iterator[None]:
    """The test leaves no descriptor and no gsocklab worker thread behind."""
    settle()
    before = fd_count()
    yield
    settle()
    assert fd_count() == before


# -- the via column ----------------------------------------------------------------------------


def _exchange(rec: Recorder) -> dict[str, Any]:
    """A SocketService, a SocketClient and data streams, recorded by ``rec``."""
    service = Gio.SocketService.new()
    port = service.add_address(lo4(), T.STREAM, P.TCP, None).effective_address.get_port()
    served: list[Any] = []
    writers: list[Any] = []

    def incoming(_service: Any, connection: Any, _source: Any) -> bool:
        connection.get_socket().set_timeout(int(LIMIT))
        out = Gio.DataOutputStream.new(connection.get_output_stream())
        out.put_string("hello\n")
        served.append(connection)
        writers.append(out)
        return True

    service.connect("incoming", incoming)
    client = Gio.SocketClient.new()
    client.set_timeout(int(LIMIT))
    conn = client.connect_to_host(f"127.0.0.1:{port}", 0, None)
    pump(lambda: bool(served))
    data_in = Gio.DataInputStream.new(conn.get_input_stream())
    line = data_in.read_line_utf8(None)
    writers[0].put_int16(-2)  # write_all inside: the row is the put_int16's
    results: list[Any] = []
    conn.get_input_stream().read_bytes_async(2, GLib.PRIORITY_DEFAULT, None,
                                             lambda stream, result: results.append(stream.read_bytes_finish(result)))
    pump(lambda: bool(results))
    conn.get_socket().send(b"direct", None)
    direct = served[0].get_socket().receive(None, 16)[1]
    conn.close()
    served[0].close()
    service.close()
    settle()
    return {"line": line, "int": results[0], "direct": bytes(direct), "client": conn, "server": served[0]}


def test_via_names_the_gio_call_behind_each_socket_call(no_leak: None) -> None:
    rec = Recorder()
    with rec:
        got = _exchange(rec)
    assert got["line"] == ("hello", 5)
    assert got["int"] == struct.pack(">h", -2)
    assert got["direct"] == b"direct"
    frame = rec.to_dataframe()
    assert str(frame["via"].dtype) == "string"
    client, server = got["client"].get_socket(), got["server"].get_socket()
    by = {(row.op, row.via if not pd.isna(row.via) else None) for row in frame.itertuples()}
    assert ("connect", "SocketClient.connect_to_host") in by
    assert ("bind", "SocketService.add_address") in by
    assert ("listen", "SocketService.add_address") in by
    assert ("accept", "SocketService.accept_async") in by
    assert ("send_with_blocking", "DataOutputStream.put_string") in by
    assert ("send_with_blocking", "DataOutputStream.put_int16") in by  # not write_all: the outer call
    assert ("receive_with_blocking", "DataInputStream.read_line_utf8") in by
    assert ("receive_with_blocking", "SocketInputStream.read_bytes_async") in by
    assert ("send", None) in by
    assert ("receive", None) in by
    assert ("close", "TcpConnection.close") in by  # SocketConnection.close, named by its class
    assert ("close", "SocketService.close") in by
    assert not any(str(v).endswith("write_all") for v in frame["via"].dropna())
    # each receive's row belongs to its thread: the async read ran in its worker
    async_rows = frame[frame["via"] == "SocketInputStream.read_bytes_async"]
    assert len(async_rows) == 1
    assert async_rows["thread"].iloc[0] != "MainThread"
    assert async_rows["nbytes"].iloc[0] == 2
    connect_rows = frame[frame["op"] == "connect"]
    assert set(connect_rows["via"]) == {"SocketClient.connect_to_host"}
    accept_rows = frame[frame["op"] == "accept"]
    assert set(accept_rows["via"].dropna()) == {"SocketService.accept_async"}
    assert client is not server


def test_via_of_a_splice_into_a_socket_stream_is_the_splice() -> None:
    conn, peer = connection_pair()
    rec = Recorder()
    try:
        with rec:
            assert conn.get_output_stream().splice(Gio.MemoryInputStream.new_from_data(b"spliced"), 0, None) == 7
            assert peer.recv(16) == b"spliced"
    finally:
        conn.close()
        peer.close()
    frame = rec.to_dataframe()
    sends = frame[frame["op"] == "send_with_blocking"]
    assert list(sends["via"]) == ["SocketOutputStream.splice"]  # its write_all inside: the outer call


def test_via_of_a_splice_from_a_socket_stream_is_the_splice() -> None:
    conn, peer = connection_pair()
    rec = Recorder()
    try:
        with rec:
            peer.sendall(b"back")
            peer.shutdown(socket.SHUT_WR)
            sink = Gio.MemoryOutputStream.new_resizable()
            assert sink.splice(conn.get_input_stream(), 0, None) == 4
    finally:
        conn.close()
        peer.close()
    frame = rec.to_dataframe()
    receives = frame[frame["op"] == "receive_with_blocking"]
    assert len(receives) >= 1
    assert set(receives["via"]) == {"MemoryOutputStream.splice"}


def test_no_via_and_no_rows_while_the_recorder_is_paused() -> None:
    conn, peer = connection_pair()
    data_in = Gio.DataInputStream.new(conn.get_input_stream())
    rec = Recorder()
    try:
        with rec:
            rec.pause()
            peer.sendall(b"paused\n")
            assert data_in.read_line_utf8(None)[0] == "paused"
            results: list[Any] = []
            reader = threading.Thread(target=lambda: results.append(data_in.read_line_utf8(None)), name="reader",
                                      daemon=True)
            reader.start()  # enters read_line_utf8 while paused
            time.sleep(0.1)
            rec.resume()
            peer.sendall(b"resumed\n")
            reader.join(LIMIT)
            assert results[0][0] == "resumed"
            conn.get_socket().send(b"x", None)
            assert peer.recv(1) == b"x"
        frame = rec.to_dataframe()
    finally:
        conn.close()
        peer.close()
    assert "DataInputStream.read_line_utf8" not in set(frame["via"].dropna())  # begun while paused
    assert list(frame["op"]) == ["send"]
    assert frame["via"].isna().all()


def test_via_survives_save_and_load_and_old_recordings_load_with_na(tmp_path: Path) -> None:
    conn, peer = connection_pair()
    rec = Recorder()
    try:
        with rec:
            out = Gio.DataOutputStream.new(conn.get_output_stream())
            out.put_uint32(7)
            assert peer.recv(4) == b"\0\0\0\x07"
            conn.get_socket().send(b"raw", None)
            assert peer.recv(3) == b"raw"
    finally:
        conn.close()
        peer.close()
    frame = rec.to_dataframe()
    assert list(frame["via"].iloc[:2].fillna("<NA>")) == ["DataOutputStream.put_uint32", "<NA>"]
    for fmt in ("parquet", "pickle"):
        path = tmp_path / f"rec.{fmt}"
        rec.save(path, format=fmt)
        loaded = Recorder.load(path).to_dataframe()
        pd.testing.assert_series_equal(loaded["via"], frame["via"])
        old = tmp_path / f"old.{fmt}"
        _persist.save(old, frame.drop(columns=["via"]), {}, fmt)
        before_via = Recorder.load(old).to_dataframe()
        assert list(before_via.columns) == list(frame.columns)
        assert str(before_via["via"].dtype) == "string"
        assert before_via["via"].isna().all()
        pd.testing.assert_frame_equal(before_via.drop(columns=["via"]), frame.drop(columns=["via"]))


# -- GLib.Bytes ---------------------------------------------------------------------------------


def g_bytes_hash(data: bytes) -> int:
    """``g_bytes_hash``: ``h = h * 33 + c`` from 5381 over the bytes as *signed* chars, in 32 bits."""
    h = 5381
    for c in ctypes.cast(ctypes.c_char_p(data), ctypes.POINTER(ctypes.c_int8))[:len(data)]:
        h = (h * 33 + c) % 2**32
    return h


def test_bytes_api_and_bytes_behaviour() -> None:
    b = GLib.Bytes.new(b"hello")
    assert isinstance(b, GLib.Bytes)
    assert isinstance(b, bytes)
    assert b.get_data() == b"hello"
    assert type(b.get_data()) is bytes
    assert b.get_size() == len(b) == 5
    assert b == b"hello"
    assert b[1:3] == b"el"
    assert b[0] == ord("h")
    assert bytes(b) == b"hello"
    assert GLib.Bytes.new_take(bytearray(b"xy")) == b"xy"
    assert GLib.Bytes.new(None) == b""
    assert GLib.Bytes(memoryview(b"mv")) == b"mv"
    part = GLib.Bytes.new_from_bytes(b, 1, 3)
    assert isinstance(part, GLib.Bytes)
    assert part == b"ell"
    with pytest.raises(ValueError, match="outside"):
        GLib.Bytes.new_from_bytes(b, 3, 3)
    assert b.equal(GLib.Bytes.new(b"hello"))
    assert not b.equal(GLib.Bytes.new(b"hellO"))
    assert GLib.Bytes.new(b"ab").compare(GLib.Bytes.new(b"abc")) < 0
    assert GLib.Bytes.new(b"b").compare(GLib.Bytes.new(b"abc")) > 0
    assert GLib.Bytes.new(b"abc").compare(GLib.Bytes.new(b"abc")) == 0
    assert GLib.Bytes.new(b"abd").compare(GLib.Bytes.new(b"abc")) > 0
    for data in (b"", b"a", b"hello", bytes([200, 1, 255]), bytes(range(256)) * 3):
        assert GLib.Bytes.new(data).hash() == g_bytes_hash(data), data[:8]
    assert GLib.Bytes.new(b"a").hash() == 177670  # 5381 * 33 + 97
    assert GLib.Bytes.new(b"\xff").hash() == (5381 * 33 - 1)  # a signed char
    assert b.unref_to_array() == bytearray(b"hello")
    assert b.ref() is b


def test_receive_bytes_and_receive_bytes_from_return_glib_bytes() -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    ga = Gio.Socket.new_from_fd(a.detach())
    ga.set_timeout(int(LIMIT))
    udp = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.DEFAULT)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        b.send(b"first")
        data = ga.receive_bytes(64, -1, None)
        assert type(data) is GLib.Bytes
        assert data.get_data() == b"first"
        udp.bind(lo4(), True)
        udp.set_timeout(int(LIMIT))
        peer.bind(("127.0.0.1", 0))
        peer.sendto(b"second", ("127.0.0.1", udp.get_local_address().get_port()))
        data, address = udp.receive_bytes_from(64, 2_000_000, None)
        assert type(data) is GLib.Bytes
        assert data == b"second"
        assert address.get_port() == peer.getsockname()[1]
        with pytest.raises(GLib.Error) as info:
            udp.receive_bytes_from(64, 50_000, None)
        assert code(info) == E.TIMED_OUT
    finally:
        for s in (ga, udp):
            s.close()
        b.close()
        peer.close()


# -- vectors with raw addresses -----------------------------------------------------------------


def test_input_vector_with_a_raw_address_receives_into_that_memory() -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    ga = Gio.Socket.new_from_fd(a.detach())
    ga.set_timeout(int(LIMIT))
    room = ctypes.create_string_buffer(32)
    vector = Gio.InputVector()
    try:
        vector.buffer = ctypes.addressof(room)
        assert vector.buffer == ctypes.addressof(room)
        assert isinstance(vector.buffer, int)
        assert vector.size == 0  # until the caller says how much memory is there
        vector.size = 32
        assert vector.size == 32
        b.send(b"raw memory")
        result = ga.receive_message([vector], 0, None)
        assert result[0] == 10
        assert room.raw[:10] == b"raw memory"
        assert vector.buffer == ctypes.addressof(room)
        vector.buffer = bytearray(4)  # back to a Python buffer
        assert vector.size == 4
        assert vector.buffer == bytearray(4)
        b.send(b"abcdef")
        result = ga.receive_message([vector], 0, None)
        assert result[0] == 4
        assert bytes(vector.buffer) == b"abcd"
    finally:
        ga.close()
        b.close()


def test_output_vector_raw_address_in_send_messages() -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    b.settimeout(LIMIT)
    ga = Gio.Socket.new_from_fd(a.detach())
    ga.set_timeout(int(LIMIT))
    data = ctypes.create_string_buffer(b"payload!", 8)
    vector = Gio.OutputVector()
    try:
        vector.buffer = ctypes.addressof(data)
        assert vector.buffer == ctypes.addressof(data)
        assert vector.size == 0
        vector.size = 8
        assert ga.send_messages([Gio.OutputMessage(None, [vector])], 0, None) == 1
        assert b.recv(64) == b"payload!"
        vector.buffer = b"plain"
        assert vector.size == 5
        assert vector.buffer == b"plain"
    finally:
        ga.close()
        b.close()


def test_output_vector_raw_address_in_send_message() -> None:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    b.settimeout(LIMIT)
    ga = Gio.Socket.new_from_fd(a.detach())
    ga.set_timeout(int(LIMIT))
    data = ctypes.create_string_buffer(b"payload!", 8)
    vector = Gio.OutputVector()
    vector.buffer = ctypes.addressof(data)
    vector.size = 8
    try:
        assert ga.send_message(None, [vector], None, 0, None) == 8
        assert b.recv(64) == b"payload!"
    finally:
        ga.close()
        b.close()


# -- streams ------------------------------------------------------------------------------------


def test_unix_streams_over_a_pipe(no_leak: None) -> None:
    read_fd, write_fd = os.pipe()
    source = Gio.UnixInputStream.new(read_fd, True)
    sink = Gio.UnixOutputStream.new(write_fd, False)
    assert source.get_fd() == read_fd
    assert source.get_close_fd() is True
    assert sink.get_close_fd() is False
    assert sink.write_all(b"hello pipe", None) == (True, 10)
    assert sink.write_all(b"x" * 3, None).bytes_written == 3
    assert source.read_bytes(5, None) == b"hello"
    assert source.read_all(8, None) == (True, b" pipexxx")
    assert sink.close(None) is True
    assert sink.is_closed()
    os.fstat(write_fd)  # close_fd false: still open
    os.close(write_fd)
    assert source.read_bytes(10, None) == b""  # the end of the pipe
    assert source.close(None) is True
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(read_fd)  # close_fd true: closed with the stream


def test_unix_stream_read_cancelled_from_another_thread(no_leak: None) -> None:
    read_fd, write_fd = os.pipe()
    source = Gio.UnixInputStream.new(read_fd, True)
    cancellable = Gio.Cancellable()
    rescue = threading.Timer(LIMIT, os.write, (write_fd, b"!"))  # the bound, if the cancel did nothing
    rescue.start()
    thread, when = later(0.1, cancellable.cancel)
    try:
        with pytest.raises(GLib.Error) as info:
            source.read_bytes(10, cancellable)
    finally:
        rescue.cancel()
    ended = time.monotonic()
    thread.join(LIMIT)
    assert code(info) == E.CANCELLED
    assert ended - when[0] < PROMPT
    assert not source.has_pending()
    cancellable.reset()
    os.write(write_fd, b"ok")
    assert source.read_bytes(10, cancellable) == b"ok"
    source.close(None)
    os.close(write_fd)


def test_unix_stream_write_to_a_full_pipe_cancelled_from_another_thread(no_leak: None) -> None:
    read_fd, write_fd = os.pipe2(os.O_NONBLOCK)
    sink = Gio.UnixOutputStream.new(write_fd, True)
    source = Gio.UnixInputStream.new(read_fd, True)
    cancellable = Gio.Cancellable()
    thread, when = later(0.1, cancellable.cancel)
    def drain() -> None:  # the bound, if the cancel did nothing: read everything for a while
        deadline = time.monotonic() + LIMIT
        while time.monotonic() < deadline:
            try:
                os.read(read_fd, 1 << 20)
            except BlockingIOError:
                time.sleep(0.01)

    rescue = threading.Timer(LIMIT, drain)
    rescue.start()
    try:
        with pytest.raises(GLib.Error) as info:
            sink.write_all(b"x" * 1_000_000, cancellable)  # more than a pipe holds
    finally:
        rescue.cancel()
    ended = time.monotonic()
    thread.join(LIMIT)
    assert code(info) == E.CANCELLED
    assert ended - when[0] < PROMPT
    assert len(source.read_bytes(100, None)) == 100
    sink.close(None)
    source.close(None)


def test_memory_streams() -> None:
    source = Gio.MemoryInputStream.new_from_data(b"abc")
    source.add_data(b"def")
    source.add_bytes(GLib.Bytes.new(b"gh"))
    assert source.read_bytes(2, None) == b"ab"
    assert source.skip(2, None) == 2
    assert source.read_all(10, None) == (True, b"efgh")
    assert source.read_bytes(4, None) == b""
    assert Gio.MemoryInputStream.new_from_bytes(GLib.Bytes.new(b"zz")).read(10) == b"zz"
    sink = Gio.MemoryOutputStream.new_resizable()
    assert sink.write(b"12", None) == 2
    assert sink.writev_all([b"3", bytearray(b"45")], None) == (True, 3)
    assert sink.write_bytes(GLib.Bytes.new(b"6"), None) == 1
    assert sink.get_data() == b"123456"
    assert sink.get_data_size() == 6
    with pytest.raises(GLib.Error):
        sink.steal_as_bytes()  # not closed yet
    sink.close(None)
    stolen = sink.steal_as_bytes()
    assert isinstance(stolen, GLib.Bytes)
    assert stolen == b"123456"


_VALUES = [("put_byte", "read_byte", 255), ("put_int16", "read_int16", -32768), ("put_uint16", "read_uint16", 65535),
           ("put_int32", "read_int32", -(2**31)), ("put_uint32", "read_uint32", 2**32 - 1),
           ("put_int64", "read_int64", -(2**63)), ("put_uint64", "read_uint64", 2**64 - 1),
           ("put_int16", "read_int16", 0x0102), ("put_int32", "read_int32", 0x01020304)]


@pytest.mark.parametrize("order", [Gio.DataStreamByteOrder.BIG_ENDIAN, Gio.DataStreamByteOrder.LITTLE_ENDIAN])
def test_data_streams_round_trip_in_both_byte_orders(order: Gio.DataStreamByteOrder) -> None:
    """``put_*`` through a socket connection and back through ``read_*``, in one byte order."""
    conn, peer = connection_pair()
    try:
        out = Gio.DataOutputStream.new(conn.get_output_stream())
        out.set_byte_order(order)
        assert out.get_byte_order() == order
        for put, _read, value in _VALUES:
            assert getattr(out, put)(value, None) is True
        assert out.put_string("héllo\nnext\n", None) is True
        expected = 1 + 2 + 2 + 4 + 4 + 8 + 8 + 2 + 4 + len("héllo\nnext\n".encode())
        raw = b""
        while len(raw) < expected:
            raw += peer.recv(4096)
        mark = ">" if order == Gio.DataStreamByteOrder.BIG_ENDIAN else "<"
        assert raw[1:3] == struct.pack(mark + "h", -32768)
        text = "héllo\nnext\n".encode()
        assert raw[-len(text) - 6:] == struct.pack(mark + "hi", 0x0102, 0x01020304) + text
        data_in = Gio.DataInputStream.new(Gio.MemoryInputStream.new_from_data(raw))
        data_in.set_byte_order(order)
        for _put, read, value in _VALUES:
            assert (getattr(data_in, read)(None) if read != "read_byte" else data_in.read_byte(None)) == value
        assert data_in.read_line_utf8(None) == ("héllo", 6)
        assert data_in.read_line(None) == (b"next", 4)
        assert data_in.read_line(None) == (None, 0)
        with pytest.raises(GLib.Error, match="Unexpected early end-of-stream") as info:
            data_in.read_int16(None)
        assert code(info) == E.FAILED
        with pytest.raises(OverflowError):
            out.put_int16(70000, None)
    finally:
        conn.close()
        peer.close()


def test_buffered_input_stream_fill_peek_available() -> None:
    buffered = Gio.BufferedInputStream.new(Gio.MemoryInputStream.new_from_data(b"0123456789"))
    assert buffered.get_available() == 0
    assert buffered.fill(-1, None) == 10
    assert buffered.get_available() == 10
    assert buffered.peek_buffer() == b"0123456789"
    assert buffered.read_byte(None) == ord("0")
    assert buffered.get_available() == 9
    assert buffered.read_bytes(4, None) == b"1234"
    assert buffered.peek_buffer() == b"56789"
    assert buffered.fill(-1, None) == 0  # the end
    assert buffered.read_all(100, None) == (True, b"56789")
    assert buffered.get_buffer_size() == 4096


def test_buffered_input_stream_fill_reads_at_most_count() -> None:
    buffered = Gio.BufferedInputStream.new(Gio.MemoryInputStream.new_from_data(b"0123456789"))
    assert buffered.fill(3, None) == 3
    assert buffered.get_available() == 3
    assert buffered.peek_buffer() == b"012"


def test_splice_copies_a_socket_stream_to_the_end_and_closes(no_leak: None) -> None:
    conn, peer = connection_pair()
    payload = os.urandom(100_000)

    def feed() -> None:
        peer.sendall(payload)
        peer.shutdown(socket.SHUT_WR)

    feeder = threading.Thread(target=feed, name="feeder", daemon=True)
    feeder.start()
    sink = Gio.MemoryOutputStream.new_resizable()
    flags = Gio.OutputStreamSpliceFlags.CLOSE_SOURCE | Gio.OutputStreamSpliceFlags.CLOSE_TARGET
    assert sink.splice(conn.get_input_stream(), flags, None) == len(payload)
    feeder.join(LIMIT)
    assert not feeder.is_alive()
    assert sink.get_data() == payload
    assert sink.is_closed()
    assert conn.get_input_stream().is_closed()
    plain = Gio.MemoryOutputStream.new_resizable()
    source = Gio.MemoryInputStream.new_from_data(b"abc")
    assert plain.splice(source, Gio.OutputStreamSpliceFlags.NONE, None) == 3
    assert not plain.is_closed()
    assert not source.is_closed()
    conn.close()
    peer.close()


def test_closed_stream_fails_closed_and_connection_close_closes_its_streams() -> None:
    conn, peer = connection_pair()
    out, stream_in = conn.get_output_stream(), conn.get_input_stream()
    try:
        assert out.close(None) is True
        assert out.close(None) is True  # again: fine
        with pytest.raises(GLib.Error) as info:
            out.write(b"x", None)
        assert code(info) == E.CLOSED
        assert info.value.message == "Stream is already closed"
        with pytest.raises(GLib.Error, match="Stream is already closed"):
            out.write_all(b"x", None)
        assert not conn.get_socket().is_closed()  # closing a socket stream closes nothing below
        peer.sendall(b"still")
        assert stream_in.read_bytes(5, None) == b"still"
        assert conn.close(None) is True
        assert conn.is_closed()
        assert stream_in.is_closed()
        assert conn.get_socket().is_closed()
        with pytest.raises(GLib.Error) as info:
            stream_in.read_bytes(1, None)
        assert code(info) == E.CLOSED
        assert info.value.message == "Stream is already closed"
        assert peer.recv(10) == b""  # the peer sees the end
    finally:
        conn.close()
        peer.close()


def test_pending_read_bytes_minus_one_and_finish_misuse() -> None:
    conn, peer = connection_pair()
    other_conn, other_peer = connection_pair()
    stream = conn.get_input_stream()
    try:
        results: list[Any] = []
        stream.read_bytes_async(4, GLib.PRIORITY_DEFAULT, None, lambda s, r, d: results.append((s, r, d)), "data")
        assert stream.has_pending()
        with pytest.raises(GLib.Error) as info:
            stream.read_bytes(1, None)
        assert code(info) == E.PENDING
        assert info.value.message == "Stream has outstanding operation"
        peer.sendall(b"ping")
        pump(lambda: bool(results))
        source, result, data = results[0]
        assert source is stream
        assert data == "data"
        assert result.get_source_object() is stream
        with pytest.raises(GLib.Error) as info:
            other_conn.get_input_stream().read_bytes_finish(result)  # not its result
        assert code(info) == E.INVALID_ARGUMENT
        with pytest.raises(GLib.Error) as info:
            stream.read_finish(result)  # its, but of another call
        assert code(info) == E.INVALID_ARGUMENT
        with pytest.raises(TypeError, match="result"):
            stream.read_bytes_finish("not a result")
        with pytest.raises(TypeError, match="result"):
            stream.read_bytes_finish(None)
        assert stream.read_bytes_finish(result) == b"ping"
        assert not stream.has_pending()
        with pytest.raises(GLib.Error, match="already taken") as info:
            stream.read_bytes_finish(result)  # handed over once
        assert code(info) == E.FAILED
        with pytest.raises(OverflowError, match="-1 not in range 0 to 18446744073709551615"):
            stream.read_bytes(-1, None)  # a gsize, as PyGObject checks it
        with pytest.raises(GLib.Error, match="Too large count value") as info:
            stream.read_bytes(2**63, None)  # a gsize above G_MAXSSIZE: GLib's own check
        assert code(info) == E.INVALID_ARGUMENT
        assert stream.read_bytes(0, None) == b""
    finally:
        for c in (conn, other_conn):
            c.close()
        peer.close()
        other_peer.close()
        settle()


@pytest.mark.parametrize("case", ["closed", "cancelled", "pending"])
def test_async_call_errors_come_through_the_callback(case: str) -> None:
    conn, peer = connection_pair()
    stream = conn.get_input_stream()
    cancellable = Gio.Cancellable()
    first: list[Any] = []
    try:
        if case == "closed":
            stream.close(None)
        elif case == "cancelled":
            cancellable.cancel()
        else:
            stream.read_bytes_async(1, GLib.PRIORITY_DEFAULT, None, lambda s, r: first.append(r))
        results: list[Any] = []
        stream.read_bytes_async(1, GLib.PRIORITY_DEFAULT, cancellable, lambda s, r: results.append(r))
        pump(lambda: bool(results))
        with pytest.raises(GLib.Error) as info:
            stream.read_bytes_finish(results[0])
        assert code(info) == {"closed": E.CLOSED, "cancelled": E.CANCELLED, "pending": E.PENDING}[case]
    finally:
        conn.close()
        peer.close()
        settle()


@pytest.mark.parametrize("how", ["close", "cancel"])
def test_blocking_stream_read_ended_from_another_thread(how: str, no_leak: None) -> None:
    """A blocking ``read_bytes`` on a socket stream: ``socket.close()`` from another thread ends
    it with ``CLOSED``, ``Cancellable.cancel()`` with ``CANCELLED``, promptly."""
    conn, peer = connection_pair()
    cancellable = Gio.Cancellable()
    stop = conn.get_socket().close if how == "close" else cancellable.cancel
    thread, when = later(0.1, stop)
    with pytest.raises(GLib.Error) as info:
        conn.get_input_stream().read_bytes(10, cancellable)
    ended = time.monotonic()
    thread.join(LIMIT)
    assert code(info) == (E.CLOSED if how == "close" else E.CANCELLED)
    assert ended - when[0] < PROMPT
    assert not conn.get_input_stream().has_pending()
    conn.close()
    peer.close()


def test_async_write_and_close_pairs(no_leak: None) -> None:
    conn, peer = connection_pair()
    out = conn.get_output_stream()
    results: list[Any] = []
    out.write_all_async(b"all of it", GLib.PRIORITY_DEFAULT, None,
                        lambda s, r: results.append(s.write_all_finish(r)))
    pump(lambda: bool(results))
    assert results[0] == (True, 9)
    assert peer.recv(16) == b"all of it"
    out.close_async(GLib.PRIORITY_DEFAULT, None, lambda s, r: results.append(s.close_finish(r)))
    pump(lambda: len(results) == 2)
    assert results[1] is True
    assert out.is_closed()
    conn.close_async(GLib.PRIORITY_DEFAULT, None, lambda c, r: results.append(c.close_finish(r)))
    pump(lambda: len(results) == 3)
    assert results[2] is True
    assert conn.get_socket().is_closed()
    peer.close()


# -- SocketClient -------------------------------------------------------------------------------


def test_client_times_out_against_a_full_backlog(no_leak: None) -> None:
    """A listener that never accepts, its backlog (0) filled by other connections: the client's
    connect fails ``TIMED_OUT`` after its timeout (1 s), and leaves no descriptor open."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers: list[socket.socket] = []
        try:
            for _ in range(16):
                filler = socket.socket()
                fillers.append(filler)
                filler.settimeout(0.3)
                try:
                    filler.connect(("127.0.0.1", port))
                except TimeoutError:
                    break  # the queue is full: SYNs are dropped from now on
            else:
                pytest.skip("the backlog never filled up")
            client = Gio.SocketClient.new()
            client.set_timeout(1)
            start = time.monotonic()
            with pytest.raises(GLib.Error) as info:
                client.connect_to_host(f"127.0.0.1:{port}", 0, None)
            took = time.monotonic() - start
        finally:
            for filler in fillers:
                filler.close()
    assert code(info) == E.TIMED_OUT
    assert info.value.message.startswith("Could not connect to 127.0.0.1: ")
    assert 0.9 < took < 3


def test_client_events_local_address_and_family(listening: tuple[socket.socket, int], no_leak: None) -> None:
    server, port = listening
    client = Gio.SocketClient.new()
    client.set_timeout(int(LIMIT))
    events: list[tuple[Any, ...]] = []
    handler = client.connect("event", lambda c, event, connectable, connection, tag:
                             events.append((c, event, connectable, connection, tag)), "tag")
    assert handler > 0
    conn = client.connect_to_host(f"localhost:{port}", 0, None)  # ::1 is tried first, refused
    accepted, _ = server.accept()
    kinds = [e[1] for e in events]
    assert kinds[:2] == [EV.RESOLVING, EV.RESOLVED]
    assert kinds[-2:] == [EV.CONNECTED, EV.COMPLETE]
    assert set(kinds[2:-2]) == {EV.CONNECTING}
    assert all(e[0] is client and e[4] == "tag" for e in events)
    assert events[0][3] is None
    assert events[-1][3] is conn
    assert isinstance(events[0][2], Gio.NetworkAddress)
    assert conn.get_remote_address().get_address().to_string() == "127.0.0.1"
    assert isinstance(conn, Gio.TcpConnection)
    conn.close()
    accepted.close()

    events.clear()
    client.set_family(F.IPV4)
    conn = client.connect_to_host(f"localhost:{port}", 0, None)
    accepted, _ = server.accept()
    # as GLib: the family makes IPv4 sockets, and ::1 is still tried (and fails) before 127.0.0.1
    assert [e[1] for e in events] == [EV.RESOLVING, EV.RESOLVED, EV.CONNECTING, EV.CONNECTING, EV.CONNECTED,
                                      EV.COMPLETE]
    conn.close()
    accepted.close()
    client.set_family(F.IPV6)
    with pytest.raises(GLib.Error) as info:
        client.connect_to_host(f"127.0.0.1:{port}", 0, None)  # an IPv6 socket to an IPv4 address, as in GLib
    assert code(info) == E.INVALID_ARGUMENT
    client.set_family(F.INVALID)

    local_port = unused_port()
    client.set_local_address(lo4(local_port))
    assert client.get_local_address().get_port() == local_port
    conn = client.connect_to_host(f"127.0.0.1:{port}", 0, None)
    accepted, peer_address = server.accept()
    assert peer_address == ("127.0.0.1", local_port)
    assert conn.get_local_address().get_port() == local_port
    conn.close()
    accepted.close()
    client.set_local_address(None)

    client.disconnect(handler)
    events.clear()
    conn = client.connect(lo4(port), None)
    accepted, _ = server.accept()
    assert events == []
    conn.close()
    accepted.close()


def test_client_async_connect_tls_and_service(listening: tuple[socket.socket, int], no_leak: None) -> None:
    server, port = listening
    client = Gio.SocketClient.new()
    client.set_timeout(int(LIMIT))
    results: list[Any] = []
    client.connect_to_host_async(f"127.0.0.1:{port}", 0, None,
                                 lambda c, r, d: results.append((c.connect_to_host_finish(r), d)), 7)
    pump(lambda: bool(results))
    conn, data = results[0]
    assert data == 7
    accepted, _ = server.accept()
    conn.get_output_stream().write_all(b"hi", None)
    assert accepted.recv(2) == b"hi"
    conn.close()
    accepted.close()
    refused: list[Any] = []

    def on_refused(c: Any, result: Any) -> None:
        try:
            c.connect_finish(result)
        except GLib.Error as error:
            refused.append(error.code)

    client.connect_async(lo4(unused_port()), None, on_refused)
    pump(lambda: bool(refused))
    assert refused == [E.CONNECTION_REFUSED]
    client.set_tls(True)
    assert client.get_tls() is True
    with pytest.raises(GLib.Error) as info:
        client.connect_to_host(f"127.0.0.1:{port}", 0, None)
    assert code(info) == E.NOT_SUPPORTED
    client.set_tls(False)
    with pytest.raises(GLib.Error) as info:
        client.connect_to_service("example.com", "http", None)
    assert code(info) == E.NOT_SUPPORTED


def test_async_connect_events_run_in_the_thread_of_the_main_context(listening: tuple[socket.socket, int],
                                                                     no_leak: None) -> None:
    server, port = listening
    client = Gio.SocketClient.new()
    client.set_timeout(int(LIMIT))
    events: list[tuple[Any, str]] = []
    client.connect("event", lambda _c, event, _a, _conn: events.append((event, threading.current_thread().name)))
    results: list[Any] = []
    client.connect_to_host_async(f"127.0.0.1:{port}", 0, None, lambda c, r: results.append(c.connect_to_host_finish(r)))
    pump(lambda: bool(results))
    accepted, _ = server.accept()
    results[0].close()
    accepted.close()
    assert [event for event, _name in events] == [EV.RESOLVING, EV.RESOLVED, EV.CONNECTING, EV.CONNECTED, EV.COMPLETE]
    assert {name for _event, name in events} == {"MainThread"}


def test_client_connect_cancelled_from_another_thread(no_leak: None) -> None:
    """A connect waiting on a full backlog: ``cancel()`` from another thread ends it with
    ``CANCELLED``, promptly."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers: list[socket.socket] = []
        try:
            for _ in range(16):
                filler = socket.socket()
                fillers.append(filler)
                filler.settimeout(0.3)
                try:
                    filler.connect(("127.0.0.1", port))
                except TimeoutError:
                    break
            else:
                pytest.skip("the backlog never filled up")
            client = Gio.SocketClient.new()
            client.set_timeout(int(LIMIT))
            cancellable = Gio.Cancellable()
            thread, when = later(0.2, cancellable.cancel)
            with pytest.raises(GLib.Error) as info:
                client.connect_to_host(f"127.0.0.1:{port}", 0, cancellable)
            ended = time.monotonic()
            thread.join(LIMIT)
        finally:
            for filler in fillers:
                filler.close()
    assert code(info) == E.CANCELLED
    assert ended - when[0] < PROMPT


# -- listeners and services -------------------------------------------------------------------


def test_listener_with_two_sockets(no_leak: None) -> None:
    listener = Gio.SocketListener.new()
    first = listener.add_address(lo4(), T.STREAM, P.TCP, "one")
    second = listener.add_address(lo4(), T.STREAM, P.TCP, "two")
    assert first[0] is True
    ports = first.effective_address.get_port(), second.effective_address.get_port()
    assert ports[0] != ports[1]
    peers = []
    try:
        for port, expected in ((ports[1], "two"), (ports[0], "one"), (ports[1], "two")):
            peers.append(socket.create_connection(("127.0.0.1", port), timeout=LIMIT))
            conn, source = listener.accept(None)
            assert source == expected
            assert conn.get_remote_address().get_port() == peers[-1].getsockname()[1]
            conn.close()
        extra = listener.add_any_inet_port("three")
        peers.append(socket.create_connection(("127.0.0.1", extra), timeout=LIMIT))
        sock, source = listener.accept_socket(None)
        assert source == "three"
        assert isinstance(sock, Gio.Socket)
        sock.close()
        results: list[Any] = []
        listener.accept_async(None, lambda lst, r: results.append(lst.accept_finish(r)))
        peers.append(socket.create_connection(("127.0.0.1", ports[0]), timeout=LIMIT))
        pump(lambda: bool(results))
        conn, source = results[0]
        assert results[0].source_object == "one"
        conn.close()
    finally:
        listener.close()
        for peer in peers:
            peer.close()


def test_listener_close_ends_waiting_accepts_with_closed(no_leak: None) -> None:
    listener = Gio.SocketListener.new()
    listener.add_address(lo4(), T.STREAM, P.TCP, None)
    errors: list[tuple[Any, float]] = []

    def accept() -> None:
        try:
            listener.accept(None)
        except GLib.Error as error:
            errors.append((error.code, time.monotonic()))

    waiter = threading.Thread(target=accept, name="acceptor", daemon=True)
    waiter.start()
    results: list[Any] = []

    def on_accepted(lst: Any, result: Any) -> None:
        try:
            lst.accept_finish(result)
        except GLib.Error as error:
            results.append(error.code)

    listener.accept_async(None, on_accepted)
    time.sleep(0.1)
    closed_at = time.monotonic()
    listener.close()
    waiter.join(LIMIT)
    assert not waiter.is_alive()
    pump(lambda: bool(results))
    assert errors[0][0] == E.CLOSED
    assert errors[0][1] - closed_at < 1.0  # the listener re-reads its sockets twice a second
    assert results == [E.CLOSED]


def test_listener_accept_cancelled_from_another_thread(no_leak: None) -> None:
    listener = Gio.SocketListener.new()
    listener.add_address(lo4(), T.STREAM, P.TCP, None)
    cancellable = Gio.Cancellable()
    rescue = threading.Timer(LIMIT, listener.close)  # the bound, if the cancel did nothing
    rescue.start()
    try:
        thread, when = later(0.1, cancellable.cancel)
        with pytest.raises(GLib.Error) as info:
            listener.accept(cancellable)
        ended = time.monotonic()
        rescue.cancel()
        thread.join(LIMIT)
        assert code(info) == E.CANCELLED
        assert ended - when[0] < PROMPT
    finally:
        listener.close()


def test_service_stop_and_start(no_leak: None) -> None:
    service = Gio.SocketService.new()
    assert service.is_active()
    port = service.add_address(lo4(), T.STREAM, P.TCP, "src").effective_address.get_port()
    incoming: list[tuple[Any, Any, Any]] = []

    def on_incoming(svc: Any, connection: Any, source: Any, tag: str) -> bool:
        incoming.append((svc, connection, source, tag))
        return True

    service.connect("incoming", on_incoming, "tag")
    peers = []
    try:
        peers.append(socket.create_connection(("127.0.0.1", port), timeout=LIMIT))
        pump(lambda: len(incoming) == 1)
        assert incoming[0][0] is service
        assert incoming[0][2:] == ("src", "tag")
        service.stop()
        assert not service.is_active()
        settle()
        peers.append(socket.create_connection(("127.0.0.1", port), timeout=LIMIT))  # queued, not accepted
        deadline = time.monotonic() + 0.3
        pump(lambda: time.monotonic() > deadline)
        assert len(incoming) == 1
        service.start()
        assert service.is_active()
        pump(lambda: len(incoming) == 2)
        assert incoming[1][1].get_remote_address().get_port() == peers[1].getsockname()[1]
    finally:
        for _svc, connection, _source, _tag in incoming:
            connection.close()
        service.close()
        for peer in peers:
            peer.close()
    assert not service.is_active()


def test_service_driven_by_asyncio_emits_incoming_in_the_loop_thread(no_leak: None) -> None:
    """In ``asyncio.run`` (a notebook cell), with no main loop: a `SocketService` made there
    emits ``incoming`` from the running loop, in its thread (so the handler must not block:
    it greets the asyncio client and closes)."""
    import asyncio

    async def main() -> tuple[bytes, list[str]]:
        service = Gio.SocketService.new()
        port = service.add_address(lo4(), T.STREAM, P.TCP, None).effective_address.get_port()
        threads: list[str] = []

        def incoming(_svc: Any, connection: Any, _source: Any) -> bool:
            threads.append(threading.current_thread().name)
            connection.get_socket().set_timeout(int(LIMIT))
            out = Gio.DataOutputStream.new(connection.get_output_stream())
            out.put_string(f"hello {connection.get_remote_address().get_port()}\n", None)
            connection.close(None)
            return True

        service.connect("incoming", incoming)
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), LIMIT)
            answer = await asyncio.wait_for(reader.read(), LIMIT)  # to the end: the handler closed it
            answer += f"/{writer.get_extra_info('sockname')[1]}".encode()
            writer.close()
            await writer.wait_closed()
        finally:
            service.close()
        return answer, threads

    answer, threads = asyncio.run(asyncio.wait_for(main(), LIMIT * 2))
    greeting, port = answer.split(b"/")
    assert greeting == b"hello " + port + b"\n"
    assert threads == ["MainThread"]


def test_service_keeps_accepting_after_a_handler_raised(monkeypatch: pytest.MonkeyPatch, no_leak: None) -> None:
    printed: list[BaseException] = []
    monkeypatch.setattr("sys.excepthook", lambda kind, value, tb: printed.append(value))
    service = Gio.SocketService.new()
    port = service.add_address(lo4(), T.STREAM, P.TCP, None).effective_address.get_port()
    taken: list[Any] = []

    def incoming(_svc: Any, connection: Any, _source: Any) -> bool:
        taken.append(connection)
        if len(taken) == 1:
            raise ValueError("boom")
        return True

    service.connect("incoming", incoming)
    peers = []
    try:
        peers.append(socket.create_connection(("127.0.0.1", port), timeout=LIMIT))
        pump(lambda: len(taken) == 1)
        pump(lambda: bool(printed))
        assert isinstance(printed[0], ValueError)
        peers.append(socket.create_connection(("127.0.0.1", port), timeout=LIMIT))
        pump(lambda: len(taken) == 2, limit=2)
    finally:
        for connection in taken:
            connection.close()
        service.close()
        for peer in peers:
            peer.close()


def test_threaded_service_runs_at_most_max_threads_and_closes_connections(no_leak: None) -> None:
    service = Gio.ThreadedSocketService.new(2)
    port = service.add_any_inet_port(None)
    lock = threading.Lock()
    running, peak = [0], [0]
    handled: list[tuple[Any, str]] = []

    def run(_svc: Any, connection: Any, _source: Any) -> bool:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            time.sleep(0.1)
            connection.get_output_stream().write_all(b"bye", None)
            handled.append((connection, threading.current_thread().name))
        finally:
            with lock:
                running[0] -= 1
        return False

    service.connect("run", run)
    peers = [socket.create_connection(("127.0.0.1", port), timeout=LIMIT) for _ in range(6)]
    try:
        pump(lambda: len(handled) == 6)
        pump(lambda: all(connection.is_closed() for connection, _name in handled))
        assert peak[0] == 2
        assert all(name != "MainThread" for _c, name in handled)
        for peer in peers:
            received = b""
            while chunk := peer.recv(16):
                received += chunk
            assert received == b"bye"  # then the end: the service closed it
    finally:
        service.close()
        for peer in peers:
            peer.close()


# -- signals ------------------------------------------------------------------------------------


def test_signal_connect_disconnect_block() -> None:
    client = Gio.SocketClient.new()
    calls: list[Any] = []
    handler = client.connect("event", lambda *args: calls.append(args))
    client.emit("event", EV.RESOLVING, None, None)
    assert len(calls) == 1
    assert calls[0][0] is client
    client.handler_block(handler)
    client.emit("event", EV.RESOLVING, None, None)
    assert len(calls) == 1
    client.handler_unblock(handler)
    client.emit("event", EV.RESOLVED, None, None)
    assert len(calls) == 2
    assert client.handler_is_connected(handler)
    client.disconnect(handler)
    assert not client.handler_is_connected(handler)
    client.emit("event", EV.RESOLVED, None, None)
    assert len(calls) == 2
    with pytest.raises(TypeError, match="unknown signal name"):
        client.connect("no-such-signal", lambda *args: None)
    with pytest.raises(TypeError, match="unknown signal name"):
        Gio.SocketService.new().emit("nope")
    with pytest.raises(TypeError, match="callable"):
        client.connect("event", 5)
    with pytest.raises(TypeError, match=str(handler)):
        client.disconnect(handler)


def test_handler_block_of_an_unknown_id_is_a_type_error() -> None:
    client = Gio.SocketClient.new()
    with pytest.raises(TypeError):
        client.handler_block(987654321)
    with pytest.raises(TypeError):
        client.handler_unblock(987654321)


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "word"),
    [
        (lambda: Gio.DataInputStream.new(42), "base_stream"),
        (lambda: Gio.DataOutputStream.new(Gio.MemoryInputStream.new()), "base_stream"),
        (lambda: Gio.BufferedInputStream.new(None), "base_stream"),
        (lambda: Gio.NetworkAddress.new(5, 1), "hostname"),
        (lambda: Gio.NetworkAddress.new("host", "1"), "port"),
        (lambda: Gio.NetworkAddress.parse(5, 1), "host_and_port"),
        (lambda: Gio.SocketClient.new().set_local_address("x"), "address"),
        (lambda: Gio.SocketClient.new().set_timeout("1"), "timeout"),
        (lambda: Gio.SocketClient.new().connect(42), "connectable"),
        (lambda: Gio.SocketClient.new().connect_to_host(42, 0), "host_and_port"),
        (lambda: Gio.SocketListener.new().add_address("x", T.STREAM, P.TCP, None), "address"),
        (lambda: Gio.SocketListener.new().add_socket("s", None), "socket"),
        (lambda: Gio.SocketListener.new().accept("c"), "cancellable"),
        (lambda: Gio.UnixInputStream.new("x", True), "fd"),
        (lambda: Gio.UnixOutputStream.new(None, True), "fd"),
        (lambda: Gio.MemoryOutputStream.new_resizable().write("text"), "buffer"),
        (lambda: Gio.MemoryInputStream.new_from_data("text"), "data"),
        (lambda: Gio.MemoryInputStream.new().read_bytes("3"), "count"),
        (lambda: Gio.MemoryInputStream.new().read_bytes(3, "c"), "cancellable"),
        (lambda: Gio.MemoryInputStream.new().read_bytes_async(3, 0, None, 5), "callback"),
        (lambda: Gio.DataOutputStream.new(Gio.MemoryOutputStream.new_resizable()).put_int16("1"), "data"),
        (lambda: Gio.DataOutputStream.new(Gio.MemoryOutputStream.new_resizable()).put_string(b"1"), "str"),
        (lambda: Gio.DataInputStream.new(Gio.MemoryInputStream.new()).read_upto(5, -1), "stop_chars"),
        (lambda: Gio.BufferedInputStream.new(Gio.MemoryInputStream.new()).set_buffer_size("2"), "size"),
        (lambda: GLib.io_add_watch(0, GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN, "not callable"), "callback"),
        (lambda: Gio.SocketService.new().connect("incoming", 5), "callable"),
        (lambda: Gio.SocketService.new().connect(5, lambda: 0), "signal name"),
        (lambda: GLib.Bytes.new("text"), "str"),
    ],
)
def test_wrong_types_raise_type_error_naming_the_parameter(call: Callable[[], Any], word: str) -> None:
    with pytest.raises(TypeError, match=word):
        call()


@pytest.mark.parametrize(
    ("call", "word"),
    [
        (lambda: Gio.ThreadedSocketService.new("2"), "max_threads"),
        (lambda: Gio.SocketClient.new().set_family("x"), "family"),
        (lambda: Gio.SocketListener.new().add_inet_port("80", None), "port"),
        (lambda: GLib.Bytes.new(5), "data"),
        (lambda: GLib.Bytes.new_from_bytes(GLib.Bytes.new(b"abc"), "1", 1), "offset"),
    ],
)
def test_more_wrong_types_name_the_parameter(call: Callable[[], Any], word: str) -> None:
    with pytest.raises(TypeError, match=word):
        call()
