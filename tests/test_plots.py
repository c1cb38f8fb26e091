"""Pictures of a recording (issue 10): the sequence diagram and the timeline, checked by parsing their SVG.

One scripted recording on 127.0.0.1 holds every case the pictures distinguish: a UDP
exchange, a deliberate loss (a socket that never reads), a wait that times out, a
WOULD_BLOCK, a receive cancelled from another thread while it waits, a TCP exchange, a
multicast datagram to two receivers on ``lo``, and a batch. Each test parses the SVG
(``xml.etree``) and compares its marks with the recording (``flows()``, the rows). Every
blocking call is bounded by a socket timeout.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gsocklab import Gio, GLib, plots
from gsocklab.record import TRAFFIC_SCHEMA, Recorder

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
NS = {"s": "http://www.w3.org/2000/svg"}
GROUP = "239.255.42.77"


def _udp(host: str = "127.0.0.1", port: int = 0, reuse: bool = False) -> Any:
    sock = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP)
    sock.bind(Gio.InetSocketAddress.new_from_string(host, port), reuse)
    sock.set_timeout(2)
    return sock


def _classes(element: ET.Element) -> set[str]:
    return set((element.get("class") or "").split())


def _all(root: ET.Element, cls: str, tag: str = "g") -> list[ET.Element]:
    return [e for e in root.iter(f"{{{NS['s']}}}{tag}") if cls in _classes(e)]


@pytest.fixture(scope="module")
def recording() -> Iterator[Recorder]:
    a, b, silent = _udp(), _udp(), _udp()
    m1 = _udp("0.0.0.0", 0, reuse=True)
    port = m1.get_local_address().get_port()
    m2 = _udp("0.0.0.0", port, reuse=True)
    listener = Gio.Socket.new(F.IPV4, T.STREAM, P.TCP)
    client = Gio.Socket.new(F.IPV4, T.STREAM, P.TCP)
    sockets = [a, b, silent, m1, m2, listener, client]
    group = Gio.InetAddress.new_from_string(GROUP)
    try:
        listener.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), True)
        listener.listen()
        for s in (listener, client):
            s.set_timeout(2)
        with Recorder() as rec:
            for s, label in ((a, "alice"), (b, "bob <b>"), (silent, "silent"), (m1, "m1"), (m2, "m2"),
                             (listener, "server"), (client, "client")):
                rec.attach(s, label=label)
            a.send_to(b.get_local_address(), b"hello <script>alert(1)</script>")
            b.receive_from(None, size=1024)
            a.send_to(silent.get_local_address(), b"nobody reads this")  # the loss
            with pytest.raises(GLib.Error) as timed_out:
                b.condition_timed_wait(GLib.IOCondition.IN, 150_000)
            assert timed_out.value.code == Gio.IOErrorEnum.TIMED_OUT
            b.set_blocking(False)
            with pytest.raises(GLib.Error):
                b.receive(None, size=64)  # WOULD_BLOCK
            b.set_blocking(True)
            cancellable = Gio.Cancellable()
            timer = threading.Timer(0.1, cancellable.cancel)
            timer.start()
            with pytest.raises(GLib.Error):
                b.receive(cancellable, size=64)  # CANCELLED after waiting ~0.1 s
            timer.join(5)
            client.connect(listener.get_local_address())
            server = listener.accept()
            server.set_timeout(2)
            rec.attach(server, label="conn")
            sockets.append(server)
            client.send(b"GET / HTTP/1.0\r\n\r\n")
            server.receive(None, size=1024)
            for r in (m1, m2):
                r.join_multicast_group(group, False, "lo")
            a.set_option(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                         int.from_bytes(socket.inet_aton("127.0.0.1"), "little"))
            a.send_to(Gio.InetSocketAddress.new(group, port), b"to the group")
            m1.receive_from(None, size=64)
            m2.receive_from(None, size=64)
            out = [Gio.OutputMessage(address=b.get_local_address(), vectors=[Gio.OutputVector(buffer=b"x" * 64)])
                   for _ in range(5)]
            a.send_messages(out, 0)
            b.set_blocking(False)
            b.receive_messages([Gio.InputMessage(vectors=[Gio.InputVector(size=256)]) for _ in range(8)], 0)
        yield rec
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="module")
def seq(recording: Recorder) -> Any:
    return plots.sequence(recording)


@pytest.fixture(scope="module")
def root(seq: Any) -> ET.Element:
    return ET.fromstring(seq.svg)


def test_sequence_has_one_lifeline_per_socket(recording: Recorder, root: ET.Element) -> None:
    assert root.get("class") == "gsocklab-sequence"
    drawn = [g.get("data-socket") for g in _all(root, "lifeline")]
    assert drawn == list(dict.fromkeys(recording.df["socket"].tolist()))
    assert "bob <b>" in drawn, "labels are kept as text (escaped in the markup)"


def test_sequence_arrows_are_the_flows(recording: Recorder, root: ET.Element, seq: Any) -> None:
    flows = recording.flows()
    arrows = _all(root, "flow")
    assert len(arrows) == len(flows)
    drawn = {(int(g.get("data-send-seq", -1)), g.get("data-receive-seq")) for g in arrows}
    expected = {(int(s), None if pd.isna(r) else str(int(r))) for s, r in zip(flows["send_seq"], flows["receive_seq"])}
    assert drawn == expected
    lost = [g for g in arrows if "lost" in _classes(g)]
    assert [int(g.get("data-send-seq", -1)) for g in lost] == flows.loc[flows["lost"], "send_seq"].tolist()
    assert len(lost) == 1
    assert all(g.get("data-receive-seq") is None for g in lost)
    pd.testing.assert_frame_equal(seq.data, flows)
    fan_out = flows[flows["destination"].str.startswith(GROUP)]
    assert sorted(fan_out["receiver"].tolist()) == ["m1", "m2"], "the multicast datagram: one arrow per receiver"


def test_sequence_waits_are_the_recorded_waits(recording: Recorder, root: ET.Element) -> None:
    df = recording.df
    waits = _all(root, "wait", "rect")
    waiting = df[(df["waited"] > 0) & (df["batch"].isna() | (df["index"] == 0) | df["index"].isna())]
    assert sorted(int(w.get("data-seq", -1)) for w in waits) == sorted(waiting["seq"].tolist())
    recorded = dict(zip(df["seq"], df["waited"]))
    for w in waits:
        assert float(w.get("data-waited", "nan")) == recorded[int(w.get("data-seq", -1))]
    assert len(waits) >= 2, "the timed-out wait and the cancelled receive both waited"


def test_sequence_marks_each_error_with_its_code(recording: Recorder, root: ET.Element) -> None:
    df = recording.df
    failed = {int(g.get("data-seq", -1)): g.get("data-error") for g in _all(root, "error")}
    expected = {int(s): str(e) for s, e in zip(df["seq"], df["error"]) if pd.notna(e)}
    assert failed == expected
    assert set(failed.values()) == {"TIMED_OUT", "WOULD_BLOCK", "CANCELLED"}
    for g in _all(root, "error"):
        assert g.find("s:title", NS) is not None


def test_every_mark_has_a_tooltip(root: ET.Element) -> None:
    for cls in ("lifeline", "call", "flow"):
        marks = _all(root, cls)
        assert marks
        assert all(g.find("s:title", NS) is not None and g.find("s:title", NS).text for g in marks)  # type: ignore[union-attr]


def test_socket_data_is_escaped(seq: Any, root: ET.Element) -> None:
    assert "<script" not in seq.svg
    assert not list(root.iter(f"{{{NS['s']}}}script"))
    titles = " ".join(t.text or "" for t in root.iter(f"{{{NS['s']}}}title"))
    assert "<script>" in titles, "the payload preview is there, as text"


def test_batches_are_one_call_with_their_count(recording: Recorder, root: ET.Element) -> None:
    calls = {g.get("data-op"): g for g in _all(root, "call")}
    batch = calls["send_messages"]
    assert "send_messages ×5" in "".join(batch.itertext())
    assert "receive_messages ×5" in "".join(calls["receive_messages"].itertext())


def test_notes_for_memberships_and_options(root: ET.Element) -> None:
    notes = {g.get("data-op") for g in _all(root, "note")}
    assert {"join_multicast_group", "set_blocking", "set_timeout"} <= notes


def test_mermaid_golden(recording: Recorder, seq: Any) -> None:
    text = seq.to_mermaid()
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    df = recording.df
    local = df.dropna(subset=["local"]).drop_duplicates("socket", keep="last").set_index("socket")["local"]
    labels = list(dict.fromkeys(df["socket"].tolist()))
    ids = {label: f"s{i}" for i, label in enumerate(labels)}
    expected = ["sequenceDiagram"]
    for label in labels:
        shown = label.replace("<", "_").replace(">", "_").replace("#", "#35;")
        expected.append(f"    participant {ids[label]} as {shown} ({local[label]})")
    flows = recording.flows()
    silent = flows.loc[flows["lost"], "destination"].iloc[0]
    expected += [
        f"    {ids['alice']}->>{ids['bob <b>']}: 31 B",
        f"    {ids['alice']}-x{ids['alice']}: 17 B to {silent} lost",
        f"    Note right of {ids['bob <b>']}: condition_timed_wait TIMED_OUT",
        f"    Note over {ids['bob <b>']}: set_blocking False",
        f"    Note right of {ids['bob <b>']}: receive WOULD_BLOCK",
        f"    Note over {ids['bob <b>']}: set_blocking True",
        f"    Note right of {ids['bob <b>']}: receive CANCELLED",
    ]
    assert lines[:len(expected)] == expected, "\n".join(lines)
    assert f"    {ids['client']}->>{ids['conn']}: 18 B" in lines
    assert f"    {ids['alice']}->>{ids['m1']}: 12 B" in lines
    assert f"    {ids['alice']}->>{ids['m2']}: 12 B" in lines
    assert lines.count(f"    {ids['alice']}->>{ids['bob <b>']}: 64 B") == 5
    # The grammar: every line a participant, message, note or the header (what mermaid parses).
    grammar = re.compile(r"^(sequenceDiagram|    participant s\d+ as [^\n]+|    s\d+(->>|-x)s\d+: [^\n]+|"
                         r"    Note (over|right of) s\d+: [^\n]+)$")
    assert all(grammar.match(line) for line in lines), [line for line in lines if not grammar.match(line)]


def test_sequence_filters(recording: Recorder) -> None:
    picture = plots.sequence(recording, sockets=["alice", "bob <b>"])
    root = ET.fromstring(picture.svg)
    assert [g.get("data-socket") for g in _all(root, "lifeline")] == ["alice", "bob <b>"]
    assert all(row.sender in ("alice", "bob <b>") or row.receiver in ("alice", "bob <b>")
               for row in picture.data.itertuples())
    ordered = ET.fromstring(plots.sequence(recording, scale="order").svg)
    assert len(_all(ordered, "call")) == len(_all(ET.fromstring(plots.sequence(recording).svg), "call"))
    df = recording.df
    cut = float(df["elapsed"].iloc[3])
    early = plots.sequence(recording.df, window=(None, cut))
    assert {int(g.get("data-seq", -1)) for g in _all(ET.fromstring(early.svg), "call")} <= set(
        df.loc[df["elapsed"] <= cut, "seq"].tolist())
    with pytest.raises(ValueError, match="scale"):
        plots.sequence(recording, scale="log")
    with pytest.raises(TypeError, match="rec must be"):
        plots.sequence([1, 2, 3])
    with pytest.raises(TypeError, match="sockets"):
        plots.sequence(recording, sockets="alice")
    with pytest.raises(ValueError, match="window"):
        plots.sequence(recording, window=(2.0, 1.0))


def test_timeline_draws_every_call_with_its_mode_and_wait(recording: Recorder) -> None:
    picture = plots.timeline(recording)
    root = ET.fromstring(picture.svg)
    assert root.get("class") == "gsocklab-timeline"
    assert [g.get("data-socket") for g in _all(root, "lane")] == list(dict.fromkeys(recording.df["socket"]))
    calls = _all(root, "call")
    assert [int(g.get("data-seq", -1)) for g in calls] == picture.data["seq"].tolist()
    modes = dict(zip(picture.data["seq"], picture.data["mode"].astype(str)))
    df = recording.df.set_index("seq")
    for g in calls:
        seq = int(g.get("data-seq", -1))
        row = df.loc[seq]
        blocking, timeout = row["blocking"], row["timeout"]
        expected = ("other" if pd.isna(blocking) else "non-blocking" if not blocking else
                    "timeout" if pd.notna(timeout) and timeout > 0 else "blocking")
        assert g.get("data-mode") == modes[seq] == expected, seq
        waits = [r for r in g.iter(f"{{{NS['s']}}}rect") if "wait" in _classes(r)]
        assert len(waits) == (1 if row["waited"] > 0 else 0)
        for r in waits:
            assert float(r.get("data-waited", "nan")) == row["waited"]
        if pd.notna(row["error"]):
            assert g.get("data-error") == row["error"]
    assert {"timeout", "non-blocking"} <= set(modes.values())
    assert picture.data.dtypes.to_dict() == {k: pd.Series(dtype=v).dtype for k, v in
                                              plots._timeline.TIMELINE_SCHEMA.items()}  # type: ignore[attr-defined]
    assert (picture.data["working"] >= 0).all()
    ordered = plots.timeline(recording, scale="order")
    assert len(_all(ET.fromstring(ordered.svg), "call")) == len(calls)


def test_empty_and_one_socket_recordings_render() -> None:
    with Recorder() as empty:
        pass
    for draw in (plots.sequence, plots.timeline):
        picture = draw(empty)
        ET.fromstring(picture.svg)
        assert len(picture.data) == 0
    sock = _udp()
    try:
        with Recorder() as one:
            sock.send_to(sock.get_local_address(), b"to myself")
            sock.receive_from(None, size=64)
        for draw in (plots.sequence, plots.timeline):
            root = ET.fromstring(draw(one).svg)
            assert len(_all(root, "call")) == 2
        assert len(_all(ET.fromstring(plots.sequence(one).svg), "flow")) == 1
    finally:
        sock.close()


def _synthetic(n: int) -> pd.DataFrame:
    """``n`` rows in TRAFFIC_SCHEMA: four sockets sending to each other in turn, 1 % timeouts."""
    rng = np.random.default_rng(3)
    seq = np.arange(n)
    sockets = np.array(["s0", "s1", "s2", "s3"])[seq % 4]
    send = seq % 2 == 0
    local = np.array([f"127.0.0.1:{5000 + i}" for i in range(4)])[seq % 4]
    peer = np.array([f"127.0.0.1:{5000 + i}" for i in range(4)])[(seq + 1) % 4]
    failed = rng.random(n) < 0.01
    frame = pd.DataFrame({
        "seq": seq, "time": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(seq, unit="ms"),
        "elapsed": seq * 1e-3, "socket": sockets, "host": None, "thread": "MainThread",
        "op": np.where(send, "send_to", "receive_from"), "direction": np.where(send, "out", "in"),
        "family": "IPV4", "type": "DATAGRAM", "local": local, "peer": peer,
        "nbytes": np.where(failed, -1, 64), "payload": None, "condition": None, "ready": None,
        "blocking": True, "timeout": 1.0, "waited": np.where(failed, 1e-3, 0.0), "duration": 2e-4,
        "error": np.where(failed, "TIMED_OUT", None), "message": None, "hint": None,
        "batch": None, "index": None, "flags": None, "via": None,
    })
    frame["nbytes"] = frame["nbytes"].astype("Int64").mask(failed)
    return frame.astype(TRAFFIC_SCHEMA)


def test_a_100000_event_recording_renders_quickly() -> None:
    frame = _synthetic(100_000)
    for draw in (plots.sequence, plots.timeline):
        t0 = time.perf_counter()
        picture = draw(frame)
        elapsed = time.perf_counter() - t0
        assert elapsed < 2.0, f"{draw.__name__}: {elapsed:.2f} s"
        assert len(picture.svg) < 5_000_000
        root = ET.fromstring(picture.svg)
        assert "first" in "".join(root.itertext()), "the picture says it was thinned"


def test_save_and_display(tmp_path: Path, seq: Any) -> None:
    seq.save(tmp_path / "seq.svg")
    seq.save(tmp_path / "seq.html")
    assert ET.parse(tmp_path / "seq.svg").getroot().get("class") == "gsocklab-sequence"
    page = (tmp_path / "seq.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert seq.svg in page
    assert seq._repr_svg_() == seq.svg
    assert seq.svg in seq._repr_html_()
    with pytest.raises(ValueError, match=r"\.svg or \.html"):
        seq.save(tmp_path / "seq.png")
