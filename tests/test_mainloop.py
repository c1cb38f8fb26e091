"""Behaviour tests of gsocklab's main loop (no oracle): asyncio driving, threads, bad input.

A `GLib.MainContext` iterated by a running asyncio loop (a Jupyter cell, `drive`), by a
`GLib.MainLoop` in another thread, and woken or ended from other threads, over real
descriptors (socket pairs, pipes). Every wait is bounded: asyncio waits by
``asyncio.wait_for``, every `MainLoop.run` by a watchdog that quits it, every thread join by
a timeout; "promptly" means within `PROMPT` seconds of the call made in the other thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from gsocklab import Gio, GLib
from gsocklab.mainloop import drive

IN, NVAL = GLib.IOCondition.IN, GLib.IOCondition.NVAL
E = Gio.IOErrorEnum
LIMIT = 5.0  # seconds: the bound on every wait
PROMPT = 0.5  # seconds: how soon a call from another thread must end a blocked wait
_R = TypeVar("_R")


# -- helpers ------------------------------------------------------------------------------------


def fd_count() -> int:
    """Open descriptors of this process, after a garbage collection."""
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


def run(coro: Callable[[], Awaitable[_R]], limit: float = LIMIT * 2) -> _R:
    """Run ``coro()`` in a fresh asyncio loop (``asyncio.run``), bounded by ``limit`` seconds."""
    async def bounded() -> _R:
        return await asyncio.wait_for(coro(), limit)

    return asyncio.run(bounded())


async def until(predicate: Callable[[], bool], limit: float = LIMIT) -> None:
    """Let the running loop run until ``predicate()`` holds (``TimeoutError`` after ``limit``)."""
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), limit)


def pump(context: GLib.MainContext, predicate: Callable[[], bool], limit: float = LIMIT) -> None:
    """Iterate ``context`` without blocking until ``predicate()`` holds (fails after ``limit``)."""
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "the context never got there"
        context.iteration(False)
        time.sleep(0.002)


@contextlib.contextmanager
def watchdog(loop: GLib.MainLoop, limit: float = LIMIT) -> Iterator[list[bool]]:
    """Quit ``loop`` after ``limit`` seconds if nothing else did; yields ``[fired]``."""
    fired = [False]

    def bite() -> None:
        fired[0] = True
        loop.quit()

    timer = threading.Timer(limit, bite)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()
        timer.join(LIMIT)


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


class LoopThread:
    """An asyncio loop running forever in a thread of its own (stopped and closed by `close`)."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.started = threading.Event()
        self.thread.start()
        assert self.started.wait(LIMIT)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self.started.set)
        self.loop.run_forever()

    def close(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(LIMIT)
        assert not self.thread.is_alive()
        self.loop.close()


def gio_pair() -> tuple[Any, socket.socket]:
    """A Unix stream socket pair: (gsocklab end, stdlib end), the gsocklab end with a 5 s timeout."""
    a, b = socket.socketpair()
    b.settimeout(LIMIT)
    sock = Gio.Socket.new_from_fd(a.detach())
    sock.set_timeout(int(LIMIT))
    return sock, b


@pytest.fixture(autouse=True)
def _default_context_left_clean() -> Iterator[None]:
    """Each test removes what it added to the global default context (leftovers are destroyed)."""
    context = GLib.MainContext.default()
    before = set(map(id, context._sources))
    yield
    left = [s for s in list(context._sources) if id(s) not in before]
    for source in left:
        source.destroy()
    assert not left, f"sources left on the default context: {left}"


@pytest.fixture
def warm() -> None:
    """The default context's wake-up pipe exists (it lives as long as the process), so that
    descriptor counts before and after a test compare like with like."""
    fired: list[bool] = []
    GLib.timeout_add(1, lambda: fired.append(True))
    for _ in range(100):  # blocking iterations make the pipe; a stale wake-up may end one early
        if fired:
            break
        GLib.MainContext.default().iteration(True)
    assert fired


# -- asyncio drives the default context (a notebook cell) --------------------------------------


def test_asyncio_runs_timeouts_idles_watches_sources_and_async_reads_without_a_mainloop() -> None:
    """In ``asyncio.run`` (as in a Jupyter cell): ``timeout_add``, ``idle_add``, ``io_add_watch``,
    a socket source ``attach()`` and a ``read_bytes_async`` callback all run from the running
    loop, in its thread, while the loop keeps serving its own tasks."""
    sock, peer = gio_pair()
    sock2, peer2 = gio_pair()
    read_fd, write_fd = os.pipe()
    connection = sock2.connection_factory_create_connection()
    stream = connection.get_input_stream()

    async def main() -> dict[str, Any]:
        me = threading.get_ident()
        got: dict[str, Any] = {}
        ticks = [0]

        async def ticker() -> None:
            while True:
                ticks[0] += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())

        def on_timeout(tag: str) -> bool:
            got["timeout"] = (tag, threading.get_ident() == me)
            return GLib.SOURCE_REMOVE

        def on_idle() -> bool:
            got["idle"] = threading.get_ident() == me
            return GLib.SOURCE_REMOVE

        def on_watch(fd: int, condition: GLib.IOCondition, tag: str) -> bool:
            got["watch"] = (fd, condition, os.read(fd, 10), tag, threading.get_ident() == me)
            return GLib.SOURCE_REMOVE

        def on_source(data: str) -> bool:
            got["source"] = (data, bytes(sock.receive(None, 10)[1]), threading.get_ident() == me)
            return GLib.SOURCE_REMOVE

        def on_read(stream_: Any, result: Any, data: str) -> None:
            got["read"] = (stream_ is stream, stream_.read_bytes_finish(result), data, threading.get_ident() == me)

        assert GLib.timeout_add(20, on_timeout, "t") > 0
        assert GLib.idle_add(on_idle) > 0
        assert GLib.io_add_watch(read_fd, GLib.PRIORITY_DEFAULT, IN, on_watch, "w") > 0
        source = sock.create_source(IN, None)
        source.set_callback(on_source, "s")
        assert source.attach() > 0
        stream.read_bytes_async(16, GLib.PRIORITY_DEFAULT, None, on_read, "r")
        os.write(write_fd, b"pipe")
        peer.sendall(b"sock")
        peer2.sendall(b"stream")
        await until(lambda: len(got) == 5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        got["ticks"] = ticks[0]
        return got

    try:
        got = run(main)
    finally:
        connection.close()
        sock.close()
        for end in (peer, peer2):
            end.close()
        os.close(read_fd)
        os.close(write_fd)
    assert got["timeout"] == ("t", True)
    assert got["idle"] is True
    assert got["watch"] == (read_fd, IN, b"pipe", "w", True)
    assert got["source"] == ("s", b"sock", True)
    flag, data, tag, same_thread = got["read"]
    assert (flag, tag, same_thread) == (True, "r", True)
    assert isinstance(data, GLib.Bytes)
    assert data == b"stream"
    assert got["ticks"] > 1  # the asyncio loop was never blocked by the GLib sources


def test_asyncio_runs_io_watches_for_in_out_and_hup_on_file_objects() -> None:
    """``io_add_watch`` under ``asyncio.run``: a watch on a socket object gets that object back;
    ``IN``, ``OUT`` and ``HUP`` (a pipe whose writer closed) each fire once."""
    a, b = socket.socketpair()
    read_fd, write_fd = os.pipe()

    async def main() -> list[tuple[Any, ...]]:
        got: list[tuple[Any, ...]] = []
        GLib.io_add_watch(a, GLib.PRIORITY_DEFAULT, IN, lambda s, c: got.append(("in", s is a, c, s.recv(8))) or False)
        GLib.io_add_watch(b, GLib.PRIORITY_DEFAULT, GLib.IOCondition.OUT,
                          lambda s, c: got.append(("out", s is b, c)) or False)
        GLib.io_add_watch(read_fd, GLib.PRIORITY_DEFAULT, GLib.IOCondition.HUP,
                          lambda fd, c: got.append(("hup", fd, c)) or False)
        b.send(b"q")
        os.close(write_fd)
        await until(lambda: len(got) == 3)
        await asyncio.sleep(0.05)
        return got

    try:
        got = run(main)
    finally:
        a.close()
        b.close()
        os.close(read_fd)
    assert sorted(got, key=lambda item: str(item[0])) == [
        ("hup", read_fd, GLib.IOCondition.HUP), ("in", True, IN, b"q"), ("out", True, GLib.IOCondition.OUT)]


def test_a_raising_callback_goes_to_the_asyncio_exception_handler() -> None:
    """A callback that raises while asyncio drives the context: the loop's exception handler
    gets it (the loop keeps running) and the source is removed."""
    async def main() -> tuple[list[dict[str, Any]], GLib.Source]:
        loop = asyncio.get_running_loop()
        reports: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: reports.append(context))
        failure = ValueError("boom")

        def bad() -> bool:
            raise failure

        idle = GLib.Idle()
        idle.set_callback(lambda _data: bad())
        idle.attach()
        await until(lambda: bool(reports))
        assert reports[0]["exception"] is failure
        return reports, idle

    reports, idle = run(main)
    assert len(reports) == 1
    assert idle.is_destroyed()


def test_attach_to_an_asyncio_loop_running_in_another_thread_runs_there() -> None:
    """``source.attach(loop)``, ``loop`` running in another thread: the callbacks (socket
    source, timeout, idle) run in that thread, with no main loop anywhere."""
    worker = LoopThread("asyncio-worker")
    sock, peer = gio_pair()
    calls: list[tuple[str, str]] = []
    try:
        source = sock.create_source(IN, None)
        source.set_callback(lambda data: calls.append((data, threading.current_thread().name)) or False, "sock")
        assert source.attach(worker.loop) > 0
        timeout = GLib.Timeout(10)
        timeout.set_callback(lambda data: calls.append((data, threading.current_thread().name)) or False, "tick")
        timeout.attach(worker.loop)
        idle = GLib.Idle()
        idle.set_callback(lambda data: calls.append((data, threading.current_thread().name)) or False, "idle")
        idle.attach(worker.loop)
        assert source.get_context() is timeout.get_context() is idle.get_context()
        assert source.get_context() is not GLib.MainContext.default()
        peer.sendall(b"x")
        deadline = time.monotonic() + LIMIT
        while len(calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert sorted(calls) == [("idle", "asyncio-worker"), ("sock", "asyncio-worker"), ("tick", "asyncio-worker")]
        assert source.is_destroyed()
        assert timeout.is_destroyed()
        assert idle.is_destroyed()
    finally:
        sock.close()
        peer.close()
        worker.close()


def test_a_mainloop_in_another_thread_takes_the_context_from_asyncio_and_gives_it_back() -> None:
    """While asyncio drives a context, ``MainLoop.run()`` in another thread on that context:
    the asyncio driver steps back (callbacks run in the MainLoop's thread only), no callback
    runs in two threads at once nor twice, and after ``quit()`` asyncio drives it again."""
    context = GLib.MainContext.new()
    threads: list[str] = []
    inside = [0]
    overlaps = [0]
    once_calls: list[int] = []
    lock = threading.Lock()

    def tick() -> bool:
        with lock:
            inside[0] += 1
            overlaps[0] += inside[0] > 1
        threads.append(threading.current_thread().name)
        time.sleep(0.001)
        with lock:
            inside[0] -= 1
        return GLib.SOURCE_CONTINUE

    def attach_once(number: int) -> None:
        idle = GLib.Idle()
        idle.set_callback(lambda n: once_calls.append(n) or GLib.SOURCE_REMOVE, number)
        idle.attach(context)

    async def main() -> None:
        driver = drive(context, asyncio.get_running_loop(), take_over=True)
        assert drive(context, asyncio.get_running_loop(), take_over=False) is driver  # idempotent
        timeout = GLib.Timeout(5)
        timeout.set_callback(lambda _data: tick())
        timeout.attach(context)
        await until(lambda: len(threads) >= 5)
        main_loop = GLib.MainLoop(context)
        runner = threading.Thread(target=main_loop.run, name="mainloop", daemon=True)
        feeder = threading.Thread(target=lambda: [attach_once(n) or time.sleep(0.002) for n in range(100)],
                                  name="feeder", daemon=True)
        with watchdog(main_loop) as fired:
            runner.start()
            feeder.start()
            await until(lambda: threads.count("mainloop") >= 10)
            await asyncio.to_thread(feeder.join, LIMIT)
            main_loop.quit()
            await asyncio.to_thread(runner.join, LIMIT)
        assert not runner.is_alive()
        assert not feeder.is_alive()
        assert not fired[0]
        count = threads.count("MainThread")
        await until(lambda: threads.count("MainThread") >= count + 5)  # asyncio drives it again
        await until(lambda: len(once_calls) == 100)
        timeout.destroy()

    run(main)
    runs = [name for index, name in enumerate(threads) if index == 0 or threads[index - 1] != name]
    assert runs == ["MainThread", "mainloop", "MainThread"]
    assert overlaps[0] == 0
    assert sorted(once_calls) == list(range(100))


def test_the_driver_stops_with_its_loop_and_a_new_loop_takes_over() -> None:
    """A repeating ``timeout_add`` made in one ``asyncio.run`` stops when that loop closes and
    runs again under the next ``asyncio.run`` once something is attached there."""
    calls: list[int] = []
    source_ids: list[int] = []
    try:
        async def first() -> int:
            source_ids.append(GLib.timeout_add(5, lambda: calls.append(id(asyncio.get_running_loop())) or True))
            await until(lambda: len(calls) >= 3)
            return id(asyncio.get_running_loop())

        first_loop = run(first)
        assert set(calls) == {first_loop}
        frozen = len(calls)
        time.sleep(0.1)
        assert len(calls) == frozen  # nothing iterates the default context now

        async def second() -> int:
            loop_id = id(asyncio.get_running_loop())
            GLib.idle_add(lambda: False)  # attaching from a running loop lets it drive the context
            await until(lambda: calls[-1] == loop_id and calls.count(loop_id) >= 3)
            return loop_id

        second_loop = run(second)
        assert first_loop in calls
        assert second_loop in calls
        assert calls.index(second_loop) >= frozen
    finally:
        for source_id in source_ids:
            assert GLib.source_remove(source_id)


def test_drive_take_over_moves_the_context_between_loops_in_threads() -> None:
    """``drive(ctx, loop, take_over=False)`` leaves a context with the live loop driving it;
    ``take_over=True`` moves it: from then on only the new loop's thread runs the callbacks.
    A stopped loop gives the context up to any new one."""
    context = GLib.MainContext.new()
    first, second = LoopThread("loop-a"), LoopThread("loop-b")
    names: list[str] = []
    timeout = GLib.Timeout(5)
    timeout.set_callback(lambda _data: names.append(threading.current_thread().name) or True)

    def wait_for(name: str, count: int) -> None:
        deadline = time.monotonic() + LIMIT
        while names.count(name) < count:
            assert time.monotonic() < deadline, f"{name} never ran the context"
            time.sleep(0.005)

    try:
        driver_a = drive(context, first.loop, take_over=True)
        timeout.attach(context)
        wait_for("loop-a", 3)
        assert drive(context, second.loop, take_over=False) is driver_a  # loop-a is alive: it keeps it
        wait_for("loop-a", 6)
        assert "loop-b" not in names
        driver_b = drive(context, second.loop, take_over=True)
        assert driver_b is not driver_a
        wait_for("loop-b", 3)
        switched = names.index("loop-b")
        wait_for("loop-b", 8)
        assert "loop-a" not in names[switched:]
        second.close()  # the driving loop ends: a new one may drive without taking over
        time.sleep(0.05)
        stalled = len(names)
        time.sleep(0.1)
        assert len(names) == stalled
        third = LoopThread("loop-c")
        try:
            assert drive(context, third.loop, take_over=False) is not driver_b
            wait_for("loop-c", 3)
        finally:
            timeout.destroy()
            third.close()
    finally:
        timeout.destroy()
        first.close()
        if second.thread.is_alive() or not second.loop.is_closed():
            second.close()


# -- other threads end blocked waits -----------------------------------------------------------


def test_quit_from_another_thread_ends_run_promptly(warm: None) -> None:
    """``MainLoop.quit()`` from another thread ends a ``run()`` blocked in poll (a socket
    source with nothing to read) within `PROMPT` seconds; nothing is left open."""
    before = fd_count()
    context = GLib.MainContext.new()
    sock, peer = gio_pair()
    source = sock.create_source(IN, None)
    source.set_callback(lambda _data: True)
    source.attach(context)
    main_loop = GLib.MainLoop.new(context, False)
    thread, when = later(0.1, main_loop.quit)
    with watchdog(main_loop) as fired:
        main_loop.run()
    ended = time.monotonic()
    thread.join(LIMIT)
    assert not fired[0]
    assert ended - when[0] < PROMPT
    assert not main_loop.is_running()
    source.destroy()
    sock.close()
    peer.close()
    del source, context, main_loop
    assert fd_count() == before


def test_idle_add_from_another_thread_wakes_the_default_loop(warm: None) -> None:
    """``GLib.idle_add`` from another thread wakes a ``run()`` of the default context blocked in
    poll; the idle runs in the loop's thread, promptly."""
    main_loop = GLib.MainLoop()
    ran: list[tuple[str, float]] = []

    def on_idle(tag: str) -> bool:
        ran.append((threading.current_thread().name, time.monotonic()))
        main_loop.quit()
        return GLib.SOURCE_REMOVE

    thread, when = later(0.1, lambda: GLib.idle_add(on_idle, "x"))
    with watchdog(main_loop) as fired:
        main_loop.run()
    thread.join(LIMIT)
    assert not fired[0]
    assert len(ran) == 1
    assert ran[0][0] == "MainThread"
    assert ran[0][1] - when[0] < PROMPT


def test_a_source_attached_from_another_thread_ends_a_blocking_iteration(warm: None) -> None:
    """An idle attached from another thread to a context blocked in ``iteration(True)`` (on a
    long timeout) wakes it promptly; as in GLib, that iteration dispatches nothing (the idle was
    not prepared for its poll) and the next one dispatches the idle, in the iterating thread."""
    before = fd_count()
    context = GLib.MainContext.new()
    timeout = GLib.Timeout(int(LIMIT * 1000))  # the bound on the blocking iteration
    timeout.set_callback(lambda _data: False)
    timeout.attach(context)
    ran: list[str] = []
    idle = GLib.Idle()
    idle.set_callback(lambda _data: ran.append(threading.current_thread().name) or False)
    thread, when = later(0.1, functools.partial(idle.attach, context))
    dispatched = context.iteration(True)
    ended = time.monotonic()
    thread.join(LIMIT)
    assert ended - when[0] < PROMPT
    if not dispatched:
        assert ran == []
        assert context.iteration(False) is True
    assert ran == ["MainThread"]
    timeout.destroy()
    del timeout, idle, context
    assert fd_count() == before


def test_destroy_from_another_thread_ends_a_blocking_iteration(warm: None) -> None:
    """``Source.destroy()`` from another thread wakes ``iteration(True)`` waiting only for that
    source: it returns ``False`` (nothing dispatched), promptly, and the callback never runs."""
    before = fd_count()
    context = GLib.MainContext.new()
    sock, peer = gio_pair()
    calls: list[Any] = []
    source = sock.create_source(IN, None)
    source.set_callback(calls.append)
    source.attach(context)
    timeout = GLib.Timeout(int(LIMIT * 1000))  # the bound on the blocking iteration
    timeout.set_callback(lambda _data: False)
    timeout.attach(context)
    thread, when = later(0.1, source.destroy)
    dispatched = context.iteration(True)
    ended = time.monotonic()
    thread.join(LIMIT)
    assert dispatched is False
    assert ended - when[0] < PROMPT
    peer.sendall(b"late")
    assert context.iteration(False) is False
    assert calls == []
    assert source.is_destroyed()
    timeout.destroy()
    sock.close()
    peer.close()
    del source, timeout, context
    assert fd_count() == before


def test_socket_close_from_another_thread_fires_nval_once_and_ends_run(warm: None) -> None:
    """``socket.close()`` from another thread while ``run()`` waits on its source: the source
    fires once with ``NVAL`` (callback quits), promptly; the descriptor is closed."""
    before = fd_count()
    context = GLib.MainContext.new()
    sock, peer = gio_pair()
    main_loop = GLib.MainLoop(context)
    conditions: list[GLib.IOCondition] = []

    def on_ready(socket_: Any, condition: GLib.IOCondition, loop: GLib.MainLoop) -> bool:
        conditions.append(condition)
        loop.quit()
        return True  # kept: it must not fire again anyway

    source = sock.create_source(IN, None)
    source.set_socket_callback(on_ready, main_loop)
    source.attach(context)
    thread, when = later(0.1, sock.close)
    with watchdog(main_loop) as fired:
        main_loop.run()
    ended = time.monotonic()
    thread.join(LIMIT)
    assert not fired[0]
    assert ended - when[0] < PROMPT
    assert conditions == [NVAL]
    assert sock.is_closed()
    for _ in range(3):
        context.iteration(False)
    assert conditions == [NVAL]
    source.destroy()
    peer.close()
    del source, context, main_loop
    assert fd_count() == before


def test_cancel_from_another_thread_dispatches_a_waiting_source(warm: None) -> None:
    """``Cancellable.cancel()`` from another thread dispatches a socket source made with that
    cancellable, from ``run()``, promptly."""
    context = GLib.MainContext.new()
    sock, peer = gio_pair()
    cancellable = Gio.Cancellable()
    main_loop = GLib.MainLoop(context)
    seen: list[bool] = []

    def on_ready(_data: Any) -> bool:
        seen.append(cancellable.is_cancelled())
        main_loop.quit()
        return False

    source = sock.create_source(IN, cancellable)
    source.set_callback(on_ready)
    source.attach(context)
    try:
        thread, when = later(0.1, cancellable.cancel)
        with watchdog(main_loop) as fired:
            main_loop.run()
        ended = time.monotonic()
        thread.join(LIMIT)
        assert not fired[0]
        assert seen == [True]
        assert ended - when[0] < PROMPT
    finally:
        sock.close()
        peer.close()


def test_async_read_cancelled_or_closed_from_another_thread_while_run_waits(warm: None) -> None:
    """``read_bytes_async`` waiting for data, its callback on a running ``MainLoop``:
    ``cancel()`` from another thread delivers ``CANCELLED``, ``socket.close()`` ``CLOSED``,
    each promptly; no descriptor is left open."""
    before = fd_count()
    for how in ("cancel", "close"):
        sock, peer = gio_pair()
        connection = sock.connection_factory_create_connection()
        stream = connection.get_input_stream()
        cancellable = Gio.Cancellable()
        main_loop = GLib.MainLoop()
        outcome: list[Any] = []

        def on_read(stream_: Any, result: Any, loop: GLib.MainLoop = main_loop, out: list[Any] = outcome) -> None:
            try:
                out.append(stream_.read_bytes_finish(result))
            except GLib.Error as error:
                out.append((error.domain, error.code))
            out.append(time.monotonic())
            loop.quit()

        stream.read_bytes_async(10, GLib.PRIORITY_DEFAULT, cancellable, on_read)
        assert stream.has_pending()
        thread, when = later(0.1, cancellable.cancel if how == "cancel" else sock.close)
        with watchdog(main_loop) as fired:
            main_loop.run()
        thread.join(LIMIT)
        assert not fired[0]
        code = E.CANCELLED if how == "cancel" else E.CLOSED
        assert outcome[0] == ("g-io-error-quark", code), how
        assert outcome[1] - when[0] < PROMPT, how
        assert not stream.has_pending()
        connection.close()
        peer.close()
    del connection, stream, sock
    time.sleep(0.05)  # the workers' threads have ended
    assert fd_count() == before


def test_a_thread_waits_for_the_owner_of_a_context(warm: None) -> None:
    """``iteration(False)`` from a thread that does not own the context returns ``False`` at
    once; ``iteration(True)`` waits until the owner releases it, then dispatches."""
    context = GLib.MainContext.new()
    ran: list[str] = []
    idle = GLib.Idle()
    idle.set_callback(lambda _data: ran.append(threading.current_thread().name) or False)
    idle.attach(context)
    assert context.acquire()
    try:
        results: list[bool] = []
        other = threading.Thread(target=lambda: results.append(context.iteration(False)), name="other")
        other.start()
        other.join(LIMIT)
        assert results == [False]
        assert ran == []
        waiter = threading.Thread(target=lambda: results.append(context.iteration(True)), name="waiter")
        waiter.start()
        time.sleep(0.1)
        assert waiter.is_alive()
        assert ran == []
    finally:
        context.release()
    waiter.join(LIMIT)
    assert not waiter.is_alive()
    assert results == [False, True]
    assert ran == ["waiter"]


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "word"),
    [
        (lambda: GLib.io_add_watch(0, GLib.PRIORITY_DEFAULT, IN, 42), "callback"),
        (lambda: GLib.io_add_watch(0, GLib.PRIORITY_DEFAULT, IN), "callback"),
        (lambda: GLib.io_add_watch(object(), GLib.PRIORITY_DEFAULT, IN, lambda *a: False), "channel"),
        (lambda: GLib.timeout_add("10", lambda: False), "interval"),
        (lambda: GLib.timeout_add(10, None), "callback"),
        (lambda: GLib.idle_add("not callable"), "callback"),
        (lambda: GLib.MainLoop(5), "context"),
        (lambda: GLib.MainLoop.new("default", False), "context"),
        (lambda: GLib.Idle().attach(5), "context"),
        (lambda: GLib.Idle().set_priority("high"), "priority"),
        (lambda: GLib.Idle().set_callback(3), "callback"),
        (lambda: GLib.IOChannel.unix_new("3"), "filedes"),
        (lambda: GLib.IOChannel(), "descriptor"),
    ],
)
def test_wrong_types_raise_type_error_naming_the_parameter(call: Callable[[], Any], word: str) -> None:
    with pytest.raises(TypeError, match=word):
        call()


def test_source_misuse_raises_and_source_remove_warns() -> None:
    """Attaching twice or after ``destroy`` raises; ``source_remove`` of an unknown id warns
    and returns ``False``; a negative interval is an ``OverflowError``."""
    context = GLib.MainContext.new()
    idle = GLib.Idle()
    idle.attach(context)
    with pytest.raises(RuntimeError, match="already attached"):
        idle.attach(context)
    idle.destroy()
    with pytest.raises(RuntimeError, match="destroyed"):
        GLib.Idle.attach(idle, context)
    with pytest.warns(GLib.Warning, match="Source ID 987654321 was not found"):
        assert GLib.source_remove(987654321) is False
    with pytest.raises(OverflowError):
        GLib.Timeout(-1)
    loop = asyncio.new_event_loop()
    loop.close()
    with pytest.raises(RuntimeError, match="closed"):
        GLib.Idle().attach(loop)
