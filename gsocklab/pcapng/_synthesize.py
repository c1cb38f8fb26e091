"""A recording as the packets a capture would show: one pcapng block after another.

`blocks(frame)` walks the recording in time order (each call placed at its end, ``elapsed +
duration``, as ``plots.io_graph`` places it) and yields the bytes of each pcapng block:

* interface 0, ``gsocklab calls`` (``LINKTYPE_WIRESHARK_UPPER_PDU``), carries one frame per
  call that moved no packet — binds, option changes, joins, condition waits, timeouts and other
  failed calls, Unix-socket traffic — as a line of text handed to Wireshark's ``syslog``
  dissector (which shows a line without a ``<PRI>`` as it is, in the Info column; the Protocol
  column reads "Syslog") and the same text as the packet comment. Its first frame marks
  the recording's start, so Wireshark's relative times are the recording's ``elapsed``;
* one interface per IPv4/IPv6 socket (``LINKTYPE_RAW``, named by the socket's label) carries a
  packet per datagram or stream chunk the socket sent (outbound) or received (inbound), with
  the captured payload and the true length, and a comment naming the socket, the call, its
  ``seq``, the time it waited, and for a received datagram the send it matches;
* TCP: sequence numbers count each connection's bytes from a fixed initial number per
  direction, the same at both ends; ``connect`` is SYN / SYN-ACK / ACK on the client (a refused
  one SYN / RST), ``accept`` the same three seen from the listener, ``close`` a FIN, and a
  receive of the end of the stream the peer's FIN. Chunks longer than 65483 bytes (the loopback
  MSS) are cut into segments;
* multicast: each send is one packet to the group, each delivery one packet on the receiving
  socket's interface, to the group.

Unspecified local addresses (``0.0.0.0``, ``::``) become the address a receiver saw as the
source, else the loopback address when the peer is on loopback. Nothing here touches a socket:
the blocks are a pure function of the frame.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd  # type: ignore[import-untyped, unused-ignore]

from ..record._analysis import flows
from . import _blocks as B
from ._blocks import Counts
from ._ip import ACK, FIN, PSH, RST, SYN, IPAddress, tcp_packet, udp_packet

__all__ = ["Counts", "blocks"]

MSS: Final = 65483  # Linux loopback: MTU 65536 - 40 - 12 (timestamps)
CHUNK: Final = 65536  # rows turned into Python objects at a time
_UNSPECIFIED: Final = {"0.0.0.0", "::"}
_WAITING: Final = ("receive", "send", "condition", "accept", "connect")  # calls whose timeout matters
# The upper-PDU header of a call frame: Wireshark's "syslog" dissector shows a line without a <PRI> as it is,
# in the Info column of the packet list (its "data-text-lines" shows nothing there).
_TEXT_PDU: Final = struct.pack(">HH", 12, 8) + b"syslog" + b"\0\0" + struct.pack(">HH", 0, 0)


@dataclass
class _Endpoint:
    """One IP socket's interface and what the synthesis tracks of it."""

    interface: int
    ttl: int = 64
    multicast_ttl: int = 1
    ident: int = 0
    sent: int = 0  # TCP: payload bytes sent (and 1 for a FIN)
    received: int = 0
    fin_sent: bool = False
    connection: tuple[str, str] | None = None  # TCP: (local, peer) as written
    pending_connect: bool = False


def _split(text: str | None) -> tuple[str, int] | None:
    """``("127.0.0.1", 5000)`` of ``127.0.0.1:5000`` / ``[::1]:5000``; ``None`` for a path or nothing."""
    if not text:
        return None
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.split("%", 1)[0], int(port)


def _address(host: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _isn(source: str, destination: str) -> int:
    """The initial sequence number of one direction of a connection: the same at both ends."""
    return zlib.crc32(f"{source}>{destination}".encode())


def _codes(series: pd.Series[Any]) -> tuple[np.ndarray[Any, Any], list[Any]]:
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes, [None if value is pd.NA else value for value in list(uniques)]


class _Synthesis:
    """State of one walk through a frame (see the module doc)."""

    def __init__(self, frame: pd.DataFrame, start_wall_ns: int | None, capture_bytes: int | None) -> None:
        self.frame = frame
        self.capture_bytes = capture_bytes
        self.counts = Counts()
        self.endpoints: dict[str, _Endpoint] = {}
        self._resolved: dict[tuple[str | None, IPAddress | None], tuple[IPAddress, int] | None] = {}
        self.by_address: dict[tuple[str, str], _Endpoint] = {}  # TCP: (local, peer) "ip:port"s -> that end's socket
        self.accepted: dict[str, list[str]] = {}  # TCP: local "ip:port" -> peers accepted there, not yet placed
        self.listening: set[str] = set()  # labels of listening sockets
        n = len(frame)
        elapsed = frame["elapsed"].to_numpy(dtype="float64")
        self.end = elapsed + frame["duration"].to_numpy(dtype="float64")
        self.seq = frame["seq"].to_numpy(dtype="int64")
        if start_wall_ns is None and n:
            first_time = int(frame["time"].iloc[0].value)
            start_wall_ns = first_time - round(float(elapsed[0]) * 1e9)
        self.start_wall_ns = start_wall_ns or 0
        self.order = np.lexsort((self.seq, self.end)) if n else np.zeros(0, dtype="int64")
        self.sources = self._sources_seen()
        self.match_send, self.match_receive = self._matches()

    # -- preparation --------------------------------------------------------------------------

    def _sources_seen(self) -> dict[int, str]:
        """Port -> the address receivers saw datagrams or segments come from (first seen)."""
        frame = self.frame
        into = (frame["direction"] == "in").fillna(False).to_numpy(dtype=bool)
        seen: dict[int, str] = {}
        for text in pd.unique(frame["peer"][into].dropna()):
            split = _split(str(text))
            if split is not None and split[0] not in _UNSPECIFIED:
                seen.setdefault(split[1], split[0])
        return seen

    def _matches(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Per row: the row of the matching send (receives), of the first matching receive (sends); -1."""
        n = len(self.frame)
        match_send = np.full(n, -1, dtype="int64")
        match_receive = np.full(n, -1, dtype="int64")
        if not n:
            return match_send, match_receive
        matched = flows(self.frame)
        matched = matched[matched["receive_seq"].notna()]
        if not len(matched):
            return match_send, match_receive
        by_seq = np.argsort(self.seq, kind="stable")
        sorted_seq = self.seq[by_seq]
        send_rows = by_seq[np.searchsorted(sorted_seq, matched["send_seq"].to_numpy(dtype="int64"))]
        receive_rows = by_seq[np.searchsorted(sorted_seq, matched["receive_seq"].to_numpy(dtype="int64"))]
        match_send[receive_rows] = send_rows  # a multicast send has several receives: each knows it
        first = ~pd.Series(send_rows).duplicated().to_numpy()
        match_receive[send_rows[first]] = receive_rows[first]
        return match_send, match_receive

    # -- output helpers ---------------------------------------------------------------------------

    def timestamp(self, seconds: float) -> int:
        return self.start_wall_ns + round(seconds * 1e9)

    def call_frame(self, seconds: float, text: str) -> bytes:
        """A frame on the calls interface: ``text`` as its line and its comment."""
        self.counts.calls += 1
        data = _TEXT_PDU + text.encode("utf-8", "replace")
        return B.enhanced_packet(0, self.timestamp(seconds), data, len(data), comment=text)

    def endpoint(self, label: str, row: dict[str, Any]) -> tuple[_Endpoint, bytes]:
        """The socket's interface, and its IDB when this is its first packet."""
        endpoint = self.endpoints.get(label)
        if endpoint is not None:
            return endpoint, b""
        self.counts.interfaces += 1
        endpoint = _Endpoint(interface=self.counts.interfaces)
        self.endpoints[label] = endpoint
        host = f" on lab host {row['host']}" if row["host"] else ""
        description = f"gsocklab socket {label}: {row['family']} {row['type']}, local {row['local']}{host}"
        return endpoint, B.interface_description(B.LINKTYPE_RAW, label, description, snaplen=0)

    def resolve(self, text: str | None, other: IPAddress | None) -> tuple[IPAddress, int] | None:
        """``text`` (``host:port``) as an address, an unspecified host filled in (see the module doc)."""
        key = (text, other)
        try:
            return self._resolved[key]
        except KeyError:
            pass
        resolved = self._resolve(text, other)
        if len(self._resolved) < 65536:  # a recording has few distinct addresses; bound it anyway
            self._resolved[key] = resolved
        return resolved

    def _resolve(self, text: str | None, other: IPAddress | None) -> tuple[IPAddress, int] | None:
        split = _split(text)
        if split is None:
            return None
        host, port = split
        address = _address(host)
        if address is None:
            return None
        if host in _UNSPECIFIED:
            seen = _address(self.sources.get(port, ""))
            if seen is not None:
                address = seen
            elif other is not None and other.is_loopback:
                address = other
        return address, port


def _to_version(a: IPAddress, b: IPAddress) -> tuple[IPAddress, IPAddress]:
    """Both in one IP version (IPv4-mapped and unspecified addresses adapt to the other end)."""
    if a.version == b.version:
        return a, b
    if a.version == 6 and a.is_unspecified:
        return ipaddress.IPv4Address("0.0.0.0"), b
    if b.version == 6 and b.is_unspecified:
        return a, ipaddress.IPv4Address("0.0.0.0")
    mapped = [ipaddress.IPv6Address(f"::ffff:{x}") if x.version == 4 else x for x in (a, b)]
    return mapped[0], mapped[1]


def _texts(row: dict[str, Any]) -> str:
    parts = [f"{row['socket']} {row['op']} seq={row['seq']}"]
    if row["batch"] is not None:
        parts.append(f"batch {row['batch']} message {row['index'] if row['index'] is not None else '-'}")
    if row["host"]:
        parts.append(f"host {row['host']}")
    if row["waited"] is not None and row["waited"] == row["waited"]:  # every call says how long it waited
        parts.append(f"waited {row['waited']:.6f} s")
    if row["via"]:
        parts.append(f"via {row['via']}")
    return ", ".join(parts)


def _call_text(row: dict[str, Any]) -> str:
    text = _texts(row)
    details = []
    if row["error"] is not None:
        details.append(f"{row['error']}: {row['message']}")
    elif row["message"]:
        details.append(f"value {row['message']}")
    if row["condition"]:
        details.append(f"condition {row['condition']}" + (f" -> {row['ready']}" if row["ready"] else ""))
    if row["timeout"] is not None and row["op"].startswith(_WAITING):
        details.append(f"timeout {row['timeout']:g} s")
    if row["op"] in ("bind", "listen") and row["local"]:
        details.append(f"local {row['local']}")
    if row["nbytes"] is not None and row["direction"] is not None:
        where = row["peer"] or "an unnamed socket"
        details.append(f"{row['nbytes']} bytes {'to' if row['direction'] == 'out' else 'from'} {where}")
    elif row["peer"]:
        details.append(f"peer {row['peer']}")
    return text + (": " + "; ".join(details) if details else "")


_CATEGORICAL: Final = ("op", "direction", "family", "type", "error")
_STRINGS: Final = ("socket", "host", "local", "peer", "condition", "ready", "message", "via")
_INTS: Final = ("nbytes", "batch", "index")


class _Columns:
    """The frame's columns as compact arrays (codes into small tables), turned into row dicts a
    chunk at a time, so the walk never holds the recording twice."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.codes: dict[str, tuple[np.ndarray[Any, Any], list[Any]]] = {}
        for name in _CATEGORICAL:
            column = frame[name]
            self.codes[name] = (column.cat.codes.to_numpy(), [str(c) for c in column.cat.categories])
        for name in _STRINGS:
            self.codes[name] = _codes(frame[name])
        self.ints = {name: (frame[name].fillna(-1).to_numpy(dtype="int64"), frame[name].isna().to_numpy())
                     for name in _INTS}
        self.seq = frame["seq"].to_numpy(dtype="int64")
        self.waited = frame["waited"].to_numpy(dtype="float64")
        self.timeout = frame["timeout"].to_numpy(dtype="float64", na_value=np.nan)
        self.payload = frame["payload"].to_numpy(dtype=object)

    def text(self, name: str, position: int) -> Any:
        codes, table = self.codes[name]
        code = int(codes[position])
        return None if code < 0 else table[code]

    def rows(self, positions: np.ndarray[Any, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
        for start in range(0, len(positions), CHUNK):
            chunk = positions[start:start + CHUNK]
            lists: dict[str, list[Any]] = {}
            for name, (codes, table) in self.codes.items():
                lookup = [None, *table]
                lists[name] = [lookup[code + 1] for code in codes[chunk].tolist()]
            for name, (values, missing) in self.ints.items():
                lists[name] = [None if gone else value
                               for value, gone in zip(values[chunk].tolist(), missing[chunk].tolist(), strict=True)]
            lists["seq"] = self.seq[chunk].tolist()
            lists["waited"] = self.waited[chunk].tolist()
            lists["timeout"] = [None if t != t else t for t in self.timeout[chunk].tolist()]
            lists["payload"] = self.payload[chunk].tolist()
            names = list(lists)
            for offset, position in enumerate(chunk.tolist()):
                yield position, {name: lists[name][offset] for name in names}


def blocks(frame: pd.DataFrame, start_wall_ns: int | None = None, capture_bytes: int | None = None,
           counts: Counts | None = None) -> Iterator[bytes]:
    """The Enhanced Packet and Interface Description Blocks of ``frame`` (after the file's SHB and
    the calls interface, interface 0, which the caller writes), in time order. ``counts`` (if
    given) is updated as blocks are made."""
    synthesis = _Synthesis(frame, start_wall_ns, capture_bytes)
    if counts is not None:
        synthesis.counts = counts
    columns = _Columns(frame)
    yield synthesis.call_frame(0.0, "recording started: relative times in this file are the recording's elapsed")
    elapsed = frame["elapsed"].to_numpy(dtype="float64")
    walker = _Walker(synthesis, columns, elapsed)
    for position, row in columns.rows(synthesis.order):
        yield walker.row(position, row)


class _Walker:
    """Turns each row into its blocks (see the module doc)."""

    def __init__(self, synthesis: _Synthesis, columns: _Columns, elapsed: np.ndarray[Any, Any]) -> None:
        self.s, self.columns, self.elapsed = synthesis, columns, elapsed

    def row(self, position: int, row: dict[str, Any]) -> bytes:
        end = float(self.s.end[position])
        family, kind = row["family"], row["type"]
        if family not in ("IPV4", "IPV6") or kind not in ("DATAGRAM", "STREAM") or row["socket"] is None:
            return self.s.call_frame(end, _call_text(row))
        self._settings(row)
        if row["op"] == "listen" and row["error"] is None:
            self.s.listening.add(row["socket"])
        moved = (row["nbytes"] is not None and row["direction"] is not None and row["error"] is None
                 and not (kind == "STREAM" and row["nbytes"] == 0))
        made = b""
        if moved:
            made = self.datagram(position, row, end) if kind == "DATAGRAM" else self.segment(row, end)
        elif kind == "STREAM":
            made = self.stream_event(position, row, end)
        return made or self.s.call_frame(end, _call_text(row))

    def _settings(self, row: dict[str, Any]) -> None:
        if row["op"] in ("set_ttl", "set_multicast_ttl") and row["error"] is None and str(row["message"]).isdigit():
            endpoint = self.s.endpoints.get(row["socket"])
            if endpoint is None:
                endpoint = self.s.endpoints[row["socket"]] = _Endpoint(interface=-1)
            if row["op"] == "set_ttl":
                endpoint.ttl = int(row["message"])
            else:
                endpoint.multicast_ttl = int(row["message"])

    def _interface(self, row: dict[str, Any]) -> tuple[_Endpoint, bytes]:
        endpoint = self.s.endpoints.get(row["socket"])
        if endpoint is not None and endpoint.interface < 0:  # settings seen before its first packet
            del self.s.endpoints[row["socket"]]
            fresh, idb = self.s.endpoint(row["socket"], row)
            fresh.ttl, fresh.multicast_ttl = endpoint.ttl, endpoint.multicast_ttl
            return fresh, idb
        return self.s.endpoint(row["socket"], row)

    def _payload(self, row: dict[str, Any]) -> tuple[bytes, int, str]:
        payload = row["payload"]
        data = bytes(payload) if payload is not None else b""
        nbytes = int(row["nbytes"])
        note = ""
        if len(data) < nbytes:
            limit = f" (capture_bytes={self.s.capture_bytes})" if self.s.capture_bytes is not None else ""
            note = f"; payload captured: {len(data)} of {nbytes} bytes{limit}"
        return data[:nbytes], nbytes, note

    def datagram(self, position: int, row: dict[str, Any], end: float) -> bytes:
        s, columns = self.s, self.columns
        outbound = row["direction"] == "out"
        if outbound:
            destination = s.resolve(row["peer"], None)
            if destination is None:
                return b""
            source = s.resolve(row["local"], destination[0])
            receive = int(s.match_receive[position])
            seen = s.resolve(columns.text("peer", receive), None) if receive >= 0 else None
            if seen is not None:  # what the receiver saw fills in an unbound or wildcard sender
                host = seen[0] if source is None or source[0].is_unspecified else source[0]
                source = (host, seen[1] if source is None or source[1] == 0 else source[1])
            note = ""
        else:
            send = int(s.match_send[position])
            sent_to = s.resolve(columns.text("peer", send), None) if send >= 0 else None
            source = s.resolve(row["peer"], None)
            note = (f"; matches send seq={columns.seq[send]} on {columns.text('socket', send)}" if send >= 0
                    else "; no send in the recording matches it")
            if source is None and send >= 0:  # receive() does not say the source: the matching send does
                source = s.resolve(columns.text("local", send), sent_to[0] if sent_to else None)
                note += " (source address from that send)"
            if source is None:
                return b""
            destination = sent_to
            local = _split(row["local"])
            if destination is None:
                destination = s.resolve(row["local"], source[0])
            elif local is not None:
                destination = (destination[0], local[1])
        if source is None or destination is None:
            return b""
        src, dst = _to_version(source[0], destination[0])
        endpoint, idb = self._interface(row)
        ttl = endpoint.multicast_ttl if dst.is_multicast else endpoint.ttl
        if not outbound:
            sender = s.endpoints.get(str(columns.text("socket", int(s.match_send[position])))) \
                if s.match_send[position] >= 0 else None
            ttl = (sender.multicast_ttl if dst.is_multicast else sender.ttl) if sender else (1 if dst.is_multicast
                                                                                             else 64)
        payload, nbytes, cut = self._payload(row)
        endpoint.ident += outbound
        data, original = udp_packet(src, source[1], dst, destination[1], payload, nbytes, ttl, endpoint.ident)
        s.counts.packets += 1
        flags = B.FLAG_OUTBOUND if outbound else B.FLAG_INBOUND
        return idb + B.enhanced_packet(endpoint.interface, s.timestamp(end), data, original, flags,
                                       _texts(row) + note + cut)

    def _connection(self, row: dict[str, Any], local_text: str | None = None,
                    peer_text: str | None = None) -> tuple[tuple[IPAddress, int], tuple[IPAddress, int]] | None:
        peer = self.s.resolve(peer_text or row["peer"], None)
        if peer is None:
            return None
        local = self.s.resolve(local_text or row["local"], peer[0])
        if local is None:
            return None
        a, b = _to_version(local[0], peer[0])
        return (a, local[1]), (b, peer[1])

    def _segments(self, endpoint: _Endpoint, local: tuple[IPAddress, int], peer: tuple[IPAddress, int],
                  outbound: bool, flags: int, seconds: float, comment: str, payload: bytes = b"",
                  nbytes: int = 0, seq: int | None = None, ack: int | None = None) -> bytes:
        """TCP segments between ``local`` and ``peer`` on ``endpoint``'s interface, numbered from its counters."""
        lt, pt = f"{local[0]}:{local[1]}", f"{peer[0]}:{peer[1]}"
        src, dst = (local, peer) if outbound else (peer, local)
        if seq is None:
            seq = (_isn(lt, pt) + 1 + endpoint.sent) if outbound else (_isn(pt, lt) + 1 + endpoint.received)
        if ack is None:
            ack = (_isn(pt, lt) + 1 + endpoint.received) if outbound else (_isn(lt, pt) + 1 + endpoint.sent)
        sender = endpoint if outbound else self.s.by_address.get((pt, lt))
        ttl = sender.ttl if sender is not None else 64  # the sending socket's TTL, as on the wire
        out = []
        offsets = range(0, max(nbytes, 1), MSS) if nbytes else [0]
        for offset in offsets:
            size = min(MSS, nbytes - offset) if nbytes else 0
            part = payload[offset:offset + size]
            endpoint.ident += outbound
            data, original = tcp_packet(src[0], src[1], dst[0], dst[1], seq + offset, ack, flags, part, size,
                                        ttl, endpoint.ident if outbound else 0)
            self.s.counts.packets += 1
            out.append(B.enhanced_packet(endpoint.interface, self.s.timestamp(seconds), data, original,
                                         B.FLAG_OUTBOUND if outbound else B.FLAG_INBOUND, comment))
        return b"".join(out)

    def _connect_endpoint(self, endpoint: _Endpoint, local: str, peer: str) -> None:
        """``endpoint`` is the ``local`` end of the connection to ``peer`` (no longer an accepted one to place)."""
        endpoint.connection = (local, peer)
        self.s.by_address[(local, peer)] = endpoint
        waiting = self.s.accepted.get(local)
        if waiting and peer in waiting:
            waiting.remove(peer)

    def segment(self, row: dict[str, Any], end: float) -> bytes:
        ends = self._connection(row)
        if ends is None:
            return b""
        local, peer = ends
        endpoint, idb = self._interface(row)
        self._connect_endpoint(endpoint, f"{local[0]}:{local[1]}", f"{peer[0]}:{peer[1]}")
        outbound = row["direction"] == "out"
        payload, nbytes, cut = self._payload(row)
        first = endpoint.sent if outbound else endpoint.received
        comment = f"{_texts(row)}; stream bytes {first}-{first + nbytes - 1} {'sent' if outbound else 'received'}{cut}"
        made = self._segments(endpoint, local, peer, outbound, PSH | ACK, end, comment, payload, nbytes)
        if outbound:
            endpoint.sent += nbytes
        else:
            endpoint.received += nbytes
        return idb + made

    def stream_event(self, position: int, row: dict[str, Any], end: float) -> bytes:
        op, error = row["op"], row["error"]
        text = _call_text(row)
        if op.startswith("receive") and error is None and row["nbytes"] == 0:
            ends = self._connection(row)
            if ends is None:
                return b""
            endpoint, idb = self._interface(row)
            made = self._segments(endpoint, ends[0], ends[1], False, FIN | ACK, end, text + "; the peer's FIN")
            endpoint.received += 1
            return idb + made
        if op == "connect" and (error is None or error in ("PENDING", "CONNECTION_REFUSED")):
            return self.connect(position, row, end, text)
        if op == "check_connect_result" and error is None:
            pending = self.s.endpoints.get(row["socket"])
            if pending is not None and pending.pending_connect and pending.connection is not None:
                pending.pending_connect = False
                ends = self._connection(row, *pending.connection)
                if ends is not None:
                    return self._handshake_end(pending, ends, end, text)
            return b""
        if op == "accept" and error is None:
            ends = self._connection(row)
            if ends is None:
                return b""
            local, peer = ends
            endpoint, idb = self._interface(row)
            lt, pt = f"{local[0]}:{local[1]}", f"{peer[0]}:{peer[1]}"
            self.s.accepted.setdefault(lt, []).append(pt)  # its socket's first row will claim it
            made = (self._segments(endpoint, local, peer, False, SYN, end, text + "; SYN", seq=_isn(pt, lt), ack=0)
                    + self._segments(endpoint, local, peer, True, SYN | ACK, end, text + "; SYN-ACK",
                                     seq=_isn(lt, pt), ack=_isn(pt, lt) + 1)
                    + self._segments(endpoint, local, peer, False, ACK, end, text + "; ACK",
                                     seq=_isn(pt, lt) + 1, ack=_isn(lt, pt) + 1))
            return idb + made
        if op == "close" and error is None and row["socket"] not in self.s.listening:
            closing = self.s.endpoints.get(row["socket"])
            idb = b""
            if closing is None or closing.interface < 0 or closing.connection is None:
                claimed = self._claim_accepted(row)  # an accepted socket that moved nothing before
                if claimed is not None:
                    closing, idb = self._interface(row)
                    self._connect_endpoint(closing, *claimed)
            if closing is not None and closing.connection is not None and not closing.fin_sent:
                ends = self._connection(row, *closing.connection)
                if ends is not None:
                    closing.fin_sent = True
                    made = self._segments(closing, ends[0], ends[1], True, FIN | ACK, end, text + "; FIN")
                    closing.sent += 1
                    return idb + made
        return b""

    def _claim_accepted(self, row: dict[str, Any]) -> tuple[str, str] | None:
        """The oldest connection accepted at this socket's local address that no socket has claimed."""
        local = self.s.resolve(row["local"], None)
        if local is None:
            return None
        text = f"{local[0]}:{local[1]}"
        waiting = self.s.accepted.get(text)
        return (text, waiting.pop(0)) if waiting else None

    def connect(self, position: int, row: dict[str, Any], end: float, text: str) -> bytes:
        ends = self._connection(row)
        if ends is None:
            return b""
        local, peer = ends
        endpoint, idb = self._interface(row)
        lt, pt = f"{local[0]}:{local[1]}", f"{peer[0]}:{peer[1]}"
        self._connect_endpoint(endpoint, lt, pt)
        start = float(self.elapsed[position])
        error = row["error"]
        syn = self._segments(endpoint, local, peer, True, SYN, start if error != "PENDING" else end, text + "; SYN",
                             seq=_isn(lt, pt), ack=0)
        if error == "PENDING":
            endpoint.pending_connect = True
            return idb + syn
        if error == "CONNECTION_REFUSED":
            endpoint.connection = None
            return idb + syn + self._segments(endpoint, local, peer, False, RST | ACK, end, text + "; RST",
                                              seq=0, ack=_isn(lt, pt) + 1)
        return idb + syn + self._handshake_end(endpoint, ends, end, text)

    def _handshake_end(self, endpoint: _Endpoint, ends: tuple[tuple[IPAddress, int], tuple[IPAddress, int]],
                       end: float, text: str) -> bytes:
        local, peer = ends
        lt, pt = f"{local[0]}:{local[1]}", f"{peer[0]}:{peer[1]}"
        return (self._segments(endpoint, local, peer, False, SYN | ACK, end, text + "; SYN-ACK",
                               seq=_isn(pt, lt), ack=_isn(lt, pt) + 1)
                + self._segments(endpoint, local, peer, True, ACK, end, text + "; ACK",
                                 seq=_isn(lt, pt) + 1, ack=_isn(pt, lt) + 1))
