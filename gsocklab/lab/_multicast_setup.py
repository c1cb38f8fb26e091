"""`MulticastSetup`: the sockets and actions behind the `MulticastLab` panel, without widgets.

A setup is a topology — one LAN, two LANs and a router (`gsocklab.netlab`), or this
machine's ``lo`` — and one *station* per host: a receiver socket bound to the group's port
and a sender socket. Every action is a real ``Gio.Socket`` call through the public API (and
`gsocklab.netlab`'s public API for the router), so the `Recorder` records all of it. The
methods are safe to call from several threads; each station's calls are serialised.
"""

from __future__ import annotations

import socket as _socket
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Final

from .. import Gio, GLib

__all__ = ["DEFAULT_GROUPS", "STATIONS", "TOPOLOGIES", "MulticastSetup", "Station"]

#: The topologies a setup can build, with what each shows.
TOPOLOGIES: Final = {
    "one_lan": "one LAN: hosts h1, h2, h3 on one switch",
    "two_lans": "two LANs: h1, h2 on LAN a; h3, h4 on LAN b; router r1 between",
    "lo": "this machine's lo only: three stations, no network",
}
#: The stations (hosts) of each topology.
STATIONS: Final = {"one_lan": ("h1", "h2", "h3"), "two_lans": ("h1", "h2", "h3", "h4"), "lo": ("lo1", "lo2", "lo3")}
#: Default group per (family, source-specific).
DEFAULT_GROUPS: Final = {("IPV4", False): "239.1.2.3", ("IPV4", True): "232.1.2.3",
                         ("IPV6", False): "ff0e::1:2", ("IPV6", True): "ff3e::1:2"}
#: What ``lo`` cannot show, said wherever a lab runs on it.
LO_LIMITS: Final = ("On lo every datagram loops back through the interface itself: TTL 0 or 1 and loopback "
                    "on or off all deliver, and there is no router to cross. And the stations are sockets of "
                    "one host bound to one port: once one joins, the others receive the group too (Linux's "
                    "IP_MULTICAST_ALL). Pick one LAN or two LANs to see TTL, loopback and joins matter.")

_IP_MULTICAST_IF: Final = 32      # Linux <netinet/in.h>
_IPV6_MULTICAST_IF: Final = 17
_RECEIVE_SIZE: Final = 2048


@dataclass
class Station:
    """One host of the lab: its receiver and sender sockets and what the lab set on them."""

    name: str
    lan: str | None
    address: str                          # the host's address in the lab's family
    receiver: Gio.Socket
    sender: Gio.Socket
    interfaces: dict[str, tuple[int, str | None]]  # name -> (index, IPv4 address)
    joined: bool = False
    ttl: int = 1
    loopback: bool = True
    interface: str = "default"
    received: int = 0                     # datagrams its receiver got, all bursts
    lock: threading.Lock = field(default_factory=threading.Lock)


class MulticastSetup:
    """The stations of one topology (see the module's text); `close` ends it all.

    ``topology``: a key of `TOPOLOGIES`; ``family``: ``"IPV4"``/``"IPV6"``; ``group``: the
    group's address (default from `DEFAULT_GROUPS`); ``source``: for source-specific
    multicast, the station whose address receivers accept (``None``: any source); ``port``;
    ``recorder``: where the sockets are attached (labels ``h1/rx``, ``h1/tx``); ``mode``:
    `gsocklab.netlab.Network`'s.
    """

    def __init__(self, topology: str = "one_lan", *, family: str = "IPV4", group: str | None = None,
                 source: str | None = None, port: int = 5000, recorder: Any = None, mode: str | None = None) -> None:
        if topology not in TOPOLOGIES:
            raise ValueError(f"topology must be one of {', '.join(TOPOLOGIES)}, not {topology!r}")
        if family not in ("IPV4", "IPV6"):
            raise ValueError(f"family must be 'IPV4' or 'IPV6', not {family!r}")
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise ValueError(f"port must be an int from 1 to 65535, not {port!r}")
        self.topology, self.family, self.port, self.recorder = topology, family, port, recorder
        self.group_text = group or DEFAULT_GROUPS[(family, source is not None)]
        group_address = Gio.InetAddress.new_from_string(self.group_text)
        if group_address is None or not group_address.get_is_multicast():
            raise ValueError(f"{self.group_text!r} is not a multicast address")
        if group_address.get_family() != Gio.SocketFamily[family]:
            raise ValueError(f"the group {self.group_text} is not an {family} address")
        if topology == "lo" and family == "IPV6":
            raise ValueError("IPv6 multicast cannot use lo: Linux's lo has no MULTICAST flag and no ff00::/8 "
                             "route, and the lab does not change this machine's settings — pick one LAN or two "
                             "LANs for IPv6")
        self.group: Gio.InetAddress = group_address
        self.source = source
        self.network: Any = None
        self.stations: dict[str, Station] = {}
        self.router: Any = None
        self.router_delay = 0.0
        self._burst = 0
        self._lock = threading.Lock()
        try:
            self._build(mode)
        except BaseException:
            self.close()
            raise
        if source is not None and source not in self.stations:
            self.close()
            raise ValueError(f"source must be one of {', '.join(self.stations)}, not {source!r}")

    # -- building ----------------------------------------------------------------------------

    @property
    def gio_family(self) -> Gio.SocketFamily:
        """The family as a ``Gio.SocketFamily``."""
        return Gio.SocketFamily[self.family]

    def _build(self, mode: str | None) -> None:
        family = self.gio_family
        if self.topology == "lo":
            local = "127.0.0.1" if family == Gio.SocketFamily.IPV4 else "::1"
            lo = (_socket.if_nametoindex("lo"), "127.0.0.1")
            for number in (1, 2, 3):
                self._station(f"lo{number}", None, local, Gio.Socket.new(family, Gio.SocketType.DATAGRAM,
                                                                          Gio.SocketProtocol.UDP),
                              Gio.Socket.new(family, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP), {"lo": lo})
            return
        from .. import netlab

        self.network = netlab.one_lan(3, mode=mode) if self.topology == "one_lan" else netlab.two_lans(2, 2, mode=mode)
        self.router = self.network.routers.get("r1")
        for host in self.network:
            interfaces = {i.name: (i.index, i.ipv4[0] if i.ipv4 else None) for i in host.interfaces}
            make = host.socket
            self._station(host.name, host.lan, str(host.address(family).to_string()),
                          make(family, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP),
                          make(family, Gio.SocketType.DATAGRAM, Gio.SocketProtocol.UDP), interfaces)

    def _station(self, name: str, lan: str | None, address: str, receiver: Gio.Socket, sender: Gio.Socket,
                 interfaces: dict[str, tuple[int, str | None]]) -> None:
        station = self.stations[name] = Station(name, lan, address, receiver, sender, interfaces)
        if self.recorder is not None:
            self.recorder.attach(receiver, label=f"{name}/rx")
            self.recorder.attach(sender, label=f"{name}/tx")
        else:
            receiver.label, sender.label = f"{name}/rx", f"{name}/tx"
        any_address = Gio.InetAddress.new_any(self.gio_family)
        receiver.bind(Gio.InetSocketAddress.new(any_address, self.port), True)
        if self.topology == "lo":
            # On lo the sender is tied to lo: bound to the loopback address (IPv4 sends a group
            # datagram out of the bound address's interface) and with lo as its multicast
            # interface, so nothing ever leaves this machine.
            loopback = Gio.InetAddress.new_from_string(address)
            assert loopback is not None
            sender.bind(Gio.InetSocketAddress.new(loopback, 0), False)
            self._apply_interface(station, "lo")
            station.interface = "lo"

    # -- actions -------------------------------------------------------------------------------

    def station(self, name: str) -> Station:
        """The station called ``name``."""
        try:
            return self.stations[name]
        except KeyError:
            raise KeyError(f"no station {name!r} (stations: {', '.join(self.stations)})") from None

    def _join_interface(self, station: Station) -> str:
        return "lo" if self.topology == "lo" else "eth0"

    def source_address(self) -> Gio.InetAddress | None:
        """The address receivers accept datagrams from (source-specific), or ``None``."""
        if self.source is None:
            return None
        return Gio.InetAddress.new_from_string(self.station(self.source).address)

    def join(self, name: str) -> str:
        """The receiver of ``name`` joins the group (source-specific when a source is set)."""
        station = self.station(name)
        with station.lock:
            iface = self._join_interface(station)
            source = self.source_address()
            if source is None:
                station.receiver.join_multicast_group(self.group, False, iface)
            else:
                station.receiver.join_multicast_group_ssm(self.group, source, iface)
            station.joined = True
        where = f" from {source.to_string()}" if source is not None else ""
        return f"{name} joined {self.group_text}{where} on {iface}"

    def leave(self, name: str) -> str:
        """The receiver of ``name`` leaves the group."""
        station = self.station(name)
        with station.lock:
            iface = self._join_interface(station)
            source = self.source_address()
            if source is None:
                station.receiver.leave_multicast_group(self.group, False, iface)
            else:
                station.receiver.leave_multicast_group_ssm(self.group, source, iface)
            station.joined = False
        return f"{name} left {self.group_text}"

    def set_ttl(self, name: str, ttl: int) -> str:
        """The multicast TTL of ``name``'s sender."""
        station = self.station(name)
        with station.lock:
            station.sender.set_multicast_ttl(ttl)
            station.ttl = ttl
        return f"{name}: multicast TTL {ttl}"

    def set_loopback(self, name: str, loopback: bool) -> str:
        """Multicast loopback of ``name``'s sender."""
        station = self.station(name)
        with station.lock:
            station.sender.set_multicast_loopback(loopback)
            station.loopback = bool(loopback)
        return f"{name}: multicast loopback {'on' if loopback else 'off'}"

    def interface_choices(self, name: str) -> list[str]:
        """The interfaces ``name``'s sender may send the group out of (``default``: the route's)."""
        if self.topology == "lo":
            return ["lo"]
        return ["default", *sorted(self.station(name).interfaces)]

    def set_interface(self, name: str, interface: str) -> str:
        """The interface ``name``'s sender sends the group out of (``IP_MULTICAST_IF``)."""
        station = self.station(name)
        if interface not in self.interface_choices(name):
            raise ValueError(f"{name} can send out of {', '.join(self.interface_choices(name))}, not {interface!r}")
        with station.lock:
            self._apply_interface(station, interface)
            station.interface = interface
        return f"{name}: sends out of {interface}"

    def _apply_interface(self, station: Station, interface: str) -> None:
        index, ipv4 = station.interfaces.get(interface, (0, None))
        if self.gio_family == Gio.SocketFamily.IPV6:
            station.sender.set_option(_socket.IPPROTO_IPV6, _IPV6_MULTICAST_IF, index)
            return
        # IP_MULTICAST_IF takes the interface's address (struct in_addr); set_option passes an int
        value = int.from_bytes(_socket.inet_aton(ipv4 or "0.0.0.0"), sys.byteorder, signed=True)
        station.sender.set_option(_socket.IPPROTO_IP, _IP_MULTICAST_IF, value)

    def send_burst(self, name: str, count: int = 5, quiet: float = 0.4) -> dict[str, int]:
        """``name`` sends ``count`` datagrams to the group while every receiver reads.

        Each receiver reads until nothing arrives for ``quiet`` seconds (its last read ends
        ``TIMED_OUT``: the recording shows who waited in vain). Returns datagrams received per
        station in this burst.
        """
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1000:
            raise ValueError(f"count must be an int from 1 to 1000, not {count!r}")
        station = self.station(name)
        with self._lock:
            self._burst += 1
            burst = self._burst
        delay = self.router_delay
        got = {other: 0 for other in self.stations}
        started = threading.Barrier(len(self.stations) + 1)
        readers = [threading.Thread(target=self._drain, args=(other, got, quiet + delay, started),
                                    name=f"gsocklab-mcast-{other}", daemon=True) for other in self.stations]
        for reader in readers:
            reader.start()
        started.wait(timeout=5)
        destination = Gio.InetSocketAddress.new(self.group, self.port)
        try:
            with station.lock:
                for number in range(count):
                    station.sender.send_to(destination, f"{name} burst {burst} #{number + 1}".encode())
        finally:
            for reader in readers:
                reader.join(timeout=quiet + delay + 10)
        return got

    def _drain(self, name: str, got: dict[str, int], quiet: float, started: threading.Barrier) -> None:
        station = self.stations[name]
        receiver = station.receiver
        try:
            started.wait(timeout=5)
        except threading.BrokenBarrierError:
            return
        while True:
            try:
                receiver.receive_bytes_from(_RECEIVE_SIZE, int(quiet * 1e6), None)
            except GLib.Error:
                return  # TIMED_OUT (nothing more came), or the socket was closed
            got[name] += 1
            station.received += 1

    def set_link(self, loss: float = 0.0, delay: float = 0.0) -> str:
        """The router's emulated loss and delay (two LANs only)."""
        if self.router is None:
            raise ValueError("this topology has no router")
        self.router.set_link(loss=loss, delay=delay)
        self.router_delay = delay
        return f"router r1: loss {loss:.0%}, delay {delay * 1000:.0f} ms"

    def close(self) -> None:
        """Close every socket and the network."""
        for station in self.stations.values():
            for sock in (station.receiver, station.sender):
                sock.close()
                if self.recorder is not None:
                    self.recorder.detach(sock)  # (the recorder's thread stops once nothing is attached)
        if self.network is not None:
            self.network.close()
