"""`gsocklab.check`: the options and arguments of the checks, failure tables, and `no_findings`.

Scripted frames (`check_frames`) for the logic; real sockets on ``lo`` (senders bound to
127.0.0.1, every receive bounded) for `no_findings`, which runs ``diagnose()``.
"""

from __future__ import annotations

import contextlib
import copy
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from check_frames import C_ADDR, PINGS, S_ADDR, fail, frame, pings, recv, row, send

from gsocklab import Gio, GLib, Recorder, check
from gsocklab.check import CheckFailed

# -- called(error=) ---------------------------------------------------------------------------------------


def test_called_error_takes_a_code_name_or_member() -> None:
    by_name = check.called(PINGS, "receive*", error="TIMED_OUT")
    by_member = check.called(PINGS, "receive*", error=Gio.IOErrorEnum.TIMED_OUT)
    assert by_name["seq"].tolist() == by_member["seq"].tolist()
    assert len(by_name) == 1
    assert len(check.called(PINGS, "receive_bytes_from", error="ok", socket="client")) == 3
    with pytest.raises(CheckFailed, match="expected 1 call of send_to that failed with WOULD_BLOCK"):
        check.called(PINGS, "send_to", error=Gio.IOErrorEnum.WOULD_BLOCK)


@pytest.mark.parametrize("error", ["TIMEOUT", "timed_out", "okay"])
def test_called_error_that_is_no_code_name_is_a_value_error(error: str) -> None:
    with pytest.raises(ValueError, match=r"^error must be 'ok' or a Gio\.IOErrorEnum name such as 'TIMED_OUT'"):
        check.called(PINGS, "receive*", error=error)


def test_called_error_of_another_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"^error must be 'ok', a Gio\.IOErrorEnum name or member, or None, not int"):
        check.called(PINGS, "receive*", error=24)


# -- counts and durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "parameter"), [
    (lambda value: check.called(PINGS, "bind", at_least=value), "at_least"),
    (lambda value: check.sent(PINGS, "client", at_least=value), "at_least"),
    (lambda value: check.no_busy_wait(PINGS, max_per_second=value), "max_per_second"),
    (lambda value: check.retried_after_timeout(PINGS, at_least=value), "at_least"),
    (lambda value: check.retried_after_timeout(PINGS, tries=value), "tries"),
    (lambda value: check.concurrent_connections(PINGS, "server", value), "at_least"),
], ids=["called", "sent", "no_busy_wait", "retried-at_least", "retried-tries", "concurrent_connections"])
def test_counts_must_be_ints_of_zero_or_more(call: Callable[[Any], Any], parameter: str) -> None:
    for wrong in ("2", 2.0, True):
        with pytest.raises(TypeError, match=rf"^{parameter} must be an int, not "):
            call(wrong)
    with pytest.raises(ValueError, match=rf"^{parameter} must be 0 or more, not -1"):
        call(-1)


def test_tries_must_be_one_or_more() -> None:
    with pytest.raises(ValueError, match=r"^tries must be 1 or more"):
        check.retried_after_timeout(PINGS, tries=0)


@pytest.mark.parametrize(("call", "parameter"), [
    (lambda value: check.timeout_at_most(PINGS, "client", value), "seconds"),
    (lambda value: check.every_datagram_answered(PINGS, "server", within=value), "within"),
    (lambda value: check.loss_rate_matches(PINGS, 0.25, client="client", tolerance=value), "tolerance"),
], ids=["timeout_at_most", "every_datagram_answered", "loss_rate_matches"])
def test_durations_must_be_numbers_of_zero_or_more(call: Callable[[Any], Any], parameter: str) -> None:
    with pytest.raises(TypeError, match=rf"^{parameter} must be a number of seconds, not str"):
        call("1")
    for wrong in (-0.5, float("nan")):
        with pytest.raises(ValueError, match=rf"^{parameter} must be 0 or more seconds"):
            call(wrong)
    with contextlib.suppress(CheckFailed):  # numpy numbers are numbers: the check runs
        call(np.float32(5))


def test_mode_blocking_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match=r"^blocking must be a bool, not str"):
        check.mode(PINGS, "client", blocking="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("payload", [bytearray(b"ping 0"), memoryview(b"ping 0")], ids=["bytearray", "memoryview"])
def test_a_bytes_like_payload_is_taken(payload: Any) -> None:
    assert len(check.sent(PINGS, "client", payload=payload)) == 1


def test_a_str_payload_says_how_to_write_it() -> None:
    with pytest.raises(TypeError, match=r"^payload must be bytes, not str: write payload=b'ping 0'$"):
        check.sent(PINGS, "client", payload="ping 0")  # type: ignore[arg-type]


# -- failure tables ---------------------------------------------------------------------------------------


def test_a_timeout_failure_shows_the_timeouts() -> None:
    f = frame(recv("client", C_ADDR, S_ADDR, b"x", 0.0, timeout=0.2),
              fail("client", "receive_from", "TIMED_OUT", 0.1, local=C_ADDR, timeout=2.5))
    with pytest.raises(CheckFailed) as failed:
        check.timeout_at_most(f, "client", 1)
    header, *lines = str(failed.value).split("  rows:\n")[1].splitlines()
    assert header.split()[-2:] == ["blocking", "timeout"]
    assert lines[0].split()[-2:] == ["True", "2.5"]


def test_a_mode_failure_shows_the_mode() -> None:
    f = frame(send("client", C_ADDR, S_ADDR, b"x", 0.0, blocking=False))
    with pytest.raises(CheckFailed) as failed:
        check.mode(f, "client", blocking=True)
    header, line = str(failed.value).split("  rows:\n")[1].splitlines()
    assert header.split()[-1] == "blocking"
    assert line.split()[-1] == "False"


def test_a_failure_of_called_with_value_shows_the_values() -> None:
    f = frame(row("client", "set_ttl", at=0.0, message="1"), row("client", "set_ttl", at=0.1, message="4"))
    check.called(f, "set_ttl", value=4)
    with pytest.raises(CheckFailed) as failed:
        check.called(f, "set_ttl", value=8)
    assert "message" in str(failed.value).split("  rows:\n")[1].splitlines()[0]


def test_check_failed_with_rows_and_columns_survives_pickle_and_copy() -> None:
    with pytest.raises(CheckFailed) as failed:
        check.mode(frame(send("client", C_ADDR, S_ADDR, b"x", 0.0, blocking=False)), "client", blocking=True)
    for clone in (pickle.loads(pickle.dumps(failed.value)), copy.copy(failed.value)):
        assert str(clone) == str(failed.value)
        assert (clone.check, clone.columns, clone.hint) == ("mode", ("blocking",), failed.value.hint)
        pd.testing.assert_frame_equal(clone.rows, failed.value.rows)


# -- retried_after_timeout(tries=) ------------------------------------------------------------------------


def tries_frame(*script: tuple[str, int]) -> pd.DataFrame:
    """The client's rows: ``("send", n)`` sends ping n; ``("timeout", 0)`` a receive that timed
    out; ``("reply", n)`` receives the answer to ping n."""
    rows, at = [row("client", "bind", at=0.0, local=C_ADDR)], 0.01
    for what, n in script:
        payload = b"ping %d" % n
        if what == "send":
            rows.append(send("client", C_ADDR, S_ADDR, payload, at))
        elif what == "timeout":
            rows.append(fail("client", "receive_bytes_from", "TIMED_OUT", at, local=C_ADDR, timeout=0.2))
        else:
            rows.append(recv("client", C_ADDR, S_ADDR, payload, at, op="receive_bytes_from", timeout=0.2))
        at += 0.2
    return frame(*rows)


GAVE_UP_AFTER_TWO = tries_frame(("send", 0), ("timeout", 0), ("send", 0), ("timeout", 0),
                                ("send", 1), ("reply", 1))


def test_tries_lets_a_client_move_on_after_that_many_sends() -> None:
    assert len(check.retried_after_timeout(GAVE_UP_AFTER_TWO, socket="client", tries=2)) == 2
    with pytest.raises(CheckFailed) as failed:
        check.retried_after_timeout(GAVE_UP_AFTER_TWO, socket="client")  # without tries: must retry again
    assert failed.value.expected == "the retry on 'client' to resend the unanswered request b'ping 0'"
    with pytest.raises(CheckFailed) as failed:
        check.retried_after_timeout(GAVE_UP_AFTER_TWO, socket="client", tries=3)
    assert failed.value.expected == ("the retry on 'client' to resend the unanswered request b'ping 0' "
                                     "(sent 2 of 3 times)")
    assert failed.value.found.endswith("sent b'ping 1'")


def test_tries_fails_a_request_sent_more_often() -> None:
    f = tries_frame(("send", 0), ("timeout", 0), ("send", 0), ("timeout", 0), ("send", 0), ("reply", 0))
    check.retried_after_timeout(f, socket="client")
    check.retried_after_timeout(f, socket="client", tries=3)
    with pytest.raises(CheckFailed) as failed:
        check.retried_after_timeout(f, socket="client", tries=2)
    assert failed.value.expected == "each request sent at most 2 times on 'client'"
    assert failed.value.found.startswith("b'ping 0' sent 3 times in a row from seq 1")
    assert len(failed.value.rows) == 3


def test_tries_one_means_never_retry() -> None:
    assert len(check.retried_after_timeout(PINGS, socket="client", tries=1)) == 1
    with pytest.raises(CheckFailed, match="each request sent at most 1 times"):
        check.retried_after_timeout(pings(True, False, retry=True), socket="client", tries=1)


# -- every_datagram_answered ------------------------------------------------------------------------------


def test_a_late_answer_is_named_with_its_delay() -> None:
    f = frame(recv("server", S_ADDR, C_ADDR, b"a", 0.0), recv("server", S_ADDR, C_ADDR, b"b", 0.01),
              send("server", S_ADDR, C_ADDR, b"B", 0.02), send("server", S_ADDR, C_ADDR, b"A", 0.5))
    check.every_datagram_answered(f, "server")
    check.every_datagram_answered(f, "server", within=0.6)
    with pytest.raises(CheckFailed) as failed:
        check.every_datagram_answered(f, "server", within=0.1)
    assert failed.value.expected == ("an answer from 'server' to 127.0.0.1:4000 within 0.1 s for the datagram "
                                     "received at seq 0")
    assert failed.value.found == "the answer at seq 3, 0.500 s after"


def test_answers_go_to_their_own_peer() -> None:
    other = "127.0.0.1:4001"
    f = frame(recv("server", S_ADDR, C_ADDR, b"a", 0.0), recv("server", S_ADDR, other, b"b", 0.01),
              send("server", S_ADDR, other, b"B", 0.02))
    with pytest.raises(CheckFailed, match=r"to 127\.0\.0\.1:4000 for the datagram received at seq 0\n"):
        check.every_datagram_answered(f, "server")


def test_several_unanswered_are_counted() -> None:
    f = pings(False, True, False, False)
    with pytest.raises(CheckFailed) as failed:
        check.every_datagram_answered(f, "server")
    assert failed.value.found == "no such send; 3 datagrams unanswered"


# -- loss_rate_matches ------------------------------------------------------------------------------------


def test_loss_rate_counts_a_retry_as_a_request() -> None:
    requests = check.loss_rate_matches(pings(True, False, retry=True), 1 / 3, client="client")
    assert requests["answered"].tolist() == [True, False, True]


# -- concurrent_connections -------------------------------------------------------------------------------


def stream(socket: str, op: str, at: float, **values: Any) -> dict[str, Any]:
    return {**row(socket, op, at=at, **values), "type": "STREAM"}


@pytest.mark.parametrize(("bound", "accepted"), [("[::]:5000", "[::ffff:127.0.0.1]:5000"),
                                                 ("[::]:5000", "[::1]:5000"),
                                                 ("0.0.0.0:5000", "10.0.0.1:5000")])
def test_a_listener_on_any_address_owns_the_connections_on_its_port(bound: str, accepted: str) -> None:
    f = frame(stream("server", "listen", 0.0, local=bound),
              stream("a", "receive", 0.1, local=accepted, nbytes=1), stream("b", "receive", 0.1, local=accepted,
                                                                            nbytes=1),
              stream("a", "send", 0.3, local=accepted, nbytes=1), stream("b", "send", 0.3, local=accepted, nbytes=1),
              stream("client", "connect", 0.05, local="127.0.0.1:6000", peer="127.0.0.1:5000"),
              stream("other", "receive", 0.1, local="127.0.0.1:5001", nbytes=1))
    spans = check.concurrent_connections(f, "server", 2)
    assert sorted(spans["connection"]) == ["a", "b"]


# -- no_findings ------------------------------------------------------------------------------------------


def _address(text: str, port: int) -> Gio.InetSocketAddress:
    return Gio.InetSocketAddress.new_from_string(text, port)


def _multicast_on_lo(join: bool) -> Recorder:
    """A sender bound to 127.0.0.1 sends to a group on ``lo``; the receiver joins it (or not)."""
    group, rec = "239.255.77.201", Recorder()
    rx = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    tx = Gio.Socket.new(Gio.SocketFamily.IPV4, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP)
    try:
        with rec:
            rec.attach(rx, label="rx")
            rec.attach(tx, label="tx")
            rx.bind(_address("0.0.0.0", 0), True)
            if join:
                rx.join_multicast_group(Gio.InetAddress.new_from_string(group), False, "lo")
            tx.bind(_address("127.0.0.1", 0), False)
            tx.send_to(_address(group, rx.get_local_address().get_port()), b"hello")
            got: object
            try:
                got = bytes(rx.receive_bytes_from(2048, 300_000, None)[0])
            except GLib.Error as error:
                got = error.code
    finally:
        rx.close()
        tx.close()
    assert got == (b"hello" if join else Gio.IOErrorEnum.TIMED_OUT)
    return rec


def test_no_findings_passes_a_working_exchange() -> None:
    findings = check.no_findings(_multicast_on_lo(join=True))
    assert len(findings) == 0
    check.received(_multicast_on_lo(join=True), "rx", payload=b"hello")


def test_no_findings_fails_with_the_finding_and_its_fix() -> None:
    rec = _multicast_on_lo(join=False)
    with pytest.raises(CheckFailed) as failed:
        check.no_findings(rec)
    timed_out = rec.df.loc[rec.df["error"] == "TIMED_OUT", "seq"].iloc[0]
    assert failed.value.expected == "no findings in diagnose()"
    assert failed.value.found == f"NOT_JOINED on rx at seq {timed_out}"
    assert "join_multicast_group" in str(failed.value.hint)
    assert failed.value.rows["seq"].tolist() == [timed_out]
