"""Checks of exchanges between calls: retries, answers, loss, concurrency, streams, diagnoses."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ._failure import CheckFailed
from ._select import (
    as_bytes,
    carried,
    count_arg,
    failed_with,
    frame_of,
    is_io,
    label_arg,
    moved,
    of_socket,
    op_mask,
    seconds_arg,
    where,
)

__all__ = ["concurrent_connections", "every_datagram_answered", "loss_rate_matches", "no_findings",
           "retried_after_timeout", "stream_intact"]


def _starts(frame: pd.DataFrame, prefix: str) -> pd.Series[Any]:
    return frame["op"].astype(str).str.startswith(prefix)


def retried_after_timeout(rec: object, *, socket: str | None = None, same_payload: bool = True,
                          tries: int | None = None, at_least: int = 1) -> pd.DataFrame:
    """After each receive that timed out, the socket's next I/O call was a send: a retry (with
    ``same_payload``, of the request that went unanswered) — unless the socket did no more I/O
    (it gave up). With ``tries``, a request is sent at most ``tries`` times: once it was, the
    next I/O after a timeout may be a new request. At least ``at_least`` timeouts must be in
    the recording: a check of retries needs something to retry. Returns the timed-out receives."""
    check = "retried_after_timeout"
    least = count_arg(at_least, "at_least")
    most = None if tries is None else count_arg(tries, "tries")
    if most == 0:
        raise ValueError("tries must be 1 or more")
    frame = of_socket(frame_of(rec), socket, check)
    io = frame[is_io(frame)]
    timed_out = _starts(io, "receive") & failed_with(io, "TIMED_OUT")
    if int(timed_out.sum()) < least:
        raise CheckFailed(check, f"at least {least} receive{'s' if least != 1 else ''} that timed out"
                          f"{where(socket)}", f"{int(timed_out.sum())}", columns=("timeout",),
                          hint="a retry can only be checked when some request went unanswered: run against "
                               "the lossy peer, with a timeout set")
    for label, mine in io.groupby("socket", sort=False, observed=True):
        _check_retries(check, str(label), mine, same_payload, most)
    return io[timed_out]


def _check_retries(check: str, label: str, mine: pd.DataFrame, same_payload: bool, most: int | None) -> None:
    ops = mine["op"].astype(str).to_numpy()
    requests = (_starts(mine, "send") & moved(mine)).to_numpy()
    payloads: list[bytes | None] = ([as_bytes(p) for p in mine["payload"]] if "payload" in mine.columns
                                    else [None] * len(mine))
    timeouts = np.flatnonzero(_starts(mine, "receive") & failed_with(mine, "TIMED_OUT"))
    for position in timeouts:
        if position + 1 == len(mine):
            continue  # gave up
        before = np.flatnonzero(requests[:position])
        last = int(before[-1]) if len(before) else None
        times = 0 if last is None else _times_sent(payloads, before)
        if most is not None and last is not None and times >= most:
            continue  # sent as often as allowed: moving on is right
        following = mine.iloc[position + 1]
        shown = mine.iloc[max(0, position - 2):position + 3]
        if not ops[position + 1].startswith("send"):
            raise CheckFailed(check, f"a send (the retry) right after the timeout on {label!r}",
                              f"{following['op']} at seq {following['seq']} after the timeout at seq "
                              f"{mine.iloc[position]['seq']}", shown, columns=("timeout",))
        if same_payload and last is not None and payloads[last] != payloads[position + 1]:
            limit = f" (sent {times} of {most} times)" if most is not None else ""
            raise CheckFailed(check, f"the retry on {label!r} to resend the unanswered request "
                              f"{payloads[last]!r}{limit}", f"seq {following['seq']} sent {payloads[position + 1]!r}",
                              mine.iloc[[last, position, position + 1]], columns=("timeout",))
    if most is not None and same_payload:
        sends = np.flatnonzero(requests)
        for end in range(len(sends)):
            times = _times_sent(payloads, sends[:end + 1])
            if times > most:
                first = sends[end + 1 - times]
                raise CheckFailed(check, f"each request sent at most {most} times on {label!r}",
                                  f"{payloads[sends[end]]!r} sent {times} times in a row from seq "
                                  f"{mine.iloc[first]['seq']}", mine.iloc[sends[end + 1 - times:end + 1]])


def _times_sent(payloads: list[bytes | None], sends: np.ndarray[Any, Any]) -> int:
    """How many of the last ``sends`` in a row carried the payload of the last one."""
    last = payloads[int(sends[-1])]
    times = 0
    for index in sends[::-1]:
        if payloads[int(index)] != last:
            break
        times += 1
    return times


def every_datagram_answered(rec: object, server: str, *, within: float | None = None) -> pd.DataFrame:
    """Every datagram ``server`` received was answered: a later send from ``server`` to its
    source (within ``within`` seconds of the receive, if given). Each send answers one
    datagram: the latest one from that source still unanswered, so a request the server
    dropped stays unanswered even when later ones were answered. Returns the datagrams received."""
    check = "every_datagram_answered"
    limit = None if within is None else seconds_arg(within, "within")
    frame = of_socket(frame_of(rec), label_arg(server, "server"), check, "server")
    with_peer = carried(frame) & frame["peer"].notna()
    receives = frame[op_mask(frame, "receive*") & with_peer]
    if not len(receives):
        raise CheckFailed(check, f"datagrams received by {server!r} (to answer)", "none")
    sends = frame[op_mask(frame, "send*") & with_peer]
    events = pd.concat([receives.assign(_in=True), sends.assign(_in=False)]).sort_values("seq", kind="stable")
    waiting: dict[str, list[tuple[int, float]]] = {}
    late: list[tuple[int, int, float]] = []
    for seq, peer, incoming, elapsed, duration in events[["seq", "peer", "_in", "elapsed", "duration"]].itertuples(
            index=False):
        stack = waiting.setdefault(str(peer), [])
        if incoming:
            stack.append((int(seq), float(elapsed) + float(duration)))
        elif stack:
            request, end = stack.pop()
            if limit is not None and float(elapsed) - end > limit:
                late.append((request, int(seq), float(elapsed) - end))
    unanswered = sorted(seq for stack in waiting.values() for seq, _ in stack)
    problems: list[tuple[int, int | None, float]] = [(seq, None, 0.0) for seq in unanswered[:1]] + [*late]
    if not problems:
        return receives
    request, answer, after = min(problems, key=lambda problem: problem[0])
    peer = receives.loc[receives["seq"] == request, "peer"].iloc[0]
    within_text = f" within {limit:g} s" if limit is not None else ""
    found = "no such send" if answer is None else f"the answer at seq {answer}, {after:.3f} s after"
    left = f"; {len(unanswered)} datagrams unanswered" if len(unanswered) > 1 else ""
    raise CheckFailed(check, f"an answer from {server!r} to {peer}{within_text} for the datagram received at seq "
                      f"{request}", found + left, frame[frame["seq"] >= request])


def loss_rate_matches(rec: object, reported: float, *, client: str, tolerance: float = 0.005) -> pd.DataFrame:
    """The loss rate ``reported`` (a fraction, 0 to 1) is what the recording shows for
    ``client``'s round trips, within ``tolerance`` (the default lets a rate rounded to two
    decimals pass). Each datagram ``client`` sent is a request; it was answered when the
    client received a datagram after it and before its next request. The rate is the share of
    requests unanswered; it is counted from the client's own rows, so the server need not be
    recorded (when it is, ``flows()`` shows where each request went). Returns the requests,
    with an ``answered`` column."""
    check = "loss_rate_matches"
    given: object = reported  # students pass all sorts: numpy numbers, strings, percentages
    if isinstance(given, bool) or not isinstance(given, numbers.Real):
        raise TypeError(f"reported must be a fraction from 0 to 1, not {given!r}")
    if math.isnan(float(given)) or not 0 <= float(given) <= 1:
        raise ValueError(f"reported must be a fraction from 0 to 1, not {given!r}")
    slack = seconds_arg(tolerance, "tolerance")
    frame = of_socket(frame_of(rec), label_arg(client, "client"), check, "client")
    requests = frame[op_mask(frame, "send*") & carried(frame)]
    if not len(requests):
        raise CheckFailed(check, f"datagrams sent by {client!r}", "none", frame.head(8))
    replies = frame[op_mask(frame, "receive*") & carried(frame)]
    follows = np.searchsorted(requests["seq"].to_numpy(), replies["seq"].to_numpy(), side="right") - 1
    answered = np.zeros(len(requests), dtype=bool)
    answered[follows[follows >= 0]] = True
    requests = requests.assign(answered=answered)
    lost = int((~answered).sum())
    actual = lost / len(requests)
    if abs(actual - float(reported)) > slack + 1e-12:
        raise CheckFailed(check, f"a loss rate of {actual:.3f} ({lost} of {len(requests)} requests unanswered)",
                          f"{float(reported):.3f} reported", requests[~answered] if lost else None,
                          hint="count a request as lost when no answer came before the next one was sent")
    return requests


def concurrent_connections(rec: object, server: str, at_least: int) -> pd.DataFrame:
    """The listening socket ``server`` had at least ``at_least`` accepted connections open and
    in use at the same time (a connection counts from its first recorded call to the end of its
    last). Accepted sockets are those whose local address is the listener's (its port, for a
    listener bound to 0.0.0.0 or ::). Returns one row per connection: its label, start and end
    (seconds)."""
    check = "concurrent_connections"
    least = count_arg(at_least, "at_least")
    frame = frame_of(rec)
    listener = of_socket(frame, label_arg(server, "server"), check, "server")
    local = listener["local"].dropna()
    if not len(local):
        raise CheckFailed(check, f"{server!r} to be bound", "no local address recorded")
    address = str(local.iloc[-1])
    others = frame[(frame["socket"] != server) & (frame["type"].astype(str) == "STREAM")]
    conns = others[_same_local(others["local"], address)]
    ends = conns["elapsed"] + conns["duration"].fillna(0)
    spans = conns.assign(end=ends).groupby("socket", sort=False, observed=True).agg(
        start=("elapsed", "min"), end=("end", "max")).reset_index().rename(columns={"socket": "connection"})
    events = sorted([(t, 1) for t in spans["start"]] + [(t, -1) for t in spans["end"]],
                    key=lambda event: (event[0], event[1]))
    most = open_now = 0
    for _, change in events:
        open_now += change
        most = max(most, open_now)
    if most < least:
        raise CheckFailed(check, f"{least} connections of {server!r} ({address}) open at once",
                          f"{len(spans)} connection{'s' if len(spans) != 1 else ''}, at most {most} at once",
                          conns if len(conns) else None,
                          hint="serve each client as it comes (condition waits or sources over all "
                               "connections, or a thread each) instead of one client after the other")
    return spans


def _same_local(local: pd.Series[Any], address: str) -> pd.Series[Any]:
    """Which ``local`` addresses are the listener's ``address`` (its port, if it listens on any address)."""
    host, colon, port = address.rpartition(":")
    if colon and host.strip("[]") in ("0.0.0.0", "::") and port.isdigit():
        return local.astype("string").str.endswith(f":{port}").fillna(False).astype(bool)
    return (local == address).fillna(False).astype(bool)


def stream_intact(rec: object, sender: str, receiver: str) -> pd.DataFrame:
    """The bytes ``receiver`` received are the bytes ``sender`` sent, all of them, in order
    (as far as payloads were captured; compare ``capture_bytes``). Returns the receiver's rows."""
    check = "stream_intact"
    frame = frame_of(rec)
    out = of_socket(frame, label_arg(sender, "sender"), check, "sender")
    into = of_socket(frame, label_arg(receiver, "receiver"), check, "receiver")
    sends = out[op_mask(out, "send*") & moved(out)]
    receives = into[op_mask(into, "receive*") & moved(into)]
    sent_bytes, got_bytes = int(sends["nbytes"].sum()), int(receives["nbytes"].sum())
    if sent_bytes != got_bytes:
        raise CheckFailed(check, f"{sent_bytes} bytes received by {receiver!r}, as {sender!r} sent",
                          f"{got_bytes} bytes", receives if len(receives) else None,
                          hint="a stream delivers bytes, not messages: read until you have the whole message")
    data_out, data_in = _captured(sends), _captured(receives)
    if data_out is not None and data_in is not None and data_out != data_in:
        at = next(i for i, (a, b) in enumerate(zip(data_out, data_in)) if a != b)
        cumulative = receives["nbytes"].astype(int).cumsum().to_numpy()
        row = int(np.searchsorted(cumulative, at, side="right"))
        raise CheckFailed(check, f"the same bytes in the same order at {receiver!r}",
                          f"a difference at byte {at} (received {data_in[at:at + 8]!r}, sent "
                          f"{data_out[at:at + 8]!r})", receives.iloc[max(0, row - 1):row + 3])
    return receives


def _captured(rows: pd.DataFrame) -> bytes | None:
    """All the bytes of ``rows``, or ``None`` if any row's payload was not captured whole."""
    if "payload" not in rows.columns:
        return None if len(rows) else b""
    payloads = [as_bytes(p) for p in rows["payload"]]
    sizes = rows["nbytes"].astype(int).tolist()
    if any(p is None or len(p) != n for p, n in zip(payloads, sizes)):
        return None
    return b"".join(p for p in payloads if p is not None)


def no_findings(rec: object, *, network: Any = None) -> pd.DataFrame:
    """``diagnose()`` finds nothing wrong in the recording (``network``: the
    `gsocklab.netlab.Network` its hosts are on, if any). Returns the (empty) findings."""
    from ..record._diagnose import diagnose

    frame = frame_of(rec)
    findings = diagnose(frame, network)
    if not len(findings):
        return findings
    listed = "; ".join(f"{row.code} on {row.socket} at seq {row.seq}" for row in findings.itertuples())
    raise CheckFailed("no_findings", "no findings in diagnose()", listed,
                      frame[frame["seq"].isin(findings["seq"].dropna().astype(int))],
                      hint=str(findings["fix"].iloc[0]))
