"""`gsocklab.check`: checks over a recording that return the rows that satisfied them or raise `CheckFailed`.

Two kinds of recordings are checked:

* real ones, recorded on loopback (127.0.0.1 only) with a `Recorder`: a UDP echo, a pinger
  whose server drops a request (and a client that retries it, sends something else, or
  receives again), a non-blocking client that busy-waits or waits for the condition, TCP
  servers that serve three clients at once or one after the other, a stream sent in pieces.
  Every blocking call is bounded (``set_timeout(1)`` or a ``timeout_us``), every thread is
  joined with a timeout, and each scenario is recorded once per module;
* scripted frames, built row by row in `TRAFFIC_SCHEMA` dtypes, for the edge cases.

Each check is tested both ways, and its failure text must tell a student what to do: what
was expected, what was found, the seqs and the hint. ``grade`` runs a small notebook in a
real ``python3`` kernel.
"""

from __future__ import annotations

import copy
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from check_frames import C_ADDR, EMPTY, PINGS, S_ADDR, fail, frame, pings, recv, row, send
from conftest import Sockets, loopback

from gsocklab import Gio, GLib, check
from gsocklab.check import CheckFailed
from gsocklab.record import Recorder

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
ROOT = Path(__file__).resolve().parents[1]
JOIN = 5.0  # seconds: the longest any helper thread may take
SHORT_US = 200_000  # the pinger's receive timeout (microseconds)


# -- real recordings: helpers ---------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def no_thread_left() -> Iterator[None]:
    """The threads this module started (helpers, recorders' flush threads) have all ended after it."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0  # a recorder's flush thread notices its stop within 0.25 s
    while (left := [t for t in threading.enumerate() if t not in before and t.is_alive()]) and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"threads still running: {[t.name for t in left]}"


class Worker:
    """A thread that keeps its exception; `join` waits a bounded time and re-raises it."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(target, *args), name=f"check-{target.__name__}",
                                       daemon=True)
        self.thread.start()

    def _run(self, target: Callable[..., None], *args: Any) -> None:
        try:
            target(*args)
        except BaseException as error:  # re-raised by join
            self.error = error

    def join(self) -> None:
        self.thread.join(JOIN)
        assert not self.thread.is_alive(), f"{self.thread.name} still running after {JOIN} s"
        if self.error is not None:
            raise self.error


@contextmanager
def bag() -> Iterator[Sockets]:
    """Sockets that are all closed at the end (after the recording, when used outside ``with Recorder``)."""
    sockets = Sockets()
    try:
        yield sockets
    finally:
        sockets.close_all()


def udp(sockets: Sockets, label: str, *, timeout: int = 1) -> Any:
    """A labelled UDP socket bound to 127.0.0.1 (``timeout`` 0: no socket timeout)."""
    sock = sockets.add(Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP))
    sock.label = label  # first, so that every row of the socket has the label
    if timeout:
        sock.set_timeout(timeout)
    sock.bind(loopback(F.IPV4), False)
    return sock


def tcp(sockets: Sockets, label: str | None = None) -> Any:
    sock = sockets.add(Gio.Socket.new(F.IPV4, T.STREAM, P.TCP))
    if label is not None:
        sock.label = label
    sock.set_timeout(1)
    return sock


def listener(sockets: Sockets) -> Any:
    server = tcp(sockets, "server")
    server.bind(loopback(F.IPV4), False)
    server.listen()
    return server


def address(text: str) -> Any:
    """``127.0.0.1:port`` as a `Gio.InetSocketAddress`."""
    host, port = text.rsplit(":", 1)
    return Gio.InetSocketAddress.new_from_string(host, int(port))


def text(sock: Any) -> str:
    """The socket's local address as a recording shows it (``127.0.0.1:port``)."""
    return str(sock.get_local_address().to_string())


def timed_out(error: GLib.Error) -> bool:
    return bool(error.code == Gio.IOErrorEnum.TIMED_OUT)


def echo(server: Any, count: int, drop: frozenset[int] = frozenset(), delay: float = 0.0) -> None:
    """Answer ``count`` datagrams with themselves, except the ``drop``-th ones (0-based); 1 s per wait at most."""
    for i in range(count):
        data, source = server.receive_bytes_from(512, 1_000_000, None)
        if i in drop:
            continue
        if delay:
            time.sleep(delay)
        server.send_to(source, data)


@dataclass
class Run:
    """A recording and the addresses of its sockets."""

    df: pd.DataFrame
    rec: Recorder
    server: str
    client: str


def seqs(df: pd.DataFrame, socket: str, op: str, **where: Any) -> list[int]:
    rows = df[(df["socket"] == socket) & (df["op"] == op)]
    for column, value in where.items():
        rows = rows[rows[column].isna()] if value is None else rows[rows[column] == value]
    return [int(seq) for seq in rows["seq"]]


# -- real recordings: scenarios (each recorded once per module) -----------------------------------------


def record_echo() -> Run:
    """A blocking client (``set_timeout(1)``) pings a UDP echo server three times; all answered."""
    with bag() as sockets:
        with Recorder() as rec:
            server, client = udp(sockets, "server"), udp(sockets, "client")
            worker = Worker(echo, server, 3)
            for i in range(3):
                client.send_to(server.get_local_address(), b"ping %d" % i)
                client.receive_from(None, 512)
            worker.join()
        return Run(rec.to_dataframe(), rec, text(server), text(client))


def record_pinger(on_timeout: str) -> Run:
    """Three pings; the server drops the second datagram it gets. On the timeout (0.2 s) the
    client resends the ping (``retry``), sends something else (``other``) or receives again
    (``receive``, and gives that ping up after a second timeout)."""
    count = {"retry": 4, "other": 4, "receive": 3}[on_timeout]
    with bag() as sockets:
        with Recorder() as rec:
            server, client = udp(sockets, "server"), udp(sockets, "client", timeout=0)
            to = server.get_local_address()
            worker = Worker(echo, server, count, frozenset({1}))
            for i in range(3):
                payload = b"ping %d" % i
                client.send_to(to, payload)
                for attempt in range(2):
                    try:
                        client.receive_bytes_from(512, SHORT_US, None)
                        break
                    except GLib.Error as error:
                        if not timed_out(error):
                            raise
                        if attempt:
                            break  # gave this ping up
                        if on_timeout == "retry":
                            client.send_to(to, payload)
                        elif on_timeout == "other":
                            client.send_to(to, payload + b" again")
            worker.join()
        return Run(rec.to_dataframe(), rec, text(server), text(client))


def record_lossy(client_only: bool) -> Run:
    """Six pings, no retries; the server drops two (a third of them). With ``client_only`` the
    recorder records the client alone (``rec.attach``), as when the server runs elsewhere."""
    with bag() as sockets:
        server, client = udp(sockets, "server"), udp(sockets, "client", timeout=0)
        rec = Recorder()
        with ExitStack() as recording:
            if client_only:
                rec.attach(client, label="client")
                recording.callback(rec.detach, client)
            else:
                recording.enter_context(rec)
            worker = Worker(echo, server, 6, frozenset({1, 4}))
            for i in range(6):
                client.send_to(server.get_local_address(), b"ping %d" % i)
                try:
                    client.receive_bytes_from(512, SHORT_US, None)
                except GLib.Error as error:
                    if not timed_out(error):
                        raise
            worker.join()
        return Run(rec.to_dataframe(), rec, text(server), text(client))


def record_nonblocking(wait: bool) -> Run:
    """A non-blocking client asks the server (which answers after 50 ms) and then either polls
    ``receive`` in a tight loop (up to 300 tries) or waits with ``condition_timed_wait`` (0.5 s)."""
    with bag() as sockets:
        with Recorder() as rec:
            server, client = udp(sockets, "server"), udp(sockets, "client", timeout=0)
            client.set_blocking(False)
            worker = Worker(echo, server, 1, frozenset(), 0.05)
            client.send_to(server.get_local_address(), b"hello")
            for _ in range(5 if wait else 300):
                try:
                    client.receive(None, 512)
                    break
                except GLib.Error as error:
                    if error.code != Gio.IOErrorEnum.WOULD_BLOCK:
                        raise
                    if wait:
                        client.condition_timed_wait(GLib.IOCondition.IN, 500_000, None)
            worker.join()
        return Run(rec.to_dataframe(), rec, text(server), text(client))


def record_no_timeout() -> Run:
    """A blocking client without a socket timeout: its ``receive_from`` could wait for ever
    (here it does not: the answer is there, ``condition_timed_wait`` made sure of it)."""
    with bag() as sockets:
        with Recorder() as rec:
            server, client = udp(sockets, "server"), udp(sockets, "client", timeout=0)
            worker = Worker(echo, server, 1)
            client.send_to(server.get_local_address(), b"hello")
            client.condition_timed_wait(GLib.IOCondition.IN, 1_000_000, None)
            client.receive_from(None, 512)
            worker.join()
        return Run(rec.to_dataframe(), rec, text(server), text(client))


def record_tcp(style: str) -> Run:
    """A TCP server and three clients (``client0`` …). ``sequential``: each client is accepted,
    served and closed before the next connects. ``together``: all three are accepted, then each
    is read, answered and closed. ``threads``: a thread per accepted connection, which all meet
    at a barrier between reading and answering. ``bare``: as ``together`` but the accepted
    sockets make no state call (no ``set_timeout``) before they are closed."""
    with bag() as sockets:
        with Recorder() as rec:
            server = listener(sockets)
            to, where = server.get_local_address(), text(server)
            clients = []
            if style == "sequential":
                for i in range(3):
                    client = tcp(sockets, f"client{i}")
                    client.connect(to, None)
                    client.send(b"hello %d" % i)
                    conn = sockets.add(server.accept(None))
                    conn.set_timeout(1)
                    conn.receive(None, 64)
                    conn.send(b"bye")
                    conn.close()
                    client.receive(None, 64)
                    client.close()
            else:
                for i in range(3):
                    client = tcp(sockets, f"client{i}")
                    client.connect(to, None)
                    client.send(b"hello %d" % i)
                    clients.append(client)
                conns = [sockets.add(server.accept(None)) for _ in range(3)]
                if style == "threads":
                    barrier = threading.Barrier(3, timeout=JOIN / 2)

                    def handle(conn: Any) -> None:
                        conn.set_timeout(1)
                        conn.receive(None, 64)
                        barrier.wait()
                        conn.send(b"bye")
                        conn.close()

                    for worker in [Worker(handle, conn) for conn in conns]:
                        worker.join()
                else:
                    for conn in conns:
                        if style == "bare":
                            conn.receive_bytes(64, 1_000_000, None)
                        else:
                            conn.set_timeout(1)
                            conn.receive(None, 64)
                    for conn in conns:
                        conn.send(b"bye")
                    for conn in conns:
                        conn.close()
                for client in clients:
                    client.receive(None, 64)
                    client.close()
            server.close()
        return Run(rec.to_dataframe(), rec, where, "")


def record_stream(read_all: bool) -> Run:
    """``client`` sends 20 bytes in three pieces; ``conn`` reads 5 bytes at a time until it has
    them all (``read_all``) or reads once."""
    with bag() as sockets:
        with Recorder() as rec:
            server = listener(sockets)
            client = tcp(sockets, "client")
            client.connect(server.get_local_address(), None)
            conn = sockets.add(server.accept(None))
            conn.label = "conn"
            conn.set_timeout(1)
            for piece in (b"hello, ", b"stream ", b"world!"):
                client.send(piece)
            got = b""
            while len(got) < 20:
                got += conn.receive(None, 5)[1]
                if not read_all:
                    break
        return Run(rec.to_dataframe(), rec, text(server), text(client))


@pytest.fixture(scope="module")
def echo_run() -> Run:
    return record_echo()


@pytest.fixture(scope="module")
def retry_run() -> Run:
    return record_pinger("retry")


@pytest.fixture(scope="module")
def other_run() -> Run:
    return record_pinger("other")


@pytest.fixture(scope="module")
def receive_run() -> Run:
    return record_pinger("receive")


@pytest.fixture(scope="module")
def lossy_run() -> Run:
    return record_lossy(client_only=False)


@pytest.fixture(scope="module")
def busy_run() -> Run:
    return record_nonblocking(wait=False)


@pytest.fixture(scope="module")
def waiting_run() -> Run:
    return record_nonblocking(wait=True)


@pytest.fixture(scope="module")
def no_timeout_run() -> Run:
    return record_no_timeout()


# -- the recordings are what the tests assume -------------------------------------------------------------


def test_the_pinger_recordings_are_as_scripted(retry_run: Run, other_run: Run, receive_run: Run) -> None:
    for run, timeouts, sends in ((retry_run, 1, 4), (other_run, 1, 4), (receive_run, 2, 3)):
        df = run.df
        assert len(seqs(df, "client", "receive_bytes_from", error="TIMED_OUT")) == timeouts
        assert len(seqs(df, "client", "send_to")) == sends
        assert len(seqs(df, "server", "send_to")) == sends - 1  # one dropped
        assert set(df["socket"].dropna()) == {"client", "server"}


# -- CheckFailed ------------------------------------------------------------------------------------------


def test_check_failed_is_an_assertion_error_with_its_parts() -> None:
    rows = pd.DataFrame({"seq": [3, 4], "socket": ["a", "a"], "op": ["send_to", "receive_from"],
                         "payload": [b"ping", None], "error": [None, "TIMED_OUT"]})
    failure = CheckFailed("demo", "two answers", "one answer", rows, hint="retry")
    assert isinstance(failure, AssertionError)
    assert (failure.check, failure.expected, failure.found, failure.hint) == ("demo", "two answers", "one answer",
                                                                               "retry")
    assert failure.rows is rows
    lines = str(failure).splitlines()
    assert lines[:4] == ["demo: expected two answers", "  found: one answer", "  hint: retry", "  rows:"]
    table = "\n".join(lines[4:])
    for part in ("send_to", "b'ping'", "TIMED_OUT"):
        assert part in table


def test_check_failed_without_hint_or_rows_is_two_lines() -> None:
    assert str(CheckFailed("demo", "x", "y")) == "demo: expected x\n  found: y"
    assert str(CheckFailed("demo", "x", "y", pd.DataFrame({"seq": []}))) == "demo: expected x\n  found: y"


def test_check_failed_shows_eight_rows_and_counts_the_rest() -> None:
    rows = pd.DataFrame({"seq": range(11), "op": ["send"] * 11})
    message = str(CheckFailed("demo", "x", "y", rows))
    assert "… and 3 more rows" in message
    assert message.count("send") == 8


def test_check_failed_shows_rows_whose_payload_is_nan() -> None:
    f = frame(*[{**fail("client", "receive", "WOULD_BLOCK", 0.01 * i, blocking=False), "payload": np.nan}
                for i in range(21)])
    with pytest.raises(CheckFailed, match="WOULD_BLOCK"):
        check.no_busy_wait(f)


def test_check_failed_survives_pickle_and_copy() -> None:
    failure = CheckFailed("demo", "x", "y", hint="h")
    for clone in (pickle.loads(pickle.dumps(failure)), copy.copy(failure)):
        assert str(clone) == str(failure)


# -- frame_of and argument types --------------------------------------------------------------------------


def test_frame_of_takes_a_recorder_or_its_frame_ordered_by_seq(echo_run: Run) -> None:
    from_rec = check.frame_of(echo_run.rec)
    pd.testing.assert_frame_equal(from_rec, echo_run.df)
    shuffled = echo_run.df.sample(frac=1, random_state=1)
    assert check.frame_of(shuffled)["seq"].tolist() == sorted(echo_run.df["seq"])


def test_frame_of_refuses_what_is_not_a_recording() -> None:
    with pytest.raises(TypeError, match=r"rec must be a gsocklab\.Recorder or its DataFrame, not int"):
        check.frame_of(42)
    with pytest.raises(TypeError, match="no column socket, op, error"):
        check.frame_of(pd.DataFrame({"seq": [0]}))




def with_socket(socket: object) -> list[Any]:
    """Every check that takes a socket label, called with ``socket`` as that label."""
    f = PINGS
    return [
        pytest.param(lambda: check.called(f, "bind", socket=socket), "socket", id="called"),
        pytest.param(lambda: check.not_called(f, "connect", socket=socket), "socket", id="not_called"),
        pytest.param(lambda: check.in_order(f, "bind", "send_to", socket=socket), "socket", id="in_order"),
        pytest.param(lambda: check.sent(f, socket), "socket", id="sent"),
        pytest.param(lambda: check.received(f, socket), "socket", id="received"),
        pytest.param(lambda: check.retried_after_timeout(f, socket=socket), "socket", id="retried_after_timeout"),
        pytest.param(lambda: check.no_busy_wait(f, socket=socket), "socket", id="no_busy_wait"),
        pytest.param(lambda: check.mode(f, socket, blocking=True), "socket", id="mode"),
        pytest.param(lambda: check.timeout_at_most(f, socket, 1), "socket", id="timeout_at_most"),
        pytest.param(lambda: check.every_datagram_answered(f, socket), "server", id="every_datagram_answered"),
        pytest.param(lambda: check.loss_rate_matches(f, 0.25, client=socket), "client", id="loss_rate_matches"),
        pytest.param(lambda: check.concurrent_connections(f, socket, 1), "server", id="concurrent_connections"),
        pytest.param(lambda: check.stream_intact(f, socket, "server"), "sender", id="stream_intact"),
    ]


@pytest.mark.parametrize(("call", "parameter"), with_socket(5))
def test_a_socket_that_is_not_a_label_is_a_type_error_naming_the_parameter(call: Callable[[], Any],
                                                                          parameter: str) -> None:
    with pytest.raises(TypeError, match=rf"\b{parameter} must be"):
        call()


@pytest.mark.parametrize("call", [
    lambda: check.called(42, "bind"),
    lambda: check.not_called(42, "bind"),
    lambda: check.in_order(42, "bind", "send_to"),
    lambda: check.sent(42, "client"),
    lambda: check.received(42, "client"),
    lambda: check.retried_after_timeout(42),
    lambda: check.no_busy_wait(42),
    lambda: check.every_datagram_answered(42, "server"),
    lambda: check.loss_rate_matches(42, 0.5, client="client"),
    lambda: check.concurrent_connections(42, "server", 2),
    lambda: check.mode(42, "client", blocking=True),
    lambda: check.stream_intact(42, "client", "server"),
    lambda: check.timeout_at_most(42, "client", 1),
], ids=["called", "not_called", "in_order", "sent", "received", "retried_after_timeout", "no_busy_wait",
        "every_datagram_answered", "loss_rate_matches", "concurrent_connections", "mode", "stream_intact",
        "timeout_at_most"])
def test_a_rec_that_is_not_a_recording_is_a_type_error_naming_rec(call: Callable[[], Any]) -> None:
    with pytest.raises(TypeError, match=r"^rec must be a gsocklab\.Recorder or its DataFrame, not int$"):
        call()




def bad_ops() -> list[Any]:
    ops = {"empty": (), "tuple-with-int": ("send_to", 3), "bytes": b"send_to", "list-with-none": [None]}
    calls = {"called": lambda f, op: check.called(f, op), "not_called": lambda f, op: check.not_called(f, op),
             "in_order": lambda f, op: check.in_order(f, "bind", op)}
    return [pytest.param(call, op, id=f"{name}-{kind}")
            for name, call in calls.items() for kind, op in ops.items()]


@pytest.mark.parametrize(("check_op", "op"), bad_ops())
def test_an_op_that_is_not_names_is_a_type_error_naming_op(check_op: Callable[[Any, Any], Any], op: Any) -> None:
    with pytest.raises(TypeError, match=r"^op must be a method name, a glob or a tuple of them"):
        check_op(PINGS, op)


@pytest.mark.parametrize("check_op", [
    lambda f: check.called(f, 3),
    lambda f: check.not_called(f, 3),
    lambda f: check.in_order(f, "bind", 3),
], ids=["called", "not_called", "in_order"])
def test_an_int_op_is_a_type_error_naming_op(check_op: Callable[[Any], Any]) -> None:
    with pytest.raises(TypeError, match="op must be"):
        check_op(PINGS)


def test_a_peer_that_is_not_an_address_is_a_type_error_naming_peer() -> None:
    with pytest.raises(TypeError, match=r"^peer must be an address text or a Gio\.SocketAddress, not int"):
        check.called(PINGS, "send_to", peer=5)


@pytest.mark.parametrize(("call", "parameter"), [
    (lambda: check.sent(PINGS, "client", to=5), "to"),
    (lambda: check.received(PINGS, "client", source=5), "source"),
], ids=["sent-to", "received-source"])
def test_a_to_or_source_that_is_not_an_address_names_the_parameter(call: Callable[[], Any], parameter: str) -> None:
    with pytest.raises(TypeError, match=rf"^{parameter} must be"):
        call()


@pytest.mark.parametrize("moved", [check.sent, check.received], ids=["sent", "received"])
def test_a_str_payload_is_a_type_error_naming_payload(moved: Callable[..., Any]) -> None:
    with pytest.raises(TypeError, match="payload"):
        moved(PINGS, "client", payload="ping 0")


# -- edge cases: empty recording, unknown labels -----------------------------------------------------------


def test_an_empty_recording_fails_called_with_no_calls_made() -> None:
    with pytest.raises(CheckFailed) as failed:
        check.called(EMPTY, "bind")
    assert failed.value.check == "called"
    assert failed.value.expected == "1 call of bind"
    assert failed.value.found == "no call of bind; calls made: none"
    assert failed.value.rows is None


@pytest.mark.parametrize("call", [
    lambda f: check.called(f, "bind", socket="client"),
    lambda f: check.in_order(f, "bind", "send_to", socket="client"),
    lambda f: check.sent(f, "client"),
    lambda f: check.received(f, "client"),
    lambda f: check.retried_after_timeout(f, socket="client"),
    lambda f: check.no_busy_wait(f, socket="client"),
    lambda f: check.every_datagram_answered(f, "client"),
    lambda f: check.loss_rate_matches(f, 0.0, client="client"),
    lambda f: check.concurrent_connections(f, "client", 1),
    lambda f: check.mode(f, "client", blocking=True),
    lambda f: check.stream_intact(f, "client", "client"),
    lambda f: check.timeout_at_most(f, "client", 1),
], ids=["called", "in_order", "sent", "received", "retried_after_timeout", "no_busy_wait", "every_datagram_answered",
        "loss_rate_matches", "concurrent_connections", "mode", "stream_intact", "timeout_at_most"])
def test_an_empty_recording_has_no_socket_of_the_label(call: Callable[[pd.DataFrame], Any]) -> None:
    with pytest.raises(CheckFailed) as failed:
        call(EMPTY)
    assert failed.value.expected == "calls of a socket labelled 'client'"
    assert failed.value.found == "no socket of that label; the recording has no sockets"
    assert "rec.attach(sock, label=...)" in str(failed.value)


@pytest.mark.parametrize("call", [
    lambda: check.not_called(EMPTY, "send*"),
    lambda: check.no_busy_wait(EMPTY),
    lambda: check.retried_after_timeout(EMPTY, at_least=0),
    lambda: check.called(EMPTY, "bind", at_least=0),
], ids=["not_called", "no_busy_wait", "retried_after_timeout-at_least-0", "called-at_least-0"])
def test_an_empty_recording_passes_the_checks_of_absence(call: Callable[[], pd.DataFrame]) -> None:
    result = call()
    assert isinstance(result, pd.DataFrame)
    assert len(result) == 0


def test_in_order_and_retried_fail_on_an_empty_recording() -> None:
    with pytest.raises(CheckFailed, match=r"found: no call of bind$"):
        check.in_order(EMPTY, "bind", "send_to")
    with pytest.raises(CheckFailed, match="the lossy peer"):
        check.retried_after_timeout(EMPTY)


def test_an_unknown_label_lists_the_labels_of_the_recording() -> None:
    with pytest.raises(CheckFailed) as failed:
        check.called(PINGS, "send_to", socket="clinet")
    message = str(failed.value)
    assert "expected calls of a socket labelled 'clinet'" in message
    assert "found: no socket of that label; the recording has ['client', 'server']" in message
    assert "hint: label sockets with rec.attach(sock, label=...) or sock.label = ..." in message


def test_not_called_on_an_unknown_label_fails() -> None:
    with pytest.raises(CheckFailed, match="no socket of that label"):
        check.not_called(PINGS, "send*", socket="clinet")


# -- called / not_called ----------------------------------------------------------------------------------


def test_called_by_glob_tuple_and_list() -> None:
    receives = check.called(PINGS, "receive*", at_least=8)
    assert set(receives["op"].astype(str)) == {"receive_from", "receive_bytes_from"}
    assert len(receives) == 8
    both = check.called(PINGS, ("bind", "send_to"), socket="client")
    assert both["op"].astype(str).tolist() == ["bind"] + ["send_to"] * 4
    assert len(check.called(PINGS, ["bind"])) == 2


def test_called_filters_by_error_peer_and_value() -> None:
    timeouts = check.called(PINGS, "receive*", socket="client", error="TIMED_OUT")
    assert timeouts["seq"].tolist() == [12]
    assert len(check.called(PINGS, "receive_bytes_from", error="ok", at_least=3)) == 3
    assert len(check.called(PINGS, "send_to", socket="server", peer=C_ADDR, at_least=3)) == 3
    with pytest.raises(CheckFailed) as failed:
        check.called(PINGS, "receive*", socket="client", error="TIMED_OUT", at_least=2)
    assert failed.value.expected == "2 calls of receive* on 'client' that failed with TIMED_OUT"
    assert failed.value.found == "1 such call; the calls of receive* are below"
    assert len(failed.value.rows) == 4


def test_called_lists_the_calls_made_when_the_op_never_was() -> None:
    with pytest.raises(CheckFailed) as failed:
        check.called(PINGS, "connect", socket="client")
    assert failed.value.found == "no call of connect on 'client'; calls made: bind, send_to, receive_bytes_from"


def test_called_on_a_real_recording(echo_run: Run) -> None:
    rows = check.called(echo_run.rec, "send_to", socket="client", peer=echo_run.server, at_least=3)
    assert rows["payload"].tolist() == [b"ping 0", b"ping 1", b"ping 2"]
    server = address(echo_run.server)
    assert len(check.called(echo_run.df, "send_to", socket="client", peer=server, at_least=3)) == 3
    assert len(check.called(echo_run.df, "set_timeout", socket="client", value=1)) == 1
    assert len(check.called(echo_run.df, "receive*", socket="client", error="ok", at_least=3)) == 3
    with pytest.raises(CheckFailed) as failed:
        check.called(echo_run.df, "send_to", socket="client", at_least=4)
    assert failed.value.expected == "4 calls of send_to on 'client'"
    assert failed.value.found == "3 such calls; the calls of send_to are below"
    assert "b'ping 2'" in str(failed.value)
    with pytest.raises(CheckFailed, match="calls made: set_timeout, bind, send_to, receive_from"):
        check.called(echo_run.df, "connect", socket="client")
    with pytest.raises(CheckFailed, match="setting 5"):
        check.called(echo_run.df, "set_timeout", socket="client", value=5)


def test_not_called_on_a_real_recording(echo_run: Run) -> None:
    assert len(check.not_called(echo_run.df, "connect", socket="client")) == 0
    assert len(check.not_called(echo_run.df, ("send_messages", "receive_messages"))) == 0
    with pytest.raises(CheckFailed) as failed:
        check.not_called(echo_run.df, "send*", socket="client")
    assert failed.value.expected == "no call of send* on 'client'"
    assert failed.value.found == "3 calls"
    assert failed.value.rows["seq"].tolist() == seqs(echo_run.df, "client", "send_to")


# -- in_order ---------------------------------------------------------------------------------------------


def test_in_order_on_a_real_recording(echo_run: Run) -> None:
    df = echo_run.df
    firsts = check.in_order(df, "bind", "send_to", "receive*", socket="client")
    assert firsts["op"].astype(str).tolist() == ["bind", "send_to", "receive_from"]
    check.in_order(df, "receive*", "send_to", socket="server")
    with pytest.raises(CheckFailed) as failed:
        check.in_order(df, "receive*", "send_to", socket="client")
    receive, send_to = seqs(df, "client", "receive_from")[0], seqs(df, "client", "send_to")[0]
    assert failed.value.expected == "receive* before send_to on 'client'"
    assert failed.value.found == f"receive* first at seq {receive}, send_to first at seq {send_to}"
    assert failed.value.rows["seq"].tolist() == [receive, send_to]


def test_in_order_with_tuples_of_ops() -> None:
    firsts = check.in_order(PINGS, ("bind", "listen"), ("send", "send_to"), socket="client")
    assert firsts["seq"].tolist() == [0, 2]


def test_in_order_with_a_missing_op_says_which() -> None:
    with pytest.raises(CheckFailed) as failed:
        check.in_order(PINGS, "bind", "connect", "send_to", socket="client")
    assert failed.value.expected == "bind before connect before send_to on 'client'"
    assert failed.value.found == "no call of connect on 'client'"


def test_in_order_with_equal_ops_fails_as_the_same_call() -> None:
    # The same op twice names the same first call, which is not "before" itself: awkward
    # (a ValueError, or "a second call", would say more), but it is what in_order documents.
    with pytest.raises(CheckFailed, match="send_to first at seq 2, send_to first at seq 2"):
        check.in_order(PINGS, "send_to", "send_to", socket="client")
    with pytest.raises(CheckFailed, match=r"receive\* first at seq 3, receive_from first at seq 3"):
        check.in_order(PINGS, "receive*", "receive_from")


def test_in_order_needs_two_ops() -> None:
    with pytest.raises(ValueError, match="two ops or more"):
        check.in_order(PINGS, "bind")


# -- sent / received --------------------------------------------------------------------------------------


def test_sent_and_received_on_a_real_recording(echo_run: Run) -> None:
    df = echo_run.df
    server = address(echo_run.server)
    assert check.sent(df, "client", to=server, at_least=3)["payload"].tolist() == [b"ping 0", b"ping 1", b"ping 2"]
    assert len(check.sent(df, "client", to=echo_run.server, payload=b"ping 1")) == 1
    assert len(check.received(df, "server", source=echo_run.client, at_least=3)) == 3
    assert len(check.received(df, "client", payload=b"ping 2")) == 1
    with pytest.raises(CheckFailed) as failed:
        check.sent(df, "client", payload=b"pong")
    assert failed.value.expected == "1 datagram or chunk sent by 'client' carrying b'pong'"
    assert failed.value.found == "0"
    assert "b'ping 0'" in str(failed.value)  # the sends are shown
    with pytest.raises(CheckFailed, match=f"from {echo_run.server}"):
        check.received(df, "client", source=echo_run.client)


def test_received_counts_the_failed_receives(receive_run: Run) -> None:
    assert len(check.received(receive_run.df, "client", at_least=2)) == 2
    with pytest.raises(CheckFailed) as failed:
        check.received(receive_run.df, "client", at_least=3)
    assert failed.value.expected == "3 datagrams or chunks received by 'client'"
    assert failed.value.found == "2; 2 receive calls failed"
    assert "TIMED_OUT" in str(failed.value)


def test_sent_by_a_socket_that_sent_nothing() -> None:
    f = frame(row("client", "bind", at=0.0, local=C_ADDR))
    with pytest.raises(CheckFailed) as failed:
        check.sent(f, "client")
    assert failed.value.found == "0"
    assert failed.value.rows is None


# -- retried_after_timeout --------------------------------------------------------------------------------


def test_retried_after_timeout_passes_when_the_same_request_is_resent(retry_run: Run) -> None:
    timeouts = check.retried_after_timeout(retry_run.df, socket="client")
    assert timeouts["seq"].tolist() == seqs(retry_run.df, "client", "receive_bytes_from", error="TIMED_OUT")


def test_retried_after_timeout_fails_when_something_else_is_sent(other_run: Run) -> None:
    df = other_run.df
    with pytest.raises(CheckFailed) as failed:
        check.retried_after_timeout(df, socket="client")
    retry = seqs(df, "client", "send_to", payload=b"ping 1 again")[0]
    assert failed.value.expected == "the retry on 'client' to resend the unanswered request b'ping 1'"
    assert failed.value.found == f"seq {retry} sent b'ping 1 again'"
    assert failed.value.rows["seq"].tolist()[-1] == retry
    # … but it is a retry when the payload may change
    assert len(check.retried_after_timeout(df, socket="client", same_payload=False)) == 1


def test_retried_after_timeout_fails_when_the_client_receives_again(receive_run: Run) -> None:
    df = receive_run.df
    first, second = seqs(df, "client", "receive_bytes_from", error="TIMED_OUT")
    with pytest.raises(CheckFailed) as failed:
        check.retried_after_timeout(df, socket="client")
    assert failed.value.expected == "a send (the retry) right after the timeout on 'client'"
    assert failed.value.found == f"receive_bytes_from at seq {second} after the timeout at seq {first}"
    assert {first, second} <= set(failed.value.rows["seq"])


def test_retried_after_timeout_without_any_timeout_fails_with_the_hint(echo_run: Run) -> None:
    for f in (echo_run.df, pings(True, True, True)):
        with pytest.raises(CheckFailed) as failed:
            check.retried_after_timeout(f, socket="client")
        assert failed.value.expected == "at least 1 receive that timed out on 'client'"
        assert failed.value.found == "0"
        assert "lossy peer" in str(failed.value.hint)
        assert "with a timeout set" in str(failed.value)


def test_retried_after_timeout_passes_when_the_client_gave_up_after_the_last_timeout() -> None:
    f = pings(True, True, False)
    timeouts = check.retried_after_timeout(f, socket="client")
    assert timeouts["seq"].tolist() == [f["seq"].iloc[-1]]


def test_retried_after_timeout_scripted_retry_and_at_least() -> None:
    f = pings(True, False, True, retry=True)
    assert len(check.retried_after_timeout(f, socket="client")) == 1
    assert len(check.retried_after_timeout(f)) == 1  # every socket
    with pytest.raises(CheckFailed, match="expected at least 2 receives that timed out on 'client'"):
        check.retried_after_timeout(f, socket="client", at_least=2)
    with pytest.raises(CheckFailed, match=r"found: seq 13 sent b'ping 3'"):
        check.retried_after_timeout(PINGS, socket="client")  # went on with the next ping


# -- no_busy_wait -----------------------------------------------------------------------------------------


def test_no_busy_wait_fails_on_a_polling_loop(busy_run: Run) -> None:
    misses = busy_run.df[busy_run.df["error"] == "WOULD_BLOCK"]
    assert len(misses) > 20  # the loop polled
    with pytest.raises(CheckFailed) as failed:
        check.no_busy_wait(busy_run.df, socket="client")
    message = str(failed.value)
    assert failed.value.expected == "at most 20 WOULD_BLOCK a second on 'client'"
    assert failed.value.found.startswith(f"{len(misses)} in the second from seq {misses['seq'].iloc[0]} (elapsed ")
    assert "condition_wait(GLib.IOCondition.IN)" in message
    assert f"… and {len(misses) - 8} more rows" in message
    assert len(check.no_busy_wait(busy_run.df, socket="client", max_per_second=10_000)) == len(misses)


def test_no_busy_wait_passes_when_the_client_waits_for_the_condition(waiting_run: Run) -> None:
    misses = check.no_busy_wait(waiting_run.df, socket="client")
    assert 1 <= len(misses) <= 2
    assert set(misses["error"].astype(str)) == {"WOULD_BLOCK"}
    check.called(waiting_run.df, "condition_timed_wait", socket="client", error="ok")
    assert len(check.no_busy_wait(waiting_run.df)) == len(misses)  # every socket


def test_no_busy_wait_counts_per_second_window() -> None:
    def polls(times: list[float]) -> pd.DataFrame:
        return frame(*[fail("client", "receive", "WOULD_BLOCK", at, blocking=False) for at in times])

    check.no_busy_wait(polls([i * 0.04 for i in range(20)]))  # 20 within a second: allowed
    check.no_busy_wait(polls([i * 0.1 for i in range(30)]))  # 30 over three seconds
    with pytest.raises(CheckFailed, match=r"found: 21 in the second from seq 0 \(elapsed 0.000 s\)"):
        check.no_busy_wait(polls([i * 0.04 for i in range(21)]))
    with pytest.raises(CheckFailed, match=r"found: 6 in the second from seq 2 \(elapsed 5.000 s\)"):
        check.no_busy_wait(polls([0.0, 2.0, 5.0, 5.1, 5.2, 5.3, 5.4, 5.5]), max_per_second=5)


# -- every_datagram_answered ------------------------------------------------------------------------------


def test_every_datagram_answered_by_the_echo_server(echo_run: Run) -> None:
    received = check.every_datagram_answered(echo_run.df, "server")
    assert received["payload"].tolist() == [b"ping 0", b"ping 1", b"ping 2"]
    check.every_datagram_answered(echo_run.df, "server", within=0.5)


def test_every_datagram_answered_fails_when_the_server_drops_one(retry_run: Run, receive_run: Run) -> None:
    for run in (retry_run, receive_run):
        df = run.df
        with pytest.raises(CheckFailed) as failed:
            check.every_datagram_answered(df, "server")
        assert failed.value.check == "every_datagram_answered"
        assert failed.value.expected.startswith(f"an answer from 'server' to {run.client} for the datagram received "
                                                "at seq ")
        assert failed.value.found == "no such send"
        blamed = int(failed.value.expected.rsplit(" ", 1)[1])
        assert blamed in seqs(df, "server", "receive_bytes_from")
        assert failed.value.rows["seq"].iloc[0] == blamed




def test_every_datagram_answered_names_the_dropped_one_when_nothing_was_retried(receive_run: Run) -> None:
    df = receive_run.df
    dropped = seqs(df, "server", "receive_bytes_from", payload=b"ping 1")[0]
    with pytest.raises(CheckFailed, match=rf"for the datagram received at seq {dropped}\n"):
        check.every_datagram_answered(df, "server")


def test_every_datagram_answered_names_the_dropped_one_when_it_was_retried(retry_run: Run) -> None:
    df = retry_run.df
    dropped = seqs(df, "server", "receive_bytes_from", payload=b"ping 1")[0]  # the first copy
    with pytest.raises(CheckFailed, match=rf"for the datagram received at seq {dropped}\n"):
        check.every_datagram_answered(df, "server")


def test_every_datagram_answered_names_the_dropped_one_scripted() -> None:
    f = pings(True, False, True, retry=True)
    dropped = int(f[(f["socket"] == "server") & (f["payload"] == b"ping 1")]["seq"].iloc[0])
    with pytest.raises(CheckFailed, match=rf"for the datagram received at seq {dropped}\n"):
        check.every_datagram_answered(f, "server")


def test_every_datagram_answered_within() -> None:
    f = frame(recv("server", S_ADDR, C_ADDR, b"ping", 0.0), send("server", S_ADDR, C_ADDR, b"ping", 0.5))
    check.every_datagram_answered(f, "server", within=1.0)
    with pytest.raises(CheckFailed, match=r"expected an answer from 'server' to 127\.0\.0\.1:4000 within 0\.1 s"):
        check.every_datagram_answered(f, "server", within=0.1)
    with pytest.raises(CheckFailed, match=r"expected datagrams received by 'client' \(to answer\)"):
        check.every_datagram_answered(PINGS[PINGS["op"] != "receive_bytes_from"], "client")


# -- loss_rate_matches ------------------------------------------------------------------------------------


def test_loss_rate_matches_the_lossy_pinger(lossy_run: Run) -> None:
    requests = check.loss_rate_matches(lossy_run.df, 1 / 3, client="client")
    assert len(requests) == 6
    assert [bytes(p) for p in requests.loc[~requests["answered"], "payload"]] == [b"ping 1", b"ping 4"]
    check.loss_rate_matches(lossy_run.rec, 0.33, client="client")  # rounded to two decimals: within the default
    check.loss_rate_matches(lossy_run.df, np.float64(2) / 6, client="client", tolerance=0)
    with pytest.raises(CheckFailed) as failed:
        check.loss_rate_matches(lossy_run.df, 0.33, client="client", tolerance=0)
    assert failed.value.expected == "a loss rate of 0.333 (2 of 6 requests unanswered)"
    assert failed.value.found == "0.330 reported"
    with pytest.raises(CheckFailed, match=r"found: 0\.320 reported"):
        check.loss_rate_matches(lossy_run.df, 0.32, client="client")


def test_loss_rate_matches_shows_the_unanswered_requests(lossy_run: Run) -> None:
    with pytest.raises(CheckFailed) as failed:
        check.loss_rate_matches(lossy_run.df, 0.5, client="client")
    unanswered = seqs(lossy_run.df, "client", "send_to", payload=b"ping 1") + seqs(lossy_run.df, "client", "send_to",
                                                                                  payload=b"ping 4")
    assert failed.value.rows is not None
    assert failed.value.rows["seq"].tolist() == unanswered


def test_loss_rate_matches_scripted_exact_and_wrong() -> None:
    check.loss_rate_matches(PINGS, 0.25, client="client")
    check.loss_rate_matches(pings(True, True), 0, client="client")
    check.loss_rate_matches(pings(False, False), 1, client="client")
    with pytest.raises(CheckFailed) as failed:
        check.loss_rate_matches(PINGS, 0.5, client="client")
    message = str(failed.value)
    assert "expected a loss rate of 0.250 (1 of 4 requests unanswered)" in message
    assert "found: 0.500 reported" in message
    lost = pings(True, True, False, True)
    lost = lost[lost["socket"] != "server"]  # now the server never got ping 2: the send shows as lost
    with pytest.raises(CheckFailed) as failed:
        check.loss_rate_matches(pd.concat([lost, PINGS[(PINGS["socket"] == "server")
                                                       & (PINGS["payload"] != b"ping 2")]]), 0.5, client="client")
    assert failed.value.rows["payload"].tolist() == [b"ping 2"]
    with pytest.raises(CheckFailed, match=r"found: 0\.200 reported"):
        check.loss_rate_matches(PINGS, 0.2, client="client", tolerance=0.04)
    check.loss_rate_matches(PINGS, 0.2, client="client", tolerance=0.05)


def test_loss_rate_matches_needs_sends() -> None:
    with pytest.raises(CheckFailed, match="expected datagrams sent by 'server'"):
        check.loss_rate_matches(pings(), 0.0, client="server")


@pytest.mark.parametrize("reported", ["0.25", None, True, [0.25]])
def test_loss_rate_matches_refuses_a_reported_that_is_not_a_number(reported: Any) -> None:
    with pytest.raises(TypeError, match=r"^reported must be a fraction from 0 to 1, not "):
        check.loss_rate_matches(PINGS, reported, client="client")


@pytest.mark.parametrize("reported", [25, -0.1, 1.5, float("nan")])
def test_loss_rate_matches_refuses_a_number_that_is_not_a_fraction(reported: Any) -> None:
    with pytest.raises(ValueError, match=r"^reported must be a fraction from 0 to 1, not "):
        check.loss_rate_matches(PINGS, reported, client="client")


@pytest.mark.parametrize(("reported", "answered"), [(np.float32(0.25), (True, True, False, True)),
                                                    (np.int64(0), (True, True))], ids=["float32", "int64"])
def test_loss_rate_matches_accepts_numpy_numbers(reported: Any, answered: tuple[bool, ...]) -> None:
    check.loss_rate_matches(pings(*answered), reported, client="client")


def test_loss_rate_matches_when_only_the_client_is_recorded() -> None:
    check.loss_rate_matches(pings(True, True, False, True, server=False), 0.25, client="client")


def test_loss_rate_matches_a_real_recording_of_the_client_alone() -> None:
    run = record_lossy(client_only=True)
    assert set(run.df["socket"]) == {"client"}
    check.loss_rate_matches(run.df, 1 / 3, client="client")


# -- concurrent_connections -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def together_run() -> Run:
    return record_tcp("together")


def test_concurrent_connections_of_a_server_serving_three_at_once(together_run: Run) -> None:
    spans = check.concurrent_connections(together_run.df, "server", at_least=3)
    assert spans.columns.tolist() == ["connection", "start", "end"]
    assert len(spans) == 3
    assert (spans["start"].max() < spans["end"].min())  # all open at once


def test_concurrent_connections_of_a_thread_per_connection() -> None:
    run = record_tcp("threads")
    assert len(check.concurrent_connections(run.rec, "server", 3)) == 3


def test_concurrent_connections_fails_for_one_client_after_the_other() -> None:
    run = record_tcp("sequential")
    check.concurrent_connections(run.df, "server", 1)
    with pytest.raises(CheckFailed) as failed:
        check.concurrent_connections(run.df, "server", 3)
    assert failed.value.expected == f"3 connections of 'server' ({run.server}) open at once"
    assert failed.value.found == "3 connections, at most 1 at once"
    assert "a thread each" in str(failed.value.hint)
    assert {"receive", "send", "close"} <= set(failed.value.rows["op"].astype(str))


def test_concurrent_connections_when_the_accepted_sockets_make_no_state_call() -> None:
    run = record_tcp("bare")
    assert len(check.concurrent_connections(run.df, "server", 3)) == 3


@pytest.mark.parametrize("bound", ["127.0.0.1", pytest.param("0.0.0.0")])
def test_concurrent_connections_of_a_listener_bound_to(bound: str) -> None:
    def stream(socket: str, op: str, at: float, **values: Any) -> dict[str, Any]:
        return {**row(socket, op, at=at, **values), "type": "STREAM"}

    f = frame(
        stream("server", "bind", 0.0, local=f"{bound}:5000"),
        stream("server", "listen", 0.01, local=f"{bound}:5000"),
        stream("server", "accept", 0.02, local=f"{bound}:5000", peer="127.0.0.1:4001"),
        stream("server", "accept", 0.03, local=f"{bound}:5000", peer="127.0.0.1:4002"),
        stream("a", "receive", 0.04, local="127.0.0.1:5000", peer="127.0.0.1:4001", nbytes=2, payload=b"hi"),
        stream("b", "receive", 0.05, local="127.0.0.1:5000", peer="127.0.0.1:4002", nbytes=2, payload=b"hi"),
        stream("a", "send", 0.06, local="127.0.0.1:5000", peer="127.0.0.1:4001", nbytes=2, payload=b"ok"),
        stream("b", "send", 0.07, local="127.0.0.1:5000", peer="127.0.0.1:4002", nbytes=2, payload=b"ok"),
    )
    assert check.concurrent_connections(f, "server", 2)["connection"].tolist() == ["a", "b"]


def test_concurrent_connections_of_an_unbound_server() -> None:
    f = frame({**row("server", "listen", at=0.0), "type": "STREAM"})
    with pytest.raises(CheckFailed, match="expected 'server' to be bound\n  found: no local address recorded"):
        check.concurrent_connections(f, "server", 1)


# -- mode -------------------------------------------------------------------------------------------------


def test_mode_blocking_and_non_blocking(echo_run: Run, waiting_run: Run, busy_run: Run) -> None:
    io = check.mode(echo_run.df, "client", blocking=True)
    assert set(io["op"].astype(str)) == {"send_to", "receive_from"}
    check.mode(waiting_run.df, "client", blocking=False)
    check.mode(busy_run.rec, "client", blocking=False)
    with pytest.raises(CheckFailed) as failed:
        check.mode(echo_run.df, "client", blocking=False)
    assert failed.value.expected == "every send and receive of 'client' to run non-blocking"
    assert failed.value.found == "6 of 6 did not"
    assert failed.value.hint == "set_blocking(False) before the I/O, or use *_with_blocking(…, False)"
    with pytest.raises(CheckFailed) as failed:
        check.mode(waiting_run.df, "client", blocking=True)
    assert str(failed.value.hint).startswith("set_blocking(True)")
    assert len(failed.value.rows) == len(check.called(waiting_run.df, ("send*", "receive*"), socket="client"))


def test_mode_of_a_socket_that_did_no_io() -> None:
    with pytest.raises(CheckFailed, match="expected sends or receives on 'client'\n  found: none"):
        check.mode(frame(row("client", "bind", at=0.0)), "client", blocking=True)


# -- stream_intact ----------------------------------------------------------------------------------------


def test_stream_intact_when_the_receiver_reads_it_all() -> None:
    run = record_stream(read_all=True)
    receives = check.stream_intact(run.df, "client", "conn")
    assert receives["nbytes"].tolist() == [5, 5, 5, 5]
    assert b"".join(receives["payload"]) == b"hello, stream world!"


def test_stream_intact_fails_when_the_receiver_reads_part() -> None:
    run = record_stream(read_all=False)
    with pytest.raises(CheckFailed) as failed:
        check.stream_intact(run.df, "client", "conn")
    assert failed.value.expected == "20 bytes received by 'conn', as 'client' sent"
    assert failed.value.found == "5 bytes"
    assert "read until you have the whole message" in str(failed.value)
    assert failed.value.rows["payload"].tolist() == [b"hello"]


def stream_frame(*received: bytes, captured: int | None = None) -> pd.DataFrame:
    a, b = "127.0.0.1:4000", "127.0.0.1:5000"
    rows = [send("client", a, b, piece, 0.01 * i, op="send") for i, piece in enumerate((b"hello", b"world"))]
    rows += [recv("conn", b, a, piece, 0.1 + 0.01 * i, op="receive") for i, piece in enumerate(received)]
    if captured is not None:
        rows = [{**r, "payload": r["payload"][:captured]} for r in rows]
    return frame(*[{**r, "type": "STREAM"} for r in rows])


def test_stream_intact_compares_the_bytes() -> None:
    check.stream_intact(stream_frame(b"hel", b"lowor", b"ld"), "client", "conn")
    with pytest.raises(CheckFailed) as failed:
        check.stream_intact(stream_frame(b"hel", b"loWor", b"ld"), "client", "conn")
    assert failed.value.expected == "the same bytes in the same order at 'conn'"
    assert failed.value.found == "a difference at byte 5 (received b'World', sent b'world')"
    assert failed.value.rows["payload"].tolist() == [b"hel", b"loWor", b"ld"]  # from the one before it
    check.stream_intact(stream_frame(b"hel", b"loWor", b"ld", captured=2), "client", "conn")  # not all captured
    with pytest.raises(CheckFailed, match="found: 8 bytes"):
        check.stream_intact(stream_frame(b"hel", b"lowor"), "client", "conn")
    with pytest.raises(CheckFailed, match="no socket of that label; the recording has"):
        check.stream_intact(stream_frame(b"helloworld"), "client", "server")


# -- timeout_at_most --------------------------------------------------------------------------------------


def test_timeout_at_most_with_a_socket_timeout(echo_run: Run) -> None:
    waiting = check.timeout_at_most(echo_run.df, "client", 1)
    assert waiting["op"].astype(str).tolist() == ["receive_from"] * 3
    assert waiting["timeout"].tolist() == [1.0] * 3
    check.timeout_at_most(echo_run.df, "server", 1)  # receive_bytes_from(…, 1_000_000)
    with pytest.raises(CheckFailed) as failed:
        check.timeout_at_most(echo_run.df, "client", 0.5)
    assert failed.value.expected == "a timeout of at most 0.5 s on every wait of 'client'"
    assert failed.value.found == "3 of 3 longer (up to 1 s)"
    assert failed.value.hint == "set_timeout(n) on the socket, or pass a timeout to the call"


def test_timeout_at_most_with_call_timeouts(retry_run: Run) -> None:
    waiting = check.timeout_at_most(retry_run.df, "client", 0.2)
    assert set(waiting["timeout"]) == {0.2}
    with pytest.raises(CheckFailed, match=r"found: 4 of 4 longer \(up to 0\.2 s\)"):
        check.timeout_at_most(retry_run.df, "client", 0.1)


def test_timeout_at_most_fails_without_a_timeout(no_timeout_run: Run) -> None:
    df = no_timeout_run.df
    with pytest.raises(CheckFailed) as failed:
        check.timeout_at_most(df, "client", 1)
    assert failed.value.found == "1 of 2 without one"
    assert failed.value.rows["seq"].tolist() == seqs(df, "client", "receive_from")
    assert "hint: set_timeout(n)" in str(failed.value)
    assert "receive_from" in str(failed.value)


def test_timeout_at_most_of_a_socket_that_never_waits() -> None:
    with pytest.raises(CheckFailed, match=r"expected calls of 'client' that wait \(blocking receives, accept, "
                                          r"connect, condition waits\)\n  found: none\n"):
        check.timeout_at_most(frame(send("client", C_ADDR, S_ADDR, b"x", 0.0)), "client", 1)


def test_timeout_at_most_counts_the_condition_waits_of_a_non_blocking_socket(waiting_run: Run) -> None:
    waiting = check.timeout_at_most(waiting_run.df, "client", 1)
    assert set(waiting["op"].astype(str)) == {"condition_timed_wait"}


# -- grade ------------------------------------------------------------------------------------------------


SETUP = """\
from gsocklab import Gio, Recorder, check
F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
with Recorder() as rec:
    sock = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
    sock.label = "client"
    sock.set_timeout(1)
    sock.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    sock.send_to(sock.get_local_address(), b"to myself")
    sock.receive_from(None, 64)
sock.close()
"""


def kernel_env() -> dict[str, str]:
    """This process's environment with this checkout first on PYTHONPATH (as tests/test_notebooks.py does)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("JPY_PARENT_PID", None)
    return env


def test_grade_reports_each_check_cell(tmp_path: Path) -> None:
    import nbformat

    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell("# Exercise", id="intro"),
        v4.new_code_cell(SETUP, id="setup"),
        v4.new_code_cell('check.sent(rec, "client", payload=b"to myself")', id="sends",
                         metadata={"tags": ["check"], "nbgrader": {"points": 2}}),
        v4.new_code_cell('check.not_called(rec, "send*", socket="client")', id="no-sends",
                         metadata={"tags": ["check"]}),
        v4.new_code_cell("1 / 0", id="untagged-error"),
        v4.new_code_cell('check.received(rec, "client")', id="after-errors",
                         metadata={"tags": ["check", "other"], "gsocklab": {"points": 0.5}}),
    ])
    nbformat.validate(nb)
    path = tmp_path / "exercise.ipynb"
    nbformat.write(nb, path)
    started = time.monotonic()
    result = check.grade(path, timeout=30, env=kernel_env())
    assert time.monotonic() - started < 40
    assert result.columns.tolist() == ["cell", "passed", "points", "max_points", "message"]
    assert result["cell"].tolist() == ["sends", "no-sends", "after-errors"]
    assert result["passed"].tolist() == [True, False, True]
    assert result["points"].tolist() == [2.0, 0.0, 0.5]
    assert result["max_points"].tolist() == [2.0, 1.0, 0.5]
    assert result.loc[0, "message"] == result.loc[2, "message"] == ""
    message = result.loc[1, "message"]
    assert message.startswith("CheckFailed: not_called: expected no call of send* on 'client'")
    assert "found: 1 call" in message
    assert "b'to myself'" in message
    assert nbformat.read(path, as_version=4).cells[1].outputs == []  # the file is left as it was


def test_grade_of_a_notebook_without_check_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat

    path = tmp_path / "empty.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("nothing to run", id="md")]), path)
    monkeypatch.delenv("JPY_PARENT_PID", raising=False)
    result = check.grade(path)
    assert result.columns.tolist() == ["cell", "passed", "points", "max_points", "message"]
    assert len(result) == 0


def test_grade_command_line_prints_each_check_and_fails_if_one_did(monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from gsocklab.check import _grade

    results = {
        "good.ipynb": pd.DataFrame({"cell": ["a", "b"], "passed": [True, True], "points": [2.0, 1.0],
                                    "max_points": [2.0, 1.0], "message": ["", ""]}),
        "bad.ipynb": pd.DataFrame({"cell": ["a", "b"], "passed": [True, False], "points": [2.0, 0.0],
                                   "max_points": [2.0, 1.0],
                                   "message": ["", "CheckFailed: sent: expected 1 datagram\n  found: 0"]}),
    }
    monkeypatch.setattr(_grade, "grade", lambda path, timeout: results[Path(path).name])  # no kernel
    assert _grade.main(["good.ipynb"]) == 0
    assert capsys.readouterr().out == "good.ipynb: 2 of 2 checks passed, 3 of 3 points\n  ✔ a\n  ✔ b\n"
    assert _grade.main(["good.ipynb", "bad.ipynb"]) == 1
    out = capsys.readouterr().out
    assert ("bad.ipynb: 1 of 2 checks passed, 2 of 3 points\n  ✔ a\n  ✖ b\n"
            "    CheckFailed: sent: expected 1 datagram") in out
