"""`SocketListener`, `SocketService` and `ThreadedSocketService`: accept connections.

A listener holds listening sockets (`add_address`, `add_inet_port`, `add_any_inet_port`,
`add_socket`) and `accept` waits on all of them at once. ``add_inet_port(port)`` listens on
``[::]`` with IPv4 too (GLib's dual-stack socket), or on ``0.0.0.0`` where IPv6 is missing;
use ``add_address`` with ``127.0.0.1`` to stay on loopback.

A `SocketService` accepts by itself while active (from creation, as in GLib, until
`stop`): each connection is handed to the ``incoming`` signal — ``handler(service,
connection, source_object, *user_data)`` — from the thread-default main context of the
thread that added the first socket, so a `GLib.MainLoop` must run there (or the kernel's
asyncio loop drive it). A handler that returns true has taken the connection. A
`ThreadedSocketService` emits ``run`` instead, in a thread of its own per connection (at most
``max_threads`` at once; -1 for no limit), and closes the connection when the handlers return.
"""

from __future__ import annotations

import builtins
import enum
import select
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from ..core._address import InetAddress, InetSocketAddress, SocketAddress
from ..core._args import check_cancellable, user_data_keyword
from ..core._cancellable import Cancellable
from ..core._enums import IOErrorEnum, SocketFamily, SocketProtocol, SocketType
from ..core._errors import Error, new_io_error
from ..core._observe import via
from ..core._socket import Socket
from ._signals import SignalObject
from ._task import Task, finish, run_async

__all__ = ["SocketListener", "SocketListenerEvent", "SocketService", "ThreadedSocketService"]


class SocketListenerEvent(enum.IntEnum):
    """``GSocketListenerEvent``: the steps of adding a socket, through the ``event`` signal."""

    BINDING = 0
    BOUND = 1
    LISTENING = 2
    LISTENED = 3


class AddressResult(tuple[bool, SocketAddress]):
    """``(True, effective_address)`` of ``add_address``."""

    __slots__ = ()

    @property
    def effective_address(self) -> SocketAddress:
        """The address bound (with the port the OS chose for port 0)."""
        return self[1]

    def __repr__(self) -> str:
        return f"({self[0]}, effective_address={self[1]!r})"


class AcceptResult(tuple[Any, Any]):
    """``(connection or socket, source_object)`` of the accept calls."""

    __slots__ = ()

    @property
    def source_object(self) -> Any:
        """The ``source_object`` given when the listening socket was added."""
        return self[1]

    def __repr__(self) -> str:
        return f"({self[0]!r}, source_object={self[1]!r})"


class SocketListener(SignalObject):
    """A ``GSocketListener``: ``Gio.SocketListener()`` or ``.new()``."""

    __slots__ = ("_backlog", "_closed", "_lock", "_sockets")
    _SIGNALS: ClassVar[dict[str, str | None]] = {"event": None}
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {"listen_backlog": ("get_backlog", "set_backlog")}

    def __init__(self) -> None:
        super().__init__()
        self._sockets: list[tuple[Socket, Any]] = []
        self._backlog = 10
        self._closed = False
        self._lock = threading.Lock()

    @classmethod
    def new(cls) -> SocketListener:
        """An empty listener."""
        return cls()

    def get_backlog(self) -> int:
        """The listen backlog of the sockets it makes (10)."""
        return self._backlog

    def set_backlog(self, listen_backlog: int) -> None:
        """The listen backlog of the sockets added from now on."""
        self._backlog = int(listen_backlog)

    # -- adding sockets -------------------------------------------------------------------

    def _added(self) -> None:
        """A socket was added (the service starts accepting on it)."""

    def add_socket(self, socket: Socket, source_object: Any = None) -> bool:
        """Accept on ``socket`` (bound and listening); ``source_object`` comes with its connections."""
        if not isinstance(socket, Socket):
            raise TypeError(f"socket must be a Gio.Socket, not {type(socket).__name__}")
        socket._check_socket()
        with self._lock:
            if any(mine is socket for mine, _ in self._sockets):
                raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, "the socket is already in this listener")
            self._sockets.append((socket, source_object))
        self._added()
        return True

    def _listen_on(self, address: SocketAddress, type: SocketType, protocol: SocketProtocol,
                   v6_only: bool | None = None) -> Socket:
        sock = Socket.new(address.get_family(), type, protocol)
        try:
            if v6_only is not None:
                sock.set_option(41, 26, int(v6_only))  # IPPROTO_IPV6, IPV6_V6ONLY
            self.emit("event", SocketListenerEvent.BINDING, sock)
            sock.bind(address, True)
            self.emit("event", SocketListenerEvent.BOUND, sock)
            sock.set_listen_backlog(self._backlog)
            self.emit("event", SocketListenerEvent.LISTENING, sock)
            sock.listen()
            sock.set_blocking(False)  # accept() after the wait: WOULD_BLOCK if another thread took it
            self.emit("event", SocketListenerEvent.LISTENED, sock)
        except Exception:
            sock.close()
            raise
        return sock

    def add_address(self, address: SocketAddress, type: SocketType | int, protocol: SocketProtocol | int,
                    source_object: Any = None) -> AddressResult:
        """Listen on ``address``: ``(True, effective_address)`` (the port chosen for 0)."""
        if not isinstance(address, SocketAddress):
            raise TypeError(f"address must be a Gio.SocketAddress, not {builtins.type(address).__name__}")
        with via(f"{builtins.type(self).__name__}.add_address"):
            sock = self._listen_on(address, SocketType(type), SocketProtocol(protocol))
        self.add_socket(sock, source_object)
        return AddressResult((True, sock.get_local_address()))

    def _any_inet(self, port: int, source_object: Any) -> int:
        any6 = InetSocketAddress.new(InetAddress.new_any(SocketFamily.IPV6), port)
        try:
            sock = self._listen_on(any6, SocketType.STREAM, SocketProtocol.TCP, v6_only=False)
        except Error as error:
            if error.code not in (IOErrorEnum.NOT_SUPPORTED, IOErrorEnum.FAILED):
                raise
            any4 = InetSocketAddress.new(InetAddress.new_any(SocketFamily.IPV4), port)
            sock = self._listen_on(any4, SocketType.STREAM, SocketProtocol.TCP)
        self.add_socket(sock, source_object)
        local = sock.get_local_address()
        assert isinstance(local, InetSocketAddress)
        return int(local.get_port())

    def add_inet_port(self, port: int, source_object: Any = None) -> bool:
        """Listen for TCP on ``port`` of every address (IPv6 and IPv4); ``True``."""
        if isinstance(port, bool) or not isinstance(port, int):
            raise TypeError(f"port must be an int, not {type(port).__name__}")
        if not 0 < port <= 65535:
            raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, f"port must be 1 to 65535, not {port!r}")
        with via(f"{type(self).__name__}.add_inet_port"):
            self._any_inet(port, source_object)
        return True

    def add_any_inet_port(self, source_object: Any = None) -> int:
        """Listen for TCP on a port the OS chooses, on every address; the port."""
        with via(f"{type(self).__name__}.add_any_inet_port"):
            return self._any_inet(0, source_object)

    # -- accepting ------------------------------------------------------------------------

    def _wait_ready(self, cancellable: Cancellable | None) -> tuple[Socket, Any]:
        """The first listening socket with a connection waiting."""
        while True:
            with self._lock:
                sockets = list(self._sockets)
            if self._closed or not sockets:
                raise new_io_error(IOErrorEnum.CLOSED if self._closed else IOErrorEnum.INVALID_ARGUMENT,
                                   "Listener is already closed" if self._closed else "No sockets to accept on")
            if len(sockets) == 1:
                sockets[0][0].condition_wait(1, cancellable)  # IN; honours the cancellable and close()
                return sockets[0]
            poller = select.poll()
            by_fd = {sock.get_fd(): (sock, source) for sock, source in sockets}
            for fd in by_fd:
                poller.register(fd, select.POLLIN)
            cancel_fd = cancellable.get_fd() if cancellable is not None else -1
            try:
                if cancel_fd >= 0:
                    poller.register(cancel_fd, select.POLLIN)
                ready = poller.poll(500)  # re-reads the sockets twice a second (added, closed)
            finally:
                if cancellable is not None and cancel_fd >= 0:
                    cancellable.release_fd()
            if cancellable is not None and cancellable.is_cancelled():
                raise new_io_error(IOErrorEnum.CANCELLED, "Operation was cancelled")
            for fd, _events in ready:
                if fd in by_fd:
                    return by_fd[fd]

    def _accept_socket(self, cancellable: Cancellable | None) -> AcceptResult:
        check_cancellable(cancellable)
        while True:
            sock, source = self._wait_ready(cancellable)
            try:
                return AcceptResult((sock.accept(cancellable), source))
            except Error as error:
                if error.code != IOErrorEnum.WOULD_BLOCK:  # another thread took it: wait again
                    raise

    def accept_socket(self, cancellable: Cancellable | None = None) -> AcceptResult:
        """Wait for a connection on any socket: ``(socket, source_object)``."""
        with via(f"{type(self).__name__}.accept_socket"):
            return self._accept_socket(cancellable)

    def accept(self, cancellable: Cancellable | None = None) -> AcceptResult:
        """Wait for a connection on any socket: ``(connection, source_object)``."""
        with via(f"{type(self).__name__}.accept"):
            sock, source = self._accept_socket(cancellable)
        return AcceptResult((sock.connection_factory_create_connection(), source))

    @user_data_keyword
    def accept_async(self, cancellable: Cancellable | None = None, callback: Callable[..., Any] | None = None,
                     *user_data: Any) -> None:
        """`accept` in a thread; then ``callback(listener, result, *user_data)``."""
        run_async(self, "accept_async", lambda: self.accept(cancellable), cancellable, callback,
                         user_data)

    def accept_finish(self, result: Any) -> AcceptResult:
        """``(connection, source_object)`` of `accept_async`, or its error."""
        return finish(self, result, "accept_async")  # type: ignore[no-any-return]

    @user_data_keyword
    def accept_socket_async(self, cancellable: Cancellable | None = None,
                            callback: Callable[..., Any] | None = None, *user_data: Any) -> None:
        """`accept_socket` in a thread; ``accept_socket_finish`` gives ``(socket, source_object)``."""
        run_async(self, "accept_socket_async", lambda: self.accept_socket(cancellable), cancellable,
                         callback, user_data)

    def accept_socket_finish(self, result: Any) -> AcceptResult:
        """``(socket, source_object)`` of `accept_socket_async`, or its error."""
        return finish(self, result, "accept_socket_async")  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close every listening socket; waiting accepts fail ``CLOSED``."""
        self._closed = True
        with self._lock:
            sockets, self._sockets = self._sockets, []
        with via(f"{type(self).__name__}.close"):
            for sock, _source in sockets:
                sock.close()


class SocketService(SocketListener):
    """A ``GSocketService``: accepts while active and emits ``incoming`` (see the module doc)."""

    __slots__ = ("_accepting", "_active", "_cancel")
    _SIGNALS: ClassVar[dict[str, str | None]] = {"event": None, "incoming": "first-true"}
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {
        **SocketListener._PROPERTIES, "active": ("is_active", None)}

    def __init__(self) -> None:
        super().__init__()
        self._active = True
        self._accepting = False
        self._cancel = Cancellable()

    @classmethod
    def new(cls) -> SocketService:
        """An active service with no sockets yet."""
        return cls()

    def is_active(self) -> bool:
        """Whether the service accepts (``True`` from creation until `stop`)."""
        return self._active

    def start(self) -> None:
        """Accept again after `stop` (no-op when active)."""
        self._active = True
        self._added()

    def stop(self) -> None:
        """Stop accepting (the sockets stay open: `close` them)."""
        self._active = False
        cancel, self._cancel = self._cancel, Cancellable()
        cancel.cancel()

    def _added(self) -> None:
        with self._lock:
            if self._accepting or not self._active or not self._sockets or self._closed:
                return
            self._accepting = True
        cancellable = self._cancel
        SocketListener.accept_async(self, cancellable, self._accepted, cancellable)

    def _accepted(self, _listener: Any, result: Task, cancellable: Cancellable) -> None:
        with self._lock:
            self._accepting = False
        try:
            connection, source = result.propagate()
        except Error:
            connection = None
        try:
            if connection is not None:
                self._handle(connection, source)
        finally:  # a handler that raised is shown by the main loop; the service goes on accepting, as GLib's
            if not cancellable.is_cancelled():
                self._added()

    def _handle(self, connection: Any, source: Any) -> None:
        self.emit("incoming", connection, source)

    def close(self) -> None:
        """Stop accepting and close the listening sockets."""
        self.stop()
        super().close()


class ThreadedSocketService(SocketService):
    """A ``GThreadedSocketService``: ``run`` in a thread per connection (see the module doc)."""

    __slots__ = ("_slots",)
    _SIGNALS: ClassVar[dict[str, str | None]] = {"event": None, "incoming": "first-true", "run": "first-true"}

    def __init__(self, max_threads: int = 10) -> None:
        if isinstance(max_threads, bool) or not isinstance(max_threads, int):
            raise TypeError(f"max_threads must be an int, not {type(max_threads).__name__}")
        super().__init__()
        self._slots = threading.BoundedSemaphore(max_threads) if max_threads > 0 else None

    @classmethod
    def new(cls, max_threads: int) -> ThreadedSocketService:  # type: ignore[override]
        """A service running each connection's ``run`` handlers in a thread (-1: no limit)."""
        return cls(max_threads)

    def _handle(self, connection: Any, source: Any) -> None:
        slots = self._slots

        def job() -> None:
            if slots is not None:
                slots.acquire()  # at most max_threads handlers run; the others wait their turn here
            try:
                self.emit("run", connection, source)
            finally:
                try:
                    connection.close()
                finally:
                    if slots is not None:
                        slots.release()

        threading.Thread(target=job, name="gsocklab ThreadedSocketService", daemon=True).start()
