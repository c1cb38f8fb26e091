"""The timeout arithmetic of ``g_socket_condition_timed_wait``, property-tested, and real waits."""

from __future__ import annotations

import ctypes
import time

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gsocklab import Gio, GLib
from gsocklab.core._wait import effective_timeout_ms


def c_effective_timeout_ms(socket_timeout: int, timeout_us: int) -> int:
    """A transcription of the C in gsocket.c, with C's types: what ``g_poll()`` receives.

    ``priv->timeout * 1000`` is ``guint`` arithmetic (wraps at 2**32), ``timeout_ms`` is a
    ``gint64``, and ``g_poll()`` takes it as a ``gint`` (wraps to 32-bit two's complement).
    """
    def div(a: int, b: int) -> int:
        return int(a / b) if abs(a) < 2**52 else (abs(a) // b) * (1 if a >= 0 else -1)

    def gint(value: int) -> int:
        return ctypes.c_int32(value & 0xFFFFFFFF).value

    if socket_timeout and (timeout_us < 0 or socket_timeout < div(timeout_us, 1_000_000)):
        return gint(ctypes.c_uint32(socket_timeout * 1000).value)
    if timeout_us != -1:
        return gint(div(timeout_us, 1000))
    return -1


@given(st.integers(0, 2**32 - 1), st.integers(-(2**62), 2**62))
@example(3_000_000, -1)  # 3e9 ms wraps negative: waits until ready, as GLib
@example(0, 2**62)  # idem
@example(1, 1_500_000)  # socket timeout 1 s, 1.5 s asked: 1 is not < 1 whole second -> 1500 ms
@example(1, 3_000_000)  # 3 s asked: the socket timeout wins -> 1000 ms
@example(1, 200_000)
@example(0, 999)  # sub-millisecond waits poll once
@example(0, -999)
@example(0, -1000)  # below -999 the C code hands poll() a negative, infinite, timeout
def test_effective_timeout_matches_glib(socket_timeout: int, timeout_us: int) -> None:
    assert effective_timeout_ms(socket_timeout, timeout_us) == c_effective_timeout_ms(socket_timeout, timeout_us)


def test_examples_from_the_reference() -> None:
    assert effective_timeout_ms(1, 3_000_000) == 1000
    assert effective_timeout_ms(1, 1_500_000) == 1500
    assert effective_timeout_ms(1, 200_000) == 200
    assert effective_timeout_ms(1, -1) == 1000
    assert effective_timeout_ms(0, -1) == -1
    assert effective_timeout_ms(0, 999) == 0


@pytest.fixture
def udp() -> Gio.Socket:
    sock = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.DEFAULT)
    sock.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    yield sock
    sock.close()


def test_timed_wait_100ms_lasts_100ms(udp: Gio.Socket) -> None:
    udp.set_timeout(1)
    start = time.monotonic()
    with pytest.raises(GLib.Error) as info:
        udp.condition_timed_wait(GLib.IOCondition.IN, 100_000)
    elapsed = time.monotonic() - start
    assert info.value.matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT)
    assert 0.098 <= elapsed < 0.2  # GLib's own test allows [98, 112) ms; CI machines are slower


def test_socket_timeout_caps_a_longer_wait(udp: Gio.Socket) -> None:
    udp.set_timeout(1)
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        udp.condition_timed_wait(GLib.IOCondition.IN, 3_000_000)
    assert 0.99 <= time.monotonic() - start < 1.5


def test_ready_condition_returns_true_at_once(udp: Gio.Socket) -> None:
    assert udp.condition_timed_wait(GLib.IOCondition.OUT, 0) is True
    assert udp.condition_check(GLib.IOCondition.IN | GLib.IOCondition.OUT) == GLib.IOCondition.OUT


def test_sub_millisecond_wait_polls_once(udp: Gio.Socket) -> None:
    start = time.monotonic()
    with pytest.raises(GLib.Error):
        udp.condition_timed_wait(GLib.IOCondition.IN, 999)
    assert time.monotonic() - start < 0.05
