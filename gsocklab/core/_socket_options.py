"""Socket properties and multicast membership, as a mixin of `Socket`.

No system call is made here: everything goes through the socket's ``get_option``,
``set_option`` and ``_setsockopt_bytes`` (in `_socket`). Where GLib only logs a warning
or a CRITICAL and carries on (setting TTL 0, ``get_ttl`` on a unix socket, joining a group
on a stream socket, changing the backlog after ``listen``), these methods raise
``GLib.Error`` with GLib's text and a hint of what to do instead.
"""

from __future__ import annotations

import errno
import itertools
import socket as _socket
import struct
from typing import TYPE_CHECKING, ClassVar

from ._address import InetAddress
from ._args import bool_arg, uint_arg
from ._enums import IOErrorEnum, SocketFamily, SocketProtocol, SocketType
from ._errors import Error, from_errno, new_io_error
from ._observe import address_text
from ._socket_base import SocketBase

if TYPE_CHECKING:
    from ._address import SocketAddress
    from ._results import OptionResult

__all__ = ["SocketOptionsMixin", "default_label", "ip_mreq_source", "ip_mreqn", "ipv6_group_source_req", "ipv6_mreq"]

_IP_ADD_SOURCE_MEMBERSHIP = getattr(_socket, "IP_ADD_SOURCE_MEMBERSHIP", 39)
_IP_DROP_SOURCE_MEMBERSHIP = getattr(_socket, "IP_DROP_SOURCE_MEMBERSHIP", 40)
_MCAST_JOIN_SOURCE_GROUP = getattr(_socket, "MCAST_JOIN_SOURCE_GROUP", 46)
_MCAST_LEAVE_SOURCE_GROUP = getattr(_socket, "MCAST_LEAVE_SOURCE_GROUP", 47)
_IFNAMSIZ = 16
_SIOCGIFADDR = 0x8915
_SIOCGIFINDEX = 0x8933


# -- pure struct builders (Linux layouts) ----------------------------------------------------

def ip_mreqn(group: bytes, ifindex: int) -> bytes:
    """``struct ip_mreqn {imr_multiaddr, imr_address = 0.0.0.0, imr_ifindex}``."""
    return struct.pack("=4s4si", group, b"\0\0\0\0", ifindex)


def ip_mreq_source(group: bytes, interface: bytes, source: bytes) -> bytes:
    """``struct ip_mreq_source {imr_multiaddr, imr_interface, imr_sourceaddr}``."""
    return struct.pack("=4s4s4s", group, interface, source)


def ipv6_mreq(group: bytes, ifindex: int) -> bytes:
    """``struct ipv6_mreq {ipv6mr_multiaddr, ipv6mr_interface}``."""
    return struct.pack("=16sI", group, ifindex)


def _sockaddr_in6_storage(address: bytes) -> bytes:
    """A ``sockaddr_in6`` for ``address`` (port 0) padded to a ``sockaddr_storage`` (128 bytes)."""
    sin6 = struct.pack("=H2sI16sI", _socket.AF_INET6, b"\0\0", 0, address, 0)
    return sin6.ljust(128, b"\0")


def ipv6_group_source_req(ifindex: int, group: bytes, source: bytes) -> bytes:
    """``struct group_source_req {gsr_interface; gsr_group; gsr_source}`` (storage 8-aligned)."""
    return struct.pack("=I4x", ifindex) + _sockaddr_in6_storage(group) + _sockaddr_in6_storage(source)


_labels = itertools.count(1)
_KIND = {SocketType.STREAM: "tcp", SocketType.DATAGRAM: "udp", SocketType.SEQPACKET: "seqpacket"}
_UNIX_KIND = {SocketType.STREAM: "unix-stream", SocketType.DATAGRAM: "unix-dgram",
              SocketType.SEQPACKET: "unix-seqpacket"}


def default_label(family: SocketFamily, kind: SocketType) -> str:
    """``udp4#3``, ``tcp6#7``, ``unix-dgram#2``: protocol, family and a process-wide number."""
    if family == SocketFamily.UNIX:
        name = _UNIX_KIND.get(kind, "unix")
    elif family in (SocketFamily.IPV4, SocketFamily.IPV6):
        name = _KIND.get(kind, "socket") + ("4" if family == SocketFamily.IPV4 else "6")
    else:
        name = "socket"
    return f"{name}#{next(_labels)}"


class SocketOptionsMixin(SocketBase):
    """`Socket`'s state getters, property getters and setters, and multicast group membership."""

    _PROPERTIES: ClassVar[dict[str, tuple[str, str | None]]] = {
        "family": ("get_family", None),
        "type": ("get_socket_type", None),
        "protocol": ("get_protocol", None),
        "fd": ("get_fd", None),
        "blocking": ("get_blocking", "set_blocking"),
        "listen_backlog": ("get_listen_backlog", "set_listen_backlog"),
        "keepalive": ("get_keepalive", "set_keepalive"),
        "local_address": ("_local_address_or_none", None),
        "remote_address": ("_remote_address_or_none", None),
        "timeout": ("get_timeout", "set_timeout"),
        "ttl": ("get_ttl", "set_ttl"),
        "broadcast": ("get_broadcast", "set_broadcast"),
        "multicast_loopback": ("get_multicast_loopback", "set_multicast_loopback"),
        "multicast_ttl": ("get_multicast_ttl", "set_multicast_ttl"),
    }
    def _local_address_or_none(self) -> SocketAddress | None:
        try:
            return self.get_local_address()
        except Error:
            return None

    def _remote_address_or_none(self) -> SocketAddress | None:
        try:
            return self.get_remote_address()
        except Error:
            return None

    if TYPE_CHECKING:
        def get_option(self, level: int, optname: int) -> OptionResult: ...
        def set_option(self, level: int, optname: int, value: int) -> bool: ...
        def _setsockopt_bytes(self, level: int, optname: int, value: bytes, prefix: str) -> None: ...
        def _ioctl(self, request: int, arg: bytes) -> bytes: ...
        def get_local_address(self) -> SocketAddress: ...
        def get_remote_address(self) -> SocketAddress: ...

    # -- state -------------------------------------------------------------------------------

    def get_fd(self) -> int:
        """The OS descriptor, or -1 once closed."""
        return self._fd

    def get_family(self) -> SocketFamily:
        """The socket family."""
        return self._family

    def get_socket_type(self) -> SocketType:
        """The socket type."""
        return self._type

    def get_protocol(self) -> SocketProtocol | int:
        """The protocol as created (``DEFAULT`` for 0), or as derived for adopted sockets."""
        return self._protocol

    def is_closed(self) -> bool:
        """Whether ``close()`` has been called."""
        return self._closed

    def is_connected(self) -> bool:
        """Whether connected; stays ``True`` until both directions are shut down or closed."""
        return self._connected_read or self._connected_write

    @property
    def label(self) -> str:
        """A readable name for logs and recordings (default like ``udp4#3``); settable."""
        return self._label

    @label.setter
    def label(self, label: str) -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, not {type(label).__name__}")
        self._label = label

    @property
    def host(self) -> str | None:
        """The lab host this socket lives on (``gsocklab.netlab`` sets it), ``None`` for this machine.

        A gsocklab extension, like `label`; recordings show it in their ``host`` column.
        """
        return self._host

    @host.setter
    def host(self, host: str | None) -> None:
        if host is not None and not isinstance(host, str):
            raise TypeError(f"host must be a str or None, not {type(host).__name__}")
        self._host = host

    def _local_text(self) -> str | None:
        """The local address as recordings show it, or ``None``.

        Once the socket is closed this is the address it last had: a recorder that reads a
        socket's state after the socket closed (its rows were still staged) still shows it.
        """
        try:
            text = address_text(self.get_local_address())
        except Error:
            return self._last_local_text if self._closed else None
        self._last_local_text = text
        return text

    # -- emulated modes ---------------------------------------------------------------------

    def get_blocking(self) -> bool:
        """Whether I/O calls wait (emulated: the OS socket is always non-blocking)."""
        return self._blocking

    def set_blocking(self, blocking: bool) -> None:
        """Choose whether I/O calls wait (``True``) or fail ``WOULD_BLOCK`` (``False``)."""
        self._blocking = bool_arg(blocking, "blocking")

    def get_timeout(self) -> int:
        """The inactivity timeout in whole seconds; 0 means none."""
        return self._timeout

    def set_timeout(self, timeout: int) -> None:
        """Set the inactivity timeout in whole seconds (0: wait forever).

        A blocking call fails ``TIMED_OUT`` after ``timeout`` seconds without progress;
        ``condition_wait`` honours it even on non-blocking sockets.
        """
        self._timeout = uint_arg(timeout, "timeout")

    def get_listen_backlog(self) -> int:
        """The backlog ``listen()`` will use (default 10)."""
        return self._listen_backlog

    def set_listen_backlog(self, backlog: int) -> None:
        """Set the backlog for ``listen()``; only before ``listen()``."""
        if not isinstance(backlog, int) or isinstance(backlog, bool):
            raise TypeError(f"backlog must be an int, not {type(backlog).__name__}")
        if self._listening:
            raise new_io_error(IOErrorEnum.INVALID_ARGUMENT,
                               "set_listen_backlog() after listen() has no effect; set the backlog before listen()")
        if backlog < 0:
            raise new_io_error(IOErrorEnum.INVALID_ARGUMENT, f"backlog must not be negative, got {backlog}")
        self._listen_backlog = backlog

    def get_keepalive(self) -> bool:
        """Whether ``SO_KEEPALIVE`` was set through this socket (cached, as in GLib)."""
        return self._keepalive

    def set_keepalive(self, keepalive: bool) -> None:
        """Turn TCP keepalive probes on or off (``SO_KEEPALIVE``); a no-op if unchanged."""
        keepalive = bool_arg(keepalive, "keepalive")
        if keepalive == self._keepalive:
            return
        self._set_int(_socket.SOL_SOCKET, _socket.SO_KEEPALIVE, int(keepalive), "error setting keepalive")
        self._keepalive = keepalive

    # -- OS options ---------------------------------------------------------------------------

    def _get_int(self, level: int, optname: int, what: str) -> int:
        try:
            return self.get_option(level, optname)[1]
        except Error as exc:
            raise new_io_error(exc.code, f"{what}: {exc.message}") from exc

    def _set_int(self, level: int, optname: int, value: int, what: str) -> None:
        try:
            self.set_option(level, optname, value)
        except Error as exc:
            raise new_io_error(exc.code, f"{what}: {exc.message}") from exc

    def _require_inet(self, method: str) -> bool:
        """Whether this is an IPv6 socket; raise for families without IP options."""
        if self._family == SocketFamily.IPV4:
            return False
        if self._family == SocketFamily.IPV6:
            return True
        raise new_io_error(IOErrorEnum.NOT_SUPPORTED,
                           f"{method}() needs an IPv4 or IPv6 socket, not a {self._family.name} one")

    def get_ttl(self) -> int:
        """The unicast TTL (IPv4 ``IP_TTL``, IPv6 ``IPV6_UNICAST_HOPS``); Linux default 64."""
        if self._require_inet("get_ttl"):
            return self._get_int(_socket.IPPROTO_IPV6, _socket.IPV6_UNICAST_HOPS, "error getting unicast ttl")
        return self._get_int(_socket.IPPROTO_IP, _socket.IP_TTL, "error getting unicast ttl")

    def set_ttl(self, ttl: int) -> None:
        """Set the unicast TTL (1..255); an IPv6 socket sets its IPv4 TTL too."""
        ttl = uint_arg(ttl, "ttl")
        if self._require_inet("set_ttl"):
            self._set_quietly(_socket.IPPROTO_IP, _socket.IP_TTL, ttl)
            self._set_int(_socket.IPPROTO_IPV6, _socket.IPV6_UNICAST_HOPS, ttl, "error setting unicast ttl")
        else:
            self._set_int(_socket.IPPROTO_IP, _socket.IP_TTL, ttl, "error setting unicast ttl")

    def get_broadcast(self) -> bool:
        """Whether datagrams may go to broadcast addresses (``SO_BROADCAST``)."""
        return bool(self._get_int(_socket.SOL_SOCKET, _socket.SO_BROADCAST, "error getting broadcast"))

    def set_broadcast(self, broadcast: bool) -> None:
        """Allow or forbid sending to broadcast addresses."""
        value = int(bool_arg(broadcast, "broadcast"))
        self._set_int(_socket.SOL_SOCKET, _socket.SO_BROADCAST, value, "error setting broadcast")

    def get_multicast_loopback(self) -> bool:
        """Whether multicast sent here is looped back to local members (default ``True``)."""
        if self._require_inet("get_multicast_loopback"):
            value = self._get_int(_socket.IPPROTO_IPV6, _socket.IPV6_MULTICAST_LOOP,
                                  "error getting multicast loopback")
        else:
            value = self._get_int(_socket.IPPROTO_IP, _socket.IP_MULTICAST_LOOP,
                                  "error getting multicast loopback")
        return bool(value)

    def set_multicast_loopback(self, loopback: bool) -> None:
        """Loop multicast back to local members or not; an IPv6 socket sets both families."""
        value = int(bool_arg(loopback, "loopback"))
        if self._require_inet("set_multicast_loopback"):
            self._set_quietly(_socket.IPPROTO_IP, _socket.IP_MULTICAST_LOOP, value)
            self._set_int(_socket.IPPROTO_IPV6, _socket.IPV6_MULTICAST_LOOP, value,
                          "error setting multicast loopback")
        else:
            self._set_int(_socket.IPPROTO_IP, _socket.IP_MULTICAST_LOOP, value, "error setting multicast loopback")

    def get_multicast_ttl(self) -> int:
        """The TTL of multicast sent here (default 1: the local network only)."""
        if self._require_inet("get_multicast_ttl"):
            return self._get_int(_socket.IPPROTO_IPV6, _socket.IPV6_MULTICAST_HOPS, "error getting multicast ttl")
        return self._get_int(_socket.IPPROTO_IP, _socket.IP_MULTICAST_TTL, "error getting multicast ttl")

    def set_multicast_ttl(self, ttl: int) -> None:
        """Set the multicast TTL (0..255); an IPv6 socket sets both families."""
        ttl = uint_arg(ttl, "ttl")
        if self._require_inet("set_multicast_ttl"):
            self._set_quietly(_socket.IPPROTO_IP, _socket.IP_MULTICAST_TTL, ttl)
            self._set_int(_socket.IPPROTO_IPV6, _socket.IPV6_MULTICAST_HOPS, ttl, "error setting multicast ttl")
        else:
            self._set_int(_socket.IPPROTO_IP, _socket.IP_MULTICAST_TTL, ttl, "error setting multicast ttl")

    def _set_quietly(self, level: int, optname: int, value: int) -> None:
        """A companion option GLib sets and whose failure it ignores."""
        try:
            self.set_option(level, optname, value)
        except Error as exc:
            if exc.code == IOErrorEnum.CLOSED:
                raise

    def speaks_ipv4(self) -> bool:
        """Whether IPv4 peers can reach this socket: IPv4, or IPv6 without ``IPV6_V6ONLY``."""
        if self._family == SocketFamily.IPV4:
            return True
        if self._family == SocketFamily.IPV6:
            try:
                return not self.get_option(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY)[1]
            except Error:
                return False
        return False

    # -- multicast ---------------------------------------------------------------------------

    def _multicast_checks(self, method: str, group: object) -> InetAddress:
        if not isinstance(group, InetAddress):
            raise TypeError(f"group must be a Gio.InetAddress, not {type(group).__name__}")
        if self._type != SocketType.DATAGRAM:
            raise new_io_error(
                IOErrorEnum.NOT_SUPPORTED,
                f"{method}() needs a DATAGRAM socket, this one is {self._type.name}; "
                "multicast works only with UDP")
        self._check_socket()
        return group

    def _interface_index(self, iface: str) -> int:
        """The index of interface ``iface`` in the socket's own network namespace.

        ``SIOCGIFINDEX`` on the socket itself, not ``if_nametoindex`` (which asks the
        process's namespace): a socket made on a `gsocklab.netlab` host names that host's
        interfaces. Raises ``OSError`` for an unknown name.
        """
        encoded = iface.encode()
        if not encoded or len(encoded) >= _IFNAMSIZ or b"\0" in encoded:
            raise OSError(errno.ENODEV, "No such device")
        reply = self._ioctl(_SIOCGIFINDEX, struct.pack("16si12x", encoded, 0))
        return int(struct.unpack_from("i", reply, 16)[0])

    def _ifindex(self, iface: str | None) -> int:
        if iface is None:
            return 0
        if not isinstance(iface, str):
            raise TypeError(f"iface must be a str or None, not {type(iface).__name__}")
        try:
            return self._interface_index(iface)
        except OSError:
            return 0  # GLib: an unknown name means "any interface", no error

    def _group_operation(self, group: object, source_specific: bool, iface: str | None, join: bool) -> bool:
        method = "join_multicast_group" if join else "leave_multicast_group"
        group = self._multicast_checks(method, group)
        source_specific = bool_arg(source_specific, "source_specific")
        ifindex = self._ifindex(iface)
        prefix = "Error joining multicast group: " if join else "Error leaving multicast group: "
        if group.get_family() == SocketFamily.IPV4:
            if source_specific:  # GLib passes the same ip_mreqn to the source-specific option
                option = _IP_ADD_SOURCE_MEMBERSHIP if join else _IP_DROP_SOURCE_MEMBERSHIP
            else:
                option = _socket.IP_ADD_MEMBERSHIP if join else _socket.IP_DROP_MEMBERSHIP
            self._setsockopt_bytes(_socket.IPPROTO_IP, option, ip_mreqn(group.to_bytes(), ifindex), prefix)
        else:
            option = _socket.IPV6_JOIN_GROUP if join else _socket.IPV6_LEAVE_GROUP
            self._setsockopt_bytes(_socket.IPPROTO_IPV6, option, ipv6_mreq(group.to_bytes(), ifindex), prefix)
        return True

    def join_multicast_group(
        self, group: InetAddress, source_specific: bool, iface: str | None = None
    ) -> bool:
        """Join multicast ``group`` on interface ``iface`` (``None``: the OS's choice).

        Needs a DATAGRAM socket (bound to the group's port to receive). Errors: "Error
        joining multicast group: Address already in use" when already a member,
        "…: Invalid argument" for a group that is not multicast. For source-specific
        multicast use ``join_multicast_group_ssm``: like GLib, ``source_specific=True`` here
        passes no source address to the OS.
        """
        return self._group_operation(group, source_specific, iface, join=True)

    def leave_multicast_group(
        self, group: InetAddress, source_specific: bool, iface: str | None = None
    ) -> bool:
        """Leave a group joined with ``join_multicast_group``.

        Errors: ``CONNECTION_REFUSED`` "Error leaving multicast group: Cannot assign requested
        address" when not a member (GLib >= 2.81; 2.74 says ``FAILED``).
        """
        return self._group_operation(group, source_specific, iface, join=False)

    def _interface_address(self, iface: str | None) -> bytes:
        """The IPv4 address of ``iface`` (``SIOCGIFADDR``), or INADDR_ANY for ``None``."""
        if iface is None:
            return b"\0\0\0\0"
        if len(iface.encode()) >= _IFNAMSIZ:
            raise new_io_error(IOErrorEnum.FILENAME_TOO_LONG, "Interface name too long")
        request = struct.pack("16s16x", iface.encode())
        try:
            reply = self._ioctl(_SIOCGIFADDR, request)
        except OSError as exc:
            raise from_errno(exc.errno or errno.ENODEV, "Interface not found: ") from exc
        return reply[20:24]

    def _ssm_operation(self, group: object, source: object, iface: str | None, join: bool) -> bool:
        method = "join_multicast_group_ssm" if join else "leave_multicast_group_ssm"
        group = self._multicast_checks(method, group)
        if iface is not None and not isinstance(iface, str):
            raise TypeError(f"iface must be a str or None, not {type(iface).__name__}")
        if iface == "":
            raise new_io_error(IOErrorEnum.INVALID_ARGUMENT,
                               f"{method}(): iface must be an interface name such as 'lo', or None")
        if source is None:
            return self._group_operation(group, False, iface, join)
        if not isinstance(source, InetAddress):
            raise TypeError(f"source_specific must be a Gio.InetAddress or None, not {type(source).__name__}")
        prefix = "Error joining multicast group: " if join else "Error leaving multicast group: "
        family = group.get_family()
        if family == SocketFamily.IPV4:
            if source.get_family() != SocketFamily.IPV4:
                raise new_io_error(IOErrorEnum.NOT_SUPPORTED, prefix + "source-specific not an IPv4 address")
            mreq = ip_mreq_source(group.to_bytes(), self._interface_address(iface), source.to_bytes())
            option = _IP_ADD_SOURCE_MEMBERSHIP if join else _IP_DROP_SOURCE_MEMBERSHIP
            self._setsockopt_bytes(_socket.IPPROTO_IP, option, mreq, prefix)
            return True
        if iface is not None and len(iface.encode()) >= _IFNAMSIZ:
            raise new_io_error(IOErrorEnum.FILENAME_TOO_LONG, "Interface name too long")
        ifindex = 0
        if iface is not None:
            try:
                ifindex = self._interface_index(iface)
            except OSError as exc:
                raise from_errno(errno.ENODEV, "Interface not found: ") from exc
        request = ipv6_group_source_req(ifindex, group.to_bytes(), source.to_bytes())
        option = _MCAST_JOIN_SOURCE_GROUP if join else _MCAST_LEAVE_SOURCE_GROUP
        self._setsockopt_bytes(_socket.IPPROTO_IPV6, option, request, prefix)
        return True

    def join_multicast_group_ssm(self, group: InetAddress, source_specific: InetAddress | None = None,
                                 iface: str | None = None) -> bool:
        """Join ``group`` receiving only from ``source_specific`` (source-specific multicast).

        ``source_specific=None`` is a plain join. Errors: ``NOT_SUPPORTED`` "Error joining
        multicast group: source-specific not an IPv4 address" for mixed families,
        ``NO_SUCH_DEVICE`` "Interface not found: No such device", ``FILENAME_TOO_LONG``
        "Interface name too long".
        """
        return self._ssm_operation(group, source_specific, iface, join=True)

    def leave_multicast_group_ssm(self, group: InetAddress, source_specific: InetAddress | None = None,
                                  iface: str | None = None) -> bool:
        """Leave a group joined with ``join_multicast_group_ssm``."""
        return self._ssm_operation(group, source_specific, iface, join=False)

