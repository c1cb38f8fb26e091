"""The ``Gio`` namespace: ``from gsocklab import Gio`` as for ``from gi.repository import Gio``."""

from ._address import InetAddress, InetSocketAddress, SocketAddress, UnixSocketAddress
from ._cancellable import Cancellable
from ._connection import SocketConnection, TcpConnection, UnixConnection
from ._control import SocketControlMessage, UnixCredentialsMessage, UnixFDList, UnixFDMessage
from ._credentials import Credentials
from ._enums import (
    CredentialsType,
    IOErrorEnum,
    PollableReturn,
    SocketFamily,
    SocketMsgFlags,
    SocketProtocol,
    SocketType,
    UnixSocketAddressType,
)
from ._errors import io_error_from_errno, io_error_quark
from ._messages import InputMessage, InputVector, OutputMessage, OutputVector
from ._socket import Socket
from ._socket_messages import DatagramBased

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
