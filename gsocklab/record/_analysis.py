"""Analyses of a recording: per-socket totals, send → receive flows, batched calls.

Pure pandas over a frame with the columns of `TRAFFIC_SCHEMA` (``Recorder.to_dataframe()``,
a loaded recording, or a filtered part of one); no sockets, no recorder state. Every
function returns a plain DataFrame with declared dtypes (`SUMMARY_SCHEMA`, `FLOWS_SCHEMA`,
`BATCHES_SCHEMA`), the same for an empty input as for a full one.

Two facts of the recording shape all three:

* A ``send_messages``/``receive_messages`` call is one row per message moved; the rows share
  ``batch`` and repeat the call's ``time``, ``elapsed``, ``waited`` and ``duration``. A call
  that moved nothing is one row with ``index`` missing, and a call that moved some messages
  and then failed adds one such row carrying the ``error``. *Calls* are therefore counted
  once per batch, *messages* once per row that moved data.
* A row moved data when its ``nbytes`` is set (failed calls have none). A zero-byte receive
  on a stream is the end of the stream, not a message.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ._schema import ERRORS, FAMILIES, OPS, STRING, TYPES

__all__ = ["BATCHES_SCHEMA", "FLOWS_SCHEMA", "SUMMARY_SCHEMA", "batches", "flows", "summary"]

_UTC: Final = "datetime64[ns, UTC]"

#: Columns of `summary` (indexed by ``socket``), in order; one ``error_<CODE>`` column (int64)
#: follows for every error code that occurs in the frame, in `IOErrorEnum` order.
SUMMARY_SCHEMA: Final[Mapping[str, object]] = {
    "family": FAMILIES,         # of the socket's first row
    "type": TYPES,
    "local": STRING,            # the socket's last known local address
    "calls": "int64",           # socket calls (a batched call counts once)
    "out_messages": "int64",    # datagrams / stream chunks sent (a batch counts each message)
    "out_bytes": "int64",
    "in_messages": "int64",     # datagrams / stream chunks received (end of stream not counted)
    "in_bytes": "int64",
    "errors": "int64",          # calls that failed, whatever the code
    "timeouts": "int64",        # … with TIMED_OUT (also in error_TIMED_OUT when present)
    "would_block": "int64",     # … with WOULD_BLOCK (also in error_WOULD_BLOCK when present)
    "waited_total": "float64",  # seconds spent waiting inside the socket's calls
    "waited_mean": "float64",   # … per call
}

#: Columns of `flows`, in order: one row per send and receiving socket (see `flows`).
FLOWS_SCHEMA: Final[Mapping[str, object]] = {
    "send_seq": "int64",        # seq of the send's row
    "receive_seq": "Int64",     # seq of the receive's row; <NA> when lost
    "sender": STRING,           # label of the sending socket
    "receiver": STRING,         # label of the receiving socket; <NA> when lost
    "type": TYPES,              # DATAGRAM, STREAM, SEQPACKET (of the sender)
    "source": STRING,           # the sender's local address
    "destination": STRING,      # the sender's peer: where it sent to
    "nbytes": "Int64",          # bytes sent
    "payload": "object",        # captured bytes of the send, or None
    "sent_at": _UTC,            # wall clock when the send started
    "received_at": _UTC,        # wall clock when the receive returned; NaT when lost
    "latency": "Float64",       # seconds from the send's start to the receive's end (monotonic); <NA> if lost
    "lost": "boolean",          # no receive in the recording matches the send
}

#: Columns of `batches`, in order: one row per ``send_messages``/``receive_messages`` call.
BATCHES_SCHEMA: Final[Mapping[str, object]] = {
    "batch": "int64",                   # the call's batch number
    "seq": "int64",                     # seq of its first row
    "time": _UTC,                       # wall clock when the call started
    "socket": STRING,
    "op": OPS,                          # send_messages / receive_messages
    "asked": "Int64",                   # messages passed to the call; <NA> when the recording does not say
    "moved": "int64",                   # messages sent or received
    "nbytes": "int64",                  # bytes of those messages
    "duration": "float64",              # seconds for the call
    "waited": "float64",                # seconds it waited
    "messages_per_second": "Float64",   # moved / duration; <NA> when duration is 0
    "error": ERRORS,                    # the call's error (after `moved` messages), <NA> if none
    "message": STRING,                  # the error's message
}

_REQUIRED: Final = ("seq", "time", "elapsed", "socket", "op", "direction", "family", "type", "local", "peer",
                    "nbytes", "payload", "waited", "duration", "error", "message", "batch", "index")
_WILDCARDS: Final = frozenset({"0.0.0.0", "::"})


def _check(df: pd.DataFrame) -> None:
    missing = [name for name in _REQUIRED if name not in df.columns]
    if missing:
        raise ValueError(f"not a recording frame: missing column(s) {', '.join(missing)}")


def _empty(schema: Mapping[str, object]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in schema.items()})


def _first_rows_of_calls(df: pd.DataFrame) -> pd.Series[Any]:
    """True on one row per call: every row outside a batch, the first row of each batch."""
    batch = df["batch"]
    return batch.isna() | ~batch.duplicated()


def _moved(df: pd.DataFrame) -> pd.Series[Any]:
    """Rows that moved a datagram or a stream chunk (not end of stream, not failed calls)."""
    nbytes = df["nbytes"]
    stream = (df["type"] == "STREAM").fillna(False).astype(bool)
    return (nbytes.notna() & ~(stream & (nbytes == 0))).fillna(False).astype(bool)


# -- summary -----------------------------------------------------------------------------------------


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per socket (index ``socket``, in order of first appearance): what it did.

    Columns are `SUMMARY_SCHEMA` followed by one ``error_<CODE>`` count for each error code
    that occurs in ``df`` (``error_TIMED_OUT``, ``error_WOULD_BLOCK``, …), so that
    ``summary(df).filter(like="error_")`` is the table of errors by code. ``timeouts`` and
    ``would_block`` are always present, also when zero. Messages and bytes count each
    message of a batch; ``calls``, ``errors`` and the waits count a batched call once.
    ``waited_mean`` is ``waited_total / calls``.
    """
    _check(df)
    if not len(df):
        frame = _empty(SUMMARY_SCHEMA)
        frame.index = pd.Index([], dtype=STRING, name="socket")
        return frame
    df = df.sort_values("seq", kind="stable")
    call = _first_rows_of_calls(df)
    moved = _moved(df)
    out = (df["direction"] == "out").fillna(False).astype(bool) & moved
    into = (df["direction"] == "in").fillna(False).astype(bool) & moved
    nbytes = df["nbytes"].fillna(0).astype("int64")
    error = df["error"]
    parts = pd.DataFrame({
        "socket": df["socket"],
        "calls": call.astype("int64"),
        "out_messages": out.astype("int64"),
        "out_bytes": nbytes.where(out, 0),
        "in_messages": into.astype("int64"),
        "in_bytes": nbytes.where(into, 0),
        "errors": error.notna().astype("int64"),
        "timeouts": (error == "TIMED_OUT").fillna(False).astype("int64"),
        "would_block": (error == "WOULD_BLOCK").fillna(False).astype("int64"),
        "waited_total": df["waited"].where(call, 0.0).astype("float64"),
    })
    grouped = parts.groupby("socket", sort=False)
    result = grouped.sum()
    result["waited_mean"] = result["waited_total"] / result["calls"]
    firsts = df.groupby("socket", sort=False)[["family", "type"]].first()
    locals_ = df.groupby("socket", sort=False)["local"].last()  # last non-missing
    result = result.assign(family=firsts["family"], type=firsts["type"], local=locals_)
    result = result[list(SUMMARY_SCHEMA)].astype(SUMMARY_SCHEMA)

    failed = df[error.notna()]
    if len(failed):
        codes = [code for code in ERRORS.categories if code in set(failed["error"].astype(str))]
        counts = pd.crosstab(failed["socket"], failed["error"].astype(str))
        counts = counts.reindex(index=result.index, columns=codes, fill_value=0).fillna(0).astype("int64")
        counts.columns = [f"error_{code}" for code in codes]
        result = result.join(counts)
    result.index = pd.Index(result.index, dtype=STRING, name="socket")
    result.columns.name = None
    return result


# -- flows -------------------------------------------------------------------------------------------


def _split_address(text: str) -> tuple[str, str]:
    """``(host, port)`` of ``127.0.0.1:5000`` / ``[::1]:5000``; ``("", text)`` for a unix path."""
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if sep and port.isdigit():
            return host.partition("%")[0], port
    else:
        host, sep, port = text.rpartition(":")
        if sep and port.isdigit() and host.count(".") == 3:
            return host, port
    return "", text


def _endpoint_table(values: pd.Series[Any]) -> pd.DataFrame:
    """Per distinct address text: ``host``, ``port`` (the path for unix), ``wildcard``, ``group``."""
    texts = [text for text in pd.unique(values.dropna().astype(object)) if text]
    rows = []
    for text in texts:
        host, port = _split_address(text)
        group = loopback = False
        if host:
            try:
                address = ipaddress.ip_address(host)
                group = address.is_multicast or host == "255.255.255.255"
                loopback = address.is_loopback
            except ValueError:
                pass
        rows.append((text, host, port, host in _WILDCARDS, group, loopback))
    return pd.DataFrame(rows, columns=["address", "host", "port", "wildcard", "group", "loopback"])


def _src_key(addresses: pd.Series[Any]) -> pd.Series[Any]:
    """The part of a source address that both ends see alike: the port (or unix path); <NA> if unknown.

    Hosts are not compared here: a sender bound to ``0.0.0.0`` sends from the address its
    route picks, which only the receiver sees.
    """
    table = _endpoint_table(addresses)
    known = table[(table["port"] != "0") & (table["port"] != "")]
    mapping = dict(zip(known["address"], known["port"]))
    return addresses.astype(object).map(mapping).astype(STRING)


def _greedy(sends: pd.DataFrame, receives: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Pairs ``(sid, rid)``: each receive takes the earliest unmatched send of its key that started before it ended.

    ``sends`` has ``keys``, ``start``, ``order`` and ``sid``; ``receives`` has ``keys``, ``end``,
    ``order`` and ``rid``. Within a key, with sends ordered by start and receives by end, let
    ``a_j`` be the number of sends started before receive ``j`` (1-based) ended. The greedy
    match count after receive ``j`` is ``M_j = min(M_{j-1} + 1, a_j)``, that is
    ``j + min(0, min_{k<=j}(a_k - k))``: a cumulative minimum, so no loop over rows. Receive
    ``j`` is matched when ``M_j`` grows, to the ``M_j``-th send.
    """
    if not len(sends) or not len(receives):
        return pd.DataFrame({"sid": pd.Series([], dtype="int64"), "rid": pd.Series([], dtype="int64")})
    s = sends[[*keys, "start", "order", "sid"]].rename(columns={"start": "t"}).assign(kind=0, rid=-1)
    r = receives[[*keys, "end", "order", "rid"]].rename(columns={"end": "t"}).assign(kind=1, sid=-1)
    events = pd.concat([s, r], ignore_index=True)
    events["g"] = events.groupby(keys, sort=False, dropna=False).ngroup()
    # at equal times a send counts as started before the receive ended
    events = events.sort_values(["g", "t", "kind", "order"], kind="stable", ignore_index=True)
    is_send = events["kind"] == 0
    events["a"] = is_send.astype("int64").groupby(events["g"]).cumsum()
    rec = events[~is_send]
    j = rec.groupby("g").cumcount() + 1
    m = j + np.minimum(0, (rec["a"] - j).groupby(rec["g"]).cummin())
    grew = m > m.groupby(rec["g"]).shift(fill_value=0)
    taken = pd.DataFrame({"g": rec["g"][grew], "rank": m[grew], "rid": rec["rid"][grew]})
    snd = events[is_send]
    ranked = pd.DataFrame({"g": snd["g"], "rank": snd.groupby("g").cumcount() + 1, "sid": snd["sid"]})
    pairs = taken.merge(ranked, on=["g", "rank"], how="inner")
    return pairs[["sid", "rid"]].astype("int64")


def _datagram_pairs(sends: pd.DataFrame, receives: pd.DataFrame) -> pd.DataFrame:
    """Matched ``(sid, rid)`` for datagram (and seqpacket) rows; see `flows`."""
    # where each send could arrive: the receiving (socket, local) endpoints of its destination
    dst = _endpoint_table(sends["peer"])
    eps = receives[["socket", "local", "lab"]].dropna(subset=["socket", "local"]).drop_duplicates(["socket", "local"])
    eps = eps.assign(ep=np.arange(len(eps)))
    loc = _endpoint_table(eps["local"])
    eps = eps.merge(loc, left_on="local", right_on="address")
    cand = dst.merge(eps[["ep", "port", "host", "wildcard", "group", "lab"]], on="port", suffixes=("", "_ep"))
    exact = cand["host"] == cand["host_ep"]
    cand = cand[exact | cand["wildcard_ep"]].assign(exact=exact)
    # a loopback address is each lab host's own: it reaches only the sender's host
    cand = cand.assign(scope=cand["lab"].where(cand["loopback"], "*"))
    # unicast: the most specific binding receives it; a group address reaches every member
    best = cand.groupby(["address", "scope"])["exact"].transform("max")
    cand = cand[cand["group"] | (cand["exact"] == best)]
    receives = receives.merge(eps[["socket", "local", "ep"]], on=["socket", "local"], how="inner")

    s = sends.merge(cand[["address", "ep", "group", "scope"]], left_on="peer", right_on="address", how="inner")
    s = s[(s["scope"] == "*") | (s["scope"] == s["lab"])]
    s = s.assign(src=_src_key(s["local"]))
    r = receives.assign(src=_src_key(receives["peer"]))
    matched = _greedy(s[s["src"].notna()], r[r["src"].notna()], ["ep", "src", "content"])
    # then a side whose source is unknown matches on destination and content alone: first
    # receives without a source, then sends without one
    ep_of = r.set_index("rid")["ep"]
    for unknown_receive in (True, False):
        used = matched.assign(ep=matched["rid"].map(ep_of))[["sid", "ep"]]
        free_s = s.merge(used, on=["sid", "ep"], how="left", indicator=True)
        free_s = free_s[(free_s["_merge"] == "left_only") & (free_s["group"] | ~free_s["sid"].isin(matched["sid"]))]
        free_r = r[~r["rid"].isin(matched["rid"])]
        if unknown_receive:
            part = _greedy(free_s, free_r[free_r["src"].isna()], ["ep", "content"])
        else:
            part = _greedy(free_s[free_s["src"].isna()], free_r[free_r["src"].notna()], ["ep", "content"])
        matched = pd.concat([matched, part], ignore_index=True)
    return matched


def _stream_pairs(sends: pd.DataFrame, receives: pd.DataFrame) -> pd.DataFrame:
    """Matched ``(sid, rid)`` for stream rows: by position in each connection's byte stream."""
    if not len(sends) or not len(receives):
        return pd.DataFrame({"sid": pd.Series([], dtype="int64"), "rid": pd.Series([], dtype="int64")})
    s = sends.assign(conn=sends["local"].fillna("").astype(str) + " > " + sends["peer"].fillna("").astype(str))
    r = receives.assign(conn=receives["peer"].fillna("").astype(str) + " > " + receives["local"].fillna("").astype(str))
    s = s.sort_values("order", kind="stable")
    r = r.sort_values("order", kind="stable")
    s = s.assign(pos=s["nbytes"].astype("int64").groupby(s["conn"]).cumsum(), kind=0)
    r = r.assign(pos=r["nbytes"].astype("int64").groupby(r["conn"]).cumsum(), kind=1)
    events = pd.concat([s[["conn", "pos", "kind", "sid"]], r[["conn", "pos", "kind", "rid"]]], ignore_index=True)
    # a chunk arrived with the first receive that reached its last byte
    events = events.sort_values(["conn", "pos", "kind"], kind="stable", ignore_index=True)
    events["next_rid"] = events["rid"].groupby(events["conn"]).bfill()
    chunks = events[(events["kind"] == 0) & events["next_rid"].notna()]
    return pd.DataFrame({"sid": chunks["sid"].astype("int64"), "rid": chunks["next_rid"].astype("int64")})


def flows(df: pd.DataFrame) -> pd.DataFrame:
    """Each datagram or stream chunk sent, matched to where it was received (columns `FLOWS_SCHEMA`).

    Sends are the rows with direction ``out`` that moved data, receives those with ``in``.
    One row per send, and for a datagram sent to a multicast group one row per socket that
    received it; ``lost`` sends (no receive in ``df`` matches) have ``receive_seq``,
    ``receiver``, ``received_at`` and ``latency`` missing. Rows are ordered by ``send_seq``.

    **Datagrams** (and seqpackets) match when they have the same ``nbytes`` and the same
    captured ``payload`` and their addresses agree: the receiver's ``local`` is the sender's
    ``peer`` (a receiver bound to ``0.0.0.0``/``::`` accepts any host on its port; of several
    receivers, the one bound to the exact address wins, except for group addresses), and the
    receiver's ``peer`` has the port of the sender's ``local`` when both are known. A loopback
    destination (127.0.0.1, ``::1``) is each lab host's own: only receivers on the sender's
    ``host`` can have it. A receive goes to the earliest unmatched such send that started
    before the receive returned, and to one send only, in order. A truncated receive (smaller
    buffer) does not match, and so the send shows as lost.

    **Stream chunks** match by position: the bytes of a connection (sender ``local``/``peer`` =
    receiver ``peer``/``local``) are counted on both sides in ``seq`` order, and a chunk was
    received by the receive that delivered its last byte. This assumes that the recording saw
    the connection from its first byte.

    ``latency`` is the receive's *end* (``elapsed + duration``) minus the send's *start*
    (``elapsed``), in seconds on the monotonic clock: the time from handing the data to the
    socket until the application had it, including any time it sat in the receive queue
    before someone called receive. It is never negative for a correct match, even when the
    receive was already waiting before the send. A send is ``lost`` when nothing in ``df``
    received it: it was dropped, or nobody read it before the recording ended.
    """
    _check(df)
    if not len(df):
        return _empty(FLOWS_SCHEMA)
    moved = (_moved(df) & df["error"].isna()).to_numpy()
    direction = df["direction"]
    out = moved & (direction == "out").fillna(False).to_numpy(dtype=bool)
    into = moved & (direction == "in").fillna(False).to_numpy(dtype=bool)
    stream = (df["type"] == "STREAM").fillna(False).to_numpy(dtype=bool)
    # only what matching needs, one row per event; sid/rid = position in df
    nbytes = df["nbytes"].fillna(-1).to_numpy(dtype="int64")
    payload_code, _ = pd.factorize(df["payload"].astype(object), use_na_sentinel=True)
    elapsed = df["elapsed"].to_numpy(dtype="float64")
    position = np.arange(len(df), dtype="int64")
    rows = pd.DataFrame({
        "sid": position,
        "rid": position,
        "order": df["seq"].to_numpy(dtype="int64"),
        "start": elapsed,
        "end": elapsed + df["duration"].to_numpy(dtype="float64"),
        "socket": df["socket"].to_numpy(dtype=object),
        "lab": df["host"].fillna("").to_numpy(dtype=object) if "host" in df.columns else "",
        "local": df["local"].to_numpy(dtype=object, na_value=None),
        "peer": df["peer"].to_numpy(dtype=object, na_value=None),
        "nbytes": nbytes,
        # same captured bytes and same size: one code
        "content": (payload_code.astype("int64") + 1) * (int(nbytes.max(initial=0)) + 2) + nbytes + 1,
    })
    pairs = pd.concat([
        _datagram_pairs(rows[out & ~stream], rows[into & ~stream]),
        _stream_pairs(rows[out & stream], rows[into & stream]),
    ], ignore_index=True).drop_duplicates()
    sends = rows[out]
    # a unicast datagram matched in several receivers sharing its port keeps the earliest
    pairs = pairs.merge(rows[["rid", "end"]], on="rid").sort_values(["end", "rid"], kind="stable")
    peers = sends.set_index("sid")["peer"]
    to_group = _group_addresses(peers)
    keep = pairs["sid"].map(to_group).fillna(False).astype(bool) | ~pairs["sid"].duplicated()
    pairs = pairs[keep]
    return _flow_frame(df, sends["sid"], pairs)


def _group_addresses(peers: pd.Series[Any]) -> pd.Series[Any]:
    """For each send (by sid): whether its destination is a multicast/broadcast address."""
    table = _endpoint_table(peers)
    groups = set(table.loc[table["group"], "address"])
    return peers.astype(object).isin(groups)


def _flow_frame(df: pd.DataFrame, sids: pd.Series[Any], pairs: pd.DataFrame) -> pd.DataFrame:
    """The `FLOWS_SCHEMA` frame: every send in ``sids``, with its receives from ``pairs``."""
    all_sends = pd.DataFrame({"sid": sids.to_numpy(dtype="int64")})
    joined = all_sends.merge(pairs, on="sid", how="left")
    s = joined["sid"].to_numpy(dtype="int64")
    got = joined["rid"].notna().to_numpy()
    r = joined["rid"].fillna(0).to_numpy(dtype="int64")
    send_rows = df.iloc[s].reset_index(drop=True)
    recv_rows = df.iloc[r].reset_index(drop=True)
    start = send_rows["elapsed"].to_numpy(dtype="float64")
    end = recv_rows["elapsed"].to_numpy(dtype="float64") + recv_rows["duration"].to_numpy(dtype="float64")
    frame = pd.DataFrame({
        "send_seq": send_rows["seq"],
        "receive_seq": recv_rows["seq"],
        "sender": send_rows["socket"],
        "receiver": recv_rows["socket"],
        "type": send_rows["type"],
        "source": send_rows["local"],
        "destination": send_rows["peer"],
        "nbytes": send_rows["nbytes"],
        "payload": send_rows["payload"],
        "sent_at": send_rows["time"],
        "received_at": recv_rows["time"] + pd.to_timedelta(recv_rows["duration"], unit="s"),
        "latency": end - start,
        "lost": ~got,
    })
    frame = frame.astype(FLOWS_SCHEMA)
    for name in ("receive_seq", "receiver", "received_at", "latency"):
        frame[name] = frame[name].mask(~got)  # missing for lost sends, in the column's own dtype
    order = np.lexsort((frame["receive_seq"].fillna(-1).to_numpy(), frame["send_seq"].to_numpy()))
    return frame.iloc[order].reset_index(drop=True)


# -- batches -----------------------------------------------------------------------------------------


def batches(df: pd.DataFrame, asked: Mapping[int, int] | pd.Series[Any] | None = None) -> pd.DataFrame:
    """One row per ``send_messages``/``receive_messages`` call, by batch number (columns `BATCHES_SCHEMA`).

    ``moved`` counts the call's message rows (``index`` set) and ``nbytes`` their bytes; a
    call that failed before moving anything has ``moved == 0`` and its ``error``, and one that
    failed after some messages has both. ``messages_per_second`` is ``moved / duration``.
    The recording's columns do not say how many messages a call was given: ``asked`` maps
    batch numbers to that count (the recorder passes what it noted), else it is missing.
    """
    _check(df)
    rows = df[df["batch"].notna()]
    if not len(rows):
        frame = _empty(BATCHES_SCHEMA)
        return frame.astype({"op": df["op"].dtype})
    rows = rows.sort_values(["batch", "seq"], kind="stable")
    message = rows["index"].notna()
    per_row = pd.DataFrame({
        "batch": rows["batch"].astype("int64"),
        "moved": message.astype("int64"),
        "nbytes": rows["nbytes"].fillna(0).astype("int64").where(message, 0),
    })
    totals = per_row.groupby("batch", sort=True).sum()
    calls = rows.drop_duplicates("batch").set_index(per_row["batch"].drop_duplicates())
    failed = rows[rows["error"].notna()].drop_duplicates("batch")
    failed = failed.set_index(failed["batch"].astype("int64")).reindex(calls.index)
    duration = calls["duration"].astype("float64")
    notes = {} if asked is None else {int(key): value for key, value in dict(asked).items()}
    frame = pd.DataFrame({
        "batch": calls.index,
        "seq": calls["seq"],
        "time": calls["time"],
        "socket": calls["socket"],
        "op": calls["op"],
        "asked": pd.array([notes.get(int(key)) for key in calls.index], dtype="Int64"),
        "moved": totals["moved"],
        "nbytes": totals["nbytes"],
        "duration": duration,
        "waited": calls["waited"],
        "messages_per_second": totals["moved"] / duration.where(duration > 0),
        "error": failed["error"],
        "message": failed["message"],
    })
    return frame.astype(dict(BATCHES_SCHEMA, op=df["op"].dtype)).reset_index(drop=True)
