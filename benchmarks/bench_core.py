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

Each case is warmed up, then repeated; the reported figure is the median repetition.
gsocklab and its reference alternate repetition by repetition, so drift in machine load
hits both sides alike. The PyGObject loop runs in a ``/usr/bin/python3`` subprocess (the
interpreter that has ``gi``); it executes the very same source text as the gsocklab loop.
Everything stays on 127.0.0.1. This is not a pytest test: timing assertions would make the
suite flaky on a loaded CI machine.
"""

from __future__ import annotations

import argparse
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


DEFAULT = Settings(reps=7, udp_round_trips=20_000, send_to_count=60_000, tcp_bytes=256 * 1024 * 1024)
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
# subprocess. Only send_to calls are timed; a stdlib receiver is drained between batches.

SEND_TO_LOOP = """
def send_to_rates(Gio, count, reps, batch=64):
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
        return (n // batch) * batch / busy

    one_rep(count // 4)  # warm-up
    rates = [one_rep(count) for _ in range(reps)]
    sender.close()
    drain.close()
    return rates
"""


def send_to_rates_gsocklab(count: int, reps: int) -> list[float]:
    namespace: dict[str, Any] = {}
    exec(SEND_TO_LOOP, namespace)
    rates: list[float] = namespace["send_to_rates"](Gio, count, reps)
    return rates


def send_to_rates_pygobject(count: int, reps: int) -> list[float] | str:
    """Rates measured by PyGObject in a subprocess, or the reason they could not be measured."""
    if not os.path.exists(PYGOBJECT_PYTHON):
        return f"{PYGOBJECT_PYTHON} not found"
    script = (
        "import gi, json, warnings\nwarnings.simplefilter('ignore')\n"
        "gi.require_version('Gio', '2.0')\nfrom gi.repository import Gio\n"
        + SEND_TO_LOOP
        + f"\nprint(json.dumps(send_to_rates(Gio, {count}, {reps})))\n"
    )
    try:
        proc = subprocess.run(
            [PYGOBJECT_PYTHON, "-c", script], capture_output=True, text=True, timeout=WATCHDOG_S, check=False
        )
    except subprocess.TimeoutExpired:
        return "PyGObject loop timed out"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"PyGObject unavailable ({last})"
    rates: list[float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return rates


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
        got, receive = 0, server.receive
        while got < total:
            n, _data = receive(None, CHUNK)
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


# --------------------------------------------------------------------------------------------
# driver


@dataclass(frozen=True)
class Row:
    case: str
    unit: str
    ours: float
    ref_name: str
    ref: float | None
    target: str
    passed: bool | None
    note: str = ""


def alternate(reps: int, ours: Callable[[], float], ref: Callable[[], float]) -> tuple[float, float]:
    """Median of ``reps`` alternating runs of each (after one warm-up of each)."""
    ours()
    ref()
    a: list[float] = []
    b: list[float] = []
    for _ in range(reps):
        a.append(ours())
        b.append(ref())
    return statistics.median(a), statistics.median(b)


def run(settings: Settings) -> list[Row]:
    rows: list[Row] = []

    n = settings.udp_round_trips
    ours_s, ref_s = alternate(settings.reps, lambda: udp_round_trips_gsocklab(n), lambda: udp_round_trips_stdlib(n))
    ours, ref = n / ours_s, n / ref_s
    rows.append(
        Row(
            "UDP 64 B send_to+receive_from",
            "round trips/s",
            ours,
            "stdlib",
            ref,
            ">= 0.80x",
            ours / ref >= 0.8,
        )
    )

    ours_rates = send_to_rates_gsocklab(settings.send_to_count, settings.reps)
    pg = send_to_rates_pygobject(settings.send_to_count, settings.reps)
    ours = statistics.median(ours_rates)
    if isinstance(pg, str):
        rows.append(Row("UDP 64 B send_to", "datagrams/s", ours, "PyGObject", None, "> 1.00x", None, pg))
    else:
        ref = statistics.median(pg)
        rows.append(Row("UDP 64 B send_to", "datagrams/s", ours, "PyGObject", ref, "> 1.00x", ours / ref > 1.0))

    total = settings.tcp_bytes
    ours_s, ref_s = alternate(settings.reps, lambda: tcp_stream_gsocklab(total), lambda: tcp_stream_stdlib(total))
    mb = total / 1e6
    ours, ref = mb / ours_s, mb / ref_s
    rows.append(Row("TCP stream, 64 KiB chunks", "MB/s", ours, "stdlib", ref, ">= 0.90x", ours / ref >= 0.9))
    return rows


def render(rows: list[Row]) -> str:
    header = ("case", "unit", "gsocklab", "reference", "ratio", "target", "result")
    lines = [header]
    for r in rows:
        ref = "n/a" if r.ref is None else f"{r.ref:,.0f} ({r.ref_name})"
        ratio = "n/a" if r.ref is None else f"{r.ours / r.ref:.2f}x"
        result = "SKIP" if r.passed is None else ("PASS" if r.passed else "FAIL")
        lines.append((r.case, r.unit, f"{r.ours:,.0f}", ref, ratio, r.target, result))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    out += [f"note: {r.case}: {r.note}" for r in rows if r.note]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repetitions (a few seconds)")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 if any case fails its target")
    args = parser.parse_args(argv)
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
