"""What a recording shows of each socket's state over time: its host, multicast memberships
(with their interfaces and SSM sources), multicast TTL and loopback settings, joins refused for
want of a route, and the ports it was bound to. `socket_states` reads it from a frame with the
columns of `TRAFFIC_SCHEMA`; `gsocklab.record._diagnose` asks it what held at a given ``seq``.

A join or leave row shows ``group%iface`` in ``message``, and `` from source`` for a
source-specific one (see ``gsocklab.core._observe._group``); only successful calls show it.
"""

from __future__ import annotations

import bisect
import functools
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ._analysis import _split_address

__all__ = ["JOINS", "LEAVES", "Membership", "SocketState", "ip_of", "normalised", "socket_states"]

JOINS: Final = frozenset({"join_multicast_group", "join_multicast_group_ssm"})
LEAVES: Final = frozenset({"leave_multicast_group", "leave_multicast_group_ssm"})
_SETTINGS: Final = frozenset({"set_multicast_ttl", "set_multicast_loopback", "close"})


@functools.lru_cache(maxsize=4096)
def ip_of(text: str | None) -> Any:
    """The ``ipaddress`` object of a host text (zone cut), or ``None``."""
    try:
        return ipaddress.ip_address(text.partition("%")[0]) if text else None
    except ValueError:
        return None


def normalised(text: str | None) -> str | None:
    """A host text as ``ipaddress`` writes it (``ff02::1``), or ``None`` if it is no address."""
    address = ip_of(text)
    return None if address is None else str(address)


@dataclass
class Membership:
    """One span of a socket's membership of ``group`` on ``iface``: joined at seq ``start``, left at ``end``."""

    group: str
    iface: str | None
    sources: frozenset[str] | None  # None: any source
    start: int
    end: int | None = None

    def active(self, seq: int) -> bool:
        return self.start < seq and (self.end is None or self.end > seq)

    def text(self) -> str:
        where = f"{self.group}%{self.iface}" if self.iface else self.group
        return where + (f" from {', '.join(sorted(self.sources))}" if self.sources else "")


@dataclass
class SocketState:
    """What the recording shows of one socket: host, memberships, multicast settings, failed joins."""

    label: str
    host: str | None
    family: str | None
    memberships: list[Membership] = field(default_factory=list)
    ttl: list[tuple[int, int]] = field(default_factory=list)        # (seq, value) of set_multicast_ttl
    loopback: list[tuple[int, bool]] = field(default_factory=list)  # (seq, value) of set_multicast_loopback
    no_route_joins: list[int] = field(default_factory=list)         # joins refused: no interface for the group
    bound: list[tuple[int, str]] = field(default_factory=list)      # (seq, port) where its local port changed
    closed: int | None = None

    def setting(self, name: str, seq: int, default: Any) -> tuple[Any, int | None]:
        """The value of ``ttl``/``loopback`` in force at ``seq`` and the seq that set it (None: default)."""
        changes = getattr(self, name)
        at = bisect.bisect_left(changes, seq, key=lambda change: change[0])
        return (changes[at - 1][1], changes[at - 1][0]) if at else (default, None)

    def members(self, group: str, seq: int) -> list[Membership]:
        return [m for m in self.memberships if m.group == group and m.active(seq)]

    def port_at(self, seq: int) -> str | None:
        """The port it was bound to at ``seq`` (None: not yet bound, or closed)."""
        at = bisect.bisect_right(self.bound, seq, key=lambda change: change[0])
        if not at or (self.closed is not None and self.closed < seq):
            return None
        return self.bound[at - 1][1]


def _memberships(rows: pd.DataFrame) -> list[Membership]:
    """The membership spans of one socket from its successful join/leave rows (``message``
    ``232.1.1.1%eth0 from 10.1.0.2``), in seq order; an SSM join or leave changes the sources."""
    spans: list[Membership] = []
    current: dict[tuple[str, str | None], Membership] = {}
    for seq, op, message in zip(rows["seq"], rows["op"].astype(str), rows["message"]):
        where, _, source_text = (message if isinstance(message, str) else "").partition(" from ")
        group_text, _, iface_text = where.partition("%")
        group, iface, source = normalised(group_text), iface_text or None, normalised(source_text)
        if group is None:
            continue
        key = (group, iface)
        if op not in JOINS and key not in current:  # a leave without that interface: the group's first membership
            key = next((k for k in current if k[0] == group), key)
        old = current.pop(key, None)
        if old is not None:
            old.end = int(seq)
        known = old.sources if old is not None and old.sources else frozenset()
        if op in JOINS:
            sources = None if source is None else known | {source}
        elif source is None or not known - {source}:
            continue
        else:
            sources = known - {source}
        current[key] = Membership(group, key[1], sources, int(seq))
        spans.append(current[key])
    return spans


def socket_states(df: pd.DataFrame) -> dict[str, SocketState]:
    """Every socket's `SocketState`, by label."""
    hosts = df["host"] if "host" in df.columns else pd.Series(pd.NA, index=df.index, dtype=object)
    first = pd.DataFrame({"socket": df["socket"], "host": hosts, "family": df["family"].astype(object)})
    first = first.dropna(subset=["socket"]).groupby("socket", sort=False).first()
    states = {label: SocketState(label, host if isinstance(host, str) else None,
                                 family if isinstance(family, str) else None)
              for label, host, family in zip(first.index, first["host"], first["family"])}
    ops, ok = df["op"].astype(str), df["error"].isna()
    for label, rows in df[ops.isin(JOINS | LEAVES) & ok].groupby("socket", sort=False):
        states[label].memberships = _memberships(rows)
    rows = df.loc[ops.isin(_SETTINGS | JOINS), ["seq", "socket", "op", "message", "error"]]
    for seq, label, op, text, error in rows.itertuples(index=False):
        state, text = states[label], text if isinstance(text, str) else ""
        if op == "set_multicast_ttl" and pd.isna(error) and text.isdigit():
            state.ttl.append((int(seq), int(text)))
        elif op == "set_multicast_loopback" and pd.isna(error) and text in ("True", "False"):
            state.loopback.append((int(seq), text == "True"))
        elif op == "close" and state.closed is None:
            state.closed = int(seq)
        elif op in JOINS and error == "NO_SUCH_DEVICE" and text.startswith("Error joining"):
            state.no_route_joins.append(int(seq))  # not "Interface not found": a named interface that is missing
    locals_ = df["local"].astype(object)
    port_of = {text: _split_address(text)[1] for text in locals_.dropna().unique()}
    ports = pd.DataFrame({"seq": df["seq"], "socket": df["socket"], "bind": ops == "bind",
                          "port": locals_.map(port_of)}).dropna()
    ports = ports[ports["port"] != ports.groupby("socket", sort=False)["port"].shift()]
    for seq, label, bind, port in ports.itertuples(index=False):
        bound = states[label].bound  # bound before the recording saw it, unless its bind is recorded
        bound.append((int(seq) if bound or bind else -1, port))
    return states
