"""``Gio.Cancellable``: flag, handlers, wake-up descriptor, and waking blocked calls."""

from __future__ import annotations

import os
import select
import threading
import time

import pytest

from gsocklab import Gio, GLib


def test_cancel_sets_flag_and_error() -> None:
    c = Gio.Cancellable()
    assert not c.is_cancelled()
    assert c.set_error_if_cancelled() is False
    c.cancel()
    assert c.is_cancelled()
    with pytest.raises(GLib.Error) as info:
        c.set_error_if_cancelled()
    assert info.value.code == Gio.IOErrorEnum.CANCELLED
    assert info.value.message == "Operation was cancelled"
    c.reset()
    assert not c.is_cancelled()


def test_handlers_run_once_with_cancellable_and_data() -> None:
    c = Gio.Cancellable()
    seen: list[tuple[object, ...]] = []
    handler = c.connect(lambda *args: seen.append(args), "data")
    assert handler > 0
    c.cancel()
    c.cancel()
    assert seen == [(c, "data")]
    c.disconnect(handler)


def test_connect_on_cancelled_runs_at_once_and_returns_zero() -> None:
    c = Gio.Cancellable()
    c.cancel()
    seen: list[object] = []
    assert c.connect(lambda cancellable: seen.append(cancellable)) == 0
    assert seen == [c]


def test_disconnected_handler_does_not_run() -> None:
    c = Gio.Cancellable()
    seen: list[object] = []
    handler = c.connect(lambda *a: seen.append(a))
    c.disconnect(handler)
    c.cancel()
    assert seen == []


def test_fd_becomes_readable_on_cancel_and_clears_on_reset() -> None:
    c = Gio.Cancellable()
    fd = c.get_fd()
    assert select.select([fd], [], [], 0)[0] == []
    c.cancel()
    assert select.select([fd], [], [], 0)[0] == [fd]
    c.reset()
    assert select.select([fd], [], [], 0)[0] == []
    c.release_fd()


def test_release_fd_closes_it() -> None:
    c = Gio.Cancellable()
    fd = c.get_fd()
    c.release_fd()
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(fd)


def test_bad_types() -> None:
    c = Gio.Cancellable()
    with pytest.raises(TypeError, match="callback"):
        c.connect("not callable")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="handler_id"):
        c.disconnect("x")  # type: ignore[arg-type]


def test_current_stack() -> None:
    c = Gio.Cancellable()
    assert Gio.Cancellable.get_current() is None
    c.push_current()
    assert Gio.Cancellable.get_current() is c
    c.pop_current()
    assert Gio.Cancellable.get_current() is None


@pytest.mark.parametrize("blocking_call", ["receive", "condition_wait", "accept"])
def test_cancel_from_thread_wakes_blocked_call_within_50ms(blocking_call: str) -> None:
    kind = Gio.SocketType.STREAM if blocking_call == "accept" else Gio.SocketType.DATAGRAM
    sock = Gio.Socket.new(Gio.SocketFamily.IPV4, kind, Gio.SocketProtocol.DEFAULT)
    sock.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    if blocking_call == "accept":
        sock.listen()
    sock.set_timeout(5)  # bound: never hangs even if cancellation failed
    c = Gio.Cancellable()
    cancelled_at: list[float] = []

    def cancel() -> None:
        cancelled_at.append(time.monotonic())
        c.cancel()

    timer = threading.Timer(0.2, cancel)
    timer.start()
    try:
        call = {
            "receive": lambda: sock.receive(c),
            "condition_wait": lambda: sock.condition_wait(GLib.IOCondition.IN, c),
            "accept": lambda: sock.accept(c),
        }[blocking_call]
        with pytest.raises(GLib.Error) as info:
            call()
        woke = time.monotonic()
    finally:
        timer.join()
        sock.close()
    assert info.value.code == Gio.IOErrorEnum.CANCELLED
    assert woke - cancelled_at[0] < 0.05
