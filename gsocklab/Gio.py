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
from .gio import (
    BufferedInputStream,
    DataInputStream,
    DataOutputStream,
    DataStreamByteOrder,
    DataStreamNewlineType,
    InputStream,
    MemoryInputStream,
    MemoryOutputStream,
    NetworkAddress,
    OutputStream,
    OutputStreamSpliceFlags,
    SocketAddressEnumerator,
    SocketClient,
    SocketClientEvent,
    SocketListener,
    SocketListenerEvent,
    SocketService,
    Task,
    ThreadedSocketService,
    UnixInputStream,
    UnixOutputStream,
)

AsyncResult = Task  # the interface PyGObject names in callbacks; every result here is a Task

__all__ = [
    "AsyncResult",
    "BufferedInputStream",
    "Cancellable",
    "Credentials",
    "CredentialsType",
    "DataInputStream",
    "DataOutputStream",
    "DataStreamByteOrder",
    "DataStreamNewlineType",
    "DatagramBased",
    "IOErrorEnum",
    "InetAddress",
    "InetSocketAddress",
    "InputStream",
    "InputMessage",
    "InputVector",
    "MemoryInputStream",
    "MemoryOutputStream",
    "NetworkAddress",
    "OutputMessage",
    "OutputStream",
    "OutputStreamSpliceFlags",
    "OutputVector",
    "PollableReturn",
    "Socket",
    "SocketAddress",
    "SocketAddressEnumerator",
    "SocketClient",
    "SocketClientEvent",
    "SocketConnection",
    "SocketControlMessage",
    "SocketFamily",
    "SocketListener",
    "SocketListenerEvent",
    "SocketMsgFlags",
    "SocketProtocol",
    "SocketService",
    "SocketType",
    "Task",
    "TcpConnection",
    "ThreadedSocketService",
    "UnixConnection",
    "UnixCredentialsMessage",
    "UnixFDList",
    "UnixFDMessage",
    "UnixInputStream",
    "UnixOutputStream",
    "UnixSocketAddress",
    "UnixSocketAddressType",
    "io_error_from_errno",
    "io_error_quark",
]
