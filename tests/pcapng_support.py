"""Shared by the pcapng tests: sockets on loopback, each with a timeout, and their recordings' helpers."""

from __future__ import annotations

import socket

from gsocklab import Gio, GLib

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
LIMIT = 5  # seconds: the timeout of every socket made here
NS = 1000  # tolerance of timestamps: 1 µs


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


HAS_IPV6 = _has_ipv6_loopback()


def addr(host: str, port: int = 0) -> Gio.InetSocketAddress:
    return Gio.InetSocketAddress.new_from_string(host, port)


class Bag:
    """The sockets a recording made: each with a timeout, all closed by `close_all` (errors ignored)."""

    def __init__(self) -> None:
        self.all: list[Gio.Socket] = []

    def add(self, sock: Gio.Socket) -> Gio.Socket:
        sock.set_timeout(LIMIT)
        self.all.append(sock)
        return sock

    def new(self, family: Gio.SocketFamily, kind: Gio.SocketType) -> Gio.Socket:
        return self.add(Gio.Socket.new(family, kind, P.DEFAULT))

    def udp(self, host: str = "127.0.0.1") -> Gio.Socket:
        sock = self.new(F.IPV6 if ":" in host else F.IPV4, T.DATAGRAM)
        sock.bind(addr(host), True)
        return sock

    def tcp(self, host: str = "127.0.0.1") -> tuple[Gio.Socket, Gio.Socket, Gio.Socket]:
        """(listener, client, accepted server), connected over loopback."""
        family = F.IPV6 if ":" in host else F.IPV4
        listener = self.new(family, T.STREAM)
        listener.bind(addr(host), True)
        listener.listen()
        client = self.new(family, T.STREAM)
        client.connect(listener.get_local_address(), None)
        server = self.add(listener.accept(None))
        return listener, client, server

    def close_all(self) -> None:
        for sock in reversed(self.all):
            try:
                if not sock.is_closed():
                    sock.close()
            except GLib.Error:
                pass
        self.all.clear()


def receive_exactly(sock: Gio.Socket, size: int) -> bytes:
    """``size`` stream bytes (several receives if need be; each bounded by the socket's timeout)."""
    got = b""
    while len(got) < size:
        count, data = sock.receive(None, size - len(got))
        assert count > 0, "the stream ended early"
        got += data
    return got
