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
