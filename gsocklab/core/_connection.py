"""``Gio.SocketConnection`` and its TCP and Unix subclasses, as the socket factory returns them."""

from __future__ import annotations

import os
import socket as _socket
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ._args import user_data_keyword
from ._enums import IOErrorEnum, SocketFamily, SocketProtocol, SocketType
from ._errors import Error, new_io_error
from ._gobject import Object
from ._observe import via
from ._socket_base import SocketBase

if TYPE_CHECKING:
    from ._address import SocketAddress
    from ._cancellable import Cancellable
    from ._credentials import Credentials
    from ._enums import SocketProtocol as _Protocol
    from ._results import ReceiveMessageResult

__all__ = ["SocketConnection", "TcpConnection", "UnixConnection", "connection_for"]


class Socket(Protocol):
    """What a connection uses of its `Gio.Socket` (typed here so this module need not import it)."""

    def close(self) -> bool: ...
    def connect(self, address: SocketAddress, cancellable: Cancellable | None = None) -> bool: ...
    def get_family(self) -> SocketFamily: ...
    def get_socket_type(self) -> SocketType: ...
    def get_protocol(self) -> _Protocol | int: ...
    def get_local_address(self) -> SocketAddress: ...
    def get_remote_address(self) -> SocketAddress: ...
    def is_connected(self) -> bool: ...
    def is_closed(self) -> bool: ...
    def shutdown(self, shutdown_read: bool, shutdown_write: bool) -> bool: ...
    def receive_with_blocking(self, blocking: bool, cancellable: Cancellable | None = None,
                              size: int = 65536, buffer: Any = None) -> Any: ...
    def get_option(self, level: int, optname: int) -> Any: ...
    def set_option(self, level: int, optname: int, value: int) -> bool: ...
    def get_credentials(self) -> Credentials: ...
    def send_message(self, address: SocketAddress | None, vectors: Any, messages: Any, flags: int,
                     cancellable: Cancellable | None = None) -> int: ...
    def receive_message(self, vectors: Any, flags: int,
                        cancellable: Cancellable | None = None) -> ReceiveMessageResult: ...




class SocketConnection(Object):
    """A connection over a `Socket` (``GSocketConnection``).

    ``connection_factory_create_connection()`` returns a new wrapper each call; closing the
    connection closes the socket.
    """

    __slots__ = ("_closed", "_input", "_output", "_socket")
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {
        "socket": ("get_socket", None), "input_stream": ("get_input_stream", None),
        "output_stream": ("get_output_stream", None), "closed": ("is_closed", None),
    }

    def __init__(self, socket: Socket) -> None:
        if not isinstance(socket, SocketBase):
            raise TypeError(f"socket must be a Gio.Socket, not {type(socket).__name__}")
        self._socket = socket
        self._closed = False
        self._input: Any = None
        self._output: Any = None

    def get_input_stream(self) -> Any:
        """The connection's input stream (one per connection): reads with the socket's blocking
        ``receive``, bounded by its ``timeout``."""
        if self._input is None:
            from ..gio._streams import SocketInputStream

            self._input = SocketInputStream(self._socket)
        return self._input

    def get_output_stream(self) -> Any:
        """The connection's output stream (one per connection): writes with the socket's
        blocking ``send``, bounded by its ``timeout``."""
        if self._output is None:
            from ..gio._streams import SocketOutputStream

            self._output = SocketOutputStream(self._socket)
        return self._output

    def __repr__(self) -> str:
        return f"<Gio.{type(self).__name__} over {self._socket!r}>"

    def get_socket(self) -> Socket:
        """The underlying socket."""
        return self._socket

    def get_local_address(self) -> SocketAddress:
        """The socket's local address."""
        return self._socket.get_local_address()

    def get_remote_address(self) -> SocketAddress:
        """The peer's address; ``NOT_CONNECTED`` "Socket connection not connected" if none."""
        if not self._socket.is_connected():
            raise new_io_error(IOErrorEnum.NOT_CONNECTED, "Socket connection not connected")
        return self._socket.get_remote_address()

    def is_connected(self) -> bool:
        """Whether the socket is connected."""
        return self._socket.is_connected()

    def is_closed(self) -> bool:
        """Whether ``close()`` was called on this connection."""
        return self._closed

    def connect(self, address: SocketAddress, cancellable: Cancellable | None = None) -> bool:
        """Connect the underlying socket to ``address`` (blocking)."""
        return self._socket.connect(address, cancellable)

    def close(self, cancellable: Cancellable | None = None) -> bool:
        """Close the connection — its streams, then its socket; closing twice is fine."""
        self._closed = True
        for stream in (self._input, self._output):
            if stream is not None:
                stream._closed = True
        with via(f"{type(self).__name__}.close"):
            return self._socket.close()

    @user_data_keyword
    def connect_async(self, address: SocketAddress, cancellable: Cancellable | None = None,
                      callback: Any = None, *user_data: Any) -> None:
        """`connect` in a thread; then ``callback(connection, result[, user_data])``."""
        from ..gio._task import run_async

        data = user_data
        run_async(self, "connect_async", lambda: self.connect(address, cancellable), cancellable, callback, data)

    def connect_finish(self, result: Any) -> bool:
        """``True``, or the error of `connect_async`."""
        from ..gio._task import finish

        return bool(finish(self, result, "connect_async"))

    @user_data_keyword
    def close_async(self, io_priority: int, cancellable: Cancellable | None = None,
                    callback: Any = None, *user_data: Any) -> None:
        """`close` in a thread; then ``callback(connection, result[, user_data])``."""
        from ..gio._task import run_async

        data = user_data
        run_async(self, "close_async", lambda: self.close(cancellable), cancellable, callback, data)

    def close_finish(self, result: Any) -> bool:
        """``True``, or the error of `close_async`."""
        from ..gio._task import finish

        return bool(finish(self, result, "close_async"))


class TcpConnection(SocketConnection):
    """A TCP connection (``GTcpConnection``); ``graceful_disconnect`` drains before closing."""

    __slots__ = ("_graceful",)
    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {
        **SocketConnection._PROPERTIES,
        "graceful_disconnect": ("get_graceful_disconnect", "set_graceful_disconnect"),
    }

    def __init__(self, socket: Socket) -> None:
        super().__init__(socket)
        self._graceful = False

    def get_graceful_disconnect(self) -> bool:
        """Whether ``close()`` shuts down writing and reads until the peer closes first."""
        return self._graceful

    def set_graceful_disconnect(self, graceful_disconnect: bool) -> None:
        """Choose a graceful ``close()``."""
        self._graceful = bool(graceful_disconnect)

    def close(self, cancellable: Cancellable | None = None) -> bool:
        """Close; when graceful, first ``shutdown(write)`` and read until end of stream."""
        sock = self._socket
        if self._graceful and not sock.is_closed():
            try:
                sock.shutdown(False, True)
                while sock.receive_with_blocking(True, cancellable, 4096)[0] > 0:
                    pass
            except Error:
                pass
        return super().close(cancellable)


class UnixConnection(SocketConnection):
    """A Unix stream connection (``GUnixConnection``): passes descriptors and credentials."""

    __slots__ = ()

    def send_fd(self, fd: int, cancellable: Cancellable | None = None) -> bool:
        """Send a duplicate of ``fd`` to the peer (``SCM_RIGHTS`` with one NUL byte)."""
        from ._control import UnixFDMessage

        message = UnixFDMessage()
        message.append_fd(fd)
        try:
            self._socket.send_message(None, None, [message], 0, cancellable)
        finally:
            for duplicate in message.steal_fds():
                os.close(duplicate)  # the kernel holds its own reference once sent
        return True

    def receive_fd(self, cancellable: Cancellable | None = None) -> int:
        """Receive one descriptor sent with ``send_fd``; the caller owns it (close-on-exec)."""
        from ._control import UnixFDMessage

        received, _, messages, _ = self._socket.receive_message(None, 0, cancellable)
        fds = [fd for message in messages if isinstance(message, UnixFDMessage) for fd in message.steal_fds()]
        if received != 1:  # end of stream: GLib returns -1 without an error
            _close(fds)
            return -1
        if len(messages) != 1:
            _close(fds)
            raise new_io_error(IOErrorEnum.FAILED, f"Expecting 1 control message, got {len(messages)}")
        if not isinstance(messages[0], UnixFDMessage):
            raise new_io_error(IOErrorEnum.FAILED, "Unexpected type of ancillary data")
        if len(fds) != 1:
            _close(fds)
            raise new_io_error(IOErrorEnum.FAILED, f"Expecting one fd, but got {len(fds)}\n")  # GLib's text
        return fds[0]

    def send_credentials(self, cancellable: Cancellable | None = None) -> bool:
        """Send this process's credentials (``SCM_CREDENTIALS`` with one NUL byte)."""
        from ._control import UnixCredentialsMessage

        try:
            self._socket.send_message(None, [b"\0"], [UnixCredentialsMessage.new()], 0, cancellable)
        except Error as exc:
            raise new_io_error(exc.code, f"Error sending credentials: {exc.message}") from exc
        return True

    def receive_credentials(self, cancellable: Cancellable | None = None) -> Credentials:
        """Receive the credentials the peer sent with ``send_credentials`` (turns ``SO_PASSCRED`` on meanwhile)."""
        from ._control import UnixCredentialsMessage

        sock = self._socket
        try:
            passcred = sock.get_option(_socket.SOL_SOCKET, _socket.SO_PASSCRED)[1]
        except Error as exc:
            raise new_io_error(exc.code, f"Error checking if SO_PASSCRED is enabled for socket: {exc.message}") from exc
        if not passcred:
            try:
                sock.set_option(_socket.SOL_SOCKET, _socket.SO_PASSCRED, 1)
            except Error as exc:
                raise new_io_error(exc.code, f"Error enabling SO_PASSCRED: {exc.message}") from exc
        try:
            count, _, messages, _ = sock.receive_message([bytearray(1)], 0, cancellable)
        finally:
            if not passcred:
                sock.set_option(_socket.SOL_SOCKET, _socket.SO_PASSCRED, 0)
        if count != 1:
            read = "zero bytes" if count == 0 else f"{count} bytes"
            raise new_io_error(IOErrorEnum.FAILED,
                               f"Expecting to read a single byte for receiving credentials but read {read}")
        if len(messages) != 1:
            raise new_io_error(IOErrorEnum.FAILED, f"Expecting 1 control message, got {len(messages)}")
        if not isinstance(messages[0], UnixCredentialsMessage):
            raise new_io_error(IOErrorEnum.FAILED, "Unexpected type of ancillary data")
        return messages[0].get_credentials()


def _close(fds: list[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def connection_for(socket: Socket) -> SocketConnection:
    """GLib's connection factory: the class registered for the socket's family, type and protocol."""
    family, kind, protocol = socket.get_family(), socket.get_socket_type(), socket.get_protocol()
    if kind == SocketType.STREAM:
        if family in (SocketFamily.IPV4, SocketFamily.IPV6) and protocol in (
            SocketProtocol.DEFAULT, SocketProtocol.TCP
        ):
            return TcpConnection(socket)
        if family == SocketFamily.UNIX and protocol == SocketProtocol.DEFAULT:
            return UnixConnection(socket)
    return SocketConnection(socket)
