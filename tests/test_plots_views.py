"""The I/O graph, batch and delivery pictures (issue 10), checked by parsing their SVG.

A scripted recording on 127.0.0.1 holds a UDP exchange, a deliberate loss (a bound socket
that never reads), a batch of eight sent, a non-blocking receive batch asking for sixteen
(partial: eight moved) and one that finds nothing (WOULD_BLOCK). Socket labels and payloads
hold ``<script>`` to check escaping. A hand-built frame holds a multicast datagram to two
receivers, and a synthetic 100,000-row frame checks speed and size. Every blocking call is
bounded by a one-second socket timeout.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gsocklab import Gio, GLib
from gsocklab.plots import batches, delivery, io_graph
from gsocklab.plots._delivery import DELIVERY_SCHEMA
from gsocklab.plots._io_graph import IO_GRAPH_SCHEMA, auto_interval
from gsocklab.record import TRAFFIC_SCHEMA, Recorder
from gsocklab.record._analysis import BATCHES_SCHEMA, flows, summary

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<script>alert(1)</script>"
T0 = pd.Timestamp("2026-01-01", tz="UTC")


def udp(label: str) -> Any:
    """A UDP socket on 127.0.0.1 (a free port), labelled, whose blocking calls give up after 1 s."""
    sock = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    sock.label = label
    sock.set_timeout(1)
    sock.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    return sock


def groups(root: ET.Element, cls: str, tag: str = "g") -> list[ET.Element]:
    """Elements of ``tag`` whose class list holds ``cls``."""
    return [e for e in root.iter(SVG + tag) if cls in (e.get("class") or "").split()]


def tooltip(element: ET.Element) -> str:
    title = element.find(SVG + "title")
    assert title is not None, f"no <title> in {element.get('class')}"
    return title.text or ""


def dtypes(df: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in df.dtypes.items()}


def declared(schema: Any) -> dict[str, str]:
    return {name: str(pd.Series([], dtype=dtype).dtype) for name, dtype in schema.items()}


def no_script(root: ET.Element) -> None:
    assert not [e for e in root.iter() if e.tag.lower().endswith("script")], "markup got through unescaped"


@pytest.fixture(scope="module")
def rec() -> Iterator[Recorder]:
    alice, bob, nobody = udp("alice"), udp("bob " + EVIL), udp("nobody")
    try:
        with Recorder() as recorder:
            alice.send_to(bob.get_local_address(), b"hello")
            bob.receive_from(None, 1024)
            alice.send_to(nobody.get_local_address(), EVIL.encode())  # nobody reads it: lost
            outbox = [Gio.OutputMessage(address=bob.get_local_address(), vectors=[Gio.OutputVector(buffer=b"x" * 64)])
                      for _ in range(8)]
            inbox = [Gio.InputMessage(vectors=[Gio.InputVector(size=256)]) for _ in range(16)]
            assert alice.send_messages(outbox, 0) == 8
            bob.set_blocking(False)
            assert bob.receive_messages(inbox, 0) == 8  # asked 16: partial
            with pytest.raises(GLib.Error) as empty:
                bob.receive_messages(inbox, 0)  # nothing left: WOULD_BLOCK
            assert empty.value.code == Gio.IOErrorEnum.WOULD_BLOCK
        yield recorder
    finally:
        for sock in (alice, bob, nobody):
            sock.close()


# -- io_graph -------------------------------------------------------------------------------------------


def test_io_graph_counts_equal_the_summary(rec: Recorder) -> None:
    picture = io_graph(rec)
    assert picture.kind == "io-graph"
    data = picture.data
    assert dtypes(data) == declared(IO_GRAPH_SCHEMA)
    totals = data.groupby(["socket", "direction"], observed=True)[["messages", "bytes"]].sum()
    expected = summary(rec.df)
    assert totals.loc[("alice", "out")].tolist() == [10, 5 + len(EVIL) + 8 * 64]
    for label, row in expected.iterrows():
        for way in ("out", "in"):
            got = totals.loc[(label, way)].tolist() if (label, way) in totals.index else [0, 0]
            assert got == [row[f"{way}_messages"], row[f"{way}_bytes"]], (label, way)
    assert (data["messages"] > 0).all(), "only intervals with traffic"
    assert data["start"].is_monotonic_increasing or len(data.groupby(["socket", "direction"], observed=True)) > 1


def test_io_graph_svg_has_one_series_per_socket_and_direction(rec: Recorder) -> None:
    picture = io_graph(rec)
    root = ET.fromstring(picture.svg)
    assert root.get("class") == "gsocklab-io-graph"
    no_script(root)
    series = groups(root, "series")
    assert {(g.get("data-socket"), g.get("data-direction")) for g in series} == {
        ("alice", "out"), ("bob " + EVIL, "in")}
    data = picture.data
    for g in series:
        rows = data[(data["socket"] == g.get("data-socket")) & (data["direction"] == g.get("data-direction"))]
        points = [e for e in g.iter() if "point" in (e.get("class") or "").split()]
        assert len(points) == 2 * len(rows), "a marker per interval with traffic, in each panel"
        assert sum(int(p.get("data-messages") or 0) for p in points) == 2 * rows["messages"].sum()
        assert sum(int(p.get("data-bytes") or 0) for p in points) == 2 * rows["bytes"].sum()
        assert all(g.get("data-socket") in tooltip(p) for p in points)
        lines = list(g.iter(SVG + "polyline"))
        assert len(lines) == 2
        dashed = {line.get("stroke-dasharray") is not None for line in lines}
        assert dashed == {g.get("data-direction") == "in"}, "solid out, dashed in"
    assert {p.get("data-panel") for p in groups(root, "panel")} == {"messages", "bytes"}
    assert groups(root, "legend")


def test_io_graph_interval_and_filters(rec: Recorder) -> None:
    whole = io_graph(rec, interval=10)  # the recording lasts far less than 10 s: one interval
    assert len(whole.data) == 2
    assert set(whole.data["start"]) == {0.0}
    alice = io_graph(rec, sockets=["alice"], interval=0.001)
    assert set(alice.data["socket"]) == {"alice"}
    assert alice.data["messages"].sum() == 10
    assert len(groups(ET.fromstring(alice.svg), "series")) == 1
    assert auto_interval(1.0) == 0.02
    assert auto_interval(10.0) == 0.2
    assert auto_interval(0.0) > 0


@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (-1.0, ValueError), (float("nan"), ValueError),
                                              (float("inf"), ValueError), ("1", TypeError), (True, TypeError),
                                              (1e-12, ValueError)])
def test_io_graph_refuses_a_bad_interval(rec: Recorder, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="interval"):
        io_graph(rec, interval=value)


# -- batches --------------------------------------------------------------------------------------------


def test_batches_data_is_the_recorders_batches(rec: Recorder) -> None:
    picture = batches(rec)
    data = picture.data
    assert dtypes(data) == {**declared(BATCHES_SCHEMA), "partial": "boolean"}
    pd.testing.assert_frame_equal(data.drop(columns="partial"), rec.batches())
    assert data["asked"].tolist() == [8, 16, 16]
    assert data["moved"].tolist() == [8, 8, 0]
    assert data["partial"].tolist() == [False, True, True]
    assert data["error"].astype(object).tolist()[2] == "WOULD_BLOCK"


def test_batches_svg_has_a_bar_per_call(rec: Recorder) -> None:
    picture = batches(rec)
    root = ET.fromstring(picture.svg)
    assert root.get("class") == "gsocklab-batches"
    no_script(root)
    bars = groups(root, "batch")
    expected = rec.batches()
    assert len(bars) == len(expected) == 3
    for g, row in zip(bars, expected.itertuples(index=False)):
        assert int(g.get("data-batch") or -1) == row.batch
        assert int(g.get("data-seq") or -1) == row.seq
        assert int(g.get("data-asked") or -1) == row.asked
        assert int(g.get("data-moved") or -1) == row.moved
        assert g.get("data-op") == row.op
        assert g.get("data-socket") == row.socket
        text = tooltip(g)
        assert f"asked {row.asked}" in text
        assert f"moved {row.moved}" in text
        assert row.socket in text
        assert len(groups(g, "moved", "rect")) == 1
        assert len(groups(g, "asked", "rect")) == 1
    partial = [g for g in bars if "partial" in (g.get("class") or "").split()]
    assert [int(g.get("data-batch") or -1) for g in partial] == [1, 2]
    assert all(len([e for e in g.iter() if "partial-mark" in (e.get("class") or "")]) == 1 for g in partial)
    assert bars[2].get("data-error") == "WOULD_BLOCK"
    assert "WOULD_BLOCK" in tooltip(bars[2])
    assert len([e for e in root.iter() if "rate" in (e.get("class") or "").split()]) == 2, "moved 0: no rate"


def test_batches_of_a_frame_do_not_know_asked(rec: Recorder) -> None:
    data = batches(rec.df).data
    assert data["asked"].isna().all()
    assert data["partial"].tolist() == [False, False, True], "only the failed call is known to be partial"


# -- delivery -------------------------------------------------------------------------------------------


def known(value: Any) -> Any:
    """``value``, or None when it is missing (NA and None compare alike)."""
    return None if pd.isna(value) else value


def check_delivery(picture: Any, matched: pd.DataFrame) -> ET.Element:
    """The picture's data and cells against ``flows()``; its root."""
    data = picture.data
    assert dtypes(data) == declared(DELIVERY_SCHEMA)
    assert data["delivered"].sum() == (~matched["lost"]).sum()
    assert data["lost"].sum() == matched["lost"].sum()
    got = matched[~matched["lost"]].groupby(["destination", "receiver"], dropna=False).size()
    rows = data[data["receiver"].notna()].set_index(["destination", "receiver"])["delivered"]
    assert rows.sort_index().to_dict() == got.sort_index().to_dict()
    lost = {known(key): int(count) for key, count in matched[matched["lost"]].groupby(
        "destination", dropna=False).size().items()}
    assert {known(key): count for key, count in data[data["receiver"].isna()].set_index("destination")["lost"]
            .items()} == lost
    root = ET.fromstring(picture.svg)
    assert root.get("class") == "gsocklab-delivery"
    no_script(root)
    cells = [g for g in groups(root, "cell") if "lost" not in (g.get("class") or "").split()]
    lost_cells = groups(root, "lost")
    lost_cells = [g for g in lost_cells if "cell" in (g.get("class") or "").split()]
    assert len(cells) == (data["delivered"] > 0).sum()
    assert len(lost_cells) == (data["lost"] > 0).sum()
    drawn = {(g.get("data-destination"), g.get("data-receiver")): int(g.get("data-count") or -1) for g in cells}
    assert drawn == {key: int(value) for key, value in got.items()}
    assert {g.get("data-destination"): int(g.get("data-count") or -1) for g in lost_cells} == lost
    for g in cells + lost_cells:
        assert tooltip(g)
        assert g.find(SVG + "text") is not None, "the count is written in the cell"
    for g in lost_cells:
        assert g.find(SVG + "path") is not None, "a cross"
    return root


def test_delivery_matrix_of_the_exchange(rec: Recorder) -> None:
    picture = delivery(rec)
    matched = rec.flows()
    root = check_delivery(picture, matched)
    assert picture.data["lost"].sum() == 1
    assert picture.data["delivered"].sum() == 9
    headers = [g.get("data-receiver") for g in groups(root, "receiver") if g.get("data-receiver")]
    assert headers == ["bob " + EVIL]


def row(socket: str, op: str, at: float, **values: Any) -> dict[str, Any]:
    direction = "out" if op.startswith("send") else "in" if op.startswith("receive") else None
    return {"socket": socket, "host": None, "thread": "MainThread", "op": op, "direction": direction, "family": "IPV4",
            "type": "DATAGRAM", "elapsed": at, "time": T0 + pd.Timedelta(seconds=at), "duration": 1e-5,
            "waited": 0.0, "blocking": True, **values}


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    records = [{**r, "seq": seq} for seq, r in enumerate(rows)]
    return pd.DataFrame(records, columns=list(TRAFFIC_SCHEMA)).astype(TRAFFIC_SCHEMA)


def test_delivery_of_a_multicast_datagram_to_two_receivers() -> None:
    group, other = "239.1.2.3:5000", "127.0.0.1:6000"
    df = frame(
        row("m1", "bind", 0.0, local="0.0.0.0:5000"),
        row("m2", "bind", 0.0, local="0.0.0.0:5000"),
        row(EVIL, "send_to", 0.1, local="127.0.0.1:4000", peer=group, nbytes=3, payload=b"hey"),
        row("m1", "receive_from", 0.2, local="0.0.0.0:5000", peer="127.0.0.1:4000", nbytes=3, payload=b"hey"),
        row("m2", "receive_from", 0.3, local="0.0.0.0:5000", peer="127.0.0.1:4000", nbytes=3, payload=b"hey"),
        row(EVIL, "send_to", 0.4, local="127.0.0.1:4000", peer=other, nbytes=2, payload=b"no"),
        row(EVIL, "send_to", 0.5, local="127.0.0.1:4000", peer=other, nbytes=2, payload=b"on"),
    )
    picture = delivery(df)
    matched = flows(df)
    root = check_delivery(picture, matched)
    data = picture.data
    assert data["destination"].tolist() == [group, group, other]
    assert data["receiver"].astype(object).where(data["receiver"].notna(), None).tolist() == ["m1", "m2", None]
    assert data["delivered"].tolist() == [1, 1, 0]
    assert data["lost"].tolist() == [0, 0, 2]
    assert len(groups(root, "empty", "rect")) == 2 + 1, "other x m1, other x m2, group x lost"
    picture = delivery(df, sockets=["m2"])
    assert picture.data["receiver"].tolist() == ["m2"]


# -- every picture --------------------------------------------------------------------------------------

VIEWS = [io_graph, batches, delivery]
SCHEMAS = {"io_graph": IO_GRAPH_SCHEMA, "batches": {**BATCHES_SCHEMA, "partial": "boolean"},
           "delivery": DELIVERY_SCHEMA}


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__)
def test_empty_recording_renders(view: Any) -> None:
    with Recorder() as empty:
        pass
    for source in (empty, frame()):
        picture = view(source)
        root = ET.fromstring(picture.svg)
        assert root.get("class") == f"gsocklab-{picture.kind}"
        assert "nothing recorded" in "".join(root.itertext()) or "no batched calls" in "".join(root.itertext())
        assert len(picture.data) == 0
        assert dtypes(picture.data) == declared(SCHEMAS[view.__name__])


def test_one_socket_recording_renders() -> None:
    sock = udp("solo")
    try:
        with Recorder() as one:
            sock.send_to(sock.get_local_address(), b"to myself")
            sock.receive_from(None, 64)
    finally:
        sock.close()
    graph = ET.fromstring(io_graph(one).svg)
    assert {(g.get("data-socket"), g.get("data-direction")) for g in groups(graph, "series")} == {
        ("solo", "out"), ("solo", "in")}
    assert "no batched calls" in "".join(ET.fromstring(batches(one).svg).itertext())
    cells = groups(ET.fromstring(delivery(one).svg), "cell")
    assert [(g.get("data-receiver"), g.get("data-count")) for g in cells] == [("solo", "1")]


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.__name__)
def test_every_mark_has_a_tooltip(rec: Recorder, view: Any) -> None:
    root = ET.fromstring(view(rec).svg)
    for cls in ("series", "point", "batch", "cell", "empty", "destination", "receiver"):
        for element in [e for e in root.iter() if cls in (e.get("class") or "").split()]:
            assert tooltip(element), cls


def synthetic(n: int) -> pd.DataFrame:
    """``n`` rows in TRAFFIC_SCHEMA: blocks of 16 rows, eight single sends and receives, then a batch of eight.

    Single sends go from ``tx1`` (port 4000) to ``rx2`` (port 5000) and are received one by
    one; batches alternate: ``tx3`` (4001) sends eight to ``rx4`` (5001), which receives them
    in one call. Every seventh block's single receives get other bytes (the sends are lost).
    """
    i = np.arange(n)
    block, pos = i // 16, i % 16
    batched = pos >= 8
    sending = np.where(batched, block % 2 == 0, pos % 2 == 0)
    single = np.where(sending, "send_to", "receive_from")
    op = np.where(batched, np.where(sending, "send_messages", "receive_messages"), single)
    socket = np.where(batched, np.where(sending, "tx3", "rx4"), np.where(sending, "tx1", "rx2"))
    ports = np.where(batched, np.where(sending, 4001, 5001), np.where(sending, 4000, 5000))
    peers = np.where(batched, np.where(sending, 5001, 4001), np.where(sending, 5000, 4000))
    lost = (block % 7 == 0) & ~batched & ~sending
    payload = [b"l%d" % k if gone else (b"b%d-%d" % (b - (not s), p) if m else b"d%d-%d" % (b, p // 2))
               for k, b, p, m, s, gone in zip(i.tolist(), block.tolist(), pos.tolist(), batched.tolist(),
                                              sending.tolist(), lost.tolist())]
    elapsed = np.where(batched, (i - pos + 8) * 1e-4, i * 1e-4)
    none = [None] * n
    df = pd.DataFrame({
        "seq": i, "time": T0 + pd.to_timedelta(elapsed, unit="s"), "elapsed": elapsed, "socket": socket,
        "host": None, "thread": "MainThread", "op": op, "direction": np.where(sending, "out", "in"), "family": "IPV4",
        "type": "DATAGRAM", "local": np.char.add("127.0.0.1:", ports.astype(str)),
        "peer": np.char.add("127.0.0.1:", peers.astype(str)), "nbytes": [len(p) for p in payload],
        "payload": payload, "condition": none, "ready": none, "blocking": True, "timeout": 1.0, "waited": 0.0,
        "duration": 2e-5, "error": none, "message": none, "hint": none,
        "batch": pd.array(np.where(batched, block, -1), dtype="Int64"), "index": pd.array(pos - 8, dtype="Int64"),
        "flags": none, "via": none,
    })
    df["batch"] = df["batch"].mask(~batched)
    df["index"] = df["index"].mask(~batched)
    return df.astype(TRAFFIC_SCHEMA)


def test_a_100000_event_recording_renders_quickly() -> None:
    df = synthetic(100_000)
    assert dtypes(df) == declared(TRAFFIC_SCHEMA)
    times = {}
    for view in VIEWS:
        t0 = time.perf_counter()
        picture = view(df)
        times[view.__name__] = elapsed = time.perf_counter() - t0
        assert elapsed < 2.0, f"{view.__name__}: {elapsed:.2f} s"
        assert len(picture.svg) < 5_000_000, f"{view.__name__}: {len(picture.svg):,} bytes"
        ET.fromstring(picture.svg)
        if view is io_graph:
            totals = picture.data.groupby(["socket", "direction"], observed=True)["messages"].sum()
            expected = summary(df)
            assert totals.groupby(level=0).sum().to_dict() == (expected["out_messages"] + expected["in_messages"]
                                                               ).to_dict()
        if view is batches:
            assert len(picture.data) == 100_000 // 16
            assert "first 2,000 of 6,250 batched calls drawn" in "".join(ET.fromstring(picture.svg).itertext())
            assert len(groups(ET.fromstring(picture.svg), "batch")) == 2000
        if view is delivery:
            assert picture.data["lost"].sum() > 0
            assert picture.data["delivered"].sum() + picture.data["lost"].sum() == len(flows(df))
    print(times)


def test_unknown_destination_and_an_empty_window() -> None:
    df = frame(
        row("a", "send", 0.1, local="127.0.0.1:4000", peer=None, nbytes=3, payload=b"hey"),
        row("a", "send_to", 0.2, local="127.0.0.1:4000", peer="127.0.0.1:5000", nbytes=3, payload=b"hey"),
        row("b", "receive_from", 0.3, local="127.0.0.1:5000", peer="127.0.0.1:4000", nbytes=3, payload=b"hey"),
    )
    picture = delivery(df)
    check_delivery(picture, flows(df))
    assert picture.data["destination"].isna().tolist() == [True, False]
    (unknown,) = groups(ET.fromstring(picture.svg), "lost")[1:]
    assert unknown.get("data-destination") is None
    assert tooltip(unknown).startswith("(unknown)")
    for view in VIEWS:
        picture = view(df, window=(5, 6))
        assert "window asked for" in "".join(ET.fromstring(picture.svg).itertext())
        assert len(picture.data) == 0


def test_io_graph_draws_the_first_eight_sockets() -> None:
    df = frame(*(row(f"s{i}", "send_to", 0.1 * i, local=f"127.0.0.1:{4000 + i}", peer="127.0.0.1:9", nbytes=i + 1,
                     payload=b"x" * (i + 1)) for i in range(10)))
    picture = io_graph(df)
    root = ET.fromstring(picture.svg)
    assert [g.get("data-socket") for g in groups(root, "series")] == [f"s{i}" for i in range(8)]
    assert "first 8 of 10 sockets drawn" in "".join(root.itertext())
    assert picture.data["socket"].tolist() == [f"s{i}" for i in range(10)]
    assert picture.data["bytes"].sum() == 55
