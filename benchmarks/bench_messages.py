"""Batched-message benchmark: gsocklab's ``send_messages``/``receive_messages`` against C and the stdlib.

Run it with ``.venv/bin/python benchmarks/bench_messages.py [--quick] [--strict]``. It
compiles ``benchmarks/mmsg_baseline.c`` with ``gcc -O2`` into a temporary directory, then
measures UDP on 127.0.0.1, 64-byte datagrams, for batches of 1, 16, 64 and 1024 messages.
The rows that carry targets (issue 9) send what a real program sends: **new message lists
with new data every batch**.

===============================================  ===============================================  =========
case                                             compared with                                    target
===============================================  ===============================================  =========
round, new lists (built before the clock)        C ``sendmmsg`` + ``recvmmsg``                    >= 0.80x
the same round                                   stdlib ``sendto`` + ``recvfrom``, per datagram   >= 1.40x
round, new lists built in the clock              C ``sendmmsg`` + ``recvmmsg``                    >= 0.65x
round, new lists, datagrams of 48 to 80 bytes    the same with 64-byte datagrams                  >= 0.90x
===============================================  ===============================================  =========

The C targets apply to batches of 1024, the stdlib target to batches of 64 and more; the
other batch sizes, and the rows that reuse one list (send alone, receive alone, a round),
are shown for information only: a reused list is not what a program sends.

What is timed:

* **round**: A sends one batch to B with ``send_messages``, B receives it with
  ``receive_messages`` (``InputVector(size=2048)`` rooms), repeated; all of it timed. "New
  lists" gives every round its own ``OutputMessage``/``InputMessage`` lists over new
  ``bytes`` (built before the clock starts, or inside it for the "built in the clock" row).
  The C program builds its header arrays once, outside its clock (see its header); the
  stdlib reference does the work one datagram per call (``sendto`` the batch, then
  ``recvfrom`` it).
* **send** (information): socket A sends 8192 datagrams to B in calls of one batch each,
  one reused list (timed), then B's queue is emptied again (untimed), and so on.
* **receive** (information): A queues 8192 datagrams on B (untimed), then B takes them in
  calls of one batch each into one reused list (timed).

Every socket is non-blocking, as gsocklab's OS sockets always are, and has ``SO_RCVBUF`` set
to 8 MiB; 8192 queued 64-byte datagrams fit in that with room to spare, and a shortfall is an
error, never a silent loss. gsocklab and each reference alternate repetition by repetition,
and the ratio is the median of the per-repetition ratios (``alternate()``, as in
``bench_core.py``). This is not a pytest test: timing assertions would make the suite flaky.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from paired import alternate_many as alternate
from paired import options, ratio_text, result_text, table

from gsocklab import Gio

C_SOURCE = Path(__file__).with_name("mmsg_baseline.c")
PAYLOAD = b"x" * 64
RECV_SIZE = 2048  # room per received datagram, for gsocklab, C and the stdlib alike
RCVBUF = 8 << 20
FILL = 8192  # datagrams queued at once: a multiple of every batch size, well inside RCVBUF
BATCHES = (1, 16, 64, 1024)
TARGET_BATCH = 1024
WATCHDOG_S = 60.0  # no C run may hang the benchmark


@dataclass(frozen=True)
class Settings:
    reps: int
    send_count: int  # datagrams per repetition; multiples of FILL
    recv_count: int
    round_count: int  # a multiple of every batch size


DEFAULT = Settings(reps=7, send_count=2 * FILL, recv_count=4 * FILL, round_count=16_384)
QUICK = Settings(reps=3, send_count=FILL, recv_count=FILL, round_count=4096)


def check_receive_buffer() -> str | None:
    """Why the kernel cannot queue FILL datagrams on one socket, or ``None`` if it can."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        granted = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)  # Linux doubles the request
    if granted >= RCVBUF:
        return None
    return (
        f"the kernel grants SO_RCVBUF {granted} bytes, and queueing {FILL} datagrams needs {RCVBUF}; "
        f"raise the cap with: sysctl -w net.core.rmem_max={RCVBUF // 2}"
    )


# --------------------------------------------------------------------------------------------
# gsocklab


def _gio_udp_socket() -> Any:
    sock = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    sock.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    sock.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    sock.set_blocking(False)  # everything is queued before it is received: a shortfall raises
    return sock


def _output_messages(dest: Any, n: int) -> list[Any]:
    return [Gio.OutputMessage(address=dest, vectors=[Gio.OutputVector(buffer=PAYLOAD)]) for _ in range(n)]


def _input_messages(n: int) -> list[Any]:
    return [Gio.InputMessage(vectors=[Gio.InputVector(size=RECV_SIZE)]) for _ in range(n)]


def _check(message: Any, source: Any) -> None:
    """The last message received carries the payload and the sender's address."""
    if message.payload != PAYLOAD or message.address.get_port() != source.get_port():
        raise RuntimeError(f"wrong datagram: {message.payload!r} from {message.address}")


def send_gsocklab(batch: int, count: int) -> float:
    """Seconds spent in ``send_messages`` sending ``count`` datagrams, ``batch`` per call."""
    a, b = _gio_udp_socket(), _gio_udp_socket()
    try:
        out, drain = _output_messages(b.get_local_address(), batch), _input_messages(1024)
        send, receive, clock = a.send_messages, b.receive_messages, time.perf_counter
        send(out, 0)  # untimed: builds the native batch, as the C side builds its headers
        receive(drain, 0)
        busy, calls = 0.0, FILL // batch
        for _ in range(count // FILL):
            t0 = clock()
            for _ in range(calls):
                if send(out, 0) != batch:
                    raise RuntimeError("short send_messages")
            busy += clock() - t0
            got = 0
            while got < FILL:  # untimed; raises WOULD_BLOCK if anything was lost
                got += receive(drain, 0)
        _check(drain[0], a.get_local_address())
        return busy
    finally:
        a.close()
        b.close()


def receive_gsocklab(batch: int, count: int) -> float:
    """Seconds spent in ``receive_messages`` taking ``count`` queued datagrams, ``batch`` per call."""
    a, b = _gio_udp_socket(), _gio_udp_socket()
    try:
        fill, inp = _output_messages(b.get_local_address(), 1024), _input_messages(batch)
        send, receive, clock = a.send_messages, b.receive_messages, time.perf_counter
        send(fill[:batch], 0)  # untimed: builds the native batch, as the C side builds its headers
        receive(inp, 0)
        busy, calls = 0.0, FILL // batch
        for _ in range(count // FILL):
            for _ in range(FILL // 1024):  # untimed
                if send(fill, 0) != 1024:
                    raise RuntimeError("short send_messages while filling")
            t0 = clock()
            for _ in range(calls):
                if receive(inp, 0) != batch:
                    raise RuntimeError("short receive_messages: a datagram was lost")
            busy += clock() - t0
        _check(inp[-1], a.get_local_address())
        return busy
    finally:
        a.close()
        b.close()


def _payloads(count: int, variable: bool) -> list[bytes]:
    """``count`` new ``bytes`` objects of 64 bytes (or 48 to 80, 64 on average, if ``variable``)."""
    data = os.urandom(80 * count)
    if not variable:
        return [data[i * 64:(i + 1) * 64] for i in range(count)]
    sizes = [48 + (i * 7919) % 33 for i in range(count)]
    return [data[i * 80:i * 80 + size] for i, size in enumerate(sizes)]


def round_gsocklab(batch: int, count: int, lists: str = "reused") -> float:
    """Seconds for ``count`` datagrams: ``send_messages`` of a batch, then ``receive_messages`` of it.

    ``lists``: ``reused`` sends and receives the same two lists every round; ``new`` gives
    every round new message lists with new data, built before the clock starts (what a real
    program sends); ``build`` builds them inside the clock, as a program does;
    ``variable`` is ``new`` with datagrams of 48 to 80 bytes.
    """
    a, b = _gio_udp_socket(), _gio_udp_socket()
    try:
        dest = b.get_local_address()
        rounds = count // batch
        payloads = _payloads(count + batch, variable=lists == "variable")

        def outbox(i: int) -> list[Any]:
            return [Gio.OutputMessage(address=dest, vectors=[Gio.OutputVector(buffer=data)])
                    for data in payloads[i * batch:(i + 1) * batch]]

        send, receive = a.send_messages, b.receive_messages
        send(outbox(rounds), 0)  # untimed warm-up, with a list of its own
        receive(_input_messages(batch), 0)
        if lists == "build":
            t0 = time.perf_counter()
            for i in range(rounds):
                inp = [Gio.InputMessage(vectors=[Gio.InputVector(size=RECV_SIZE)]) for _ in range(batch)]
                if send(outbox(i), 0) != batch or receive(inp, 0) != batch:
                    raise RuntimeError("short send_messages or receive_messages")
            elapsed = time.perf_counter() - t0
        else:
            if lists == "reused":
                outs, inps = [outbox(0)] * rounds, [_input_messages(batch)] * rounds
            else:
                outs, inps = [outbox(i) for i in range(rounds)], [_input_messages(batch) for _ in range(rounds)]
            t0 = time.perf_counter()
            for out, inp in zip(outs, inps):
                if send(out, 0) != batch or receive(inp, 0) != batch:
                    raise RuntimeError("short send_messages or receive_messages")
            elapsed = time.perf_counter() - t0
        last = payloads[(rounds - 1) * batch + batch - 1] if lists != "reused" else payloads[batch - 1]
        if inp[-1].payload != last or inp[-1].address.get_port() != a.get_local_address().get_port():
            raise RuntimeError(f"wrong datagram: {inp[-1].payload!r} from {inp[-1].address}")
        return elapsed
    finally:
        a.close()
        b.close()


# --------------------------------------------------------------------------------------------
# the stdlib, one datagram per call


def round_stdlib(batch: int, count: int) -> float:
    """Seconds for ``count`` datagrams: ``sendto`` each of a batch, then ``recvfrom`` each."""
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for s in (a, b):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)  # the plain system calls, no poll(); a lost datagram raises
        dest = b.getsockname()
        sendto, recvfrom = a.sendto, b.recvfrom
        t0 = time.perf_counter()
        for _ in range(count // batch):
            for _ in range(batch):
                sendto(PAYLOAD, dest)
            for _ in range(batch):
                data, source = recvfrom(RECV_SIZE)
        elapsed = time.perf_counter() - t0
        if data != PAYLOAD or source != a.getsockname():
            raise RuntimeError(f"wrong datagram: {data!r} from {source}")
        return elapsed
    finally:
        a.close()
        b.close()


# --------------------------------------------------------------------------------------------
# C


class CBaseline:
    """``mmsg_baseline.c``, compiled into ``directory``; each run reports its own timed seconds."""

    def __init__(self, directory: Path) -> None:
        gcc = shutil.which("gcc")
        if gcc is None:
            raise RuntimeError("gcc not found")
        self.binary = directory / "mmsg_baseline"
        done = subprocess.run(
            [gcc, "-O2", "-Wall", "-o", str(self.binary), str(C_SOURCE)], capture_output=True, text=True, check=False
        )
        if done.returncode:
            raise RuntimeError(f"gcc failed: {done.stderr.strip()}")

    def run(self, mode: str, batch: int, count: int) -> float:
        args = [str(self.binary), mode, str(batch), str(count)] + ([str(FILL)] if mode != "round" else [])
        done = subprocess.run(args, capture_output=True, text=True, timeout=WATCHDOG_S, check=False)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[1:])}: exit status {done.returncode}: {done.stderr.strip()}")
        result = json.loads(done.stdout)
        if result["datagrams"] != count:
            raise RuntimeError(f"{' '.join(args[1:])}: moved {result['datagrams']} of {count} datagrams")
        seconds: float = result["seconds"]
        return seconds


# --------------------------------------------------------------------------------------------
# driver


@dataclass(frozen=True)
class Row:
    case: str
    batch: int
    ours: float
    ref_name: str
    ref: float | None
    ratio: float | None
    target: str
    passed: bool | None
    note: str = ""


# (case, C mode, gsocklab, count, target against C or None: information only)
CASES: tuple[tuple[str, str, Callable[[int, int], float], str, float | None], ...] = (
    ("send_messages, reused list", "send", send_gsocklab, "send_count", None),
    ("receive_messages, reused list", "recv", receive_gsocklab, "recv_count", None),
    ("round, new lists", "round", lambda b, n: round_gsocklab(b, n, "new"), "round_count", 0.80),
    ("round, new lists built in the clock", "round", lambda b, n: round_gsocklab(b, n, "build"), "round_count",
     0.65),
    ("round, new lists, 48-80 B", "round", lambda b, n: round_gsocklab(b, n, "variable"), "round_count", None),
    ("round, reused lists", "round", round_gsocklab, "round_count", None),
)
STDLIB_ROUND_TARGET = 1.40  # the new-lists round against one sendto/recvfrom per datagram, from batch 64 on
STDLIB_FROM_BATCH = 64
VARIABLE_TARGET = 0.90  # variable-size datagrams against fixed-size ones (both new lists)


def _row(case: str, batch: int, ours: float, ref_name: str, ref: float | None, ratio: float | None,
         minimum: float | None, note: str = "") -> Row:
    stdlib_target = ref_name == "stdlib" and minimum is not None and batch >= STDLIB_FROM_BATCH
    if minimum is None or (batch != TARGET_BATCH and not stdlib_target):
        return Row(case, batch, ours, ref_name, ref, ratio, "(info)", None, note)
    passed = None if ratio is None else ratio >= minimum
    return Row(case, batch, ours, ref_name, ref, ratio, f">= {minimum:.2f}x", passed, note)


def _measure(settings: Settings, case: str, mode: str, ours_fn: Callable[[int, int], float], n: int,
             minimum: float | None, batch: int, c: CBaseline | None, c_error: str) -> list[Row]:
    """The rows of one case at one batch size: gsocklab against C and, for the rounds, the stdlib."""
    refs: list[tuple[str, Callable[[], float], float | None]] = []
    if c is not None:
        refs.append(("C", lambda: c.run(mode, batch, n), minimum))
    if case == "round, new lists":
        refs.append(("stdlib", lambda: round_stdlib(batch, n), STDLIB_ROUND_TARGET))
    if case == "round, new lists, 48-80 B":
        refs.append(("64 B", lambda: round_gsocklab(batch, n, "new"), VARIABLE_TARGET))
    if not refs:  # no C compiler, and nothing else to compare with
        ours_s = statistics.median(ours_fn(batch, n) for _ in range(settings.reps))
        return [_row(case, batch, n / ours_s, "C", None, None, minimum, c_error)]
    ours_s, results = alternate(settings.reps, lambda: ours_fn(batch, n), [fn for _, fn, _ in refs])
    rows = [] if c is not None else [_row(case, batch, n / ours_s, "C", None, None, minimum, c_error)]
    for (name, _, target), (ref_s, ratio) in zip(refs, results, strict=True):
        rows.append(_row(case, batch, n / ours_s, name, n / ref_s, ratio, target))
    return rows


def run(settings: Settings, c: CBaseline | None, c_error: str) -> list[Row]:
    rows: list[Row] = []
    for case, mode, ours_fn, count_field, minimum in CASES:
        n: int = getattr(settings, count_field)
        for batch in BATCHES:
            rows += _measure(settings, case, mode, ours_fn, n, minimum, batch, c, c_error)
    return rows


def render(rows: list[Row]) -> str:
    out = table(("case", "batch", "gsocklab", "reference", "paired ratio", "target", "result"), [
        (r.case, str(r.batch), f"{r.ours:,.0f}", "n/a" if r.ref is None else f"{r.ref:,.0f} ({r.ref_name})",
         ratio_text(r.ratio), r.target, result_text(r.passed, skipped=r.ratio is None)) for r in rows])
    out.append(
        "rates in datagrams/s: median of each side; paired ratio: median over repetitions of gsocklab's "
        "speed relative to the reference measured right after it"
    )
    out += sorted({f"note: {r.case}: {r.note}" for r in rows if r.note})
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = options(__doc__, argv, "fewer, shorter repetitions (a few seconds)")
    settings = QUICK if args.quick else DEFAULT

    problem = check_receive_buffer()
    if problem:
        print(f"bench_messages: {problem}", file=sys.stderr)
        return 2
    load = os.getloadavg()  # the figures are only as good as the machine is idle
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gsocklab-bench-") as tmp:
        try:
            c: CBaseline | None = CBaseline(Path(tmp))
            c_error = ""
        except (RuntimeError, OSError) as exc:
            c, c_error = None, f"C baseline unavailable ({exc})"
        rows = run(settings, c, c_error)
    print(
        f"gsocklab batched-message benchmark ({'quick' if args.quick else 'default'}: median of "
        f"{settings.reps} repetitions after warm-up; UDP, 64-byte datagrams, 127.0.0.1)"
    )
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; C: gcc -O2; "
        f"load average at the start {load[0]:.2f}"
    )
    print()
    print(render(rows))
    print(f"\ntotal time {time.perf_counter() - t0:.1f} s")
    failed = any(r.passed is False for r in rows)
    return 1 if (failed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
