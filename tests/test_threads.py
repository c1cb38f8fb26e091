"""Threads: ``close()`` wakes every blocked call, sockets shared between threads, a stress run,
and the cancellable's wake-up descriptor.

GLib 2.74 differs on purpose here: its ``close()`` does not wake a call blocked in ``poll()``
on the same socket (the call waits until its timeout, forever without one, and then uses a
descriptor number the OS may have given to another file). gsocklab wakes every such call at
once with ``CLOSED`` "Socket is already closed" (docs/semantics.md, "Threads and close()").

Every blocked call has a bound: the socket timeout `SAFETY` (whole seconds). The close → wake
latencies are printed (``pytest -s``) and collected into one table at the end of the module.
Runs that could crash or hang the interpreter (the stress run, interpreter exit) go to a
child process with a hard timeout; the child imports the same gsocklab as this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Sockets, fd_count, loopback
from oracle import compare

import gsocklab
from gsocklab import Gio, GLib

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
IN, OUT = GLib.IOCondition.IN, GLib.IOCondition.OUT
E = Gio.IOErrorEnum
CLOSED_MESSAGE = "Socket is already closed"
SAFETY = 2  # socket timeout (s) of every socket a call blocks on: the bound if nothing wakes it
CLOSE_LATENCY = 0.05  # the requirement: close() wakes every blocked call within 50 ms
SETTLE = 0.15  # how long a call gets to reach its wait before close()
LATENCIES: dict[str, float] = {}  # close -> wake latency per case, printed as one table

#: The child processes import the gsocklab this process imported (an old checkout on PYTHONPATH too).
CHILD_ENV = {**os.environ, "PYTHONPATH": str(Path(gsocklab.__file__).resolve().parents[1])}


@pytest.fixture(scope="module", autouse=True)
def latency_table() -> Iterator[None]:
    """Print every close -> wake latency measured in this module (shown with ``pytest -s``)."""
    yield
    if LATENCIES:
        width = max(len(name) for name in LATENCIES)
        print(f"\n{'close() -> woken call':<{width}}  latency")
        for name, seconds in sorted(LATENCIES.items(), key=lambda item: item[1]):
            print(f"{name:<{width}}  {seconds * 1000:7.2f} ms")
        print(f"{'max':<{width}}  {max(LATENCIES.values()) * 1000:7.2f} ms")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


class Blocked:
    """``call()`` running in a daemon thread; remembers how it ended and when it raised.

    ``is_async``: ``call()`` returns a coroutine, awaited in a fresh asyncio loop in the thread;
    the time is taken where the coroutine raises, before the loop shuts down.
    """

    def __init__(self, name: str, call: Callable[[], Any], *, is_async: bool = False) -> None:
        self.name = name
        self.call = call
        self.is_async = is_async
        self.error: BaseException | None = None
        self.returned = False
        self.result: Any = None
        self.ended_at: float | None = None
        self.thread = threading.Thread(target=self._run, name=f"blocked-{name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        if self.is_async:
            try:
                asyncio.run(self._await())
            except BaseException as exc:  # the loop itself failed: report it as the outcome
                if self.ended_at is None:
                    self.error, self.ended_at = exc, time.monotonic()
            return
        try:
            self.result = self.call()
            self.returned = True
        except BaseException as exc:
            self.error = exc
        self.ended_at = time.monotonic()

    async def _await(self) -> None:
        try:
            self.result = await self.call()
            self.returned = True
        except BaseException as exc:
            self.error = exc
        self.ended_at = time.monotonic()

    def assert_still_blocked(self) -> None:
        assert self.ended_at is None, f"{self.name} ended before close(): {self.result!r} / {self.error!r}"

    def join(self, timeout: float = SAFETY + 5) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{self.name} is still blocked {timeout} s after close()"


def assert_closed_error(name: str, error: BaseException | None) -> None:
    """``error`` is GLib's ``CLOSED`` "Socket is already closed" and nothing else."""
    assert error is not None, f"{name}: returned normally instead of failing CLOSED"
    assert isinstance(error, GLib.Error), f"{name}: {type(error).__name__}: {error} (not a GLib.Error)"
    assert error.domain == "g-io-error-quark"
    assert error.code == E.CLOSED, f"{name}: {error.code!r} {error.message!r} instead of CLOSED"
    assert error.message == CLOSED_MESSAGE


def close_and_time(sock: Any, blocked: list[Blocked]) -> dict[str, float]:
    """Close ``sock`` once the calls are blocked; the close -> raise latency of each call."""
    time.sleep(SETTLE)
    for b in blocked:
        b.assert_still_blocked()
    t0 = time.monotonic()
    sock.close()
    for b in blocked:
        b.join()
    latencies: dict[str, float] = {}
    for b in blocked:
        assert b.ended_at is not None
        latencies[b.name] = b.ended_at - t0
        print(f"close() -> {b.name}: {latencies[b.name] * 1000:.2f} ms")
    return latencies


def run_child(code: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``python -c code args`` with this gsocklab; a hang is a test failure, not a pytest hang."""
    try:
        return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                              timeout=timeout, env=CHILD_ENV, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"child process still running after {timeout} s (hang or spin); stderr:\n{exc.stderr!r}")


def child_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON summary a child printed last; fails with its output if it crashed."""
    assert proc.returncode == 0, f"child exit {proc.returncode}\nstderr:\n{proc.stderr[-4000:]}\n{proc.stdout[-2000:]}"
    lines = proc.stdout.strip().splitlines()
    assert lines, f"child printed nothing\nstderr:\n{proc.stderr[-4000:]}"
    summary: dict[str, Any] = json.loads(lines[-1])
    return summary


def udp_socket(sockets: Sockets, timeout: int = SAFETY) -> Any:
    sock = sockets.new(F.IPV4, T.DATAGRAM, timeout=timeout)
    sock.bind(loopback(F.IPV4), True)
    return sock


def tcp_listener(sockets: Sockets, backlog: int = 10) -> Any:
    listener = sockets.new(F.IPV4, T.STREAM, timeout=SAFETY)
    listener.set_listen_backlog(backlog)
    listener.bind(loopback(F.IPV4), True)
    listener.listen()
    return listener


def full_tcp_sender(sockets: Sockets) -> tuple[Any, bytes]:
    """A connected TCP client whose send buffer is full: the peer never reads (small buffers)."""
    listener = sockets.new(F.IPV4, T.STREAM, timeout=SAFETY)
    listener.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # inherited by the accepted socket
    listener.bind(loopback(F.IPV4), True)
    listener.listen()
    client = sockets.new(F.IPV4, T.STREAM, timeout=SAFETY)
    client.set_option(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client.connect(listener.get_local_address(), None)
    sockets.add(listener.accept(None))  # accepted, never read
    chunk = bytes(16384)
    for _ in range(3):  # until WOULD_BLOCK even after the kernel moved what it could
        for _ in range(10_000):
            try:
                client.send_with_blocking(chunk, False, None)
            except GLib.Error as exc:
                if exc.code != E.WOULD_BLOCK:
                    raise
                break
        else:
            pytest.fail("the send buffer never filled")
        time.sleep(0.02)
    return client, chunk


def pending_connect(sockets: Sockets) -> tuple[Any, Any]:
    """(client, address): a blocking ``connect`` to ``address`` will wait (the accept queue is full).

    A listener with backlog 0 takes one connection; later SYNs are dropped, so a connect stays
    in SYN_SENT. Skips where the kernel completes every loopback connection anyway.
    """
    listener = tcp_listener(sockets, backlog=0)
    address = listener.get_local_address()
    fillers = []
    for _ in range(8):
        filler = sockets.new(F.IPV4, T.STREAM, timeout=SAFETY)
        filler.set_blocking(False)
        try:
            filler.connect(address, None)
        except GLib.Error as exc:
            if exc.code != E.PENDING:
                raise
        fillers.append(filler)
        time.sleep(0.02)
        if not filler.condition_check(OUT):
            break  # this one is stuck: so is the next
    else:
        pytest.skip("loopback completes every connection: a blocking connect cannot be made to wait")
    return sockets.new(F.IPV4, T.STREAM, timeout=SAFETY), address


# --------------------------------------------------------------------------------------------
# 1. close() from another thread wakes every blocked call within 50 ms, with CLOSED
# --------------------------------------------------------------------------------------------

Setup = Callable[[Sockets], tuple[Any, Callable[[], Any]]]


def _send_forever(sock: Any, chunk: bytes) -> Callable[[], Any]:
    def call() -> None:
        while True:  # only an exception ends it: the peer never reads
            sock.send(chunk, None)
    return call


def _setup_udp(make: Callable[[Any], Callable[[], Any]]) -> Setup:
    def setup(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
        sock = udp_socket(sockets)
        return sock, make(sock)
    return setup


def _setup_nonblocking_udp(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
    sock = udp_socket(sockets)
    sock.set_blocking(False)  # receive_with_blocking(True) waits whatever the socket's flag says
    return sock, lambda: sock.receive_with_blocking(True, None)


def _setup_tcp_receive(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
    _, client, _ = sockets.tcp_pair()
    client.set_timeout(SAFETY)
    return client, lambda: client.receive(None, 1024)


def _setup_accept(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
    listener = tcp_listener(sockets)
    return listener, lambda: listener.accept(None)


def _setup_send(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
    client, chunk = full_tcp_sender(sockets)
    return client, _send_forever(client, chunk)


def _setup_send_message(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
    client, chunk = full_tcp_sender(sockets)

    def call() -> None:
        while True:
            client.send_message(None, [Gio.OutputVector(chunk)], None, 0, None)
    return client, call


def _setup_connect(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
    client, address = pending_connect(sockets)
    return client, lambda: client.connect(address, None)


def _one_input_message() -> list[Any]:
    return [Gio.InputMessage(vectors=[Gio.InputVector(size=64)])]


SYNC_CASES: dict[str, Setup] = {
    "receive": _setup_udp(lambda s: lambda: s.receive(None)),
    "receive+cancellable": _setup_udp(lambda s: lambda: s.receive(Gio.Cancellable())),
    "receive_from": _setup_udp(lambda s: lambda: s.receive_from(None)),
    "receive_bytes(-1)": _setup_udp(lambda s: lambda: s.receive_bytes(1024, -1, None)),
    "receive_bytes(10 s)": _setup_udp(lambda s: lambda: s.receive_bytes(1024, 10_000_000, None)),
    "receive_bytes_from": _setup_udp(lambda s: lambda: s.receive_bytes_from(1024, -1, None)),
    "receive_with_blocking": _setup_nonblocking_udp,
    "receive_message": _setup_udp(lambda s: lambda: s.receive_message([Gio.InputVector(size=64)], 0, None)),
    "receive_messages": _setup_udp(lambda s: lambda: s.receive_messages(_one_input_message(), 0, None)),
    "condition_wait": _setup_udp(lambda s: lambda: s.condition_wait(IN, None)),
    "condition_wait+cancellable": _setup_udp(lambda s: lambda: s.condition_wait(IN, Gio.Cancellable())),
    "condition_timed_wait": _setup_udp(lambda s: lambda: s.condition_timed_wait(IN, 10_000_000, None)),
    "receive tcp": _setup_tcp_receive,
    "accept": _setup_accept,
    "send tcp (buffer full)": _setup_send,
    "send_message tcp (buffer full)": _setup_send_message,
    "connect (accept queue full)": _setup_connect,
}


@pytest.mark.parametrize("case", list(SYNC_CASES))
def test_close_wakes_a_blocked_call(sockets: Sockets, case: str) -> None:
    """``close()`` from another thread ends the blocked call within 50 ms with ``CLOSED``.

    GLib 2.74 leaves the call waiting until its timeout (forever without one).
    """
    sock, call = SYNC_CASES[case](sockets)
    blocked = Blocked(case, call)
    latency = close_and_time(sock, [blocked])[case]
    LATENCIES[case] = latency
    assert_closed_error(case, blocked.error)
    assert latency < CLOSE_LATENCY, f"{case} woke {latency * 1000:.1f} ms after close()"


def _async_receive(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
    sock = udp_socket(sockets)
    return sock, lambda: sock.receive_async(None)


def _async_receive_from(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
    sock = udp_socket(sockets)
    return sock, lambda: sock.receive_from_async(None)


def _async_condition_wait(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
    sock = udp_socket(sockets)
    return sock, lambda: sock.condition_wait_async(IN, None)


def _async_accept(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
    listener = tcp_listener(sockets)
    return listener, lambda: listener.accept_async(None)


def _async_send(sockets: Sockets) -> tuple[Any, Callable[[], Any]]:
    client, chunk = full_tcp_sender(sockets)

    async def call() -> None:
        while True:
            await client.send_async(chunk, None)
    return client, call


ASYNC_CASES: dict[str, Setup] = {
    "receive_async": _async_receive,
    "receive_from_async": _async_receive_from,
    "condition_wait_async": _async_condition_wait,
    "accept_async": _async_accept,
    "send_async tcp (buffer full)": _async_send,
}


@pytest.mark.parametrize("case", list(ASYNC_CASES))
def test_close_from_another_thread_wakes_an_async_call(sockets: Sockets, case: str) -> None:
    """An ``*_async`` call awaited in an asyncio loop in one thread, ``close()`` from another."""
    sock, call = ASYNC_CASES[case](sockets)
    blocked = Blocked(case, call, is_async=True)
    latency = close_and_time(sock, [blocked])[case]
    LATENCIES[case] = latency
    assert_closed_error(case, blocked.error)
    assert latency < CLOSE_LATENCY, f"{case} woke {latency * 1000:.1f} ms after close()"


# --------------------------------------------------------------------------------------------
# 2. All at once, and no descriptor number used after close()
# --------------------------------------------------------------------------------------------


def _drain(sock: socket.socket) -> bytes:
    sock.setblocking(False)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


def test_close_wakes_every_waiter_and_never_touches_a_reused_number(sockets: Sockets) -> None:
    """Eight calls of different kinds blocked on two sockets; both closed; files opened right after.

    Every call fails ``CLOSED`` within 50 ms. The sockets' descriptor numbers are free for
    the OS again right after ``close()`` (or, at the latest, when the last woken call
    returns): new socket pairs opened at once, maybe under those very numbers, are never
    read or written by the woken calls, and the process ends with as many descriptors as
    it started with.
    """
    start = fd_count()
    udp = udp_socket(sockets)
    sender, chunk = full_tcp_sender(sockets)
    blocked = [
        Blocked("receive", lambda: udp.receive(None)),
        Blocked("receive_from", lambda: udp.receive_from(None)),
        Blocked("receive_bytes", lambda: udp.receive_bytes(64, -1, None)),
        Blocked("receive_messages", lambda: udp.receive_messages(_one_input_message(), 0, None)),
        Blocked("condition_wait", lambda: udp.condition_wait(IN, None)),
        Blocked("receive+cancellable", lambda: udp.receive(Gio.Cancellable())),
        Blocked("receive_async", lambda: udp.receive_async(None), is_async=True),
    ]
    senders = [Blocked("send", _send_forever(sender, chunk))]
    numbers = {udp.get_fd(), sender.get_fd()}
    time.sleep(SETTLE)
    for b in blocked + senders:
        b.assert_still_blocked()
    t0 = time.monotonic()
    udp.close()
    sender.close()
    # New files right away: the OS hands out the lowest free numbers, so these take the
    # closed sockets' numbers if they are free already.
    pairs = [socket.socketpair() for _ in range(3)]
    reused = numbers & {s.fileno() for pair in pairs for s in pair}
    for a, b in pairs:
        a.send(b"canary-a")
        b.send(b"canary-b")
    for b in blocked + senders:
        b.join()
    for b in blocked + senders:
        assert b.ended_at is not None
        LATENCIES[f"{b.name} (all at once)"] = b.ended_at - t0
        assert_closed_error(b.name, b.error)
    late = {b.name: round(b.ended_at - t0, 4) for b in blocked + senders
            if b.ended_at is not None and b.ended_at - t0 >= CLOSE_LATENCY}
    assert not late, f"woken later than {CLOSE_LATENCY * 1000:.0f} ms after close(): {late}"
    for a, b in pairs:  # nothing read from, nothing written to, the new files
        assert _drain(b) == b"canary-a"
        assert _drain(a) == b"canary-b"
        a.close()
        b.close()
    print(f"descriptor numbers reused right after close(): {sorted(reused)}")
    sockets.close_all()
    del blocked, senders
    assert fd_count() == start


def test_closed_socket_descriptor_is_released_once_the_woken_calls_return(sockets: Sockets) -> None:
    """After ``close()`` and the woken calls' return, the socket's descriptor and its close
    wake-up descriptor are gone: 100 sockets closed under 200 blocked calls leak nothing."""
    start = fd_count()
    for _ in range(20):
        socks = [udp_socket(sockets) for _ in range(5)]
        blocked = [Blocked("receive", lambda s=s: s.receive(None)) for s in socks]
        blocked += [Blocked("condition_wait", lambda s=s: s.condition_wait(IN, None)) for s in socks]
        time.sleep(0.03)
        for s in socks:
            s.close()
        for b in blocked:
            b.join()
            assert_closed_error(b.name, b.error)  # blocked, or started after close(): CLOSED either way
    sockets.close_all()
    assert fd_count() == start


# --------------------------------------------------------------------------------------------
# 3. Several threads sharing one socket
# --------------------------------------------------------------------------------------------


def test_threads_receiving_from_one_udp_socket_share_every_datagram(sockets: Sockets) -> None:
    """Four threads in ``receive_from`` on one socket, 2,000 datagrams: each goes to exactly one.

    Before, the threads shared one ``poll()`` object and failed "RuntimeError: concurrent
    poll() invocation".
    """
    receiver = udp_socket(sockets)
    receiver.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sender = udp_socket(sockets)
    address = receiver.get_local_address()
    total = 2000
    got: list[list[int]] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def receive(mine: list[int]) -> None:
        while True:
            try:
                _, source, data = receiver.receive_from(None, 64)
            except GLib.Error as exc:
                if exc.code == E.TIMED_OUT:
                    continue
                errors.append(exc)
                return
            except BaseException as exc:
                errors.append(exc)
                return
            if data == b"stop":
                return
            if source is None or source.get_port() != sender.get_local_address().get_port():
                errors.append(AssertionError(f"datagram {data!r} from {source}"))
            mine.append(int.from_bytes(data, "big"))

    threads = [threading.Thread(target=receive, args=(mine,), daemon=True) for mine in got]
    for t in threads:
        t.start()
    time.sleep(0.1)  # all four waiting at once
    received = lambda: sum(len(mine) for mine in got)  # noqa: E731
    deadline = time.monotonic() + 20
    for n in range(total):
        while n - received() > 200 and time.monotonic() < deadline and not errors:
            time.sleep(0.0005)  # paced: never more than 200 queued, so nothing is dropped
        sender.send_to(address, n.to_bytes(4, "big"), None)
    while received() < total and time.monotonic() < deadline and not errors and any(t.is_alive() for t in threads):
        time.sleep(0.01)
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline + 5:
        sender.send_to(address, b"stop", None)
        time.sleep(0.01)
    for t in threads:
        t.join(1)
        assert not t.is_alive()
    print("datagrams per receiver:", [len(mine) for mine in got])
    assert errors == []
    everything = sorted(n for mine in got for n in mine)
    assert everything == list(range(total)), "lost or duplicated datagrams"


def test_threads_accepting_on_one_listener_take_each_connection_once(sockets: Sockets) -> None:
    """Four threads in ``accept`` on one listener, 100 clients: each connection accepted once."""
    listener = tcp_listener(sockets, backlog=128)
    address = listener.get_local_address()
    port = address.get_port()
    total, stop = 100, 0xFFFFFFFF
    got: list[list[int]] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def accept(mine: list[int]) -> None:
        while True:
            try:
                conn = listener.accept(None)
            except GLib.Error as exc:
                if exc.code == E.TIMED_OUT:
                    continue
                errors.append(exc)
                return
            except BaseException as exc:
                errors.append(exc)
                return
            try:
                conn.set_timeout(SAFETY)
                data = b""
                while len(data) < 4:
                    part = conn.receive_bytes(4 - len(data), -1, None)
                    if not part:
                        break
                    data += part
            except BaseException as exc:
                errors.append(exc)
                return
            finally:
                conn.close()
            n = int.from_bytes(data, "big")
            if n == stop:
                return
            mine.append(n)

    threads = [threading.Thread(target=accept, args=(mine,), daemon=True) for mine in got]
    for t in threads:
        t.start()
    time.sleep(0.1)

    def connect_and_send(n: int) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=SAFETY) as client:
            client.sendall(n.to_bytes(4, "big"))

    for n in range(total):
        connect_and_send(n)
    deadline = time.monotonic() + 15
    while sum(len(m) for m in got) < total and time.monotonic() < deadline and not errors:
        time.sleep(0.01)
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline + 5:
        connect_and_send(stop)
        time.sleep(0.01)
    for t in threads:
        t.join(1)
        assert not t.is_alive()
    print("connections per acceptor:", [len(mine) for mine in got])
    assert errors == []
    assert sorted(n for mine in got for n in mine) == list(range(total))


@pytest.mark.parametrize("wait", ["condition_wait", "condition_timed_wait", "receive_bytes_from"])
def test_threads_waiting_on_one_socket_all_wake_on_data(sockets: Sockets, wait: str) -> None:
    """Four threads wait for ``IN`` on one socket at once; one datagram wakes them all.

    Before, the waits shared one ``poll()`` object: "RuntimeError: concurrent poll() invocation".
    ``receive_bytes_from``: one thread gets the datagram; the others wake, find nothing and
    wait on until the second datagram, their timeout or ``close()``.
    """
    sock = udp_socket(sockets)
    sender = udp_socket(sockets)
    calls: dict[str, Callable[[], Any]] = {
        "condition_wait": lambda: sock.condition_wait(IN, None),
        "condition_timed_wait": lambda: sock.condition_timed_wait(IN, 5_000_000, None),
        "receive_bytes_from": lambda: sock.receive_bytes_from(64, -1, None),
    }
    blocked = [Blocked(f"{wait} #{i}", calls[wait]) for i in range(4)]
    time.sleep(SETTLE)
    for b in blocked:
        b.assert_still_blocked()
    t0 = time.monotonic()
    sender.send_to(sock.get_local_address(), b"wake", None)
    if wait == "receive_bytes_from":
        for _ in range(3):
            sender.send_to(sock.get_local_address(), b"wake", None)
    for b in blocked:
        b.join()
        assert b.error is None, f"{b.name}: {type(b.error).__name__}: {b.error}"
        assert b.ended_at is not None
        assert b.ended_at - t0 < 1.0
    results = [b.result for b in blocked]
    if wait == "receive_bytes_from":
        assert sorted(data for data, _ in results) == [b"wake"] * 4
        assert all(source.get_port() == sender.get_local_address().get_port() for _, source in results)
    else:
        assert results == [True] * 4


@pytest.mark.parametrize("receive", ["receive_from", "receive_bytes_from", "receive_messages"])
def test_concurrent_receivers_get_the_right_source_among_many(sockets: Sockets, receive: str) -> None:
    """Two threads receive from one socket while 16 senders (twice the 8-entry address cache)
    take turns: every datagram's source address is its real sender, and nothing raises.

    The payload carries the sender's port. The GIL switch interval is shortened for the
    test to make the threads interleave inside the cache code. Before, the cache eviction
    raised ``KeyError`` and a thread could pair one datagram with another's address.
    """
    receiver = udp_socket(sockets)
    receiver.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    address = receiver.get_local_address()
    senders = [udp_socket(sockets) for _ in range(16)]
    ports = [s.get_local_address().get_port() for s in senders]
    rounds = 100
    total = rounds * len(senders)
    counts = [0, 0]
    errors: list[str] = []
    stop = b"stop"

    def check(data: bytes, source: Any) -> bool:
        if data == stop:
            return False
        port = int.from_bytes(data[:2], "big")
        if source is None or source.get_port() != port or source.get_address().to_string() != "127.0.0.1":
            errors.append(f"datagram from port {port} reported from {source and source.to_string()}")
        return True

    def run(index: int) -> None:
        messages = [Gio.InputMessage(vectors=[Gio.InputVector(size=16)]) for _ in range(4)]
        try:
            while True:
                try:
                    if receive == "receive_from":
                        _, source, data = receiver.receive_from(None, 16)
                        batch = [(bytes(data), source)]
                    elif receive == "receive_bytes_from":
                        data, source = receiver.receive_bytes_from(16, -1, None)
                        batch = [(data, source)]
                    else:
                        got = Gio.DatagramBased.receive_messages(receiver, messages, 0, 20_000, None)
                        batch = [(bytes(m.vectors[0].buffer[:m.bytes_received]), m.address)
                                 for m in messages[:got]]
                except GLib.Error as exc:
                    if exc.code in (E.TIMED_OUT, E.WOULD_BLOCK):
                        continue
                    raise
                for data, source in batch:
                    if not check(data, source):
                        return
                    counts[index] += 1
        except BaseException as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    if receive == "receive_messages":
        receiver.set_timeout(0)  # DatagramBased calls refuse sockets with a timeout
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        for r in range(rounds):
            for port, sender in zip(ports, senders):
                sender.send_to(address, port.to_bytes(2, "big") + r.to_bytes(4, "big"), None)
            while (r + 1) * len(senders) - sum(counts) > 256 and time.monotonic() < deadline and not errors:
                time.sleep(0.0005)
        while sum(counts) < total and time.monotonic() < deadline and not errors:
            time.sleep(0.01)
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline + 5:
            senders[0].send_to(address, stop, None)
            time.sleep(0.01)
        for t in threads:
            t.join(1)
            assert not t.is_alive()
    finally:
        sys.setswitchinterval(interval)
    print(f"{receive}: datagrams per thread {counts}")
    assert errors[:5] == []
    assert sum(counts) == total


class SlowEvictions(dict):  # type: ignore[type-arg]
    """A cache dict whose deletions give up the GIL first: two threads evicting at once both
    pick the same oldest entry, the interleaving a real run meets only now and then."""

    def __delitem__(self, key: Any) -> None:
        time.sleep(0.0005)
        super().__delitem__(key)


@pytest.mark.parametrize("receive", ["receive_from", "receive_bytes_from", "receive_messages"])
def test_address_cache_evictions_racing_in_two_threads_raise_nothing(sockets: Sockets, receive: str) -> None:
    """Two threads miss the 8-entry source-address caches at once (16 senders in turn) and
    evict the same entry: no ``KeyError``, and every source is right.

    White-box: the socket's caches (``_address_cache``, ``_raw_address_cache``) are replaced
    by `SlowEvictions` to force the race. The receives are non-blocking, so the threads share
    the caches but no wait.
    """
    receiver = udp_socket(sockets)
    for name in ("_address_cache", "_raw_address_cache"):
        assert isinstance(getattr(receiver, name, None), dict), f"Socket.{name} is gone: update this test"
        setattr(receiver, name, SlowEvictions())
    receiver.set_blocking(False)
    receiver.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    address = receiver.get_local_address()
    senders = [udp_socket(sockets) for _ in range(16)]
    for rounds in range(20):
        for sender in senders:
            port = sender.get_local_address().get_port()
            sender.send_to(address, port.to_bytes(2, "big") + rounds.to_bytes(2, "big"), None)
    total = 20 * len(senders)
    counts = [0, 0]
    errors: list[str] = []
    done = threading.Event()

    def run(index: int) -> None:
        messages = [Gio.InputMessage(vectors=[Gio.InputVector(size=16)]) for _ in range(2)]
        try:
            while not done.is_set():
                try:
                    if receive == "receive_from":
                        _, source, data = receiver.receive_from(None, 16)
                        batch = [(bytes(data), source)]
                    elif receive == "receive_bytes_from":
                        batch = [receiver.receive_bytes_from(16, 0, None)]
                    else:
                        got = receiver.receive_messages(messages, 0, None)
                        batch = [(bytes(m.vectors[0].buffer[:m.bytes_received]), m.address) for m in messages[:got]]
                except GLib.Error as exc:
                    if exc.code != E.WOULD_BLOCK:
                        raise
                    time.sleep(0.0002)
                    continue
                for data, source in batch:
                    port = int.from_bytes(data[:2], "big")
                    if source is None or source.get_port() != port:
                        errors.append(f"datagram from port {port} reported from {source and source.to_string()}")
                    counts[index] += 1
        except BaseException as exc:
            errors.append(f"{type(exc).__name__}: {exc!r}")

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 15
    while sum(counts) < total and time.monotonic() < deadline and not errors:
        time.sleep(0.01)
    done.set()
    for t in threads:
        t.join(5)
        assert not t.is_alive()
    print(f"{receive}: datagrams per thread {counts}")
    assert errors[:5] == []
    assert sum(counts) == total


def test_concurrent_batches_do_not_mix_their_messages(sockets: Sockets) -> None:
    """Two threads in ``receive_messages`` and two in ``send_messages`` on shared non-blocking
    sockets, waiting for ``IN`` between batches: every message arrives once, with its own
    bytes (each call has its own native batch). Before, the concurrent waits failed
    "RuntimeError: concurrent poll() invocation"."""
    a = udp_socket(sockets, timeout=0)
    b = udp_socket(sockets, timeout=0)
    b.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    a.set_blocking(False)
    b.set_blocking(False)
    target = b.get_local_address()
    per_sender, batch = 1000, 8
    seen: list[int] = []
    sent = [0, 0]
    errors: list[str] = []
    done = threading.Event()

    def send(index: int) -> None:
        base = index * 1_000_000
        try:
            while sent[index] < per_sender:
                n = sent[index]
                messages = [Gio.OutputMessage(target, [Gio.OutputVector((base + n + i).to_bytes(4, "big") * 4)])
                            for i in range(min(batch, per_sender - n))]
                try:
                    sent[index] += a.send_messages(messages, 0, None)
                except GLib.Error as exc:
                    if exc.code != E.WOULD_BLOCK:
                        raise
                while sum(sent) - len(seen) > 200 and not done.is_set():
                    time.sleep(0.0005)  # paced: nothing is dropped for want of room
        except BaseException as exc:
            errors.append(f"send: {type(exc).__name__}: {exc}")

    def receive() -> None:
        messages = [Gio.InputMessage(vectors=[Gio.InputVector(size=32)]) for _ in range(batch)]
        try:
            while not done.is_set():
                try:
                    got = b.receive_messages(messages, 0, None)
                except GLib.Error as exc:
                    if exc.code != E.WOULD_BLOCK:
                        raise
                    try:
                        b.condition_timed_wait(IN, 20_000, None)  # both threads may wait at once
                    except GLib.Error as timeout:
                        if timeout.code != E.TIMED_OUT:
                            raise
                    continue
                for m in messages[:got]:
                    data = bytes(m.vectors[0].buffer[:m.bytes_received])
                    if len(data) != 16 or data != data[:4] * 4:
                        errors.append(f"mixed message {data!r}")
                    seen.append(int.from_bytes(data[:4], "big"))
        except BaseException as exc:
            errors.append(f"receive: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=send, args=(index,), daemon=True) for index in (0, 1)]
    threads += [threading.Thread(target=receive, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(seen) < 2 * per_sender and time.monotonic() < deadline and not errors:
        time.sleep(0.01)
    done.set()
    for t in threads:
        t.join(5)
        assert not t.is_alive()
    assert errors[:5] == []
    assert sorted(seen) == list(range(per_sender)) + list(range(1_000_000, 1_000_000 + per_sender))


# --------------------------------------------------------------------------------------------
# 4. Stress: mixed calls on shared sockets, closed and replaced at random moments
# --------------------------------------------------------------------------------------------

STRESS = textwrap.dedent(
    r'''
    import faulthandler, gc, json, os, random, socket, sys, threading, time, traceback
    from collections import Counter
    from gsocklab import Gio, GLib

    F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
    IN, OUT = GLib.IOCondition.IN, GLib.IOCondition.OUT
    THREADS, ITERATIONS, SEED = (int(a) for a in sys.argv[1:4])
    unraisable = []
    sys.unraisablehook = lambda u: unraisable.append(f"{u.exc_type.__name__}: {u.exc_value} in {u.object!r}")


    def fd_count():
        gc.collect()
        return len(os.listdir("/proc/self/fd"))


    def loopback(port=0):
        return Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(F.IPV4), port)


    def udp():
        s = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.DEFAULT)
        s.set_timeout(1)
        s.bind(loopback(), True)
        return s


    def listener():
        s = Gio.Socket.new(F.IPV4, T.STREAM, P.DEFAULT)
        s.set_timeout(1)
        s.set_listen_backlog(64)
        s.bind(loopback(), True)
        s.listen()
        return s


    MAKERS = {"a": udp, "b": udp, "listener": listener}
    fd_start = fd_count()
    slots = {name: make() for name, make in MAKERS.items()}
    done = threading.Event()
    closes = [0]


    def op_receive_from():
        slots["b"].receive_from(None, 2048)

    def op_receive_bytes():
        slots["b"].receive_bytes(2048, 20_000, None)

    def op_send_to():
        slots["a"].send_to(slots["b"].get_local_address(), b"x" * 100, None)

    def op_condition_timed_wait():
        slots["b"].condition_timed_wait(IN, 10_000, None)

    def op_receive_messages():
        slots["b"].receive_messages([Gio.InputMessage(vectors=[Gio.InputVector(size=2048)])], 0, None)

    def op_send_messages():
        to = slots["b"].get_local_address()
        slots["a"].send_messages([Gio.OutputMessage(to, [Gio.OutputVector(b"m" * 50)]) for _ in range(2)], 0, None)

    def op_accept():
        sock = slots["listener"]
        port = sock.get_local_address().get_port()
        with socket.socket() as client:
            client.setblocking(False)
            client.connect_ex(("127.0.0.1", port))
            sock.accept(None).close()

    def op_get_local_address():
        slots[random.choice(list(MAKERS))].get_local_address()

    def op_condition_check():
        slots[random.choice(list(MAKERS))].condition_check(IN | OUT)

    OPS = [op_receive_from, op_receive_bytes, op_send_to, op_send_to, op_condition_timed_wait, op_receive_messages,
           op_send_messages, op_accept, op_get_local_address, op_condition_check]
    counts = Counter()
    glib_errors = Counter()
    unexpected = []


    def worker(seed):
        rng = random.Random(seed)
        for _ in range(ITERATIONS // THREADS):
            op = rng.choice(OPS)
            try:
                op()
                counts[op.__name__] += 1
            except GLib.Error as exc:
                glib_errors[f"{op.__name__}: {exc.code.name}"] += 1
            except BaseException:
                unexpected.append(f"{op.__name__}: {traceback.format_exc()}")


    def closer():
        rng = random.Random(SEED)
        while not done.is_set() or closes[0] < 20:  # at least 20 closes, however fast the workers finish
            time.sleep(rng.uniform(0, 0.002))
            name = rng.choice(list(MAKERS))
            old = slots[name]
            try:
                old.close()
            except BaseException:
                unexpected.append(f"close: {traceback.format_exc()}")
            slots[name] = MAKERS[name]()
            closes[0] += 1


    start = time.monotonic()
    workers = [threading.Thread(target=worker, args=(SEED * 100 + i,), daemon=True) for i in range(THREADS)]
    closing = threading.Thread(target=closer, daemon=True)
    closing.start()
    for w in workers:
        w.start()
    for w in workers:
        w.join(max(0.1, start + 60 - time.monotonic()))
    done.set()
    closing.join(10)
    hung = [t.name for t in workers + [closing] if t.is_alive()]
    if hung:
        faulthandler.dump_traceback(all_threads=True)
    for sock in slots.values():
        sock.close()
    del sock
    slots.clear()
    summary = {
        "ops": sum(counts.values()) + sum(glib_errors.values()), "ok": dict(counts), "glib_errors": dict(glib_errors),
        "unexpected": unexpected[:10], "hung": hung, "unraisable": unraisable[:10], "closes": closes[0],
        "fd_start": fd_start, "fd_end": fd_count() if not hung else -1, "seconds": round(time.monotonic() - start, 2),
    }
    print(json.dumps(summary), flush=True)
    os._exit(0)
    '''
)


def test_stress_mixed_calls_while_sockets_close_and_are_replaced() -> None:
    """8 threads, 2,000 mixed calls on shared sockets that another thread closes and
    replaces every few milliseconds: only ``GLib.Error`` escapes, nothing hangs, no
    descriptor leaks, no "Exception ignored". Runs in a child with a hard timeout."""
    seed = random.randrange(1_000_000)
    proc = run_child(STRESS, "8", "2000", str(seed), timeout=120)
    summary = child_json(proc)
    print(f"stress (seed {seed}):", json.dumps(summary, indent=1))
    assert summary["hung"] == [], proc.stderr[-6000:]
    assert summary["unexpected"] == []
    assert summary["unraisable"] == []
    assert summary["ops"] == 2000
    assert summary["closes"] >= 20
    assert summary["fd_end"] == summary["fd_start"]
    closed = sum(n for key, n in summary["glib_errors"].items() if key.endswith(": CLOSED"))
    assert closed > 0, "no call ever met a close(): the run did not exercise close() under calls"
    assert "Exception ignored" not in proc.stderr


# --------------------------------------------------------------------------------------------
# 5. Cancellable
# --------------------------------------------------------------------------------------------


def test_cancel_wakes_a_waiter_after_another_user_got_and_released_the_fd(sockets: Sockets) -> None:
    """``get_fd()`` + ``release_fd()`` by another user while a call waits on the cancellable
    must not close the descriptor the waiter polls: ``cancel()`` still wakes it at once.

    Before, the release closed the wake-up descriptor under the waiter, which then slept
    until its timeout.
    """
    sock = udp_socket(sockets)
    c = Gio.Cancellable()
    blocked = Blocked("condition_wait+cancellable", lambda: sock.condition_wait(IN, c))
    time.sleep(SETTLE)
    blocked.assert_still_blocked()
    c.get_fd()
    c.release_fd()
    time.sleep(0.05)
    blocked.assert_still_blocked()
    t0 = time.monotonic()
    c.cancel()
    blocked.join()
    assert blocked.ended_at is not None
    latency = blocked.ended_at - t0
    print(f"cancel() -> waiter: {latency * 1000:.2f} ms")
    assert isinstance(blocked.error, GLib.Error), blocked.error
    assert blocked.error.code == E.CANCELLED, blocked.error
    assert latency < 0.25


def test_cancellable_shared_by_waiting_threads_wakes_them_all(sockets: Sockets) -> None:
    """One cancellable, four threads waiting on four sockets with it, and a fifth user taking
    and releasing its descriptor in a loop meanwhile: ``cancel()`` wakes all four."""
    socks = [udp_socket(sockets) for _ in range(4)]
    c = Gio.Cancellable()
    blocked = [Blocked(f"receive #{i}", lambda s=s: s.receive(c)) for i, s in enumerate(socks)]
    stop = time.monotonic() + SETTLE
    while time.monotonic() < stop:
        c.get_fd()
        c.release_fd()
    for b in blocked:
        b.assert_still_blocked()
    t0 = time.monotonic()
    c.cancel()
    for b in blocked:
        b.join()
        assert isinstance(b.error, GLib.Error), b.error
        assert b.error.code == E.CANCELLED, b.error
        assert b.ended_at is not None
        assert b.ended_at - t0 < 0.25


AT_EXIT = textwrap.dedent(
    r'''
    import atexit, json, os, sys

    PATH, MODE = sys.argv[1], sys.argv[2]
    state = {}


    def last_exit_handler():
        """Registered before anything else, so it runs after every other exit handler,
        weakref.finalize's included (atexit runs LIFO)."""
        fds = []
        try:
            for _ in range(16):  # the lowest free numbers: a closed eventfd's number among them
                fds.append(os.open(PATH, os.O_WRONLY | os.O_APPEND))
            c.cancel()
            state["cancelled"] = True
        except BaseException as exc:
            state["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            for fd in fds:
                os.close(fd)
        state["reused"] = state.get("number") in fds
        print(json.dumps(state), flush=True)


    atexit.register(last_exit_handler)
    import weakref

    state["finalize_registered_first"] = bool(getattr(weakref.finalize, "_registered_with_atexit", False))
    from gsocklab import Gio, GLib

    sock = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.DEFAULT)
    sock.bind(Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4), 0), True)
    c = Gio.Cancellable()
    if MODE == "held":
        state["number"] = c.get_fd()  # never released: open until the process ends
    try:
        sock.condition_timed_wait(GLib.IOCondition.IN, 1000, c)  # a wait on the cancellable: it has an fd
    except GLib.Error as exc:
        assert exc.code == Gio.IOErrorEnum.TIMED_OUT, exc
    if MODE == "wait":
        state["number"] = getattr(getattr(c, "_wakeup", None), "write_fd", None)  # informational
    sock.close()
    '''
)


@pytest.mark.parametrize("mode", ["wait", "held"])
def test_cancel_at_interpreter_exit_writes_into_no_reused_descriptor(tmp_path: Path, mode: str) -> None:
    """``cancel()`` in the last exit handler, after gsocklab's finalizers, writes nothing into
    a file opened under a number the cancellable's eventfd had.

    ``wait``: the cancellable was only used in a wait; ``held``: its fd is also held by a
    ``get_fd()`` never released. Before, a ``weakref.finalize`` closed the eventfd at exit
    and the later ``cancel()`` wrote its 8 bytes into the file that took the number.
    """
    target = tmp_path / "reused"
    target.write_bytes(b"")
    proc = run_child(AT_EXIT, str(target), mode, timeout=30)
    state = child_json(proc)
    print("at exit:", state)
    assert not state["finalize_registered_first"], "the exit handler would not run last: scenario invalid"
    assert state.get("error") is None
    assert state["cancelled"] is True
    assert target.read_bytes() == b"", f"cancel() at exit wrote into a reused descriptor: {state}"
    assert "Exception ignored" not in proc.stderr, proc.stderr


# --------------------------------------------------------------------------------------------
# The GLib 2.74 oracle, for the record
# --------------------------------------------------------------------------------------------


@pytest.mark.oracle
def test_glib_274_leaves_a_waiter_blocked_after_close() -> None:
    """Where gsocklab differs from GLib on purpose: GLib's ``close()`` does not wake a
    ``condition_wait`` blocked in another thread; it returns only when the socket timeout
    (1 s here) ends its ``poll()``, and then ``True``. gsocklab fails it ``CLOSED`` at once."""
    compare(
        """
        s = new(F.IPV4, T.DATAGRAM)
        s.bind(lo4(), True)
        s.set_timeout(1)
        res = {}
        def wait():
            res["outcome"] = err(s.condition_wait, IN, None)
            res["t"] = time.monotonic()
        th = threading.Thread(target=wait)
        th.start()
        time.sleep(0.2)
        t0 = time.monotonic()
        s.close()
        th.join(10)
        out["woke within 50 ms"] = res["t"] - t0 < 0.05
        out["outcome"] = res["outcome"]
        """,
        head={"woke within 50 ms": (False, True),
              "outcome": (["ok", True], ["error", "CLOSED", CLOSED_MESSAGE])},
    )
