"""`SocketClient`: connect to a host, an address or a URI and get a `SocketConnection`.

For each address the connectable enumerates (``localhost``: ``::1`` then ``127.0.0.1``), the
client makes a socket — of the client's ``family`` if set, else of ``local_address``'s, else of
the address's, as GLib does (so an IPv4 client still tries ``::1``, and fails on it) — with
its ``type``/``protocol``, binds it to ``local_address`` if set, sets its ``timeout`` and
connects, blocking; the first connection wins. When none does, the last error is raised as
GLib words it: "Could not connect to 127.0.0.1: Connection refused" (a bind error keeps
``bind``'s own message). The socket keeps the client's timeout afterwards, as in GLib. The
``event`` signal reports each step: ``RESOLVING``, ``RESOLVED``, ``CONNECTING`` (per address),
``CONNECTED``, and always ``COMPLETE`` — with connection ``None`` after a failure. The async
forms emit ``RESOLVING`` from the call and the rest from the caller's main context, before
the callback. There is no TLS and no proxy: ``set_tls(True)`` makes every connect fail
``NOT_SUPPORTED``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, ClassVar

from ..core._address import SocketAddress
from ..core._args import enum_arg, user_data_keyword
from ..core._cancellable import Cancellable
from ..core._enums import IOErrorEnum, SocketFamily, SocketProtocol, SocketType
from ..core._errors import Error, new_io_error
from ..core._observe import via
from ..core._socket import Socket
from ..mainloop._context import MainContext
from ._addresses import NetworkAddress, addresses_of, connectable_name
from ._signals import SignalObject
from ._task import fail_async, finish, in_context, run_async

__all__ = ["SocketClient", "SocketClientEvent"]


class SocketClientEvent(enum.IntEnum):
    """``GSocketClientEvent``: the steps `SocketClient` reports through its ``event`` signal."""

    RESOLVING = 0
    RESOLVED = 1
    CONNECTING = 2
    CONNECTED = 3
    PROXY_NEGOTIATING = 4
    PROXY_NEGOTIATED = 5
    TLS_HANDSHAKING = 6
    TLS_HANDSHAKED = 7
    COMPLETE = 8


class SocketClient(SignalObject):
    """A ``GSocketClient``: ``Gio.SocketClient()`` or ``Gio.SocketClient.new()``."""

    __slots__ = ("_enable_proxy", "_family", "_local_address", "_protocol", "_timeout", "_tls", "_type")
    _SIGNALS: ClassVar[dict[str, str | None]] = {"event": None}
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {
        "family": ("get_family", "set_family"), "type": ("get_socket_type", "set_socket_type"),
        "protocol": ("get_protocol", "set_protocol"), "local_address": ("get_local_address", "set_local_address"),
        "timeout": ("get_timeout", "set_timeout"), "enable_proxy": ("get_enable_proxy", "set_enable_proxy"),
        "tls": ("get_tls", "set_tls"),
    }

    def __init__(self, **properties: Any) -> None:
        super().__init__()
        self._family = SocketFamily.INVALID
        self._type = SocketType.STREAM
        self._protocol = SocketProtocol.DEFAULT
        self._local_address: SocketAddress | None = None
        self._timeout = 0
        self._enable_proxy = True
        self._tls = False
        for name, value in properties.items():
            self.set_property(name, value)

    @classmethod
    def new(cls) -> SocketClient:
        """A client with GLib's defaults (any family, stream, default protocol, no timeout)."""
        return cls()

    # -- settings -------------------------------------------------------------------------

    def get_family(self) -> SocketFamily:
        """The family connected with (``INVALID``: any)."""
        return self._family

    def set_family(self, family: SocketFamily | int) -> None:
        """Only connect over ``family`` (``INVALID``: any)."""
        self._family = enum_arg(SocketFamily, family, "family")

    def get_socket_type(self) -> SocketType:
        """The socket type (``STREAM``)."""
        return self._type

    def set_socket_type(self, type: SocketType | int) -> None:
        """The socket type of the connections."""
        self._type = enum_arg(SocketType, type, "type")

    def get_protocol(self) -> SocketProtocol:
        """The protocol (``DEFAULT``)."""
        return self._protocol

    def set_protocol(self, protocol: SocketProtocol | int) -> None:
        """The protocol of the connections."""
        self._protocol = enum_arg(SocketProtocol, protocol, "protocol")

    def get_local_address(self) -> SocketAddress | None:
        """The address sockets bind to before connecting, or ``None``."""
        return self._local_address

    def set_local_address(self, address: SocketAddress | None = None) -> None:
        """Bind each socket to ``address`` before connecting (``None``: let the OS choose)."""
        if address is not None and not isinstance(address, SocketAddress):
            raise TypeError(f"address must be a Gio.SocketAddress or None, not {type(address).__name__}")
        self._local_address = address

    def get_timeout(self) -> int:
        """The sockets' timeout in seconds (0: none)."""
        return self._timeout

    def set_timeout(self, timeout: int) -> None:
        """Bound connecting (and later I/O on the connection) to ``timeout`` seconds."""
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
            raise TypeError(f"timeout must be an int of 0 or more, not {timeout!r}")
        self._timeout = timeout

    def get_enable_proxy(self) -> bool:
        """Whether proxies would be used (there are none here)."""
        return self._enable_proxy

    def set_enable_proxy(self, enable: bool) -> None:
        """Kept for compatibility: gsocklab never uses a proxy."""
        self._enable_proxy = bool(enable)

    def get_tls(self) -> bool:
        """Whether TLS was asked for."""
        return self._tls

    def set_tls(self, tls: bool) -> None:
        """Ask for TLS: gsocklab has none, so connecting then fails ``NOT_SUPPORTED``."""
        self._tls = bool(tls)

    def add_application_proxy(self, protocol: str) -> None:
        """Kept for compatibility: gsocklab never uses a proxy."""

    # -- connecting -----------------------------------------------------------------------

    def _socket_family(self, address: SocketAddress) -> SocketFamily:
        """GLib's ``create_socket``: the client's family, else the local address's, else the destination's."""
        if self._family != SocketFamily.INVALID:
            return self._family
        if self._local_address is not None:
            return self._local_address.get_family()
        return address.get_family()

    def _connect(self, connectable: Any, cancellable: Cancellable | None,
                 emit: Callable[..., Any] | None = None) -> Any:
        """Try each address in turn; ``emit`` reports the events (the async forms pass one that
        runs the handlers in the caller's main context and have emitted ``RESOLVING`` already)."""
        if self._tls:
            raise new_io_error(IOErrorEnum.NOT_SUPPORTED, "TLS support is not available")
        if emit is None:
            emit = self.emit
            emit("event", SocketClientEvent.RESOLVING, connectable, None)
        connection: Any = None
        try:
            addresses = addresses_of(connectable)
            emit("event", SocketClientEvent.RESOLVED, connectable, None)
            connection = self._first_connection(connectable, addresses, cancellable, emit)
            emit("event", SocketClientEvent.CONNECTED, connectable, connection)
        finally:
            emit("event", SocketClientEvent.COMPLETE, connectable, connection)
        return connection

    def _first_connection(self, connectable: Any, addresses: list[SocketAddress], cancellable: Cancellable | None,
                          emit: Callable[..., Any]) -> Any:
        last: Error | None = None
        for address in addresses:
            if cancellable is not None and cancellable.is_cancelled():
                raise new_io_error(IOErrorEnum.CANCELLED, "Operation was cancelled")
            sock = Socket.new(self._socket_family(address), self._type, self._protocol)
            try:
                sock.set_timeout(self._timeout)
                if self._local_address is not None:
                    sock.bind(self._local_address, False)  # its error stays as it is, as in GLib
            except Error as error:
                sock.close()
                last = error
                continue
            connection = sock.connection_factory_create_connection()
            try:
                emit("event", SocketClientEvent.CONNECTING, connectable, connection)
                sock.connect(address, cancellable)
            except Error as error:
                sock.close()
                if error.code == IOErrorEnum.CANCELLED:
                    raise
                reason = error.message.split(": ", 1)[-1]
                last = new_io_error(error.code, f"Could not connect to {connectable_name(connectable)}: {reason}")
                continue
            except BaseException:
                sock.close()
                raise
            return connection
        if last is None:
            raise new_io_error(IOErrorEnum.FAILED, "Unknown error on connect")
        raise last

    @user_data_keyword
    def _connect_async(self, tag: str, make: Callable[[], Any], cancellable: Cancellable | None,
                       callback: Callable[..., Any] | None, user_data: tuple[Any, ...]) -> None:
        """GLib's async connect: ``RESOLVING`` from this call, every later event from the caller's
        thread-default main context (the worker waits for its handlers, as GLib's steps would), then the
        callback. An address that does not parse fails in the callback."""
        try:
            connectable = make()
        except Error as error:
            fail_async(self, tag, error, callback, user_data)
            return
        context = MainContext.ref_thread_default()
        if not self._tls:
            self.emit("event", SocketClientEvent.RESOLVING, connectable, None)

        def emit(*args: Any) -> None:
            in_context(context, cancellable, self.emit, *args)

        run_async(self, tag, lambda: self._connect(connectable, cancellable, emit), cancellable, callback, user_data)

    def connect(self, connectable: Any, cancellable: Any = None, *user_data: Any) -> Any:
        """Connect to ``connectable`` (a socket address or a `NetworkAddress`): the
        `SocketConnection`. With a signal name first, ``connect("event", handler, *data)``
        connects a signal handler instead (PyGObject needs ``GObject.Object.connect`` for that)."""
        if isinstance(connectable, str):
            return SignalObject.connect(self, connectable, cancellable, *user_data)
        with via("SocketClient.connect"):
            return self._connect(connectable, cancellable)

    def connect_to_host(self, host_and_port: str, default_port: int,
                        cancellable: Cancellable | None = None) -> Any:
        """Connect to ``"host:port"`` (or ``"host"`` and ``default_port``; ``"[v6]:port"``)."""
        with via("SocketClient.connect_to_host"):
            return self._connect(NetworkAddress.parse(host_and_port, default_port), cancellable)

    def connect_to_uri(self, uri: str, default_port: int, cancellable: Cancellable | None = None) -> Any:
        """Connect to the host and port of ``uri`` (plain TCP: no TLS, whatever the scheme)."""
        with via("SocketClient.connect_to_uri"):
            return self._connect(NetworkAddress.parse_uri(uri, default_port), cancellable)

    def connect_to_service(self, domain: str, service: str, cancellable: Cancellable | None = None) -> Any:
        """SRV lookups need DNS, which gsocklab does not use: ``NOT_SUPPORTED``."""
        raise new_io_error(IOErrorEnum.NOT_SUPPORTED, "SRV lookups are not supported by gsocklab")

    @user_data_keyword
    def connect_async(self, connectable: Any, cancellable: Cancellable | None = None,
                      callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`connect` in a thread; then ``callback(client, result, *user_data)``."""
        self._connect_async("connect_async", lambda: connectable, cancellable, callback, user_data)

    def connect_finish(self, result: Any) -> Any:
        """The connection `connect_async` made, or its error."""
        return finish(self, result, "connect_async")

    @user_data_keyword
    def connect_to_host_async(self, host_and_port: str, default_port: int, cancellable: Cancellable | None = None,
                              callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`connect_to_host` in a thread; ``connect_to_host_finish`` gives the connection."""
        self._connect_async("connect_to_host_async", lambda: NetworkAddress.parse(host_and_port, default_port),
                            cancellable, callback, user_data)

    def connect_to_host_finish(self, result: Any) -> Any:
        """The connection `connect_to_host_async` made, or its error."""
        return finish(self, result, "connect_to_host_async")

    @user_data_keyword
    def connect_to_uri_async(self, uri: str, default_port: int, cancellable: Cancellable | None = None,
                             callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`connect_to_uri` in a thread; ``connect_to_uri_finish`` gives the connection."""
        self._connect_async("connect_to_uri_async", lambda: NetworkAddress.parse_uri(uri, default_port),
                            cancellable, callback, user_data)

    def connect_to_uri_finish(self, result: Any) -> Any:
        """The connection `connect_to_uri_async` made, or its error."""
        return finish(self, result, "connect_to_uri_async")
