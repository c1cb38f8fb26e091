"""Shared fixtures: loopback socket pairs that are closed after each test, and an fd counter.

Every socket gets ``set_timeout(5)`` so that no blocking call can hang a test; addresses are
loopback only (127.0.0.1, ::1, Unix sockets under ``tmp_path``).
"""

from __future__ import annotations

import gc
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("oracle")

from gsocklab import Gio, GLib  # noqa: E402  (after the assert-rewrite registration)

F, T, P = Gio.SocketFamily, Gio.SocketType, Gio.SocketProtocol
TIMEOUT = 5  # seconds: the socket timeout of every fixture socket


def fd_count() -> int:
    """Open file descriptors of this process (after a garbage collection)."""
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


def loopback(family: Gio.SocketFamily, port: int = 0) -> Gio.InetSocketAddress:
    """``127.0.0.1:port`` or ``[::1]:port``."""
    return Gio.InetSocketAddress.new(Gio.InetAddress.new_loopback(family), port)


def any_address(family: Gio.SocketFamily, port: int = 0) -> Gio.InetSocketAddress:
    """``0.0.0.0:port`` or ``[::]:port`` (only ever used to bind)."""
    return Gio.InetSocketAddress.new(Gio.InetAddress.new_any(family), port)


def unused_port(family: Gio.SocketFamily = F.IPV4) -> int:
    """A loopback TCP port nobody listens on: bind a stdlib socket, note the port, close it."""
    v6 = family == F.IPV6
    with socket.socket(socket.AF_INET6 if v6 else socket.AF_INET) as s:
        s.bind(("::1" if v6 else "127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class Sockets:
    """The gsocklab sockets a test made; `close_all` closes them (errors ignored)."""

    def __init__(self) -> None:
        self._all: list[Any] = []

    def add(self, sock: Any) -> Any:
        self._all.append(sock)
        return sock

    def new(
        self,
        family: Gio.SocketFamily,
        type_: Gio.SocketType,
        protocol: Gio.SocketProtocol = P.DEFAULT,
        timeout: int = TIMEOUT,
    ) -> Any:
        sock = self.add(Gio.Socket.new(family, type_, protocol))
        sock.set_timeout(timeout)
        return sock

    def adopt(self, pysock: socket.socket) -> Any:
        """``Gio.Socket.new_from_fd`` of a stdlib socket (which gives up its fd)."""
        sock = self.add(Gio.Socket.new_from_fd(pysock.detach()))
        sock.set_timeout(TIMEOUT)
        return sock

    def udp_pair(self, family: Gio.SocketFamily = F.IPV4) -> tuple[Any, Any]:
        """Two datagram sockets bound to loopback."""
        a, b = self.new(family, T.DATAGRAM), self.new(family, T.DATAGRAM)
        a.bind(loopback(family), True)
        b.bind(loopback(family), True)
        return a, b

    def tcp_pair(self, family: Gio.SocketFamily = F.IPV4) -> tuple[Any, Any, Any]:
        """(listener, client, accepted server) over loopback."""
        listener = self.new(family, T.STREAM)
        listener.bind(loopback(family), True)
        listener.listen()
        client = self.new(family, T.STREAM)
        client.connect(listener.get_local_address(), None)
        server = self.add(listener.accept(None))
        server.set_timeout(TIMEOUT)
        return listener, client, server

    def unix_pair(self, path: Path) -> tuple[Any, Any, Any]:
        """(listener, client, accepted server) of Unix stream sockets bound to ``path``."""
        address = Gio.UnixSocketAddress.new(str(path))
        listener = self.new(F.UNIX, T.STREAM)
        listener.bind(address, True)
        listener.listen()
        client = self.new(F.UNIX, T.STREAM)
        client.connect(address, None)
        server = self.add(listener.accept(None))
        server.set_timeout(TIMEOUT)
        return listener, client, server

    def close_all(self) -> None:
        for sock in reversed(self._all):
            try:
                if not sock.is_closed():
                    sock.close()
            except GLib.Error:
                pass
        self._all.clear()


@pytest.fixture
def sockets() -> Iterator[Sockets]:
    """A `Sockets` registry; everything in it is closed after the test."""
    bag = Sockets()
    yield bag
    bag.close_all()


@pytest.fixture(params=[F.IPV4, F.IPV6], ids=["ipv4", "ipv6"])
def inet_family(request: pytest.FixtureRequest) -> Gio.SocketFamily:
    """Both Internet families."""
    family: Gio.SocketFamily = request.param
    return family


@pytest.fixture
def udp_pair(sockets: Sockets, inet_family: Gio.SocketFamily) -> tuple[Any, Any]:
    """Two loopback datagram sockets of each Internet family."""
    return sockets.udp_pair(inet_family)


@pytest.fixture
def tcp_pair(sockets: Sockets, inet_family: Gio.SocketFamily) -> tuple[Any, Any, Any]:
    """(listener, client, server) over loopback TCP, for each Internet family."""
    return sockets.tcp_pair(inet_family)


@pytest.fixture
def unix_pair(sockets: Sockets, tmp_path: Path) -> tuple[Any, Any, Any]:
    """(listener, client, server) over a Unix stream socket under ``tmp_path``."""
    return sockets.unix_pair(tmp_path / "sock")


@pytest.fixture
def unix_socketpair(sockets: Sockets) -> tuple[Any, Any]:
    """Both ends of ``socket.socketpair()`` adopted with ``Gio.Socket.new_from_fd``."""
    a, b = socket.socketpair()
    return sockets.adopt(a), sockets.adopt(b)


@pytest.fixture
def closed_port() -> int:
    """A loopback IPv4 port with no listener (connections to it are refused)."""
    return unused_port()


@pytest.fixture
def fd_counter() -> Callable[[], int]:
    """`fd_count`: open file descriptors of this process, after ``gc.collect()``."""
    return fd_count
