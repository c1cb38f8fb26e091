"""Checks of single calls: which were made, in what order, how, and what they moved."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ._failure import CheckFailed
from ._select import (
    OpSpec,
    as_bytes,
    carried,
    count_arg,
    error_arg,
    failed_with,
    frame_of,
    is_io,
    label_arg,
    of_socket,
    ok,
    op_mask,
    op_text,
    ops_arg,
    payload_arg,
    peer_text,
    seconds_arg,
    where,
)

__all__ = ["called", "in_order", "mode", "no_busy_wait", "not_called", "received", "sent", "timeout_at_most"]

#: Calls that wait when the socket is blocking (condition waits wait in either mode).
_BLOCKING_WAITS: Final = ("receive*", "accept", "connect")
_CONDITION_WAITS: Final = ("condition_wait", "condition_timed_wait")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def called(rec: object, op: OpSpec, *, socket: str | None = None, peer: object = None,
           value: object = None, error: object = None, at_least: int = 1) -> pd.DataFrame:
    """At least ``at_least`` calls of ``op`` (on ``socket``; to or from ``peer``; that set
    ``value``, as the ``message`` column shows it; that ended with ``error``: a
    `Gio.IOErrorEnum` name such as ``"TIMED_OUT"`` or member, ``"ok"`` for success, ``None``
    for either). Returns those calls."""
    check = "called"
    patterns, code, at_least = ops_arg(op), error_arg(error), count_arg(at_least, "at_least")
    frame = of_socket(frame_of(rec), socket, check)
    rows = frame[op_mask(frame, patterns)]
    wanted = f"{_plural(at_least, 'call')} of {op_text(patterns)}{where(socket)}"
    text = peer_text(peer)
    if text is not None:
        rows = rows[rows["peer"] == text]
        wanted += f" with peer {text}"
    if value is not None:
        rows = rows[rows["message"] == str(value)]
        wanted += f" setting {value}"
    if code == "ok":
        rows = rows[ok(rows)]
        wanted += " that succeeded"
    elif code is not None:
        rows = rows[failed_with(rows, code)]
        wanted += f" that failed with {code}"
    if len(rows) >= at_least:
        return rows
    similar = frame[op_mask(frame, patterns)]
    if len(similar):
        found = f"{_plural(len(rows), 'such call')}; the calls of {op_text(patterns)} are below"
        raise CheckFailed(check, wanted, found, similar, columns=("message",) if value is not None else ())
    made = list(dict.fromkeys(frame["op"].astype(str)))
    raise CheckFailed(check, wanted, f"no call of {op_text(patterns)}{where(socket)}; calls made: "
                      f"{', '.join(made[:12]) or 'none'}")


def not_called(rec: object, op: OpSpec, *, socket: str | None = None) -> pd.DataFrame:
    """No call of ``op`` (on ``socket``, which must be in the recording); returns the (empty) rows."""
    patterns = ops_arg(op)
    frame = of_socket(frame_of(rec), socket, "not_called")
    rows = frame[op_mask(frame, patterns)]
    if len(rows):
        raise CheckFailed("not_called", f"no call of {op_text(patterns)}{where(socket)}",
                          _plural(len(rows), "call"), rows)
    return rows


def in_order(rec: object, *ops: OpSpec, socket: str | None = None) -> pd.DataFrame:
    """The first call of each of ``ops`` came in this order (on ``socket``): for example
    ``in_order(rec, "join_multicast_group", "receive*", socket="listener")``. Returns those
    first calls."""
    check = "in_order"
    if len(ops) < 2:
        raise ValueError("in_order needs two ops or more")
    patterns = [ops_arg(op) for op in ops]
    frame = of_socket(frame_of(rec), socket, check)
    order = " before ".join(op_text(p) for p in patterns)
    firsts = []
    for pattern in patterns:
        rows = frame[op_mask(frame, pattern)]
        if not len(rows):
            raise CheckFailed(check, order + where(socket), f"no call of {op_text(pattern)}{where(socket)}")
        firsts.append(rows.iloc[[0]])
    chosen = pd.concat(firsts)
    seqs = chosen["seq"].tolist()
    if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
        found = ", ".join(f"{op_text(p)} first at seq {seq}" for p, seq in zip(patterns, seqs))
        raise CheckFailed(check, order + where(socket), found, chosen)
    return chosen


def sent(rec: object, socket: str, *, to: object = None, payload: bytes | None = None,
         at_least: int = 1) -> pd.DataFrame:
    """``socket`` sent at least ``at_least`` datagrams or chunks (to ``to``; carrying ``payload``,
    bytes). Returns those sends."""
    return _moved_by(rec, "sent", "send*", label_arg(socket, "socket"), peer_text(to, "to"), payload_arg(payload),
                     count_arg(at_least, "at_least"))


def received(rec: object, socket: str, *, source: object = None, payload: bytes | None = None,
             at_least: int = 1) -> pd.DataFrame:
    """``socket`` received at least ``at_least`` datagrams or chunks (from ``source``; carrying
    ``payload``, bytes). Returns those receives."""
    return _moved_by(rec, "received", "receive*", label_arg(socket, "socket"), peer_text(source, "source"),
                     payload_arg(payload), count_arg(at_least, "at_least"))


def _moved_by(rec: object, check: str, op: str, socket: str, peer: str | None, payload: bytes | None,
              at_least: int) -> pd.DataFrame:
    frame = of_socket(frame_of(rec), socket, check)
    calls = frame[op_mask(frame, op)]
    rows = calls[carried(calls)]
    wanted = f"{at_least} {'datagram or chunk' if at_least == 1 else 'datagrams or chunks'} {check} by {socket!r}"
    if peer is not None:
        rows = rows[rows["peer"] == peer]
        wanted += f" {'to' if check == 'sent' else 'from'} {peer}"
    if payload is not None:
        rows = rows[[as_bytes(p) == payload for p in rows["payload"]]]
        wanted += f" carrying {payload!r}"
    if len(rows) >= at_least:
        return rows
    failed = calls[~ok(calls)]
    found = f"{len(rows)}" + (f"; {len(failed)} {op.rstrip('*')} calls failed" if len(failed) else "")
    raise CheckFailed(check, wanted, found, calls if len(calls) else None)


def no_busy_wait(rec: object, *, socket: str | None = None, max_per_second: int = 20) -> pd.DataFrame:
    """At most ``max_per_second`` calls failed with ``WOULD_BLOCK`` in any one second (on
    ``socket``): non-blocking I/O waits for readiness (``condition_wait``, a source) instead of
    retrying in a loop. Returns the ``WOULD_BLOCK`` rows."""
    check = "no_busy_wait"
    limit = count_arg(max_per_second, "max_per_second")
    frame = of_socket(frame_of(rec), socket, check)
    misses = frame[failed_with(frame, "WOULD_BLOCK")]
    for label, mine in misses.groupby("socket", sort=False, observed=True):
        times = mine["elapsed"].to_numpy(dtype=float)
        ends = np.searchsorted(times, times + 1.0, side="left")
        counts = ends - np.arange(len(times))
        worst = int(counts.argmax())
        if counts[worst] > limit:
            window = mine.iloc[worst:ends[worst]]
            raise CheckFailed(check, f"at most {limit} WOULD_BLOCK a second on {label!r}",
                              f"{int(counts[worst])} in the second from seq {window['seq'].iloc[0]} "
                              f"(elapsed {times[worst]:.3f} s)", window, columns=("blocking",),
                              hint="wait for the condition (condition_wait(GLib.IOCondition.IN), "
                                   "condition_timed_wait, or a source) before calling again")
    return misses


def mode(rec: object, socket: str, *, blocking: bool) -> pd.DataFrame:
    """Every send and receive of ``socket`` ran blocking (``blocking=True``) or non-blocking.
    Returns those sends and receives."""
    check = "mode"
    if not isinstance(blocking, (bool, np.bool_)):
        raise TypeError(f"blocking must be a bool, not {type(blocking).__name__}")
    frame = of_socket(frame_of(rec), label_arg(socket, "socket"), check)
    io = frame[is_io(frame)]
    if not len(io):
        raise CheckFailed(check, f"sends or receives on {socket!r}", "none")
    wrong = io[io["blocking"].astype("boolean").fillna(True) != bool(blocking)]
    if len(wrong):
        kind = "blocking" if blocking else "non-blocking"
        raise CheckFailed(check, f"every send and receive of {socket!r} to run {kind}",
                          f"{len(wrong)} of {len(io)} did not", wrong, columns=("blocking",),
                          hint=f"set_blocking({bool(blocking)}) before the I/O, or use "
                               f"*_with_blocking(…, {bool(blocking)})")
    return io


def timeout_at_most(rec: object, socket: str, seconds: float) -> pd.DataFrame:
    """Every call of ``socket`` that can wait had a timeout of at most ``seconds``: none could
    wait for ever. Calls that can wait are the blocking receives, ``accept`` and ``connect``,
    and every ``condition_wait``/``condition_timed_wait`` (they wait in either mode). The
    ``timeout`` column is what counts: the socket's timeout, or the call's own. Returns those calls."""
    check = "timeout_at_most"
    limit = seconds_arg(seconds, "seconds")
    frame = of_socket(frame_of(rec), label_arg(socket, "socket"), check)
    blocking = frame["blocking"].astype("boolean").fillna(True)
    waiting = frame[(op_mask(frame, _BLOCKING_WAITS) & blocking) | op_mask(frame, _CONDITION_WAITS)]
    if not len(waiting):
        idle = frame[op_mask(frame, _BLOCKING_WAITS) & ~blocking]
        found = f"none: {_plural(len(idle), 'call')} of {socket!r} ran non-blocking" if len(idle) else "none"
        raise CheckFailed(check, f"calls of {socket!r} that wait (blocking receives, accept, connect, "
                          "condition waits)", found, idle if len(idle) else None, columns=("blocking", "timeout"),
                          hint="this check is about how long a wait may last: wait, with a timeout")
    timeout = waiting["timeout"].astype("Float64")
    unbounded = timeout.isna().to_numpy(dtype=bool)
    longer = (timeout > limit).fillna(False).to_numpy(dtype=bool)
    wrong = waiting[unbounded | longer]
    if len(wrong):
        kinds = (["without one"] if unbounded.any() else []) + (
            [f"longer (up to {float(timeout[longer].max()):g} s)"] if longer.any() else [])
        raise CheckFailed(check, f"a timeout of at most {limit:g} s on every wait of {socket!r}",
                          f"{len(wrong)} of {len(waiting)} {' or '.join(kinds)}", wrong,
                          columns=("blocking", "timeout"),
                          hint="set_timeout(n) on the socket, or pass a timeout to the call")
    return waiting
