"""IPv4/IPv6 packets carrying UDP or TCP, built from addresses and a payload, and parsed back.

`udp_packet`/`tcp_packet` return ``(captured, original_length)``: the headers and the payload
that was captured, and the length the packet had on the wire (the headers plus ``nbytes``,
which may exceed the captured payload when the recording cut it at ``capture_bytes``). Lengths
in the headers are the true ones; checksums cover what was captured, so they are right
whenever the whole payload was captured. IPv4 headers carry Don't Fragment, as Linux sends;
the TTL (hop limit) is given by the caller.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ACK", "FIN", "PSH", "RST", "SYN", "IPAddress", "ParsedPacket", "parse_packet", "tcp_packet", "udp_packet",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
PROTO_TCP: Final = 6
PROTO_UDP: Final = 17
_WINDOW: Final = 65535


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def _ip(src: IPAddress, dst: IPAddress, protocol: int, transport_length: int, ttl: int, ident: int) -> bytes:
    if src.version != dst.version:
        raise ValueError(f"source {src} and destination {dst} are of different IP versions")
    if src.version == 4:
        total = 20 + transport_length
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, min(total, 0xFFFF), ident & 0xFFFF, 0x4000, ttl, protocol, 0,
                             src.packed, dst.packed)
        return header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return struct.pack("!IHBB16s16s", 0x60000000, min(transport_length, 0xFFFF), protocol, ttl, src.packed,
                       dst.packed)


def _pseudo(src: IPAddress, dst: IPAddress, protocol: int, length: int) -> bytes:
    if src.version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, protocol, length & 0xFFFF)
    return src.packed + dst.packed + struct.pack("!IxxxB", length, protocol)


def udp_packet(src: IPAddress, sport: int, dst: IPAddress, dport: int, payload: bytes, nbytes: int,
               ttl: int = 64, ident: int = 0) -> tuple[bytes, int]:
    """An IP/UDP packet of ``nbytes`` payload bytes, of which ``payload`` was captured."""
    length = 8 + nbytes
    header = struct.pack("!HHHH", sport, dport, min(length, 0xFFFF), 0)
    checksum = _checksum(_pseudo(src, dst, PROTO_UDP, length) + header + payload)
    if checksum == 0:
        checksum = 0xFFFF  # 0 means "no checksum" in UDP
    if len(payload) < nbytes and src.version == 4:
        checksum = 0  # cut payload: IPv4 may say "no checksum" rather than a wrong one
    header = header[:6] + struct.pack("!H", checksum)
    ip = _ip(src, dst, PROTO_UDP, length, ttl, ident)
    return ip + header + payload, len(ip) + length


def tcp_packet(src: IPAddress, sport: int, dst: IPAddress, dport: int, seq: int, ack: int, flags: int,
               payload: bytes = b"", nbytes: int | None = None, ttl: int = 64, ident: int = 0) -> tuple[bytes, int]:
    """An IP/TCP segment (20-byte header, window 65535) of ``nbytes`` payload bytes (default: all of
    ``payload``)."""
    nbytes = len(payload) if nbytes is None else nbytes
    length = 20 + nbytes
    header = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, _WINDOW, 0,
                         0)
    checksum = _checksum(_pseudo(src, dst, PROTO_TCP, length) + header + payload)
    header = header[:16] + struct.pack("!H", checksum) + header[18:]
    ip = _ip(src, dst, PROTO_TCP, length, ttl, ident)
    return ip + header + payload, len(ip) + length


@dataclass(frozen=True)
class ParsedPacket:
    """What `parse_packet` reads from a captured IP packet."""

    version: int
    src: str
    dst: str
    protocol: str  # "udp" or "tcp" (or the protocol number as text)
    ttl: int
    sport: int
    dport: int
    payload: bytes  # the captured payload
    length: int  # the payload's length on the wire (from the headers)
    seq: int | None = None
    ack: int | None = None
    flags: int | None = None


def parse_packet(data: bytes) -> ParsedPacket:
    """Addresses, ports, TCP numbers and payload of a raw IPv4/IPv6 packet with UDP or TCP."""
    if not data:
        raise ValueError("an empty packet")
    version = data[0] >> 4
    if version == 4:
        header_length = (data[0] & 0x0F) * 4
        total, ttl, protocol = struct.unpack_from("!H", data, 2)[0], data[8], data[9]
        src, dst = ipaddress.IPv4Address(data[12:16]), ipaddress.IPv4Address(data[16:20])
        transport_length = total - header_length
    elif version == 6:
        header_length = 40
        transport_length, protocol, ttl = struct.unpack_from("!HBB", data, 4)
        src, dst = ipaddress.IPv6Address(data[8:24]), ipaddress.IPv6Address(data[24:40])  # type: ignore[assignment]
    else:
        raise ValueError(f"not an IP packet (version {version})")
    transport = data[header_length:]
    if protocol == PROTO_UDP:
        sport, dport, length = struct.unpack_from("!HHH", transport, 0)
        return ParsedPacket(version, str(src), str(dst), "udp", ttl, sport, dport, transport[8:], length - 8)
    if protocol == PROTO_TCP:
        sport, dport, seq, ack, offset, flags = struct.unpack_from("!HHIIBB", transport, 0)
        header = (offset >> 4) * 4
        return ParsedPacket(version, str(src), str(dst), "tcp", ttl, sport, dport, transport[header:],
                            transport_length - header, seq, ack, flags)
    return ParsedPacket(version, str(src), str(dst), str(protocol), ttl, 0, 0, transport, transport_length)
