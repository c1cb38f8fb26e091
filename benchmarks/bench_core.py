"""Core benchmark: gsocklab against the standard library and against PyGObject, in one run.

Run it with ``make bench`` or ``.venv/bin/python benchmarks/bench_core.py [--quick]``.
Every ratio compares figures measured in the same run on the same machine, so the
targets hold whatever the machine's absolute speed:

=====================================  ==============================================  =======
case                                   compared with                                   target
=====================================  ==============================================  =======
UDP 64-byte round trip (one process)   stdlib ``sendto`` + ``recvfrom``                >= 0.8x
UDP 64-byte ``send_to`` rate           PyGObject ``Gio.Socket.send_to`` (GLib 2.74)    > 1.0x
TCP stream, 64 KiB chunks, 2 threads   stdlib ``sendall`` + ``recv_into``              >= 0.9x
=====================================  ==============================================  =======

Each case is warmed up, then repeated; the reported rates are the median repetitions.
gsocklab and its reference alternate repetition by repetition, and the ratio is the median
of the per-repetition ratios, so drift in machine load hits both sides alike. The PyGObject
loop runs in a long-lived ``/usr/bin/python3`` subprocess (the interpreter that has ``gi``)
and executes the very same source text as the gsocklab loop, one repetition at a time in
turn with it. Everything stays on 127.0.0.1. This is not a pytest test: timing assertions
would make the suite flaky on a loaded CI machine.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from paired import alternate, options, ratio_text, result_text, table

from gsocklab import Gio

PYGOBJECT_PYTHON = "/usr/bin/python3"
PAYLOAD = b"x" * 64
RECV_SIZE = 2048  # the same receive size for gsocklab and the stdlib
CHUNK = 64 * 1024
WATCHDOG_S = 30.0  # no benchmark loop may hang the run


@dataclass(frozen=True)
class Settings:
    reps: int
    udp_round_trips: int
    send_to_count: int
    tcp_bytes: int


DEFAULT = Settings(reps=9, udp_round_trips=20_000, send_to_count=60_000, tcp_bytes=256 * 1024 * 1024)
QUICK = Settings(reps=3, udp_round_trips=5_000, send_to_count=15_000, tcp_bytes=64 * 1024 * 1024)


# --------------------------------------------------------------------------------------------
# (a) UDP round trips: send on A to B, receive on B, in one thread


def udp_round_trips_stdlib(n: int) -> float:
    """Seconds for ``n`` send-then-receive round trips with the stdlib socket module."""
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        # Non-blocking: the datagram is already queued when recvfrom runs, so this is the
        # plain system call (a Python timeout would add a poll() before every recvfrom), and
        # a lost datagram raises BlockingIOError instead of hanging the benchmark.
        b.setblocking(False)
        dest = b.getsockname()
        sendto, recvfrom = a.sendto, b.recvfrom
        t0 = time.perf_counter()
        for _ in range(n):
            sendto(PAYLOAD, dest)
            recvfrom(RECV_SIZE)
        return time.perf_counter() - t0
    finally:
        a.close()
        b.close()


def _gio_udp_socket() -> Any:
    sock = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    sock.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    sock.set_timeout(5)
    return sock


def udp_round_trips_gsocklab(n: int) -> float:
    """Seconds for ``n`` ``send_to`` + ``receive_from`` round trips with gsocklab."""
    a, b = _gio_udp_socket(), _gio_udp_socket()
    try:
        dest = b.get_local_address()
        send_to, receive_from = a.send_to, b.receive_from
        t0 = time.perf_counter()
        for _ in range(n):
            send_to(dest, PAYLOAD, None)
            receive_from(None, RECV_SIZE)
        return time.perf_counter() - t0
    finally:
        a.close()
        b.close()


# --------------------------------------------------------------------------------------------
# (a') send_to rate: the same source text runs under gsocklab here and under PyGObject in a
# long-lived /usr/bin/python3 subprocess, one repetition at a time, alternating with ours.
# Only the send_to calls are timed; a stdlib receiver is drained between batches of 64.

SEND_TO_LOOP = """
def make_send_to_rep(Gio, batch=64):
    import socket, time
    drain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    drain.bind(("127.0.0.1", 0))
    drain.setblocking(False)
    sender = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    sender.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    sender.set_timeout(5)
    dest = Gio.InetSocketAddress.new_from_string("127.0.0.1", drain.getsockname()[1])
    payload = b"x" * 64
    send_to, clock = sender.send_to, time.perf_counter

    def one_rep(n):
        # seconds per send_to call, over about n calls
        busy = 0.0
        for _ in range(n // batch):
            t0 = clock()
            for _ in range(batch):
                send_to(dest, payload, None)
            busy += clock() - t0
            try:
                while True:
                    drain.recv(2048)
            except BlockingIOError:
                pass
        return busy / ((n // batch) * batch)

    def close():
        sender.close()
        drain.close()

    return one_rep, close
"""

PYGOBJECT_SERVER = (
    "import gi, json, sys, warnings\nwarnings.simplefilter('ignore')\n"
    "gi.require_version('Gio', '2.0')\nfrom gi.repository import Gio\n"
    + SEND_TO_LOOP
    + "\none_rep, close = make_send_to_rep(Gio)\nprint('ready', flush=True)\n"
    "for line in sys.stdin:\n    print(json.dumps(one_rep(int(line))), flush=True)\nclose()\n"
)


def gsocklab_send_to() -> tuple[Callable[[int], float], Callable[[], None]]:
    namespace: dict[str, Any] = {}
    exec(SEND_TO_LOOP, namespace)
    one_rep, close = namespace["make_send_to_rep"](Gio)
    return one_rep, close


class PyGObjectSendTo:
    """The send_to loop in a ``/usr/bin/python3`` subprocess with PyGObject, driven line by line."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [PYGOBJECT_PYTHON, "-c", PYGOBJECT_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._expect("ready")

    def _expect(self, what: str) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(WATCHDOG_S)
            err = self.proc.stderr.read() if self.proc.stderr else ""
            last = (err.strip().splitlines() or [f"exit status {self.proc.returncode}"])[-1]
            raise RuntimeError(f"PyGObject unavailable ({last})")
        if what and line.strip() != what:
            raise RuntimeError(f"unexpected reply from the PyGObject loop: {line!r}")
        return line

    def rep(self, n: int) -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{n}\n")
        self.proc.stdin.flush()
        seconds: float = json.loads(self._expect(""))
        return seconds

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(WATCHDOG_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --------------------------------------------------------------------------------------------
# (b) TCP stream: a writer thread sends `total` bytes in 64 KiB chunks, the main thread reads


def _run_writer(
    target: Callable[[], None], on_error: Callable[[], object]
) -> tuple[threading.Thread, list[BaseException]]:
    """Run ``target`` in a thread; if it fails, ``on_error`` unblocks the reader (EOF)."""
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            target()
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
            on_error()

    thread = threading.Thread(target=guarded, daemon=True)
    thread.start()
    return thread, errors


def tcp_stream_stdlib(total: int) -> float:
    """Seconds to move ``total`` bytes with ``sendall`` and ``recv_into``."""
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    for s in (client, server):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as gsocklab (GLib >= 2.80) does
    chunk = memoryview(b"\xab" * CHUNK)
    buf = bytearray(CHUNK)

    def write() -> None:
        for _ in range(total // CHUNK):
            client.sendall(chunk)

    try:
        t0 = time.perf_counter()
        thread, errors = _run_writer(write, lambda: client.shutdown(socket.SHUT_WR))
        got, recv_into = 0, server.recv_into
        deadline = time.monotonic() + WATCHDOG_S
        while got < total:
            n = recv_into(buf)
            if n == 0 or time.monotonic() > deadline:
                break
            got += n
        elapsed = time.perf_counter() - t0
        thread.join(WATCHDOG_S)
        if errors:
            raise errors[0]
        if got != total:
            raise RuntimeError(f"stdlib TCP stream stalled after {got} of {total} bytes")
        return elapsed
    finally:
        client.close()
        server.close()


def _gio_tcp_pair() -> tuple[Any, Any]:
    listener = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.STREAM, Gio.SocketProtocol.TCP)
    listener.set_timeout(10)
    listener.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), True)
    listener.listen()
    client = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.STREAM, Gio.SocketProtocol.TCP)
    client.set_timeout(10)
    client.connect(listener.get_local_address(), None)
    server = listener.accept(None)
    server.set_timeout(10)
    listener.close()
    return client, server


def tcp_stream_gsocklab(total: int) -> float:
    """Seconds to move ``total`` bytes with gsocklab ``send`` (short writes resent) and ``receive``."""
    client, server = _gio_tcp_pair()
    chunk = memoryview(b"\xab" * CHUNK)

    def write() -> None:
        send = client.send
        for _ in range(total // CHUNK):
            sent = send(chunk, None)
            while sent < CHUNK:  # send() returns after the first successful syscall
                sent += send(chunk[sent:], None)

    try:
        t0 = time.perf_counter()
        thread, errors = _run_writer(write, lambda: client.shutdown(False, True))
        got, receive, buf = 0, server.receive, bytearray(CHUNK)
        while got < total:
            n, _data = receive(None, CHUNK, buf)  # into a reused buffer, as recv_into
            if n == 0:
                break
            got += n
        elapsed = time.perf_counter() - t0
        thread.join(WATCHDOG_S)
        if errors:
            raise errors[0]
        if got != total:
            raise RuntimeError(f"gsocklab TCP stream ended after {got} of {total} bytes")
        return elapsed
    finally:
        client.close()
        server.close()


# (c) TCP stream against a stdlib peer in another process: one side of the transfer is ours,
# the other runs at C speed in its own interpreter, so the figure is this library's own cost
# and not the GIL hand-offs of two Python threads sharing one interpreter.

PEER = r"""
import socket, sys
mode, port, total, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.recv(1)  # "go"
if mode == "source":
    data = memoryview(b"\xab" * chunk)
    for _ in range(total // chunk):
        s.sendall(data)
    s.close()
else:
    buf, got = bytearray(chunk), 0
    while True:
        n = s.recv_into(buf)
        if not n:
            break
        got += n
    s.sendall(got.to_bytes(8, "little"))
    s.close()
"""


class _Peer:
    """A stdlib peer process connected to a fresh listener; ``accept()`` returns our end."""

    def __init__(self, mode: str, total: int) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        port = self.listener.getsockname()[1]
        self.proc = subprocess.Popen([sys.executable, "-c", PEER, mode, str(port), str(total), str(CHUNK)])

    def accept(self) -> socket.socket:
        self.listener.settimeout(WATCHDOG_S)
        conn, _ = self.listener.accept()
        self.listener.close()
        conn.settimeout(None)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def close(self) -> None:
        try:
            self.proc.wait(WATCHDOG_S)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def _ours(conn: socket.socket) -> Any:
    sock = Gio.Socket.new_from_fd(conn.detach())
    sock.set_timeout(int(WATCHDOG_S))
    return sock


def tcp_receive(total: int, library: str) -> float:
    """Seconds to receive ``total`` bytes from a stdlib peer process, into a reused buffer."""
    peer = _Peer("source", total)
    conn = peer.accept()
    try:
        buf, got = bytearray(CHUNK), 0
        if library == "gsocklab":
            sock = _ours(conn)
            receive = sock.receive
            sock.send(b"g")
            t0 = time.perf_counter()
            while True:
                n = receive(None, CHUNK, buf)[0]
                if not n:
                    break
                got += n
            elapsed = time.perf_counter() - t0
            sock.close()
        else:
            recv_into = conn.recv_into
            conn.sendall(b"g")
            t0 = time.perf_counter()
            while True:
                n = recv_into(buf)
                if not n:
                    break
                got += n
            elapsed = time.perf_counter() - t0
            conn.close()
    finally:
        peer.close()
    if got != total:
        raise RuntimeError(f"{library}: received {got} of {total} bytes")
    return elapsed


def tcp_send(total: int, library: str) -> float:
    """Seconds to send ``total`` bytes in 64 KiB chunks to a stdlib peer process (until it has them all)."""
    peer = _Peer("sink", total)
    conn = peer.accept()
    chunk = memoryview(b"\xab" * CHUNK)
    try:
        if library == "gsocklab":
            sock = _ours(conn)
            send = sock.send
            send(b"g")
            t0 = time.perf_counter()
            for _ in range(total // CHUNK):
                sent = send(chunk)
                while sent < CHUNK:  # send() returns after the first successful system call
                    sent += send(chunk[sent:])
            sock.shutdown(False, True)
            ack = sock.receive(None, 8)[1]
            elapsed = time.perf_counter() - t0
            sock.close()
        else:
            sendall = conn.sendall
            conn.sendall(b"g")
            t0 = time.perf_counter()
            for _ in range(total // CHUNK):
                sendall(chunk)
            conn.shutdown(socket.SHUT_WR)
            ack = conn.recv(8)
            elapsed = time.perf_counter() - t0
            conn.close()
    finally:
        peer.close()
    if int.from_bytes(ack, "little") != total:
        raise RuntimeError(f"{library}: peer got {int.from_bytes(ack, 'little')} of {total} bytes")
    return elapsed


# --------------------------------------------------------------------------------------------
# driver


@dataclass(frozen=True)
class Row:
    case: str
    unit: str
    ours: float
    ref_name: str
    ref: float | None
    ratio: float | None
    target: str
    passed: bool | None
    note: str = ""


def run(settings: Settings) -> list[Row]:
    rows: list[Row] = []

    n = settings.udp_round_trips
    ours_s, ref_s, ratio = alternate(
        settings.reps, lambda: udp_round_trips_gsocklab(n), lambda: udp_round_trips_stdlib(n)
    )
    rows.append(
        Row(
            "UDP 64 B send_to+receive_from",
            "round trips/s",
            n / ours_s,
            "stdlib",
            n / ref_s,
            ratio,
            ">= 0.80x",
            ratio >= 0.8,
        )
    )

    n = settings.send_to_count
    ours_rep, ours_close = gsocklab_send_to()
    try:
        if not os.path.exists(PYGOBJECT_PYTHON):
            raise RuntimeError(f"{PYGOBJECT_PYTHON} not found")
        pygobject = PyGObjectSendTo()
    except RuntimeError as exc:
        try:
            ours = 1 / statistics.median([ours_rep(n) for _ in range(settings.reps)])
        finally:
            ours_close()
        rows.append(Row("UDP 64 B send_to", "datagrams/s", ours, "PyGObject", None, None, "> 1.00x", None, str(exc)))
    else:
        try:
            ours_s, ref_s, ratio = alternate(settings.reps, lambda: ours_rep(n), lambda: pygobject.rep(n))
        finally:
            ours_close()
            pygobject.close()
        rows.append(
            Row("UDP 64 B send_to", "datagrams/s", 1 / ours_s, "PyGObject", 1 / ref_s, ratio, "> 1.00x", ratio > 1.0)
        )

    total = settings.tcp_bytes
    mb = total / 1e6
    for case, measure in (("TCP receive, 64 KiB, peer process", tcp_receive),
                          ("TCP send, 64 KiB, peer process", tcp_send)):
        ours_s, ref_s, ratio = alternate(
            settings.reps, lambda m=measure: m(total, "gsocklab"), lambda m=measure: m(total, "stdlib")
        )
        rows.append(Row(case, "MB/s", mb / ours_s, "stdlib", mb / ref_s, ratio, ">= 0.90x", ratio >= 0.9))
    ours_s, ref_s, ratio = alternate(
        settings.reps, lambda: tcp_stream_gsocklab(total), lambda: tcp_stream_stdlib(total)
    )
    rows.append(
        Row("TCP both ends, 2 threads", "MB/s", mb / ours_s, "stdlib", mb / ref_s, ratio, "(info)", None,
            "both ends in one interpreter: includes GIL hand-offs between the threads")
    )
    return rows


def render(rows: list[Row]) -> str:
    out = table(("case", "unit", "gsocklab", "reference", "paired ratio", "target", "result"), [
        (r.case, r.unit, f"{r.ours:,.0f}", "n/a" if r.ref is None else f"{r.ref:,.0f} ({r.ref_name})",
         ratio_text(r.ratio), r.target, result_text(r.passed, skipped=r.ratio is None)) for r in rows])
    out.append(
        "rates: median of each side; paired ratio: median over repetitions of gsocklab's speed "
        "relative to the reference measured right after it"
    )
    out += [f"note: {r.case}: {r.note}" for r in rows if r.note]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = options(__doc__, argv, "fewer, shorter repetitions (a few seconds)")
    settings = QUICK if args.quick else DEFAULT

    t0 = time.perf_counter()
    rows = run(settings)
    print(
        f"gsocklab core benchmark ({'quick' if args.quick else 'default'}: median of {settings.reps} "
        f"repetitions after warm-up)"
    )
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"PyGObject runs under {PYGOBJECT_PYTHON}"
    )
    print()
    print(render(rows))
    print(f"\ntotal time {time.perf_counter() - t0:.1f} s")
    failed = any(r.passed is False for r in rows)
    return 1 if (failed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
