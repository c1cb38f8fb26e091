"""`Recorder.diagnose()`: why a socket did not receive, from what the recording shows.

Each failure is recorded with real sockets — on ``lo`` where this machine's loopback can show
it, in a `gsocklab.netlab` network where it needs several hosts (TTL, loopback, source
filters, interfaces, routes) — and ``diagnose()`` must give exactly that code and no other
finding; working exchanges give none. Scripted frames (in `TRAFFIC_SCHEMA` dtypes) check
the output's shape and the rules that need no sockets.

The lab tests run where `netlab.probe()` finds a way to build a network; elsewhere they are
skipped with the probe's reason, except with ``GSOCKLAB_REQUIRE_NETLAB=1`` where they fail.
Every receive is bounded: ``MISS`` seconds for one that should time out, at most 1 s else.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from gsocklab import Gio, GLib, netlab
from gsocklab.record import TRAFFIC_SCHEMA, Recorder
from gsocklab.record._analysis import flows
from gsocklab.record._diagnose import CODES, DIAGNOSIS_SCHEMA, diagnose

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
MISS = 0.2  # seconds a receive waits for a datagram that should not come
T0 = pd.Timestamp("2026-01-01 12:00:00", tz="UTC")
_ports = itertools.count(0)
_groups = itertools.count(1)

NETLAB = netlab.probe()
needs_netlab = pytest.mark.skipif(
    NETLAB.mode is None and os.environ.get("GSOCKLAB_REQUIRE_NETLAB") != "1",
    reason=f"no lab network on this machine: {NETLAB.reason}")


def ia(text: str) -> Gio.InetAddress:
    address = Gio.InetAddress.new_from_string(text)
    assert address is not None
    return address


def sa(host: str | Gio.InetAddress, port: int) -> Gio.InetSocketAddress:
    return Gio.InetSocketAddress.new(ia(host) if isinstance(host, str) else host, port)


def fresh_group(prefix: str = "239.255.77") -> str:
    """A group no other test of this module uses (memberships outlive nothing, but sockets may)."""
    return f"{prefix}.{next(_groups)}"


def receive(sock: Gio.Socket, timeout: float = 1.0) -> bytes | None:
    """One datagram within ``timeout`` s, or None when the receive timed out."""
    try:
        data, _ = sock.receive_bytes_from(2048, int(timeout * 1e6), None)
    except GLib.Error as error:
        if error.code != Gio.IOErrorEnum.TIMED_OUT:
            raise
        return None
    return bytes(data)


def port_of(sock: Gio.Socket) -> int:
    port: int = sock.get_local_address().get_port()
    return port


def codes(findings: pd.DataFrame) -> list[str]:
    return [str(code) for code in findings["code"]]


class Bag:
    """Sockets of one test, closed at its end."""

    def __init__(self) -> None:
        self.all: list[Gio.Socket] = []

    def add(self, sock: Gio.Socket) -> Gio.Socket:
        self.all.append(sock)
        return sock

    def lo(self) -> Gio.Socket:
        return self.add(Gio.Socket.new(F.IPV4, T.DATAGRAM, P.UDP))

    def on(self, net: Any, host: str, family: Gio.SocketFamily = F.IPV4) -> Gio.Socket:
        return self.add(net.host(host).socket(family, T.DATAGRAM, P.UDP))


@pytest.fixture
def bag() -> Iterator[Bag]:
    made = Bag()
    yield made
    for sock in made.all:
        if not sock.is_closed():
            sock.close()


def _network(build: Any) -> Iterator[Any]:
    if NETLAB.mode is None:
        pytest.fail(f"GSOCKLAB_REQUIRE_NETLAB=1 but no lab network here: {NETLAB.reason}")
    with build() as net:
        yield net


@pytest.fixture(scope="module")
def lan() -> Iterator[Any]:
    """Hosts h1, h2, h3 on LAN a."""
    yield from _network(lambda: netlab.one_lan(3))


@pytest.fixture(scope="module")
def lans() -> Iterator[Any]:
    """h1, h2 on LAN a; h3, h4 on LAN b; router r1 between."""
    yield from _network(lambda: netlab.two_lans(2, 2))


# -- on lo (this machine) --------------------------------------------------------------------------


def lo_receiver(bag: Bag, group: str | None, bind: str = "0.0.0.0", port: int = 0) -> Gio.Socket:
    sock = bag.lo()
    sock.bind(sa(bind, port), True)
    if group is not None:
        sock.join_multicast_group(ia(group), False, "lo")
    return sock


def lo_sender(bag: Bag) -> Gio.Socket:
    """Bound to 127.0.0.1: Linux sends its group datagrams out of lo."""
    sock = bag.lo()
    sock.bind(sa("127.0.0.1", 0), False)
    return sock


def test_working_exchange_on_lo_has_no_finding(bag: Bag) -> None:
    group, rec = fresh_group(), Recorder()
    with rec:
        rx1 = lo_receiver(bag, group)
        rx2 = lo_receiver(bag, group, port=port_of(rx1))
        tx = lo_sender(bag)
        for i in range(3):
            tx.send_to(sa(group, port_of(rx1)), f"#{i}".encode())
        for rx in (rx1, rx2):
            assert [receive(rx) for _ in range(3)] == [b"#0", b"#1", b"#2"]
            assert receive(rx, MISS) is None  # the loop's last read times out: no finding for it
    findings = rec.diagnose()
    assert len(findings) == 0
    assert dict(findings.dtypes) == {name: pd.Series([], dtype=dtype).dtype for name, dtype in DIAGNOSIS_SCHEMA.items()}


def test_ttl_0_and_loopback_off_on_lo_still_deliver(bag: Bag) -> None:
    group, rec = fresh_group(), Recorder()
    with rec:
        rx = lo_receiver(bag, group)
        tx = lo_sender(bag)
        tx.set_multicast_ttl(0)
        tx.set_multicast_loopback(False)
        tx.send_to(sa(group, port_of(rx)), b"on lo")
        assert receive(rx) == b"on lo"
        assert receive(rx, MISS) is None
    assert len(rec.diagnose()) == 0


def test_not_joined_on_lo(bag: Bag) -> None:
    group, rec = fresh_group(), Recorder()
    with rec:
        rx = lo_receiver(bag, None)
        tx = lo_sender(bag)
        tx.send_to(sa(group, port_of(rx)), b"members only")
        assert receive(rx, MISS) is None
    findings = rec.diagnose()
    assert codes(findings) == ["NOT_JOINED"]
    row = findings.iloc[0]
    assert row["socket"] == rx.label
    assert pd.isna(row["host"])
    assert row["seq"] == rec.df.loc[rec.df["error"] == "TIMED_OUT", "seq"].iloc[0]
    assert "no socket on this machine was a member" in row["evidence"]
    assert "join_multicast_group" in row["fix"]


def test_joined_only_after_the_send(bag: Bag) -> None:
    group, rec = fresh_group(), Recorder()
    with rec:
        rx = lo_receiver(bag, None)
        tx = lo_sender(bag)
        tx.send_to(sa(group, port_of(rx)), b"too early")
        rx.join_multicast_group(ia(group), False, "lo")
        assert receive(rx, MISS) is None
    findings = rec.diagnose()
    assert codes(findings) == ["NOT_JOINED"]
    assert "joined only at" in findings.iloc[0]["evidence"]


def test_port_mismatch_on_lo(bag: Bag) -> None:
    group, rec = fresh_group(), Recorder()
    with rec:
        rx = lo_receiver(bag, group)
        tx = lo_sender(bag)
        wrong = port_of(rx) + 1 if port_of(rx) < 65535 else port_of(rx) - 1
        tx.send_to(sa(group, wrong), b"elsewhere")
        assert receive(rx, MISS) is None
    findings = rec.diagnose()
    assert codes(findings) == ["PORT_MISMATCH"]
    assert f"port {wrong}" in findings.iloc[0]["evidence"]
    assert f"port {wrong}" in findings.iloc[0]["fix"]


def test_unicast_port_mismatch_on_lo(bag: Bag) -> None:
    rec = Recorder()
    with rec:
        rx = lo_receiver(bag, None, bind="127.0.0.1")
        nobody = lo_receiver(bag, None, bind="127.0.0.1")
        wrong = port_of(nobody)
        nobody.close()  # nobody listens there now
        tx = lo_sender(bag)
        tx.send_to(sa("127.0.0.1", wrong), b"wrong port")
        assert receive(rx, MISS) is None
    findings = rec.diagnose()
    assert codes(findings) == ["PORT_MISMATCH"]
    assert f"127.0.0.1:{wrong}" in findings.iloc[0]["evidence"]


def test_bound_to_unicast_on_lo(bag: Bag) -> None:
    group, rec = fresh_group(), Recorder()
    with rec:
        rx = lo_receiver(bag, group, bind="127.0.0.1")
        tx = lo_sender(bag)
        tx.send_to(sa(group, port_of(rx)), b"to the group")
        assert receive(rx, MISS) is None
    findings = rec.diagnose()
    assert codes(findings) == ["BOUND_TO_UNICAST"]
    assert "127.0.0.1" in findings.iloc[0]["evidence"]


def test_bound_to_another_group_on_lo(bag: Bag) -> None:
    group, other, rec = fresh_group(), fresh_group(), Recorder()
    with rec:
        rx = lo_receiver(bag, group, bind=other)
        tx = lo_sender(bag)
        tx.send_to(sa(group, port_of(rx)), b"to the joined group")
        assert receive(rx, MISS) is None
    assert codes(rec.diagnose()) == ["BOUND_TO_OTHER_GROUP"]


def test_bound_to_the_group_itself_works(bag: Bag) -> None:
    group, rec = fresh_group(), Recorder()
    with rec:
        rx = lo_receiver(bag, group, bind=group)
        tx = lo_sender(bag)
        tx.send_to(sa(group, port_of(rx)), b"exactly")
        assert receive(rx) == b"exactly"
        assert receive(rx, MISS) is None
    assert len(rec.diagnose()) == 0


def test_left_group_on_lo(bag: Bag) -> None:
    group, rec = fresh_group(), Recorder()
    with rec:
        rx = lo_receiver(bag, group)
        rx.leave_multicast_group(ia(group), False, "lo")
        tx = lo_sender(bag)
        tx.send_to(sa(group, port_of(rx)), b"after the leave")
        assert receive(rx, MISS) is None
    findings = rec.diagnose()
    assert codes(findings) == ["LEFT_GROUP"]
    assert "left it at" in findings.iloc[0]["evidence"]


def test_received_without_join_on_lo(bag: Bag) -> None:
    group, rec = fresh_group(), Recorder()
    with rec:
        member = lo_receiver(bag, group)
        bystander = lo_receiver(bag, None, port=port_of(member))
        tx = lo_sender(bag)
        tx.send_to(sa(group, port_of(member)), b"for members")
        assert receive(member) == b"for members"
        assert receive(bystander) == b"for members"  # IP_MULTICAST_ALL: the host is a member
    findings = rec.diagnose()
    assert codes(findings) == ["RECEIVED_WITHOUT_JOIN"]
    row = findings.iloc[0]
    assert row["socket"] == bystander.label
    assert member.label in row["evidence"]
    assert "set_option(0, 49, 0)" in row["fix"]


def test_source_filtered_on_lo(bag: Bag) -> None:
    group, rec = fresh_group("232.1.77"), Recorder()
    with rec:
        rx = lo_receiver(bag, None)
        rx.join_multicast_group_ssm(ia(group), ia("127.0.0.2"), "lo")
        tx = lo_sender(bag)
        tx.send_to(sa(group, port_of(rx)), b"from 127.0.0.1")
        assert receive(rx, MISS) is None
    findings = rec.diagnose()
    assert codes(findings) == ["SOURCE_FILTERED"]
    assert "127.0.0.2" in findings.iloc[0]["evidence"]
    assert "127.0.0.1" in findings.iloc[0]["evidence"]


def test_ssm_join_from_the_sender_works_and_shows_the_source(bag: Bag) -> None:
    group, rec = fresh_group("232.1.77"), Recorder()
    with rec:
        rx = lo_receiver(bag, None)
        rx.join_multicast_group_ssm(ia(group), ia("127.0.0.1"), "lo")
        tx = lo_sender(bag)
        tx.send_to(sa(group, port_of(rx)), b"from 127.0.0.1")
        assert receive(rx) == b"from 127.0.0.1"
        rx.leave_multicast_group_ssm(ia(group), ia("127.0.0.1"), "lo")
    df = rec.df
    messages = df.loc[df["op"].astype(str).str.contains("multicast_group_ssm"), "message"].tolist()
    assert messages == [f"{group}%lo from 127.0.0.1"] * 2
    assert len(rec.diagnose()) == 0


# -- in a lab network ------------------------------------------------------------------------------


def lab_receiver(bag: Bag, net: Any, host: str, group: str | None, iface: str | None = "eth0",
                 port: int = 0) -> Gio.Socket:
    sock = bag.on(net, host)
    sock.bind(sa("0.0.0.0", port), True)
    if group is not None:
        sock.join_multicast_group(ia(group), False, iface)
    return sock


@needs_netlab
def test_working_exchange_across_hosts_has_no_finding(bag: Bag, lan: Any) -> None:
    group, rec = fresh_group("239.77.0"), Recorder()
    with rec:
        near = lab_receiver(bag, lan, "h1", group)
        far = lab_receiver(bag, lan, "h2", group, port=port_of(near))
        tx = bag.on(lan, "h1")
        tx.send_to(sa(group, port_of(near)), b"hello")
        for rx in (near, far):
            assert receive(rx) == b"hello"
            assert receive(rx, MISS) is None
    assert len(rec.diagnose(network=lan)) == 0
    assert len(rec.diagnose()) == 0


@needs_netlab
def test_ttl_2_crosses_a_router(bag: Bag, lans: Any) -> None:
    group, rec = fresh_group("239.77.0"), Recorder()
    with rec:
        rx = lab_receiver(bag, lans, "h3", group)
        tx = bag.on(lans, "h1")
        tx.set_multicast_ttl(2)
        tx.send_to(sa(group, port_of(rx)), b"two hops")
        assert receive(rx) == b"two hops"
        assert receive(rx, MISS) is None
    assert len(rec.diagnose(network=lans)) == 0


@needs_netlab
def test_ttl_0_on_one_lan(bag: Bag, lan: Any) -> None:
    group, rec = fresh_group("239.77.0"), Recorder()
    with rec:
        far = lab_receiver(bag, lan, "h2", group)
        near = lab_receiver(bag, lan, "h1", group, port=port_of(far))
        tx = bag.on(lan, "h1")
        tx.set_multicast_ttl(0)
        tx.send_to(sa(group, port_of(far)), b"stays home")
        assert receive(near) == b"stays home"  # TTL 0 still loops back to the sender's host
        assert receive(far, MISS) is None
    for network in (lan, None):
        findings = rec.diagnose(network=network)
        assert codes(findings) == ["TTL_TOO_SMALL"]
        row = findings.iloc[0]
        assert row["socket"] == far.label
        assert row["host"] == "h2"
        assert "multicast TTL 0" in row["evidence"]
        assert "set_multicast_ttl(1)" in row["fix"]
    assert "hop count unknown" in rec.diagnose().iloc[0]["evidence"]
    assert "crosses 0 router" in rec.diagnose(network=lan).iloc[0]["evidence"]


@needs_netlab
def test_ttl_1_across_a_router(bag: Bag, lans: Any) -> None:
    group, rec = fresh_group("239.77.0"), Recorder()
    with rec:
        far = lab_receiver(bag, lans, "h3", group)
        same_lan = lab_receiver(bag, lans, "h2", group, port=port_of(far))
        tx = bag.on(lans, "h1")
        tx.send_to(sa(group, port_of(far)), b"TTL 1")  # the default TTL
        assert receive(same_lan) == b"TTL 1"
        assert receive(far, MISS) is None
    findings = rec.diagnose(network=lans)
    assert codes(findings) == ["TTL_TOO_SMALL"]
    assert findings.iloc[0]["host"] == "h3"
    assert "TTL 1 (the default)" in findings.iloc[0]["evidence"]
    assert "set_multicast_ttl(2)" in findings.iloc[0]["fix"]
    assert len(rec.diagnose()) == 0  # without the network, one LAN is assumed: TTL 1 is enough


@needs_netlab
def test_loopback_off_across_hosts(bag: Bag, lan: Any) -> None:
    group, rec = fresh_group("239.77.0"), Recorder()
    with rec:
        home = lab_receiver(bag, lan, "h1", group)
        away = lab_receiver(bag, lan, "h2", group, port=port_of(home))
        tx = bag.on(lan, "h1")
        tx.set_multicast_loopback(False)
        tx.send_to(sa(group, port_of(home)), b"not home")
        assert receive(away) == b"not home"
        assert receive(home, MISS) is None
    findings = rec.diagnose(network=lan)
    assert codes(findings) == ["LOOPBACK_OFF"]
    assert findings.iloc[0]["socket"] == home.label
    assert "set_multicast_loopback(True)" in findings.iloc[0]["fix"]


@needs_netlab
def test_source_filtered_across_hosts(bag: Bag, lan: Any) -> None:
    group, rec = fresh_group("232.77.0"), Recorder()
    h3 = lan.host("h3").address(F.IPV4).to_string()
    with rec:
        rx = lab_receiver(bag, lan, "h2", None)
        rx.join_multicast_group_ssm(ia(group), lan.host("h3").address(F.IPV4), "eth0")
        tx = bag.on(lan, "h1")
        tx.send_to(sa(group, port_of(rx)), b"from h1")
        assert receive(rx, MISS) is None
    findings = rec.diagnose(network=lan)
    assert codes(findings) == ["SOURCE_FILTERED"]
    evidence = findings.iloc[0]["evidence"]
    assert h3 in evidence
    assert lan.host("h1").address(F.IPV4).to_string() in evidence
    assert len(rec.diagnose()) == 0  # without the network the sender's address (bound to 0.0.0.0) is unknown


@needs_netlab
def test_wrong_interface_across_hosts(bag: Bag, lan: Any) -> None:
    group, rec = fresh_group("239.77.0"), Recorder()
    with rec:
        rx = lab_receiver(bag, lan, "h3", group, iface="lo")
        tx = bag.on(lan, "h1")
        tx.send_to(sa(group, port_of(rx)), b"on eth0")
        assert receive(rx, MISS) is None
    findings = rec.diagnose(network=lan)
    assert codes(findings) == ["WRONG_INTERFACE"]
    assert f"{group}%lo" in findings.iloc[0]["evidence"]


@needs_netlab
def test_no_multicast_route(bag: Bag, lan: Any) -> None:
    group, rec = fresh_group("239.77.0"), Recorder()
    lonely = lan.hosts.get("h9") or lan.add_host("h9", "a", routes=False)
    with rec:
        rx = bag.add(lonely.socket(F.IPV4, T.DATAGRAM, P.UDP))
        rx.bind(sa("0.0.0.0", 0), True)
        with pytest.raises(GLib.Error) as join:
            rx.join_multicast_group(ia(group), False, None)
        assert join.value.code == Gio.IOErrorEnum.NO_SUCH_DEVICE
        with pytest.raises(GLib.Error) as send:
            rx.send_to(sa(group, port_of(rx)), b"out of where?")
        assert send.value.code == Gio.IOErrorEnum.NETWORK_UNREACHABLE
        tx = bag.on(lan, "h1")
        tx.send_to(sa(group, port_of(rx)), b"for h9")
        assert receive(rx, MISS) is None  # explained by the failed join: no NOT_JOINED besides
    findings = rec.diagnose(network=lan)
    assert codes(findings) == ["NO_MULTICAST_ROUTE"]
    row = findings.iloc[0]
    assert row["host"] == "h9"
    assert row["seq"] == rec.df.loc[rec.df["error"] == "NO_SUCH_DEVICE", "seq"].iloc[0]
    assert "NETWORK_UNREACHABLE" in row["evidence"]
    assert "ip route add 224.0.0.0/4" in row["fix"]


@needs_netlab
def test_received_without_join_across_hosts(bag: Bag, lan: Any) -> None:
    """A member on the receiver's host delivers to it too (IP_MULTICAST_ALL)."""
    group, rec = fresh_group("239.77.0"), Recorder()
    with rec:
        member = lab_receiver(bag, lan, "h2", group)
        other = lab_receiver(bag, lan, "h2", None, port=port_of(member))
        tx = bag.on(lan, "h1")
        tx.send_to(sa(group, port_of(member)), b"to h2")
        assert receive(member) == b"to h2"
        assert receive(other) == b"to h2"
    findings = rec.diagnose(network=lan)
    assert codes(findings) == ["RECEIVED_WITHOUT_JOIN"]
    assert findings.iloc[0]["host"] == "h2"


@needs_netlab
def test_a_membership_on_lo_does_not_count_for_another_host(bag: Bag, lan: Any) -> None:
    """Joined on lo only, it still gets h1's datagrams through the member on eth0 beside it."""
    group, rec = fresh_group("239.77.0"), Recorder()
    with rec:
        member = lab_receiver(bag, lan, "h2", group)
        on_lo = lab_receiver(bag, lan, "h2", group, iface="lo", port=port_of(member))
        tx = bag.on(lan, "h1")
        tx.send_to(sa(group, port_of(member)), b"via eth0")
        assert receive(member) == b"via eth0"
        assert receive(on_lo) == b"via eth0"
    findings = rec.diagnose(network=lan)
    assert codes(findings) == ["RECEIVED_WITHOUT_JOIN"]
    assert findings.iloc[0]["socket"] == on_lo.label
    assert f"{group}%lo is on lo" in findings.iloc[0]["evidence"]


def test_not_joined_with_ip_multicast_all_off(bag: Bag) -> None:
    """Another socket on the host is a member, but this one turned IP_MULTICAST_ALL off (not recorded)."""
    group, rec = fresh_group(), Recorder()
    with rec:
        member = lo_receiver(bag, group)
        rx = lo_receiver(bag, None, port=port_of(member))
        rx.set_option(0, 49, 0)  # IPPROTO_IP, IP_MULTICAST_ALL
        tx = lo_sender(bag)
        tx.send_to(sa(group, port_of(member)), b"members only")
        assert receive(member) == b"members only"
        assert receive(rx, MISS) is None
    findings = rec.diagnose()
    assert codes(findings) == ["NOT_JOINED"]
    assert findings.iloc[0]["socket"] == rx.label
    assert member.label in findings.iloc[0]["evidence"]
    assert "IP_MULTICAST_ALL" in findings.iloc[0]["evidence"]


# -- scripted frames -------------------------------------------------------------------------------


def row(socket: str, op: str, at: float, host: str | None = None, **values: Any) -> dict[str, Any]:
    direction = "out" if op.startswith("send") else "in" if op.startswith("receive") else None
    return {"socket": socket, "host": host, "thread": "MainThread", "op": op, "direction": direction,
            "family": "IPV4", "type": "DATAGRAM", "elapsed": at, "time": T0 + pd.Timedelta(seconds=at),
            "duration": 1e-5, "waited": 0.0, "blocking": True, **values}


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    records = [{**r, "seq": seq} for seq, r in enumerate(rows)]
    return pd.DataFrame(records, columns=list(TRAFFIC_SCHEMA)).astype(TRAFFIC_SCHEMA)


def timed_out(socket: str, local: str, at: float, host: str | None = None) -> dict[str, Any]:
    return row(socket, "receive_from", at, host, local=local, error="TIMED_OUT", message="Socket I/O timed out",
               duration=0.2)


def sent(socket: str, local: str, peer: str, data: bytes, at: float, host: str | None = None) -> dict[str, Any]:
    return row(socket, "send_to", at, host, local=local, peer=peer, nbytes=len(data), payload=data)


class FakeNetwork:
    """What diagnose() asks of a network: hops and addresses."""

    def __init__(self, hops: dict[frozenset[str], int], addresses: dict[str, str]) -> None:
        self._hops, self._addresses = hops, addresses

    def hops(self, a: str, b: str) -> int:
        return 0 if a == b else self._hops[frozenset((a, b))]

    def host(self, name: str) -> Any:
        address = self._addresses[name]

        class Host:
            def address(self, family: Any) -> Gio.InetAddress:
                return ia(address)

        return Host()


def test_empty_and_invalid_frames() -> None:
    findings = diagnose(frame())
    assert len(findings) == 0
    assert list(findings.columns) == list(DIAGNOSIS_SCHEMA)
    assert list(findings["code"].cat.categories) == list(CODES)
    with pytest.raises(ValueError, match="missing column"):
        diagnose(pd.DataFrame({"seq": [0]}))


def test_scripted_ttl_across_a_router_uses_the_network() -> None:
    df = frame(
        row("rx", "bind", 0.0, "h3", local="0.0.0.0:5000"),
        row("rx", "join_multicast_group", 0.1, "h3", local="0.0.0.0:5000", message="239.1.1.1%eth0"),
        row("tx", "set_multicast_ttl", 0.2, "h1", local="0.0.0.0:0", message="1"),
        sent("tx", "0.0.0.0:4000", "239.1.1.1:5000", b"a", 0.3, "h1"),
        sent("tx", "0.0.0.0:4000", "239.1.1.1:5000", b"b", 0.4, "h1"),
        timed_out("rx", "0.0.0.0:5000", 0.5, "h3"),
        timed_out("rx", "0.0.0.0:5000", 0.8, "h3"),
    )
    net = FakeNetwork({frozenset(("h1", "h3")): 1}, {"h1": "10.1.0.2", "h3": "10.2.0.2"})
    findings = diagnose(df, net)
    assert codes(findings) == ["TTL_TOO_SMALL"]
    row_ = findings.iloc[0]
    assert (row_["socket"], row_["host"], row_["seq"]) == ("rx", "h3", 5)
    assert "#3" in row_["evidence"]
    assert "#4" in row_["evidence"]
    assert "set at #2" in row_["evidence"]
    assert len(diagnose(df)) == 0


def test_scripted_no_route_and_a_failed_join_named_interface() -> None:
    df = frame(
        row("rx", "join_multicast_group", 0.0, "h9", local="0.0.0.0:5000", error="NO_SUCH_DEVICE",
            message="Error joining multicast group: No such device"),
        row("rx", "join_multicast_group_ssm", 0.1, "h9", local="0.0.0.0:5000", error="NO_SUCH_DEVICE",
            message="Interface not found: No such device"),
        row("tx", "send_to", 0.2, "h9", local="0.0.0.0:4000", peer="239.1.1.1:5000",
            error="NETWORK_UNREACHABLE", message="Error sending message: Network is unreachable"),
    )
    findings = diagnose(df)
    assert codes(findings) == ["NO_MULTICAST_ROUTE", "NO_MULTICAST_ROUTE"]
    assert findings["socket"].tolist() == ["rx", "tx"]
    assert findings["seq"].tolist() == [0, 2]
    assert "#1" not in findings.iloc[0]["evidence"]  # a named interface that does not exist is not a route


def test_scripted_dedup_keeps_the_first_miss_and_lists_the_sends() -> None:
    sends = [sent("tx", "127.0.0.1:4000", "239.1.1.1:5000", bytes([i]), 0.1 * i + 0.1) for i in range(5)]
    df = frame(
        row("rx", "bind", 0.0, local="0.0.0.0:5000"),
        *sends,
        timed_out("rx", "0.0.0.0:5000", 1.0),
        timed_out("rx", "0.0.0.0:5000", 1.3),
    )
    findings = diagnose(df)
    assert codes(findings) == ["NOT_JOINED"]
    assert findings.iloc[0]["seq"] == 6
    assert "#1, #2, #3 and 2 more" in findings.iloc[0]["evidence"]


def test_scripted_sends_after_the_last_receive_are_not_missed() -> None:
    df = frame(
        row("rx", "bind", 0.0, local="0.0.0.0:5000"),
        timed_out("rx", "0.0.0.0:5000", 0.1),
        sent("tx", "127.0.0.1:4000", "239.1.1.1:5000", b"late", 1.0),
    )
    assert len(diagnose(df)) == 0


def test_scripted_unrelated_receiver_is_not_blamed() -> None:
    """A socket that neither joined the group nor used its port is not blamed when another socket did."""
    df = frame(
        row("rx", "join_multicast_group", 0.0, local="0.0.0.0:5000", message="239.1.1.1%lo"),
        row("other", "bind", 0.0, local="0.0.0.0:6000"),
        sent("tx", "127.0.0.1:4000", "239.1.1.1:5000", b"x", 0.1),
        row("rx", "receive_from", 0.2, local="0.0.0.0:5000", peer="127.0.0.1:4000", nbytes=1, payload=b"x"),
        timed_out("other", "0.0.0.0:6000", 0.3),
    )
    assert len(diagnose(df)) == 0


def test_flows_match_loopback_addresses_within_a_host_only() -> None:
    """Two lab hosts each have a 127.0.0.1: a datagram to it stays on the sender's host."""
    df = frame(
        sent("tx", "127.0.0.1:4000", "127.0.0.1:5000", b"mine", 0.1, "h1"),
        row("rx2", "receive_from", 0.2, "h2", local="127.0.0.1:5000", peer="127.0.0.1:4000", nbytes=4,
            payload=b"mine"),
        row("rx1", "receive_from", 0.3, "h1", local="0.0.0.0:5000", peer="127.0.0.1:4000", nbytes=4,
            payload=b"mine"),
    )
    matched = flows(df)
    assert matched[["send_seq", "receive_seq", "receiver"]].values.tolist() == [[0, 2, "rx1"]]


def test_scripted_condition_wait_that_timed_out_is_a_missed_receive() -> None:
    df = frame(
        row("rx", "bind", 0.0, local="0.0.0.0:5000"),
        row("rx", "join_multicast_group", 0.05, local="0.0.0.0:5000", message="239.1.1.1%lo"),
        row("rx", "leave_multicast_group", 0.06, local="0.0.0.0:5000", message="239.1.1.1%lo"),
        sent("tx", "127.0.0.1:4000", "239.1.1.1:5000", b"x", 0.1),
        row("rx", "condition_timed_wait", 0.2, local="0.0.0.0:5000", condition="IN", error="TIMED_OUT",
            message="Socket I/O timed out", duration=0.2),
    )
    findings = diagnose(df)
    assert codes(findings) == ["LEFT_GROUP"]
    assert findings.iloc[0]["seq"] == 4


def test_scripted_ssm_sources_follow_joins_and_leaves() -> None:
    """Two SSM sources, then one left: a datagram from the one left is filtered."""
    df = frame(
        row("rx", "bind", 0.0, local="0.0.0.0:5000"),
        row("rx", "join_multicast_group_ssm", 0.1, local="0.0.0.0:5000", message="232.1.1.1%lo from 127.0.0.2"),
        row("rx", "join_multicast_group_ssm", 0.2, local="0.0.0.0:5000", message="232.1.1.1%lo from 127.0.0.1"),
        sent("tx", "127.0.0.1:4000", "232.1.1.1:5000", b"in", 0.3),
        row("rx", "receive_from", 0.4, local="0.0.0.0:5000", peer="127.0.0.1:4000", nbytes=2, payload=b"in"),
        row("rx", "leave_multicast_group_ssm", 0.5, local="0.0.0.0:5000", message="232.1.1.1%lo from 127.0.0.1"),
        sent("tx", "127.0.0.1:4000", "232.1.1.1:5000", b"out", 0.6),
        timed_out("rx", "0.0.0.0:5000", 0.7),
    )
    findings = diagnose(df)
    assert codes(findings) == ["SOURCE_FILTERED"]
    assert "only for source(s) 127.0.0.2" in findings.iloc[0]["evidence"]
    assert "send #6" in findings.iloc[0]["evidence"]
