"""The analyses of a recording: `summary`, `flows` and `batches`.

Most tests build small frames by hand, through `TRAFFIC_SCHEMA`, so each rule is checked on
rows whose every value is known. The end-to-end tests at the bottom record real loopback
traffic with a `Recorder` and check the analyses of what it recorded.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from gsocklab import Gio, GLib
from gsocklab.record import TRAFFIC_SCHEMA
from gsocklab.record._analysis import BATCHES_SCHEMA, FLOWS_SCHEMA, SUMMARY_SCHEMA, batches, flows, summary

T0 = pd.Timestamp("2025-01-01 12:00:00", tz="UTC")
A, B, C = "127.0.0.1:4000", "127.0.0.1:5000", "127.0.0.1:6000"


def row(socket: str, op: str, *, at: float, duration: float = 1e-5, **values: Any) -> dict[str, Any]:
    """One event: ``at`` is its ``elapsed``; direction follows from ``op`` as in a recording."""
    direction = "out" if op.startswith("send") else "in" if op.startswith("receive") else None
    return {"socket": socket, "host": None, "thread": "MainThread", "op": op, "direction": direction, "family": "IPV4",
            "type": "DATAGRAM", "elapsed": at, "time": T0 + pd.Timedelta(seconds=at), "duration": duration,
            "waited": 0.0, "blocking": True, **values}


def send(socket: str, local: str, peer: str, data: bytes, at: float, **values: Any) -> dict[str, Any]:
    op = values.pop("op", "send_to")
    return row(socket, op, at=at, local=local, peer=peer, nbytes=len(data), payload=data, **values)


def recv(socket: str, local: str, peer: str | None, data: bytes, at: float, **values: Any) -> dict[str, Any]:
    op = values.pop("op", "receive_from")
    return row(socket, op, at=at, local=local, peer=peer, nbytes=len(data), payload=data, **values)


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    """A recording frame of ``rows``, in order (``seq`` 0, 1, …), with the schema's dtypes."""
    records = [{**r, "seq": seq} for seq, r in enumerate(rows)]
    return pd.DataFrame(records, columns=list(TRAFFIC_SCHEMA)).astype(TRAFFIC_SCHEMA)


def empty() -> pd.DataFrame:
    return frame()


def dtypes(df: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in df.dtypes.items()}


def schema_dtypes(schema: Any) -> dict[str, str]:
    return {name: str(pd.Series([], dtype=dtype).dtype) for name, dtype in schema.items()}


# -- input checks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("analysis", [summary, flows, batches], ids=["summary", "flows", "batches"])
def test_a_frame_without_the_columns_is_refused(analysis: Any) -> None:
    with pytest.raises(ValueError, match="missing column"):
        analysis(pd.DataFrame({"seq": [0]}))


@pytest.mark.parametrize(
    ("analysis", "schema"),
    [(flows, FLOWS_SCHEMA), (batches, BATCHES_SCHEMA)],
    ids=["flows", "batches"],
)
def test_empty_recording_gives_the_declared_columns(analysis: Any, schema: Any) -> None:
    result = analysis(empty())
    assert len(result) == 0
    assert dtypes(result) == schema_dtypes(schema)


# -- summary ------------------------------------------------------------------------------------------


def test_summary_of_empty_recording() -> None:
    result = summary(empty())
    assert len(result) == 0
    assert result.index.name == "socket"
    assert dtypes(result) == schema_dtypes(SUMMARY_SCHEMA)


@pytest.fixture
def busy() -> pd.DataFrame:
    """Two sockets: a sender with one batch, and a receiver that times out and would block."""
    return frame(
        row("bob", "bind", at=0.0, local=B),
        row("alice", "bind", at=0.1, local=A),
        send("alice", A, B, b"hello", at=0.2),
        # send_messages: three messages, then the error of the call (one row, index missing)
        *(send("alice", A, B, b"m%d" % i, at=0.3, op="send_messages", batch=0, index=i, waited=0.5)
          for i in range(3)),
        row("alice", "send_messages", at=0.3, local=A, batch=0, waited=0.5, error="WOULD_BLOCK",
            message="Resource temporarily unavailable"),
        recv("bob", B, A, b"hello", at=0.4),
        row("bob", "receive_from", at=0.5, local=B, waited=1.0, error="TIMED_OUT", message="Socket I/O timed out"),
        row("bob", "receive", at=1.6, local=B, blocking=False, error="WOULD_BLOCK",
            message="Resource temporarily unavailable"),
        row("bob", "receive_from", at=1.7, local=B, waited=2.0, error="TIMED_OUT", message="Socket I/O timed out"),
    )


def test_summary_counts_messages_bytes_and_errors(busy: pd.DataFrame) -> None:
    result = summary(busy)
    assert list(result.index) == ["bob", "alice"], "sockets in order of first appearance"
    assert list(result.columns) == [*SUMMARY_SCHEMA, "error_TIMED_OUT", "error_WOULD_BLOCK"]
    alice, bob = result.loc["alice"], result.loc["bob"]
    # every message of the batch counts; the batch is one call
    assert (alice.out_messages, alice.out_bytes, alice.in_messages, alice.in_bytes) == (4, 11, 0, 0)
    assert alice.calls == 3  # bind, send_to, send_messages
    assert (alice.errors, alice.error_WOULD_BLOCK, alice.would_block, alice.timeouts) == (1, 1, 1, 0)
    assert (bob.out_messages, bob.in_messages, bob.in_bytes) == (0, 1, 5)
    assert (bob.calls, bob.errors, bob.timeouts, bob.would_block, bob.error_TIMED_OUT) == (5, 3, 2, 1, 2)
    assert (bob.family, bob.type, bob.local) == ("IPV4", "DATAGRAM", B)


def test_summary_waits_count_a_batch_once(busy: pd.DataFrame) -> None:
    result = summary(busy)
    assert result.loc["alice", "waited_total"] == pytest.approx(0.5)  # not 4 x 0.5
    assert result.loc["alice", "waited_mean"] == pytest.approx(0.5 / 3)
    assert result.loc["bob", "waited_total"] == pytest.approx(3.0)
    assert result.loc["bob", "waited_mean"] == pytest.approx(3.0 / 5)


def test_summary_dtypes(busy: pd.DataFrame) -> None:
    result = summary(busy)
    expected = schema_dtypes(SUMMARY_SCHEMA) | {"error_TIMED_OUT": "int64", "error_WOULD_BLOCK": "int64"}
    assert dtypes(result) == expected
    assert str(result.index.dtype) == str(pd.StringDtype())


def test_summary_without_errors_has_only_the_fixed_columns() -> None:
    result = summary(frame(send("alice", A, B, b"x", at=0.0), recv("bob", B, A, b"x", at=0.1)))
    assert list(result.columns) == list(SUMMARY_SCHEMA)
    assert result["timeouts"].tolist() == [0, 0]


def test_summary_end_of_stream_is_not_a_message() -> None:
    stream = {"type": "STREAM"}
    result = summary(frame(
        row("srv", "receive", at=0.0, local=B, peer=A, nbytes=4, payload=b"data", **stream),
        row("srv", "receive", at=0.1, local=B, peer=A, nbytes=0, payload=b"", **stream),
    ))
    assert (result.loc["srv", "in_messages"], result.loc["srv", "in_bytes"], result.loc["srv", "calls"]) == (1, 4, 2)


# -- flows: datagrams ---------------------------------------------------------------------------------


def test_flow_matched_and_lost() -> None:
    df = frame(
        send("alice", A, B, b"to bob", at=1.0),
        send("alice", A, C, b"to nobody", at=1.1),
        recv("bob", B, A, b"to bob", at=1.2, duration=0.05),
    )
    result = flows(df)
    assert dtypes(result) == schema_dtypes(FLOWS_SCHEMA)
    assert result["send_seq"].tolist() == [0, 1]
    assert result["lost"].tolist() == [False, True]
    found, lost = result.iloc[0], result.iloc[1]
    assert (found.receive_seq, found.sender, found.receiver, found.source, found.destination) == (2, "alice", "bob",
                                                                                                   A, B)
    assert (found["nbytes"], found.payload, found.type) == (6, b"to bob", "DATAGRAM")
    assert found.latency == pytest.approx(1.25 - 1.0), "receive end minus send start"
    assert found.sent_at == T0 + pd.Timedelta(seconds=1.0)
    assert found.received_at == T0 + pd.Timedelta(seconds=1.25)
    assert pd.isna(lost.receive_seq)
    assert pd.isna(lost.receiver)
    assert pd.isna(lost.latency)
    assert pd.isna(lost.received_at)
    assert (lost.destination, lost.payload) == (C, b"to nobody")


def test_latency_of_a_receive_that_waited_before_the_send() -> None:
    # bob's blocking receive starts at 0.0 and returns at 0.52; alice sends at 0.5
    df = frame(send("alice", A, B, b"x", at=0.5), recv("bob", B, A, b"x", at=0.0, duration=0.52, waited=0.5))
    assert flows(df)["latency"].tolist() == [pytest.approx(0.02)]


def test_equal_datagrams_match_in_order_and_the_last_is_lost() -> None:
    df = frame(
        send("alice", A, B, b"same", at=0.0),
        send("alice", A, B, b"same", at=0.1),
        send("alice", A, B, b"same", at=0.2),
        recv("bob", B, A, b"same", at=0.3),
        recv("bob", B, A, b"same", at=0.4),
    )
    result = flows(df)
    assert result["receive_seq"].tolist() == [3, 4, pd.NA]
    assert result["lost"].tolist() == [False, False, True]


def test_a_receive_is_matched_at_most_once() -> None:
    df = frame(send("alice", A, B, b"once", at=0.1), recv("bob", B, A, b"once", at=0.2),
               recv("bob", B, A, b"once", at=0.3))
    result = flows(df)
    assert len(result) == 1
    assert result["receive_seq"].tolist() == [1]


def test_a_receive_that_ended_before_the_send_started_does_not_match() -> None:
    # the first receive got a copy sent before the recording started
    df = frame(recv("bob", B, A, b"tick", at=0.0), send("alice", A, B, b"tick", at=0.5),
               recv("bob", B, A, b"tick", at=0.6))
    assert flows(df)["receive_seq"].tolist() == [2]


def test_payload_and_size_must_agree() -> None:
    df = frame(
        send("alice", A, B, b"abcdef", at=0.0),
        send("alice", A, B, b"ghijkl", at=0.1),
        recv("bob", B, A, b"ghijkl", at=0.2),
        recv("bob", B, A, b"abc", at=0.3),  # a truncated receive of the first one: no match
    )
    result = flows(df)
    assert result["receive_seq"].tolist() == [pd.NA, 2]
    assert result["lost"].tolist() == [True, False]


def test_addresses_must_agree() -> None:
    df = frame(
        send("alice", A, B, b"hi", at=0.0),
        send("carol", C, B, b"hi", at=0.1),
        # bob's only receive says it came from carol's port: it is carol's, alice's is lost
        recv("bob", B, C, b"hi", at=0.2),
        # dave is bound elsewhere: a datagram to bob is never dave's
        recv("dave", "127.0.0.1:7000", A, b"hi", at=0.3),
    )
    result = flows(df)
    assert result[["sender", "receive_seq"]].values.tolist() == [["alice", pd.NA], ["carol", 2]]


def test_same_payload_to_two_receivers() -> None:
    df = frame(
        send("alice", A, B, b"news", at=0.0),
        send("alice", A, C, b"news", at=0.1),
        recv("carol", C, A, b"news", at=0.2),
        recv("bob", B, A, b"news", at=0.3),
    )
    result = flows(df)
    assert result[["destination", "receiver", "receive_seq"]].values.tolist() == [[B, "bob", 3], [C, "carol", 2]]


def test_wildcard_bindings_and_unknown_sources() -> None:
    df = frame(
        # alice bound to 0.0.0.0: bob sees her as 127.0.0.1 with the same port
        send("alice", "0.0.0.0:4000", B, b"one", at=0.0),
        recv("bob", B, "127.0.0.1:4000", b"one", at=0.1),
        # carol is bound to 0.0.0.0:6000 and receives what is sent to 127.0.0.1:6000
        send("alice", "0.0.0.0:4000", C, b"two", at=0.2),
        recv("carol", "0.0.0.0:6000", "127.0.0.1:4000", b"two", at=0.3),
        # receive() tells no source: destination and content suffice
        send("alice", "0.0.0.0:4000", B, b"three", at=0.4),
        recv("bob", B, None, b"three", at=0.5, op="receive"),
    )
    result = flows(df)
    assert result["receive_seq"].tolist() == [1, 3, 5]
    assert result["receiver"].tolist() == ["bob", "carol", "bob"]


def test_exact_binding_wins_over_wildcard() -> None:
    df = frame(
        send("alice", A, B, b"x", at=0.0),
        recv("wild", "0.0.0.0:5000", A, b"x", at=0.1),
        recv("bob", B, A, b"x", at=0.2),
    )
    result = flows(df)
    assert result[["receiver", "receive_seq"]].values.tolist() == [["bob", 2]]


def test_multicast_datagram_reaches_every_member() -> None:
    group = "239.255.10.10:5000"
    df = frame(
        send("alice", A, group, b"to all", at=0.0),
        recv("m1", group, A, b"to all", at=0.1),
        recv("m2", "0.0.0.0:5000", A, b"to all", at=0.2),
        send("alice", A, group, b"to none", at=0.3),
    )
    result = flows(df)
    assert result[["send_seq", "receiver", "lost"]].values.tolist() == [[0, "m1", False], [0, "m2", False],
                                                                        [3, pd.NA, True]]


def test_failed_calls_and_other_ops_are_not_flows() -> None:
    df = frame(
        row("alice", "bind", at=0.0, local=A),
        row("alice", "send_to", at=0.1, local=A, peer=B, error="MESSAGE_TOO_LARGE", message="too long"),
        row("bob", "receive_from", at=0.2, local=B, error="TIMED_OUT", message="Socket I/O timed out"),
        row("bob", "condition_check", at=0.3, local=B, condition="IN", ready="0"),
    )
    assert len(flows(df)) == 0


def test_batched_messages_match_one_by_one() -> None:
    df = frame(
        *(send("alice", A, B, b"msg %d" % i, at=0.0, op="send_messages", batch=0, index=i) for i in range(4)),
        *(recv("bob", B, A, b"msg %d" % i, at=0.1, op="receive_messages", batch=1, index=i) for i in (0, 1, 3)),
    )
    result = flows(df)
    assert result["receive_seq"].tolist() == [4, 5, pd.NA, 6]
    assert result["lost"].sum() == 1


def test_row_order_of_the_input_does_not_matter() -> None:
    rows = [send("alice", A, B, b"p%d" % (i % 3), at=i / 10) for i in range(12)]
    rows += [recv("bob", B, A, b"p%d" % (i % 3), at=i / 10 + 0.05) for i in range(12) if i % 4]
    df = frame(*rows)
    expected = flows(df)
    shuffled = df.sample(frac=1, random_state=random.Random(4).randrange(2**31))
    pd.testing.assert_frame_equal(flows(shuffled), expected)
    assert expected["lost"].sum() == 3


# -- flows: streams -----------------------------------------------------------------------------------


def test_stream_chunks_match_by_position() -> None:
    stream = {"type": "STREAM"}
    client, server = "127.0.0.1:40000", B
    df = frame(
        send("cli", client, server, b"abc", at=0.0, op="send", **stream),
        send("cli", client, server, b"def", at=0.1, op="send", **stream),
        send("cli", client, server, b"ghi", at=0.2, op="send", **stream),
        recv("srv", server, client, b"ab", at=0.3, op="receive", **stream),
        recv("srv", server, client, b"cdef", at=0.4, op="receive", **stream),
        recv("srv", server, client, b"g", at=0.5, op="receive", **stream),  # "hi" never read
        recv("srv", server, client, b"", at=0.6, op="receive", **stream),   # end of stream
        # another connection to the same server port carries other bytes
        send("cli2", "127.0.0.1:40001", server, b"zz", at=0.7, op="send", **stream),
        recv("srv2", server, "127.0.0.1:40001", b"zz", at=0.8, op="receive", **stream),
    )
    result = flows(df)
    assert result[["payload", "receive_seq", "lost"]].values.tolist() == [
        [b"abc", 4, False], [b"def", 4, False], [b"ghi", pd.NA, True], [b"zz", 8, False]]
    assert result["type"].tolist() == ["STREAM"] * 4
    assert result["latency"].iloc[0] == pytest.approx(0.4 + 1e-5)


# -- batches ------------------------------------------------------------------------------------------


@pytest.fixture
def batched() -> pd.DataFrame:
    return frame(
        send("alice", A, B, b"plain", at=0.0),
        *(send("alice", A, B, b"%02d" % i, at=0.1, duration=0.002, op="send_messages", batch=0, index=i, flags=0)
          for i in range(16)),
        *(recv("bob", B, A, b"%02d" % i, at=0.2, duration=0.001, op="receive_messages", batch=1, index=i,
               waited=0.0005) for i in range(10)),
        row("bob", "receive_messages", at=0.3, duration=0.0001, local=B, batch=2, blocking=False,
            error="WOULD_BLOCK", message="Resource temporarily unavailable"),
        *(recv("bob", B, A, b"%02d" % i, at=0.4, duration=1.0, op="receive_messages", batch=3, index=i - 10,
               waited=0.99) for i in range(10, 16)),
        row("bob", "receive_messages", at=0.4, duration=1.0, local=B, batch=3, waited=0.99, error="TIMED_OUT",
            message="Socket I/O timed out"),
        row("bob", "receive_messages", at=1.5, duration=0.0, local=B, batch=4),
    )


def test_batches_one_row_per_call(batched: pd.DataFrame) -> None:
    result = batches(batched)
    assert dtypes(result) == schema_dtypes(BATCHES_SCHEMA)
    assert result["batch"].tolist() == [0, 1, 2, 3, 4]
    assert result["op"].tolist() == ["send_messages", "receive_messages", "receive_messages", "receive_messages",
                                     "receive_messages"]
    assert result["socket"].tolist() == ["alice", "bob", "bob", "bob", "bob"]
    assert result["seq"].tolist() == [1, 17, 27, 28, 35]
    assert result["moved"].tolist() == [16, 10, 0, 6, 0]
    assert result["nbytes"].tolist() == [32, 20, 0, 12, 0]
    assert result["duration"].tolist() == pytest.approx([0.002, 0.001, 0.0001, 1.0, 0.0])
    assert result["waited"].tolist() == pytest.approx([0.0, 0.0005, 0.0, 0.99, 0.0])
    assert result["time"].iloc[0] == T0 + pd.Timedelta(seconds=0.1)


def test_batches_errors_and_partial_success(batched: pd.DataFrame) -> None:
    result = batches(batched).set_index("batch")
    assert result["error"].astype(object).where(result["error"].notna(), None).tolist() == [
        None, None, "WOULD_BLOCK", "TIMED_OUT", None]
    assert result.loc[3, "message"] == "Socket I/O timed out"
    assert pd.isna(result.loc[0, "message"])


def test_batches_rate(batched: pd.DataFrame) -> None:
    rate = batches(batched)["messages_per_second"]
    assert rate.iloc[:4].tolist() == pytest.approx([8000.0, 10000.0, 0.0, 6.0])
    assert pd.isna(rate.iloc[4]), "no rate for a call that took no measurable time"


def test_batches_asked(batched: pd.DataFrame) -> None:
    assert batches(batched)["asked"].isna().all(), "the frame alone does not say"
    asked = batches(batched, asked={0: 16, 1: 32, 3: 8})["asked"]
    assert asked.tolist() == [16, 32, pd.NA, 8, pd.NA]
    assert str(asked.dtype) == "Int64"
    assert batches(batched, asked=pd.Series({2: 4}))["asked"].tolist() == [pd.NA, pd.NA, 4, pd.NA, pd.NA]


def test_batches_keep_the_op_categories_of_the_frame() -> None:
    df = frame(send("alice", A, B, b"x", at=0.0, op="send_messages", batch=7, index=0))
    assert batches(df)["op"].dtype == df["op"].dtype


# -- end to end: recorded loopback traffic ------------------------------------------------------------


def _udp(timeout: int = 2) -> Any:
    sock = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    sock.set_timeout(timeout)
    sock.bind(Gio.InetSocketAddress.new_from_string("127.0.0.1", 0), False)
    return sock


@pytest.fixture
def udp() -> Iterator[Any]:
    """Makes loopback UDP sockets (timeout 2 s) and closes them after the test."""
    made: list[Any] = []

    def make(label: str) -> Any:
        sock = _udp()
        sock.label = label
        made.append(sock)
        return sock

    yield make
    for sock in made:
        sock.close()


def test_recorded_exchange_with_one_lost_datagram(udp: Any) -> None:
    from gsocklab import Recorder

    with Recorder() as rec:
        alice, bob, nobody = udp("alice"), udp("bob"), udp("nobody")  # nobody never reads
        for i in range(5):
            alice.send_to(bob.get_local_address(), b"datagram %d" % i)
            if i == 2:
                alice.send_to(nobody.get_local_address(), b"datagram 2")  # same bytes, other port
        received = [bob.receive_from(None, 64)[2] for _ in range(5)]
        bob.send_to(alice.get_local_address(), b"thanks")
        assert alice.receive_from(None, 64)[2] == b"thanks"
        bob.set_timeout(1)
        with pytest.raises(GLib.Error) as caught:
            bob.receive_from(None, 64)
        assert caught.value.code == Gio.IOErrorEnum.TIMED_OUT
    assert received == [b"datagram %d" % i for i in range(5)]

    result = flows(rec.to_dataframe())
    assert len(result) == 7
    lost = result[result["lost"]]
    assert len(lost) == 1, result
    assert (lost["sender"].item(), lost["payload"].item()) == ("alice", b"datagram 2")
    assert lost["destination"].item().endswith(f":{nobody.get_local_address().get_port()}")
    found = result[~result["lost"]]
    assert found["receiver"].tolist() == ["bob"] * 5 + ["alice"]
    assert found["latency"].between(0, 1).all()

    table = summary(rec.to_dataframe())
    pd.testing.assert_frame_equal(rec.summary(), table)
    pd.testing.assert_frame_equal(rec.flows(), result)
    assert table.loc["alice", ["out_messages", "out_bytes", "in_messages", "in_bytes"]].tolist() == [6, 60, 1, 6]
    assert table.loc["bob", ["out_messages", "in_messages", "in_bytes", "timeouts", "errors"]].tolist() == [
        1, 5, 50, 1, 1]
    assert table.loc["bob", "error_TIMED_OUT"] == 1
    assert 0.9 <= table.loc["bob", "waited_total"] < 1.9
    assert table.loc["nobody", ["out_messages", "in_messages", "errors"]].tolist() == [0, 0, 0]


def test_recorded_batches(udp: Any) -> None:
    from gsocklab import Recorder

    rec = Recorder()
    alice, bob = udp("alice"), udp("bob")
    outbox = [Gio.OutputMessage(address=bob.get_local_address(), vectors=[b"batch msg %02d" % i]) for i in range(16)]
    inbox = [Gio.InputMessage(vectors=[Gio.InputVector(size=64)]) for _ in range(16)]
    with rec:
        assert alice.send_messages(outbox, 0) == 16
        assert bob.receive_messages(inbox, 0) == 16  # blocking: returns when all 16 are filled
        bob.set_blocking(False)
        with pytest.raises(GLib.Error) as caught:
            bob.receive_messages(inbox, 0)
        assert caught.value.code == Gio.IOErrorEnum.WOULD_BLOCK
    df = rec.to_dataframe()

    result = batches(df)
    assert result["op"].tolist() == ["send_messages", "receive_messages", "receive_messages"]
    assert result["socket"].tolist() == ["alice", "bob", "bob"]
    assert result["moved"].tolist() == [16, 16, 0]
    assert result["nbytes"].tolist() == [16 * 12, 16 * 12, 0]
    assert result["error"].astype(object).tolist()[2] == "WOULD_BLOCK"
    assert (result["messages_per_second"].iloc[:2] > 0).all()

    assert rec.batches()["asked"].tolist() == [16, 16, 16]
    pd.testing.assert_frame_equal(rec.batches().drop(columns="asked"), result.drop(columns="asked"))

    matched = flows(df)
    assert len(matched) == 16
    assert not matched["lost"].any()
    assert matched["payload"].tolist() == [b"batch msg %02d" % i for i in range(16)]
    assert summary(df).loc["bob", ["in_messages", "calls", "would_block"]].tolist() == [16, 3, 1]
