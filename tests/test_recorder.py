"""gsocklab.record.Recorder: rows, dtypes, bounds, live delivery, files and hints.

Most tests drive the recorder directly through ``on_call`` with `FakeSocket` (no OS, fully
deterministic); the others record real loopback sockets through the socket hook. Every real
socket has a 5 s timeout, so no blocking call can hang a test.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped, unused-ignore]
import pytest
from conftest import Sockets, loopback, unused_port

from gsocklab import Gio, GLib
from gsocklab.core import _observe
from gsocklab.core._errors import new_io_error
from gsocklab.record import TRAFFIC_SCHEMA, Recorder
from gsocklab.record._hints import HINTS
from gsocklab.record._schema import OP_NAMES

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
E = Gio.IOErrorEnum
PAYLOAD = b"0123456789abcdef"


class FakeSocket:
    """What the recorder reads of a socket: label, family, type, mode, timeout, local address."""

    def __init__(self, label: str = "fake#1", local: str | None = "127.0.0.1:5000",
                 family: Gio.SocketFamily = F.IPV4, kind: Gio.SocketType = T.DATAGRAM) -> None:
        self.label = label
        self.local = local
        self._family, self._kind = family, kind
        self._blocking = True
        self._timeout = 0

    def get_family(self) -> Gio.SocketFamily:
        return self._family

    def get_socket_type(self) -> Gio.SocketType:
        return self._kind

    def _local_text(self) -> str | None:
        return self.local


def addr(text: str, port: int) -> Gio.InetSocketAddress:
    address = Gio.InetSocketAddress.new_from_string(text, port)
    assert address is not None
    return address


def call(rec: Recorder, sock: FakeSocket, op: str, *, nbytes: int | None = None, peer: Any = None,
         payload: Any = None, error: Any = None, extra: dict[str, Any] | None = None, t0: float | None = None,
         duration: float = 1e-6, waited: float = 0.0) -> None:
    rec.on_call(sock, op, time.monotonic() if t0 is None else t0, duration, waited, nbytes, peer, payload,
                error, extra)


def check_schema(df: pd.DataFrame) -> None:
    assert list(df.columns) == list(TRAFFIC_SCHEMA)
    for name, dtype in TRAFFIC_SCHEMA.items():
        assert df[name].dtype == dtype, name


@pytest.fixture
def rec() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.pause()  # leaves the hook, whatever the test did


# -- schema -------------------------------------------------------------------------------------------


def test_empty_recording_has_the_schema() -> None:
    df = Recorder().to_dataframe()
    assert len(df) == 0
    check_schema(df)


def test_schema_lists_every_socket_method_as_an_op() -> None:
    methods = {name for name in dir(Gio.Socket) if not name.startswith("_") and callable(getattr(Gio.Socket, name))}
    assert methods - {"label"} <= set(OP_NAMES)


def test_full_recording_has_the_schema_and_values(rec: Recorder) -> None:
    sock, peer = FakeSocket(), addr("127.0.0.1", 6000)
    before = time.time_ns()
    call(rec, sock, "send_to", nbytes=16, peer=peer, payload=PAYLOAD, duration=0.002)
    call(rec, sock, "receive_from", nbytes=3, peer=addr("::1", 7), payload=b"abc", waited=0.001)
    call(rec, sock, "close")
    df = rec.df
    check_schema(df)
    assert df["seq"].tolist() == [0, 1, 2]
    assert df["op"].tolist() == ["send_to", "receive_from", "close"]
    assert df["direction"].tolist()[:2] == ["out", "in"]
    assert pd.isna(df["direction"][2])
    assert df["peer"].tolist()[:2] == ["127.0.0.1:6000", "[::1]:7"]
    assert pd.isna(df["peer"][2])
    assert df["nbytes"].tolist()[:2] == [16, 3]
    assert pd.isna(df["nbytes"][2])
    assert df["payload"].tolist() == [PAYLOAD, b"abc", None]
    assert (df["socket"] == "fake#1").all()
    assert (df["local"] == "127.0.0.1:5000").all()
    assert (df["family"] == "IPV4").all()
    assert (df["type"] == "DATAGRAM").all()
    assert df["thread"].tolist() == [threading.current_thread().name] * 3
    assert df["duration"][0] == pytest.approx(0.002)
    assert df["waited"][1] == pytest.approx(0.001)
    assert df["blocking"].all()
    assert df["timeout"].isna().all()
    assert df["error"].isna().all()
    assert df["message"].isna().all()
    assert df["hint"].isna().all()
    assert df["batch"].isna().all()
    assert df["index"].isna().all()
    assert df["flags"].isna().all()
    wall = df["time"][0].value
    assert before - 1_000_000 <= wall <= time.time_ns()
    assert 0 <= df["elapsed"][0] < 60
    assert df["elapsed"].is_monotonic_increasing


def test_condition_extras_and_setter_values(rec: Recorder) -> None:
    sock = FakeSocket()
    call(rec, sock, "condition_timed_wait", extra={"condition": 5, "timeout": 0.25, "ready": 4})
    call(rec, sock, "condition_wait", extra={"condition": 1}, error=new_io_error(E.TIMED_OUT, "Socket I/O timed out"))
    call(rec, sock, "receive_with_blocking", nbytes=2, payload=b"hi", extra={"blocking": False})
    call(rec, sock, "set_ttl", extra={"value": 7})
    df = rec.df
    assert df["condition"].tolist()[:2] == ["IN|OUT", "IN"]
    assert df["ready"][0] == "OUT"
    assert pd.isna(df["ready"][1])
    assert df["timeout"][0] == 0.25
    assert df["error"][1] == "TIMED_OUT"
    assert df["message"][1] == "Socket I/O timed out"
    assert df["hint"][1] == HINTS["timed_out_wait"]
    assert not df["blocking"][2]
    assert df["blocking"][3]
    assert df["message"][3] == "7"


def test_payloads_are_copied_and_capped() -> None:
    rec = Recorder(capture_bytes=4)
    sock, buffer = FakeSocket(), bytearray(b"abcdefgh")
    call(rec, sock, "send", nbytes=8, payload=buffer)
    call(rec, sock, "receive", nbytes=8, payload=memoryview(buffer)[2:])
    call(rec, sock, "send", nbytes=8, payload=b"12345678")
    buffer[:] = b"XXXXXXXX"  # the caller reuses its buffer
    assert rec.df["payload"].tolist() == [b"abcd", b"cdef", b"1234"]
    none = Recorder(capture_bytes=0)
    call(none, sock, "send", nbytes=8, payload=b"12345678")
    assert none.df["payload"].tolist() == [None]


# -- bounds, clearing, pausing ------------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "events"), [(10, 25), (10, 10), (1000, 70_000)], ids=["small", "exact", "chunks"])
def test_max_events_drops_the_oldest_exactly(limit: int, events: int) -> None:
    rec, sock = Recorder(max_events=limit), FakeSocket()
    for i in range(events):
        call(rec, sock, "send", nbytes=i, t0=i)
        if i % 20_000 == 0:
            rec.flush()
    kept = min(limit, events)
    assert len(rec) == kept
    assert rec.dropped == events - kept
    df = rec.df
    assert df["seq"].tolist() == list(range(events - kept, events))
    assert df["nbytes"].tolist() == list(range(events - kept, events))


def test_clear_starts_a_new_recording(rec: Recorder) -> None:
    sock = FakeSocket()
    call(rec, sock, "send", nbytes=1)
    rec.clear()
    assert len(rec) == 0
    assert rec.dropped == 0
    call(rec, sock, "send", nbytes=2)
    assert rec.df["seq"].tolist() == [0]
    assert rec.df["nbytes"].tolist() == [2]


def test_pause_leaves_the_hook(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    rec = Recorder()
    rec.attach(a)
    a.send_to(b.get_local_address(), b"1")
    rec.pause()
    calls = _observe.CALLS[0]
    a.send_to(b.get_local_address(), b"2")
    assert _observe.CALLS[0] == calls  # paused: the hook has no observer to call
    rec.resume()
    a.send_to(b.get_local_address(), b"3")
    rec.detach(a)
    a.send_to(b.get_local_address(), b"4")
    assert rec.df["payload"].tolist() == [b"1", b"3"]


# -- live delivery ------------------------------------------------------------------------------------


def test_subscribers_get_new_rows_in_batches(rec: Recorder) -> None:
    sock, batches = FakeSocket(), list[pd.DataFrame]()
    call(rec, sock, "send", nbytes=0)  # before subscribing: not delivered
    unsubscribe = rec.subscribe(batches.append)
    for i in range(3):
        call(rec, sock, "send", nbytes=i + 1)
    rec.flush()
    call(rec, sock, "send", nbytes=9)
    rec.flush()
    rec.flush()  # nothing new: no call
    unsubscribe()
    call(rec, sock, "send", nbytes=10)
    rec.flush()
    assert [b["nbytes"].tolist() for b in batches] == [[1, 2, 3], [9]]
    assert [b["seq"].tolist() for b in batches] == [[1, 2, 3], [4]]
    check_schema(batches[0])


def test_a_raising_subscriber_is_removed_and_logged(rec: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    sock, good = FakeSocket(), list[pd.DataFrame]()

    def bad(frame: pd.DataFrame) -> None:
        raise RuntimeError("broken view")

    rec.subscribe(bad)
    rec.subscribe(good.append)
    call(rec, sock, "send", nbytes=1)
    with caplog.at_level(logging.ERROR, logger="gsocklab"):
        rec.flush()
    assert "raised and was unsubscribed" in caplog.text
    call(rec, sock, "send", nbytes=2)
    rec.flush()
    assert [b["nbytes"].tolist() for b in good] == [[1], [2]]


def test_the_flush_thread_delivers_while_recording(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    got = threading.Event()
    rec = Recorder()
    rec.subscribe(lambda frame: got.set())
    with rec:
        a.send_to(b.get_local_address(), b"x")
        assert got.wait(5)  # delivered by the recorder's thread, not by send_to


# -- files --------------------------------------------------------------------------------------------


def _mixed_recording() -> Recorder:
    rec, sock = Recorder(), FakeSocket()
    call(rec, sock, "send_to", nbytes=4, peer=addr("127.0.0.1", 9), payload=b"ping")
    call(rec, sock, "receive", error=new_io_error(E.WOULD_BLOCK, "Resource temporarily unavailable"))
    call(rec, sock, "condition_timed_wait", extra={"condition": 1, "timeout": 0.5, "ready": 1})
    call(rec, sock, "set_timeout", extra={"value": 0})
    call(rec, sock, "future_method")  # an op outside the declared list
    return rec


@pytest.mark.parametrize("fmt", ["parquet", "pickle"])
def test_save_and_load_round_trip(tmp_path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    rec = _mixed_recording()
    before = rec.df
    path = tmp_path / f"rec.{fmt}"
    rec.save(path, format=fmt)
    loaded = Recorder.load(path)
    after = loaded.to_dataframe()
    pd.testing.assert_frame_equal(after, before)
    assert list(after.dtypes) == list(before.dtypes)
    assert len(loaded) == len(rec)
    assert loaded.dropped == rec.dropped
    call(loaded, FakeSocket(), "send", nbytes=1)  # a loaded recording goes on
    assert loaded.df["seq"].tolist() == [*before["seq"], len(before)]


def test_save_and_load_an_empty_recording(tmp_path: Path) -> None:
    path = tmp_path / "empty.rec"
    Recorder().save(path)
    df = Recorder.load(path).to_dataframe()
    assert len(df) == 0
    check_schema(df)


# -- real sockets through the hook --------------------------------------------------------------------


def test_udp_exchange_through_the_hook(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    rec = Recorder()
    with rec:
        a.send_to(b.get_local_address(), PAYLOAD)
        _count, _source, _data = b.receive_from(None)
        b.set_blocking(False)
        with pytest.raises(GLib.Error):
            b.receive(None)
    df = rec.df
    check_schema(df)
    sent = df[df["op"] == "send_to"].iloc[0]
    got = df[df["op"] == "receive_from"].iloc[0]
    assert sent["socket"] == a.label
    assert sent["peer"] == got["local"]
    assert sent["local"] == got["peer"]
    assert sent["payload"] == got["payload"] == PAYLOAD
    assert sent["nbytes"] == got["nbytes"] == len(PAYLOAD)
    assert sent["timeout"] == 5.0
    assert sent["blocking"]
    miss = df[df["op"] == "receive"].iloc[0]
    assert miss["error"] == "WOULD_BLOCK"
    assert not miss["blocking"]
    assert miss["hint"] == HINTS["would_block_in"]
    assert df["seq"].is_monotonic_increasing


def test_attach_labels_and_records_one_socket(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    rec = Recorder()
    rec.attach(a, label="alice")
    a.send_to(b.get_local_address(), b"x")
    b.receive_from(None)  # b is not attached
    rec.detach(a)
    df = rec.df
    assert a.label == "alice"
    assert df["socket"].tolist() == ["alice"]


def test_socket_state_is_the_one_at_the_call(sockets: Sockets) -> None:
    rec = Recorder()
    with rec:
        sock = sockets.new(F.IPV4, T.DATAGRAM, timeout=3)
        sock.set_timeout(0)
        sock.bind(loopback(F.IPV4), True)
        sock.set_timeout(2)
        sock.close()
    df = rec.df
    assert df["op"].tolist() == ["set_timeout", "set_timeout", "bind", "set_timeout", "close"]
    assert df["local"].tolist()[:2] == ["0.0.0.0:0"] * 2  # before bind, as get_local_address() says
    assert df["local"][2] == df["local"][3] == df["local"][4]
    assert df["local"][2].startswith("127.0.0.1:")
    assert df["timeout"].tolist() == [3.0, pd.NA, pd.NA, 2.0, 2.0]
    assert df["message"].tolist()[:2] == ["3", "0"]
    assert df["hint"][1] == HINTS["timeout_zero"]
    assert df["hint"].drop(index=1).isna().all()


def test_ipv6_and_unix_addresses(sockets: Sockets, tmp_path: Path) -> None:
    rec = Recorder()
    with rec:
        a, b = sockets.udp_pair(F.IPV6)
        a.send_to(b.get_local_address(), b"6")
        _, client, _ = sockets.unix_pair(tmp_path / "s")
        client.send(b"u")
    df = rec.df
    row = df[df["op"] == "send_to"].iloc[0]
    assert row["local"].startswith("[::1]:")
    assert row["peer"].startswith("[::1]:")
    assert row["family"] == "IPV6"
    unix = df[df["op"] == "send"].iloc[0]
    assert unix["family"] == "UNIX"
    assert unix["type"] == "STREAM"
    assert unix["peer"] == str(tmp_path / "s")


def test_batched_calls_give_one_row_per_message(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    b.set_blocking(False)
    outbox = [Gio.OutputMessage(address=b.get_local_address(), vectors=[f"m{i}".encode()]) for i in range(3)]
    inbox = [Gio.InputMessage(vectors=[Gio.InputVector(size=64)]) for _ in range(8)]
    rec = Recorder()
    with rec:
        assert a.send_messages(outbox, 0) == 3
        assert b.receive_messages(inbox, 0) == 3
        with pytest.raises(GLib.Error):
            b.receive_messages(inbox, 0)  # nothing queued: one row with the error
    df = rec.df
    out, got, failed = (df[df["batch"] == n] for n in (0, 1, 2))
    for rows in (out, got):
        assert rows["index"].tolist() == [0, 1, 2]
        assert rows["nbytes"].tolist() == [2, 2, 2]
        assert rows["payload"].tolist() == [b"m0", b"m1", b"m2"]
    assert (out["direction"] == "out").all()
    assert (got["direction"] == "in").all()
    assert (out["peer"] == got["local"].iloc[0]).all()
    assert (got["peer"] == out["local"].iloc[0]).all()
    assert len(failed) == 1
    assert failed["error"].iloc[0] == "WOULD_BLOCK"
    assert pd.isna(failed["index"].iloc[0])
    assert rec.batch_sizes == {0: 3, 1: 8, 2: 8}


def test_batched_payloads_over_several_vectors_are_copied(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    b.set_blocking(False)
    storage = bytearray(16)
    outbox = [Gio.OutputMessage(address=b.get_local_address(), vectors=[b"ab", bytearray(b"cd")])]
    inbox = [Gio.InputMessage(vectors=[Gio.InputVector(size=1), Gio.InputVector(size=8)]),
             Gio.InputMessage(vectors=[Gio.InputVector(buffer=memoryview(storage))])]
    rec = Recorder()
    with rec:
        a.send_messages(outbox, 0)
        a.send_messages(outbox, 0)
        assert b.receive_messages(inbox, 0) == 2
    storage[:] = bytes(16)  # the receiver reuses its buffers
    inbox[0].vectors[1].buffer[:] = bytes(8)
    assert rec.df["payload"].tolist() == [b"abcd"] * 4


def test_thread_names(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    rec = Recorder()

    def send() -> None:
        a.send_to(b.get_local_address(), b"t")

    with rec:
        worker = threading.Thread(target=send, name="worker-1")
        worker.start()
        worker.join(5)
        send()
    assert rec.df["thread"].tolist() == ["worker-1", threading.current_thread().name]


def test_four_threads_ten_thousand_sends_each(sockets: Sockets) -> None:
    sink = sockets.new(F.IPV4, T.DATAGRAM)
    sink.bind(loopback(F.IPV4), True)  # nobody reads: the kernel drops what does not fit, send_to succeeds
    senders = [sockets.new(F.IPV4, T.DATAGRAM) for _ in range(4)]
    start = threading.Barrier(4, timeout=5)
    errors: list[BaseException] = []

    def run(sock: Any) -> None:
        try:
            start.wait()
            dest = sink.get_local_address()
            for _ in range(10_000):
                sock.send_to(dest, b"0123456789", None)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    rec = Recorder()
    with rec:
        threads = [threading.Thread(target=run, args=(s,), name=f"sender-{i}") for i, s in enumerate(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors
    assert not any(t.is_alive() for t in threads)
    df = rec.df
    out = df[(df["direction"] == "out") & (df["op"] == "send_to")]
    assert len(out) == 40_000
    assert rec.dropped == 0
    assert df["seq"].is_monotonic_increasing
    assert df["seq"].is_unique
    assert out.groupby("thread").size().to_dict() == {f"sender-{i}": 10_000 for i in range(4)}
    assert out.groupby("socket").size().to_dict() == {s.label: 10_000 for s in senders}


def test_no_observer_work_after_the_block(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    with Recorder():
        a.send_to(b.get_local_address(), b"x")
    calls = _observe.CALLS[0]
    a.send_to(b.get_local_address(), b"y")
    b.receive_from(None)
    assert _observe.CALLS[0] == calls


# -- hints --------------------------------------------------------------------------------------------


def test_hints_for_socket_errors(sockets: Sockets) -> None:
    rec = Recorder()
    with rec:
        first = sockets.new(F.IPV4, T.DATAGRAM)
        first.bind(loopback(F.IPV4), False)
        second = sockets.new(F.IPV4, T.DATAGRAM)
        with pytest.raises(GLib.Error):
            second.bind(first.get_local_address(), False)
        with pytest.raises(GLib.Error):
            second.send(b"nowhere")
        tcp = sockets.new(F.IPV4, T.STREAM)
        with pytest.raises(GLib.Error):
            tcp.connect(loopback(F.IPV4, unused_port()), None)
        first.set_timeout(1)
        with pytest.raises(GLib.Error):
            first.receive_from(None)
    df = rec.df
    hints = dict(zip(df["error"].dropna(), df.loc[df["error"].notna(), "hint"]))
    assert hints["ADDRESS_IN_USE"] == HINTS["address_in_use"]
    assert hints["CONNECTION_REFUSED"] == HINTS["refused"]
    assert hints["TIMED_OUT"] == HINTS["timed_out"]
    unset = df[df["op"] == "send"].iloc[0]
    assert unset["hint"] in (HINTS["destination_unset"], HINTS["not_connected"])


def test_multicast_hints() -> None:
    rec = Recorder()
    sender, receiver, late = FakeSocket("tx", "0.0.0.0:40000"), FakeSocket("rx", "0.0.0.0:5353"), FakeSocket(
        "late", "0.0.0.0:5353")
    on_lo = FakeSocket("lo-tx", "127.0.0.1:40001")  # its group datagrams go out of lo: loopback and TTL do not matter
    group = addr("224.0.0.251", 5353)
    timed_out = new_io_error(E.TIMED_OUT, "Socket I/O timed out")
    call(rec, receiver, "receive_from", error=timed_out)              # never joins, port of the group
    call(rec, late, "receive_from", error=timed_out)                  # joins only afterwards
    call(rec, late, "join_multicast_group", extra={"value": "224.0.0.251"})
    call(rec, late, "receive_from", error=timed_out)                  # joined: an ordinary timeout
    call(rec, sender, "send_to", nbytes=2, peer=group, payload=b"hi")  # defaults: fine
    call(rec, sender, "set_multicast_loopback", extra={"value": False})
    call(rec, sender, "send_to", nbytes=2, peer=group, payload=b"hi")
    call(rec, sender, "set_multicast_ttl", extra={"value": 4})
    call(rec, sender, "send_to", nbytes=2, peer=group, payload=b"hi")
    call(rec, sender, "set_multicast_ttl", extra={"value": 0})
    call(rec, sender, "send_to", nbytes=2, peer=group, payload=b"hi")  # #10
    call(rec, sender, "set_multicast_loopback", extra={"value": True})
    call(rec, sender, "send_to", nbytes=2, peer=group, payload=b"hi")  # #12
    call(rec, on_lo, "set_multicast_ttl", extra={"value": 0})
    call(rec, on_lo, "set_multicast_loopback", extra={"value": False})
    call(rec, on_lo, "send_to", nbytes=2, peer=group, payload=b"hi")   # #15
    hints = rec.df["hint"].tolist()
    assert hints[0] == hints[1] == HINTS["not_joined"]
    assert hints[3] == HINTS["timed_out"]
    assert pd.isna(hints[4])
    assert hints[6] == HINTS["multicast_lan_only"]
    assert hints[8] == HINTS["multicast_no_loopback"]
    assert hints[10] == HINTS["multicast_nowhere"]
    assert hints[12] == HINTS["multicast_ttl_zero"]
    assert pd.isna(hints[15])


def test_truncated_and_would_block_send_hints() -> None:
    rec, sock = Recorder(), FakeSocket()
    sock._blocking = False
    call(rec, sock, "send", error=new_io_error(E.WOULD_BLOCK, "Resource temporarily unavailable"))
    call(rec, sock, "receive_message", nbytes=8, extra={"flags": 0x20})
    hints = rec.df["hint"].tolist()
    assert hints == [HINTS["would_block_out"], HINTS["truncated"]]


# -- memory ------------------------------------------------------------------------------------------


def test_memory_per_event_is_bounded() -> None:
    """At most 150 bytes a row, payloads apart (the benchmark measures 1,000,000 rows)."""
    socks = [FakeSocket(f"s{i}", f"127.0.0.1:{5000 + i}") for i in range(4)]
    peers = [addr("127.0.0.1", 6000 + i) for i in range(4)]
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        rec = Recorder(capture_bytes=0)
        on_call = rec.on_call
        for i in range(100_000):
            on_call(socks[i & 3], "send_to" if i & 1 else "receive_from", i * 1e-6, 1e-6, 0.0, 64, peers[i & 3], None,
                    None, None)
            if i % 50_000 == 49_999:
                rec.flush()
        rec.flush()
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert len(rec) == 100_000
    assert held / 100_000 <= 150


def test_loading_a_pcapng_export_says_what_it_is(tmp_path: Path) -> None:
    rec = Recorder()
    rec.save(tmp_path / "run.pcapng")
    with pytest.raises(ValueError, match="is a pcapng capture file"):
        Recorder.load(tmp_path / "run.pcapng")
