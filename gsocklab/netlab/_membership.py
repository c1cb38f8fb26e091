"""Who on a LAN wants which group: IGMP and MLD reports, as a router reads them. Pure logic.

A host that joins or leaves a group says so on its LAN with a membership report: IGMPv1/2
reports and leaves, IGMPv3 reports (RFC 3376) for IPv4; MLDv1 reports and dones, MLDv2
reports (RFC 3810) for IPv6. The LAN's switch hands every report to the router's port, and
`Memberships` keeps, per reporting host, each group's filter mode and sources, so that
`Memberships.wants` answers the router's one question: does anyone here want datagrams
from *source* to *group*?
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Final, NamedTuple

from ._frames import ETH_HEADER, ETH_P_IP, ETH_P_IPV6

__all__ = ["EXCLUDE", "INCLUDE", "Memberships", "Record", "Report", "igmp_general_query", "mld_general_query",
           "parse_report"]

INCLUDE: Final = "include"  # receive only from the sources listed (none listed: not a member)
EXCLUDE: Final = "exclude"  # receive from every source but those listed (none listed: any source)

# IGMPv3/MLDv2 record types (RFC 3376 §4.2.12, RFC 3810 §5.2.12)
_IS_IN, _IS_EX, _TO_IN, _TO_EX, _ALLOW, _BLOCK = 1, 2, 3, 4, 5, 6
_IGMP_V1_REPORT, _IGMP_V2_REPORT, _IGMP_LEAVE, _IGMP_V3_REPORT = 0x12, 0x16, 0x17, 0x22
_MLD_REPORT, _MLD_DONE, _MLD_V2_REPORT = 131, 132, 143
_HOP_BY_HOP, _ICMPV6, _IGMP = 0, 58, 2


class Record(NamedTuple):
    """One group record: its type (1-6, as in IGMPv3/MLDv2), group and sources (texts)."""

    kind: int
    group: str
    sources: frozenset[str]


class Report(NamedTuple):
    """A membership report: who sent it, and its records."""

    reporter: str
    records: tuple[Record, ...]


def parse_report(frame: bytes) -> Report | None:
    """The IGMP or MLD membership report in an Ethernet ``frame``; ``None`` for anything else."""
    try:
        return _parse(frame)
    except (struct.error, ValueError, IndexError):
        return None


def _parse(frame: bytes) -> Report | None:
    if len(frame) < ETH_HEADER + 20:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    ip = ETH_HEADER
    if ethertype == ETH_P_IP and frame[ip] >> 4 == 4 and frame[ip + 9] == _IGMP:
        reporter = str(ipaddress.IPv4Address(frame[ip + 12:ip + 16]))
        return _igmp(reporter, frame, ip + (frame[ip] & 0x0F) * 4)
    if ethertype == ETH_P_IPV6 and frame[ip] >> 4 == 6:
        reporter = str(ipaddress.IPv6Address(frame[ip + 8:ip + 24]))
        header, offset = frame[ip + 6], ip + 40
        while header == _HOP_BY_HOP:  # MLD messages carry a router-alert hop-by-hop option
            header, offset = frame[offset], offset + (frame[offset + 1] + 1) * 8
        if header == _ICMPV6:
            return _mld(reporter, frame, offset)
    return None


def _igmp(reporter: str, frame: bytes, at: int) -> Report | None:
    kind = frame[at]
    if kind in (_IGMP_V1_REPORT, _IGMP_V2_REPORT, _IGMP_LEAVE):
        group = str(ipaddress.IPv4Address(frame[at + 4:at + 8]))
        return Report(reporter, (Record(_TO_IN if kind == _IGMP_LEAVE else _TO_EX, group, frozenset()),))
    if kind != _IGMP_V3_REPORT:
        return None
    count = struct.unpack_from("!H", frame, at + 6)[0]
    return Report(reporter, tuple(_records(frame, at + 8, count, 4)))


def _mld(reporter: str, frame: bytes, at: int) -> Report | None:
    kind = frame[at]
    if kind in (_MLD_REPORT, _MLD_DONE):
        group = str(ipaddress.IPv6Address(frame[at + 8:at + 24]))
        return Report(reporter, (Record(_TO_IN if kind == _MLD_DONE else _TO_EX, group, frozenset()),))
    if kind != _MLD_V2_REPORT:
        return None
    count = struct.unpack_from("!H", frame, at + 6)[0]
    return Report(reporter, tuple(_records(frame, at + 8, count, 16)))


def _records(frame: bytes, at: int, count: int, size: int) -> list[Record]:
    make = ipaddress.IPv4Address if size == 4 else ipaddress.IPv6Address
    records = []
    for _ in range(count):
        kind, aux, sources = frame[at], frame[at + 1], struct.unpack_from("!H", frame, at + 2)[0]
        group = str(make(frame[at + 4:at + 4 + size]))
        start = at + 4 + size
        listed = frozenset(str(make(frame[start + i * size:start + (i + 1) * size])) for i in range(sources))
        if start + sources * size > len(frame):
            raise ValueError("a record runs past the frame")
        records.append(Record(kind, group, listed))
        at = start + sources * size + aux * 4
    return records


class Memberships:
    """The group filters of the hosts on one LAN, as their reports left them."""

    def __init__(self) -> None:
        # reporter -> group -> (mode, sources)
        self._state: dict[str, dict[str, tuple[str, frozenset[str]]]] = {}

    def apply(self, report: Report) -> None:
        """Update the reporter's filters with ``report``'s records."""
        groups = self._state.setdefault(report.reporter, {})
        for record in report.records:
            mode, sources = groups.get(record.group, (INCLUDE, frozenset()))
            if record.kind in (_IS_IN, _TO_IN):
                mode, sources = INCLUDE, record.sources
            elif record.kind in (_IS_EX, _TO_EX):
                mode, sources = EXCLUDE, record.sources
            elif record.kind == _ALLOW:
                sources = sources | record.sources if mode == INCLUDE else sources - record.sources
            elif record.kind == _BLOCK:
                sources = sources - record.sources if mode == INCLUDE else sources | record.sources
            else:
                continue
            if mode == INCLUDE and not sources:
                groups.pop(record.group, None)  # left
            else:
                groups[record.group] = (mode, sources)

    def wants(self, source: str, group: str) -> bool:
        """Whether some host on the LAN receives datagrams from ``source`` to ``group``."""
        for groups in self._state.values():
            state = groups.get(group)
            if state is not None and (source in state[1]) == (state[0] == INCLUDE):
                return True
        return False

    def groups(self) -> dict[str, list[str]]:
        """Group -> the hosts that receive some source of it (for the router's table)."""
        found: dict[str, list[str]] = {}
        for reporter, groups in self._state.items():
            for group in groups:
                found.setdefault(group, []).append(reporter)
        return found


def _sum16(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def igmp_general_query(mac: bytes, source: str, response: float = 1.0) -> bytes:
    """An IGMPv3 general query frame from ``source`` (``mac``): every host re-reports its groups
    within ``response`` seconds (how a router added to a LAN learns what was joined before)."""
    code = max(1, min(127, round(response * 10)))  # tenths of a second
    igmp = bytearray(struct.pack("!BBH4sBBH", 0x11, code, 0, bytes(4), 2, 10, 0))
    struct.pack_into("!H", igmp, 2, _sum16(bytes(igmp)))
    options = b"\x94\x04\x00\x00"  # router alert
    header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x46, 0xC0, 24 + len(igmp), 0, 0, 1, 2, 0,
                                   ipaddress.IPv4Address(source).packed, ipaddress.IPv4Address("224.0.0.1").packed)
                       + options)
    struct.pack_into("!H", header, 10, _sum16(bytes(header)))
    return b"\x01\x00\x5e\x00\x00\x01" + mac + struct.pack("!H", ETH_P_IP) + bytes(header) + bytes(igmp)


def mld_general_query(mac: bytes, link_local: str, response: float = 1.0) -> bytes:
    """An MLDv2 general query frame from ``link_local`` (``mac``): as `igmp_general_query`, for IPv6."""
    source, destination = ipaddress.IPv6Address(link_local).packed, ipaddress.IPv6Address("ff02::1").packed
    icmp = bytearray(struct.pack("!BBHHH16sBBH", 130, 0, 0, max(1, min(32767, round(response * 1000))), 0,
                                 bytes(16), 2, 10, 0))
    pseudo = source + destination + struct.pack("!I3xB", len(icmp), _ICMPV6)
    struct.pack_into("!H", icmp, 2, _sum16(pseudo + bytes(icmp)))
    hop_by_hop = bytes([_ICMPV6, 0, 5, 2, 0, 0, 1, 0])  # router alert (MLD), then PadN
    header = struct.pack("!IHBB16s16s", 0x60000000, len(hop_by_hop) + len(icmp), _HOP_BY_HOP, 1, source, destination)
    return b"\x33\x33\x00\x00\x00\x01" + mac + struct.pack("!H", ETH_P_IPV6) + header + hop_by_hop + bytes(icmp)
