"""The socket hook as a recorder uses it: the fast lane, the observed classes, batch capture.

Every real socket has a 5 s timeout and every wait below is bounded, so nothing can hang.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from conftest import Sockets

from gsocklab import Gio, GLib
from gsocklab.core import _observe
from gsocklab.core._socket import Socket
from gsocklab.record import Recorder

F, T = Gio.SocketFamily, Gio.SocketType


def test_sockets_take_attributes_of_the_callers_own(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    a.note = "mine"  # PyGObject's sockets allow this; slots must not forbid it
    with Recorder():
        assert type(a).__name__ == "LaneObservedSocket"
        assert a.note == "mine"
        a.send_to(b.get_local_address(), b"x")
    assert type(a) is Socket
    assert a.note == "mine"


def test_one_recorder_uses_the_lane_and_records_each_call_once(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    rec = Recorder()
    with rec:
        assert a._lane is not None
        a.send_to(b.get_local_address(), b"ping")
        assert b.receive_from(None, 64)[2] == b"ping"
    assert a._lane is None
    df = rec.df
    assert df["op"].tolist() == ["send_to", "receive_from"]
    assert df["payload"].tolist() == [b"ping", b"ping"]
    assert df["peer"].tolist() == [df["local"][1], df["local"][0]]


def test_two_recorders_each_record_each_call_once(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    first, second = Recorder(), Recorder()
    with first, second:
        assert a._lane is None  # two observers: the generic path
        a.send_to(b.get_local_address(), b"ping")
        b.receive_from(None, 64)
    for rec in (first, second):
        assert rec.df["op"].tolist() == ["send_to", "receive_from"]


def test_lane_records_errors_and_time_spent_waiting(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    b.set_blocking(False)
    rec = Recorder()
    with rec:
        with pytest.raises(GLib.Error):
            b.receive_from(None, 64)
        b.set_blocking(True)
        timer = threading.Timer(0.2, lambda: a.send_to(b.get_local_address(), b"late"))
        timer.start()
        try:
            assert b.receive_from(None, 64)[2] == b"late"
        finally:
            timer.join(5)
    df = rec.df
    miss, late = df[df["op"] == "receive_from"].itertuples()
    assert miss.error == "WOULD_BLOCK"
    assert pd_isna(miss.nbytes)
    assert late.error is None or pd_isna(late.error)
    assert 0.1 < late.waited <= late.duration < 5


def pd_isna(value: Any) -> bool:
    import pandas as pd  # type: ignore[import-untyped, unused-ignore]

    return bool(pd.isna(value))


def test_lane_copies_buffers_the_caller_may_change_and_caps_payloads(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    buffer = bytearray(b"0123456789")
    rec = Recorder(capture_bytes=4)
    with rec:
        a.send_to(b.get_local_address(), buffer)
        buffer[:] = b"xxxxxxxxxx"
        a.send_to(b.get_local_address(), b"abcdefghij")
        b.receive_from(None, 64)
        b.receive_from(None, 64)
    assert rec.df["payload"].tolist() == [b"0123", b"abcd", b"0123", b"abcd"]
    quiet = Recorder(capture_bytes=0)
    with quiet:
        a.send_to(b.get_local_address(), b"abc")
        b.receive_from(None, 64)
    assert quiet.df["payload"].isna().all()
    assert quiet.df["nbytes"].tolist() == [3, 3]


def test_threads_taking_turns_on_one_socket_keep_their_names(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    rec = Recorder()
    with rec:
        for i in range(3):  # threads end before the next starts: their idents may be reused
            worker = threading.Thread(target=a.send_to, args=(b.get_local_address(), b"t"), name=f"turn-{i}")
            worker.start()
            worker.join(5)
    assert rec.df["thread"].tolist() == ["turn-0", "turn-1", "turn-2"]


class _BrokenLane:
    """An observer whose lane raises: the socket call must still succeed."""

    def __init__(self) -> None:
        self.calls = 0

        def stage(fields: tuple[Any, ...]) -> None:
            raise RuntimeError("broken lane")

        self.lane = _observe.Lane(stage, threading.local(), lambda: 0, 256)

    def on_call(self, *args: Any) -> None:
        self.calls += 1


def test_a_failing_lane_detaches_its_observer(sockets: Sockets, caplog: pytest.LogCaptureFixture) -> None:
    a, b = sockets.udp_pair()
    observer = _BrokenLane()
    _observe.attach(a, observer)
    with caplog.at_level(logging.ERROR, logger="gsocklab"):
        assert a.send_to(b.get_local_address(), b"x") == 1
    assert "raised and was detached" in caplog.text
    assert type(a) is Socket
    assert a.send_to(b.get_local_address(), b"y") == 1


def test_staged_calls_are_stored_once_the_sockets_go_quiet(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    rec = Recorder()
    with rec:
        for _ in range(3):
            a.send_to(b.get_local_address(), b"q")
        deadline = time.monotonic() + 5
        while rec._staged and time.monotonic() < deadline:  # the flush thread, not a read, stores them
            time.sleep(0.05)
        assert not rec._staged
    assert len(rec) == 3


def test_batch_capture_follows_changes_to_the_messages(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    b.set_blocking(False)
    vector = Gio.OutputVector(b"one")
    outbox = [Gio.OutputMessage(address=b.get_local_address(), vectors=[vector]),
              Gio.OutputMessage(address=b.get_local_address(), vectors=[b"two"])]
    inbox = [Gio.InputMessage(vectors=[Gio.InputVector(size=16)]) for _ in range(4)]
    rec = Recorder()
    with rec:
        a.send_messages(outbox, 0)
        vector.buffer = b"uno"  # a setter: the cached layout of the list is stale now
        a.send_messages(outbox, 0)
        assert b.receive_messages(inbox[:2], 0) == 2  # a prefix of the same messages
        assert b.receive_messages(inbox, 0) == 2
    df = rec.df
    assert df["payload"].tolist() == [b"one", b"two", b"uno", b"two", b"one", b"two", b"uno", b"two"]
    assert all(type(p) is bytes for p in df["payload"])
    assert rec.batch_sizes == {0: 2, 1: 2, 2: 2, 3: 4}


def test_batch_to_the_connected_peer_records_the_peer(sockets: Sockets) -> None:
    a, b = sockets.udp_pair()
    a.connect(b.get_local_address(), None)
    outbox = [Gio.OutputMessage(address=None, vectors=[b"to peer"]) for _ in range(2)]
    rec = Recorder()
    with rec:
        assert a.send_messages(outbox, 0) == 2
    df = rec.df
    port = b.get_local_address().get_port()
    assert df["peer"].tolist() == [f"127.0.0.1:{port}"] * 2


@pytest.mark.parametrize("recorders", [1, 2], ids=["lane", "two recorders"])
def test_a_list_of_ints_sent_is_one_call(sockets: Sockets, recorders: int) -> None:
    a, b = sockets.udp_pair()
    recs = [Recorder() for _ in range(recorders)]
    for rec in recs:
        rec.__enter__()
    try:
        assert a.send_to(b.get_local_address(), [104, 105]) == 2  # PyGObject code passes lists of ints
    finally:
        for rec in reversed(recs):
            rec.__exit__(None, None, None)
    for rec in recs:
        assert rec.df["op"].tolist() == ["send_to"]
        assert rec.df["payload"].tolist() == [b"hi"]
