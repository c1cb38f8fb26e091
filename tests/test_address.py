"""Unit and property tests of ``gsocklab.core._address`` (reference §5.2-§5.5, §6.1 rows 13 and 37-46).

gsocklab targets GLib HEAD. Tests of behaviour that GLib 2.74 does not have say
"GLib 2.74 differs" (reference §0.1); ``tests/test_address_oracle.py`` checks the rest
against the real library.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gsocklab import GLib
from gsocklab.core._address import (
    PREDICATES,
    InetAddress,
    InetSocketAddress,
    SocketAddress,
    UnixSocketAddress,
    address_from_sockaddr,
)
from gsocklab.core._enums import IOErrorEnum, SocketFamily, UnixSocketAddressType

F = SocketFamily
UT = UnixSocketAddressType
IA, ISA, USA = InetAddress, InetSocketAddress, UnixSocketAddress

v4_bytes = st.binary(min_size=4, max_size=4)
v6_bytes = st.binary(min_size=16, max_size=16)
uint32 = st.integers(0, 0xFFFFFFFF)
ports = st.integers(0, 0xFFFF)


def flags(a: InetAddress) -> list[str]:
    return [name for name in PREDICATES if getattr(a, f"get_is_{name}")()]


def parse(text: str) -> InetAddress:
    a = IA.new_from_string(text)
    assert a is not None, text
    return a


def invalid_argument(exc: pytest.ExceptionInfo[BaseException]) -> bool:
    err = exc.value
    return isinstance(err, GLib.Error) and err.code == IOErrorEnum.INVALID_ARGUMENT and bool(err.message)


# ---- InetAddress: parsing (§5.2, §6.1 row 37, §6.2 item 82) ------------------------------------------


ROW37_OK = [
    "0:0:0:0:0:0:0:0", "1:0:0:0:0:0:0:8", "0:0:0:0:0:FFFF:204.152.189.116", "::1", "::",
    "::FFFF:204.152.189.116", "204.152.189.116",
    "::1%0",  # GLib 2.74 differs: NULL (inet_pton only); HEAD's /inet-address/parse requires it
]
ROW37_NULL = [
    "::1::2", "2001:1:2:3:4:5:6:7]", "[2001:1:2:3:4:5:6:7", "[2001:1:2:3:4:5:6:7]",
    "[2001:1:2:3:4:5:6:7]:80", "0:1:2:3:4:5:6:7:8:9", "::FFFFFFF", "204.152.189.116:80",
]
ITEM82_NULL = ["1.2.3", "01.2.3.4", "127.1", "0x7f.0.0.1", " 1.2.3.4", "1.2.3.4 ", "[::1]", "256.1.1.1",
               "2001:db8::1/64", "localhost", "", "fe80::1%nonexist", "1.2.3.4%1", "\uff11.2.3.4"]


@pytest.mark.parametrize("text", ROW37_OK)
def test_row37_parses(text: str) -> None:
    a = parse(text)
    assert a.get_family() == (F.IPV6 if ":" in text else F.IPV4)


@pytest.mark.parametrize("text", ROW37_NULL + ITEM82_NULL)
def test_row37_and_item82_do_not_parse(text: str) -> None:
    assert IA.new_from_string(text) is None


def test_parse_normalises_and_keeps_v4_mapped_ipv6() -> None:
    assert parse("FF02::1").to_string() == "ff02::1"
    assert parse("0:0:0:0:0:FFFF:204.152.189.116").to_string() == "::ffff:204.152.189.116"
    mapped = parse("::ffff:1.2.3.4")
    assert (mapped.get_family(), mapped.get_native_size()) == (F.IPV6, 16)
    assert parse("1.2.3.4\0junk").to_string() == "1.2.3.4"  # C sees the string up to its NUL


def test_parse_scope_ids_head() -> None:
    """GLib 2.74 differs: ``%scope`` is never accepted there (§0.1, E18)."""
    lo = socket.if_nametoindex("lo")
    assert parse("fe80::1%lo").get_scope_id() == lo
    assert parse("fe80::1%lo").to_string() == "fe80::1"  # no scope suffix
    assert parse("fe80::1%7").get_scope_id() == 7
    assert parse("::1%0").get_scope_id() == 0
    assert parse("::1%4294967295").get_scope_id() == 0xFFFFFFFF
    assert parse("fe80::1%1").get_flowinfo() == 0
    for bad in ("::1%lo", "::1%", "::1%-1", "::1%4294967296", "::1%1%2"):  # names only for link-local
        assert IA.new_from_string(bad) is None, bad


def test_new_from_string_argument_types() -> None:
    for bad in (5, b"1.2.3.4", None):
        with pytest.raises(TypeError, match="string"):
            IA.new_from_string(bad)  # type: ignore[arg-type]


# ---- InetAddress: constructors, predicates, equality (§6.1 rows 38-41, E18) ----------------------------


@pytest.mark.parametrize(("family", "text", "size"), [(F.IPV4, "0.0.0.0", 4), (F.IPV6, "::", 16)])
def test_row38_any(family: SocketFamily, text: str, size: int) -> None:
    a = IA.new_any(family)
    assert (a.to_string(), a.get_family(), a.get_native_size()) == (text, family, size)
    assert flags(a) == ["any"]


def test_row39_loopback() -> None:
    assert parse("::1").get_is_loopback()
    assert parse("::1").get_family() == F.IPV6
    assert parse("127.0.0.0").get_is_loopback()
    assert parse("127.0.0.0").get_family() == F.IPV4
    assert IA.new_loopback(F.IPV4).to_string() == "127.0.0.1"
    assert IA.new_loopback(int(F.IPV6)).to_string() == "::1"


def test_row40_bytes() -> None:
    for text in ("10.0.0.1", "fe80::1", "::ffff:1.2.3.4"):
        a = parse(text)
        assert IA.new_from_bytes(a.to_bytes(), a.get_family()).equal(a)
        assert IA.new_from_bytes(list(a.to_bytes()), a.get_family()) == a
    assert not parse("10.0.0.1").equal(parse("10.0.0.2"))
    assert IA.new_from_bytes(bytes([10, 0, 0, 1]), F.IPV4).to_string() == "10.0.0.1"


def test_row41_property() -> None:
    a = parse("ff85::")
    assert a.props.family == F.IPV6
    assert flags(a) == ["multicast", "mc_site_local"]
    assert [n for n in PREDICATES if a.get_property("is-" + n.replace("_", "-"))] == flags(a)


E18_FLAGS = {
    "0.0.0.0": ["any"], "127.5.5.5": ["loopback"], "169.254.1.1": ["link_local"], "10.1.1.1": ["site_local"],
    "172.16.0.1": ["site_local"], "172.32.0.1": [], "192.168.1.1": ["site_local"], "224.0.0.1": ["multicast"],
    "239.1.1.1": ["multicast"], "255.255.255.255": [], "::": ["any"], "::1": ["loopback"],
    "fe80::1": ["link_local"], "fec0::1": ["site_local"], "ff01::1": ["multicast", "mc_node_local"],
    "ff02::1": ["multicast", "mc_link_local"], "ff05::1": ["multicast", "mc_site_local"],
    "ff08::1": ["multicast", "mc_org_local"], "ff0e::1": ["multicast", "mc_global"],
    "ff12::1": ["multicast", "mc_link_local"], "::ffff:127.0.0.1": [], "fc00::1": [],
}


@pytest.mark.parametrize(("text", "expected"), E18_FLAGS.items())
def test_e18_predicates(text: str, expected: list[str]) -> None:
    assert flags(parse(text)) == expected


def test_equal_ignores_scope_and_flowinfo_but_not_family() -> None:
    a = IA.new_from_bytes_with_ipv6_info(parse("fe80::1").to_bytes(), F.IPV6, 5, 9)
    assert (a.get_flowinfo(), a.get_scope_id()) == (5, 9)
    assert a.equal(parse("fe80::1"))
    assert a == parse("fe80::1")
    assert hash(a) == hash(parse("fe80::1"))
    assert not parse("127.0.0.1").equal(parse("::ffff:127.0.0.1"))
    assert parse("127.0.0.1") != "127.0.0.1"
    v4 = IA.new_from_bytes_with_ipv6_info(b"\1\2\3\4", F.IPV4, 5, 9)
    assert (v4.get_flowinfo(), v4.get_scope_id()) == (0, 0)  # IPv6 only
    with pytest.raises(TypeError, match="other_address"):
        a.equal("fe80::1")  # type: ignore[arg-type]


def test_inet_address_python_protocol_and_props() -> None:
    a = parse("127.0.0.1")
    assert repr(a) == "<Gio.InetAddress 127.0.0.1>"
    assert str(a) == "127.0.0.1"
    assert a.props.bytes == b"\x7f\0\0\1"
    assert a.props.is_loopback
    assert not a.props.is_any
    assert a.get_property("scope-id") == 0
    assert a.props.flowinfo == 0
    assert IA.list_property_names()[:3] == ["family", "bytes", "is-any"]
    assert IA.list_property_names()[-2:] == ["flowinfo", "scope-id"]
    with pytest.raises(TypeError, match="not writable"):
        a.props.family = F.IPV6
    b = IA(family=F.IPV6, bytes=bytes(15) + b"\1", scope_id=3)
    assert (b.to_string(), b.get_scope_id()) == ("::1", 3)


def test_inet_address_bad_families_and_lengths_raise() -> None:
    """GLib would log a CRITICAL and return NULL (or read past the buffer); gsocklab raises."""
    calls: list[Callable[[], object]] = [
        lambda: IA.new_any(F.UNIX),
        lambda: IA.new_loopback(F.UNIX),
        lambda: IA.new_loopback(F.INVALID),
        lambda: IA.new_any(99),
        lambda: IA.new_from_bytes(b"\1\2\3\4", F.UNIX),
        lambda: IA.new_from_bytes(b"\1\2", F.IPV4),
        lambda: IA.new_from_bytes(b"\1\2\3\4", F.IPV6),
        lambda: IA(family=F.IPV4, bytes=bytes(16)),
    ]
    for call in calls:
        with pytest.raises(GLib.Error) as exc:
            call()
        assert invalid_argument(exc)
    with pytest.raises(GLib.Error, match="UnixSocketAddress"):
        IA.new_loopback(F.UNIX)
    with pytest.raises(TypeError, match="family"):
        IA.new_any("ipv4")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bytes"):
        IA.new_from_bytes("1234", F.IPV4)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        IA.new_from_bytes([1, 2, 3, 256], F.IPV4)
    with pytest.raises(OverflowError, match="scope_id"):
        IA.new_from_bytes_with_ipv6_info(bytes(16), F.IPV6, 0, 2**32)


# ---- InetAddress: properties (hypothesis) -----------------------------------------------------------


@given(v4_bytes)
@example(bytes([204, 152, 189, 116]))  # row 37
@example(bytes(4))  # row 38
@example(bytes([127, 0, 0, 0]))  # row 39
def test_ipv4_round_trip_and_predicates_match_ipaddress(raw: bytes) -> None:
    a = IA.new_from_bytes(raw, F.IPV4)
    ip = ipaddress.IPv4Address(raw)
    assert a.to_string() == str(ip) == socket.inet_ntoa(raw)
    assert parse(a.to_string()) == a
    assert a.to_bytes() == raw
    assert a.get_native_size() == 4
    assert a.get_is_any() == ip.is_unspecified
    assert a.get_is_loopback() == ip.is_loopback
    assert a.get_is_link_local() == ip.is_link_local
    assert a.get_is_multicast() == ip.is_multicast
    site = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")  # narrower than ipaddress.is_private
    assert a.get_is_site_local() == any(ip in ipaddress.ip_network(n) for n in site)
    assert not any(getattr(a, f"get_is_{n}")() for n in PREDICATES if n.startswith("mc_"))


@given(v6_bytes)
@example(bytes(15) + b"\1")  # row 37 "::1", row 39
@example(bytes(16))  # row 38
@example(bytes(10) + b"\xff\xff" + bytes([204, 152, 189, 116]))  # row 37 "::FFFF:204.152.189.116"
@example(bytes([0, 1] + [0] * 12 + [0, 8]))  # row 37 "1:0:0:0:0:0:0:8"
@example(b"\xff\x85" + bytes(14))  # row 41
@example(bytes(10) + b"\xff\xff\x7f\0\0\1")  # "::ffff:127.0.0.1" is not loopback (E18)
def test_ipv6_round_trip_and_predicates_match_ipaddress(raw: bytes) -> None:
    a = IA.new_from_bytes(raw, F.IPV6)
    ip = ipaddress.IPv6Address(raw)
    assert ipaddress.IPv6Address(a.to_string()) == ip
    assert "%" not in a.to_string()
    assert a.to_string() == a.to_string().lower()
    assert parse(a.to_string()) == a
    assert a.get_native_size() == 16
    assert a.get_is_any() == ip.is_unspecified
    assert a.get_is_loopback() == (raw == bytes(15) + b"\1")  # ipaddress calls ::ffff:127.0.0.1 loopback
    assert a.get_is_link_local() == ip.is_link_local
    assert a.get_is_site_local() == ip.is_site_local
    assert a.get_is_multicast() == ip.is_multicast
    scope = raw[1] & 0xF if raw[0] == 0xFF else None
    expected = {"mc_node_local": 1, "mc_link_local": 2, "mc_site_local": 5, "mc_org_local": 8, "mc_global": 14}
    for name, value in expected.items():
        assert getattr(a, f"get_is_{name}")() == (scope == value)


@given(st.text(max_size=50))
@example("::1%0")
@example("[2001:1:2:3:4:5:6:7]:80")
@example("0:1:2:3:4:5:6:7:8:9")
@example("204.152.189.116:80")
def test_any_text_parses_to_a_stable_address_or_none(text: str) -> None:
    a = IA.new_from_string(text)
    if a is not None:
        assert parse(a.to_string()) == a
        assert a.get_family() == (F.IPV6 if ":" in text.partition("\0")[0] else F.IPV4)


# ---- InetSocketAddress (§5.3, §6.1 rows 13, 42-43, §6.2 item 83) ------------------------------------


def test_row42_basic() -> None:
    address = parse("::ffff:125.1.15.5")
    a = ISA.new(address, 308)
    assert a.get_address().equal(address)
    assert (a.get_port(), a.get_flowinfo(), a.get_scope_id(), a.get_family()) == (308, 0, 0, F.IPV6)
    b = ISA(address=address, port=308, flowinfo=10, scope_id=25)
    assert (b.get_flowinfo(), b.get_scope_id()) == (10, 25)
    assert (b.props.flowinfo, b.props.scope_id, b.props.port, b.props.family) == (10, 25, 308, F.IPV6)
    assert b.props.address is address


@pytest.mark.parametrize(
    ("address", "port", "kwargs", "expected"),
    [
        ("123.1.123.1", 80, {}, "123.1.123.1:80"),
        ("fe80::80", 80, {}, "[fe80::80]:80"),
        ("fe80::80", 0, {}, "fe80::80"),
        ("::1", 123, {"scope_id": 25}, "[::1%25]:123"),
        ("127.0.0.1", 0, {}, "127.0.0.1"),
        ("fe80::1", 0, {"scope_id": 3}, "fe80::1%3"),
        ("fe80::1", 1, {"flowinfo": 7, "scope_id": 3}, "[fe80::1%3]:1"),
    ],
)
def test_row43_to_string(address: str, port: int, kwargs: dict[str, int], expected: str) -> None:
    a = ISA(address=parse(address), port=port, **kwargs)
    assert a.to_string() == str(a) == expected


def test_item83_new_from_string() -> None:
    a = ISA.new_from_string("fe80::1%lo", 5)
    assert a is not None
    assert a.to_string() == "[fe80::1%1]:5"
    assert a.get_scope_id() == 1
    b = ISA.new_from_string("127.0.0.1", 0)
    assert b is not None
    assert b.to_string() == "127.0.0.1"
    assert b.get_native_size() == 16
    assert ISA.new_from_string("1.2.3", 1) is None
    assert ISA.new_from_string("localhost", 1) is None
    for text in ("1.2.3.4", "::1"):
        c = ISA.new_from_string(text, 70000)
        assert c is not None
        assert c.get_port() == 4464
    with pytest.raises(OverflowError):
        ISA.new_from_string("1.2.3.4", -1)
    with pytest.raises(OverflowError):
        ISA.new_from_string("1.2.3.4", 2**32)
    with pytest.raises(TypeError, match="address"):
        ISA.new_from_string(b"1.2.3.4", 1)  # type: ignore[arg-type]


def test_item83_v4_mapped_stays_ipv6_head() -> None:
    """GLib 2.74 differs: ``new_from_string('::ffff:1.2.3.4', 9)`` is IPv4 ``1.2.3.4:9`` there (E18)."""
    a = ISA.new_from_string("::ffff:1.2.3.4", 9)
    assert a is not None
    assert (a.get_family(), a.to_string(), a.get_native_size()) == (F.IPV6, "[::ffff:1.2.3.4]:9", 28)


def test_scope_and_flowinfo_fall_back_to_the_address_head() -> None:
    """GLib 2.74 differs: ``InetAddress`` has no scope there, so nothing to fall back to."""
    inner = IA.new_from_bytes_with_ipv6_info(parse("fe80::1").to_bytes(), F.IPV6, 11, 4)
    a = ISA.new(inner, 7)
    assert (a.get_flowinfo(), a.get_scope_id(), a.to_string()) == (11, 4, "[fe80::1%4]:7")
    b = ISA(address=inner, port=7, scope_id=9)
    assert (b.get_flowinfo(), b.get_scope_id()) == (11, 9)
    assert b._sockaddr == ("fe80::1", 7, 11, 9)


def test_inet_socket_address_argument_errors() -> None:
    v4 = IA.new_loopback(F.IPV4)
    assert ISA.new(v4, 65535).get_port() == 65535
    for port in (70000, -1, 65536):
        with pytest.raises(OverflowError, match="0 to 65535"):
            ISA.new(v4, port)
        with pytest.raises(OverflowError):
            ISA(address=v4, port=port)  # GObject would only warn and store 0
    with pytest.raises(TypeError, match="address"):
        ISA.new(None, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="address"):
        ISA(port=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="port"):
        ISA.new(v4, "80")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="port"):
        ISA.new(v4, True)
    with pytest.raises(OverflowError, match="flowinfo"):
        ISA(address=v4, flowinfo=2**32)


def test_inet_socket_address_ipv4_has_no_ipv6_fields() -> None:
    a = ISA(address=IA.new_loopback(F.IPV4), port=1, flowinfo=7, scope_id=3)
    assert (a.get_flowinfo(), a.get_scope_id(), a.props.flowinfo) == (0, 0, 0)  # GLib: CRITICAL + 0
    assert a == ISA.new(IA.new_loopback(F.IPV4), 1)
    assert a._sockaddr == ("127.0.0.1", 1)


def test_inet_socket_address_python_protocol() -> None:
    a = ISA.new(IA.new_loopback(F.IPV4), 5000)
    assert repr(a) == "<Gio.InetSocketAddress 127.0.0.1:5000>"
    assert repr(ISA.new(IA.new_loopback(F.IPV6), 0)) == "<Gio.InetSocketAddress [::1]:0>"
    assert a == ISA.new_from_string("127.0.0.1", 5000)
    assert hash(a) == hash(ISA.new_from_string("127.0.0.1", 5000))
    assert a != ISA.new(IA.new_loopback(F.IPV4), 5001)
    v6 = IA.new_loopback(F.IPV6)
    assert ISA(address=v6, port=1, scope_id=2) != ISA(address=v6, port=1)
    assert ISA(address=v6, port=1, flowinfo=2) != ISA(address=v6, port=1)
    assert ISA.list_property_names() == ["family", "address", "port", "flowinfo", "scope-id"]
    with pytest.raises(TypeError, match="not writable"):
        a.set_property("port", 1)
    with pytest.raises(TypeError, match="abstract"):
        SocketAddress()


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (ISA.new_from_string("1.2.3.4", 80), "1.2.3.4:80"),
        (ISA.new_from_string("127.0.0.1", 0), "127.0.0.1:0"),
        (ISA.new_from_string("::1", 0), "[::1]:0"),
        (ISA.new_from_string("fe80::1%2", 5), "[fe80::1%2]:5"),
        (USA.new("/tmp/x"), "(GUnixSocketAddress)"),
    ],
)
def test_error_string(address: SocketAddress, expected: str) -> None:
    """GSocket's ``address_to_string``: always a port, IPv6 always bracketed (§2.4 bind)."""
    assert address._error_string() == expected


def test_row13_sockaddr_in6_round_trip() -> None:
    a = address_from_sockaddr(socket.AF_INET6, ("::1", 42, 1729, 17))
    assert isinstance(a, ISA)
    assert a.get_address().get_is_loopback()
    assert a.get_family() == F.IPV6
    assert (a.get_port(), a.get_scope_id(), a.get_flowinfo()) == (42, 17, 1729)
    assert (a.get_address().get_scope_id(), a.get_address().get_flowinfo()) == (17, 1729)  # HEAD: on the address
    assert a._sockaddr == ("::1", 42, 1729, 17)


def test_address_from_sockaddr_inet() -> None:
    a = address_from_sockaddr(socket.AF_INET, ("127.0.0.1", 5000))
    assert a == ISA.new(IA.new_loopback(F.IPV4), 5000)
    assert a is not None
    assert a._sockaddr == ("127.0.0.1", 5000)
    mapped = address_from_sockaddr(socket.AF_INET6, ("::ffff:1.2.3.4", 9, 0, 0))
    assert isinstance(mapped, ISA)
    assert (mapped.get_family(), mapped.to_string(), mapped._sockaddr) == (F.IPV4, "1.2.3.4:9", ("1.2.3.4", 9))
    upper = address_from_sockaddr(socket.AF_INET6, ("FE80:0::1", 9, 0, 0))
    assert upper is not None
    assert (upper.to_string(), upper._sockaddr) == ("[fe80::1]:9", ("fe80::1", 9, 0, 0))
    scoped = address_from_sockaddr(socket.AF_INET6, ("fe80::1%lo", 9, 0, 1))
    assert scoped is not None
    assert scoped._sockaddr == ("fe80::1", 9, 0, 1)
    assert address_from_sockaddr(socket.AF_INET, None) is None
    assert address_from_sockaddr(socket.AF_PACKET, ("lo", 0, 0, 0, b"")) is None


@given(v6_bytes, ports, uint32, uint32)
@example(bytes(15) + b"\1", 42, 1729, 17)  # row 13
@example(bytes(10) + b"\xff\xff" + bytes([125, 1, 15, 5]), 308, 10, 25)  # row 42
def test_inet_sockaddr_round_trip(raw: bytes, port: int, flowinfo: int, scope_id: int) -> None:
    a = ISA(address=IA.new_from_bytes(raw, F.IPV6), port=port, flowinfo=flowinfo, scope_id=scope_id)
    assert a._sockaddr == (a.get_address().to_string(), port, flowinfo, scope_id)
    back = address_from_sockaddr(socket.AF_INET6, a._sockaddr)
    assert isinstance(back, ISA)
    if raw[:12] == bytes(10) + b"\xff\xff":  # v4-mapped: IPv4, same port (§5.4)
        assert back == ISA.new(IA.new_from_bytes(raw[12:], F.IPV4), port)
    else:
        assert back == a
        assert back._sockaddr == a._sockaddr
        assert back.to_string() == a.to_string()


@given(v4_bytes, ports)
def test_inet4_sockaddr_round_trip(raw: bytes, port: int) -> None:
    a = ISA.new(IA.new_from_bytes(raw, F.IPV4), port)
    assert a._sockaddr == (socket.inet_ntoa(raw), port)
    assert address_from_sockaddr(socket.AF_INET, a._sockaddr) == a


@given(v6_bytes, uint32)
@example(bytes(15) + b"\1", 25)  # row 43 "[::1%25]:123"
def test_port_zero_to_string_parses_back(raw: bytes, scope_id: int) -> None:
    """``to_string()`` without a port is ``addr%scope``, which ``new_from_string`` accepts (HEAD)."""
    a = ISA(address=IA.new_from_bytes(raw, F.IPV6), port=0, scope_id=scope_id)
    assert ISA.new_from_string(a.to_string(), 0) == a


# ---- UnixSocketAddress (§5.5, §6.1 rows 36, 45-46, §6.2 item 84, E08) ---------------------------------


def test_item84_and_e08() -> None:
    a = USA.new("/tmp/x")
    assert (a.get_address_type(), a.get_path(), a.get_path_len(), a.get_native_size()) == (UT.PATH, "/tmp/x", 6, 110)
    assert (a.get_family(), a.to_string(), a._sockaddr) == (F.UNIX, "/tmp/x", "/tmp/x")
    b = USA.new_with_type(b"abc", UT.ABSTRACT)
    assert (b.get_path(), b.get_path_len(), b.get_native_size(), b._sockaddr) == ("abc", 3, 6, b"\0abc")
    c = USA.new_with_type(b"zzz", UT.ANONYMOUS)
    assert (c.get_path(), c.get_path_len(), c.get_native_size(), c.to_string(), c._sockaddr) == (
        "", 0, 2, "anonymous", "")
    d = USA.new("x" * 200)
    assert d.get_path_len() == 107
    assert d.get_native_size() == 110
    e = USA.new_with_type(b"ab\0c", UT.ABSTRACT)
    assert (e.get_path(), e.get_path_len(), e.get_native_size(), e.to_string()) == ("ab", 4, 7, "ab\\x00c")
    p = USA.new_with_type(b"abc", UT.ABSTRACT_PADDED)
    assert (p.get_path_len(), p.get_native_size(), p.to_string()) == (3, 110, "abc")
    assert p._sockaddr == b"\0abc" + bytes(104)
    assert len(p._sockaddr) == 108
    assert USA.abstract_names_supported() is True


def test_row45_construct() -> None:
    P, A, AP, AN = UT.PATH, UT.ABSTRACT, UT.ABSTRACT_PADDED, UT.ANONYMOUS
    assert USA(path="/tmp/s").get_address_type() == P
    assert USA(path="/tmp/s", abstract=False).get_address_type() == P
    assert USA(path="/tmp/s", address_type=P).get_address_type() == P
    assert USA(path="/tmp/s", abstract=True).get_address_type() == AP
    assert USA(path="/tmp/s", abstract=True, address_type=P).get_address_type() == AP  # PATH is ignored
    assert USA(path="/tmp/s", address_type=AN).get_address_type() == AN
    assert USA(path="/tmp/s", abstract=False, address_type=AN).get_address_type() == AN
    assert USA(path="/tmp/s", abstract=True, address_type=AN).get_address_type() == AN
    assert USA(path="/tmp/s", address_type=A).get_address_type() == A
    anon = USA(path="/tmp/s", address_type=AN)
    assert (anon.get_path_len(), anon.get_native_size(), anon.to_string(), anon._sockaddr) == (
        6, 2, "anonymous", "")  # GLib keeps the name
    assert USA(address_type=AN).get_path_len() == 0  # GLib: (gsize) -1
    assert USA(path="/a", path_as_array=b"/bb").get_path() == "/bb"  # path-as-array is applied last
    assert USA(path_as_array=[47, -1]).props.path_as_array == b"/\xff"


def test_row46_to_string() -> None:
    assert USA.new("/some/path").to_string() == "/some/path"
    assert USA.new_with_type(b"", UT.ANONYMOUS).to_string() == "anonymous"
    name = b"abstract-path\0\xe2\x9c\x8b"
    assert len(name) == 17
    for kind in (UT.ABSTRACT, UT.ABSTRACT_PADDED):
        assert USA.new_with_type(name, kind).to_string() == "abstract-path\\x00\\xe2\\x9c\\x8b"
    assert USA.new_with_type("abstract-path\0\u270b", UT.ABSTRACT).to_string() == "abstract-path\\x00\\xe2\\x9c\\x8b"


def test_row36_anonymous_from_socketpair() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        a = address_from_sockaddr(socket.AF_UNIX, left.getsockname())
    assert isinstance(a, USA)
    assert (a.get_address_type(), a.get_path_len(), a.get_path(), a.props.abstract) == (UT.ANONYMOUS, 0, "", False)


def test_unix_with_type_variants_and_errors() -> None:
    assert USA.new_with_type(b"abcdef", UT.ABSTRACT, 3).get_path() == "abc"
    assert USA.new_with_type(bytearray(b"ab"), UT.ABSTRACT).get_path_len() == 2
    assert USA.new_with_type(b"x" * 200, UT.ABSTRACT).get_native_size() == 110
    assert USA.new_with_type(b"x" * 200, UT.ABSTRACT_PADDED).get_path_len() == 107
    invalid = USA.new_with_type(b"abc", UT.INVALID)  # GLib accepts it: zero-filled native address
    assert (invalid.get_native_size(), invalid.to_string(), invalid._sockaddr) == (110, "abc", bytes(108))
    assert USA.new("")._sockaddr == bytes(108)  # GLib passes 110 zero bytes, as sockaddr_un
    with pytest.raises(GLib.Error) as exc:
        USA.new_with_type(b"abc", 99)
    assert invalid_argument(exc)
    with pytest.raises(GLib.Error) as exc:
        USA.new_with_type(b"abc", UT.ABSTRACT, 4)
    assert invalid_argument(exc)
    with pytest.raises(TypeError, match="type"):
        USA.new_with_type(b"abc", "abstract")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="path"):
        USA.new(5)  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        USA.new_with_type([300], UT.ABSTRACT)


def test_unix_deprecated_api_warns() -> None:
    with pytest.deprecated_call():
        a = USA.new_abstract(b"abc")
    assert a.get_address_type() == UT.ABSTRACT_PADDED
    with pytest.deprecated_call():
        assert a.get_is_abstract() is True
    assert a.props.abstract is True
    assert USA.new("/x").props.abstract is False


def test_unix_python_protocol_and_props() -> None:
    a = USA.new("/tmp/x")
    assert repr(a) == "<Gio.UnixSocketAddress path /tmp/x>"
    assert str(a) == "/tmp/x"
    assert repr(USA.new_with_type(b"", UT.ANONYMOUS)) == "<Gio.UnixSocketAddress anonymous>"
    assert a == USA.new("/tmp/x")
    assert hash(a) == hash(USA(path=b"/tmp/x"))
    assert a != USA.new("/tmp/y")
    assert USA.new_with_type(b"abc", UT.ABSTRACT) != USA.new_with_type(b"abc", UT.ABSTRACT_PADDED)
    assert USA.list_property_names() == ["family", "path", "path-as-array", "abstract", "address-type"]
    assert (a.props.path, a.props.path_as_array, a.props.address_type, a.props.family) == (
        "/tmp/x", b"/tmp/x", UT.PATH, F.UNIX)
    assert a != ISA.new(IA.new_loopback(F.IPV4), 1)


def test_address_from_sockaddr_unix() -> None:
    assert address_from_sockaddr(socket.AF_UNIX, "") == USA.new_with_type(b"", UT.ANONYMOUS)
    assert address_from_sockaddr(socket.AF_UNIX, b"") == USA.new_with_type(b"", UT.ANONYMOUS)
    assert address_from_sockaddr(socket.AF_UNIX, None) is None
    ab = address_from_sockaddr(socket.AF_UNIX, b"\0abc")
    assert isinstance(ab, USA)
    assert (ab.get_address_type(), ab.get_path(), ab.get_native_size()) == (UT.ABSTRACT, "abc", 6)
    padded = address_from_sockaddr(socket.AF_UNIX, b"\0abc".ljust(108, b"\0"))
    assert isinstance(padded, USA)
    assert (padded.get_address_type(), padded.get_path_len(), padded.get_path()) == (UT.ABSTRACT_PADDED, 107, "abc")
    assert padded.to_string() == "abc" + "\\x00" * 104  # E08: padding shows
    assert padded == USA.new_with_type(b"abc", UT.ABSTRACT_PADDED)  # the same name for the kernel
    path = address_from_sockaddr(socket.AF_UNIX, "/tmp/sock")
    assert path == USA.new("/tmp/sock")
    assert address_from_sockaddr(socket.AF_UNIX, b"/tmp/sock") == USA.new("/tmp/sock")


unix_names = st.binary(max_size=107)


@given(unix_names)
@example(b"abstract-path\0\xe2\x9c\x8b")  # row 46
@example(b"")
def test_unix_to_string_escaping(name: bytes) -> None:
    text = USA.new_with_type(name, UT.ABSTRACT).to_string()
    assert all(0x20 <= ord(ch) < 0x7F for ch in text)
    back = re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), text.encode("ascii"))
    assert back == name
    assert USA.new_with_type(name, UT.ABSTRACT_PADDED).to_string() == text


@given(unix_names, st.sampled_from([UT.ABSTRACT, UT.ABSTRACT_PADDED]))
@example(b"abstract-path\0\xe2\x9c\x8b", UT.ABSTRACT)  # row 46
@example(b"x" * 107, UT.ABSTRACT)  # a 108-byte name comes back PADDED (§5.4)
def test_unix_abstract_sockaddr_round_trip(name: bytes, kind: UnixSocketAddressType) -> None:
    a = USA.new_with_type(name, kind)
    assert a.get_native_size() == (3 + len(name) if kind == UT.ABSTRACT else 110)
    assert len(a._sockaddr) == a.get_native_size() - 2  # what Python adds: the 2-byte sun_family
    back = address_from_sockaddr(socket.AF_UNIX, a._sockaddr)
    assert isinstance(back, USA)
    assert back._sockaddr == a._sockaddr
    if len(name) == 107:  # a full sun_path: GLib (and gsocklab) read it back as PADDED
        assert back.get_address_type() == UT.ABSTRACT_PADDED
        assert back.get_path_len() == 107
    else:
        assert back == a


@given(st.binary(min_size=1, max_size=107).filter(lambda b: b"\0" not in b))
def test_unix_path_sockaddr_round_trip(name: bytes) -> None:
    a = USA.new(name)
    assert a.get_path_len() == len(name)
    assert a.get_native_size() == 110
    assert isinstance(a._sockaddr, (str, bytes))
    assert os.fsencode(a._sockaddr) == name
    assert address_from_sockaddr(socket.AF_UNIX, a._sockaddr) == a
    assert os.fsencode(a.get_path()) == name


# ---- Through a real kernel (loopback and AF_UNIX only) --------------------------------------------------


@pytest.fixture
def tmp_sock_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="gsock-") as path:
        yield path


def _bound_name(family: int, sockaddr: Any, kind: int = socket.SOCK_DGRAM) -> Any:
    with socket.socket(family, kind) as s:
        s.bind(sockaddr)
        name = s.getsockname()
    return name


@pytest.mark.parametrize("family", [F.IPV4, F.IPV6], ids=["ipv4", "ipv6"])
def test_kernel_round_trip_inet(family: SocketFamily) -> None:
    a = ISA.new(IA.new_loopback(family), 0)
    back = address_from_sockaddr(int(family), _bound_name(int(family), a._sockaddr))
    assert isinstance(back, ISA)
    assert back.get_address() == a.get_address()
    assert back.get_port() != 0


def test_kernel_round_trip_v4_mapped_on_dual_stack_socket() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::ffff:127.0.0.1", 0))
        back = address_from_sockaddr(socket.AF_INET6, s.getsockname())
    assert isinstance(back, ISA)
    assert back.get_family() == F.IPV4
    assert back.get_address().to_string() == "127.0.0.1"


def test_kernel_round_trip_unix(tmp_sock_dir: str) -> None:
    tag = f"gsocklab-test-{os.getpid()}".encode()
    for a in (
        USA.new_with_type(tag, UT.ABSTRACT),
        USA.new_with_type(tag + b"-padded", UT.ABSTRACT_PADDED),
        USA.new(os.path.join(tmp_sock_dir, "s")),
    ):
        back = address_from_sockaddr(socket.AF_UNIX, _bound_name(socket.AF_UNIX, a._sockaddr))
        assert back == a, (a, back)
        assert back is not None
        assert back.get_native_size() == a.get_native_size()
    anonymous = USA.new_with_type(b"", UT.ANONYMOUS)
    auto = address_from_sockaddr(socket.AF_UNIX, _bound_name(socket.AF_UNIX, anonymous._sockaddr))
    assert isinstance(auto, USA)
    assert auto.get_address_type() == UT.ABSTRACT  # Linux autobind: 5 hex digits
    assert auto.get_path_len() == 5
