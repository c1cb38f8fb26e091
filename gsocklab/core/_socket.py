"""``Gio.Socket``: GLib's socket object on top of the OS socket.

This is the one module that makes socket system calls. The OS socket is always in
non-blocking mode; blocking, the socket ``timeout`` and cancellation are emulated by
trying the call first and, on ``EAGAIN``, waiting with ``poll()`` (`_wait`), exactly as
``gio/gsocket.c`` does. Every ``OSError`` becomes a ``GLib.Error`` through `_errors`.

Every I/O method documents its modes in GLib's terms:

* *blocking* (the default): waits until the call can complete; with a socket ``timeout``
  of T seconds, fails ``TIMED_OUT`` after T seconds without progress (an inactivity
  timeout, re-armed on every wake-up);
* *non-blocking*: fails ``WOULD_BLOCK`` instead of waiting;
* *cancelled*: a cancellable cancelled before the call fails it with ``CANCELLED`` before
  any system call; one cancelled while the call waits wakes it with ``CANCELLED``.
"""

from __future__ import annotations

import _socket as _csocket
import ctypes
import errno
import fcntl
import os
import signal
import socket as _socket
import termios
from time import monotonic
from typing import Any, ClassVar

from ._address import SocketAddress, address_from_sockaddr
from ._args import UINT_MAX, check_cancellable, data_arg, enum_arg, int_arg, os_sockaddr, size_arg, writable_view
from ._bytes import Bytes
from ._cancellable import Cancellable
from ._connection import SocketConnection, connection_for
from ._credentials import UCRED, Credentials
from ._enums import IOCondition, IOErrorEnum, SocketFamily, SocketProtocol, SocketType
from ._errors import Error, from_errno, from_oserror, new_io_error
from ._mmsg import RECVMMSG
from ._observe import lane_failed, peer_of, plain_class, report, watch_new
from ._results import OptionResult, ReceiveFromResult, ReceiveResult
from ._socket_base import CALL, hot_path, in_flight, remember
from ._socket_messages import DatagramBased, SocketMessagesMixin
from ._socket_options import SocketOptionsMixin, default_label
from ._socket_wait import SocketWaitMixin
from ._source import AsyncSocketMixin
from ._wait import closed_error

__all__ = ["Socket"]

MSG_NOSIGNAL = int(getattr(_socket, "MSG_NOSIGNAL", 0))  # a plain int: an IntFlag costs on every call
_MSG_CMSG_CLOEXEC = int(getattr(_socket, "MSG_CMSG_CLOEXEC", 0))
_CLOEXEC_NONBLOCK = getattr(_socket, "SOCK_CLOEXEC", 0) | getattr(_socket, "SOCK_NONBLOCK", 0)
_OS_TYPE = {
    SocketType.STREAM: _socket.SOCK_STREAM,
    SocketType.DATAGRAM: _socket.SOCK_DGRAM,
    SocketType.SEQPACKET: _socket.SOCK_SEQPACKET,
}
_GLIB_TYPE: dict[int, SocketType] = {int(os_type): glib_type for glib_type, os_type in _OS_TYPE.items()}
_PROTOCOL_FOR_TYPE = {
    SocketType.STREAM: SocketProtocol.TCP,
    SocketType.DATAGRAM: SocketProtocol.UDP,
    SocketType.SEQPACKET: SocketProtocol.SCTP,
}
_PEEK_SIZE = 65536
_new_tuple = tuple.__new__
_DATA_IN, _MESSAGE_IN = "Error receiving data: ", "Error receiving message: "
_DATA_OUT, _MESSAGE_OUT = "Error sending data: ", "Error sending message: "
_IN, _OUT = IOCondition.IN, IOCondition.OUT


class _OSSocket(_socket.socket):
    """The OS socket of a `Socket`: a stdlib socket that a garbage collection closes quietly.

    A `Socket` collected in a reference cycle may see its OS socket finalized first; the
    stdlib one would then warn ``ResourceWarning: unclosed <socket.socket …>`` about a
    socket its owner was about to close anyway.
    """

    __slots__ = ()

    def __del__(self) -> None:
        try:
            _csocket.socket.close(self)  # the C close: also safe on a half-constructed socket
        except OSError:
            pass


def _ignore_sigpipe() -> None:
    """Ignore SIGPIPE process-wide, as GLib does when the first socket is made.

    Python can change signal dispositions only from the main thread; elsewhere the
    ``MSG_NOSIGNAL`` on every send is what keeps a dead peer from killing the process.
    """
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    except ValueError:  # not the main thread: try again with the next socket
        return
    Socket._sigpipe_ignored = True


class Socket(  # type: ignore[misc]
    SocketWaitMixin, SocketMessagesMixin, SocketOptionsMixin, AsyncSocketMixin, DatagramBased
):
    """A network socket with GLib's ``GSocket`` API and semantics.

    Create one with ``Socket.new(family, type, protocol)``, adopt a descriptor with
    ``Socket.new_from_fd(fd)``, or construct it GObject-style, ``Socket(family=…, type=…,
    protocol=…)`` or ``Socket(fd=…)``, and then call ``init(None)``. The descriptor is
    close-on-exec and always non-blocking at the OS level; stream sockets get
    ``TCP_NODELAY`` (GLib >= 2.80). A socket dropped without ``close()`` closes its
    descriptor when it is collected.
    """

    __slots__ = ()  # the slots are SocketBase's
    _CONSTRUCT_ONLY = frozenset({"family", "type", "protocol", "fd"})
    _sigpipe_ignored: ClassVar[bool] = False

    def __init__(self, **properties: Any) -> None:
        """GObject-style construction; call ``init(None)`` before use (as in GLib)."""
        if not Socket._sigpipe_ignored:
            _ignore_sigpipe()
        self._init_state()
        unknown = set(properties) - set(self._PROPERTIES)
        if unknown:
            raise TypeError(f"Gio.Socket has no property {sorted(unknown)[0]!r}")
        fd = properties.get("fd", -1)
        if fd is None or fd == -1:
            self._family = enum_arg(SocketFamily, properties.get("family", SocketFamily.INVALID), "family")
            self._type = enum_arg(SocketType, properties.get("type", SocketType.STREAM), "type")
            protocol = int_arg(properties.get("protocol", SocketProtocol.UNKNOWN), "protocol")
            self._protocol = SocketProtocol(protocol) if protocol in SocketProtocol._value2member_map_ else protocol
            self._create()
        else:
            self._family, self._type, self._protocol = SocketFamily.INVALID, SocketType.INVALID, SocketProtocol.UNKNOWN
            self._adopt(int_arg(fd, "fd"))
        for name, value in properties.items():
            if name not in self._CONSTRUCT_ONLY:
                try:
                    self.set_property(name, value)
                except Error:
                    if self._construct_error is None:
                        raise  # with no OS socket GLib only warns; init() reports the real error
        self._label = default_label(self._family, self._type)
        self._host = None
        self._last_local_text = None
        watch_new(self)

    @classmethod
    def new(cls, family: SocketFamily | int, type: SocketType | int, protocol: SocketProtocol | int) -> Socket:
        """Create a socket; ``protocol`` 0 (``DEFAULT``) picks the family's default.

        Fails ``INVALID_ARGUMENT`` for family ``INVALID`` or protocol ``UNKNOWN``, and with the
        OS's error otherwise ("Unable to create socket: Protocol not supported"). A failed
        call leaves no descriptor open.
        """
        sock = cls(family=family, type=type, protocol=protocol)
        sock.init(None)
        return sock

    @classmethod
    def new_from_fd(cls, fd: int) -> Socket:
        """Adopt an existing socket descriptor; family, type and connection state are read from it.

        The descriptor is made non-blocking; its close-on-exec flag is left alone. As in
        GLib, the socket owns ``fd`` on success **and on failure** (a failed call closes it):
        ``INVALID_ARGUMENT`` for a non-socket, ``FAILED`` for a closed descriptor.
        """
        sock = cls(fd=fd)
        sock.init(None)
        return sock

    def init(self, cancellable: Cancellable | None = None) -> bool:
        """Finish GObject-style construction (``GInitable``); raises the construction error if any."""
        if cancellable is not None:
            check_cancellable(cancellable)
            raise new_io_error(IOErrorEnum.NOT_SUPPORTED, "Cancellable initialization not supported")
        self._inited = True
        if self._construct_error is not None:
            error = self._construct_error
            self._release_fd()  # GLib's finalize closes it; we do not wait for the collector
            raise error.copy()
        self._usable = not self._closed and not self._timed_out
        return True

    def __del__(self) -> None:
        # Nobody can be in a call of a socket being collected: close at once, quietly (the
        # descriptor may have been closed by another owner already, e.g. after new_from_fd).
        sock, wake = getattr(self, "_sock", None), getattr(self, "_wake", None)
        if wake is not None:
            wake.close()
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"fd={self._fd}"
        return f"<Gio.Socket {self._family.name} {self._type.name} {state}>"

    # -- construction --------------------------------------------------------------------

    def _create(self) -> None:
        if self._family == SocketFamily.INVALID:
            self._construct_error = new_io_error(
                IOErrorEnum.INVALID_ARGUMENT, "Unable to create socket: Unknown family was specified")
            return
        if self._protocol == SocketProtocol.UNKNOWN:
            self._construct_error = new_io_error(
                IOErrorEnum.INVALID_ARGUMENT, "Unable to create socket: Unknown protocol was specified")
            return
        if self._type == SocketType.INVALID:  # GLib aborts the process here
            self._construct_error = new_io_error(
                IOErrorEnum.INVALID_ARGUMENT,
                "Unable to create socket: Unknown type was specified; use STREAM, DATAGRAM or SEQPACKET")
            return
        os_type = _OS_TYPE[self._type]
        try:
            try:
                sock = _OSSocket(self._family, os_type | _CLOEXEC_NONBLOCK, self._protocol)
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.EPROTOTYPE):
                    raise
                sock = _OSSocket(self._family, os_type, self._protocol)
                sock.set_inheritable(False)
            sock.setblocking(False)
        except OSError as exc:
            self._construct_error = from_oserror(exc, "Unable to create socket: ")
            return
        self._attach(sock)
        if self._type == SocketType.STREAM:
            try:  # GLib >= 2.80 disables Nagle on every stream socket; AF_UNIX refuses, ignored
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def _adopt(self, fd: int) -> None:
        """``g_socket_details_from_fd``: learn family, type and state from a descriptor."""
        try:
            sock = _OSSocket(fileno=fd)
        except OSError as exc:
            self._construct_error = from_oserror(exc, "creating GSocket from fd: ")
            self._fd = fd  # GLib's finalize closes the caller's fd even on failure
            return
        self._attach(sock)
        os_type = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_TYPE)
        self._type = _GLIB_TYPE.get(os_type, SocketType.INVALID)
        try:
            family = SocketFamily(sock.family)
        except ValueError:
            family = SocketFamily.INVALID
        self._family = family
        if family in (SocketFamily.IPV4, SocketFamily.IPV6):
            self._protocol = _PROTOCOL_FOR_TYPE.get(self._type, SocketProtocol.UNKNOWN)
        elif family == SocketFamily.UNIX:
            self._protocol = SocketProtocol.DEFAULT
        if family != SocketFamily.INVALID:
            try:
                sock.getpeername()
                self._connected_read = self._connected_write = True
            except OSError:
                pass
        try:
            self._keepalive = bool(sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_KEEPALIVE))
        except OSError:
            self._keepalive = False
        sock.setblocking(False)
        if self._type == SocketType.STREAM:
            try:
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def _attach(self, sock: _socket.socket) -> None:
        self._sock = sock
        self._fd = sock.fileno()

    def _release_fd(self) -> None:
        """Close the descriptor of a socket whose construction failed."""
        if self._sock is not None:
            self._sock.close()
        elif self._fd >= 0:
            try:
                os.close(self._fd)
            except OSError:
                pass
        self._sock, self._fd, self._closed, self._usable = None, -1, True, False

    # -- connection establishment ---------------------------------------------------------

    @in_flight
    def bind(self, address: SocketAddress, allow_reuse: bool) -> bool:
        """Bind to ``address``; ``allow_reuse`` sets ``SO_REUSEADDR`` (and ``SO_REUSEPORT`` for UDP).

        Errors: "Error binding to address 127.0.0.1:5000: Address already in use" and so on,
        with the code from the OS error (``ADDRESS_IN_USE``, ``INVALID_ARGUMENT`` when
        already bound, ``NOT_SUPPORTED`` for an address of another family).
        """
        sock = self._check_socket()
        if not isinstance(address, SocketAddress):
            raise TypeError(f"address must be a Gio.SocketAddress, not {type(address).__name__}")
        reuse = 1 if allow_reuse else 0
        for option, value in ((_socket.SO_REUSEADDR, reuse),
                              (getattr(_socket, "SO_REUSEPORT", None),
                               reuse if self._type == SocketType.DATAGRAM else 0)):
            if option is not None:
                try:
                    sock.setsockopt(_socket.SOL_SOCKET, option, value)
                except OSError:
                    pass
        try:
            sock.bind(os_sockaddr(self._family, address, mapped_ok=False))
        except OSError as exc:
            raise from_oserror(exc, f"Error binding to address {address._error_string()}: ") from exc
        return True

    @in_flight
    def listen(self) -> bool:
        """Listen for connections with the ``listen_backlog`` (default 10).

        An unbound TCP socket is bound to an ephemeral port by the OS. UDP fails
        ``NOT_SUPPORTED`` "could not listen: Operation not supported".
        """
        sock = self._check_socket()
        try:
            sock.listen(self._listen_backlog)
        except OSError as exc:
            raise from_oserror(exc, "could not listen: ") from exc
        self._listening = True
        return True

    def accept(self, cancellable: Cancellable | None = None) -> Socket:
        """Accept a connection and return it as a new, blocking, connected socket.

        Blocking: waits for a connection (``TIMED_OUT`` after the socket timeout).
        Non-blocking: ``WOULD_BLOCK`` when none is pending. Cancelled: ``CANCELLED``, checked
        first, also in non-blocking mode (GLib >= 2.86). Errors: "Error accepting connection:
        Invalid argument" on a socket that is not listening. Closed meanwhile, from any
        thread: ``CLOSED``.
        """
        return self._accept(cancellable, self._blocking)

    @in_flight
    def _accept(self, cancellable: Cancellable | None, blocking: bool) -> Socket:
        self._check_io(cancellable)
        sock = self._check_socket()
        while True:
            try:
                new_fd, _ = sock._accept()  # type: ignore[attr-defined]  # the fd alone: no stdlib socket to detach
                break
            except BlockingIOError:
                if not blocking:
                    raise from_errno(errno.EWOULDBLOCK) from None
            except OSError as exc:
                raise from_oserror(exc, "Error accepting connection: ") from exc
            self._wait(_IN, -1, cancellable)
            if self._closed:
                raise closed_error()
        accepted: Socket = plain_class(type(self))(fd=new_fd)
        accepted._inited = True
        accepted._usable = True
        accepted._protocol = self._protocol
        return accepted

    def connect(self, address: SocketAddress, cancellable: Cancellable | None = None) -> bool:
        """Connect to ``address`` (for datagram sockets: set the default destination).

        Blocking: waits for the connection (``TIMED_OUT``, ``CANCELLED``, or the OS error,
        e.g. ``CONNECTION_REFUSED`` "Connection refused"). Non-blocking: fails ``PENDING``
        "Connection in progress"; wait for ``OUT`` and call ``check_connect_result()``.
        Cancelled beforehand: ``CANCELLED`` before any system call (GLib >= 2.86). Closed
        meanwhile, from any thread: ``CLOSED``.
        """
        return self._connect(address, cancellable)

    @in_flight
    def _connect(self, address: SocketAddress, cancellable: Cancellable | None) -> bool:
        sock = self._check_socket()
        try:
            native = os_sockaddr(self._family, address, mapped_ok=self._type == SocketType.DATAGRAM)
        except OSError as exc:
            native, failure = None, exc
        check_cancellable(cancellable)
        if cancellable is not None:
            cancellable.set_error_if_cancelled()
        self._remote_address = address  # kept even when the connect fails at once, as in GLib
        if native is None:
            raise from_oserror(failure) from failure
        result = sock.connect_ex(native)
        if result == 0:
            self._connected_read = self._connected_write = True
            return True
        if result != errno.EINPROGRESS:
            raise from_errno(result)
        if not self._blocking:
            self._connect_pending = True
            raise new_io_error(IOErrorEnum.PENDING, "Connection in progress")
        self._wait(_OUT, -1, cancellable)
        if self._closed:
            raise closed_error()
        return self._check_connect_result()

    def check_connect_result(self) -> bool:
        """Finish a non-blocking ``connect``: ``True`` once connected, or raise its error.

        As in GLib, a socket whose ``SO_ERROR`` is clear counts as connected afterwards.
        """
        return self._check_connect_result()

    @in_flight
    def _check_connect_result(self) -> bool:
        self._check_io(None)
        sock = self._check_socket()
        try:
            value = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR)
        except OSError as exc:
            raise from_oserror(exc, "Unable to get pending error: ") from exc
        if value:
            self._remote_address = None
            raise from_errno(value)
        self._connected_read = self._connected_write = True
        return True

    # -- receiving ------------------------------------------------------------------------

    @hot_path
    def _receive(self, size: int, buffer: Any, timeout_us: int | None, cancellable: Cancellable | None) -> Any:
        """``receive`` in every mode; ``timeout_us`` None means the socket's own mode."""
        try:
            if not self._usable or cancellable is not None:
                self._check_io(cancellable)
            sock = self._sock
            try:  # the hot path: one system call, arguments checked only if it objects
                if size:  # size 0 goes below: CPython's recv(0) makes no system call at all
                    if buffer is None:
                        data = sock.recv(size)  # type: ignore[union-attr]
                        return _new_tuple(ReceiveResult, (len(data), data))
                    return _new_tuple(ReceiveResult, (sock.recv_into(buffer, size), buffer))  # type: ignore[union-attr]
            except BlockingIOError:
                pass
            except OSError as exc:
                raise from_oserror(exc, _DATA_IN) from exc
            except (TypeError, ValueError):
                pass  # a bad argument, or a size beyond the buffer: sorted out below
            if timeout_us is None:
                timeout_us = -1 if self._blocking else 0
            if buffer is None:
                if size_arg(size):
                    data = self._io(_IN, timeout_us, cancellable, _DATA_IN, sock.recv, size)  # type: ignore[union-attr]
                    return _new_tuple(ReceiveResult, (len(data), data))
                nbytes = 0
            else:
                view = writable_view(buffer)
                nbytes = min(size_arg(size), view.nbytes)
            if not nbytes:  # recv(fd, buf, 0), as GLib: Linux leaves stream bytes queued, takes a datagram.
                # (CPython answers recv(0) and recv_into(buf, 0) itself; recvfrom(0) reaches the kernel.)
                self._io(_IN, timeout_us, cancellable, _DATA_IN, sock.recvfrom, 0)  # type: ignore[union-attr]
                return _new_tuple(ReceiveResult, (0, b"" if buffer is None else buffer))
            count = self._io(_IN, timeout_us, cancellable, _DATA_IN, sock.recv_into,  # type: ignore[union-attr]
                             view, nbytes)
            return _new_tuple(ReceiveResult, (count, buffer))
        finally:
            if self._closed:  # closed meanwhile: the descriptor may be ours to close
                self._reap()

    def receive(self, cancellable: Cancellable | None = None, size: int = 65536,
                buffer: Any = None) -> ReceiveResult:
        """Receive up to ``size`` bytes; return ``(count, buffer)`` with the bytes received.

        Datagram sockets read one datagram (the part beyond ``size`` is discarded); stream
        sockets up to ``size`` bytes; ``count`` 0 means end of stream (or an empty datagram).
        Pass a writable ``buffer`` (``bytearray``, ``memoryview``) to receive into it instead
        of a new ``bytes``; ``size`` 0 reads no bytes, as GLib's ``recv(fd, buf, 0)`` (on
        Linux a stream's bytes stay queued; a datagram is taken). Blocking (the socket's
        mode): waits; ``TIMED_OUT`` after the socket timeout of inactivity. Non-blocking:
        ``WOULD_BLOCK``. Cancelled: ``CANCELLED``. Closed meanwhile, from any thread:
        ``CLOSED``. Errors: "Error receiving data: …".
        """
        return self._receive(size, buffer, None, cancellable)  # type: ignore[no-any-return]

    def receive_with_blocking(self, blocking: bool, cancellable: Cancellable | None = None,
                              size: int = 65536, buffer: Any = None) -> ReceiveResult:
        """``receive()`` in the given mode instead of the socket's: ``blocking=False`` never waits."""
        return self._receive(size, buffer, -1 if blocking else 0, cancellable)  # type: ignore[no-any-return]

    def receive_bytes(self, size: int, timeout_us: int, cancellable: Cancellable | None = None) -> Bytes:
        """Receive up to ``size`` bytes and return them as `GLib.Bytes` (GLib >= 2.80; a
        ``bytes`` too, with PyGObject's ``get_data()``).

        ``timeout_us``: -1 blocks (still bounded by the socket timeout), 0 never blocks
        (``WOULD_BLOCK``), a positive value is a deadline for the whole call (``TIMED_OUT``).
        """
        size, timeout_us = int_arg(size, "size"), int_arg(timeout_us, "timeout_us")
        if size <= 0:
            raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, f"size must be positive, got {size}")
        result = self._receive(size, None, timeout_us, cancellable)
        return Bytes(result[1])

    def _source_address(self, source: Any) -> SocketAddress | None:
        """GLib's receive-address cache: an identical source gives the same address object."""
        address = None
        if source is not None:
            cache = self._address_cache
            address = cache.get(source)
            if address is None:
                address = address_from_sockaddr(self._family, source)
                remember(cache, source, address)
        self._last_source = (source, address)  # one attribute: threads never see half of it
        return address

    @hot_path
    def receive_from(self, cancellable: Cancellable | None = None, size: int = 65536) -> ReceiveFromResult:
        """Receive a datagram (or up to ``size`` stream bytes); return ``(count, address, buffer)``.

        ``address`` is the source (``None`` on connection-oriented sockets). Modes and
        errors as ``receive()``, with the prefix "Error receiving message: ".
        """
        # The hot path of datagram loops, kept flat on purpose. While a recorder observes
        # the socket alone, the call is staged into its lane right here (`gsocklab.core._observe`):
        # a wrapper would cost a Python call more.
        lane = self._lane
        if lane is not None:
            t0 = monotonic()
        waited = 0.0  # what the call waited: only a retry waits, so only a retry reads the clock of CALL
        try:
            if not self._usable or cancellable is not None:
                self._check_io(cancellable)
            sock = self._sock
            try:
                data, source = sock.recvfrom(size)  # type: ignore[union-attr]
            except BlockingIOError:
                start = CALL.waited
                try:
                    data, source = self._retry(_IN, -1 if self._blocking else 0, cancellable, _MESSAGE_IN,
                                               sock.recvfrom, size_arg(size))  # type: ignore[union-attr]
                finally:
                    waited = CALL.waited - start
            except OSError as exc:
                raise from_oserror(exc, _MESSAGE_IN) from exc
            except (TypeError, ValueError):
                size_arg(size)
                raise
        except Error as error:
            if lane is not None:
                report(self, "receive_from", t0, waited, None, None, None, error, None)
            raise
        finally:
            if self._closed:  # closed meanwhile: the descriptor may be ours to close
                self._reap()
        last = self._last_source
        address = last[1] if source == last[0] else self._source_address(source)
        count = len(data)
        if lane is not None:
            stage, threads, thread_code, cap = lane
            try:
                try:
                    thread = threads.code
                except AttributeError:
                    thread = thread_code()
                stage((t0, monotonic(), waited, count, self, "receive_from", thread, address,
                       data if count <= cap else data[:cap] if cap else None, None))
            except Exception:
                lane_failed(self)
        return _new_tuple(ReceiveFromResult, (count, address, data))

    def receive_bytes_from(self, size: int, timeout_us: int,
                           cancellable: Cancellable | None = None) -> tuple[Bytes, SocketAddress | None]:
        """Receive up to ``size`` bytes and their source: ``(data, address)``, ``data`` a
        `GLib.Bytes` (GLib >= 2.80).

        ``timeout_us`` as in ``receive_bytes()``; ``size`` 0 consumes a datagram and returns
        empty data.
        """
        size, timeout_us = int_arg(size, "size"), int_arg(timeout_us, "timeout_us")
        if size < 0:
            raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, f"size must not be negative, got {size}")
        data, address = self._receive_bytes_from(size, timeout_us, cancellable)
        return Bytes(data), address

    @in_flight
    def _receive_bytes_from(self, size: int, timeout_us: int,
                            cancellable: Cancellable | None) -> tuple[bytes, SocketAddress | None]:
        self._check_io(cancellable)
        data, source = self._io(_IN, timeout_us, cancellable, _MESSAGE_IN, self._check_socket().recvfrom, size)
        return data, self._source_address(source)

    # -- sending --------------------------------------------------------------------------

    @hot_path
    def _send(self, buffer: Any, timeout_us: int | None, cancellable: Cancellable | None) -> int:
        """``send`` in every mode; ``timeout_us`` None means the socket's own mode."""
        try:
            if not self._usable or cancellable is not None:
                self._check_io(cancellable)
            sock = self._sock
            try:
                return sock.send(buffer, MSG_NOSIGNAL)  # type: ignore[union-attr]
            except BlockingIOError:
                pass
            except OSError as exc:
                raise from_oserror(exc, _DATA_OUT) from exc
            except (TypeError, BufferError):
                buffer = data_arg(buffer)  # a list of ints as bytes; else a TypeError naming the parameter
            if timeout_us is None:
                timeout_us = -1 if self._blocking else 0
            return self._io(  # type: ignore[no-any-return]
                _OUT, timeout_us, cancellable, _DATA_OUT, sock.send, buffer, MSG_NOSIGNAL)  # type: ignore[union-attr]
        finally:
            if self._closed:  # closed meanwhile: the descriptor may be ours to close
                self._reap()

    def send(self, buffer: Any, cancellable: Cancellable | None = None) -> int:
        """Send ``buffer`` (bytes-like or a list of ints) to the connected peer; return the count sent.

        Returns after the first successful system call, so a stream socket may send less
        than all (send the rest in another call). Blocking: waits for room; ``TIMED_OUT``
        after the socket timeout. Non-blocking: ``WOULD_BLOCK``. Cancelled: ``CANCELLED``.
        Errors: "Error sending data: Broken pipe" (``BROKEN_PIPE``) after the peer left,
        ``DESTINATION_UNSET`` on an unconnected datagram socket.
        """
        return self._send(buffer, None, cancellable)

    def send_with_blocking(self, buffer: Any, blocking: bool, cancellable: Cancellable | None = None) -> int:
        """``send()`` in the given mode instead of the socket's: ``blocking=False`` never waits."""
        return self._send(buffer, -1 if blocking else 0, cancellable)

    @hot_path
    def send_to(self, address: SocketAddress | None, buffer: Any, cancellable: Cancellable | None = None) -> int:
        """Send ``buffer`` as one datagram to ``address`` (``None``: the connected peer).

        An empty buffer sends an empty datagram. Modes as ``send()``; errors are prefixed
        "Error sending message: ", e.g. ``DESTINATION_UNSET`` "…Destination address required"
        without an address on an unconnected socket.
        """
        lane = self._lane  # staged here, as in receive_from
        if lane is not None:
            t0 = monotonic()
        waited = 0.0  # what the call waited: only a retry waits, so only a retry reads the clock of CALL
        try:
            if not self._usable or cancellable is not None:
                self._check_io(cancellable)
            sock = self._sock
            last = self._last_to  # one attribute: threads never see half of it
            if address is last[0] and address is not None:
                native = last[1]
            elif address is None:
                native = None
            else:
                try:
                    native = os_sockaddr(self._family, address, mapped_ok=True)
                except OSError as exc:
                    raise from_oserror(exc, _MESSAGE_OUT) from exc
                self._last_to = (address, native)
            try:
                if native is None:
                    sent: int = sock.send(buffer, MSG_NOSIGNAL)  # type: ignore[union-attr]
                else:
                    sent = sock.sendto(buffer, MSG_NOSIGNAL, native)  # type: ignore[union-attr]
            except (BlockingIOError, TypeError, BufferError) as exc:
                if not isinstance(exc, BlockingIOError):
                    buffer = data_arg(buffer)  # a list of ints as bytes; else a TypeError naming the parameter
                call, args = ((sock.send, (buffer, MSG_NOSIGNAL)) if native is None  # type: ignore[union-attr]
                              else (sock.sendto, (buffer, MSG_NOSIGNAL, native)))  # type: ignore[union-attr]
                start = CALL.waited
                try:
                    sent = self._io(_OUT, -1 if self._blocking else 0, cancellable, _MESSAGE_OUT, call, *args)
                finally:
                    waited = CALL.waited - start
            except OSError as exc:
                raise from_oserror(exc, _MESSAGE_OUT) from exc
        except Error as error:
            if lane is not None:
                report(self, "send_to", t0, waited, None, address, None, error, None)
            raise
        finally:
            if self._closed:  # closed meanwhile: the descriptor may be ours to close
                self._reap()
        if lane is not None:
            peer = address if address is not None else peer_of(self)
            if type(buffer) is not bytes:  # a buffer the caller may change: copied by the recorder
                report(self, "send_to", t0, waited, sent, peer, buffer, None, None)
                return sent
            stage, threads, thread_code, cap = lane
            try:
                try:
                    thread = threads.code
                except AttributeError:
                    thread = thread_code()
                stage((t0, monotonic(), waited, sent, self, "send_to", thread, peer,
                       buffer if len(buffer) <= cap else buffer[:cap] if cap else None, None))
            except Exception:
                lane_failed(self)
        return sent

    # -- teardown -------------------------------------------------------------------------

    @in_flight
    def shutdown(self, shutdown_read: bool, shutdown_write: bool) -> bool:
        """Shut down reading and/or writing; ``(False, False)`` does nothing.

        ``is_connected()`` stays ``True`` until both directions are shut down. Errors:
        "Unable to shutdown socket: Transport endpoint is not connected".
        """
        sock = self._check_socket()
        if not shutdown_read and not shutdown_write:
            return True
        how = (_socket.SHUT_RDWR if shutdown_read and shutdown_write
               else _socket.SHUT_RD if shutdown_read else _socket.SHUT_WR)
        try:
            sock.shutdown(how)
        except OSError as exc:
            raise from_oserror(exc, "Unable to shutdown socket: ") from exc
        if shutdown_read:
            self._connected_read = False
        if shutdown_write:
            self._connected_write = False
        return True

    def close(self) -> bool:
        """Close the socket; closing again is a no-op returning ``True``. Any thread may call it.

        Every call blocked on the socket in another thread (receive, send, accept, connect,
        condition waits, sources and ``*_async`` calls) wakes at once and fails ``CLOSED``
        "Socket is already closed"; GLib leaves them waiting. The OS descriptor is closed
        once no call uses it any more, here or when the last of them returns, so its number
        is never used after the OS may have reused it. Afterwards every I/O call fails
        ``CLOSED`` and ``get_fd()`` is -1.
        """
        if self._closed:
            return True
        if self._observers:
            self._local_text()  # remembered: a recorder may read this socket's state after the close
        next(self._entered)  # in flight while the sources leave their loops: nobody closes the fd meanwhile
        try:
            if not self._begin_close():
                return True
            for source in list(self._sources):  # out of their loops before the descriptor goes
                source._socket_closing()
            self._connected_read = self._connected_write = False
            self._remote_address = None
            self._last_to = (None, None)
            self._last_source = ((), None)
            self._address_cache.clear()
            self._raw_address_cache.clear()
        finally:
            next(self._left)
        error = self._reap()
        if error is not None:
            raise from_oserror(error, "Error closing socket: ") from error
        return True

    # -- state and addresses --------------------------------------------------------------

    @in_flight
    def _os_address(self, peer: bool) -> SocketAddress:
        """``getpeername``/``getsockname`` as an address, with GLib's error texts."""
        prefix = f"could not get {'remote' if peer else 'local'} address: "
        try:
            sock = self._sock
            if self._closed or sock is None:
                raise OSError(errno.EBADF, os.strerror(errno.EBADF))
            name = sock.getpeername() if peer else sock.getsockname()
        except OSError as exc:
            raise from_oserror(exc, prefix) from exc
        address = address_from_sockaddr(self._family, name)
        if address is None:
            raise new_io_error(IOErrorEnum.FAILED, prefix + "unknown address family")
        return address

    def get_local_address(self) -> SocketAddress:
        """The bound address (an unbound IPv4 socket reports ``0.0.0.0:0``).

        Errors: "could not get local address: Bad file descriptor" once closed.
        """
        return self._os_address(peer=False)

    def get_remote_address(self) -> SocketAddress:
        """The peer's address: the one given to ``connect()``, else the OS's ``getpeername``.

        After a non-blocking ``connect`` this first completes it (``check_connect_result``).
        Errors: "could not get remote address: Transport endpoint is not connected".
        """
        if self._connect_pending:
            self._check_connect_result()
            self._connect_pending = False
        address = self._remote_address
        if address is None:
            address = self._remote_address = self._os_address(peer=True)
        return address

    @in_flight
    def get_available_bytes(self) -> int:
        """Bytes that a ``receive`` could read now without blocking, or -1 on error.

        Datagram sockets report the size of the next datagram only (at most 65536), 0 when
        none is queued; stream and seqpacket sockets the total queued bytes.
        """
        if not self._usable and (self._closed or not self._inited or self._construct_error is not None):
            return -1
        sock = self._sock
        assert sock is not None
        if self._type == SocketType.DATAGRAM:
            try:
                return len(sock.recv(_PEEK_SIZE, _socket.MSG_PEEK))
            except BlockingIOError:
                return 0
            except OSError:
                return -1
        try:
            raw = fcntl.ioctl(self._fd, termios.FIONREAD, b"\0\0\0\0")
        except OSError:
            return -1
        return int.from_bytes(raw, "little", signed=True)

    @in_flight
    def get_credentials(self) -> Credentials:
        """The peer's credentials (``SO_PEERCRED``).

        For TCP and UDP the kernel knows no peer process: the result then says
        ``pid=0`` and its getters fail ``INVALID_DATA``, as in GLib.
        """
        sock = self._check_socket()
        try:
            data = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, UCRED.size)
        except OSError as exc:
            raise from_oserror(exc, "Unable to read socket credentials: ") from exc
        return Credentials._from_ucred(data)

    def connection_factory_create_connection(self) -> SocketConnection:
        """Wrap the socket in the fitting ``SocketConnection`` (``TcpConnection``, ``UnixConnection``)."""
        return connection_for(self)

    # -- message system calls, for the messages mixin ------------------------------------------

    def _sendmsg(self, buffers: list[Any], ancdata: list[Any], flags: int, native: Any) -> int:
        sock = self._sock
        assert sock is not None
        if native is None:
            return sock.sendmsg(buffers, ancdata, flags | MSG_NOSIGNAL)
        return sock.sendmsg(buffers, ancdata, flags | MSG_NOSIGNAL, native)

    def _recvmsg_into(self, buffers: list[Any], ancbufsize: int, flags: int) -> Any:
        sock = self._sock
        assert sock is not None
        try:
            return sock.recvmsg_into(buffers, ancbufsize, flags | _MSG_CMSG_CLOEXEC)
        except OSError as exc:
            if exc.errno != errno.EINVAL or not _MSG_CMSG_CLOEXEC:
                raise
            return sock.recvmsg_into(buffers, ancbufsize, flags)  # as GLib: retry without CLOEXEC

    def _mmsg(self, function: Any, base: int, count: int, flags: int) -> int:
        """One ``sendmmsg``/``recvmmsg`` over ``count`` headers at ``base``; errors as ``OSError``."""
        pointer = ctypes.c_void_p(base)  # (quicker than declared argtypes converting it)
        if function is RECVMMSG:
            moved: int = function(self._fd, pointer, count, flags | MSG_NOSIGNAL, None)
        else:
            moved = function(self._fd, pointer, count, flags | MSG_NOSIGNAL)
        if moved < 0:
            err = ctypes.get_errno()
            if err == errno.EINVAL and flags & _MSG_CMSG_CLOEXEC:
                return self._mmsg(function, base, count, flags & ~_MSG_CMSG_CLOEXEC)
            raise OSError(err, os.strerror(err))
        return moved

    # -- raw options, for the options mixin ------------------------------------------------

    @in_flight
    def get_option(self, level: int, optname: int) -> OptionResult:
        """``getsockopt`` of an int option: ``(True, value)``; errors are the bare ``strerror``."""
        level, optname = int_arg(level, "level"), int_arg(optname, "optname")
        sock = self._check_socket() if self._inited else self._sock
        if sock is None:
            raise new_io_error(IOErrorEnum.CLOSED, "Socket is already closed")
        try:
            value = sock.getsockopt(level, optname)
        except OSError as exc:
            raise from_oserror(exc) from exc
        return _new_tuple(OptionResult, (True, value))

    @in_flight
    def set_option(self, level: int, optname: int, value: int) -> bool:
        """``setsockopt`` of an int option; errors are the bare ``strerror``."""
        level, optname = int_arg(level, "level"), int_arg(optname, "optname")
        value = int_arg(value, "value")
        if not -(1 << 31) <= value <= UINT_MAX:
            raise OverflowError(f"value {value} does not fit a C int")
        if value > 0x7FFFFFFF:  # a guint passed on as GLib's gint: 0xffffffff is -1
            value -= 1 << 32
        sock = self._check_socket() if self._inited else self._sock
        if sock is None:
            raise new_io_error(IOErrorEnum.CLOSED, "Socket is already closed")
        try:
            sock.setsockopt(level, optname, value)
        except OSError as exc:
            raise from_oserror(exc) from exc
        return True

    @in_flight
    def _setsockopt_bytes(self, level: int, optname: int, value: bytes, prefix: str) -> None:
        sock = self._check_socket()
        try:
            sock.setsockopt(level, optname, value)
        except OSError as exc:
            raise from_oserror(exc, prefix) from exc

    @in_flight
    def _ioctl(self, request: int, arg: bytes) -> bytes:
        sock = self._check_socket()
        return fcntl.ioctl(sock.fileno(), request, arg)
