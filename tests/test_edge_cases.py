"""Edge cases: zero-size receives, message flags outside a C ``int``, huge timeouts, property
names that are not strings, non-contiguous buffers, and sockets collected without ``close()``.

Where PyGObject (the GLib 2.74 oracle, ``tests/oracle.py``) shows the behaviour, gsocklab
follows its exception types and texts; the docstrings say where it differs on purpose.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Sockets, fd_count
from oracle import compare

import gsocklab
from gsocklab import Gio, GLib

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
IN, OUT = GLib.IOCondition.IN, GLib.IOCondition.OUT
E = Gio.IOErrorEnum
#: The child processes import the gsocklab this process imported (an old checkout on PYTHONPATH too).
CHILD_ENV = {**os.environ, "PYTHONPATH": str(Path(gsocklab.__file__).resolve().parents[1])}


def run_child(code: str, timeout: float, *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter with a hard timeout; the JSON it printed last."""
    try:
        proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True,
                              text=True, timeout=timeout, env=CHILD_ENV, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"child process still running after {timeout} s (hang or busy loop); stderr: {exc.stderr!r}")
    assert proc.returncode == 0, f"child exit {proc.returncode}\n{proc.stderr[-4000:]}"
    assert "Exception ignored" not in proc.stderr, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------------------------
# receive(None, 0, buffer) reads nothing
# --------------------------------------------------------------------------------------------


def test_receive_of_size_zero_into_a_buffer_reads_nothing(sockets: Sockets) -> None:
    """``receive(None, 0, buf)`` is ``recv(fd, buf, 0)``: no byte is read, the 5 queued bytes
    stay for the next receive (before, 0 meant "the whole buffer", as ``recv_into`` takes it)."""
    _, client, server = sockets.tcp_pair()
    client.send(b"hello", None)
    assert server.condition_timed_wait(IN, 2_000_000, None) is True
    buffer = bytearray(b"--------")
    count, same = server.receive(None, 0, buffer)
    assert count == 0
    assert same is buffer
    assert buffer == b"--------"
    count, _ = server.receive_with_blocking(False, None, 0, buffer)
    assert count == 0
    assert buffer == b"--------"
    assert server.get_available_bytes() == 5
    count, data = server.receive(None, 16)
    assert (count, bytes(data)) == (5, b"hello")


# CPython's socket.recv(0) (and recv_into(buf, 0)) return at once without a system call;
# gsocklab makes the real recv(fd, buf, 0) (through recvfrom(0)), as GLib does.


def test_receive_of_size_zero_takes_a_datagram_as_glib(sockets: Sockets) -> None:
    """On a datagram socket ``recv(fd, buf, 0)`` takes the next datagram (Linux), as the
    docstring of ``receive`` says: the second datagram is the next one received."""
    a, b = sockets.udp_pair()
    a.send_to(b.get_local_address(), b"first", None)
    a.send_to(b.get_local_address(), b"second", None)
    assert b.condition_timed_wait(IN, 2_000_000, None) is True
    time.sleep(0.05)
    count, _ = b.receive(None, 0, bytearray(8))
    assert count == 0
    assert b.receive_bytes(64, 0, None) == b"second"


def test_blocking_receive_of_size_zero_waits_for_data_as_glib(sockets: Sockets) -> None:
    """GLib's blocking ``receive`` with size 0 gets ``EAGAIN`` from ``recv(fd, buf, 0)`` on
    an empty socket and waits for ``IN``: here until the bytes sent 0.2 s later (the 5 s
    socket timeout bounds it)."""
    _, client, server = sockets.tcp_pair()
    timer = threading.Timer(0.2, lambda: client.send(b"late", None))
    timer.start()
    try:
        start = time.monotonic()
        count, _ = server.receive(None, 0, bytearray(8))
        elapsed = time.monotonic() - start
    finally:
        timer.join()
    assert count == 0
    assert elapsed > 0.15


# --------------------------------------------------------------------------------------------
# Message flags outside a C int
# --------------------------------------------------------------------------------------------

FLAGS = [2**32 + 2, -(2**31) - 1, 2**31]  # 2**32+2 truncated to 32 bits would be MSG_PEEK (2)


def _flag_calls(a: Any, b: Any) -> dict[str, Callable[[int], Any]]:
    to = b.get_local_address()
    return {
        "send_message": lambda flags: a.send_message(to, [Gio.OutputVector(b"sent")], None, flags, None),
        "send_messages": lambda flags: a.send_messages(
            [Gio.OutputMessage(to, [Gio.OutputVector(b"sent")])], flags, None),
        "receive_message": lambda flags: b.receive_message([Gio.InputVector(size=16)], flags, None),
        "receive_messages": lambda flags: b.receive_messages(
            [Gio.InputMessage(vectors=[Gio.InputVector(size=16)])], flags, None),
    }


@pytest.mark.parametrize("flags", FLAGS, ids=["2**32+2", "-2**31-1", "2**31"])
@pytest.mark.parametrize("call", ["send_message", "send_messages", "receive_message", "receive_messages"])
def test_flags_outside_c_int_raise_overflow_error_before_any_io(sockets: Sockets, call: str, flags: int) -> None:
    """PyGObject's ``OverflowError`` "4294967298 not in range -2147483648 to 2147483647",
    raised before anything is sent, received or waited for (nothing is queued for the
    receives: a call that reached the OS would wait for the socket timeout)."""
    a, b = sockets.udp_pair()
    b.set_timeout(2)
    start = time.monotonic()
    with pytest.raises(OverflowError) as info:
        _flag_calls(a, b)[call](flags)
    assert time.monotonic() - start < 0.5
    assert str(info.value) == f"{flags} not in range -2147483648 to 2147483647"
    a.send_to(b.get_local_address(), b"marker", None)  # the first datagram b gets: nothing was sent before it
    assert b.receive_bytes(64, 2_000_000, None) == b"marker"


def test_receive_messages_flags_2_to_the_32_plus_2_do_not_peek(sockets: Sockets) -> None:
    """``2**32 + 2`` is not truncated to ``MSG_PEEK``: the call fails and the queued datagram
    is neither reported nor left behind twice: the next receive takes it, once."""
    a, b = sockets.udp_pair()
    a.send_to(b.get_local_address(), b"once", None)
    assert b.condition_timed_wait(IN, 2_000_000, None) is True
    message = Gio.InputMessage(vectors=[Gio.InputVector(size=16)])
    with pytest.raises(OverflowError):
        b.receive_messages([message], 2**32 + 2, None)
    assert message.bytes_received == 0
    assert b.receive_bytes(64, 0, None) == b"once"
    with pytest.raises(GLib.Error) as info:
        b.receive_bytes(64, 0, None)
    assert info.value.code == E.WOULD_BLOCK


def test_negative_overflow_in_receive_messages_does_not_spin() -> None:
    """``-2**31 - 1`` with a datagram queued: ``OverflowError`` at once. Before, the flags
    wrapped to 0x7fffffff (``MSG_ERRQUEUE`` among them): ``recvmmsg`` found nothing while
    ``poll()`` said readable, and the call spun for ever, socket timeout or not.
    In a child process with a hard timeout."""
    result = run_child(
        """
        import json, time
        from gsocklab import Gio, GLib
        F, T = Gio.SocketFamily, Gio.SocketType
        lo = Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(F.IPV4), 0)
        a, b = Gio.Socket.new(F.IPV4, T.DATAGRAM, 0), Gio.Socket.new(F.IPV4, T.DATAGRAM, 0)
        a.bind(lo, True)
        b.bind(lo, True)
        b.set_timeout(1)
        a.send_to(b.get_local_address(), b"queued", None)
        b.condition_timed_wait(GLib.IOCondition.IN, 1_000_000, None)
        start = time.monotonic()
        try:
            b.receive_messages([Gio.InputMessage(vectors=[Gio.InputVector(size=16)])], -2**31 - 1, None)
            error = None
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"
        after = b.receive_bytes(64, 0, None)
        a.close()
        b.close()
        print(json.dumps({"error": error, "seconds": time.monotonic() - start, "after": after.decode()}))
        """,
        timeout=10,
    )
    assert result["error"] == "OverflowError: -2147483649 not in range -2147483648 to 2147483647"
    assert result["seconds"] < 0.5
    assert result["after"] == "queued"


@pytest.mark.oracle
def test_flags_overflow_and_property_names_match_pygobject() -> None:
    """The same texts as PyGObject (GLib 2.74): OverflowError for flags, TypeError for names."""
    compare(
        """
        s = new(F.IPV4, T.DATAGRAM)
        s.set_timeout(1)  # bounds a receive that would reach the OS
        for flags in (2**32 + 2, -2**31 - 1, 2**31):
            out[f"send_message {flags}"] = err(s.send_message, None, [Gio.OutputVector()], None, flags, None)
            out[f"receive_message {flags}"] = err(s.receive_message, [Gio.InputVector()], flags, None)
            out[f"send_messages {flags}"] = err(s.send_messages, [Gio.OutputMessage()], flags, None)
            out[f"receive_messages {flags}"] = err(s.receive_messages, [Gio.InputMessage()], flags, None)
        for name in (None, 5, b"timeout"):
            out[f"get_property {name!r}"] = err(s.get_property, name)
            out[f"set_property {name!r}"] = err(s.set_property, name, 1)
        """
    )


# --------------------------------------------------------------------------------------------
# Huge timeouts wrap as in GLib instead of raising OverflowError
# --------------------------------------------------------------------------------------------


def _bounded_wait(sock: Any, sender: Any, wait: Callable[[Gio.Cancellable], Any]) -> tuple[Any, float]:
    """``wait(c)`` satisfied by a datagram 0.2 s later; ``c`` is cancelled after 5 s, in case."""
    c = Gio.Cancellable()
    data = threading.Timer(0.2, lambda: sender.send_to(sock.get_local_address(), b"late", None))
    safety = threading.Timer(5, c.cancel)
    data.start()
    safety.start()
    start = time.monotonic()
    try:
        return wait(c), time.monotonic() - start
    finally:
        data.cancel()
        safety.cancel()
        data.join()
        safety.join()


HUGE_WAITS: dict[str, tuple[int, Callable[[Any, Gio.Cancellable], Any]]] = {
    "set_timeout(3_000_000) condition_wait": (3_000_000, lambda s, c: s.condition_wait(IN, c)),
    "set_timeout(3_000_000) condition_wait no cancellable": (3_000_000, lambda s, c: s.condition_wait(IN, None)),
    "set_timeout(3_000_000) receive_bytes": (3_000_000, lambda s, c: s.receive_bytes(64, -1, c)),
    "set_timeout(3_000_000) receive_from": (3_000_000, lambda s, c: s.receive_from(c, 64)[2]),
    "condition_timed_wait(2**62)": (0, lambda s, c: s.condition_timed_wait(IN, 2**62, c)),
    "condition_timed_wait(2**62) no cancellable": (0, lambda s, c: s.condition_timed_wait(IN, 2**62, None)),
    "receive_bytes(2**62)": (0, lambda s, c: s.receive_bytes(64, 2**62, c)),
}


@pytest.mark.parametrize("case", list(HUGE_WAITS))
def test_huge_timeouts_wait_until_ready_instead_of_overflowing(sockets: Sockets, case: str) -> None:
    """GLib's arithmetic: ``timeout * 1000`` as a ``guint`` and the milliseconds as a C ``int``
    wrap to a negative ``poll()`` timeout, which waits until the socket is ready. Before,
    Python's ``poll()`` raised ``OverflowError`` ("timeout is too large").

    Bounded by the datagram that arrives after 0.2 s (and a cancel after 5 s).
    """
    timeout, call = HUGE_WAITS[case]
    a, b = sockets.udp_pair()
    a.set_timeout(timeout)
    result, elapsed = _bounded_wait(a, b, lambda c: call(a, c))
    assert result in (True, b"late")
    assert 0.15 < elapsed < 4


# --------------------------------------------------------------------------------------------
# Property names and buffers of the wrong kind
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [None, 5, b"timeout"], ids=["None", "int", "bytes"])
@pytest.mark.parametrize("method", ["get_property", "set_property"])
def test_property_name_must_be_a_str(sockets: Sockets, method: str, name: Any) -> None:
    """PyGObject: "GObject.get_property() argument 1 must be str, not None" (before: an
    ``AttributeError`` from ``name.replace``)."""
    sock = sockets.new(F.IPV4, T.DATAGRAM)
    args = (name,) if method == "get_property" else (name, 3)
    with pytest.raises(TypeError) as info:
        getattr(sock, method)(*args)
    kind = "None" if name is None else type(name).__name__
    assert str(info.value) == f"GObject.{method}() argument 1 must be str, not {kind}"
    assert sock.get_timeout() == 5


@pytest.mark.parametrize("call", ["send", "send_to", "send_with_blocking"])
def test_non_contiguous_memoryview_is_a_type_error_naming_buffer(sockets: Sockets, call: str) -> None:
    """``memoryview(bytearray(16))[::2]`` is refused with a ``TypeError`` naming ``buffer``
    (before: the stdlib's ``BufferError``), and nothing is sent.

    PyGObject 2.74 differs: it reads the view as a sequence of 8 ints and sends 8 bytes.
    """
    a, b = sockets.udp_pair()
    a.connect(b.get_local_address(), None)
    view = memoryview(bytearray(16))[::2]
    calls: dict[str, Callable[[], Any]] = {
        "send": lambda: a.send(view, None),
        "send_to": lambda: a.send_to(b.get_local_address(), view, None),
        "send_with_blocking": lambda: a.send_with_blocking(view, True, None),
    }
    with pytest.raises(TypeError) as info:
        calls[call]()
    assert "buffer" in str(info.value)
    a.send(b"marker", None)
    assert b.receive_bytes(64, 2_000_000, None) == b"marker"


# --------------------------------------------------------------------------------------------
# Sockets collected without close()
# --------------------------------------------------------------------------------------------


def test_socket_adopted_from_a_stdlib_socket_closed_first_is_collected_quietly() -> None:
    """``Gio.Socket.new_from_fd(s.fileno())``, ``s.close()``, then the Gio socket is dropped:
    its finalizer finds the descriptor closed and says nothing (before: "Exception ignored
    in Socket.__del__: OSError: [Errno 9] Bad file descriptor"). In a child process, with
    ``sys.unraisablehook`` recording."""
    result = run_child(
        """
        import gc, json, socket, sys, warnings
        warnings.simplefilter("error")
        unraisable = []
        sys.unraisablehook = lambda u: unraisable.append(f"{u.exc_type.__name__}: {u.exc_value}")
        from gsocklab import Gio
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            g = Gio.Socket.new_from_fd(s.fileno())
            s.close()
            del g
            gc.collect()
        print(json.dumps({"unraisable": unraisable}))
        """,
        timeout=30,
    )
    assert result["unraisable"] == []


def test_socket_in_a_reference_cycle_is_collected_without_resource_warning() -> None:
    """A socket that refers to itself (``s.me = s``) is collected by the cycle collector,
    which may finalize the OS socket before the Gio socket: no ``ResourceWarning: unclosed
    <socket.socket …>`` either way, and the descriptor is closed.

    The second socket is made GObject-style, ``Gio.Socket.__new__`` then ``__init__``, with
    a young-generation collection in between: the Gio object is then older than its OS
    socket, and a full collection finalizes the OS socket first (the order that warned).
    In a child process, warnings recorded.
    """
    result = run_child(
        """
        import gc, json, os, sys, warnings
        unraisable = []
        sys.unraisablehook = lambda u: unraisable.append(f"{u.exc_type.__name__}: {u.exc_value}")
        from gsocklab import Gio
        F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
        gc.collect()
        before = len(os.listdir("/proc/self/fd"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            s = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.DEFAULT)
            s.me = s
            del s
            gc.collect()
            gc.disable()
            try:
                s = Gio.Socket.__new__(Gio.Socket)
                gc.collect(0)  # the Gio object moves to an older generation than its OS socket will be in
                s.__init__(family=F.IPV4, type=T.STREAM, protocol=P.DEFAULT)
                s.init(None)
                s.me = s
                del s
                gc.collect()
            finally:
                gc.enable()
        after = len(os.listdir("/proc/self/fd"))
        warned = [f"{w.category.__name__}: {w.message}" for w in caught]
        print(json.dumps({"warnings": warned, "unraisable": unraisable, "fds": [before, after]}))
        """,
        timeout=30,
    )
    assert result["warnings"] == []
    assert result["unraisable"] == []
    assert result["fds"][0] == result["fds"][1]


def test_socket_dropped_without_close_after_waits_leaves_no_descriptor() -> None:
    """Dropping, without ``close()``, a socket whose calls waited leaves no descriptor behind:
    the OS socket and the close wake-up descriptor made by its first wait both go."""
    start = fd_count()
    sock = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.DEFAULT)
    sock.bind(Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(F.IPV4), 0), True)
    with pytest.raises(GLib.Error):
        sock.condition_timed_wait(IN, 1000, None)  # the first wait makes the close wake-up descriptor
    with pytest.raises(GLib.Error):
        sock.receive_bytes(16, 1000, None)
    del sock
    assert fd_count() == start
