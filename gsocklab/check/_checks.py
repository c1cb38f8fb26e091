"""Checks of socket behaviour over a recording, for exercises and autograders.

Every check takes the recording first (a `gsocklab.Recorder` or its DataFrame), returns the
rows that satisfied it, and otherwise raises `CheckFailed` saying what was expected, what the
recording shows instead, and which rows. Sockets are named by their labels (``socket``
column; ``rec.attach(sock, label="client")`` or ``sock.label = "client"``); ``socket=None``
means every socket. ``op`` is a method name (``"send_to"``), a glob (``"receive*"``) or a
tuple of names.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any, Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ._failure import CheckFailed

__all__ = [
    "called", "concurrent_connections", "every_datagram_answered", "in_order", "loss_rate_matches", "mode",
    "no_busy_wait", "not_called", "received", "retried_after_timeout", "sent", "stream_intact",
    "timeout_at_most",
]

_IO_PREFIXES: Final = ("send", "receive")
_WAITING_OPS: Final = ("receive*", "accept", "condition_wait", "condition_timed_wait", "connect")


def frame_of(rec: object) -> pd.DataFrame:
    """The recording as a DataFrame, ordered by ``seq`` (a `Recorder` is read now)."""
    if isinstance(rec, pd.DataFrame):
        frame = rec
    elif callable(getattr(rec, "to_dataframe", None)):
        frame = rec.to_dataframe()  # type: ignore[attr-defined]
    else:
        raise TypeError(f"rec must be a gsocklab.Recorder or its DataFrame, not {type(rec).__name__}")
    missing = [name for name in ("seq", "socket", "op", "error") if name not in frame.columns]
    if missing:
        raise TypeError(f"rec is not a gsocklab recording: it has no column {', '.join(missing)}")
    return frame.sort_values("seq", kind="stable")


def _labels(frame: pd.DataFrame) -> list[str]:
    return [str(label) for label in dict.fromkeys(frame["socket"].dropna())]


def _of_socket(frame: pd.DataFrame, socket: str | None, check: str) -> pd.DataFrame:
    if socket is None:
        return frame
    if not isinstance(socket, str):
        raise TypeError(f"socket must be a socket's label (str) or None, not {type(socket).__name__}")
    rows = frame[frame["socket"] == socket]
    if not len(rows):
        raise CheckFailed(check, f"calls of a socket labelled {socket!r}",
                          f"no socket of that label; the recording has {_labels(frame) or 'no sockets'}",
                          hint="label sockets with rec.attach(sock, label=...) or sock.label = ...")
    return rows


def _op_mask(frame: pd.DataFrame, op: str | Iterable[str]) -> pd.Series[Any]:
    names = frame["op"].astype(str)
    patterns = [op] if isinstance(op, str) else list(op)
    if not patterns or not all(isinstance(p, str) for p in patterns):
        raise TypeError(f"op must be a method name, a glob or a tuple of them, not {op!r}")
    matched = {name for name in names.unique() if any(fnmatch.fnmatchcase(name, p) for p in patterns)}
    return names.isin(matched)


def _op_text(op: str | Iterable[str]) -> str:
    return op if isinstance(op, str) else " or ".join(op)


def _where(socket: str | None) -> str:
    return f" on {socket!r}" if socket else ""


def _peer_text(peer: object) -> str | None:
    if peer is None or isinstance(peer, str):
        return peer
    to_string = getattr(peer, "to_string", None)
    if callable(to_string):
        text = to_string()
        return text if isinstance(text, str) else str(text)
    raise TypeError(f"peer must be an address text or a Gio.SocketAddress, not {type(peer).__name__}")


def _ok(frame: pd.DataFrame) -> pd.Series[Any]:
    return frame["error"].isna()


def _moved(frame: pd.DataFrame) -> pd.Series[Any]:
    return frame["nbytes"].notna() & _ok(frame)


def _is_io(frame: pd.DataFrame) -> pd.Series[Any]:
    return frame["op"].astype(str).str.startswith(_IO_PREFIXES)


def called(rec: object, op: str | Iterable[str], *, socket: str | None = None, peer: object = None,
           value: object = None, error: str | None = None, at_least: int = 1) -> pd.DataFrame:
    """At least ``at_least`` calls of ``op`` (on ``socket``; to or from ``peer``; that set
    ``value``, as the ``message`` column shows it; that ended with ``error``: a code name such
    as ``"TIMED_OUT"``, ``"ok"`` for success, ``None`` for either)."""
    check = "called"
    frame = _of_socket(frame_of(rec), socket, check)
    rows = frame[_op_mask(frame, op)]
    wanted = f"{at_least} call{'s' if at_least != 1 else ''} of {_op_text(op)}{_where(socket)}"
    peer_text = _peer_text(peer)
    if peer_text is not None:
        rows = rows[rows["peer"] == peer_text]
        wanted += f" with peer {peer_text}"
    if value is not None:
        rows = rows[rows["message"] == str(value)]
        wanted += f" setting {value}"
    if error == "ok":
        rows = rows[_ok(rows)]
        wanted += " that succeeded"
    elif error is not None:
        rows = rows[rows["error"].astype(str) == error]
        wanted += f" that failed with {error}"
    if len(rows) >= at_least:
        return rows
    similar = frame[_op_mask(frame, op)]
    if len(similar):
        found = f"{len(rows)} such call{'s' if len(rows) != 1 else ''}; the calls of {_op_text(op)} are below"
        shown = similar
    else:
        ops = list(dict.fromkeys(frame["op"].astype(str)))
        found = f"no call of {_op_text(op)}{_where(socket)}; calls made: {', '.join(ops[:12]) or 'none'}"
        shown = None
    raise CheckFailed(check, wanted, found, shown)


def not_called(rec: object, op: str | Iterable[str], *, socket: str | None = None) -> pd.DataFrame:
    """No call of ``op`` (on ``socket``); returns the (empty) rows."""
    frame = frame_of(rec)
    if socket is not None:
        frame = frame[frame["socket"] == socket]
    rows = frame[_op_mask(frame, op)]
    if len(rows):
        raise CheckFailed("not_called", f"no call of {_op_text(op)}{_where(socket)}",
                          f"{len(rows)} call{'s' if len(rows) != 1 else ''}", rows)
    return rows


def in_order(rec: object, *ops: str | Iterable[str], socket: str | None = None) -> pd.DataFrame:
    """The first call of each of ``ops`` came in this order (on ``socket``): for example
    ``in_order(rec, "join_multicast_group", "receive*", socket="listener")``."""
    check = "in_order"
    if len(ops) < 2:
        raise ValueError("in_order needs two ops or more")
    frame = _of_socket(frame_of(rec), socket, check)
    order = " before ".join(_op_text(op) for op in ops)
    firsts = []
    for op in ops:
        rows = frame[_op_mask(frame, op)]
        if not len(rows):
            raise CheckFailed(check, order + _where(socket), f"no call of {_op_text(op)}{_where(socket)}")
        firsts.append(rows.iloc[[0]])
    chosen = pd.concat(firsts)
    seqs = chosen["seq"].tolist()
    if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
        found = ", ".join(f"{_op_text(op)} first at seq {seq}" for op, seq in zip(ops, seqs))
        raise CheckFailed(check, order + _where(socket), found, chosen)
    return chosen


def sent(rec: object, socket: str, *, to: object = None, payload: bytes | None = None,
         at_least: int = 1) -> pd.DataFrame:
    """``socket`` sent at least ``at_least`` datagrams or chunks (to ``to``; carrying ``payload``)."""
    return _moved_by(rec, "sent", "send*", socket, to, payload, at_least)


def received(rec: object, socket: str, *, source: object = None, payload: bytes | None = None,
             at_least: int = 1) -> pd.DataFrame:
    """``socket`` received at least ``at_least`` datagrams or chunks (from ``source``; ``payload``)."""
    return _moved_by(rec, "received", "receive*", socket, source, payload, at_least)


def _moved_by(rec: object, check: str, op: str, socket: str, peer: object, payload: bytes | None,
              at_least: int) -> pd.DataFrame:
    frame = _of_socket(frame_of(rec), socket, check)
    calls = frame[_op_mask(frame, op)]
    rows = calls[_moved(calls) & (calls["nbytes"].fillna(0) > 0)]
    wanted = f"{at_least} {'datagram or chunk' if at_least == 1 else 'datagrams or chunks'} {check} by {socket!r}"
    peer_text = _peer_text(peer)
    if peer_text is not None:
        rows = rows[rows["peer"] == peer_text]
        wanted += f" {'to' if check == 'sent' else 'from'} {peer_text}"
    if payload is not None:
        rows = rows[rows["payload"].map(lambda p: p is not None and bytes(p) == bytes(payload))]
        wanted += f" carrying {bytes(payload)!r}"
    if len(rows) >= at_least:
        return rows
    failed = calls[~_ok(calls)]
    found = f"{len(rows)}" + (f"; {len(failed)} {op.rstrip('*')} calls failed" if len(failed) else "")
    raise CheckFailed(check, wanted, found, calls if len(calls) else None)


def retried_after_timeout(rec: object, *, socket: str | None = None, same_payload: bool = True,
                          at_least: int = 1) -> pd.DataFrame:
    """After each receive that timed out, the socket's next I/O call was a send (a retry; with
    ``same_payload``, of the request that went unanswered) — unless the socket did no more
    I/O (it gave up). At least ``at_least`` timeouts must be in the recording: a check of
    retries needs something to retry. Returns the timed-out receives."""
    check = "retried_after_timeout"
    frame = _of_socket(frame_of(rec), socket, check)
    io = frame[_is_io(frame)]
    timeouts = io[io["op"].astype(str).str.startswith("receive") & (io["error"].astype(str) == "TIMED_OUT")]
    if len(timeouts) < at_least:
        raise CheckFailed(check, f"at least {at_least} receive{'s' if at_least != 1 else ''} that timed out"
                          f"{_where(socket)}", f"{len(timeouts)}",
                          hint="a retry can only be checked when some request went unanswered: run against "
                               "the lossy peer, with a timeout set")
    for label, mine in io.groupby("socket", sort=False, observed=True):
        positions = np.flatnonzero(mine["op"].astype(str).str.startswith("receive")
                                   & (mine["error"].astype(str) == "TIMED_OUT"))
        ops = mine["op"].astype(str).to_numpy()
        for position in positions:
            later = mine.iloc[position + 1:]
            if not len(later):
                continue  # gave up
            following = later.iloc[0]
            if not ops[position + 1].startswith("send"):
                raise CheckFailed(check, f"a send (the retry) right after the timeout on {label!r}",
                                  f"{following['op']} at seq {following['seq']} after the timeout at seq "
                                  f"{mine.iloc[position]['seq']}", mine.iloc[max(0, position - 2):position + 3])
            if same_payload:
                before = mine.iloc[:position]
                requests = before[before["op"].astype(str).str.startswith("send") & _moved(before)]
                if len(requests) and _payload(requests.iloc[-1]) != _payload(following):
                    raise CheckFailed(check, f"the retry on {label!r} to resend the unanswered request "
                                      f"{_payload(requests.iloc[-1])!r}",
                                      f"seq {following['seq']} sent {_payload(following)!r}",
                                      pd.concat([requests.iloc[[-1]], mine.iloc[[position]], later.iloc[[0]]]))
    return timeouts


def _payload(row: pd.Series[Any]) -> bytes | None:
    value = row.get("payload")
    return None if value is None or value is pd.NA else bytes(value)


def no_busy_wait(rec: object, *, socket: str | None = None, max_per_second: int = 20) -> pd.DataFrame:
    """At most ``max_per_second`` calls failed with ``WOULD_BLOCK`` in any one second (on
    ``socket``): non-blocking I/O waits for readiness (``condition_wait``, a source) instead of
    retrying in a loop. Returns the ``WOULD_BLOCK`` rows."""
    check = "no_busy_wait"
    frame = _of_socket(frame_of(rec), socket, check)
    misses = frame[frame["error"].astype(str) == "WOULD_BLOCK"]
    if not len(misses):
        return misses
    for label, mine in misses.groupby("socket", sort=False, observed=True):
        times = mine["elapsed"].to_numpy(dtype=float)
        ends = np.searchsorted(times, times + 1.0, side="left")
        counts = ends - np.arange(len(times))
        worst = int(counts.argmax())
        if counts[worst] > max_per_second:
            window = mine.iloc[worst:ends[worst]]
            raise CheckFailed(check, f"at most {max_per_second} WOULD_BLOCK a second on {label!r}",
                              f"{int(counts[worst])} in the second from seq {window['seq'].iloc[0]} "
                              f"(elapsed {times[worst]:.3f} s)", window,
                              hint="wait for the condition (condition_wait(GLib.IOCondition.IN), "
                                   "condition_timed_wait, or a source) before calling again")
    return misses


def every_datagram_answered(rec: object, server: str, *, within: float | None = None) -> pd.DataFrame:
    """Every datagram ``server`` received was answered: a later send from ``server`` to its
    source (each send answers one datagram, in order; within ``within`` seconds if given).
    Returns the datagrams received."""
    check = "every_datagram_answered"
    frame = _of_socket(frame_of(rec), server, check)
    receives = frame[_op_mask(frame, "receive*") & _moved(frame) & frame["peer"].notna()]
    sends = frame[_op_mask(frame, "send*") & _moved(frame) & frame["peer"].notna()]
    if not len(receives):
        raise CheckFailed(check, f"datagrams received by {server!r} (to answer)", "none")
    used: set[int] = set()
    for _, request in receives.iterrows():
        end = float(request["elapsed"]) + float(request["duration"])
        answers = sends[(sends["peer"] == request["peer"]) & (sends["seq"] > request["seq"])
                        & ~sends["seq"].isin(used)]
        if within is not None:
            answers = answers[answers["elapsed"] - end <= within]
        if not len(answers):
            limit = f" within {within} s" if within is not None else ""
            raise CheckFailed(check, f"an answer from {server!r} to {request['peer']}{limit} for the datagram "
                              f"received at seq {request['seq']}", "no such send",
                              frame[frame["seq"] >= request["seq"]])
        used.add(int(answers["seq"].iloc[0]))
    return receives


def loss_rate_matches(rec: object, reported: float, *, client: str, tolerance: float = 0.0) -> pd.DataFrame:
    """The loss rate ``reported`` (a fraction, 0 to 1) is what the recording shows for
    ``client``'s round trips: 1 - (datagrams ``client`` received ÷ datagrams it sent), counted
    with ``flows()``, within ``tolerance``. Returns the client's flows."""
    from ..record._analysis import flows

    check = "loss_rate_matches"
    if isinstance(reported, bool) or not isinstance(reported, (int, float)) or not 0 <= reported <= 1:
        raise TypeError(f"reported must be a fraction from 0 to 1, not {reported!r}")
    frame = _of_socket(frame_of(rec), client, check)
    full = frame_of(rec)
    matched = flows(full)
    out = matched[matched["sender"] == client]
    back = matched[(matched["receiver"] == client) & ~matched["lost"]]
    if not len(out):
        raise CheckFailed(check, f"datagrams sent by {client!r}", "none", frame.head(8))
    actual = 1 - min(len(back), len(out)) / len(out)
    if abs(actual - float(reported)) > tolerance + 1e-12:
        lost = out[out["lost"]]
        raise CheckFailed(check, f"a loss rate of {actual:.3f} ({len(out) - min(len(back), len(out))} of "
                          f"{len(out)} requests unanswered)", f"{float(reported):.3f} reported",
                          full[full["seq"].isin(lost["send_seq"])] if len(lost) else None)
    return out


def concurrent_connections(rec: object, server: str, at_least: int) -> pd.DataFrame:
    """The listening socket ``server`` had at least ``at_least`` accepted connections open and
    in use at the same time (a connection counts from its first recorded call to its last).
    Returns one row per connection: its label, start and end (seconds)."""
    check = "concurrent_connections"
    frame = frame_of(rec)
    listener = _of_socket(frame, server, check)
    local = listener["local"].dropna()
    if not len(local):
        raise CheckFailed(check, f"{server!r} to be bound", "no local address recorded")
    address = local.iloc[-1]
    conns = frame[(frame["local"] == address) & (frame["socket"] != server)
                  & (frame["type"].astype(str) == "STREAM")]
    spans = conns.groupby("socket", sort=False, observed=True).agg(
        start=("elapsed", "min"), end=("elapsed", "max"))
    if len(spans):
        last = conns.assign(end=conns["elapsed"] + conns["duration"]).groupby(
            "socket", sort=False, observed=True)["end"].max()
        spans["end"] = last
    spans = spans.reset_index().rename(columns={"socket": "connection"})
    events = sorted([(t, 1) for t in spans["start"]] + [(t, -1) for t in spans["end"]],
                    key=lambda event: (event[0], event[1]))
    most = open_now = 0
    for _, change in events:
        open_now += change
        most = max(most, open_now)
    if most < at_least:
        raise CheckFailed(check, f"{at_least} connections of {server!r} ({address}) open at once",
                          f"{len(spans)} connection{'s' if len(spans) != 1 else ''}, at most {most} at once",
                          conns if len(conns) else None,
                          hint="serve each client as it comes (condition waits or sources over all "
                               "connections, or a thread each) instead of one client after the other")
    return spans


def mode(rec: object, socket: str, *, blocking: bool) -> pd.DataFrame:
    """Every send and receive of ``socket`` ran blocking (``blocking=True``) or non-blocking."""
    check = "mode"
    frame = _of_socket(frame_of(rec), socket, check)
    io = frame[_is_io(frame)]
    if not len(io):
        raise CheckFailed(check, f"sends or receives on {socket!r}", "none")
    wrong = io[io["blocking"].astype("boolean").fillna(True) != blocking]
    if len(wrong):
        kind = "blocking" if blocking else "non-blocking"
        raise CheckFailed(check, f"every send and receive of {socket!r} to run {kind}",
                          f"{len(wrong)} of {len(io)} did not", wrong,
                          hint=f"set_blocking({blocking}) before the I/O, or use *_with_blocking(…, {blocking})")
    return io


def stream_intact(rec: object, sender: str, receiver: str) -> pd.DataFrame:
    """The bytes ``receiver`` received are the bytes ``sender`` sent, all of them, in order
    (as far as payloads were captured; compare ``capture_bytes``). Returns the receiver's rows."""
    check = "stream_intact"
    frame = frame_of(rec)
    out = _of_socket(frame, sender, check)
    into = _of_socket(frame, receiver, check)
    sends = out[_op_mask(out, "send*") & _moved(out)]
    receives = into[_op_mask(into, "receive*") & _moved(into)]
    sent_bytes, got_bytes = int(sends["nbytes"].sum()), int(receives["nbytes"].sum())
    if sent_bytes != got_bytes:
        raise CheckFailed(check, f"{sent_bytes} bytes received by {receiver!r}, as {sender!r} sent",
                          f"{got_bytes} bytes", receives if len(receives) else None,
                          hint="a stream delivers bytes, not messages: read until you have the whole message")
    if all(_complete(row) for _, row in pd.concat([sends, receives]).iterrows()):
        data_out = b"".join(_payload(row) or b"" for _, row in sends.iterrows())
        data_in = b"".join(_payload(row) or b"" for _, row in receives.iterrows())
        if data_out != data_in:
            at = next(i for i, (a, b) in enumerate(zip(data_out, data_in)) if a != b)
            raise CheckFailed(check, f"the same bytes in the same order at {receiver!r}",
                              f"a difference at byte {at}", receives)
    return receives


def _complete(row: pd.Series[Any]) -> bool:
    payload = _payload(row)
    return payload is not None and len(payload) == int(row["nbytes"])


def timeout_at_most(rec: object, socket: str, seconds: float) -> pd.DataFrame:
    """Every blocking call of ``socket`` that can wait (receives, ``accept``, ``connect``,
    condition waits) had a timeout of at most ``seconds``: none could wait for ever."""
    check = "timeout_at_most"
    frame = _of_socket(frame_of(rec), socket, check)
    waiting = frame[_op_mask(frame, _WAITING_OPS) & frame["blocking"].astype("boolean").fillna(True)]
    if not len(waiting):
        raise CheckFailed(check, f"blocking receives or waits on {socket!r}", "none")
    timeout = waiting["timeout"].astype("Float64")
    wrong = waiting[timeout.isna() | (timeout > seconds)]
    if len(wrong):
        raise CheckFailed(check, f"a timeout of at most {seconds} s on every blocking wait of {socket!r}",
                          f"{len(wrong)} of {len(waiting)} without one (or longer)", wrong,
                          hint="set_timeout(n) on the socket, or pass a timeout to the call")
    return waiting
