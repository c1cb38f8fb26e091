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

import functools
import gc
import math
import os
import platform
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import pandas as pd  # type: ignore[import-untyped, unused-ignore]
from paired import alternate_many, options, ratio_text, result_text, table

from gsocklab import Gio, GLib
from gsocklab.core import _observe
from gsocklab.core._enums import IOErrorEnum, SocketFamily, SocketType
from gsocklab.core._errors import new_io_error
from gsocklab.record import TRAFFIC_SCHEMA, Recorder

PAYLOAD = b"x" * 64
RECV_SIZE = 2048


@dataclass(frozen=True)
class Settings:
    reps: int          # paired repetitions (odd: the median of the ratios is one of them)
    round_trips: int   # per repetition
    batch_rounds: int  # per repetition, 1024 datagrams each
    frame_events: int
    memory_events: int


DEFAULT = Settings(reps=21, round_trips=10_000, batch_rounds=20, frame_events=1_000_000, memory_events=1_000_000)
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


class UdpPair:
    """Two UDP sockets on loopback: one sends 64 B datagrams, the other receives them."""

    def __init__(self) -> None:
        self.a, self.b = _udp(), _udp()
        self.dest = self.b.get_local_address()

    def round_trips(self, n: int) -> float:
        """Seconds for ``n`` send_to + receive_from."""
        send_to, receive_from, dest = self.a.send_to, self.b.receive_from, self.dest  # bound now: observed or not
        t0 = time.perf_counter()
        for _ in range(n):
            send_to(dest, PAYLOAD, None)
            receive_from(None, RECV_SIZE)
        return time.perf_counter() - t0

    def close(self) -> None:
        self.a.close()
        self.b.close()


class BatchPair(UdpPair):
    """The same pair, moving ``size`` datagrams per ``send_messages``/``receive_messages`` call."""

    def __init__(self, size: int = 1024) -> None:
        import socket

        super().__init__()
        self.b.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.b.set_blocking(False)
        self.outbox = [Gio.OutputMessage(address=self.dest, vectors=[PAYLOAD]) for _ in range(size)]
        self.inbox = [Gio.InputMessage(vectors=[Gio.InputVector(size=RECV_SIZE)]) for _ in range(size)]
        self.rounds(1)  # lay out the native headers outside the clock

    def rounds(self, n: int) -> float:
        """Seconds for ``n`` rounds of send_messages + receive_messages (until all arrived)."""
        a, b, outbox, inbox = self.a, self.b, self.outbox, self.inbox
        t0 = time.perf_counter()
        for _ in range(n):
            sent = a.send_messages(outbox, 0)
            got = 0
            while got < sent:
                got += b.receive_messages(inbox[: sent - got], 0)
        return time.perf_counter() - t0


def repetition(pair_type: type[UdpPair], work: Callable[[UdpPair], float], mode: object) -> float:
    """Seconds of ``work`` on a new pair: ``mode`` says how it is recorded.

    ``"staged"``: inside ``with Recorder() as rec:`` (the clock stops at the end of the
    loop; the recorder stores the calls when the block is left); ``"stored"``: the same, but
    the clock stops only after ``rec.flush()`` has stored every call; a `NullObserver`: that
    observer on every socket instead; ``"elsewhere"``: no recorder on the pair, one recording
    another socket; ``"after"``: the pair was recorded by a ``with`` block that has ended;
    None: no recorder at all.
    """
    pair = pair_type()
    other = _udp()
    try:
        if mode == "after":
            with Recorder():
                work(pair)
        if mode == "elsewhere":
            bystander = Recorder()
            bystander.attach(other)
        if isinstance(mode, NullObserver):
            _observe.add_global(mode)
            try:
                return work(pair)
            finally:
                _observe.remove_global(mode)
        if mode in ("staged", "stored"):
            with Recorder() as rec:
                seconds = work(pair)
                if mode == "stored":
                    t0 = time.perf_counter()
                    rec.flush()
                    seconds += time.perf_counter() - t0
            assert len(rec) >= 2, "the calls must have been recorded"
            return seconds
        return work(pair)
    finally:
        if mode == "elsewhere":
            bystander.detach(other)
        other.close()
        pair.close()


Case = tuple[str, object, str, "float | None"]  # row label, repetition mode, target text, floor


def paired_rows(reps: int, pair_type: type[UdpPair], work: Callable[[UdpPair], float], count: int, unit: str,
                cases: list[Case]) -> list[Row]:
    """One row per case: the loop recorded that way against the same loop with no recorder.

    Each case is paired with its own runs of the plain loop, so that the two sides of every
    ratio ran next to each other in time.
    """
    rows = []
    for case, mode, target, floor in cases:
        recorded, plain_loop = (functools.partial(repetition, pair_type, work, m) for m in (mode, None))
        seconds, [(plain, ratio)] = alternate_many(reps, recorded, [plain_loop])
        rows.append(Row(case, f"{count / seconds:,.0f} {unit}", f"{count / plain:,.0f} {unit}", ratio, target,
                        None if floor is None else ratio >= floor))
    return rows


def socket_rows(settings: Settings) -> list[Row]:
    """The recorded socket loops against the same loops unrecorded, repetition by repetition."""
    n, r = settings.round_trips, settings.batch_rounds

    def trips(pair: UdpPair) -> float:
        return pair.round_trips(n)

    def rounds(pair: UdpPair) -> float:
        return pair.rounds(r)  # type: ignore[attr-defined, no-any-return]

    return paired_rows(settings.reps, UdpPair, trips, n, "rt/s", [
        ("UDP 64 B send_to+receive_from, with rec:", "staged", ">= 0.85x", 0.85),
        ("  the same, storing the calls included", "stored", "(info)", None),
        ("  the same, a do-nothing observer instead", NullObserver(), "(info: the hook alone)", None),
        ("  the same, no recorder (one records another socket)", "elsewhere", ">= 0.97x", 0.97),
        ("  the same, no recorder (after a with block ended)", "after", ">= 0.97x", 0.97),
    ]) + paired_rows(settings.reps, BatchPair, rounds, r * 1024, "msg/s", [
        ("send_messages+receive_messages x1024, with rec:", "staged", ">= 0.80x", 0.8),
        ("  the same, storing the calls included", "stored", "(info)", None),
    ])


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
    t = time.monotonic()
    for i in range(n):
        k = i & 3
        t += 1e-6
        if i % 100 == 99:
            on_call(socks[k], "receive_from", t, 8e-7, 0.0, None, None, None, would_block, None)
        elif i % 250 == 7:
            on_call(socks[k], "condition_timed_wait", t, 5e-6, 4e-6, None, None, None, None,
                    {"condition": 1, "timeout": 0.5, "ready": 1})
        elif i % 5000 == 11:
            on_call(socks[k], "set_multicast_ttl", t, 3e-7, 0.0, None, None, None, None, {"value": 2})
        elif i & 1:
            on_call(socks[k], "receive_from", t, 1.2e-6, 0.0, 64, peers[k ^ 1], payload, None, None)
        else:
            on_call(socks[k], "send_to", t, 1.5e-6, 0.0, 64, peers[k ^ 1], payload, None, None)
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
            on_call(sock, "send_to", i * 1e-6, 1e-6, 0.0, 64, peer, PAYLOAD, None, None)
        t1 = time.perf_counter_ns()
        rec.flush()
        t2 = time.perf_counter_ns()
        best_call, best_store = min(best_call, (t1 - t0) / n), min(best_store, (t2 - t1) / n)
        rec.clear()
    return Row("on_call (send_to), staging + storing", f"{best_call:.0f} + {best_store:.0f} ns", "(loop included)",
               None, "(info)", None)


def run(settings: Settings) -> list[Row]:
    rows = socket_rows(settings)
    rows.append(frame_speed(settings.frame_events))
    rows.append(memory_per_event(settings.memory_events))
    rows.append(on_call_cost())
    return rows


def render(rows: list[Row]) -> str:
    return "\n".join(table(("case", "recorded / ours", "reference", "ratio", "target", "result"), [
        (r.case, r.ours, r.ref, ratio_text(r.ratio, missing=""), r.target, result_text(r.passed)) for r in rows]))


def main(argv: list[str] | None = None) -> int:
    args = options(__doc__, argv, "fewer, shorter repetitions")
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
