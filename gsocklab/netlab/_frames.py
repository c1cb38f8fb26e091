"""What the relay router does to one Ethernet frame: pure functions, no sockets.

A router forwards an IP multicast datagram from one segment to another when its group has
a scope wider than the link, and only with its TTL (IPv4) or hop limit (IPv6) decremented;
a datagram that arrives with TTL 1 or less dies at the router. `forward` applies exactly
that to a frame as captured on a router leg and returns the frame to send on an outgoing
leg (with the leg's MAC address as the source), or the reason it is not forwarded.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Final, NamedTuple

__all__ = ["Datagram", "Verdict", "forward", "ipv4_checksum", "parse", "routable"]

ETH_HEADER: Final = 14
ETH_P_IP: Final = 0x0800
ETH_P_IPV6: Final = 0x86DD


class Datagram(NamedTuple):
    """The IP header fields of a multicast frame that forwarding looks at."""

    family: int           # 4 or 6
    source: str
    group: str
    ttl: int              # TTL (IPv4) or hop limit (IPv6)
    protocol: int         # IPv4 protocol / IPv6 next header (17 = UDP)
    sport: int | None     # UDP ports, when the datagram is UDP (without extension headers)
    dport: int | None


class Verdict(NamedTuple):
    """What `forward` decided: the frame to send (``None`` if dropped) and why."""

    frame: bytes | None
    reason: str           # "forwarded", "ttl", "scope", "not_multicast", "malformed"
    datagram: Datagram | None


def ipv4_checksum(header: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``header`` with its checksum field zero."""
    if len(header) % 2:
        header += b"\0"
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def _fix_udp_checksum(out: bytearray, family: int, ip: int, offset: int) -> None:
    """Recompute the UDP checksum of an unfragmented datagram in place.

    A frame read from a veth leg may carry only the partial sum that checksum offload left
    for the hardware to finish; sent on as it is, the receiver would drop it. IPv4's "no
    checksum" (0) stays as it is.
    """
    if len(out) < offset + 8:  # not even a whole UDP header: left as it came
        return
    length = struct.unpack_from("!H", out, offset + 4)[0]
    if length < 8 or offset + length > len(out):
        return
    if family == 4:
        if out[offset + 6:offset + 8] == b"\0\0":
            return
        pseudo = bytes(out[ip + 12:ip + 20]) + struct.pack("!BBH", 0, 17, length)
    else:
        pseudo = bytes(out[ip + 8:ip + 40]) + struct.pack("!IxxxB", length, 17)
    out[offset + 6:offset + 8] = b"\0\0"
    checksum = ipv4_checksum(pseudo + bytes(out[offset:offset + length])) or 0xFFFF
    struct.pack_into("!H", out, offset + 6, checksum)


def parse(frame: bytes) -> Datagram | None:
    """The IP multicast datagram in an Ethernet ``frame``; ``None`` for anything else."""
    if len(frame) < ETH_HEADER + 20:
        return None
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    ip = ETH_HEADER
    if ethertype == ETH_P_IP:
        version_ihl = frame[ip]
        ihl = (version_ihl & 0x0F) * 4
        if version_ihl >> 4 != 4 or ihl < 20 or len(frame) < ip + ihl:
            return None
        group = ipaddress.IPv4Address(frame[ip + 16:ip + 20])
        if not group.is_multicast:
            return None
        protocol = frame[ip + 9]
        first_fragment = struct.unpack_from("!H", frame, ip + 6)[0] & 0x1FFF == 0
        ports = _udp_ports(frame, ip + ihl) if protocol == 17 and first_fragment else (None, None)
        return Datagram(4, str(ipaddress.IPv4Address(frame[ip + 12:ip + 16])), str(group), frame[ip + 8],
                        protocol, *ports)
    if ethertype == ETH_P_IPV6:
        if len(frame) < ip + 40 or frame[ip] >> 4 != 6:
            return None
        group6 = ipaddress.IPv6Address(frame[ip + 24:ip + 40])
        if not group6.is_multicast:
            return None
        protocol = frame[ip + 6]
        ports = _udp_ports(frame, ip + 40) if protocol == 17 else (None, None)
        return Datagram(6, str(ipaddress.IPv6Address(frame[ip + 8:ip + 24])), str(group6), frame[ip + 7],
                        protocol, *ports)
    return None


def _udp_ports(frame: bytes, offset: int) -> tuple[int | None, int | None]:
    if len(frame) < offset + 8:
        return None, None
    sport, dport = struct.unpack_from("!HH", frame, offset)
    return sport, dport


def routable(datagram: Datagram) -> bool:
    """Whether a router may forward the group at all (scope wider than the link)."""
    if datagram.family == 4:
        return ipaddress.IPv4Address(datagram.group) not in _IPV4_LINK_LOCAL
    scope = ipaddress.IPv6Address(datagram.group).packed[1] & 0x0F
    return scope >= 3  # 1 interface-local, 2 link-local; 3 realm, 4 admin, 5 site, 8 org, 14 global


_IPV4_LINK_LOCAL: Final = ipaddress.IPv4Network("224.0.0.0/24")


def forward(frame: bytes, source_mac: bytes) -> Verdict:
    """The frame a router sends on a leg whose MAC address is ``source_mac``, or why none.

    The TTL or hop limit is decremented (and the IPv4 header checksum recomputed; the UDP
    checksum does not cover either); the destination MAC (the group's) is kept, and the
    source MAC becomes the router leg's. Datagrams with TTL <= 1 and link-scoped groups
    (224.0.0.0/24, ff02::/16, …) are not forwarded.
    """
    try:
        datagram = parse(frame)
    except ValueError:
        return Verdict(None, "malformed", None)
    if datagram is None:
        return Verdict(None, "not_multicast", None)
    if not routable(datagram):
        return Verdict(None, "scope", datagram)
    if datagram.ttl <= 1:
        return Verdict(None, "ttl", datagram)
    out = bytearray(frame)
    out[6:12] = source_mac
    if datagram.family == 4:
        ihl = (out[ETH_HEADER] & 0x0F) * 4
        out[ETH_HEADER + 8] = datagram.ttl - 1
        out[ETH_HEADER + 10:ETH_HEADER + 12] = b"\0\0"
        checksum = ipv4_checksum(bytes(out[ETH_HEADER:ETH_HEADER + ihl]))
        struct.pack_into("!H", out, ETH_HEADER + 10, checksum)
        fragment = struct.unpack_from("!H", out, ETH_HEADER + 6)[0] & 0x3FFF  # MF flag and offset
        if datagram.protocol == 17 and not fragment:
            _fix_udp_checksum(out, 4, ETH_HEADER, ETH_HEADER + ihl)
    else:
        out[ETH_HEADER + 7] = datagram.ttl - 1
        if datagram.protocol == 17:
            _fix_udp_checksum(out, 6, ETH_HEADER, ETH_HEADER + 40)
    return Verdict(bytes(out), "forwarded", datagram)
