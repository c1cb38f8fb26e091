"""pcapng export checked in pure Python: the block format, and the packets of real recordings.

`gsocklab.pcapng.read_blocks` parses the files (and must reject broken ones), `parse_packet`
reads the IP headers; `tests/test_capture_files_tshark.py` has Wireshark's reader check the same.
"""

from __future__ import annotations

import io
import struct
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from capture_support import LIMIT, F, P, T, address, closed_port, exchange, udp
from hypothesis import given, settings
from hypothesis import strategies as st

from gsocklab import Gio, GLib, Recorder
from gsocklab.pcapng import (
    FLAG_INBOUND,
    FLAG_OUTBOUND,
    LINKTYPE_RAW,
    LINKTYPE_UPPER_PDU,
    EnhancedPacket,
    InterfaceDescription,
    PcapngError,
    SectionHeader,
    parse_packet,
    read_blocks,
    write_pcapng,
)
from gsocklab.pcapng import _blocks as B
from gsocklab.pcapng._ip import ACK, FIN, PSH, RST, SYN, tcp_packet, udp_packet


def parse(data: bytes) -> list[Any]:
    return list(B.read_blocks(io.BytesIO(data)))


def packets_by_interface(path: Path) -> tuple[list[str | None], dict[str, list[EnhancedPacket]]]:
    names: list[str | None] = []
    packets: dict[str, list[EnhancedPacket]] = {}
    for block in read_blocks(path):
        if isinstance(block, InterfaceDescription):
            names.append(block.name)
        elif isinstance(block, EnhancedPacket):
            packets.setdefault(str(names[block.interface_id]), []).append(block)
    return names, packets


# -- the block format -----------------------------------------------------------------------


def test_blocks_round_trip_with_options_and_alignment() -> None:
    data = (B.section_header("recording «é»", "gsocklab")
            + B.interface_description(LINKTYPE_RAW, "udp4#1", "a socket")
            + B.enhanced_packet(0, 1_700_000_000_123_456_789, b"abc", 10, FLAG_OUTBOUND, "comment ünïcode")
            + B.enhanced_packet(0, 5, b"", 0))
    assert len(data) % 4 == 0
    shb, idb, first, empty = parse(data)
    assert isinstance(shb, SectionHeader)
    assert shb.version == (1, 0)
    assert shb.options == {"comment": ["recording «é»"], "userappl": ["gsocklab"]}
    assert isinstance(idb, InterfaceDescription)
    assert (idb.linktype, idb.name, idb.options["description"], idb.ticks_per_second) == (
        LINKTYPE_RAW, "udp4#1", ["a socket"], 10**9)
    assert isinstance(first, EnhancedPacket)
    assert (first.timestamp, first.data, first.captured_length, first.original_length) == (
        1_700_000_000_123_456_789, b"abc", 3, 10)
    assert first.comments == ["comment ünïcode"]
    assert first.flags == FLAG_OUTBOUND
    assert empty.data == b""
    assert empty.options == {}
    assert empty.flags is None
    assert [b.offset for b in (shb, idb, first, empty)] == sorted({b.offset for b in (shb, idb, first, empty)})


@settings(max_examples=200, deadline=None)
@given(payloads=st.lists(st.binary(max_size=70), max_size=5), comment=st.text(max_size=40),
       extra=st.integers(0, 1000))
def test_any_packets_round_trip(payloads: list[bytes], comment: str, extra: int) -> None:
    data = B.section_header(comment or None) + B.interface_description(LINKTYPE_RAW, comment or "x")
    for i, payload in enumerate(payloads):
        data += B.enhanced_packet(0, i, payload, len(payload) + extra, FLAG_INBOUND, comment or None)
    blocks = parse(data)
    assert [p.data for p in blocks[2:]] == payloads
    assert all(p.original_length == len(p.data) + extra for p in blocks[2:])
    assert all(p.comments == ([comment] if comment else []) for p in blocks[2:])


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(1, 10_000))
def test_a_truncated_file_is_rejected_or_ends_on_a_block(cut: int) -> None:
    whole = (B.section_header("c") + B.interface_description(LINKTYPE_RAW, "i")
             + B.enhanced_packet(0, 1, b"x" * 33, 33, comment="yy") + B.enhanced_packet(0, 2, b"z", 1))
    cut = cut % len(whole)
    ends = {0}
    for block in parse(whole):
        ends.add(block.offset)
    try:
        blocks = parse(whole[:cut])
    except PcapngError:
        assert cut not in ends | {len(whole)}
        return
    assert cut in ends  # only a cut between blocks reads cleanly
    assert len(blocks) == sorted(ends).index(cut)


def corrupt(data: bytearray, offset: int, value: bytes) -> bytes:
    data[offset:offset + len(value)] = value
    return bytes(data)


def test_broken_files_raise_pcapng_error() -> None:
    shb = B.section_header("c")
    idb = B.interface_description(LINKTYPE_RAW, "i")
    epb = B.enhanced_packet(0, 1, b"abcd", 4, comment="hi")
    good = shb + idb + epb
    parse(good)
    cases = {
        "trailing length": corrupt(bytearray(good), len(good) - 4, struct.pack("<I", len(epb) + 4)),
        "bad magic": corrupt(bytearray(good), 8, b"\x00\x00\x00\x00"),
        "not a section first": idb + epb,
        "undeclared interface": shb + epb,
        "interface id out of range": shb + idb + corrupt(bytearray(epb), 8, struct.pack("<I", 3)),
        "captured longer than the block": shb + idb + corrupt(bytearray(epb), 20, struct.pack("<I", 400)),
        "original shorter than captured": shb + idb + corrupt(bytearray(epb), 24, struct.pack("<I", 1)),
        "option past its block": shb + idb + corrupt(bytearray(epb), 32, struct.pack("<HH", 1, 200)),
        "unaligned length": corrupt(bytearray(good), 4, struct.pack("<I", len(shb) + 2)),
        "ends inside a block": good[:-3],
    }
    for name, data in cases.items():
        with pytest.raises(PcapngError):
            parse(data)
        assert name


def test_ip_packets_parse_back() -> None:
    import ipaddress

    a4, a6 = ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")
    data, original = udp_packet(a4, 1000, ipaddress.ip_address("239.1.2.3"), 2000, b"hello", 5, ttl=1, ident=7)
    assert original == len(data) == 20 + 8 + 5
    parsed = parse_packet(data)
    assert (parsed.version, parsed.src, parsed.dst, parsed.protocol, parsed.ttl, parsed.sport, parsed.dport,
            parsed.payload, parsed.length) == (4, "127.0.0.1", "239.1.2.3", "udp", 1, 1000, 2000, b"hello", 5)
    data, original = tcp_packet(a6, 5, a6, 6, 2**32 + 9, 77, PSH | ACK, b"ab", 1000)
    assert (len(data), original) == (40 + 20 + 2, 40 + 20 + 1000)
    parsed = parse_packet(data)
    assert (parsed.version, parsed.protocol, parsed.seq, parsed.ack, parsed.flags, parsed.payload, parsed.length) == (
        6, "tcp", 9, 77, PSH | ACK, b"ab", 1000)
    with pytest.raises(ValueError, match="different IP versions"):
        udp_packet(a4, 1, a6, 2, b"", 0)


def test_checksums_verify() -> None:
    import ipaddress

    def ones(data: bytes) -> int:
        if len(data) % 2:
            data += b"\0"
        total = sum(struct.unpack(f"!{len(data) // 2}H", data))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        return total

    a, b = ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("127.0.0.2")
    data, _ = udp_packet(a, 1, b, 2, b"odd", 3)
    assert ones(data[:20]) == 0xFFFF  # the IPv4 header checksum
    pseudo = a.packed + b.packed + struct.pack("!BBH", 0, 17, 11)
    assert ones(pseudo + data[20:]) == 0xFFFF
    data, _ = tcp_packet(a, 1, b, 2, 5, 6, ACK, b"xyz")
    pseudo = a.packed + b.packed + struct.pack("!BBH", 0, 6, 23)
    assert ones(pseudo + data[20:]) == 0xFFFF


# -- real recordings ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    done = exchange()
    path = tmp_path_factory.mktemp("pcap") / "run.pcapng"
    done.rec.to_pcapng(path)
    return done, path


def test_file_layout(run: tuple[Any, Path]) -> None:
    done, path = run
    blocks = list(read_blocks(path))
    assert isinstance(blocks[0], SectionHeader)
    assert "synthesized" in str(blocks[0].options["comment"][0])
    interfaces = [b for b in blocks if isinstance(b, InterfaceDescription)]
    assert interfaces[0].name == "gsocklab calls"
    assert interfaces[0].linktype == LINKTYPE_UPPER_PDU
    labels = list(dict.fromkeys(done.rec.to_dataframe()["socket"]))
    # one per IP socket, declared before its first packet (so in the order of first packets)
    assert sorted(str(i.name) for i in interfaces[1:]) == sorted(label for label in labels
                                                                if label.startswith(("udp", "tcp")))
    assert all(i.linktype == LINKTYPE_RAW and i.ticks_per_second == 10**9 for i in interfaces[1:])
    first = blocks[2]
    assert isinstance(first, EnhancedPacket)
    assert first.interface_id == 0
    assert first.comments[0].startswith("recording started")


def test_udp_packets_match_the_recording(run: tuple[Any, Path]) -> None:
    done, path = run
    frame = done.rec.to_dataframe()
    summary = done.rec.summary()
    _names, packets = packets_by_interface(path)
    udp_labels = [label for label in summary.index if label.startswith("udp")]
    client, server = udp_labels
    for label in udp_labels:
        directions = Counter(p.flags for p in packets[label])
        assert directions[FLAG_OUTBOUND] == summary.loc[label, "out_messages"]
        assert directions[FLAG_INBOUND] == summary.loc[label, "in_messages"]
    sent = [parse_packet(p.data) for p in packets[client] if p.flags == FLAG_OUTBOUND]
    got = [parse_packet(p.data) for p in packets[server] if p.flags == FLAG_INBOUND]
    assert [p.payload for p in sent] == [p.payload for p in got] == done.udp_payloads
    local = frame[frame["socket"] == client]["local"].dropna().iloc[-1]
    peer = frame[frame["socket"] == server]["local"].dropna().iloc[-1]
    assert {f"{p.src}:{p.sport}" for p in sent + got} == {local}
    assert {f"{p.dst}:{p.dport}" for p in sent + got} == {peer}
    assert all(p.ttl == 64 and p.protocol == "udp" for p in sent)
    answers = [parse_packet(p.data).payload for p in packets[client] if p.flags == FLAG_INBOUND]
    assert answers == done.udp_answers
    receive_comments = [p.comments[0] for p in packets[server] if p.flags == FLAG_INBOUND]
    sends = frame[(frame["socket"] == client) & (frame["op"] == "send_to")]["seq"].tolist()
    assert [c.split("; ")[-1] for c in receive_comments] == [f"matches send seq={s} on {client}" for s in sends]
    assert all(c.startswith(f"{server} receive_from seq=") for c in receive_comments)


def test_timestamps_are_the_ends_of_the_calls(run: tuple[Any, Path]) -> None:
    done, path = run
    frame = done.rec.to_dataframe().set_index("seq")
    start = done.rec._start_ns + done.rec._wall_offset
    blocks = [b for b in read_blocks(path) if isinstance(b, EnhancedPacket)]
    assert blocks[0].timestamp == start
    checked = 0
    for block in blocks[1:]:
        comment = block.comments[0]
        seq = int(comment.split(" seq=")[1].split(",")[0].split(";")[0].split(":")[0])
        row = frame.loc[seq]
        expected = start + round((row["elapsed"] + row["duration"]) * 1e9)
        if "; SYN" in comment and "connect" in comment and "SYN-ACK" not in comment:
            expected = start + round(row["elapsed"] * 1e9)  # a connect's SYN leaves at its start
        assert abs(block.timestamp - expected) <= 1000, comment
        checked += 1
    assert checked > 20


def test_the_timeout_is_a_call_frame(run: tuple[Any, Path]) -> None:
    _done, path = run
    _names, packets = packets_by_interface(path)
    calls = [p.comments[0] for p in packets["gsocklab calls"]]
    timeouts = [c for c in calls if "TIMED_OUT" in c]
    assert len(timeouts) == 1
    assert "receive_from" in timeouts[0]
    assert "timeout 1 s" in timeouts[0]
    assert "Socket I/O timed out" in timeouts[0]
    assert any(" bind seq=" in c and "local 127.0.0.1:" in c for c in calls)
    assert all(p.data.endswith(p.comments[0].encode()) for p in packets["gsocklab calls"])


def test_tcp_numbers_agree_at_both_ends(run: tuple[Any, Path]) -> None:
    done, path = run
    _names, packets = packets_by_interface(path)
    tcp = [label for label in packets if label.startswith("tcp")]
    client, listener, accepted = tcp  # in order of their first packet
    handshake = [parse_packet(p.data) for p in packets[client][:3]]
    assert [h.flags for h in handshake] == [SYN, SYN | ACK, ACK]
    assert handshake[1].ack == handshake[0].seq + 1
    assert handshake[2].seq == handshake[0].seq + 1
    seen = [parse_packet(p.data) for p in packets[listener]]
    assert [s.flags for s in seen] == [SYN, SYN | ACK, ACK]
    assert [(s.seq, s.ack) for s in seen] == [(h.seq, h.ack) for h in handshake]
    isn_client, isn_server = handshake[0].seq, handshake[1].seq

    def stream(label: str, flags: int, origin: int) -> bytes:
        data = bytearray()
        for block in packets[label]:
            if block.flags != flags:
                continue
            packet = parse_packet(block.data)
            if packet.flags is not None and packet.flags & PSH:
                offset = packet.seq - origin - 1  # type: ignore[operator]
                data[offset:offset + len(packet.payload)] = packet.payload
        return bytes(data)

    assert stream(client, FLAG_OUTBOUND, isn_client) == done.tcp_request
    assert stream(accepted, FLAG_INBOUND, isn_client) == done.tcp_request
    assert stream(accepted, FLAG_OUTBOUND, isn_server) == done.tcp_answer[:256]  # capture_bytes of one send
    assert stream(client, FLAG_INBOUND, isn_server) == done.tcp_answer  # each receive of 200 was captured whole
    fins = [(label, parse_packet(p.data)) for label in (client, accepted) for p in packets[label]
            if parse_packet(p.data).flags == FIN | ACK]
    assert [(label, f.sport == handshake[0].sport) for label, f in fins] == [
        (client, True), (accepted, True), (accepted, False)]  # client's FIN, seen at both ends; the server's
    assert fins[0][1].seq == isn_client + 1 + len(done.tcp_request) == fins[1][1].seq


def test_cut_payloads_keep_their_true_length(tmp_path: Path) -> None:
    done = exchange(capture_bytes=4)
    path = tmp_path / "cut.pcapng"
    done.rec.to_pcapng(path)
    _names, packets = packets_by_interface(path)
    client = next(label for label in packets if label.startswith("udp"))
    sent = [p for p in packets[client] if p.flags == FLAG_OUTBOUND]
    for block, payload in zip(sent, done.udp_payloads, strict=True):
        parsed = parse_packet(block.data)
        assert parsed.payload == payload[:4]
        assert parsed.length == len(payload)
        assert block.original_length == 28 + len(payload)
        assert block.captured_length == 28 + 4
        assert block.comments[0].endswith(f"payload captured: 4 of {len(payload)} bytes (capture_bytes=4)")


def test_ipv6_recording(tmp_path: Path) -> None:
    try:
        done = exchange(host="::1")
    except GLib.Error as error:  # a machine without IPv6 on loopback
        pytest.skip(f"no IPv6 loopback here: {error.message}")
    path = tmp_path / "v6.pcapng"
    done.rec.to_pcapng(path)
    _names, packets = packets_by_interface(path)
    parsed = [parse_packet(p.data) for label, blocks in packets.items() if label != "gsocklab calls" for p in blocks]
    assert parsed
    assert all(p.version == 6 and p.src == "::1" == p.dst for p in parsed)


def test_multicast_one_packet_per_send_and_per_delivery(tmp_path: Path) -> None:
    group = Gio.InetAddress.new_from_string("239.255.42.42")
    rec = Recorder()
    members: list[Gio.Socket] = []
    with rec:
        for _ in range(2):
            member = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.DEFAULT)
            member.set_timeout(LIMIT)
            member.bind(address("0.0.0.0", 0 if not members else members[0].get_local_address().get_port()), True)
            member.join_multicast_group(group, False, "lo")
            members.append(member)
        sender = udp()
        sender.set_multicast_loopback(True)
        sender.set_multicast_ttl(2)
        port = members[0].get_local_address().get_port()
        sender.send_to(Gio.InetSocketAddress.new(group, port), b"to everyone", None)
        for member in members:
            assert member.receive_from(None, 100)[2] == b"to everyone"
        for sock in (*members, sender):
            sock.close()
    path = tmp_path / "group.pcapng"
    rec.to_pcapng(path)
    _names, packets = packets_by_interface(path)
    ip_packets = {label: [parse_packet(p.data) for p in blocks] for label, blocks in packets.items()
                  if label != "gsocklab calls"}
    assert sorted(len(v) for v in ip_packets.values()) == [1, 1, 1]
    assert {(p.src, p.dst, p.dport, p.ttl, p.payload) for v in ip_packets.values() for p in v} == {
        ("127.0.0.1", "239.255.42.42", port, 2, b"to everyone")}


def test_refused_connect_is_syn_then_rst(tmp_path: Path) -> None:
    rec = Recorder()
    with rec:
        client = Gio.Socket.new(F.IPV4, T.STREAM, P.DEFAULT)
        client.set_timeout(LIMIT)
        with pytest.raises(GLib.Error):
            client.connect(address("127.0.0.1", closed_port()), None)
        client.close()
    path = tmp_path / "refused.pcapng"
    rec.to_pcapng(path)
    _names, packets = packets_by_interface(path)
    label = next(label for label in packets if label.startswith("tcp"))
    flags = [(p.flags, parse_packet(p.data).flags) for p in packets[label]]
    assert flags == [(FLAG_OUTBOUND, SYN), (FLAG_INBOUND, RST | ACK)]


def test_unix_traffic_is_call_frames(tmp_path: Path) -> None:
    rec = Recorder()
    with rec:
        receiver = Gio.Socket.new(F.UNIX, T.DATAGRAM, P.DEFAULT)
        receiver.set_timeout(LIMIT)
        receiver.bind(Gio.UnixSocketAddress.new(str(tmp_path / "u")), True)
        sender = Gio.Socket.new(F.UNIX, T.DATAGRAM, P.DEFAULT)
        sender.send_to(Gio.UnixSocketAddress.new(str(tmp_path / "u")), b"local", None)
        assert receiver.receive(None, 10)[1] == b"local"
        receiver.close()
        sender.close()
    counts = rec.to_pcapng(tmp_path / "unix.pcapng")
    assert (counts.interfaces, counts.packets) == (0, 0)
    names, packets = packets_by_interface(tmp_path / "unix.pcapng")
    assert names == ["gsocklab calls"]
    assert any("5 bytes to " in p.comments[0] for p in packets["gsocklab calls"])


def test_save_by_suffix_equals_to_pcapng_and_failures_leave_nothing(tmp_path: Path) -> None:
    done = exchange()
    done.rec.save(tmp_path / "a.pcapng")
    done.rec.to_pcapng(tmp_path / "b.pcapng")
    done.rec.save(tmp_path / "c.bin", format="pcapng")
    a, b, c = ((tmp_path / name).read_bytes() for name in ("a.pcapng", "b.pcapng", "c.bin"))
    assert a == b == c
    with pytest.raises(FileNotFoundError):
        done.rec.to_pcapng(tmp_path / "missing" / "x.pcapng")
    assert not list((tmp_path).glob("**/*.part"))
    with pytest.raises(TypeError, match="frame must be a recording's DataFrame"):
        write_pcapng(pd.DataFrame({"a": [1]}), tmp_path / "x.pcapng")
    with pytest.raises(TypeError):
        write_pcapng("not a frame", tmp_path / "x.pcapng")  # type: ignore[arg-type]


def test_an_empty_recording_writes_a_valid_file(tmp_path: Path) -> None:
    counts = Recorder().to_pcapng(tmp_path / "empty.pcapng")
    assert (counts.interfaces, counts.packets, counts.calls) == (0, 0, 1)
    blocks = list(read_blocks(tmp_path / "empty.pcapng"))
    assert [type(b).__name__ for b in blocks] == ["SectionHeader", "InterfaceDescription", "EnhancedPacket"]


def test_write_pcapng_of_a_frame_uses_the_first_row_for_the_start(tmp_path: Path) -> None:
    done = exchange()
    frame = done.rec.to_dataframe()
    write_pcapng(frame, tmp_path / "frame.pcapng")
    done.rec.to_pcapng(tmp_path / "rec.pcapng")
    from_frame = [b for b in read_blocks(tmp_path / "frame.pcapng") if isinstance(b, EnhancedPacket)]
    from_rec = [b for b in read_blocks(tmp_path / "rec.pcapng") if isinstance(b, EnhancedPacket)]
    assert [b.data for b in from_frame] == [b.data for b in from_rec]
    assert all(abs(x.timestamp - y.timestamp) <= 1000 for x, y in zip(from_frame, from_rec, strict=True))
