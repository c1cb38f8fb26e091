"""`NetworkAddress` (a host name and port, resolved when enumerated) and address enumeration.

A socket address enumerates as itself. A `NetworkAddress` resolves its host name when
enumerated: a literal IPv4 or IPv6 address is itself, ``localhost`` is ``::1`` then
``127.0.0.1`` without asking a resolver (as GLib does), and any other name goes to the
system resolver (``getaddrinfo``, which reads ``/etc/hosts`` first). A name that does not
resolve fails in the ``g-resolver-error-quark`` domain, code 0 (``NOT_FOUND``): "Error
resolving “name”: Name or service not known".
"""

from __future__ import annotations

import re
import socket
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from ..core._address import InetAddress, InetSocketAddress, SocketAddress
from ..core._args import user_data_keyword
from ..core._cancellable import Cancellable
from ..core._enums import IOErrorEnum, SocketFamily
from ..core._errors import Error, new_io_error
from ..core._gobject import Object
from ._task import finish, run_async

__all__ = ["NetworkAddress", "SocketAddressEnumerator", "addresses_of", "connectable_name"]

RESOLVER_ERROR_QUARK = "g-resolver-error-quark"


def _resolver_error(host: str, reason: str = "Name or service not known") -> Error:
    return Error(f"Error resolving \u201c{host}\u201d: {reason}", RESOLVER_ERROR_QUARK, 0)


class NetworkAddress(Object):
    """A ``GNetworkAddress``: ``NetworkAddress.new(host, port)``, `parse`, `parse_uri`, `new_loopback`."""

    __slots__ = ("_hostname", "_port", "_scheme")
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {
        "hostname": ("get_hostname", None), "port": ("get_port", None), "scheme": ("get_scheme", None)}

    def __init__(self, hostname: str, port: int, scheme: str | None = None) -> None:
        if not isinstance(hostname, str):
            raise TypeError(f"hostname must be a str, not {type(hostname).__name__}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise TypeError(f"port must be an int from 0 to 65535, not {port!r}")
        self._hostname, self._port, self._scheme = hostname, port, scheme

    def __repr__(self) -> str:
        return f"<Gio.NetworkAddress {self.to_string()}>"

    @classmethod
    def new(cls, hostname: str, port: int) -> NetworkAddress:
        """``hostname`` (a name or a literal address) and ``port``."""
        return cls(hostname, port)

    @classmethod
    def new_loopback(cls, port: int) -> NetworkAddress:
        """``localhost``: enumerates ``::1`` then ``127.0.0.1``."""
        return cls("localhost", port)

    @classmethod
    def parse(cls, host_and_port: str, default_port: int) -> NetworkAddress:
        """``"host"``, ``"host:port"``, ``"[v6]:port"`` or a bare IPv6 address; ``default_port``
        when none is given. A port that does not start with a digit is a service name
        (``"host:http"`` is port 80). A bad port or bracket fails ``INVALID_ARGUMENT`` with
        GLib's message."""
        if not isinstance(host_and_port, str):
            raise TypeError(f"host_and_port must be a str, not {type(host_and_port).__name__}")
        text = host_and_port
        port_text: str | None = None
        if text.startswith("["):
            end = text.find("]")
            if end < 0:
                raise new_io_error(IOErrorEnum.INVALID_ARGUMENT,
                                   f"Hostname \u201c{text}\u201d contains \u201c[\u201d but not \u201c]\u201d")
            host, rest = text[1:end], text[end + 1:]
            if rest:
                if not rest.startswith(":"):
                    raise new_io_error(IOErrorEnum.INVALID_ARGUMENT,
                                       f"The ']' character (in hostname '{text}') must come at the end or be "
                                       "immediately followed by ':' and a port")
                port_text = rest[1:]
        elif text.count(":") == 1:
            host, port_text = text.split(":")
        else:
            host = text  # a name, or a bare IPv6 address
        port = default_port
        if port_text is not None:
            port = _port_of(port_text, text)
        return cls(host, port)

    @classmethod
    def parse_uri(cls, uri: str, default_port: int) -> NetworkAddress:
        """The host and port of ``uri`` (``default_port`` if it has none), with its scheme (in
        lower case; the host keeps its case, as in GLib). A URI without a host part fails
        ``INVALID_ARGUMENT`` "Invalid URI …" (in GLib's curly quotes)."""
        if not isinstance(uri, str):
            raise TypeError(f"uri must be a str, not {type(uri).__name__}")
        parsed = _split_network_uri(uri)
        if parsed is None:
            raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, f"Invalid URI \u2018{uri}\u2019")
        scheme, host, port = parsed
        return cls(host, port if port > 0 else default_port, scheme)

    def get_hostname(self) -> str:
        """The host name (or literal address) as given."""
        return self._hostname

    def get_port(self) -> int:
        """The port."""
        return self._port

    def get_scheme(self) -> str | None:
        """The URI scheme, for addresses made by `parse_uri`."""
        return self._scheme

    def to_string(self) -> str:
        """GLib's form: ``scheme:`` if there is a scheme, the host name as given (an IPv6 literal
        without brackets), ``:port`` unless the port is 0: ``"http:example.org:80"``, ``"::1:83"``."""
        scheme = f"{self._scheme}:" if self._scheme is not None else ""
        port = f":{self._port}" if self._port else ""
        return f"{scheme}{self._hostname}{port}"

    def enumerate(self) -> SocketAddressEnumerator:
        """An enumerator of the addresses the name resolves to."""
        return SocketAddressEnumerator(self)

    proxy_enumerate = enumerate

    def _resolve(self) -> list[SocketAddress]:
        host, port = self._hostname, self._port
        literal = InetSocketAddress.new_from_string(host, port)
        if literal is not None:
            return [literal]
        if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
            return [InetSocketAddress.new(InetAddress.new_loopback(family), port)
                    for family in (SocketFamily.IPV6, SocketFamily.IPV4)]
        if not host:
            raise _resolver_error(host)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise _resolver_error(host, getattr(exc, "strerror", None) or "Name or service not known") from None
        found: list[SocketAddress] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            address = InetSocketAddress.new_from_string(str(sockaddr[0]).split("%")[0], port)
            if address is not None and all(a.to_string() != address.to_string() for a in found):
                found.append(address)
        if not found:
            raise _resolver_error(host)
        return found


def _port_of(port_text: str, text: str) -> int:
    """The port ``port_text`` of ``parse(text)``: digits, or a TCP service name (GLib's rules)."""
    if not port_text:
        raise new_io_error(IOErrorEnum.INVALID_ARGUMENT,
                           f"If a ':' character is given, it must be followed by a port (in hostname '{text}').")
    if port_text[0] in "0123456789":
        if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
            raise new_io_error(IOErrorEnum.INVALID_ARGUMENT,
                               f"Invalid numeric port '{port_text}' specified in hostname '{text}'")
        return int(port_text)
    try:
        return socket.getservbyname(port_text, "tcp")
    except (OSError, UnicodeError, ValueError):
        raise new_io_error(IOErrorEnum.INVALID_ARGUMENT,
                           f"Unknown service '{port_text}' specified in hostname '{text}'") from None


_URI_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def _split_network_uri(uri: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of ``uri`` as ``g_uri_split_network`` gives them (port -1 when
    absent), or ``None`` when GLib's parser fails or the URI has no host."""
    match = _URI_SCHEME.match(uri)
    if match is None or not uri.startswith("//", match.end()):
        return None
    scheme = match.group(1).lower()
    rest = uri[match.end() + 2:]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host_port = authority.split("@", 1)[1] if "@" in authority else authority
    if host_port.startswith("["):
        end = host_port.find("]")
        if end < 0:
            return None
        host, after = host_port[1:end], host_port[end + 1:]
        if after and not after.startswith(":"):
            return None
        port_text = after[1:] if after else ""
    else:
        host, _, port_text = host_port.partition(":")
    port = -1
    if port_text:
        if not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
            return None
        port = int(port_text)
    try:
        host = urllib.parse.unquote(host, errors="strict")
    except UnicodeDecodeError:
        return None
    return scheme, host, port


class SocketAddressEnumerator(Object):
    """A ``GSocketAddressEnumerator``: `next` until ``None``."""

    __slots__ = ("_addresses", "_connectable")

    def __init__(self, connectable: Any) -> None:
        self._connectable = connectable
        self._addresses: Iterator[SocketAddress] | None = None

    def next(self, cancellable: Cancellable | None = None) -> SocketAddress | None:
        """The next address, or ``None``; resolves on the first call."""
        if self._addresses is None:
            self._addresses = iter(addresses_of(self._connectable))
        return next(self._addresses, None)

    @user_data_keyword
    def next_async(self, cancellable: Cancellable | None = None, callback: Callable[..., Any] | None = None,
                   *user_data: Any) -> None:
        """`next` in a thread; then ``callback(enumerator, result, *user_data)``."""
        run_async(self, "next_async", lambda: self.next(cancellable), cancellable, callback, user_data)

    def next_finish(self, result: Any) -> SocketAddress | None:
        """The address `next_async` found (``None`` at the end), or its error."""
        return finish(self, result, "next_async")  # type: ignore[no-any-return]


def addresses_of(connectable: Any) -> list[SocketAddress]:
    """The socket addresses ``connectable`` stands for (a socket address is itself)."""
    if isinstance(connectable, SocketAddress):
        return [connectable]
    if isinstance(connectable, NetworkAddress):
        return connectable._resolve()
    raise TypeError(f"connectable must be a Gio.SocketAddress or Gio.NetworkAddress, not "
                    f"{type(connectable).__name__}")


def connectable_name(connectable: Any) -> str:
    """How GLib names ``connectable`` in "Could not connect to …"."""
    if isinstance(connectable, NetworkAddress):
        return connectable.get_hostname()
    if isinstance(connectable, InetSocketAddress):
        return str(connectable.get_address().to_string())
    return str(connectable.to_string())
