"""The ``hint`` column: for the common mistakes of the lab, what to do instead.

`add_hints` looks at the whole frame at once, with vectorised comparisons on the category
codes; rules that need history (a socket's multicast settings, whether it joined a group
before receiving) follow each socket through the rows in ``seq`` order. The first rule of
`hints` that applies to a row gives its hint.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any, Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ._schema import ERRORS

__all__ = ["HINTS", "add_hints", "hints"]

#: The hints, by name (tests and documentation refer to them).
HINTS: Final = {
    "would_block_in": "non-blocking socket: nothing to read yet — wait with condition_wait(GLib.IOCondition.IN) "
                      "or a source (create_source) before receiving, or make it blocking with a timeout "
                      "(set_blocking(True); set_timeout(n))",
    "would_block_out": "non-blocking socket: the send buffer is full — wait with "
                       "condition_wait(GLib.IOCondition.OUT), then send the rest",
    "would_block_accept": "non-blocking socket: no connection is waiting — wait with "
                          "condition_wait(GLib.IOCondition.IN) before accept()",
    "would_block": "non-blocking call: it would have to wait — wait for the condition with condition_wait() first",
    "timed_out": "nothing arrived within the socket's timeout — check that the peer sends to this socket's "
                 "address and port (column local), or raise it with set_timeout(n)",
    "timed_out_wait": "the condition did not occur within the timeout given to the call",
    "address_in_use": "another socket is bound to this address — bind with allow_reuse=True on every socket "
                      "that shares it (multicast receivers need it), or bind to port 0 for a free port",
    "refused": "nobody is listening at the peer's address — start the receiver first and check the port "
               "(for UDP: an earlier datagram to it came back as ICMP port unreachable)",
    "destination_unset": "no destination: this socket is not connected — use send_to(address, data), "
                         "or connect(address) first",
    "not_connected": "the socket is not connected — connect(address) first (for UDP, send_to works without)",
    "closed": "the socket is already closed — make a new socket",
    "too_large": "the datagram is larger than the protocol allows (65,507 bytes for UDP over IPv4) — split it",
    "broadcast": "sending to a broadcast address needs set_broadcast(True) first",
    "timeout_zero": "timeout 0 means no timeout: blocking calls on this socket wait forever — "
                    "set_timeout(n) makes them give up after n seconds",
    "truncated": "MSG_TRUNC: the datagram was longer than the buffer and its end was lost — receive with a "
                 "larger size or vector",
    "not_joined": "receiving on a multicast port before this socket joined the group: on Linux a socket that "
                  "never joined gets the group's datagrams only while another socket on its host is a member — "
                  "join_multicast_group() on this socket first",
    "multicast_nowhere": "multicast loopback is off and the TTL is 0: no copy comes back to this host and none "
                         "leaves it, so no socket receives this datagram unless its route goes out of lo — "
                         "set_multicast_loopback(True) to receive it on this host, set_multicast_ttl(1) or more to "
                         "reach other hosts",
    "multicast_lan_only": "multicast loopback is off and the TTL is 1: no copy comes back to this host and no "
                          "router forwards it, so only other hosts on this network segment can receive this datagram "
                          "(or this host, if its route goes out of lo) — set_multicast_loopback(True) to receive it "
                          "here, set_multicast_ttl(n + 1) to cross n routers",
    "multicast_no_loopback": "multicast loopback is off: no copy of this datagram comes back to this host, so its "
                             "sockets (this process too) receive it only if its route goes out of lo — "
                             "set_multicast_loopback(True) to receive it here",
    "multicast_ttl_zero": "multicast TTL 0: the datagram never leaves this host, so only sockets on this host can "
                          "receive it — set_multicast_ttl(1) or more to reach other hosts",
}

_TEXTS: Final = list(HINTS.values())
_CODES: Final = {name: code for code, name in enumerate(HINTS)}
_MSG_TRUNC: Final = 0x20  # Linux MSG_TRUNC
_ERROR_CODE: Final = {name: code for code, name in enumerate(ERRORS.categories)}
_TRUE: Final = frozenset({"True", "1"})
_FALSE: Final = frozenset({"False", "0"})


def add_hints(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``hint`` column computed (in place; also returned)."""
    if len(frame):
        from ._frame import strings

        frame["hint"] = strings(_TEXTS, hints(frame))
    return frame


def _host_port(text: str) -> tuple[str, str]:
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
        return host, port
    host, _, port = text.rpartition(":")
    return host, port


def _is_multicast(text: str) -> bool:
    host = _host_port(text)[0].partition("%")[0]
    try:
        return ipaddress.ip_address(host).is_multicast
    except ValueError:
        return False


def hints(frame: pd.DataFrame) -> np.ndarray[Any, Any]:
    """The hint of every row, as codes into `HINTS` (in its order; -1 where no rule applies)."""
    n = len(frame)
    error = frame["error"].cat.codes.to_numpy()
    ops = frame["op"].cat
    op_codes = ops.codes.to_numpy()
    categories = ops.categories

    def op_in(*names: str) -> np.ndarray[Any, Any]:
        return np.isin(op_codes, [categories.get_loc(name) for name in names if name in categories])

    def failed(*names: str) -> np.ndarray[Any, Any]:
        return np.isin(error, [_ERROR_CODE[name] for name in names])

    direction = frame["direction"].cat.codes.to_numpy()
    out, into = direction == 0, direction == 1
    blocking = frame["blocking"].to_numpy(dtype=bool, na_value=True)
    ok = error == -1
    message = frame["message"]
    would_block = failed("WOULD_BLOCK") & ~blocking
    timed_out = failed("TIMED_OUT")
    flags = frame["flags"].to_numpy(dtype=np.int64, na_value=0)

    rules: list[tuple[np.ndarray[Any, Any], str]] = []  # first match wins
    rules.extend(_multicast_rules(frame, op_in, out, into, ok, timed_out | failed("WOULD_BLOCK")))
    rules += [
        (would_block & into, "would_block_in"),
        (would_block & out, "would_block_out"),
        (would_block & op_in("accept"), "would_block_accept"),
        (would_block, "would_block"),
        (timed_out & op_in("condition_timed_wait", "condition_wait", "condition_timed_wait_async",
                            "condition_wait_async"), "timed_out_wait"),
        (timed_out, "timed_out"),
        (failed("ADDRESS_IN_USE"), "address_in_use"),
        (failed("CONNECTION_REFUSED"), "refused"),
        (failed("DESTINATION_UNSET"), "destination_unset"),
        (failed("NOT_CONNECTED"), "not_connected"),
        (failed("CLOSED"), "closed"),
        (failed("MESSAGE_TOO_LARGE"), "too_large"),
        (failed("PERMISSION_DENIED") & out, "broadcast"),
        (ok & op_in("set_timeout") & (message == "0").to_numpy(dtype=bool, na_value=False), "timeout_zero"),
        (into & ok & (flags & _MSG_TRUNC != 0), "truncated"),
    ]
    result = np.full(n, -1, dtype=np.int8)
    for mask, name in reversed(rules):
        if mask.any():
            result[mask] = _CODES[name]
    return result


def _values(series: pd.Series[Any], true: Iterable[str], false: Iterable[str]) -> pd.Series[Any]:
    """1.0 / 0.0 for the texts in ``true`` / ``false``, NaN otherwise."""
    return series.map(lambda text: 1.0 if text in true else 0.0 if text in false else np.nan).astype(float)


def _multicast_rules(frame: pd.DataFrame, op_in: Any, out: np.ndarray[Any, Any], into: np.ndarray[Any, Any],
                     ok: np.ndarray[Any, Any], missed: np.ndarray[Any, Any]
                     ) -> list[tuple[np.ndarray[Any, Any], str]]:
    """Rules about multicast: sending with loopback off or TTL 0, receiving before joining.

    A send hint says only what the socket's settings prove: a sender bound to a loopback
    address sends out of lo, which delivers to this host's members whatever the loopback and
    TTL, so it gets none; and none is given for a datagram the recording shows received
    (`flows`, worked out only when some send would get a hint).
    """
    joins = op_in("join_multicast_group", "join_multicast_group_ssm") & ok
    sent = out & frame["peer"].notna().to_numpy()
    peers = frame["peer"][sent].unique()
    groups = {text for text in peers if _is_multicast(text)}
    if not groups and not joins.any():
        return []
    rules: list[tuple[np.ndarray[Any, Any], str]] = []
    n = len(frame)
    to_group = sent & frame["peer"].isin(groups).to_numpy(dtype=bool, na_value=False) if groups else np.zeros(n, bool)
    if to_group.any():
        loop_set = op_in("set_multicast_loopback") & ok
        ttl_set = op_in("set_multicast_ttl") & ok
        rows = to_group | loop_set | ttl_set
        sub = frame.loc[rows, ["socket", "message", "local"]]
        text = sub["message"].astype(object)
        loopback = _values(text.where(loop_set[rows]), _TRUE, _FALSE)
        ttl = pd.to_numeric(text.where(ttl_set[rows]), errors="coerce")
        by = sub["socket"].astype(object)
        loopback = loopback.groupby(by, sort=False).ffill().fillna(1.0).to_numpy()
        ttl = ttl.groupby(by, sort=False).ffill().fillna(1.0).to_numpy()
        locals_ = sub["local"].astype(object)
        on_lo = {local: _is_loopback(local) for local in locals_.dropna().unique()}
        sending = to_group[rows] & ~locals_.map(on_lo).fillna(False).to_numpy(dtype=bool)
        masks = {"multicast_nowhere": sending & (loopback == 0) & (ttl == 0),
                 "multicast_lan_only": sending & (loopback == 0) & (ttl == 1),
                 "multicast_no_loopback": sending & (loopback == 0) & (ttl > 1),
                 "multicast_ttl_zero": sending & (loopback != 0) & (ttl == 0)}
        hinted = np.logical_or.reduce(list(masks.values()))
        if hinted.any():
            received = _received(frame, frame["seq"].to_numpy()[rows][hinted])
            if received.any():
                silent = np.zeros(len(hinted), dtype=bool)
                silent[np.flatnonzero(hinted)[received]] = True
                masks = {name: mask & ~silent for name, mask in masks.items()}
        for name, mask in masks.items():
            full = np.zeros(n, dtype=bool)
            full[rows] = mask
            rules.append((full, name))
    misses = into & missed
    if misses.any():
        ports = {_host_port(text)[1] for text in groups}
        sub = frame.loc[misses, ["socket", "seq", "local"]]
        first_join = frame.loc[joins, ["socket", "seq"]].groupby("socket", observed=True)["seq"].min()
        joined_at = sub["socket"].map(first_join).astype(float).to_numpy()
        local_port = sub["local"].astype(object).map(lambda t: _host_port(t)[1] if isinstance(t, str) else None)
        seq = sub["seq"].to_numpy()
        never = np.isnan(joined_at)
        before = np.where(never, local_port.isin(ports).to_numpy(), joined_at > seq)
        full = np.zeros(n, dtype=bool)
        full[misses] = before
        rules.append((full, "not_joined"))
    return rules


def _is_loopback(local: str) -> bool:
    """Whether a local address (``127.0.0.1:5000``) is a loopback address: its group datagrams leave by lo."""
    try:
        return ipaddress.ip_address(_host_port(local)[0].partition("%")[0]).is_loopback
    except ValueError:
        return False


def _received(frame: pd.DataFrame, seqs: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """For each send seq in ``seqs``: whether `flows` shows some socket received it."""
    from ._analysis import flows

    matched = flows(frame)
    got = matched.loc[matched["receive_seq"].notna(), "send_seq"]
    return np.isin(seqs, got.to_numpy(dtype=np.int64))
