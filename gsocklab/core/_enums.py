"""GLib's enumerations and flags with GLib's names and values.

Members drop the ``G_SOCKET_FAMILY_`` style prefixes, exactly as PyGObject's
projection does, so ``Gio.SocketFamily.IPV4`` works here as it does there.
"""

from __future__ import annotations

import enum
import socket

__all__ = [
    "CredentialsType",
    "IOCondition",
    "IOErrorEnum",
    "PollableReturn",
    "SocketFamily",
    "SocketMsgFlags",
    "SocketProtocol",
    "SocketType",
    "UnixSocketAddressType",
]


class _ReadableEnum(enum.IntEnum):
    """An ``IntEnum`` that prints as ``SocketFamily.IPV4`` rather than as a bare number."""

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


class _ReadableFlag(enum.IntFlag):
    """An ``IntFlag`` that prints as ``IOCondition.IN|OUT`` rather than as a bare number."""

    def __str__(self) -> str:
        if self.name is None:
            names = [m.name for m in type(self) if m.value and m in self]
            return f"{type(self).__name__}.{'|'.join(n for n in names if n)}" if names else f"{type(self).__name__}(0)"
        return f"{type(self).__name__}.{self.name}"


class SocketFamily(_ReadableEnum):
    """Address family of a socket (``GSocketFamily``); values are the OS ``AF_*``."""

    INVALID = 0
    UNIX = socket.AF_UNIX
    IPV4 = socket.AF_INET
    IPV6 = socket.AF_INET6


class SocketType(_ReadableEnum):
    """Kind of socket (``GSocketType``). GLib's values, *not* ``socket.SOCK_*``."""

    INVALID = 0
    STREAM = 1
    DATAGRAM = 2
    SEQPACKET = 3


class SocketProtocol(_ReadableEnum):
    """Well-known protocol numbers (``GSocketProtocol``); any other int passes through."""

    UNKNOWN = -1
    DEFAULT = 0
    TCP = 6
    UDP = 17
    SCTP = 132


class SocketMsgFlags(_ReadableFlag):
    """Flags for send and receive calls (``GSocketMsgFlags``); OS flags pass through."""

    NONE = 0
    OOB = socket.MSG_OOB
    PEEK = socket.MSG_PEEK
    DONTROUTE = socket.MSG_DONTROUTE


class IOCondition(_ReadableFlag):
    """Readiness conditions (``GIOCondition``); the values are the ``poll()`` bits."""

    IN = 1
    PRI = 2
    OUT = 4
    ERR = 8
    HUP = 16
    NVAL = 32


class PollableReturn(_ReadableEnum):
    """Result of ``send_message_with_timeout`` (``GPollableReturn``)."""

    FAILED = 0
    OK = 1
    WOULD_BLOCK = -27


class UnixSocketAddressType(_ReadableEnum):
    """Kind of Unix socket address (``GUnixSocketAddressType``)."""

    INVALID = 0
    ANONYMOUS = 1
    PATH = 2
    ABSTRACT = 3
    ABSTRACT_PADDED = 4


class CredentialsType(_ReadableEnum):
    """Native credential formats (``GCredentialsType``)."""

    INVALID = 0
    LINUX_UCRED = 1
    FREEBSD_CMSGCRED = 2
    OPENBSD_SOCKPEERCRED = 3
    SOLARIS_UCRED = 4
    NETBSD_UNPCBID = 5
    APPLE_XUCRED = 6
    WIN32_PID = 7


class IOErrorEnum(_ReadableEnum):
    """Error codes of the ``g-io-error-quark`` domain (``GIOErrorEnum``), GLib HEAD's list."""

    FAILED = 0
    NOT_FOUND = 1
    EXISTS = 2
    IS_DIRECTORY = 3
    NOT_DIRECTORY = 4
    NOT_EMPTY = 5
    NOT_REGULAR_FILE = 6
    NOT_SYMBOLIC_LINK = 7
    NOT_MOUNTABLE_FILE = 8
    FILENAME_TOO_LONG = 9
    INVALID_FILENAME = 10
    TOO_MANY_LINKS = 11
    NO_SPACE = 12
    INVALID_ARGUMENT = 13
    PERMISSION_DENIED = 14
    NOT_SUPPORTED = 15
    NOT_MOUNTED = 16
    ALREADY_MOUNTED = 17
    CLOSED = 18
    CANCELLED = 19
    PENDING = 20
    READ_ONLY = 21
    CANT_CREATE_BACKUP = 22
    WRONG_ETAG = 23
    TIMED_OUT = 24
    WOULD_RECURSE = 25
    BUSY = 26
    WOULD_BLOCK = 27
    HOST_NOT_FOUND = 28
    WOULD_MERGE = 29
    FAILED_HANDLED = 30
    TOO_MANY_OPEN_FILES = 31
    NOT_INITIALIZED = 32
    ADDRESS_IN_USE = 33
    PARTIAL_INPUT = 34
    INVALID_DATA = 35
    DBUS_ERROR = 36
    HOST_UNREACHABLE = 37
    NETWORK_UNREACHABLE = 38
    CONNECTION_REFUSED = 39
    PROXY_FAILED = 40
    PROXY_AUTH_FAILED = 41
    PROXY_NEED_AUTH = 42
    PROXY_NOT_ALLOWED = 43
    BROKEN_PIPE = 44
    CONNECTION_CLOSED = 44  # alias of BROKEN_PIPE, as in GLib
    NOT_CONNECTED = 45
    MESSAGE_TOO_LARGE = 46
    NO_SUCH_DEVICE = 47
    DESTINATION_UNSET = 48
