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
