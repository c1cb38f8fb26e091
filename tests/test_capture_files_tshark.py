"""pcapng export read by Wireshark's own reader, tshark: fields, conversations, I/O and streams.

tshark is required in CI (``GSOCKLAB_REQUIRE_TSHARK=1``, set by ``.ci/run``, which installs it);
elsewhere these tests skip when it is missing. `tests/test_capture_files.py` checks the same
files in pure Python.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from capture_support import LIMIT, F, P, T, address, closed_port, exchange, udp

from gsocklab import Gio, GLib, Recorder, plots
from gsocklab.pcapng import EnhancedPacket, read_blocks, write_pcapng

TSHARK = shutil.which("tshark")


@pytest.fixture(autouse=True)
def need_tshark() -> None:
    if TSHARK is None:
        if os.environ.get("GSOCKLAB_REQUIRE_TSHARK") == "1":
            pytest.fail("tshark is required (GSOCKLAB_REQUIRE_TSHARK=1) but not installed: apt-get install tshark")
        pytest.skip("tshark is not installed (GSOCKLAB_REQUIRE_TSHARK=1 turns this into a failure)")


def tshark(path: Path, *args: str) -> str:
    """tshark's standard output for ``path``; it must read the file without complaint."""
    assert TSHARK is not None
    done = subprocess.run([TSHARK, "-r", str(path), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "HOME": str(path.parent)}, check=False)
    assert done.returncode == 0, done.stderr
    problems = [line for line in done.stderr.splitlines() if "Running as user" not in line and line.strip()]
    assert not problems, problems
    return done.stdout


def fields(path: Path, *names: str, display_filter: str | None = None) -> list[list[str]]:
    args = ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
    for name in names:
        args += ["-e", name]
    if display_filter:
        args += ["-Y", display_filter]
    return [line.split("\t") for line in tshark(path, *args).splitlines()]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    done = exchange()
    path = tmp_path_factory.mktemp("tshark") / "run.pcapng"
    done.rec.to_pcapng(path)
    return done, path


def test_every_packet_and_comment_as_written(run: tuple[Any, Path]) -> None:
    _done, path = run
    written = [b for b in read_blocks(path) if isinstance(b, EnhancedPacket)]
    rows = fields(path, "frame.interface_id", "frame.len", "frame.cap_len", "frame.comment")
    assert len(rows) == len(written)
    assert [(int(r[0]), int(r[1]), int(r[2]), r[3]) for r in rows] == [
        (b.interface_id, b.original_length, b.captured_length, b.comments[0]) for b in written]
    assert fields(path, "frame.number", display_filter="_ws.malformed || _ws.expert.severity == error") == []


def test_udp_addresses_ports_and_payloads(run: tuple[Any, Path]) -> None:
    done, path = run
    frame = done.rec.to_dataframe()
    rows = fields(path, "frame.interface_name", "frame.packet_flags_direction", "ip.src", "udp.srcport", "ip.dst",
                  "udp.dstport", "udp.payload", display_filter="udp")
    client, server = [label for label in done.rec.summary().index if label.startswith("udp")]
    local = {label: frame[frame["socket"] == label]["local"].dropna().iloc[-1] for label in (client, server)}
    out, into = "0x00000002", "0x00000001"
    sent = [r for r in rows if r[0] == client and r[1] == out]
    received = [r for r in rows if r[0] == server and r[1] == into]
    assert [bytes.fromhex(r[6]) for r in sent] == [bytes.fromhex(r[6]) for r in received] == done.udp_payloads
    assert {f"{r[2]}:{r[3]}" for r in sent + received} == {local[client]}
    assert {f"{r[4]}:{r[5]}" for r in sent + received} == {local[server]}
    answers = [bytes.fromhex(r[6]) for r in rows if r[0] == client and r[1] == into]
    assert answers == done.udp_answers


def test_conversations_agree_with_the_summary(run: tuple[Any, Path]) -> None:
    done, path = run
    summary = done.rec.summary()
    frame = done.rec.to_dataframe()
    client, server = [label for label in summary.index if label.startswith("udp")]
    local = {label: frame[frame["socket"] == label]["local"].dropna().iloc[-1] for label in (client, server)}
    text = tshark(path, "-q", "-z", "conv,udp")
    lines = [line for line in text.splitlines() if "<->" in line]
    assert len(lines) == 1
    match = re.match(r"^(\S+)\s+<->\s+(\S+)\s+(\d+) (\d+) bytes\s+(\d+) (\d+) bytes\s+(\d+) (\d+) bytes", lines[0])
    assert match is not None, lines[0]
    a, b = match.group(1), match.group(2)
    a_to_b_frames, a_to_b_bytes = int(match.group(5)), int(match.group(6))
    b_to_a_frames, b_to_a_bytes = int(match.group(3)), int(match.group(4))
    first, second = (client, server) if a == local[client] else (server, client)
    assert (a, b) == (local[first], local[second])
    sent = summary.loc[first, "out_messages"] + summary.loc[second, "in_messages"]
    assert a_to_b_frames == sent
    assert a_to_b_bytes == summary.loc[first, "out_bytes"] + summary.loc[second, "in_bytes"] + 28 * sent
    back = summary.loc[second, "out_messages"] + summary.loc[first, "in_messages"]
    assert b_to_a_frames == back
    assert b_to_a_bytes == summary.loc[second, "out_bytes"] + summary.loc[first, "in_bytes"] + 28 * back


def test_io_stat_agrees_with_the_io_graph(tmp_path: Path) -> None:
    rec = Recorder()
    with rec:
        client, server = udp(), udp()
        for i in range(8):
            client.send_to(server.get_local_address(), b"tick %d" % i, None)
            server.receive_from(None, 100)
            time.sleep(0.06)
        client.close()
        server.close()
    path = tmp_path / "io.pcapng"
    rec.to_pcapng(path)
    interval = 0.1
    data = plots.io_graph(rec, interval=interval).data
    for (label, direction), part in data.groupby(["socket", "direction"], observed=True):
        flag = 2 if direction == "out" else 1
        text = tshark(path, "-q", "-z",
                      f'io,stat,{interval},frame.interface_name=="{label}" && frame.packet_flags_direction=={flag}')
        counted: dict[float, tuple[int, int]] = {}
        for match in re.finditer(r"^\|\s*([\d.]+) <>\s*(?:[\d.]+|Dur)\s*\|\s*(\d+) \|\s*(\d+) \|", text, re.MULTILINE):
            if int(match.group(2)):
                counted[round(float(match.group(1)), 6)] = (int(match.group(2)), int(match.group(3)))
        expected = {round(float(row.start), 6): (int(row.messages), int(row.bytes) + 28 * int(row.messages))
                    for row in part.itertuples()}
        assert counted == expected, (label, direction, text)
        assert sum(m for m, _b in counted.values()) == 8


def follow(path: Path, index: int = 0) -> tuple[bytes, bytes]:
    """The two directions of TCP stream ``index``: (from node 0, from node 1)."""
    text = tshark(path, "-q", "-z", f"follow,tcp,raw,{index}")
    body = text.split("Node 1:", 1)[1].split("\n", 1)[1]
    first, second = b"", b""
    for line in body.splitlines():
        if line.startswith("====="):
            break
        if line.startswith("\t"):
            second += bytes.fromhex(line.strip())
        elif line.strip():
            first += bytes.fromhex(line.strip())
    return first, second


def test_tcp_reassembles_from_either_end(run: tuple[Any, Path], tmp_path: Path) -> None:
    done, path = run
    request, answer = follow(path)
    assert request == done.tcp_request  # the client (node 0) opened the connection
    assert answer == done.tcp_answer[:256] + answer[256:]  # the server's send was cut at capture_bytes
    assert answer.startswith(done.tcp_answer[:256])
    frame = done.rec.to_dataframe()
    client = frame[frame["op"] == "connect"]["socket"].iloc[0]
    client_only, server_only = tmp_path / "client.pcapng", tmp_path / "server.pcapng"
    write_pcapng(frame[frame["socket"] == client], client_only)
    write_pcapng(frame[frame["socket"] != client], server_only)
    assert follow(client_only) == (done.tcp_request, done.tcp_answer)  # its receives were captured whole
    assert follow(server_only)[0] == done.tcp_request
    flags = fields(client_only, "tcp.flags.str", display_filter="tcp")
    assert [f[0].replace("\u00b7", ".") for f in flags][:3] == ["..........S.", ".......A..S.", ".......A...."]


def test_a_big_recording_with_cut_payloads_is_read_whole(tmp_path: Path) -> None:
    done = exchange(capture_bytes=8)
    path = tmp_path / "cut.pcapng"
    done.rec.to_pcapng(path)
    rows = fields(path, "frame.len", "frame.cap_len", "udp.length", display_filter="udp")
    assert rows
    assert all(int(r[0]) == 20 + int(r[2]) and int(r[1]) <= 28 + 8 for r in rows)


def test_refused_connect_and_multicast(tmp_path: Path) -> None:
    group = Gio.InetAddress.new_from_string("239.255.42.43")
    rec = Recorder()
    with rec:
        client = Gio.Socket.new(F.IPV4, T.STREAM, P.DEFAULT)
        client.set_timeout(LIMIT)
        with pytest.raises(GLib.Error):
            client.connect(address("127.0.0.1", closed_port()), None)
        client.close()
        member = Gio.Socket.new(F.IPV4, T.DATAGRAM, P.DEFAULT)
        member.set_timeout(LIMIT)
        member.bind(address("0.0.0.0"), True)
        member.join_multicast_group(group, False, "lo")
        sender = udp()
        sender.set_multicast_loopback(True)
        sender.send_to(Gio.InetSocketAddress.new(group, member.get_local_address().get_port()), b"all", None)
        assert member.receive_from(None, 10)[2] == b"all"
        member.close()
        sender.close()
    path = tmp_path / "misc.pcapng"
    rec.to_pcapng(path)
    assert [r[0] for r in fields(path, "tcp.flags", display_filter="tcp")] == ["0x0002", "0x0014"]
    multicast = fields(path, "frame.packet_flags_direction", "ip.src", "ip.dst", "ip.ttl", display_filter="udp")
    assert multicast == [["0x00000002", "127.0.0.1", "239.255.42.43", "1"],
                         ["0x00000001", "127.0.0.1", "239.255.42.43", "1"]]
    calls = fields(path, "_ws.col.Info", display_filter="frame.interface_id == 0")
    assert any("join_multicast_group" in c[0] and "239.255.42.43" in c[0] for c in calls)
