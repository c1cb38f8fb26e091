"""Differential checks of ``send_messages``/``receive_messages`` against ``sendmmsg``/``recvmmsg`` in C.

``tests/c/mmsg_probe.c`` (no GLib) is compiled once per session with ``gcc -O2 -Wall``. A
scenario is a list of operations, the same strings for both sides (the probe's header
documents the syntax): ``send=LAYOUTS[/FLAGS]`` is one ``send_messages`` call from a blocking
sender, ``recv=LAYOUTS[/FLAGS]`` one ``receive_messages`` call on a non-blocking receiver, both
UDP on loopback with SO_RCVBUF raised to 4 MiB. The probe drives the system calls with GLib's
loops (reference §2.6, §2.7: clamp to ``IOV_MAX``, ``MSG_CMSG_CLOEXEC`` added on receive,
partial counts beat errors); `GsocklabSide` does the same operations through gsocklab, with
the same datagram sizes, vector layouts, payload bytes and flags, and the results must be
equal: each call's count or error, every ``bytes_sent``, and per received message
``bytes_received``, ``flags`` (exactly, ``MSG_CMSG_CLOEXEC`` 0x40000000 and ``MSG_TRUNC`` 0x20
included), the source's family and port, and the whole content of every vector (filled with
0xee beforehand, so writes past the datagram show up too). Zero-vector messages are the
recvmmsg case of §2.6 / C.01: the datagram is consumed with length 0 and ``MSG_TRUNC``.

gsocklab reuses its native batch when the same message list is passed again: an operation
string that occurs twice reuses its message list (refilled in place, outputs reset), so the
second call goes through that path. What only gsocklab has (``payload``, messages beyond the
count left untouched) is checked on its side.

gcc is optional on a developer machine (tests skip) and required in CI
(``GSOCKLAB_REQUIRE_ORACLE=1``: a missing gcc fails).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gsocklab import Gio, GLib

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sendmmsg/recvmmsg are Linux calls")

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
C_SOURCE = Path(__file__).parent / "c" / "mmsg_probe.c"
RCVBUF = 4 << 20  # as the probe's RCVBUF
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
SETTLE = 0.02  # seconds after each send, as the probe's nanosleep
FILL = 0xEE  # receive buffers are filled with it before each call
PROBE_TIMEOUT = 60  # seconds for one probe run
SEND_PREFIX, RECV_PREFIX = "Error sending message: ", "Error receiving message: "
FLAG_NAMES = {
    "peek": socket.MSG_PEEK,
    "trunc": socket.MSG_TRUNC,
    "dontwait": socket.MSG_DONTWAIT,
    "waitall": socket.MSG_WAITALL,
    "errqueue": socket.MSG_ERRQUEUE,
    "oob": socket.MSG_OOB,
}
# errno -> GIOErrorEnum for the errors these scenarios produce (reference §4.3).
ERRNO_CODES = {errno.EAGAIN: "WOULD_BLOCK", errno.EMSGSIZE: "MESSAGE_TOO_LARGE", errno.EOPNOTSUPP: "NOT_SUPPORTED"}

# (id, operations). Every scenario runs over IPv4 and IPv6.
SCENARIOS: list[tuple[str, list[str]]] = [
    # batch 1, exact fit; then nothing queued: WOULD_BLOCK (EAGAIN)
    ("batch1", ["send=13", "recv=13", "recv=13"]),
    # batch 3, different sizes in one call, room to spare
    ("batch3", ["send=5;13;64", "recv=64@3"]),
    # batch 64 (the same list received twice: the second call reuses gsocklab's native batch)
    ("batch64", ["send=100@64", "send=100@64", "recv=128@64", "recv=128@64", "recv=128@64"]),
    # batch 1024 = IOV_MAX: one call moves them all
    ("batch1024", ["send=16@1024", "recv=16@1024", "recv=16"]),
    # batch 1500 clamped to 1024 on both sides (§6.2 item 70: 1300 queued, ask 1500 -> 1024, then 276)
    ("batch1500", ["send=16@1500", "send=16@276", "recv=16@1500", "recv=16@1500", "recv=16@1500"]),
    # more asked than queued, non-blocking: the partial count; the others untouched
    ("partial", ["send=8@2", "recv=8@3", "send=8", "recv=8@3"]),
    # truncation into one vector and over several; a 1-byte datagram that fits
    ("truncation", ["send=13;64;1;20", "recv=4;16,8;1;5,5"]),
    # MSG_TRUNC as an input flag: msg_len is the real datagram length
    ("trunc_flag", ["send=13;64;0", "recv=4;8,2;1/trunc"]),
    # scatter over several vectors, zero-sized ones included, gathered on send too
    ("scatter", ["send=3,0,7,1;20;12", "recv=2,3,5,1;1,1,1,1,16;4,0,8,4"]),
    # empty datagrams: zero-vector sends and a send of zero-sized vectors
    ("empty_datagrams", ["send=0;0,0;0@2", "recv=8@2;0;0,0"]),
    # zero-vector receive messages: datagram consumed, length 0, MSG_TRUNC unless it was empty (C.01)
    ("zero_vectors", ["send=13;0;5", "recv=0@3", "recv=0"]),
    # zero-vector messages mixed with real ones in one batch
    ("zero_vectors_mixed", ["send=13@4", "recv=4;0;13;0,0"]),
    # MSG_PEEK: every message of the batch peeks the same first datagram; then a real read
    ("peek", ["send=13;5", "recv=16/peek", "recv=16@3/peek", "recv=16@3", "recv=16"]),
    # PEEK truncated, then the whole datagram (§6.2 item 66: 13 13)
    ("peek_truncated", ["send=13", "recv=4/peek", "recv=0/peek+trunc", "recv=16"]),
    # sendmmsg error after one message (EMSGSIZE): GLib's loop returns 1; error on the first: -1
    ("send_error", ["send=8;70000;8", "recv=8@3", "send=70000;8", "recv=8"]),
    # largest IPv4 UDP datagram, whole and split in two vectors
    ("max_datagram", ["send=65507@2", "recv=65507", "recv=32768,32768"]),
    # other flags passed through: MSG_DONTWAIT on send, an empty error queue (EAGAIN), MSG_OOB
    ("other_flags", ["send=8@3/dontwait", "recv=8/errqueue", "recv=8/oob", "recv=8@2/dontwait"]),
    # nothing queued at all
    ("nothing_queued", ["recv=8@4", "recv=0"]),
]


# -- the C side --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mmsg_probe``, compiled for this session; skips without gcc (fails in CI)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        if os.environ.get("GSOCKLAB_REQUIRE_ORACLE") == "1":
            pytest.fail("gcc is required for the C sendmmsg/recvmmsg oracle but missing")
        pytest.skip("gcc not available: the C sendmmsg/recvmmsg oracle is skipped")
    binary = tmp_path_factory.mktemp("mmsg_probe") / "mmsg_probe"
    done = subprocess.run([gcc, "-O2", "-Wall", "-o", str(binary), str(C_SOURCE)],
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode:
        pytest.fail(f"gcc failed on {C_SOURCE.name}:\n{done.stderr}")
    return binary


def run_c(probe: Path, family: int, ops: list[str]) -> dict[str, Any]:
    """The probe's JSON for ``ops``, errno numbers turned into the I/O error codes GLib maps them to."""
    done = subprocess.run([str(probe), str(family), *ops], capture_output=True, text=True,
                          timeout=PROBE_TIMEOUT, check=False)
    assert done.returncode == 0, f"mmsg_probe {family} {' '.join(ops)}: exit {done.returncode}: {done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    for op in result["ops"]:
        number = op.pop("errno")
        assert not number or number in ERRNO_CODES, f"errno {number} ({op['error']}) missing from ERRNO_CODES"
        op["code"] = ERRNO_CODES[number] if number else None
    return result


# -- the gsocklab side --------------------------------------------------------------------------

def parse_op(op: str) -> tuple[str, list[list[int]], int]:
    """``"recv=4,8@2;0/peek"`` -> ``("recv", [[4, 8], [4, 8], []], MSG_PEEK)``, as the probe reads it."""
    kind, _, rest = op.partition("=")
    spec, _, flag_text = rest.partition("/")
    layouts: list[list[int]] = []
    for item in spec.split(";"):
        sizes_text, _, count = item.partition("@")
        sizes = [int(size) for size in sizes_text.split(",")]
        layouts.extend([[] if sizes == [0] else sizes] * (int(count) if count else 1))
    flags = 0
    for token in flag_text.split("+") if flag_text else []:
        flags |= FLAG_NAMES[token] if token in FLAG_NAMES else int(token)
    return kind, layouts, flags


def pattern(k: int, n: int) -> bytes:
    """The probe's payload of the ``k``-th message of a run: byte ``j`` is ``(k*37 + j*11 + 5) & 0xff``."""
    return bytes((k * 37 + j * 11 + 5) & 0xFF for j in range(n))


def error_fields(exc: GLib.Error, prefix: str) -> tuple[str, str]:
    """``(code name, strerror text)``: WOULD_BLOCK's message is bare, the others carry ``prefix``."""
    code = Gio.IOErrorEnum(exc.code).name
    message = exc.message
    if code != "WOULD_BLOCK" and message.startswith(prefix):
        message = message[len(prefix):]
    return code, message


def raise_rcvbuf(sock: Any) -> None:
    try:
        sock.set_option(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except GLib.Error:
        sock.set_option(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)


def same_address(address: Any, other: Any) -> bool:
    """Whether two inet socket addresses are the same sockaddr (the probe compares the bytes)."""
    return bool(
        address.get_family() == other.get_family()
        and address.get_address().to_string() == other.get_address().to_string()
        and address.get_port() == other.get_port()
        and (address.get_family() != F.IPV6 or (address.get_flowinfo(), address.get_scope_id())
             == (other.get_flowinfo(), other.get_scope_id()))
    )


class GsocklabSide:
    """The probe's run through gsocklab; ``problems`` collects what only gsocklab can get wrong."""

    def __init__(self, family: int) -> None:
        self.family = family
        self.problems: list[str] = []
        self.next_k = 0
        self.lists: dict[str, list[Any]] = {}  # operation string -> its message list, reused

    def run(self, ops: list[str]) -> dict[str, Any]:
        fam = F.IPV4 if self.family == 4 else F.IPV6
        rx = Gio.Socket.new(fam, T.DATAGRAM, P.DEFAULT)
        tx = Gio.Socket.new(fam, T.DATAGRAM, P.DEFAULT)
        try:
            for sock in (rx, tx):
                raise_rcvbuf(sock)
                sock.bind(Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(fam), 0), False)
            rx.set_blocking(False)
            tx.set_timeout(5)  # blocking, but never for ever
            self.rx, self.tx = rx, tx
            self.rx_address, self.tx_address = rx.get_local_address(), tx.get_local_address()
            rcvbuf = rx.get_option(socket.SOL_SOCKET, socket.SO_RCVBUF)[1]
            results = [self.send(op) if op.startswith("send=") else self.receive(op) for op in ops]
        finally:
            rx.close()
            tx.close()
        return {"family": self.family, "rcvbuf": rcvbuf, "ops": results}

    def send(self, op: str) -> dict[str, Any]:
        _, layouts, flags = parse_op(op)
        messages = self.lists.get(op)
        if messages is None:
            messages = self.lists[op] = [
                Gio.OutputMessage(self.rx_address, [Gio.OutputVector(bytearray(size)) for size in sizes])
                for sizes in layouts
            ]
        for index, (message, sizes) in enumerate(zip(messages, layouts)):
            data, offset = pattern(self.next_k + index, sum(sizes)), 0
            for vector in message.vectors:  # in place: a reused list keeps its native batch
                vector.buffer[:] = data[offset:offset + vector.size]
                offset += vector.size
            message.bytes_sent = 0
        self.next_k += len(layouts)
        code = error = None
        try:
            ret = self.tx.send_messages(messages, flags)
        except GLib.Error as exc:
            ret = -1
            code, error = error_fields(exc, SEND_PREFIX)
        time.sleep(SETTLE)
        sent = max(ret, 0)
        untouched = [i for i, message in enumerate(messages[sent:], sent) if message.bytes_sent != 0]
        if untouched:
            self.problems.append(f"{op}: bytes_sent set on unsent messages {untouched[:10]}")
        return {"op": "send", "count": len(layouts), "ret": ret, "error": error, "code": code,
                "msg_len": [message.bytes_sent for message in messages[:sent]]}

    def receive(self, op: str) -> dict[str, Any]:
        _, layouts, flags = parse_op(op)
        messages = self.lists.get(op)
        if messages is None:
            messages = self.lists[op] = [
                Gio.InputMessage([Gio.InputVector(buffer=bytearray([FILL]) * size) for size in sizes])
                for sizes in layouts
            ]
        for message in messages:
            for vector in message.vectors:
                vector.buffer[:] = bytes([FILL]) * len(vector.buffer)
            message.bytes_received, message.flags, message.address = 0, 0, None
        code = error = None
        try:
            ret = self.rx.receive_messages(messages, flags)
        except GLib.Error as exc:
            ret = -1
            code, error = error_fields(exc, RECV_PREFIX)
        got = max(ret, 0)
        received = []
        for index, message in enumerate(messages[:got]):
            address = message.address
            data = [bytes(vector.buffer[:vector.size]) for vector in message.vectors]
            whole = b"".join(data)
            if message.payload != whole[:min(message.bytes_received, len(whole))]:
                self.problems.append(f"{op}: message {index}: payload {message.payload.hex()} vs vectors {whole.hex()}")
            received.append({
                "len": message.bytes_received,
                "flags": int(message.flags),
                "family": int(address.get_family()) if address is not None else 0,
                "port_nonzero": address is not None and address.get_port() != 0,
                "from_sender": address is not None and same_address(address, self.tx_address),
                "data": [chunk.hex() for chunk in data],
            })
        untouched = [i for i, message in enumerate(messages[got:], got)
                     if (message.bytes_received, message.flags, message.address) != (0, 0, None)
                     or any(vector.buffer != bytearray([FILL]) * len(vector.buffer) for vector in message.vectors)]
        if untouched:
            self.problems.append(f"{op}: messages beyond the count {got} changed: {untouched[:10]}")
        return {"op": "recv", "count": len(layouts), "ret": ret, "error": error, "code": code, "msgs": received}


# -- comparison ------------------------------------------------------------------------------------

def first_difference(c: Any, py: Any, path: str = "") -> str | None:
    """Where two JSON values first differ, for a readable failure on large batches."""
    if isinstance(c, dict) and isinstance(py, dict):
        for key in [*c, *(key for key in py if key not in c)]:  # the probe's order: counts before lists
            if key not in c or key not in py:
                return f"{path}.{key}: only on the {'C' if key in c else 'gsocklab'} side"
            found = first_difference(c[key], py[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(c, list) and isinstance(py, list):
        for index, (a, b) in enumerate(zip(c, py)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        if len(c) != len(py):
            return f"{path}: length C {len(c)} vs gsocklab {len(py)}"
        return None
    if c != py:
        if path.endswith(".flags"):
            return f"{path}: C {c:#x} vs gsocklab {py:#x}"
        if isinstance(c, str) and isinstance(py, str) and max(len(c), len(py)) > 80:
            at = next((i for i, (a, b) in enumerate(zip(c, py)) if a != b), min(len(c), len(py)))
            return (f"{path}: from hex digit {at}: C {c[at:at + 40]!r} vs gsocklab {py[at:at + 40]!r} "
                    f"(lengths {len(c)}, {len(py)})")
        return f"{path}: C {c!r} vs gsocklab {py!r}"
    return None


@pytest.mark.parametrize("family", [4, 6], ids=["ipv4", "ipv6"])
@pytest.mark.parametrize(("ops"), [ops for _, ops in SCENARIOS], ids=[name for name, _ in SCENARIOS])
def test_mmsg_matches_c(probe: Path, family: int, ops: list[str]) -> None:
    c = run_c(probe, family, ops)
    if c["rcvbuf"] < RCVBUF:  # SO_RCVBUFFORCE needs CAP_NET_ADMIN (CI runs as root); below, datagrams may drop
        message = f"SO_RCVBUF could not be raised to {RCVBUF} (got {c['rcvbuf']})"
        if os.environ.get("GSOCKLAB_REQUIRE_ORACLE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    side = GsocklabSide(family)
    py = side.run(ops)
    assert py["rcvbuf"] == c["rcvbuf"]
    difference = first_difference(c, py)
    assert difference is None, f"{' '.join(ops)} ({'IPv' + str(family)}): {difference}"
    assert not side.problems, side.problems


def test_scenarios_cover_the_brief() -> None:
    """Batches 1/3/64/1024/1500, truncation, scatter, empty datagrams, zero vectors, PEEK."""
    ops = [op for _, scenario in SCENARIOS for op in scenario]
    counts = {len(parse_op(op)[1]) for op in ops if op.startswith("recv=")}
    assert {1, 3, 64, 1024, 1500} <= counts
    assert any("peek" in op for op in ops)
    assert any(parse_op(op)[1].count([]) for op in ops if op.startswith("recv="))
    assert len(SCENARIOS) >= 12


def test_parse_op() -> None:
    assert parse_op("recv=4,8@2;0/peek+trunc") == ("recv", [[4, 8], [4, 8], []], socket.MSG_PEEK | socket.MSG_TRUNC)
    assert parse_op("send=0,0;3@1/64") == ("send", [[0, 0], [3]], 64)
    assert pattern(2, 3) == bytes([79, 90, 101])
