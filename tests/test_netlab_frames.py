"""Property tests of the relay router's frame logic (`gsocklab.netlab._frames`): pure, no namespaces.

Frames are built here from random fields — IPv4 (with options, fragments, any TTL) and IPv6
(UDP, extension headers, any hop limit) multicast datagrams to random groups and scopes, with
valid, bogus, partial (checksum offload) or absent UDP checksums and Ethernet padding — and
every checksum is verified with this module's own one's-complement sum.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gsocklab.netlab._frames import Datagram, Verdict, forward, parse

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ETH = 14
ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86DD
UDP = 17


# -- an independent Internet checksum --------------------------------------------------------


def ones_sum(data: bytes) -> int:
    """The 16-bit one's-complement sum of ``data`` (RFC 1071), padded to even length."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for (word,) in struct.iter_unpack("!H", data):
        total += word
        total = (total & 0xFFFF) + (total >> 16)
    return total


def checksum(data: bytes) -> int:
    return ~ones_sum(data) & 0xFFFF


def pseudo_header(version: int, source: bytes, destination: bytes, length: int) -> bytes:
    if version == 4:
        return source + destination + struct.pack("!BBH", 0, UDP, length)
    return source + destination + struct.pack("!I3xB", length, UDP)


def udp_checksum_valid(version: int, source: bytes, destination: bytes, segment: bytes) -> bool:
    """Whether the UDP ``segment``'s checksum field is right (0 is never right here)."""
    if segment[6:8] == b"\0\0":
        return False
    return ones_sum(pseudo_header(version, source, destination, len(segment)) + segment) == 0xFFFF


# -- frames ------------------------------------------------------------------------------------


class Built(NamedTuple):
    """A frame and what went into it."""

    frame: bytes
    version: int
    source: str
    group: str
    ttl: int
    protocol: int          # IPv4 protocol / IPv6 next header
    ports: tuple[int, int] | None  # as parse should find them
    udp: tuple[int, int] | None    # (offset, length) of a whole, unfragmented UDP datagram
    ip_end: int            # where the IP datagram ends (Ethernet padding follows)


def _udp(version: int, source: bytes, destination: bytes, sport: int, dport: int, payload: bytes,
         mode: str, bogus: int, length: int | None = None) -> bytes:
    length = 8 + len(payload) if length is None else length
    segment = struct.pack("!HHHH", sport, dport, length, 0) + payload
    if mode == "valid":
        value = checksum(pseudo_header(version, source, destination, length) + segment) or 0xFFFF
    elif mode == "partial":  # what checksum offload leaves: the pseudo-header's sum, not complemented
        value = ones_sum(pseudo_header(version, source, destination, length))
    elif mode == "zero":
        value = 0
    else:
        value = bogus
    return segment[:6] + struct.pack("!H", value) + segment[8:]


macs = st.binary(min_size=6, max_size=6)
ports = st.integers(0, 0xFFFF)
payloads = st.binary(max_size=64)
checksum_modes = st.sampled_from(["valid", "partial", "zero", "bogus"])
padding = st.binary(max_size=24)
ttls = st.integers(0, 255)

ipv4_routable = st.integers(int(ipaddress.IPv4Address("224.0.1.0")), int(ipaddress.IPv4Address("239.255.255.255")))
ipv4_link = st.integers(int(ipaddress.IPv4Address("224.0.0.0")), int(ipaddress.IPv4Address("224.0.0.255")))
ipv4_unicast = st.integers(0, 0xFFFFFFFF).filter(lambda n: not 0xE0000000 <= n <= 0xEFFFFFFF)
ipv4_sources = st.integers(0, 0xFFFFFFFF)


def ipv6_group(scopes: Any) -> Any:
    """Groups ``ff<flags><scope>::...`` with a scope from ``scopes``."""
    return st.builds(lambda flags, scope, rest: bytes([0xFF, flags << 4 | scope]) + rest,
                     st.integers(0, 15), scopes, st.binary(min_size=14, max_size=14))


ipv6_routable = ipv6_group(st.integers(3, 14))
ipv6_link = ipv6_group(st.sampled_from([1, 2]))  # interface- and link-local (ff01::, ff02::)
ipv6_unicast = st.binary(min_size=16, max_size=16).filter(lambda b: b[0] != 0xFF)
ipv6_sources = st.binary(min_size=16, max_size=16)


@st.composite
def ipv4_frames(draw: Any, groups: Any = ipv4_routable, ttl: Any = ttls, modes: Any = checksum_modes,
                whole_udp: bool = False) -> Built:
    source = ipaddress.IPv4Address(draw(ipv4_sources)).packed
    group = ipaddress.IPv4Address(draw(groups)).packed
    options = draw(st.binary(max_size=40).map(lambda b: b[:len(b) // 4 * 4]))
    ihl = 20 + len(options)
    protocol = UDP if whole_udp else draw(st.one_of(st.just(UDP), st.integers(0, 255)))
    fragment = "none" if whole_udp else draw(st.sampled_from(["none", "none", "first", "later"]))
    offset = draw(st.integers(1, 0x1FFF)) if fragment == "later" else 0
    more = fragment == "first" or (fragment == "later" and draw(st.booleans()))
    dont = fragment == "none" and draw(st.booleans())
    flags = (0x4000 if dont else 0) | (0x2000 if more else 0) | offset
    payload = draw(payloads)
    sport, dport = draw(ports), draw(ports)
    mode, bogus = draw(modes), draw(st.integers(0, 0xFFFF))
    if protocol == UDP and fragment != "later":
        whole = fragment == "none"
        body = _udp(4, source, group, sport, dport, payload, mode, bogus,
                    None if whole else 8 + len(payload) + draw(st.integers(8, 1400)))
        found_ports: tuple[int, int] | None = (sport, dport)
    else:
        body, whole, found_ports = payload + draw(st.binary(max_size=8)), False, None
    ttl_value = draw(ttl)
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl // 4, draw(st.integers(0, 255)), ihl + len(body),
                         draw(st.integers(0, 0xFFFF)), flags, ttl_value, protocol,
                         draw(st.integers(0, 0xFFFF)), source, group) + options  # any header checksum
    frame = draw(macs) + draw(macs) + struct.pack("!H", ETH_P_IP) + header + body
    return Built(frame + draw(padding), 4, str(ipaddress.IPv4Address(source)), str(ipaddress.IPv4Address(group)),
                 ttl_value, protocol, found_ports, (ETH + ihl, len(body)) if whole else None, len(frame))


@st.composite
def ipv6_frames(draw: Any, groups: Any = ipv6_routable, ttl: Any = ttls, modes: Any = checksum_modes,
                whole_udp: bool = False) -> Built:
    source, group = draw(ipv6_sources), draw(groups)
    kind = "udp" if whole_udp else draw(st.sampled_from(["udp", "udp", "fragment", "hop-by-hop", "icmpv6"]))
    payload = draw(payloads)
    sport, dport = draw(ports), draw(ports)
    mode, bogus = draw(modes), draw(st.integers(0, 0xFFFF))
    udp = _udp(6, source, group, sport, dport, payload, mode, bogus)
    if kind == "udp":
        next_header, body = UDP, udp
    elif kind == "fragment":
        fragment = struct.pack("!BxHI", UDP, draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 2**32 - 1)))
        next_header, body = 44, fragment + udp
    elif kind == "hop-by-hop":
        next_header, body = 0, struct.pack("!BB", UDP, 0) + bytes([5, 2, 0, 0, 1, 0]) + udp
    else:
        next_header, body = 58, payload + bytes(4)
    ttl_value = draw(ttl)
    header = struct.pack("!IHBB16s16s", 0x60000000 | draw(st.integers(0, 0xFFFFFFF)), len(body), next_header,
                         ttl_value, source, group)
    frame = draw(macs) + draw(macs) + struct.pack("!H", ETH_P_IPV6) + header + body
    return Built(frame + draw(padding), 6, str(ipaddress.IPv6Address(source)), str(ipaddress.IPv6Address(group)),
                 ttl_value, next_header, (sport, dport) if kind == "udp" else None,
                 (ETH + 40, len(body)) if kind == "udp" else None, len(frame))


any_frames = st.one_of(ipv4_frames(), ipv6_frames())


# -- parse -------------------------------------------------------------------------------------


@SETTINGS
@given(any_frames)
def test_parse_round_trips_the_fields(built: Built) -> None:
    found = parse(built.frame)
    ports_ = built.ports or (None, None)
    assert found == Datagram(built.version, built.source, built.group, built.ttl, built.protocol, *ports_)


@SETTINGS
@given(st.one_of(ipv4_frames(groups=ipv4_unicast), ipv6_frames(groups=ipv6_unicast)))
def test_non_multicast_is_not_forwarded(built: Built) -> None:
    assert parse(built.frame) is None
    assert forward(built.frame, b"\x02" * 6) == Verdict(None, "not_multicast", None)


@SETTINGS
@given(st.one_of(ipv4_frames(groups=ipv4_link), ipv6_frames(groups=ipv6_link)))
def test_link_scope_groups_are_not_forwarded(built: Built) -> None:
    verdict = forward(built.frame, b"\x02" * 6)
    assert (verdict.frame, verdict.reason) == (None, "scope")
    assert verdict.datagram == parse(built.frame)


@SETTINGS
@given(st.one_of(ipv4_frames(ttl=st.integers(0, 1)), ipv6_frames(ttl=st.integers(0, 1))))
def test_ttl_one_or_less_dies_at_the_router(built: Built) -> None:
    verdict = forward(built.frame, b"\x02" * 6)
    assert (verdict.frame, verdict.reason) == (None, "ttl")
    assert verdict.datagram is not None
    assert verdict.datagram.ttl == built.ttl


# -- forward -----------------------------------------------------------------------------------


@SETTINGS
@given(st.one_of(ipv4_frames(ttl=st.integers(2, 255)), ipv6_frames(ttl=st.integers(2, 255))), macs)
def test_forwarded_frames_change_only_what_a_router_changes(built: Built, mac: bytes) -> None:
    before = built.frame
    verdict = forward(before, mac)
    assert verdict.reason == "forwarded"
    assert verdict.datagram == parse(before)
    out = verdict.frame
    assert out is not None
    assert len(out) == len(before)
    assert out[0:6] == before[0:6]  # the group's MAC
    assert out[6:12] == mac  # the router leg's
    changed = {6, 7, 8, 9, 10, 11}
    if built.version == 4:
        ihl = (before[ETH] & 0x0F) * 4
        assert out[ETH + 8] == built.ttl - 1
        assert checksum(out[ETH:ETH + ihl]) == 0  # a valid IPv4 header checksum
        changed |= {ETH + 8, ETH + 10, ETH + 11}
        source, group = out[ETH + 12:ETH + 16], out[ETH + 16:ETH + 20]
    else:
        assert out[ETH + 7] == built.ttl - 1
        changed |= {ETH + 7}
        source, group = out[ETH + 8:ETH + 24], out[ETH + 24:ETH + 40]
    if built.udp is not None:
        offset, length = built.udp
        segment = out[offset:offset + length]
        if built.version == 4 and before[offset + 6:offset + 8] == b"\0\0":
            assert segment[6:8] == b"\0\0"  # IPv4's "no checksum" stays
        else:
            assert udp_checksum_valid(built.version, source, group, segment), "bad UDP checksum"
        changed |= {offset + 6, offset + 7}
    assert [i for i in range(len(out)) if out[i] != before[i] and i not in changed] == []


@SETTINGS
@given(st.one_of(ipv4_frames(ttl=st.integers(2, 255), whole_udp=True, modes=st.sampled_from(["partial", "bogus"])),
                 ipv6_frames(ttl=st.integers(2, 255), whole_udp=True, modes=checksum_modes)), macs)
def test_bogus_partial_or_missing_udp_checksums_are_made_right(built: Built, mac: bytes) -> None:
    offset, length = built.udp or (0, 0)
    assume(built.version == 6 or built.frame[offset + 6:offset + 8] != b"\0\0")  # IPv4's 0: no checksum
    out = forward(built.frame, mac).frame
    assert out is not None
    ip = out[ETH + 12:ETH + 20] if built.version == 4 else out[ETH + 8:ETH + 40]
    half = len(ip) // 2
    assert udp_checksum_valid(built.version, ip[:half], ip[half:], out[offset:offset + length])


@SETTINGS
@given(ipv4_frames(ttl=st.integers(2, 255), whole_udp=True, modes=st.just("zero")), macs)
def test_ipv4_no_udp_checksum_stays_zero(built: Built, mac: bytes) -> None:
    out = forward(built.frame, mac).frame
    assert out is not None
    offset, _ = built.udp or (0, 0)
    assert out[offset + 6:offset + 8] == b"\0\0"


def _frame(version: int, payload: bytes, udp_checksum: int) -> tuple[bytes, bytes, bytes, int]:
    """(frame, source, group, UDP offset) of a UDP datagram with ``udp_checksum`` as its checksum."""
    source = bytes([10, 1, 0, 2]) if version == 4 else bytes.fromhex("fd000000000000010000000000000002")
    group = bytes([239, 1, 2, 3]) if version == 4 else bytes.fromhex("ff0e0000000000000000000000010002")
    segment = struct.pack("!HHHH", 40000, 5000, 8 + len(payload), udp_checksum) + payload
    if version == 4:
        header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(segment), 1, 0, 8, UDP, 0, source, group)
        ethertype = ETH_P_IP
    else:
        header = struct.pack("!IHBB16s16s", 0x60000000, len(segment), UDP, 8, source, group)
        ethertype = ETH_P_IPV6
    frame = bytes(6) + bytes(6) + struct.pack("!H", ethertype) + header + segment
    return frame, source, group, len(frame) - len(segment)


@pytest.mark.parametrize("version", [4, 6])
def test_a_udp_checksum_that_sums_to_zero_is_sent_as_ffff(version: int) -> None:
    """RFC 768: a computed checksum of 0 is sent as 0xFFFF (0 would mean none, or be invalid in IPv6)."""
    frame, source, group, _ = _frame(version, b"\0\0", 0)
    fill = checksum(pseudo_header(version, source, group, 10) + frame[-10:])  # the word that sums to 0xFFFF
    frame, source, group, offset = _frame(version, struct.pack("!H", fill), 0x1234)
    assert checksum(pseudo_header(version, source, group, 10) + frame[offset:offset + 6] + frame[offset + 8:]) == 0
    out = forward(frame, b"\x02" * 6).frame
    assert out is not None
    assert out[offset + 6:offset + 8] == b"\xff\xff"


# -- malformed frames ----------------------------------------------------------------------------


def _never_raises(frame: bytes) -> None:
    parsed = parse(frame)
    assert parsed is None or isinstance(parsed, Datagram)
    verdict = forward(frame, b"\x02" * 6)
    assert isinstance(verdict, Verdict)
    assert verdict.reason in {"forwarded", "ttl", "scope", "not_multicast", "malformed"}
    if verdict.frame is not None:
        assert len(verdict.frame) == len(frame)


@SETTINGS
@given(st.binary(max_size=128))
def test_random_bytes_never_raise(frame: bytes) -> None:
    _never_raises(frame)


@SETTINGS
@given(st.binary(max_size=80), st.sampled_from([ETH_P_IP, ETH_P_IPV6]), st.integers(0, 255))
def test_random_ip_frames_never_raise(rest: bytes, ethertype: int, first: int) -> None:
    _never_raises(bytes(12) + struct.pack("!HB", ethertype, first) + rest)


@SETTINGS
@given(any_frames, st.data())
def test_truncated_frames_never_raise(built: Built, data: Any) -> None:
    """A frame cut anywhere (a snap length, a broken sender) is dropped, not an exception —
    which in the relay would end the router's thread."""
    _never_raises(built.frame[:data.draw(st.integers(0, built.ip_end))])


@SETTINGS
@given(any_frames, st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6))
def test_corrupted_frames_never_raise(built: Built, changes: list[tuple[int, int]]) -> None:
    frame = bytearray(built.frame)
    for position, value in changes:
        frame[position % len(frame)] = value
    assume(bytes(frame) != built.frame)
    _never_raises(bytes(frame))


@pytest.mark.parametrize("version", [4, 6])
def test_a_short_udp_header_is_not_an_error(version: int) -> None:
    """A routable UDP multicast datagram with fewer than 6 bytes after the IP header: forward()
    raises ``struct.error`` in ``_fix_udp_checksum`` (it reads the UDP length unchecked)."""
    raised = {}
    for udp_bytes in range(8):
        if version == 4:
            header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_bytes, 0, 0, 5, UDP, 0,
                                 bytes([10, 1, 0, 2]), bytes([239, 1, 2, 3]))
            frame = bytes(12) + struct.pack("!H", ETH_P_IP) + header + bytes(udp_bytes)
        else:
            header = struct.pack("!IHBB16s16s", 0x60000000, udp_bytes, UDP, 5, bytes(16),
                                 bytes.fromhex("ff0e0000000000000000000000000001"))
            frame = bytes(12) + struct.pack("!H", ETH_P_IPV6) + header + bytes(udp_bytes)
        try:
            verdict = forward(frame, b"\x02" * 6)  # forwarded as it is, or dropped: either, but no exception
        except Exception as exc:  # collected: the assertion below names every length that raised
            raised[udp_bytes] = f"{type(exc).__name__}: {exc}"
        else:
            assert verdict.reason in {"forwarded", "malformed"}
    assert raised == {}
