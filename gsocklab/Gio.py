"""The ``Gio`` namespace: ``from gsocklab import Gio`` as for ``from gi.repository import Gio``."""

from .core._address import InetAddress, InetSocketAddress, SocketAddress, UnixSocketAddress
from .core._cancellable import Cancellable
from .core._connection import SocketConnection, TcpConnection, UnixConnection
from .core._control import SocketControlMessage, UnixCredentialsMessage, UnixFDList, UnixFDMessage
from .core._credentials import Credentials
from .core._enums import (
    CredentialsType,
    IOErrorEnum,
    PollableReturn,
    SocketFamily,
    SocketMsgFlags,
    SocketProtocol,
    SocketType,
    UnixSocketAddressType,
)
from .core._errors import io_error_from_errno, io_error_quark
from .core._messages import InputMessage, InputVector, OutputMessage, OutputVector
from .core._socket import Socket
from .core._socket_messages import DatagramBased

__all__ = [
    "Cancellable",
    "Credentials",
    "CredentialsType",
    "DatagramBased",
    "IOErrorEnum",
    "InetAddress",
    "InetSocketAddress",
    "InputMessage",
    "InputVector",
    "OutputMessage",
    "OutputVector",
    "PollableReturn",
    "Socket",
    "SocketAddress",
    "SocketConnection",
    "SocketControlMessage",
    "SocketFamily",
    "SocketMsgFlags",
    "SocketProtocol",
    "SocketType",
    "TcpConnection",
    "UnixConnection",
    "UnixCredentialsMessage",
    "UnixFDList",
    "UnixFDMessage",
    "UnixSocketAddress",
    "UnixSocketAddressType",
    "io_error_from_errno",
    "io_error_quark",
]
