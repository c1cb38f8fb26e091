"""The relay router's membership bookkeeping (`gsocklab.netlab._membership`): pure, no namespaces.

Reports are built here byte by byte as RFC 3376 (IGMPv3), RFC 2236 (IGMPv2), RFC 3810 (MLDv2) and
RFC 2710 (MLDv1) lay them out; `Memberships` is checked against a plain model of per-host filters.
"""

from __future__ import annotations

import ipaddress
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from gsocklab.netlab._membership import Memberships, Record, parse_report

ALLOW, BLOCK, IS_IN, IS_EX, TO_IN, TO_EX = 5, 6, 1, 2, 3, 4


def _eth(ethertype: int, payload: bytes) -> bytes:
    return b"\x01\x00\x5e\x00\x00\x16" + b"\x02\x00\x00\x00\x00\x01" + struct.pack("!H", ethertype) + payload


def igmpv3(reporter: str, records: list[tuple[int, str, list[str]]]) -> bytes:
    body = b"".join(struct.pack("!BBH", kind, 0, len(sources)) + ipaddress.IPv4Address(group).packed
                    + b"".join(ipaddress.IPv4Address(s).packed for s in sources) for kind, group, sources in records)
    igmp = struct.pack("!BBHHH", 0x22, 0, 0, 0, len(records)) + body
    options = b"\x94\x04\x00\x00"  # router alert
    header = struct.pack("!BBHHHBBH4s4s", 0x46, 0xC0, 24 + len(igmp), 0, 0, 1, 2, 0,
                         ipaddress.IPv4Address(reporter).packed, ipaddress.IPv4Address("224.0.0.22").packed)
    return _eth(0x0800, header + options + igmp)


def igmpv2(reporter: str, kind: int, group: str) -> bytes:
    igmp = struct.pack("!BBH4s", kind, 0, 0, ipaddress.IPv4Address(group).packed)
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(igmp), 0, 0, 1, 2, 0,
                         ipaddress.IPv4Address(reporter).packed, ipaddress.IPv4Address(group).packed)
    return _eth(0x0800, header + igmp)


def mldv2(reporter: str, records: list[tuple[int, str, list[str]]]) -> bytes:
    body = b"".join(struct.pack("!BBH", kind, 0, len(sources)) + ipaddress.IPv6Address(group).packed
                    + b"".join(ipaddress.IPv6Address(s).packed for s in sources) for kind, group, sources in records)
    icmp = struct.pack("!BBHHH", 143, 0, 0, 0, len(records)) + body
    hop_by_hop = bytes([58, 0, 5, 2, 0, 0, 1, 0])  # next header ICMPv6; router alert; padding
    header = struct.pack("!IHBB16s16s", 0x60000000, len(hop_by_hop) + len(icmp), 0, 1,
                         ipaddress.IPv6Address(reporter).packed, ipaddress.IPv6Address("ff02::16").packed)
    return _eth(0x86DD, header + hop_by_hop + icmp)


def mldv1(reporter: str, kind: int, group: str) -> bytes:
    icmp = struct.pack("!BBHHH16s", kind, 0, 0, 0, 0, ipaddress.IPv6Address(group).packed)
    hop_by_hop = bytes([58, 0, 5, 2, 0, 0, 1, 0])
    header = struct.pack("!IHBB16s16s", 0x60000000, len(hop_by_hop) + len(icmp), 0, 1,
                         ipaddress.IPv6Address(reporter).packed, ipaddress.IPv6Address(group).packed)
    return _eth(0x86DD, header + hop_by_hop + icmp)


def test_igmpv3_join_and_leave() -> None:
    members = Memberships()
    report = parse_report(igmpv3("10.1.0.2", [(TO_EX, "239.1.2.3", [])]))
    assert report is not None
    assert report.reporter == "10.1.0.2"
    assert report.records == (Record(TO_EX, "239.1.2.3", frozenset()),)
    members.apply(report)
    assert members.wants("10.9.9.9", "239.1.2.3")
    assert not members.wants("10.9.9.9", "239.1.2.4")
    leave = parse_report(igmpv3("10.1.0.2", [(TO_IN, "239.1.2.3", [])]))
    assert leave is not None
    members.apply(leave)
    assert not members.wants("10.9.9.9", "239.1.2.3")
    assert members.groups() == {}


def test_two_hosts_one_leaves() -> None:
    members = Memberships()
    for host in ("10.1.0.2", "10.1.0.3"):
        report = parse_report(igmpv3(host, [(TO_EX, "239.1.2.3", [])]))
        assert report is not None
        members.apply(report)
    leave = parse_report(igmpv3("10.1.0.2", [(TO_IN, "239.1.2.3", [])]))
    assert leave is not None
    members.apply(leave)
    assert members.wants("10.5.0.1", "239.1.2.3")  # 10.1.0.3 still wants it
    assert members.groups() == {"239.1.2.3": ["10.1.0.3"]}


def test_source_specific_allow_and_block() -> None:
    members = Memberships()
    report = parse_report(igmpv3("10.2.0.2", [(ALLOW, "232.1.2.3", ["10.1.0.2"])]))
    assert report is not None
    members.apply(report)
    assert members.wants("10.1.0.2", "232.1.2.3")
    assert not members.wants("10.1.0.3", "232.1.2.3")
    block = parse_report(igmpv3("10.2.0.2", [(BLOCK, "232.1.2.3", ["10.1.0.2"])]))
    assert block is not None
    members.apply(block)
    assert not members.wants("10.1.0.2", "232.1.2.3")


def test_igmpv2_report_and_leave() -> None:
    members = Memberships()
    for kind, expected in ((0x16, True), (0x17, False)):
        report = parse_report(igmpv2("10.1.0.4", kind, "239.7.7.7"))
        assert report is not None
        members.apply(report)
        assert members.wants("10.3.0.1", "239.7.7.7") is expected


def test_mldv2_and_mldv1() -> None:
    members = Memberships()
    report = parse_report(mldv2("fe80::1", [(TO_EX, "ff0e::1:2", []), (ALLOW, "ff3e::9", ["fd00:0:0:1::2"])]))
    assert report is not None
    assert len(report.records) == 2
    members.apply(report)
    assert members.wants("fd00:0:0:2::5", "ff0e::1:2")
    assert members.wants("fd00:0:0:1::2", "ff3e::9")
    assert not members.wants("fd00:0:0:1::3", "ff3e::9")
    done = parse_report(mldv1("fe80::1", 132, "ff0e::1:2"))
    assert done is not None
    members.apply(done)
    assert not members.wants("fd00:0:0:2::5", "ff0e::1:2")
    report = parse_report(mldv1("fe80::2", 131, "ff05::3"))
    assert report is not None
    members.apply(report)
    assert members.wants("fd00::1", "ff05::3")


def test_other_frames_are_not_reports() -> None:
    query = igmpv2("10.1.0.1", 0x11, "0.0.0.0")
    assert parse_report(query) is None
    assert parse_report(b"") is None
    assert parse_report(b"\x00" * 60) is None
    udp = _eth(0x0800, struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 1, 17, 0, bytes(4), bytes(4)) + bytes(8))
    assert parse_report(udp) is None


HOSTS = [f"10.1.0.{i}" for i in range(2, 6)]
SOURCES = [f"10.2.0.{i}" for i in range(2, 6)]
GROUPS = ["239.1.1.1", "239.2.2.2", "232.3.3.3"]
record_st = st.tuples(st.sampled_from([IS_IN, IS_EX, TO_IN, TO_EX, ALLOW, BLOCK]), st.sampled_from(GROUPS),
                      st.lists(st.sampled_from(SOURCES), max_size=3, unique=True))


def _model_apply(model: dict[str, dict[str, tuple[str, set[str]]]], host: str,
                 records: list[tuple[int, str, list[str]]]) -> None:
    groups = model.setdefault(host, {})
    for kind, group, sources in records:
        mode, current = groups.get(group, ("include", set()))
        if kind in (IS_IN, TO_IN):
            mode, current = "include", set(sources)
        elif kind in (IS_EX, TO_EX):
            mode, current = "exclude", set(sources)
        elif kind == ALLOW:
            current = current | set(sources) if mode == "include" else current - set(sources)
        else:
            current = current - set(sources) if mode == "include" else current | set(sources)
        if mode == "include" and not current:
            groups.pop(group, None)
        else:
            groups[group] = (mode, current)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(HOSTS), st.lists(record_st, min_size=1, max_size=3)), max_size=12))
def test_memberships_follow_the_per_host_filter_model(reports: list[tuple[str, list[tuple[int, str, list[str]]]]]
                                                       ) -> None:
    members = Memberships()
    model: dict[str, dict[str, tuple[str, set[str]]]] = {}
    for host, records in reports:
        report = parse_report(igmpv3(host, records))
        assert report is not None
        assert [(r.kind, r.group, set(r.sources)) for r in report.records] == [
            (k, g, set(s)) for k, g, s in records]
        members.apply(report)
        _model_apply(model, host, records)
    for source in SOURCES:
        for group in GROUPS:
            expected = any(
                group in groups and ((source in groups[group][1]) == (groups[group][0] == "include"))
                for groups in model.values())
            assert members.wants(source, group) is expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_never_raises(data: bytes) -> None:
    for ethertype in (b"\x08\x00", b"\x86\xdd"):
        parse_report(bytes(12) + ethertype + data)


def test_general_queries_are_well_formed() -> None:
    from gsocklab.netlab._membership import _sum16, igmp_general_query, mld_general_query

    mac = b"\x02\x00\x00\x00\x00\x09"
    frame = igmp_general_query(mac, "10.1.0.1", response=1.0)
    assert frame[:6] == b"\x01\x00\x5e\x00\x00\x01"
    assert frame[6:12] == mac
    ip = frame[14:38]
    assert ip[8] == 1  # TTL 1
    assert ip[9] == 2  # IGMP
    assert _sum16(ip) == 0  # the header checksum holds
    igmp = frame[38:]
    assert (igmp[0], igmp[1], len(igmp)) == (0x11, 10, 12)  # v3 general query, 1 s to answer
    assert _sum16(igmp) == 0
    assert parse_report(frame) is None  # a query is not a report

    frame = mld_general_query(mac, "fe80::9", response=1.0)
    assert frame[:6] == b"\x33\x33\x00\x00\x00\x01"
    header = frame[14:54]
    assert (header[6], header[7]) == (0, 1)  # hop-by-hop (router alert) first; hop limit 1
    icmp = frame[62:]
    assert (icmp[0], len(icmp)) == (130, 28)
    pseudo = header[8:40] + struct.pack("!I3xB", len(icmp), 58)
    assert _sum16(pseudo + icmp) == 0
    assert parse_report(frame) is None
