"""`diagnose`: why a socket did not receive, read off a recording.

Pure logic over a frame with the columns of `TRAFFIC_SCHEMA`; no sockets. One row per finding
(`DIAGNOSIS_SCHEMA`): the socket and host, the ``seq`` of the send, receive or join concerned,
a ``code`` (`CODES`), the ``evidence`` (what the recording shows, with seqs and values) and the
``fix`` (what to do, naming the Gio call).

A *missed receive* is a receive on a datagram socket R that failed with ``TIMED_OUT`` or
``WOULD_BLOCK`` (or a ``condition_*wait`` for ``IN`` that timed out). Each multicast datagram
another socket sent before it ended, meant for R (R joined the group or is bound to its port or
address, or no other socket is) and not received by R according to `flows`, is checked against
the sockets' state at the send: `_multicast_cause` gives the first cause the recording proves.
Findings are merged per (socket, code, group), with the first missed receive's ``seq`` and the
first sends' seqs. What Linux does, as the rules use it: a socket bound to a unicast address
(or another group) gets nothing sent to a group; a socket that is not a member still gets the
group's datagrams while another socket on its host is one (``IP_MULTICAST_ALL``, on by default;
``set_option`` is not recorded); a datagram leaving by ``lo`` (sender bound to 127.0.0.1)
reaches the members on ``lo`` whatever its TTL and loopback, otherwise loopback off keeps it
from the sender's host, TTL 0 keeps it on that host and crossing n routers takes a TTL above n;
an SSM join lets through only its sources; ``lo`` carries nothing between hosts.

``network`` (a `gsocklab.netlab.Network`, duck-typed: ``network.hops(a, b)`` and
``network.host(name).address(family)``) gives the routers between hosts and their addresses;
without it hosts are taken to be one LAN apart (0 routers) and the evidence says so.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Final, NamedTuple

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ..core._enums import SocketFamily
from ._analysis import _check, _split_address, flows
from ._schema import STRING
from ._socket_states import JOINS, LEAVES, Membership, SocketState, ip_of, normalised, socket_states

__all__ = ["CODES", "DIAGNOSIS_SCHEMA", "diagnose"]

#: The finding codes; for a missed multicast datagram, the rules try them in this order.
CODES: Final = ("NO_MULTICAST_ROUTE", "PORT_MISMATCH", "BOUND_TO_UNICAST", "BOUND_TO_OTHER_GROUP", "LEFT_GROUP",
                "NOT_JOINED", "SOURCE_FILTERED", "WRONG_INTERFACE", "LOOPBACK_OFF", "TTL_TOO_SMALL",
                "RECEIVED_WITHOUT_JOIN")

#: Columns of `diagnose`, in order.
DIAGNOSIS_SCHEMA: Final = {
    "socket": STRING,                         # label of the socket concerned
    "host": STRING,                           # its lab host, <NA> for this machine
    "seq": "Int64",                           # the send, receive or join concerned (the first of several)
    "code": pd.CategoricalDtype(list(CODES)),
    "evidence": STRING,                       # what the recording shows
    "fix": STRING,                            # what to do
}

_MISSED: Final = frozenset({"TIMED_OUT", "WOULD_BLOCK"})
_WAITS: Final = frozenset({"condition_wait", "condition_timed_wait", "condition_wait_async",
                           "condition_timed_wait_async"})
_STATE_OPS: Final = JOINS | LEAVES | {"set_multicast_ttl", "set_multicast_loopback", "close"}
_WILDCARDS: Final = frozenset({"0.0.0.0", "::"})
_SHOWN: Final = 3  # send seqs listed in the evidence


class Finding(NamedTuple):
    socket: str
    host: str | None
    seq: int
    code: str
    evidence: str
    fix: str


def _is_group(address: object) -> bool:
    """Whether ``232.1.1.1:5000`` / ``[ff02::1]:5000`` is a multicast destination."""
    ip = ip_of(_split_address(address)[0]) if isinstance(address, str) else None
    return ip is not None and bool(ip.is_multicast)


def _seqs(seqs: list[int]) -> str:
    shown = ", ".join(f"#{seq}" for seq in seqs[:_SHOWN])
    return shown + (f" and {len(seqs) - _SHOWN} more" if len(seqs) > _SHOWN else "")


def _where(host: str | None) -> str:
    return f"host {host}" if host else "this machine"


def _join_call(group: str) -> str:
    return f'join_multicast_group(Gio.InetAddress.new_from_string("{group}"), False, iface)'


# -- the facts one check uses --------------------------------------------------------------------


class Send(NamedTuple):
    seq: int
    socket: str
    local: str
    group: str  # the destination's address, normalised (a unicast one for unicast sends)
    port: str
    peer: str
    start: float


class Miss(NamedTuple):
    seq: int
    end: float
    local: str
    error: str


class Misses(NamedTuple):
    """One socket's missed receives: their ends in order, and at each position the first (by seq) from there on."""

    ends: list[float]
    first: list[Miss]

    def concerning(self, start: float) -> Miss | None:
        """The first missed receive that ended after a send that started at ``start``."""
        at = bisect.bisect_left(self.ends, start)
        return self.first[at] if at < len(self.first) else None


@dataclass
class Context:
    """What the rules share: the frame, the sockets' states, flows, the network."""

    df: pd.DataFrame
    network: Any
    states: dict[str, SocketState]
    received: set[tuple[int, str]] = field(default_factory=set)  # (send seq, receiver) per flows
    seen_sources: dict[str, str] = field(default_factory=dict)   # sender -> its source address as receivers saw it

    def host_members(self, receiver: str, group: str, seq: int) -> list[tuple[str, Membership]]:
        """Memberships of ``group`` at ``seq`` of the other sockets on ``receiver``'s host."""
        host = self.states[receiver].host
        return [(label, m) for label, state in self.states.items()
                if label != receiver and state.host == host for m in state.members(group, seq)]

    def hops(self, sender: str, receiver: str) -> tuple[int, str]:
        """Routers between the two sockets' hosts, and how that is known."""
        a, b = self.states[sender].host, self.states[receiver].host
        if self.network is not None and a and b:
            try:
                hops = int(self.network.hops(a, b))
                return hops, f"{a} → {b} crosses {hops} router(s)"
            except (KeyError, ValueError):
                pass
        return 0, f"{_where(a)} → {_where(b)}: hop count unknown (no network given), assumed 0"

    def address_of(self, host: str | None, version: int) -> str | None:
        """A lab host's address (``network.host(host).address(family)``), if the network tells."""
        if self.network is None or not host:
            return None
        try:
            return normalised(str(self.network.host(host).address(SocketFamily.IPV6 if version == 6 else
                                                            SocketFamily.IPV4)))
        except (KeyError, ValueError, AttributeError):
            return None

    def source_of(self, send: Send) -> tuple[str | None, str]:
        """The sender's address as its receivers see it, and where that comes from."""
        host = _split_address(send.local)[0]
        if normalised(host) and host not in _WILDCARDS:
            return normalised(host), f"its local address {send.local}"
        if send.socket in self.seen_sources:
            return self.seen_sources[send.socket], "the source its receivers saw"
        sender_host = self.states[send.socket].host
        address = self.address_of(sender_host, ip_of(send.group).version)
        return address, f"{sender_host}'s address in the network" if address else "unknown"


# -- the rules -----------------------------------------------------------------------------------


def _no_route(ctx: Context) -> Iterator[Finding]:
    """NO_MULTICAST_ROUTE: joins refused with NO_SUCH_DEVICE, sends to a group refused with NETWORK_UNREACHABLE."""
    df = ctx.df
    sends = df[(df["direction"] == "out").fillna(False) & (df["error"] == "NETWORK_UNREACHABLE").fillna(False)]
    sends = sends[sends["peer"].map(_is_group).astype(bool)]
    for label, state in ctx.states.items():
        joins = state.no_route_joins
        out = sends[sends["socket"] == label]
        if not joins and not len(out):
            continue
        parts = []
        if joins:
            parts.append(f"join {_seqs(joins)} failed with NO_SUCH_DEVICE \"Error joining multicast group: No such "
                         "device\": no interface was named (or the name is unknown) and no route gives one")
        if len(out):
            parts.append(f"send {_seqs(out['seq'].tolist())} to {', '.join(sorted(set(out['peer'])))} failed with "
                         "NETWORK_UNREACHABLE")
        route = "ip -6 route add ff00::/8 dev eth0" if state.family == "IPV6" else "ip route add 224.0.0.0/4 dev eth0"
        yield Finding(label, state.host, min(joins + out["seq"].tolist()), "NO_MULTICAST_ROUTE",
                      f"{_where(state.host)} has no multicast route: " + "; ".join(parts),
                      'name the interface: join_multicast_group(group, False, "eth0"), or add a multicast route on '
                      f"{_where(state.host)} ({route})")


def _concerned(ctx: Context, receiver: str, miss: Miss, send: Send, wanted: dict[tuple[str, str], set[str]]) -> bool:
    """Whether ``send`` was meant for ``receiver``: it joined the group, is bound to its port or
    address, or no other socket of the recording joined the group or bound its port."""
    if any(m.group == send.group for m in ctx.states[receiver].memberships):
        return True
    host, port = _split_address(miss.local)
    if normalised(host) == send.group:
        return True
    if ip_of(host) is not None and ip_of(host).is_multicast:  # bound to another group: not for this one
        return False
    return port == send.port or not (wanted[(send.group, send.port)] - {send.socket, receiver})


def _multicast_cause(ctx: Context, receiver: str, miss: Miss, send: Send) -> tuple[str, str, str] | None:
    """The first cause the recording proves for ``receiver`` missing ``send``: (code, evidence, fix)."""
    state, sender = ctx.states[receiver], ctx.states[send.socket]
    host, port = _split_address(miss.local)
    sent = f"send #{send.seq} by {send.socket} to {send.peer}"
    if port != send.port:
        bound = f"was bound to {miss.local}" if port not in ("", "0") else "was not bound to a port"
        return ("PORT_MISMATCH", f"{receiver} {bound} at receive #{miss.seq} ({miss.error}); {sent} went to port "
                f"{send.port}", f"bind the receiver to port {send.port}: bind(Gio.InetSocketAddress.new("
                f"Gio.InetAddress.new_any(family), {send.port}), True) — or send_to the port it is bound to")
    if host not in _WILDCARDS and normalised(host) != send.group:
        code = "BOUND_TO_OTHER_GROUP" if ip_of(host) is not None and ip_of(host).is_multicast else "BOUND_TO_UNICAST"
        return (code, f"{receiver} was bound to {miss.local} at receive #{miss.seq}: it gets only datagrams "
                f"addressed to {host}, not {sent}", f"bind to the wildcard (Gio.InetAddress.new_any(family)) or to "
                f"the group {send.group}, port {send.port}, with allow_reuse=True")
    own = state.members(send.group, send.seq)
    others = ctx.host_members(receiver, send.group, send.seq)
    weak = None
    if not own:
        mine = [m for m in state.memberships if m.group == send.group]
        left = [m for m in mine if m.end is not None and m.end < send.seq]
        if left:
            code, what = "LEFT_GROUP", (f"{receiver} joined {send.group} at #{left[-1].start} and left it at "
                                        f"#{left[-1].end}, before {sent}")
            fix = f"leave_multicast_group() only after the last datagram wanted, or {_join_call(send.group)} again"
        else:
            later = [m.start for m in mine if m.start > send.seq]
            code, what = "NOT_JOINED", f"{receiver} was not a member of {send.group} at {sent}" + (
                f" (it joined only at #{later[0]}, after the send)" if later else "")
            fix = f"join on this socket before the datagrams are sent: {_join_call(send.group)}"
        if not others:
            if code == "NOT_JOINED" and state.no_route_joins and state.no_route_joins[0] < send.seq:
                return None  # its join failed: NO_MULTICAST_ROUTE says why
            return code, what + f", and no socket on {_where(state.host)} was a member", fix
        weak = (code, what + f"; {', '.join(sorted({label for label, _ in others}))} on {_where(state.host)} was a "
                "member, through which Linux delivers to it too unless it turned IP_MULTICAST_ALL off (set_option is "
                "not recorded)", fix)
    elif all(m.sources for m in own):
        allowed = frozenset().union(*[m.sources or () for m in own])
        source, how = ctx.source_of(send)
        if source is not None and source not in allowed:
            return ("SOURCE_FILTERED", f"{receiver} joined {send.group} only for source(s) "
                    f"{', '.join(sorted(allowed))} (#{own[0].start}); {sent} came from {source} ({how})",
                    f'join_multicast_group_ssm(group, Gio.InetAddress.new_from_string("{source}"), iface) for this '
                    "source too, or join_multicast_group(group, False, iface) for any source")
    effective = own or [m for _, m in others]
    if state.host != sender.host and all(m.iface == "lo" for m in effective):
        return ("WRONG_INTERFACE", f"{receiver}'s membership {', '.join(m.text() for m in effective)} is on lo, "
                f"which carries nothing between hosts; {sent} came from {_where(sender.host)}",
                'join on the interface facing the sender: join_multicast_group(group, False, "eth0") (or None for '
                "the route's choice)")
    loopback, loop_at = sender.setting("loopback", send.seq, True)
    sender_ip = ip_of(_split_address(send.local)[0])
    if state.host == sender.host and not loopback and not (sender_ip is not None and sender_ip.is_loopback):
        return ("LOOPBACK_OFF", f"{send.socket}, on {_where(state.host)} like {receiver}, turned multicast loopback "
                f"off at #{loop_at}; {sent} was sent from {send.local}, not a loopback address, so no copy came back "
                "to its own host (only a datagram that goes out of lo reaches it without loopback)",
                f"set_multicast_loopback(True) on {send.socket}")
    if state.host != sender.host:
        ttl, ttl_at = sender.setting("ttl", send.seq, 1)
        hops, how = ctx.hops(send.socket, receiver)
        if ttl <= hops:
            where = f"set at #{ttl_at}" if ttl_at is not None else "the default"
            return ("TTL_TOO_SMALL", f"{sent} had multicast TTL {ttl} ({where}); {how}: TTL 0 does not leave the "
                    "host and crossing n routers takes a TTL above n", f"set_multicast_ttl({hops + 1}) or more on "
                    f"{send.socket}")
    return weak


def _earlier(a: Miss, b: Miss) -> Miss:
    return a if a.seq < b.seq else b


def _missed_receives(df: pd.DataFrame) -> dict[str, Misses]:
    """Per datagram socket: its receives that failed with TIMED_OUT/WOULD_BLOCK, and its waits for IN that timed out."""
    error = df["error"].astype(object)
    missed = (df["direction"] == "in").fillna(False) & error.isin(_MISSED)
    if "condition" in df.columns:
        waits = df["op"].astype(str).isin(_WAITS) & (error == "TIMED_OUT")
        missed |= waits & df["condition"].fillna("").astype(str).str.contains("IN")
    rows = df[missed & (df["type"] == "DATAGRAM").fillna(False)]
    by_socket: dict[str, list[Miss]] = {}
    for label, seq, end, local, err in zip(rows["socket"], rows["seq"], rows["elapsed"] + rows["duration"],
                                           rows["local"].fillna(""), rows["error"].astype(str)):
        by_socket.setdefault(label, []).append(Miss(int(seq), float(end), local, err))
    result = {}
    for label, misses in by_socket.items():
        misses.sort(key=lambda miss: miss.end)
        first: list[Miss] = list(accumulate(reversed(misses), _earlier))[::-1]
        result[label] = Misses([miss.end for miss in misses], first)
    return result


def _sends(df: pd.DataFrame) -> tuple[list[Send], list[Send]]:
    """The datagrams sent (data moved, no error): to multicast groups, and to unicast addresses."""
    moved = (df["direction"] == "out").fillna(False) & df["nbytes"].notna() & df["error"].isna()
    rows = df[moved & (df["type"] != "STREAM").fillna(True) & df["peer"].notna()]
    group: list[Send] = []
    unicast: list[Send] = []
    parsed = {}  # peer -> (address, port, multicast), worked out once per destination
    for peer in rows["peer"].unique():
        address, port = _split_address(peer)
        ip = ip_of(address)
        parsed[peer] = None if ip is None else (str(ip), port, ip.is_multicast)
    for seq, label, local, peer, start in zip(rows["seq"].tolist(), rows["socket"].tolist(),
                                              rows["local"].fillna("").tolist(), rows["peer"].tolist(),
                                              rows["elapsed"].tolist()):
        destination = parsed[peer]
        if destination is not None:
            (group if destination[2] else unicast).append(Send(seq, label, local, destination[0], destination[1],
                                                               peer, start))
    return group, unicast


def _missed_multicast(ctx: Context, sends: list[Send], misses: dict[str, Misses]) -> Iterator[Cause]:
    """For every receiver and every group datagram it missed: the cause found, keyed (receiver, code, group).

    The cause depends on a send only through the sockets' state, which changes only at joins,
    leaves, multicast settings and closes: it is worked out once per receiver, miss, sender,
    destination and state, for the first such send.
    """
    wanted: dict[tuple[str, str], set[str]] = {(send.group, send.port): set() for send in sends}
    for (group, port), sockets in wanted.items():
        sockets.update(label for label, state in ctx.states.items()
                       if any(m.group == group for m in state.memberships) or any(p == port for _, p in state.bound))
    changes = ctx.df.loc[ctx.df["op"].astype(str).isin(_STATE_OPS), "seq"].sort_values().tolist()
    for receiver, missed in misses.items():
        known: dict[tuple[Any, ...], tuple[str, str, str] | None] = {}
        for send in sends:
            miss = missed.concerning(send.start)
            if miss is None or send.socket == receiver or (send.seq, receiver) in ctx.received:
                continue
            memo = (miss.seq, send.socket, send.peer, send.local, bisect.bisect_left(changes, send.seq))
            if memo not in known:
                concerned = _concerned(ctx, receiver, miss, send, wanted)
                known[memo] = _multicast_cause(ctx, receiver, miss, send) if concerned else None
            if known[memo] is not None:
                code, evidence, fix = known[memo]  # type: ignore[misc]
                yield (receiver, code, send.group), miss, send, evidence, fix


def _missed_unicast(ctx: Context, sends: list[Send], lost: set[int], misses: dict[str, Misses]) -> Iterator[Cause]:
    """PORT_MISMATCH for unicast: datagrams to the receiver's address on a port no socket of the
    recording was bound to, received by nobody, while the receiver waited."""
    sends = [send for send in sends if send.seq in lost]
    for receiver, missed in misses.items():
        state = ctx.states[receiver]
        mine: dict[tuple[str, str, str], bool] = {}  # (receiver's local, destination, sender) -> to its address
        for send in sends:
            miss = missed.concerning(send.start) if send.socket != receiver else None
            if miss is None:
                continue
            host, port = _split_address(miss.local)
            key = (miss.local, send.group, send.socket)
            if key not in mine:
                mine[key] = _addresses_receiver(ctx, state, host, send)
            if port in ("", "0", send.port) or not mine[key]:
                continue
            if any(other.port_at(send.seq) == send.port and other.host == state.host for other in ctx.states.values()):
                continue  # somebody was there to receive it (the recording did not see the receive)
            yield ((receiver, "PORT_MISMATCH", f"{send.group}:{send.port}"), miss, send,
                   f"{receiver} was bound to {miss.local} at receive #{miss.seq} ({miss.error}); send #{send.seq} by "
                   f"{send.socket} went to {send.peer}, its address on a port no socket of the recording was bound "
                   "to, and nobody received it", f"send_to port {port} (the receiver's), or bind the receiver to port "
                   f"{send.port}")


def _addresses_receiver(ctx: Context, state: SocketState, host: str, send: Send) -> bool:
    """Whether ``send``'s destination address is the receiver's (bound to ``host``)."""
    ip = ip_of(send.group)
    same_host = state.host == ctx.states[send.socket].host
    if host not in _WILDCARDS:
        return normalised(host) == send.group and (same_host or not ip.is_loopback)
    return same_host if ip.is_loopback else ctx.address_of(state.host, ip.version) == send.group


def _received_without_join(ctx: Context, sends: list[Send], matched: pd.DataFrame) -> Iterator[Finding]:
    """RECEIVED_WITHOUT_JOIN: group datagrams received by a socket that was not a member at the send
    (or only on lo, for a datagram from another host)."""
    by_seq = {send.seq: send for send in sends}
    local = ctx.df.set_index("seq")["local"]
    done: set[tuple[str, str]] = set()
    for send_seq, receive_seq, receiver in matched[["send_seq", "receive_seq", "receiver"]].itertuples(index=False):
        send = by_seq.get(int(send_seq))
        if send is None or (receiver, send.group) in done:
            continue
        state, sender = ctx.states[receiver], ctx.states[send.socket]
        own = state.members(send.group, send.seq)
        on_lo = bool(own) and state.host != sender.host and all(m.iface == "lo" for m in own)
        if own and not on_lo:
            continue
        done.add((receiver, send.group))
        left = [m for m in state.memberships if m.group == send.group and m.end is not None and m.end < send.seq]
        status = (f"its membership {', '.join(m.text() for m in own)} is on lo, which carries nothing from "
                  f"{_where(sender.host)}" if on_lo else f"had left it at #{left[-1].end}" if left else
                  "had not joined it")
        others = sorted({label for label, _ in ctx.host_members(receiver, send.group, send.seq)})
        through = (f"{', '.join(others)} on {_where(state.host)} was a member" if others else
                   f"some socket on {_where(state.host)} (not in the recording) was a member")
        bound = local.get(int(receive_seq))
        bind = "" if isinstance(bound, str) and normalised(_split_address(bound)[0]) == send.group else \
            " or bind it to the group address"
        yield Finding(receiver, state.host, int(receive_seq), "RECEIVED_WITHOUT_JOIN",
                      f"{receiver} received send #{send.seq} to {send.peer} at #{receive_seq} but {status}: "
                      f"{through}, and Linux delivers to every socket bound to the port (IP_MULTICAST_ALL)",
                      f"join the group on this socket ({_join_call(send.group)}); to keep it from groups it did not "
                      f"join, set_option(0, 49, 0) (IP_MULTICAST_ALL off){bind}")


Cause = tuple[tuple[str, str, str], Miss, Send, str, str]  # (socket, code, group), miss, send, evidence, fix


def _merge(ctx: Context, causes: list[Cause]) -> Iterator[Finding]:
    """One finding per (socket, code, group): the first missed receive, the first evidence, the sends' seqs."""
    merged: dict[tuple[str, str, str], tuple[Miss, list[int], str, str]] = {}
    for key, miss, send, evidence, fix in causes:
        first, seqs, evidence, fix = merged.get(key, (miss, [], evidence, fix))
        merged[key] = (min(first, miss, key=lambda m: m.seq), [*seqs, send.seq], evidence, fix)
    for (receiver, code, _), (miss, seqs, evidence, fix) in merged.items():
        seqs = sorted(set(seqs))
        more = f" (sends concerned: {_seqs(seqs)})" if len(seqs) > 1 else ""
        yield Finding(receiver, ctx.states[receiver].host, miss.seq, code, evidence + more, fix)


def diagnose(df: pd.DataFrame, network: Any = None) -> pd.DataFrame:
    """Why sockets of the recording ``df`` did not receive: one row per finding (`DIAGNOSIS_SCHEMA`).

    ``network`` (a `gsocklab.netlab.Network`, optional) tells the routers between hosts and the
    hosts' addresses; without it hosts are taken to be on one LAN. The rules are in the
    module's docstring; a working exchange gives no finding, and neither does a frame that
    shows nothing wrong (the result then is empty, with the same columns and dtypes).
    """
    _check(df)
    findings: list[Finding] = []
    if len(df):
        df = df.sort_values("seq", kind="stable").reset_index(drop=True)
        ctx = Context(df, network, socket_states(df))
        findings.extend(_no_route(ctx))
        group_sends, unicast_sends = _sends(df)
        misses = _missed_receives(df)
        if group_sends or (misses and unicast_sends):
            matched = flows(df)
            lost = set(matched.loc[matched["lost"].fillna(False).astype(bool), "send_seq"].astype(int))
            matched = matched[~matched["lost"].fillna(True).astype(bool)]
            ctx.received = set(zip(matched["send_seq"].astype(int), matched["receiver"]))
            peers = df.set_index("seq")["peer"]
            for sender, receive_seq in matched[["sender", "receive_seq"]].itertuples(index=False):
                peer = peers.get(int(receive_seq))
                source = normalised(_split_address(peer)[0]) if isinstance(peer, str) else None
                if source and sender not in ctx.seen_sources:
                    ctx.seen_sources[sender] = source
            causes = [*_missed_multicast(ctx, group_sends, misses), *_missed_unicast(ctx, unicast_sends, lost, misses)]
            findings.extend(_merge(ctx, causes))
            findings.extend(_received_without_join(ctx, group_sends, matched))
    frame = pd.DataFrame(findings, columns=list(DIAGNOSIS_SCHEMA)).astype(DIAGNOSIS_SCHEMA)
    order = frame.assign(code_order=frame["code"].cat.codes).sort_values(["seq", "code_order"], kind="stable")
    return frame.loc[order.index].reset_index(drop=True)
