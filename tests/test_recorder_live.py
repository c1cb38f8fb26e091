"""What live views read from a recorder (issue 11): ``rows_recorded``, ``tail(n)`` and ``totals()``.

``totals()`` counts incrementally with numpy and must agree with ``summary()``, which counts
the whole frame with pandas; ``tail(n)`` builds only the last rows and must equal the end
of ``to_dataframe()``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from gsocklab import Gio, GLib
from gsocklab.record import Recorder

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol


def _udp() -> Any:
    sock = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
    sock.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    sock.set_timeout(1)
    return sock


def _scenario(rec: Recorder, a: Any, b: Any, rounds: int) -> None:
    with rec:
        for i in range(rounds):
            a.send_to(b.get_local_address(), b"x" * (i % 7))
            b.receive_from(None, size=64)
        b.set_blocking(False)
        with pytest.raises(GLib.Error):
            b.receive(None, size=8)
        out = [Gio.OutputMessage(address=b.get_local_address(), vectors=[Gio.OutputVector(buffer=b"yy")])
               for _ in range(5)]
        a.send_messages(out, 0)
        b.receive_messages([Gio.InputMessage(vectors=[Gio.InputVector(size=16)]) for _ in range(9)], 0)
        with pytest.raises(GLib.Error):
            b.receive_messages([Gio.InputMessage(vectors=[Gio.InputVector(size=16)])], 0)
        b.set_blocking(True)


def test_totals_agree_with_summary_and_grow_incrementally() -> None:
    a, b = _udp(), _udp()
    rec = Recorder()
    try:
        before = rec.rows_recorded
        _scenario(rec, a, b, 10)
        rec.flush()
        first = rec.totals()
        assert rec.rows_recorded > before
        _scenario(rec, a, b, 7)  # more rows: only these are counted now
        rec.flush()
        totals = rec.totals()
        summary = rec.summary()
        columns = ["calls", "out_messages", "out_bytes", "in_messages", "in_bytes", "errors"]
        pd.testing.assert_frame_equal(totals[columns].sort_index(), summary[columns].sort_index(),
                                      check_index_type=False)
        assert totals["error_WOULD_BLOCK"].sum() == 4
        assert (totals["rows"] >= first["rows"]).all()
        assert int(totals["rows"].sum()) == len(rec.df)
    finally:
        a.close()
        b.close()


def test_tail_is_the_end_of_the_frame() -> None:
    a, b = _udp(), _udp()
    rec = Recorder()
    try:
        _scenario(rec, a, b, 20)
        df = rec.df
        for n in (0, 1, 5, len(df), len(df) + 10):
            tail = rec.tail(n)
            expected = df.tail(n).reset_index(drop=True) if n else df.iloc[0:0]
            columns = [c for c in df.columns if c != "hint"]  # hints may depend on rows before the tail
            pd.testing.assert_frame_equal(tail[columns].reset_index(drop=True),
                                          expected[columns].reset_index(drop=True))
        with pytest.raises(TypeError, match="rows"):
            rec.tail(-1)
    finally:
        a.close()
        b.close()


def test_clear_starts_the_totals_afresh() -> None:
    a, b = _udp(), _udp()
    rec = Recorder()
    try:
        _scenario(rec, a, b, 3)
        rec.flush()
        assert len(rec.totals())
        rec.clear()
        assert len(rec.totals()) == 0
        assert rec.rows_recorded == 0
    finally:
        a.close()
        b.close()
