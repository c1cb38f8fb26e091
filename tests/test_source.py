"""Socket sources on asyncio (``create_source``) and the ``*_async`` calls, over loopback.

GLib references: §1.6 (sources), §6.1 rows 3 and 17 (``/socket/ipv4_async``,
``/socket/source-postmortem``), §6.2 items 51-52 (c02, E15), A.16 (cancellable child).
Every await is bounded by ``asyncio.wait_for(…, 5)``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from conftest import Sockets, loopback

from gsocklab import Gio, GLib
from gsocklab.core._source import AsyncSocketMixin, SocketSource

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
IN, OUT, HUP, NVAL = GLib.IOCondition.IN, GLib.IOCondition.OUT, GLib.IOCondition.HUP, GLib.IOCondition.NVAL
E = Gio.IOErrorEnum
LIMIT = 5  # seconds: the bound on every await
_R = TypeVar("_R")


def test_socket_is_wired() -> None:
    """`Socket` inherits `AsyncSocketMixin` and has the hooks it needs."""
    sock = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.DEFAULT)
    try:
        assert isinstance(sock._sources, set)
        assert not sock._sources
        assert callable(sock._mark_timed_out)
        assert callable(sock._nonblocking)
        assert type(sock).create_source is AsyncSocketMixin.create_source
        sock.set_timeout(0)
        assert isinstance(Gio.DatagramBased.create_source(sock, IN, None), SocketSource)
    finally:
        sock.close()


# -- helpers ------------------------------------------------------------------------------------

def run(coro: Callable[[], Awaitable[_R]]) -> _R:
    """Run ``coro()`` in a fresh event loop, bounded by `LIMIT` seconds."""
    async def bounded() -> _R:
        return await asyncio.wait_for(coro(), LIMIT)

    return asyncio.run(bounded())


async def settle(seconds: float = 0.1) -> None:
    """Let the loop run for a while (to show that nothing more fires)."""
    await asyncio.sleep(seconds)


def registered(loop: asyncio.AbstractEventLoop, fd: int) -> bool:
    """Whether ``fd`` is watched by ``loop`` (checked by removing it, which it must not be)."""
    reader, writer = loop.remove_reader(fd), loop.remove_writer(fd)
    return reader or writer


class Recorder:
    """A source callback that records its calls and sets an event; returns ``results`` in turn."""

    def __init__(self, *results: Any) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.times: list[float] = []
        self.results = list(results) or [False]
        self.event = asyncio.Event()

    def __call__(self, *args: Any) -> Any:
        self.calls.append(args)
        self.times.append(time.monotonic())
        self.event.set()
        return self.results[min(len(self.calls), len(self.results)) - 1]

    async def wait(self, count: int = 1) -> None:
        async def until() -> None:
            while len(self.calls) < count:
                self.event.clear()
                await self.event.wait()

        await asyncio.wait_for(until(), LIMIT)


def fill(sock: Any, chunk: bytes) -> None:
    """Send ``chunk`` without blocking until the socket is full."""
    try:
        while True:
            sock.send_with_blocking(chunk, False)
    except GLib.Error as exc:
        if exc.code != E.WOULD_BLOCK:
            raise


def code_of(info: pytest.ExceptionInfo[GLib.Error]) -> int:
    return info.value.code


# -- sources: readiness ---------------------------------------------------------------------------

def test_source_fires_when_a_datagram_arrives(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair

    async def main() -> None:
        src = a.create_source(IN)
        cb = Recorder(False)
        src.set_socket_callback(cb, "user", 42)
        assert src.attach() > 0
        assert src in a._sources
        b.send_to(a.get_local_address(), b"ping")
        await cb.wait()
        await settle(0.05)
        assert cb.calls == [(a, IN, "user", 42)]
        assert src.is_destroyed()  # False removed it
        assert src not in a._sources
        assert not registered(asyncio.get_running_loop(), a.get_fd())
        assert a.receive_with_blocking(False, None, 16)[1] == b"ping"

    run(main)


def test_source_fires_again_while_the_callback_returns_true(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    got: list[bytes] = []

    def on_in(sock: Any, cond: Any) -> bool:
        got.append(sock.receive_with_blocking(False, None, 16)[1])
        return len(got) < 3

    async def main() -> None:
        src = a.create_source(IN)
        done = asyncio.Event()
        src.set_socket_callback(lambda s, c: on_in(s, c) or done.set())
        src.attach()
        for payload in (b"1", b"2", b"3"):
            b.send_to(a.get_local_address(), payload)
        await asyncio.wait_for(done.wait(), LIMIT)
        assert got == [b"1", b"2", b"3"]
        assert src.is_destroyed()

    run(main)


def test_a_callback_that_does_not_read_is_called_again(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()

    async def main() -> None:
        src = a.create_source(IN)
        cb = Recorder(True, True, False)
        src.set_socket_callback(cb)
        src.attach()
        b.send_to(a.get_local_address(), b"x")
        await cb.wait(3)  # level-triggered, as a GLib source
        assert [c[1] for c in cb.calls] == [IN, IN, IN]
        assert src.is_destroyed()

    run(main)


def test_out_source_fires_at_once_on_a_fresh_udp_socket(sockets: Sockets) -> None:
    sock = sockets.new(F.IPV4, T.DATAGRAM, timeout=0)

    async def main() -> None:
        src = sock.create_source(OUT)
        cb = Recorder()
        src.set_socket_callback(cb, "OUT-source")
        src.attach()
        await cb.wait()
        assert cb.calls == [(sock, OUT, "OUT-source")]

    run(main)


def test_a_hup_only_source_ignores_input(sockets: Sockets) -> None:
    _, client, server = sockets.tcp_pair()

    async def main() -> None:
        src = client.create_source(0)  # HUP | ERR | NVAL only
        cb = Recorder()
        src.set_socket_callback(cb)
        src.attach()
        server.send(b"data")
        await settle(0.2)
        assert cb.calls == []
        client.shutdown(True, True)
        await cb.wait()
        assert cb.calls[0][1] & HUP
        assert not cb.calls[0][1] & IN  # masked: not asked for

    run(main)


# -- sources: timeout ---------------------------------------------------------------------------

@pytest.mark.slow
def test_timeout_fires_with_in_and_the_next_io_fails_once(sockets: Sockets) -> None:
    """§6.2 item 51 (c02): timeout 1, no traffic → cond IN after ≈1 s; TIMED_OUT once, then normal."""
    sock = sockets.new(F.IPV4, T.DATAGRAM, timeout=1)
    sock.bind(loopback(F.IPV4), True)
    outcomes: list[Any] = []

    def on_timeout(s: Any, cond: Any) -> bool:
        for _ in range(2):
            try:
                outcomes.append(s.receive_with_blocking(False, None, 8))
            except GLib.Error as exc:
                outcomes.append(exc.code)
        return False

    async def main() -> None:
        src = sock.create_source(IN)
        cb = Recorder()
        src.set_socket_callback(lambda s, c: (cb(s, c), on_timeout(s, c))[1])
        start = time.monotonic()
        src.attach()
        await cb.wait()
        assert 0.9 <= cb.times[0] - start < 2.0
        assert cb.calls == [(sock, IN)]

    run(main)
    assert outcomes == [E.TIMED_OUT, E.WOULD_BLOCK]


def test_ready_time_follows_the_socket_timeout(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    a.set_timeout(0)
    assert a.create_source(IN).get_ready_time() == -1
    a.set_timeout(3)

    async def main() -> None:
        src = a.create_source(IN)
        first = src.get_ready_time()
        assert abs(first - (time.monotonic() + 3) * 1e6) < 0.5e6
        cb = Recorder(True)
        src.set_socket_callback(cb)
        src.attach()
        await settle(0.05)
        b.send_to(a.get_local_address(), b"x")
        await cb.wait()
        await settle(0.01)
        assert src.get_ready_time() > first  # re-armed by the dispatch
        src.destroy()
        assert src.get_ready_time() == -1

    run(main)


def test_timed_out_flag_is_consumed_by_an_async_call(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()

    async def main() -> None:
        a._mark_timed_out()
        with pytest.raises(GLib.Error) as info:
            await asyncio.wait_for(a.receive_async(None, 8), LIMIT)
        assert code_of(info) == E.TIMED_OUT
        assert info.value.message == "Socket I/O timed out"
        with pytest.raises(GLib.Error) as info:
            await asyncio.wait_for(a.condition_timed_wait_async(IN, 0), LIMIT)
        assert code_of(info) == E.TIMED_OUT  # the wait itself, not the flag: nothing queued
        with pytest.raises(GLib.Error) as info:
            a.receive_with_blocking(False, None, 8)
        assert code_of(info) == E.WOULD_BLOCK  # the flag was consumed once

    run(main)


# -- sources: cancellable ------------------------------------------------------------------------

def test_cancel_from_another_thread_dispatches_once(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()
    cancellable = Gio.Cancellable()

    async def main() -> None:
        src = a.create_source(IN, cancellable)
        seen: list[bool] = []
        cb = Recorder(True)
        src.set_socket_callback(lambda s, c: (seen.append(cancellable.is_cancelled()), cb(s, c))[1])
        src.attach()
        timer = threading.Timer(0.1, cancellable.cancel)
        timer.start()
        try:
            await cb.wait()
            await settle(0.2)
        finally:
            timer.join()
        assert cb.calls == [(a, GLib.IOCondition(0))]
        assert seen == [True]
        assert not src.is_destroyed()
        src.destroy()

    run(main)


def test_an_already_cancelled_cancellable_dispatches_at_attach(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()
    cancellable = Gio.Cancellable()
    cancellable.cancel()

    async def main() -> None:
        src = a.create_source(IN, cancellable)
        cb = Recorder(False)
        src.set_socket_callback(cb)
        src.attach()
        await cb.wait()
        assert cb.calls == [(a, GLib.IOCondition(0))]

    run(main)


# -- sources: postmortem -------------------------------------------------------------------------

@pytest.mark.parametrize("keep", [True, False], ids=["returns-true", "returns-false"])
def test_close_fires_nval_exactly_once(sockets: Sockets, keep: bool) -> None:
    """/socket/source-postmortem: one NVAL, then inert, and the descriptor out of the loop."""
    sock = sockets.new(F.UNIX, T.DATAGRAM)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        src = sock.create_source(IN)
        cb = Recorder(keep)
        src.set_socket_callback(cb)
        src.attach()
        fd = sock.get_fd()
        sock.close()
        assert not registered(loop, fd)
        await cb.wait()
        await settle(0.1)
        assert cb.calls == [(sock, NVAL)]
        assert src.is_destroyed() is not keep
        assert src.get_ready_time() == -1
        assert not sock._sources
        assert not registered(loop, fd)

    run(main)


def test_close_from_another_thread_fires_nval_once(sockets: Sockets) -> None:
    sock = sockets.new(F.IPV4, T.DATAGRAM)
    sock.bind(loopback(F.IPV4), True)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        src = sock.create_source(IN)
        fd = sock.get_fd()
        cb = Recorder(True)
        fd_seen: list[bool] = []
        src.set_socket_callback(lambda s, c: (fd_seen.append(registered(loop, fd)), cb(s, c))[1])
        src.attach()
        await settle(0.05)
        closer = threading.Thread(target=sock.close)
        closer.start()
        await cb.wait()
        await asyncio.to_thread(closer.join, LIMIT)
        await settle(0.1)
        assert cb.calls == [(sock, NVAL)]
        assert fd_seen == [False]
        assert not registered(loop, fd)
        assert not src.is_destroyed()
        src.destroy()

    run(main)


def test_a_callback_that_closes_the_socket_gets_nval_next(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()

    def on_event(sock: Any, cond: Any) -> bool:
        if cond == IN:
            sock.close()
        return True

    async def main() -> None:
        loop = asyncio.get_running_loop()
        fd = a.get_fd()
        src = a.create_source(IN)
        cb = Recorder(True)
        src.set_socket_callback(lambda s, c: (cb(s, c), on_event(s, c))[1])
        src.attach()
        b.send_to(a.get_local_address(), b"x")
        await cb.wait(2)
        await settle(0.1)
        assert cb.calls == [(a, IN), (a, NVAL)]
        assert not registered(loop, fd)
        assert src.get_ready_time() == -1

    run(main)


def test_socket_closing_from_another_thread_returns_once_the_loop_let_go(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        src = a.create_source(IN)
        cb = Recorder(True)
        src.set_socket_callback(cb)
        src.attach()
        await settle(0.05)
        await asyncio.to_thread(src._socket_closing)  # the socket is still open here
        assert not registered(loop, a.get_fd())  # the loop thread let go before it returned
        await cb.wait()
        assert cb.calls == [(a, NVAL)]

    run(main)


@pytest.mark.slow
def test_close_from_another_thread_while_the_loop_is_blocked(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        fd = a.get_fd()
        src = a.create_source(IN)
        cb = Recorder(True)
        src.set_socket_callback(cb)
        src.attach()
        closer = threading.Thread(target=a.close)
        start = time.monotonic()
        closer.start()
        closer.join(LIMIT)  # blocks the loop thread: close() gives up waiting for it
        assert 0.9 <= time.monotonic() - start < 3
        assert a.is_closed()
        assert not registered(loop, fd)
        await cb.wait()
        await settle(0.05)
        assert cb.calls == [(a, NVAL)]

    run(main)


def test_a_source_attached_after_close_fires_nval_once(sockets: Sockets) -> None:
    sock = sockets.new(F.UNIX, T.DATAGRAM)
    src = sock.create_source(IN)
    sock.close()

    async def main() -> None:
        cb = Recorder(True)
        src.set_socket_callback(cb)
        src.attach()
        await cb.wait()
        await settle(0.05)
        assert cb.calls == [(sock, NVAL)]

    run(main)


def test_create_source_on_a_closed_socket_raises_closed(sockets: Sockets) -> None:
    sock = sockets.new(F.UNIX, T.DATAGRAM)
    sock.close()
    with pytest.raises(GLib.Error) as info:
        sock.create_source(IN)
    assert code_of(info) == E.CLOSED
    assert info.value.message == "Socket is already closed"


# -- sources: the object -------------------------------------------------------------------------

def test_source_object_basics(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()
    src = a.create_source(IN)
    assert isinstance(src, SocketSource)
    assert src.get_name() == "GSocket"
    assert src.get_id() == 0
    assert not src.is_destroyed()
    with pytest.raises(TypeError):
        src.set_socket_callback("not callable")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        a.create_source("IN")
    with pytest.raises(TypeError):
        a.create_source(IN, object())
    with pytest.raises(TypeError):
        src.attach(object())  # type: ignore[arg-type]
    loop = asyncio.new_event_loop()
    try:
        source_id = src.attach(loop)
        assert source_id > 0
        assert src.get_id() == source_id
        with pytest.raises(GLib.Error) as info:
            src.attach(loop)
        assert code_of(info) == E.INVALID_ARGUMENT
        assert registered(loop, a.get_fd()) is True  # (this also removed it)
        src.destroy()
        src.destroy()
        assert src.is_destroyed()
        assert src not in a._sources
        with pytest.raises(GLib.Error) as info:
            src.attach(loop)
        assert code_of(info) == E.INVALID_ARGUMENT
    finally:
        loop.close()
    with pytest.raises(RuntimeError):
        a.create_source(IN).attach(loop)  # closed loop


def test_attach_to_a_loop_that_is_not_running_yet(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    loop = asyncio.new_event_loop()
    try:
        src = a.create_source(IN)
        cb = Recorder()
        src.set_socket_callback(cb)
        src.attach(loop)
        b.send_to(a.get_local_address(), b"x")
        loop.run_until_complete(asyncio.wait_for(cb.wait(), LIMIT))
        assert cb.calls == [(a, IN)]
    finally:
        loop.close()


def test_attach_from_another_thread(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        src = a.create_source(IN)
        cb = Recorder()
        src.set_socket_callback(cb, "t")
        assert await asyncio.to_thread(src.attach, loop) > 0
        b.send_to(a.get_local_address(), b"x")
        await cb.wait()
        assert cb.calls == [(a, IN, "t")]

    run(main)


def test_a_raising_callback_is_reported_and_removed(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        contexts: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: contexts.append(context))
        failure = ValueError("boom")

        def bad(*args: Any) -> bool:
            raise failure

        src = a.create_source(IN)
        src.set_socket_callback(bad)
        src.attach()
        b.send_to(a.get_local_address(), b"x")
        await asyncio.wait_for(_until(lambda: bool(contexts)), LIMIT)
        assert contexts[0]["exception"] is failure
        assert contexts[0]["source"] is src
        assert src.is_destroyed()
        assert not registered(loop, a.get_fd())

        async def coroutine_callback(*args: Any) -> bool:
            return True

        src = a.create_source(IN)
        src.set_socket_callback(coroutine_callback)
        src.attach()
        await asyncio.wait_for(_until(lambda: len(contexts) == 2), LIMIT)
        assert isinstance(contexts[1]["exception"], TypeError)
        assert src.is_destroyed()

    run(main)


async def _until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        await asyncio.sleep(0.005)


def test_destroy_from_another_thread(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        src = a.create_source(IN)
        cb = Recorder(True)
        src.set_socket_callback(cb)
        src.attach()
        await asyncio.to_thread(src.destroy)
        await settle(0.05)
        b.send_to(a.get_local_address(), b"x")
        await settle(0.1)
        assert cb.calls == []
        assert src.is_destroyed()
        assert not registered(loop, a.get_fd())
        assert not a._sources

    run(main)


# -- condition_wait_async -------------------------------------------------------------------------

def test_condition_wait_async_returns_when_data_arrives(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, b.send_to, a.get_local_address(), b"x")
        start = time.monotonic()
        assert await asyncio.wait_for(a.condition_wait_async(IN), LIMIT) is True
        assert time.monotonic() - start >= 0.04
        assert await asyncio.wait_for(a.condition_wait_async(IN), LIMIT) is True  # still ready: at once
        assert not a._sources
        assert not registered(loop, a.get_fd())

    run(main)


@pytest.mark.slow
def test_condition_wait_async_times_out_after_the_socket_timeout(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()
    a.set_timeout(1)

    async def main() -> None:
        start = time.monotonic()
        with pytest.raises(GLib.Error) as info:
            await asyncio.wait_for(a.condition_wait_async(IN), LIMIT)
        assert code_of(info) == E.TIMED_OUT
        assert info.value.message == "Socket I/O timed out"
        assert 0.9 <= time.monotonic() - start < 2.0
        with pytest.raises(GLib.Error) as info:
            a.receive_with_blocking(False, None, 8)
        assert code_of(info) == E.WOULD_BLOCK  # a wait sets no timed_out flag

    run(main)


def test_condition_timed_wait_async_100ms(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()
    a.set_timeout(1)

    async def main() -> None:
        start = time.monotonic()
        with pytest.raises(GLib.Error) as info:
            await asyncio.wait_for(a.condition_timed_wait_async(IN, 100_000), LIMIT)
        assert code_of(info) == E.TIMED_OUT
        assert 0.09 <= time.monotonic() - start < 0.5

    run(main)


def test_condition_wait_async_cancelled(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()

    async def main() -> None:
        cancellable = Gio.Cancellable()
        timer = threading.Timer(0.1, cancellable.cancel)
        timer.start()
        try:
            with pytest.raises(GLib.Error) as info:
                await asyncio.wait_for(a.condition_wait_async(IN, cancellable), LIMIT)
        finally:
            timer.join()
        assert code_of(info) == E.CANCELLED
        assert info.value.message == "Operation was cancelled"
        with pytest.raises(GLib.Error) as info:  # already cancelled: before any waiting
            await asyncio.wait_for(a.condition_wait_async(OUT, cancellable), LIMIT)
        assert code_of(info) == E.CANCELLED
        assert not a._sources

    run(main)


def test_task_cancellation_cleans_up_the_wait(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()
    cancellable = Gio.Cancellable()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(a.condition_wait_async(IN, cancellable))
        await settle(0.05)
        assert len(a._sources) == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, LIMIT)
        assert not a._sources
        assert not registered(loop, a.get_fd())
        cancellable.cancel()  # its handler is gone: nothing to wake
        await settle(0.05)
        task = asyncio.ensure_future(a.receive_async())
        await settle(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, LIMIT)
        assert not a._sources
        assert not registered(loop, a.get_fd())

    run(main)


def test_condition_wait_async_on_a_closed_socket(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.05, a.close)
        with pytest.raises(GLib.Error) as info:
            await asyncio.wait_for(a.condition_wait_async(IN), LIMIT)
        assert code_of(info) == E.CLOSED
        with pytest.raises(GLib.Error) as info:
            await asyncio.wait_for(a.condition_wait_async(IN), LIMIT)
        assert code_of(info) == E.CLOSED

    run(main)


# -- async I/O ----------------------------------------------------------------------------------

def test_udp_receive_and_send_async(udp_pair: tuple[Any, Any]) -> None:
    a, b = udp_pair
    a.connect(b.get_local_address())
    b.connect(a.get_local_address())

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, b.send, b"hello")
        count, data = await asyncio.wait_for(a.receive_async(), LIMIT)
        assert (count, data) == (5, b"hello")
        assert await asyncio.wait_for(a.send_async(b"back"), LIMIT) == 4
        buffer = bytearray(16)
        result = await asyncio.wait_for(b.receive_async(None, 16, buffer), LIMIT)
        assert result[0] == 4
        assert result.buffer is buffer
        assert bytes(buffer[:4]) == b"back"
        loop.call_later(0.05, b.send, b"from")
        n, address, payload = await asyncio.wait_for(a.receive_from_async(None, 64), LIMIT)
        assert (n, payload) == (4, b"from")
        assert address.get_port() == b.get_local_address().get_port()

    run(main)


def test_send_to_async(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()

    async def main() -> None:
        assert await asyncio.wait_for(a.send_to_async(b.get_local_address(), b"dgram"), LIMIT) == 5
        result = await asyncio.wait_for(b.receive_from_async(), LIMIT)
        assert result.buffer == b"dgram"
        assert result.address.get_port() == a.get_local_address().get_port()

    run(main)


def test_tcp_accept_receive_and_send_async(sockets: Sockets) -> None:
    listener = sockets.new(F.IPV4, T.STREAM)
    listener.bind(loopback(F.IPV4), True)
    listener.listen()
    client = sockets.new(F.IPV4, T.STREAM)

    async def main() -> None:
        accepting = asyncio.ensure_future(listener.accept_async())
        await settle(0.02)
        assert not accepting.done()
        client.connect(listener.get_local_address())
        server = sockets.add(await asyncio.wait_for(accepting, LIMIT))
        assert server.is_connected()
        assert server.get_blocking()
        receiving = asyncio.ensure_future(server.receive_async(None, 100))
        await settle(0.02)
        assert not receiving.done()
        assert await asyncio.wait_for(client.send_async(b"x" * 10), LIMIT) == 10
        assert await asyncio.wait_for(receiving, LIMIT) == (10, b"x" * 10)
        client.shutdown(False, True)
        assert await asyncio.wait_for(server.receive_async(), LIMIT) == (0, b"")  # end of stream

    run(main)


def test_tcp_send_async_waits_for_room(sockets: Sockets) -> None:
    _, client, server = sockets.tcp_pair()
    chunk = b"z" * 65536

    async def main() -> None:
        fill(client, chunk)
        sending = asyncio.ensure_future(client.send_async(chunk))
        await settle(0.05)
        assert not sending.done()
        drained = 0
        while not sending.done():
            try:
                drained += server.receive_with_blocking(False, None, 1 << 20)[0]
            except GLib.Error:
                await asyncio.sleep(0.005)
        assert await asyncio.wait_for(sending, LIMIT) > 0
        assert drained > 0

    run(main)


@pytest.mark.slow
def test_receive_async_times_out_after_the_socket_timeout(sockets: Sockets) -> None:
    _, client, _ = sockets.tcp_pair()
    client.set_timeout(1)

    async def main() -> None:
        start = time.monotonic()
        with pytest.raises(GLib.Error) as info:
            await asyncio.wait_for(client.receive_async(), LIMIT)
        assert code_of(info) == E.TIMED_OUT
        assert 0.9 <= time.monotonic() - start < 2.0

    run(main)


def test_receive_async_cancelled_from_another_thread(sockets: Sockets) -> None:
    a, _ = sockets.udp_pair()
    cancellable = Gio.Cancellable()

    async def main() -> None:
        timer = threading.Timer(0.1, cancellable.cancel)
        timer.start()
        try:
            with pytest.raises(GLib.Error) as info:
                await asyncio.wait_for(a.receive_from_async(cancellable), LIMIT)
        finally:
            timer.join()
        assert code_of(info) == E.CANCELLED
        with pytest.raises(GLib.Error) as info:
            await asyncio.wait_for(a.send_to_async(a.get_local_address(), b"x", cancellable), LIMIT)
        assert code_of(info) == E.CANCELLED  # checked before the system call

    run(main)


def test_messages_async(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    a.set_timeout(0)
    b.set_timeout(0)

    async def main() -> None:
        inputs = [Gio.InputMessage([bytearray(16)]) for _ in range(4)]
        receiving = asyncio.ensure_future(b.receive_messages_async(inputs))
        await settle(0.02)
        assert not receiving.done()
        outputs = [Gio.OutputMessage(b.get_local_address(), [payload]) for payload in (b"one", b"two", b"three")]
        assert await asyncio.wait_for(a.send_messages_async(outputs), LIMIT) == 3
        assert [m.bytes_sent for m in outputs] == [3, 3, 5]
        got = await asyncio.wait_for(receiving, LIMIT)
        assert 1 <= got <= 3
        while got < 3:
            got += await asyncio.wait_for(b.receive_messages_async(inputs[got:]), LIMIT)
        assert [m.payload for m in inputs[:3]] == [b"one", b"two", b"three"]
        assert await asyncio.wait_for(a.send_messages_async([]), LIMIT) == 0
        assert await asyncio.wait_for(b.receive_messages_async([]), LIMIT) == 0

    run(main)
