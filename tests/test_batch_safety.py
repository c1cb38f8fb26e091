"""Batches never read or write past a buffer that shrank after its vector was made.

The first step of issue 9 (memory-safe batches). Each scenario runs in a child process,
since the bug it guards against corrupted the heap ("corrupted size vs. prev_size") or
put heap memory on the wire.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SETUP = """
from gsocklab import Gio
F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
a = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
b = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
for s in (a, b):
    s.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    s.set_timeout(5)
"""


def run_child(body: str) -> str:
    """Run SETUP + body in a fresh interpreter; its stdout (a crash fails the test)."""
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", SETUP + textwrap.dedent(body)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"child died ({done.returncode}):\n{done.stderr}"
    return done.stdout


def test_send_messages_sends_a_shrunk_buffer_at_its_new_length() -> None:
    out = run_child("""
        ba = bytearray(b"A" * 4096)
        vector = Gio.OutputVector(buffer=ba)
        del ba[4:]  # after the vector took size 4096
        message = Gio.OutputMessage(address=b.get_local_address(), vectors=[vector])
        print(a.send_messages([message], 0), message.bytes_sent)
        print(b.receive_bytes(65536, -1))
    """)
    assert out.splitlines()[0] == "1 4"
    assert out.splitlines()[1] == "b'AAAA'", "only the 4 bytes the buffer still holds, no heap memory"


def test_receive_messages_never_writes_past_a_shrunk_buffer() -> None:
    out = run_child("""
        import gc
        for _ in range(20):
            rb = bytearray(65536)
            vector = Gio.InputVector(buffer=rb)
            del rb[4:]
            a.send_to(b.get_local_address(), b"Z" * 60000)
            message = Gio.InputMessage(vectors=[vector])
            count = b.receive_messages([message], 0)
            assert (count, message.bytes_received, bytes(rb)) == (1, 4, b"ZZZZ"), (count, message.bytes_received)
            del message, vector
            gc.collect()
        print("ok")
    """)
    assert out.strip() == "ok"


def test_descriptors_received_in_batches_close_when_the_messages_are_dropped() -> None:
    """1,000 batches receive a descriptor each into messages that are then dropped: the
    socket keeps nothing, so the descriptor count is back to where it was every time
    (a kept batch used to hold the messages, and their descriptors, until the next call)."""
    import os
    import socket

    from gsocklab import Gio

    def fd_count() -> int:
        return len(os.listdir("/proc/self/fd"))

    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    a, b = Gio.Socket.new_from_fd(left.detach()), Gio.Socket.new_from_fd(right.detach())
    read_end, write_end = os.pipe()
    try:
        a.set_timeout(5)
        b.set_timeout(5)
        baseline = fd_count()
        for _ in range(1000):
            fds = Gio.UnixFDMessage.new()
            fds.append_fd(write_end)
            out = Gio.OutputMessage(None, [b"x"], [fds])
            assert a.send_messages([out], 0) == 1
            del out, fds  # its duplicate of write_end closes with it
            ins = [Gio.InputMessage([bytearray(4)], [])]
            assert b.receive_messages(ins, 0) == 1
            assert [type(c) for c in ins[0].control_messages] == [Gio.UnixFDMessage]
            assert fd_count() == baseline + 1  # the one received, owned by the message
            del ins
            assert fd_count() == baseline
    finally:
        a.close()
        b.close()
        os.close(read_end)
        os.close(write_end)


def test_bytearrays_are_resizable_as_soon_as_a_batch_returns() -> None:
    """No batch keeps a caller's buffer exported: each bytearray can grow and shrink right
    after the call (a kept native batch used to lock them with ``BufferError``), with and
    without control messages."""
    import socket

    from gsocklab import Gio

    a = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    b = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    u, v = Gio.Socket.new_from_fd(left.detach()), Gio.Socket.new_from_fd(right.detach())
    try:
        for s in (a, b):
            s.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
        for s in (a, b, u, v):
            s.set_timeout(5)
        for sender, receiver, controls in ((a, b, None), (u, v, [])):
            out_buffers = [bytearray(b"%d" % i) * 8 for i in range(4)]
            out = [Gio.OutputMessage(receiver.get_local_address() if controls is None else None, [buffer])
                   for buffer in out_buffers]
            assert sender.send_messages(out, 0) == 4
            in_buffers = [bytearray(64) for _ in range(4)]
            inbox = [Gio.InputMessage([buffer], None if controls is None else []) for buffer in in_buffers]
            assert receiver.receive_messages(inbox, 0) == 4
            assert [m.payload for m in inbox] == [b"%d" % i * 8 for i in range(4)]
            for buffer in out_buffers + in_buffers:
                buffer.extend(b"more")  # BufferError while a batch still exports it
                del buffer[2:]
    finally:
        for s in (a, b, u, v):
            s.close()


def run_child_checked(body: str) -> str:
    """`run_child` with `MUTATOR`, under CPython's debug allocator, which aborts on any write
    past a block."""
    import os

    env = dict(os.environ, PYTHONMALLOC="debug")
    code = SETUP + MUTATOR + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", code],
                          capture_output=True, text=True, timeout=90, env=env)
    assert done.returncode == 0, f"child died ({done.returncode}):\n{done.stderr[-4000:]}"
    return done.stdout


MUTATOR = """
import threading, time, random
def mutate_while(stop, vectors, fill, errors):
    # Shrink, grow, replace and free the vectors' buffers as fast as it can.
    rng = random.Random(7)
    i = 0
    try:
        while not stop.is_set():
            vector = vectors[i % len(vectors)]
            op = rng.randrange(5)
            try:
                buffer = vector.buffer
                if op == 0:
                    del buffer[rng.randrange(0, 64):]
                elif op == 1:
                    buffer.extend(fill * rng.randrange(1, 3000))
                elif op == 2:
                    vector.buffer = bytearray(fill * rng.randrange(0, 2000))  # the old one is freed
                elif op == 3:
                    buffer[:] = fill * rng.randrange(0, 50)
                else:
                    vector.buffer = bytearray(rng.randrange(1, 3000))
            except BufferError:
                pass  # exported for a moment by a call in flight: Python refuses the resize, safely
            i += 1
    except BaseException as exc:
        errors.append(exc)
"""


def test_buffers_shrunk_grown_replaced_and_freed_during_send_batches() -> None:
    """Another thread reshapes the buffers while batches go out: every datagram on the wire
    holds only bytes the buffers held (``S`` or zeros), never heap memory, and nothing crashes."""
    out = run_child_checked("""
        vectors = [Gio.OutputVector(buffer=bytearray(b"S" * 1000)) for _ in range(32)]
        messages = [Gio.OutputMessage(b.get_local_address(), [v]) for v in vectors]
        stop, errors = threading.Event(), []
        mutator = threading.Thread(target=mutate_while, args=(stop, vectors, b"S", errors), daemon=True)
        mutator.start()
        seen, bad, deadline = 0, 0, time.monotonic() + 2.0
        b.set_blocking(False)
        while time.monotonic() < deadline:
            try:
                a.send_messages(messages, 0)
            except Exception as exc:  # GLib.Error only: sizes are re-read, never trusted
                assert type(exc).__name__ == "Error", exc
            while True:
                try:
                    data = b.receive_bytes(65536, 0)
                except Exception:
                    break
                seen += 1
                bad += bool(bytes(data).strip(b"S\\0"))
        stop.set()
        mutator.join(10)
        assert not errors, errors
        print(seen, bad)
    """)
    seen, bad = map(int, out.split())
    assert seen > 100
    assert bad == 0


def test_buffers_shrunk_grown_replaced_and_freed_during_receive_batches() -> None:
    """Another thread reshapes the rooms while batches come in: nothing is written past any
    buffer (the debug allocator would abort), and each room holds only the datagram's bytes
    (``R``) or the zeros and fill it had."""
    out = run_child_checked("""
        vectors = [Gio.InputVector(buffer=bytearray(1500)) for _ in range(32)]
        vectors += [Gio.InputVector(size=1500) for _ in range(32)]  # owned rooms, made by the mutator
        messages = [Gio.InputMessage([v]) for v in vectors]
        stop, errors = threading.Event(), []
        mutator = threading.Thread(target=mutate_while, args=(stop, vectors, b"R", errors), daemon=True)
        mutator.start()
        received, deadline = 0, time.monotonic() + 2.0
        dest = b.get_local_address()
        b.set_blocking(False)
        while time.monotonic() < deadline:
            for size in (10, 900, 1400):
                a.send_to(dest, b"R" * size)
            try:
                received += b.receive_messages(messages, 0)
            except Exception as exc:
                assert type(exc).__name__ == "Error", exc
            for message in messages:
                assert not message.payload.strip(b"R\\0"), message.payload[:40]
        stop.set()
        mutator.join(10)
        assert not errors, errors
        print(received)
    """)
    assert int(out) > 100
