"""gsocklab.record.Recorder under churn and from several threads: bounded memory, one row per call.

* Memory: with ``max_events`` set, what the recorder keeps is bounded by the rows kept and
  the sockets and threads alive, however many sockets, threads, peers and error messages it
  has seen. The churn runs in a child process (its memory is measured with ``tracemalloc``,
  away from pytest's own allocations) and checks there that the kept rows still show the
  right socket labels, thread names, peers and messages after the tables were collected.
* One user call is one row, also for the calls built on others (``condition_wait``, a
  blocking ``connect``, the ``*_async`` calls).
* Readers (``to_dataframe()``, ``len()``, ``flush()``, subscribers) in other threads while
  several threads record.

Every real socket has a timeout, and every thread is joined with a bound.
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import pytest
from conftest import Sockets, loopback

from gsocklab import Gio, GLib
from gsocklab.core._errors import new_io_error
from gsocklab.core._observe import address_text
from gsocklab.record import Recorder
from gsocklab.record._hints import HINTS

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
IN = GLib.IOCondition.IN


class FakeSocket:
    """What the recorder reads of a socket (as in test_recorder.py)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._blocking = True
        self._timeout = 0

    def get_family(self) -> Gio.SocketFamily:
        return F.IPV4

    def get_socket_type(self) -> Gio.SocketType:
        return T.DATAGRAM

    def _local_text(self) -> str | None:
        return "127.0.0.1:5000"


# -- memory under churn (in a child process) ----------------------------------------------------------

MAX_EVENTS = 2000
STEPS = 10


def _udp(timeout: int = 5) -> Any:
    sock = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.DEFAULT)
    sock.set_timeout(timeout)
    return sock


def churn(sockets: int, threads: int, errors: int) -> dict[str, Any]:
    """Record many short-lived sockets and threads and distinct peers and errors; measure.

    Returns the memory traced (after a garbage collection) when the first of `STEPS` steps
    is done and at the end, the interning tables' sizes, and what the final frame shows.
    Each step makes its share of: UDP sockets that send once to a sink (which receives the
    datagram: a new peer each time) and close; threads that send once and end (a few share
    one name); calls that failed with a message of their own, from a new peer each.
    """
    from gsocklab.record import _frame, _hints  # imported before tracing: not the recorder's memory

    del _frame, _hints

    sink = _udp()
    sink.bind(loopback(F.IPV4), False)
    dest = sink.get_local_address()
    fake = FakeSocket("failing")
    marks: list[int] = []
    expect: dict[bytes, dict[str, Any]] = {}  # payload -> what its row must show (last step only)
    long_lived_started, long_lived_go = threading.Event(), threading.Event()
    long_lived_done = threading.Event()

    def long_lived() -> None:  # records at the start and at the end: its code must stay valid
        sink.send_to(dest, b"long-1")
        long_lived_started.set()
        long_lived_go.wait(120)
        sink.send_to(dest, b"long-2")
        long_lived_done.set()

    def worker(payload: bytes) -> None:
        sink.send_to(dest, payload)

    def drain() -> None:
        while sink.condition_check(IN):
            sink.receive_from(None, 64)

    gc.collect()
    tracemalloc.start()
    rec = Recorder(max_events=MAX_EVENTS)
    with rec:
        helper = threading.Thread(target=long_lived, name="long-lived")
        helper.start()
        long_lived_started.wait(10)
        drain()
        for step in range(STEPS):
            last = step == STEPS - 1
            watch = step == 0 or last  # (watched in the first step too: both marks hold `expect`)
            if last:
                expect.clear()
            for i in range(step * sockets // STEPS, (step + 1) * sockets // STEPS):
                sock = _udp()
                payload = f"s{i}".encode()
                sock.send_to(dest, payload)
                port = sock.get_local_address().get_port()  # (its first send bound it)
                assert sink.receive_from(None, 64)[2] == payload
                if watch:
                    expect[payload] = {"socket": sock.label, "port": port}
                sock.close()
                del sock
            for j in range(step * threads // STEPS, (step + 1) * threads // STEPS):
                name = "shared" if j % 10 == 0 else f"worker-{j}"
                payload = f"w{j}".encode()
                thread = threading.Thread(target=worker, args=(payload,), name=name)
                thread.start()
                thread.join(10)
                if watch:
                    expect[payload] = {"thread": name}
            drain()
            for k in range(step * errors // STEPS, (step + 1) * errors // STEPS):
                peer = Gio.InetSocketAddress.new_from_string(f"10.{k >> 16 & 255}.{k >> 8 & 255}.{k & 255}", 9)
                error = new_io_error(Gio.IOErrorEnum.FAILED, f"failure number {k}")
                rec.on_call(fake, "send_to", time.monotonic(), 1e-6, 0.0, None, peer, None, error, None)
            if watch:
                if last:
                    long_lived_go.set()
                    long_lived_done.wait(10)
                    drain()
                rec.flush()
                gc.collect()
                marks.append(tracemalloc.get_traced_memory()[0])
        helper.join(10)
    tracemalloc.stop()
    store = rec._store
    df = rec.to_dataframe()
    shown: dict[tuple[bytes, str], list[dict[str, Any]]] = {}
    columns = ["payload", "op", "socket", "thread", "local", "peer"]
    for values in zip(*(df[name].astype(object) for name in columns)):
        row = {name: None if value is pd.NA else value for name, value in zip(columns, values)}
        shown.setdefault((row["payload"], row["op"]), []).append(row)
    rows = [{"payload": payload.decode(), "want": want,
             "sent": [{k: v for k, v in row.items() if k != "payload"} for row in shown.get((payload, "send_to"), [])],
             "received_from": [row["peer"] for row in shown.get((payload, "receive_from"), [])]}
            for payload, want in expect.items()]
    failures = df[df["socket"] == "failing"]
    return {
        "first": marks[0],
        "last": marks[-1],
        "rows": len(df),
        "dropped": rec.dropped,
        "tables": {"sockets": len(store.tables.sockets), "threads": len(store.tables.threads),
                   "errors": len(store.tables.errors)},
        "expect": rows,
        "long_lived": df.loc[df["payload"].isin([b"long-1", b"long-2"]) & (df["op"] == "send_to"), "thread"].tolist(),
        "sink_peer": address_text(dest),
        "failures": [[peer, message] for peer, message in zip(failures["peer"], failures["message"])],
        "missing_labels": int(df[["socket", "thread"]].isna().to_numpy().sum()),
    }


@pytest.mark.parametrize(("sockets", "threads", "errors"), [(20_000, 5_000, 5_000)])
def test_memory_is_bounded_by_max_events(sockets: int, threads: int, errors: int) -> None:
    """Retained memory stays flat after the first tenth, and the kept rows keep their labels."""
    child = subprocess.run([sys.executable, __file__, "churn", str(sockets), str(threads), str(errors)],
                           capture_output=True, text=True, timeout=180, cwd=Path(__file__).parent)
    assert child.returncode == 0, child.stderr
    result = json.loads(child.stdout.splitlines()[-1])
    first, last = result["first"], result["last"]
    print(f"\nrecorder memory after 10%: {first / 1024:.0f} KiB, at the end: {last / 1024:.0f} KiB;"
          f" tables {result['tables']}")
    # Unbounded, it grows by more than 0.3 KiB per socket and 0.15 KiB per thread seen (> 5 MiB here).
    assert last - first < 256 * 1024, (first, last)
    assert result["rows"] == MAX_EVENTS
    assert result["dropped"] > 3 * sockets
    tables = result["tables"]
    assert tables["sockets"] < 2 * MAX_EVENTS
    assert tables["threads"] < 2 * MAX_EVENTS
    assert tables["errors"] < 2 * MAX_EVENTS
    assert result["missing_labels"] == 0
    assert result["long_lived"][-1] == "long-lived"
    kept = [row for row in result["expect"] if row["sent"]]
    assert len(kept) > 100  # the last step's rows that are still kept
    for row in kept:
        (sent,) = row["sent"]
        want = row["want"]
        if "socket" in want:
            assert sent["socket"] == want["socket"], row
            assert sent["peer"] == result["sink_peer"], row
            assert row["received_from"] in ([], [f"127.0.0.1:{want['port']}"]), row
        else:
            assert sent["thread"] == want["thread"], row
    for peer, message in result["failures"]:
        k = int(message.rpartition(" ")[2])
        assert peer == f"10.{k >> 16 & 255}.{k >> 8 & 255}.{k & 255}:9"


def test_collection_keeps_the_codes_of_kept_rows_and_live_threads() -> None:
    """Collections at every flush while threads come and go: every kept row keeps its names."""
    rec = Recorder(max_events=300)
    store = rec._store
    names: dict[bytes, tuple[str, str, str]] = {}
    keep_alive = threading.Event()

    def one(i: int) -> None:
        sock = FakeSocket(f"fake#{i}")  # gone once its call is stored
        payload = f"p{i}".encode()
        names[payload] = (threading.current_thread().name, sock.label, f"message {i}")
        rec.on_call(sock, "send", time.monotonic(), 1e-6, 0.0, 1, None, payload,
                    new_io_error(Gio.IOErrorEnum.FAILED, f"message {i}"), None)

    def live() -> None:
        one(0)
        keep_alive.wait(30)
        one(1)

    survivor = threading.Thread(target=live, name="survivor")
    survivor.start()
    for i in range(2, 2000):
        worker = threading.Thread(target=one, args=(i,), name=f"w{i % 700}")  # names come back
        worker.start()
        worker.join(10)
        if i % 50 == 0:
            with store.lock:
                mark = store.threads.mark()
                store.compact()
                store.collect(mark)
    keep_alive.set()
    survivor.join(10)
    df = rec.to_dataframe()
    assert len(df) == 300
    shown = {payload: (thread, socket, message)
             for payload, thread, socket, message in zip(df["payload"], df["thread"], df["socket"], df["message"])}
    assert shown == {payload: names[payload] for payload in shown}
    assert shown[b"p1"][0] == "survivor"
    with store.lock:
        store.collect(store.threads.mark())  # (nothing staged: every thread that ended is done)
    threads = store.tables.threads
    assert sum(name is not None for name in threads) <= 300 + 1  # the rest are free codes
    assert len(threads) < 700
    assert len(store.tables.sockets) <= 300 + 1
    assert len(store.tables.errors) <= 300 + 1


def test_a_thread_that_ended_after_the_mark_keeps_its_code_until_its_calls_are_stored() -> None:
    """The race `ThreadCodes.mark` closes: a thread that ends once a compaction has taken the
    staged calls may have staged more since; its code must outlive those calls."""
    rec = Recorder()
    store = rec._store
    sock = FakeSocket("fake#1")

    def one(payload: bytes) -> None:
        rec.on_call(sock, "send", time.monotonic(), 1e-6, 0.0, 1, None, payload, None, None)

    with store.lock:
        mark = store.threads.mark()  # as a compaction does before taking the staged calls
    first = threading.Thread(target=one, args=(b"first",), name="first")
    first.start()
    first.join(10)  # ended after the mark, its call still staged
    with store.lock:
        store.collect(mark)
    second = threading.Thread(target=one, args=(b"second",), name="second")  # would get a freed code
    second.start()
    second.join(10)
    df = rec.to_dataframe()
    assert dict(zip(df["payload"], df["thread"])) == {b"first": "first", b"second": "second"}
    with store.lock:  # both ended before this mark, and their rows are kept
        store.collect(store.threads.mark())
    assert store.tables.threads == ["first", "second"]
    rec.clear()  # no row left: both codes are free
    assert store.tables.threads == []


def test_threads_ending_while_others_compact_keep_their_names(sockets: Sockets) -> None:
    """Short-lived threads record and end in parallel while another thread compacts and reads."""
    sink = sockets.new(F.IPV4, T.DATAGRAM)
    sink.bind(loopback(F.IPV4), False)  # nobody reads: send_to succeeds anyway
    dest = sink.get_local_address()
    rec = Recorder(max_events=500)
    store = rec._store
    stop = threading.Event()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            sock = _udp()
            for i in range(5):
                sock.send_to(dest, f"{n}:{i}".encode())
            if n % 4 == 0:
                sock.close()  # a state change: the thread compacts itself
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            while not stop.is_set():
                rec.flush()
                with store.lock:
                    mark = store.threads.mark()
                    store.compact()
                    store.collect(mark)
                df = rec.to_dataframe()
                sent = df[df["op"] == "send_to"]
                for payload, thread in zip(sent["payload"], sent["thread"]):
                    assert thread == f"churn-{payload.split(b':')[0].decode()}"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    reader = threading.Thread(target=read, name="reader")
    with rec:
        reader.start()
        for wave in range(60):
            threads = [threading.Thread(target=work, args=(n,), name=f"churn-{n}")
                       for n in range(wave * 20, wave * 20 + 20)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
        stop.set()
        reader.join(30)
    assert not errors, errors
    df = rec.to_dataframe()
    assert len(df) == 500
    sent = df[df["op"] == "send_to"]
    assert len(sent) > 300
    for payload, thread in zip(sent["payload"], sent["thread"]):
        assert thread == f"churn-{payload.split(b':')[0].decode()}"
    assert sum(name is not None for name in store.tables.threads) < 2 * 500


def test_clear_collects_the_tables() -> None:
    rec = Recorder()
    sock = FakeSocket("fake#1")
    for i in range(100):
        rec.on_call(sock, "send", time.monotonic(), 1e-6, 0.0, None, None, None,
                    new_io_error(Gio.IOErrorEnum.FAILED, f"message {i}"), None)
    assert len(rec.to_dataframe()) == 100
    rec.clear()
    tables = rec._store.tables
    assert tables.errors == [(None, None)]
    assert len(tables.sockets) == 1  # the socket is alive: its state stays
    rec.on_call(sock, "send", time.monotonic(), 1e-6, 0.0, None, None, None,
                new_io_error(Gio.IOErrorEnum.FAILED, "again"), None)
    df = rec.to_dataframe()
    assert df["message"].tolist() == ["again"]
    assert df["socket"].tolist() == ["fake#1"]


def test_batch_sizes_follow_the_rows_kept(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    out = [Gio.OutputMessage(address=b.get_local_address(), vectors=[Gio.OutputVector(b"m")])]
    rec = Recorder(max_events=5)
    with rec:
        for _ in range(20):
            a.send_messages(out, 0)
    assert len(rec) == 5
    assert rec.batch_sizes == {batch: 1 for batch in range(15, 20)}


def test_batch_sizes_of_a_loaded_recording_follow_the_rows_kept(sockets: Sockets, tmp_path: Path) -> None:
    a, b = sockets.udp_pair()
    out = [Gio.OutputMessage(address=b.get_local_address(), vectors=[Gio.OutputVector(b"m")])]
    rec = Recorder(max_events=6)
    with rec:
        for _ in range(6):
            a.send_messages(out, 0)
    rec.save(tmp_path / "six.pkl", format="pickle")
    loaded = Recorder.load(tmp_path / "six.pkl")
    assert loaded.batch_sizes == {batch: 1 for batch in range(6)}
    loaded.attach(a)
    for _ in range(2):
        a.send_messages(out, 0)
    loaded.detach(a)
    assert loaded.to_dataframe()["batch"].tolist() == list(range(2, 8))
    assert loaded.batch_sizes == {batch: 1 for batch in range(2, 8)}


# -- one user call, one row ----------------------------------------------------------------------------


def _ops(rec: Recorder) -> list[str]:
    return [str(op) for op in rec.to_dataframe()["op"]]


def test_condition_wait_is_one_row(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    rec = Recorder()
    with rec:
        timer = threading.Timer(0.1, a.send_to, args=(b.get_local_address(), b"late"))
        timer.start()
        assert b.condition_wait(IN)
        timer.join(5)
    df = rec.to_dataframe()
    assert sorted(_ops(rec)) == ["condition_wait", "send_to"]  # (the sending thread may store its row last)
    row = df[df["op"] == "condition_wait"].iloc[0]
    assert (row["condition"], row["ready"]) == ("IN", "IN")
    assert row["waited"] > 0.05


def test_blocking_connect_is_one_row(sockets: Sockets) -> None:
    listener = sockets.new(F.IPV4, T.STREAM)
    listener.bind(loopback(F.IPV4), False)
    listener.listen()
    client = sockets.new(F.IPV4, T.STREAM)
    rec = Recorder()
    with rec:
        assert client.connect(listener.get_local_address(), None)
    df = rec.to_dataframe()
    assert _ops(rec) == ["connect"]
    assert df["peer"].tolist() == [address_text(listener.get_local_address())]
    assert df["error"].isna().all()


def test_remote_address_after_a_non_blocking_connect_adds_no_row(sockets: Sockets) -> None:
    listener = sockets.new(F.IPV4, T.STREAM)
    listener.bind(loopback(F.IPV4), False)
    listener.listen()
    client = sockets.new(F.IPV4, T.STREAM)
    client.set_blocking(False)
    rec = Recorder()
    with rec:
        with pytest.raises(GLib.Error) as pending:
            client.connect(listener.get_local_address(), None)
        assert pending.value.code == Gio.IOErrorEnum.PENDING
        client.condition_timed_wait(GLib.IOCondition.OUT, 5_000_000)
        assert client.get_remote_address() is not None
        client.send(b"after")  # its peer comes from the connect, not from a new call
    assert "check_connect_result" not in _ops(rec)
    assert _ops(rec)[-2:] == ["condition_timed_wait", "send"]


def test_each_async_call_is_one_row(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    listener = sockets.new(F.IPV4, T.STREAM)
    listener.bind(loopback(F.IPV4), False)
    listener.listen()
    late = sockets.new(F.IPV4, T.STREAM)
    dest, source = b.get_local_address(), a.get_local_address()
    results: dict[str, Any] = {}

    async def later(delay: float, call: Any, *args: Any) -> None:
        await asyncio.sleep(delay)
        call(*args)

    async def main() -> None:
        pending = asyncio.ensure_future(later(0.05, a.send_to, dest, b"one"))
        results["receive_from_async"] = await b.receive_from_async(None, 64)  # waits
        await pending
        pending = asyncio.ensure_future(later(0.05, a.send_to, dest, b"two"))
        results["condition_wait_async"] = await b.condition_wait_async(IN)  # waits
        await pending
        results["receive_async"] = await b.receive_async(None, 64)
        results["send_to_async"] = await a.send_to_async(dest, b"three")
        results["condition_timed_wait_async"] = await b.condition_timed_wait_async(IN, 1_000_000)
        results["receive_from_async 2"] = await b.receive_from_async(None, 64)
        out = [Gio.OutputMessage(address=dest, vectors=[Gio.OutputVector(b"m1")]),
               Gio.OutputMessage(address=dest, vectors=[Gio.OutputVector(b"m2")])]
        results["send_messages_async"] = await a.send_messages_async(out, 0)
        inbox = [Gio.InputMessage(vectors=[Gio.InputVector(size=16)]) for _ in range(4)]
        results["receive_messages_async"] = await b.receive_messages_async(inbox, 0)
        pending = asyncio.ensure_future(later(0.05, late.connect, listener.get_local_address(), None))
        results["accept_async"] = server = await listener.accept_async(None)  # waits
        await pending
        sockets.add(server)
        server.set_timeout(5)
        results["send_async"] = await late.send_async(b"tcp")
        results["receive_async 2"] = await server.receive_async(None, 64)

    rec = Recorder()
    with rec:
        asyncio.run(main())
    df = rec.to_dataframe()
    ops = _ops(rec)
    assert ops == ["send_to", "receive_from_async", "send_to", "condition_wait_async", "receive_async",
                   "send_to_async", "condition_timed_wait_async", "receive_from_async",
                   "send_messages_async", "send_messages_async", "receive_messages_async", "receive_messages_async",
                   "connect", "accept_async", "set_timeout", "send_async", "receive_async"]
    rows = {op: df[df["op"] == op] for op in set(ops)}
    first = rows["receive_from_async"].iloc[0]
    assert (first["nbytes"], first["payload"], first["peer"]) == (3, b"one", address_text(source))
    assert first["direction"] == "in"
    assert first["waited"] > 0.02
    assert rows["receive_from_async"].iloc[1]["payload"] == b"three"
    wait = rows["condition_wait_async"].iloc[0]
    assert (wait["condition"], wait["ready"]) == ("IN", "IN")
    assert wait["waited"] > 0.02
    timed = rows["condition_timed_wait_async"].iloc[0]
    assert (timed["condition"], timed["ready"], timed["timeout"]) == ("IN", "IN", 1.0)
    assert rows["receive_async"]["payload"].tolist() == [b"two", b"tcp"]
    sent = rows["send_to_async"].iloc[0]
    assert (sent["nbytes"], sent["payload"], sent["direction"]) == (5, b"three", "out")
    assert sent["peer"] == address_text(dest)
    assert rows["send_messages_async"]["payload"].tolist() == [b"m1", b"m2"]
    assert rows["send_messages_async"]["index"].tolist() == [0, 1]
    assert rows["receive_messages_async"]["payload"].tolist() == [b"m1", b"m2"]
    assert rows["receive_messages_async"]["peer"].tolist() == [address_text(source)] * 2
    accepted = rows["accept_async"].iloc[0]
    assert accepted["peer"] == address_text(late.get_local_address())
    assert accepted["waited"] > 0.02
    assert pd.isna(accepted["direction"])
    assert rows["send_async"].iloc[0]["peer"] == address_text(listener.get_local_address())
    assert df["error"].isna().all()


def test_async_timeouts_are_one_row_each(sockets: Sockets) -> None:
    (sock,) = [sockets.new(F.IPV4, T.DATAGRAM, timeout=1)]
    sock.bind(loopback(F.IPV4), False)

    async def main() -> None:
        for call in (lambda: sock.receive_from_async(None, 64), lambda: sock.condition_wait_async(IN),
                     lambda: sock.condition_timed_wait_async(IN, 100_000)):
            with pytest.raises(GLib.Error) as failure:
                await call()
            assert failure.value.code == Gio.IOErrorEnum.TIMED_OUT

    rec = Recorder()
    with rec:
        asyncio.run(main())
    df = rec.to_dataframe()
    assert _ops(rec) == ["receive_from_async", "condition_wait_async", "condition_timed_wait_async"]
    assert df["error"].tolist() == ["TIMED_OUT"] * 3
    assert (df["waited"] >= 0.09).all()
    assert df["ready"].isna().all()
    assert df["hint"].tolist() == [HINTS["timed_out"], HINTS["timed_out_wait"], HINTS["timed_out_wait"]]


def test_an_iterator_of_messages_is_recorded_without_detaching(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    dest = b.get_local_address()

    def messages() -> Any:
        yield Gio.OutputMessage(address=dest, vectors=[Gio.OutputVector(b"g1")])
        yield Gio.OutputMessage(address=dest, vectors=[Gio.OutputVector(b"g2")])

    async def main() -> int:
        return await a.send_messages_async(messages(), 0)

    rec = Recorder()
    with rec:
        assert a.send_messages(messages(), 0) == 2
        assert asyncio.run(main()) == 2
        a.send_to(dest, b"still recording")
    df = rec.to_dataframe()
    assert _ops(rec) == ["send_messages"] * 2 + ["send_messages_async"] * 2 + ["send_to"]
    assert df["nbytes"].iloc[:4].isna().all()
    assert df["batch"].tolist()[:4] == [0, 0, 1, 1]


# -- readers in other threads --------------------------------------------------------------------------


def test_readers_in_other_threads_while_four_threads_record(sockets: Sockets) -> None:
    sink = sockets.new(F.IPV4, T.DATAGRAM)
    sink.bind(loopback(F.IPV4), False)  # nobody reads: the kernel drops what does not fit, send_to succeeds
    senders = [sockets.new(F.IPV4, T.DATAGRAM) for _ in range(4)]
    dest = sink.get_local_address()
    stop = threading.Event()
    counts = [0] * 4
    errors: list[BaseException] = []
    delivered: list[pd.DataFrame] = []
    reads = [0, 0]
    rec = Recorder()

    def record(i: int) -> None:
        try:
            sock, fake = senders[i], FakeSocket(f"fake-{i}")
            n = 0
            while not stop.is_set() and n < 200_000:
                payload = f"{i}:{n}".encode()
                if n % 3:
                    sock.send_to(dest, payload)
                else:  # the generic path, with a state change now and then
                    rec.on_call(fake, "send", time.monotonic(), 1e-6, 0.0, len(payload), None, payload, None, None)
                    if n % 300 == 0:
                        rec.on_call(fake, "set_timeout", time.monotonic(), 1e-6, 0.0, None, None, None, None,
                                    {"value": n % 7})
                        n += 1
                n += 1
            counts[i] = n
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read(which: int) -> None:
        try:
            while not stop.is_set():
                if which:
                    rec.flush()
                    assert len(rec) >= 0
                else:
                    seq = rec.to_dataframe()["seq"].tolist()
                    assert seq == list(range(len(seq)))
                reads[which] += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    unsubscribe = rec.subscribe(delivered.append)
    with rec:
        workers = [threading.Thread(target=record, args=(i,), name=f"recorder-{i}") for i in range(4)]
        readers = [threading.Thread(target=read, args=(i,), name=f"reader-{i}") for i in range(2)]
        for thread in workers + readers:
            thread.start()
        time.sleep(2)
        stop.set()
        for thread in workers + readers:
            thread.join(30)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in workers + readers)
    rec.flush()
    unsubscribe()
    df = rec.to_dataframe()
    expected = sum(counts)
    assert len(df) == expected
    assert rec.dropped == 0
    assert df["seq"].tolist() == list(range(expected))
    assert reads[0] > 0
    assert reads[1] > 0
    live = pd.concat(delivered, ignore_index=True)
    assert live["seq"].tolist() == list(range(expected))  # each row delivered once, in order
    sends = df[df["op"].isin(["send_to", "send"])]
    for payload, op, thread, label in zip(sends["payload"], sends["op"], sends["thread"], sends["socket"]):
        i = int(payload.split(b":")[0])
        assert thread == f"recorder-{i}"
        assert label == (senders[i].label if op == "send_to" else f"fake-{i}")


if __name__ == "__main__" and sys.argv[1:2] == ["churn"]:
    print(json.dumps(churn(*map(int, sys.argv[2:5]))))
