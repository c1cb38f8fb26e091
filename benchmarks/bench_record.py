"""Recording benchmark: what a `gsocklab.record.Recorder` costs, measured in one run.

Run it with ``.venv/bin/python benchmarks/bench_record.py [--quick] [--strict]``.

=========================================================  ==========================================  =========
case                                                       compared with                               target
=========================================================  ==========================================  =========
UDP 64 B ``send_to`` + ``receive_from``, ``with rec:``     the same loop, no recorder                  >= 0.85x
``send_messages`` + ``receive_messages``, 1024, ``with``   the same loop, no recorder                  >= 0.80x
``to_dataframe()`` of 1,000,000 recorded events            ``pd.DataFrame(list of row dicts)``         >= 5x
                                                           ``.astype(TRAFFIC_SCHEMA)``
memory held per event, payloads apart (tracemalloc)        —                                           <= 150 B
=========================================================  ==========================================  =========

The socket cases alternate the two sides repetition by repetition and report the median of
the per-repetition ratios, as ``bench_core.py`` does; each recorded repetition gets a new
recorder. The frame case records 1,000,000 synthetic calls (``on_call`` invoked directly with
stand-in sockets: sends and receives on four sockets, 1 % WOULD_BLOCK errors, condition
waits, a setter now and then, 64-byte payloads), then
times ``to_dataframe()`` against building the same frame from the list of its rows as
dicts (``df.to_dict("records")``, made outside the clock). The memory case records
1,000,000 such calls without payloads under ``tracemalloc`` and divides what the recorder
still holds, once flushed, by the number of rows. ``on_call`` is also timed alone, for
information, and so is the same round-trip loop with a do-nothing observer (what the socket
hook costs by itself). This is not a pytest test: timing assertions would make the suite flaky.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import sys
import threading
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import pandas as pd  # type: ignore[import-untyped, unused-ignore]
from paired import alternate, alternate_many

from gsocklab import Gio, GLib, _observe
from gsocklab._enums import IOErrorEnum, SocketFamily, SocketType
from gsocklab._errors import new_io_error
from gsocklab.record import TRAFFIC_SCHEMA, Recorder

PAYLOAD = b"x" * 64
RECV_SIZE = 2048


@dataclass(frozen=True)
class Settings:
    reps: int
    round_trips: int
    batch_rounds: int
    frame_events: int
    memory_events: int


DEFAULT = Settings(reps=21, round_trips=10_000, batch_rounds=40, frame_events=1_000_000, memory_events=1_000_000)
QUICK = Settings(reps=5, round_trips=5_000, batch_rounds=10, frame_events=200_000, memory_events=200_000)


@dataclass
class Row:
    case: str
    ours: str
    ref: str
    ratio: float | None
    target: str
    passed: bool | None


# -- socket loops ------------------------------------------------------------------------------------


def _udp() -> Any:
    sock = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    sock.bind(Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4), 0), False)
    sock.set_timeout(5)
    return sock


class NullObserver:
    """An observer that does nothing: what the socket hook costs by itself."""

    def on_call(self, *args: Any) -> None:
        pass


def round_trips(n: int, recorded: bool | NullObserver | str) -> float:
    """Seconds for ``n`` send_to + receive_from round trips.

    ``recorded`` True: inside ``with Recorder() as rec:``, and the clock stops only after
    ``rec.flush()`` has stored every call, so all the recording work is counted;
    ``"staged"``: the same, but the clock stops before ``flush()``. A
    `NullObserver`: that observer added globally instead. ``"elsewhere"``: a recorder attached
    to another socket only; ``"after"``: the sockets were recorded by a ``with`` block that
    has ended. False: no recorder at all.
    """
    rec = Recorder() if recorded is True or recorded == "staged" else None
    null = recorded if isinstance(recorded, NullObserver) else None
    a, b = _udp(), _udp()
    other = _udp() if recorded == "elsewhere" else None
    bystander = Recorder() if other is not None else None
    try:
        if recorded == "after":
            with Recorder():
                a.send_to(b.get_local_address(), PAYLOAD, None)
                b.receive_from(None, RECV_SIZE)
        if bystander is not None:
            bystander.attach(other)
        if null is not None:
            _observe.add_global(null)
        if rec is not None:
            rec.__enter__()
        dest = b.get_local_address()
        send_to, receive_from = a.send_to, b.receive_from  # bound after `with`: the observed methods
        t0 = time.perf_counter()
        for _ in range(n):
            send_to(dest, PAYLOAD, None)
            receive_from(None, RECV_SIZE)
        if recorded is True:
            rec.flush()  # type: ignore[union-attr]
        return time.perf_counter() - t0
    finally:
        if rec is not None:
            rec.__exit__(None, None, None)
            assert len(rec) == 2 * n, "every call must have been recorded"
        if null is not None:
            _observe.remove_global(null)
        if bystander is not None and other is not None:
            bystander.detach(other)
            other.close()
        a.close()
        b.close()


def batch_rounds(rounds: int, recorded: bool, size: int = 1024) -> float:
    """Seconds for ``rounds`` of send_messages(size) + receive_messages(size).

    Recorded: inside ``with Recorder() as rec:``, the clock stopping after ``rec.flush()``.
    """
    import socket

    rec = Recorder() if recorded else None
    a, b = _udp(), _udp()
    b.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    b.set_blocking(False)
    outbox = [Gio.OutputMessage(address=b.get_local_address(), vectors=[PAYLOAD]) for _ in range(size)]
    inbox = [Gio.InputMessage(vectors=[Gio.InputVector(size=RECV_SIZE)]) for _ in range(size)]
    a.send_messages(outbox, 0)  # lay out the native headers outside the clock
    b.receive_messages(inbox, 0)
    try:
        if rec is not None:
            rec.__enter__()
        t0 = time.perf_counter()
        for _ in range(rounds):
            sent = a.send_messages(outbox, 0)
            got = 0
            while got < sent:
                got += b.receive_messages(inbox[: sent - got], 0)
        if rec is not None:
            rec.flush()
        return time.perf_counter() - t0
    finally:
        if rec is not None:
            rec.__exit__(None, None, None)
        a.close()
        b.close()


# -- synthetic recordings ----------------------------------------------------------------------------


class StandIn:
    """What ``on_call`` reads of a socket, without a socket."""

    def __init__(self, label: str, port: int) -> None:
        self.label = label
        self._blocking = True
        self._timeout = 0
        self._local = f"127.0.0.1:{port}"

    def get_family(self) -> SocketFamily:
        return SocketFamily.IPV4

    def get_socket_type(self) -> SocketType:
        return SocketType.DATAGRAM

    def _local_text(self) -> str:
        return self._local


def record_synthetic(rec: Recorder, n: int, payload: bytes | None) -> None:
    """``n`` calls on four stand-in sockets: a realistic mix of ops, errors and extras."""
    socks = [StandIn(f"udp4#{i}", 5000 + i) for i in range(4)]
    peers = [Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4), 5000 + i)
             for i in range(4)]
    would_block = new_io_error(IOErrorEnum.WOULD_BLOCK, "Resource temporarily unavailable")
    on_call = rec.on_call
    t = time.monotonic_ns()
    for i in range(n):
        k = i & 3
        t += 1000
        if i % 100 == 99:
            on_call(socks[k], "receive_from", t, 800, 0, None, None, None, would_block, None)
        elif i % 250 == 7:
            on_call(socks[k], "condition_timed_wait", t, 5000, 4000, None, None, None, None,
                    {"condition": 1, "timeout": 0.5, "ready": 1})
        elif i % 5000 == 11:
            on_call(socks[k], "set_multicast_ttl", t, 300, 0, None, None, None, None, {"value": 2})
        elif i & 1:
            on_call(socks[k], "receive_from", t, 1200, 0, 64, peers[k ^ 1], payload, None, None)
        else:
            on_call(socks[k], "send_to", t, 1500, 0, 64, peers[k ^ 1], payload, None, None)
        if i % 65536 == 65535:
            rec.flush()  # what the flush thread does while a `with rec:` block runs
    rec.flush()


def frame_speed(n: int) -> Row:
    rec = Recorder()
    record_synthetic(rec, n, PAYLOAD)
    df = rec.to_dataframe()  # warm-up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        df = rec.to_dataframe()
        times.append(time.perf_counter() - t0)
    ours = min(times)
    records = df.to_dict("records")
    columns = list(TRAFFIC_SCHEMA)
    t0 = time.perf_counter()
    ref_df = pd.DataFrame(records, columns=columns).astype(TRAFFIC_SCHEMA)
    ref = time.perf_counter() - t0
    assert list(ref_df.dtypes) == list(df.dtypes), "the reference must build the same frame"
    ratio = ref / ours
    return Row(f"to_dataframe(), {n:,} events", f"{ours:.3f} s", f"{ref:.3f} s (list of dicts)", ratio, ">= 5x",
               ratio >= 5)


def memory_per_event(n: int) -> Row:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        rec = Recorder(capture_bytes=0)
        record_synthetic(rec, n, None)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    rows = len(rec)
    per = held / rows
    return Row(f"memory per event, {rows:,} events", f"{per:.1f} B", f"{held / 1e6:.1f} MB held", None, "<= 150 B",
               per <= 150)


def on_call_cost(n: int = 200_000) -> Row:
    """ns per ``on_call`` of a plain send (staging only, compaction timed apart)."""
    rec = Recorder()
    sock = StandIn("udp4#1", 5000)
    peer = Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(Gio.SocketFamily.IPV4), 5001)
    on_call = rec.on_call
    best_call = best_store = math.inf
    for _ in range(5):
        t0 = time.perf_counter_ns()
        for i in range(n):
            on_call(sock, "send_to", i, 1000, 0, 64, peer, PAYLOAD, None, None)
        t1 = time.perf_counter_ns()
        rec.flush()
        t2 = time.perf_counter_ns()
        best_call, best_store = min(best_call, (t1 - t0) / n), min(best_store, (t2 - t1) / n)
        rec.clear()
    return Row("on_call (send_to), staging + storing", f"{best_call:.0f} + {best_store:.0f} ns", "(loop included)",
               None, "(info)", None)


def run(settings: Settings) -> list[Row]:
    rows: list[Row] = []
    n = settings.round_trips
    null = NullObserver()
    cases: list[tuple[str, bool | NullObserver | str, str, float | None]] = [
        ("UDP 64 B send_to+receive_from, with rec:", True, ">= 0.85x", 0.85),
        ("  the same, a do-nothing observer instead", null, "(info: the hook alone)", None),
        ("  the same, no recorder (one records another socket)", "elsewhere", ">= 0.97x", 0.97),
        ("  the same, no recorder (after a with block ended)", "after", ">= 0.97x", 0.97),
    ]
    plain, others = alternate_many(settings.reps, lambda: round_trips(n, False),
                                   [lambda mode=mode: round_trips(n, mode) for _, mode, _, _ in cases])
    for (case, _, target, floor), (seconds, inverse) in zip(cases, others, strict=True):
        ratio = 1 / inverse  # alternate_many's ratio is case/plain; the median of an odd count inverts
        rows.append(Row(case, f"{n / seconds:,.0f} rt/s", f"{n / plain:,.0f} rt/s", ratio, target,
                        None if floor is None else ratio >= floor))
    r = settings.batch_rounds
    ours, ref, ratio = alternate(settings.reps, lambda: batch_rounds(r, True), lambda: batch_rounds(r, False))
    rows.append(Row("send_messages+receive_messages x1024, with rec:", f"{r * 1024 / ours:,.0f} msg/s",
                    f"{r * 1024 / ref:,.0f} msg/s", ratio, ">= 0.80x", ratio >= 0.8))
    rows.append(frame_speed(settings.frame_events))
    rows.append(memory_per_event(settings.memory_events))
    rows.append(on_call_cost())
    return rows


def render(rows: list[Row]) -> str:
    header = ("case", "recorded / ours", "reference", "ratio", "target", "result")
    lines = [header]
    for r in rows:
        ratio = "" if r.ratio is None else f"{math.floor(r.ratio * 1000) / 1000:.3f}x"
        result = "INFO" if r.passed is None else ("PASS" if r.passed else "FAIL")
        lines.append((r.case, r.ours, r.ref, ratio, r.target, result))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repetitions")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 if any case fails its target")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else DEFAULT
    t0 = time.perf_counter()
    rows = run(settings)
    print(f"gsocklab recording benchmark ({'quick' if args.quick else 'default'}: median of {settings.reps} "
          f"paired repetitions after warm-up)")
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"pandas {pd.__version__}, {threading.active_count()} thread(s)")
    print()
    print(render(rows))
    print(f"\ntotal time {time.perf_counter() - t0:.1f} s")
    return 1 if (args.strict and any(r.passed is False for r in rows)) else 0


if __name__ == "__main__":
    _ = GLib  # imported so that the benchmark fails early if the package is broken
    sys.exit(main())
